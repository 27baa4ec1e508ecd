"""Fidelity launcher for the moto server used by kiln's tests and demo.

Why it exists: moto marks every image made by CreateImage or CopyImage as root
device type "standard", where AWS makes an EBS-backed image of an EBS-backed
instance. Packer's amazon-ebs builder refuses a non-EBS source AMI, so a base
baked in the emulator could not be the source of an app bake. We fix the
emulator, not kiln: images created from an instance or copied from an image
get root_device_type "ebs", as on AWS.

Run Command gets the same treatment, so `kiln verify` meets SSM as it behaves on
AWS rather than as moto 5.2.5 does:
- DescribeInstanceInformation (missing in moto) lists running instances whose
  agent is "online". An instance launched from an image tagged
  `emulator:ssm-agent=offline` never comes online: an image without a working
  agent, which kiln must report as broken (and which keeps a verify waiting, for
  the tests that interrupt it).
- SendCommand with InstanceIds targets those instances only (moto adds every
  instance of the region), and answers InvalidInstanceId for an instance whose
  agent is not online, as SSM does.
GetCommandInvocation stays as moto has it: Success with empty output, which kiln
must report as broken, never as a pass.

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
    patch_run_command()


def agent_online(account: str, region: str, instance_id: str) -> bool:
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[account][region]
    instance = ec2.get_instance_by_id(instance_id)
    if instance is None or instance.state != "running":
        return False
    return ec2.tags.get(instance.image_id, {}).get("emulator:ssm-agent") != "offline"


def patch_run_command() -> None:
    from moto.core.responses import ActionResult
    from moto.ssm import models, responses
    from moto.ssm.exceptions import SSMException

    def describe_instance_information(self):
        from moto.ec2.models import ec2_backends

        wanted = set()
        for key in ("Filters", "InstanceInformationFilterList"):
            for item in self._get_param(key, []) or []:
                if item.get("Key") in ("InstanceIds", "instanceIds"):
                    wanted.update(item.get("Values") or item.get("valueSet") or [])
        ec2 = ec2_backends[self.current_account][self.region]
        found = []
        for reservation in ec2.all_reservations():
            for instance in reservation.instances:
                if wanted and instance.id not in wanted:
                    continue
                if not agent_online(self.current_account, self.region, instance.id):
                    continue
                found.append(
                    {
                        "InstanceId": instance.id,
                        "PingStatus": "Online",
                        "PlatformType": "Linux",
                        "ResourceType": "EC2Instance",
                        "AgentVersion": "3.3.0.0",
                        "IPAddress": instance.private_ip,
                    }
                )
        return ActionResult({"InstanceInformationList": found})

    responses.SimpleSystemManagerResponse.describe_instance_information = (
        describe_instance_information
    )

    original_targets = models.Command._get_instance_ids_from_targets

    def only_targeted(self):
        return original_targets(self) if self.targets else []

    models.Command._get_instance_ids_from_targets = only_targeted

    original_send = models.SimpleSystemManagerBackend.send_command

    def send_command(self, *args, **kwargs):
        for instance_id in kwargs.get("instance_ids") or []:
            if not agent_online(self.account_id, self.region_name, instance_id):
                raise SSMException(
                    "InvalidInstanceId",
                    f"Instances [{instance_id}] not in a valid state for account {self.account_id}",
                )
        return original_send(self, *args, **kwargs)

    models.SimpleSystemManagerBackend.send_command = send_command


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
