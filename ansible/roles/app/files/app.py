#!/usr/bin/env python3
"""kiln's sample web application: Python 3 standard library only.

GET /        an HTML page
GET /health  {"status": "ok"} with HTTP 200 (load balancer and smoke checks)

Listens on KILN_APP_HOST:KILN_APP_PORT (default 127.0.0.1:8080); nginx proxies
port 80 to it. Logs go to standard error, that is the journal under systemd.
"""

import html
import json
import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = os.environ.get("KILN_APP_HOST", "127.0.0.1")
PORT = int(os.environ.get("KILN_APP_PORT", "8080"))
TITLE = os.environ.get("KILN_APP_TITLE", "kiln sample application")
MESSAGE = os.environ.get("KILN_APP_MESSAGE", "Baked by kiln.")


class Handler(BaseHTTPRequestHandler):
    server_version = "kiln-app"
    sys_version = ""

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._send(200, "application/json", json.dumps({"status": "ok"}))
        elif path == "/":
            page = (
                "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(TITLE)}</title></head>\n"
                f"<body><h1>{html.escape(TITLE)}</h1>\n"
                f"<p>{html.escape(MESSAGE)}</p>\n"
                f"<p>Host: {html.escape(socket.gethostname())}</p></body></html>\n"
            )
            self._send(200, "text/html; charset=utf-8", page)
        else:
            self._send(404, "application/json", json.dumps({"error": "not found"}))

    def do_HEAD(self):  # noqa: N802
        self.do_GET()

    def _send(self, status, content_type, body):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))


def main():
    server = ThreadingHTTPServer((HOST, PORT), Handler)
    server.daemon_threads = True

    # systemd stops the service with SIGTERM: finish cleanly instead of dying.
    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    sys.stderr.write(f"kiln-app listening on {HOST}:{PORT}\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
