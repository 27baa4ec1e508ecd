//! A tiny forward HTTP proxy on 127.0.0.1, as a corporate proxy is to kiln: it
//! takes absolute-form requests (`POST http://127.0.0.1:PORT/ HTTP/1.1`), forwards
//! them to the host they name in origin form, and counts them, so a test can tell
//! whether kiln's requests went through it. `CONNECT host:port` (how clients reach
//! `https://` endpoints through a proxy) opens a tunnel, counted once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::faults::{read_body, read_head};

pub struct ForwardProxy {
    /// `http://127.0.0.1:PORT`, for HTTP_PROXY.
    pub url: String,
    requests: Arc<AtomicU64>,
}

impl ForwardProxy {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicU64::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let counter = counter.clone();
                std::thread::spawn(move || serve(client, &counter));
            }
        });
        Self { url, requests }
    }

    /// How many requests came through so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

fn serve(client: TcpStream, requests: &AtomicU64) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut client = client;
    loop {
        let Some(head) = read_head(&mut reader) else {
            return;
        };
        // `METHOD http://host:port/path HTTP/1.1`: only absolute-form is a proxy request.
        let mut parts = head[0].splitn(3, ' ');
        let (Some(method), Some(target), Some(version)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        if method == "CONNECT" {
            requests.fetch_add(1, Ordering::SeqCst);
            tunnel(client, target);
            return;
        }
        let Some(rest) = target.strip_prefix("http://") else {
            let _ =
                client.write_all(b"HTTP/1.1 400 Not a proxy request\r\ncontent-length: 0\r\n\r\n");
            return;
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        requests.fetch_add(1, Ordering::SeqCst);
        let Some(body) = read_body(&mut reader, &head) else {
            return;
        };
        let Ok(mut server) = TcpStream::connect(authority) else {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
            return;
        };
        let mut request = format!("{method} {path} {version}");
        for line in &head[1..] {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("connection:") || lower.starts_with("proxy-") {
                continue;
            }
            if line == "\r\n" {
                request.push_str("connection: close\r\n");
            }
            request.push_str(line);
        }
        let mut answer = Vec::new();
        if server.write_all(request.as_bytes()).is_err()
            || server.write_all(&body).is_err()
            || server.read_to_end(&mut answer).is_err()
            || client.write_all(&answer).is_err()
        {
            return;
        }
    }
}

/// Answers a CONNECT and relays bytes both ways until either side closes.
fn tunnel(mut client: TcpStream, authority: &str) {
    let Ok(server) = TcpStream::connect(authority) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (mut up_read, mut up_write) = (server.try_clone().unwrap(), server);
    let (mut down_read, mut down_write) = (client.try_clone().unwrap(), client);
    let upstream = std::thread::spawn(move || {
        let _ = std::io::copy(&mut down_read, &mut up_write);
        let _ = up_write.shutdown(std::net::Shutdown::Both);
    });
    let _ = std::io::copy(&mut up_read, &mut down_write);
    let _ = down_write.shutdown(std::net::Shutdown::Both);
    let _ = upstream.join();
}

/// tests/emulator/tls_front.py in front of the emulator: `https://127.0.0.1:PORT`
/// with a certificate from a private CA (`ca.pem` in `dir`).
pub struct TlsFront {
    pub endpoint: String,
    pub ca: std::path::PathBuf,
    process: std::process::Child,
}

impl TlsFront {
    pub fn start(dir: &std::path::Path) -> Self {
        let emulator = super::emulator();
        let upstream = emulator.endpoint.rsplit(':').next().unwrap().to_string();
        let mut process = std::process::Command::new(&emulator.python)
            .arg(super::root().join("tests/emulator/tls_front.py"))
            .args(["--upstream", &upstream])
            .arg("--dir")
            .arg(dir)
            .args(["--parent", &std::process::id().to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the TLS front starts");
        let mut line = String::new();
        BufReader::new(process.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the TLS front prints its port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("the TLS front said {line:?}"));
        Self {
            endpoint: format!("https://127.0.0.1:{port}"),
            ca: dir.join("ca.pem"),
            process,
        }
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
