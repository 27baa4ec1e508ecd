"""Fidelity launcher for the moto server used by kiln's tests and demo.

Why it exists: moto marks every image made by CreateImage or CopyImage as root
device type "standard", where AWS makes an EBS-backed image of an EBS-backed
instance. Packer's amazon-ebs builder refuses a non-EBS source AMI, so a base
baked in the emulator could not be the source of an app bake. We fix the
emulator, not kiln: images created from an instance or copied from an image
get root_device_type "ebs", as on AWS.

It also exits when the process that started it goes away (`--parent PID`), so
a test run that is killed never leaves a moto server behind.

Usage: python launcher.py --port PORT [--parent PID]
"""

import argparse
import os
import sys
import threading
import time


def patch_moto() -> None:
    from moto.ec2.models import amis

    original_init = amis.Ami.__init__

    def ebs_backed_init(self, *args, **kwargs):
        if kwargs.get("instance") is not None or kwargs.get("source_ami") is not None:
            kwargs["root_device_type"] = "ebs"
        original_init(self, *args, **kwargs)

    amis.Ami.__init__ = ebs_backed_init


def exit_with_parent(parent: int) -> None:
    def watch() -> None:
        while True:
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent", type=int, default=None)
    args = parser.parse_args()
    if args.parent is not None:
        exit_with_parent(args.parent)
    patch_moto()
    from moto.server import main as moto_main

    moto_main(["-H", "127.0.0.1", "-p", str(args.port)])


if __name__ == "__main__":
    sys.exit(main())
