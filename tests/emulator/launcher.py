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
- The agent comes online only on an instance launched with an instance profile
  that holds a role: on AWS the agent gets its credentials from the instance
  profile (Default Host Management, the other way, is not modelled), so an
  instance without one never registers. moto validates the profile on
  RunInstances and associates it; the launcher reads that association.
- SendCommand with InstanceIds targets those instances only (moto adds every
  instance of the region), and answers InvalidInstanceId for an instance whose
  agent is not online, as SSM does.
Auto Scaling and ELBv2 get these fixes, so `kiln deploy` sees a rollout as on AWS:
- an instance of a group reports the launch template version it was launched from
  (moto reports the template's default version for every instance);
- UpdateAutoScalingGroup without LaunchTemplate, LaunchConfigurationName or
  MixedInstancesPolicy (a capacity change) keeps the group's mixed instances policy,
  as AWS leaves every property a request does not name (moto drops the policy, and
  the group then reports no launch template at all); naming LaunchTemplate still
  replaces the policy, as on AWS;
- an instance that leaves a group (terminated, detached) leaves the group's target
  groups (moto keeps it there, healthy, forever);
- an instance launched from an image tagged `emulator:health=unhealthy` never
  passes its target group's health check: an image whose app does not start,
  which a deploy must roll back; one tagged `emulator:unhealthy-in=NAME` fails
  only in the target group NAME: an image whose app starts everywhere but in one
  group (its configuration there is missing), so one group of an environment
  fails while the others converge;
- CreateLaunchTemplateVersion keeps user data as moto's other calls do (moto
  stores it raw there, and every later group launch from that version fails);
- DescribeLaunchTemplates and DescribeLaunchTemplateVersions page with NextToken
  (moto returns the first 15 and no token, so a region with more templates, or a
  template with more versions, looks smaller than it is);
- instance refreshes (all four calls missing in moto) are state kept per group:
  StartInstanceRefresh adds one, Pending at 0%, and answers
  InstanceRefreshInProgress while another is active, as AWS does;
  DescribeInstanceRefreshes lists the group's refreshes newest first, a Pending
  one shown InProgress; CancelInstanceRefresh ends the active one as Cancelled
  and RollbackInstanceRefresh as RollbackSuccessful (both ActiveInstanceRefreshNotFound
  when there is none). Not modelled: the replacement of instances, so a refresh
  stays InProgress at 0% until cancelled or rolled back. A test starts one (with
  the SDK, as any client would) to hold a group as a running refresh does.
Retries after a lost answer meet AWS's idempotency (tests/emulator/idempotency.py,
each patch documented there): RunInstances, CopyImage and
CreateLaunchTemplateVersion answer a repeated ClientToken with the first result
(moto ignores the token), CreateAutoScalingGroup refuses a name that exists
with AlreadyExists (moto replaces the group), and TerminateInstanceInAutoScalingGroup
of an instance in no group is AWS's ValidationError (moto: HTTP 500).
UpdateStack keeps a parameter the stack took from its template's Default when
asked to (UsePreviousValue), and a group made by a stack without a mixed instances
policy has none, as on AWS (tests/emulator/stacks.py).
GetCommandInvocation stays as moto has it: Success with empty output, which kiln
must report as broken, never as a pass.
What the AWS provider reads back after `terraform apply` of the reference stack
(tests/emulator/stack_reads.py, each patch documented there), so that a second
plan is empty as it is on AWS:
- an Auto Scaling group keeps its DefaultInstanceWarmup (moto drops it);
- CreateLaunchTemplate's own TagSpecifications tag the template only, and are not
  copied into version 1's LaunchTemplateData (moto copies them);
- DescribeSecurityGroupRules returns the Description of a rule whose source is a
  security group (moto returns it only for CIDR rules).
An AWS account holds the AWS managed policies (AmazonSSMManagedInstanceCore, which
the reference stack attaches): the launcher sets MOTO_IAM_LOAD_MANAGED_POLICIES=true
before moto loads, so every account of the emulator has them (moto's default is an
account without any, where attaching one fails as "does not exist or is not
attachable"). They load on an account's first IAM call (under a second), not at
start-up, so every test shares this one emulator.

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
    patch_auto_scaling()
    from idempotency import patch_idempotency

    patch_idempotency()
    from stack_reads import patch_stack_reads

    patch_stack_reads()
    from stacks import patch_cloudformation

    patch_cloudformation()


def agent_online(account: str, region: str, instance_id: str) -> bool:
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[account][region]
    instance = ec2.get_instance_by_id(instance_id)
    if instance is None or instance.state != "running":
        return False
    if ec2.tags.get(instance.image_id, {}).get("emulator:ssm-agent") == "offline":
        return False
    # The agent signs its calls to SSM with the instance profile's role: without a
    # profile, or with one that holds no role, it has no credentials.
    association = ec2.iam_instance_profile_associations.get(instance.id)
    return association is not None and bool(association.iam_instance_profile.roles)


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


def patch_auto_scaling() -> None:
    from moto.autoscaling import models as asg
    from moto.core.responses import ActionResult
    from moto.elbv2 import models as elbv2

    original_state_init = asg.InstanceState.__init__

    def remember_version(self, *args, **kwargs):
        original_state_init(self, *args, **kwargs)
        group = self.auto_scaling_group
        self.launched_version = None
        if group is not None and group.ec2_launch_template is not None:
            version = group.ec2_launch_template.get_version(group.launch_template_version)
            self.launched_version = str(version.number)

    def launch_template(self):
        group = self.auto_scaling_group
        if group is None or group.ec2_launch_template is None:
            return None
        return {
            "LaunchTemplateId": group.ec2_launch_template.id,
            "LaunchTemplateName": group.ec2_launch_template.name,
            "Version": self.launched_version,
        }

    asg.InstanceState.__init__ = remember_version
    asg.InstanceState.launch_template = property(launch_template)

    original_update = asg.FakeAutoScalingGroup.update

    def update(self, *args, **kwargs):
        names = (
            "availability_zones", "desired_capacity", "max_size", "min_size",
            "launch_config_name", "launch_template", "vpc_zone_identifier",
            "health_check_period", "health_check_type",
            "new_instances_protected_from_scale_in", "mixed_instances_policy",
        )
        given = dict(zip(names, args))
        given.update(kwargs)
        if (
            not given.get("mixed_instances_policy")
            and not given.get("launch_template")
            and not given.get("launch_config_name")
        ):
            kept = self.mixed_instances_policy
            if kept:
                # Named once, by id: moto refuses a spec with both id and name.
                kept = dict(kept)
                kept["LaunchTemplate"] = dict(kept["LaunchTemplate"])
                spec = dict(kept["LaunchTemplate"]["LaunchTemplateSpecification"])
                if spec.get("LaunchTemplateId"):
                    spec.pop("LaunchTemplateName", None)
                kept["LaunchTemplate"]["LaunchTemplateSpecification"] = spec
            given["mixed_instances_policy"] = kept
        return original_update(self, **given)

    asg.FakeAutoScalingGroup.update = update

    original_detach = asg.AutoScalingBackend.detach_instances

    def detach_instances(self, group_name, instance_ids, should_decrement):
        group = self.autoscaling_groups[group_name]
        for arn in group.target_group_arns:
            target_group = self.elbv2_backend.target_groups.get(arn)
            if target_group is not None:
                for instance_id in instance_ids:
                    target_group.targets.pop(instance_id, None)
        return original_detach(self, group_name, instance_ids, should_decrement)

    asg.AutoScalingBackend.detach_instances = detach_instances

    original_health = elbv2.FakeTargetGroup.health_for

    def health_for(self, target, ec2_backend):
        status = original_health(self, target, ec2_backend)
        instance = ec2_backend.get_instance_by_id(target["Id"])
        if status.status == "healthy" and instance is not None:
            image_tags = ec2_backend.tags.get(instance.image_id, {})
            if image_tags.get("emulator:health") == "unhealthy" or (
                image_tags.get("emulator:unhealthy-in") == self.name
            ):
                status.status = "unhealthy"
                status.reason = "Target.FailedHealthChecks"
                status.description = "Health checks failed"
        return status

    elbv2.FakeTargetGroup.health_for = health_for

    from moto.core.types import Base64EncodedString
    from moto.ec2.models import launch_templates
    from moto.ec2.utils import parse_user_data

    original_create_version = launch_templates.LaunchTemplate.create_version

    def create_version(self, data, description):
        user_data = data.get("UserData")
        if user_data is not None and not isinstance(user_data, Base64EncodedString):
            data["UserData"] = parse_user_data(user_data)
        return original_create_version(self, data, description)

    launch_templates.LaunchTemplate.create_version = create_version

    from moto.ec2.responses import launch_templates as template_responses

    def describe_launch_templates(self):
        page_size = self._get_int_param("MaxResults", 15)
        start = int(self._get_param("NextToken") or 0)
        templates = self.ec2_backend.describe_launch_templates(
            template_names=self._get_param("LaunchTemplateNames", []),
            template_ids=self._get_param("LaunchTemplateIds", []),
            filters=self._filters_from_querystring(),
        )
        page = templates[start:start + page_size]
        result = {
            "LaunchTemplates": [
                {
                    "CreateTime": t.create_time,
                    "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
                    "DefaultVersionNumber": t.default_version_number,
                    "LatestVersionNumber": t.latest_version_number,
                    "LaunchTemplateId": t.id,
                    "LaunchTemplateName": t.name,
                    "Tags": t.tags,
                }
                for t in page
            ]
        }
        if start + page_size < len(templates):
            result["NextToken"] = str(start + page_size)
        return ActionResult(result)

    template_responses.LaunchTemplates.describe_launch_templates = describe_launch_templates

    def describe_launch_template_versions(self):
        page_size = self._get_int_param("MaxResults", 15)
        start = int(self._get_param("NextToken") or 0)
        found = self.ec2_backend.describe_launch_template_versions(
            template_name=self._get_param("LaunchTemplateName"),
            template_id=self._get_param("LaunchTemplateId"),
            versions=self._get_param("Versions", []),
            min_version=self._get_int_param("MinVersion"),
            max_version=self._get_int_param("MaxVersion"),
            max_results=None,
        )
        page = found[start:start + page_size]
        result = {
            "LaunchTemplateVersions": [
                {
                    "CreateTime": version.create_time,
                    "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
                    "DefaultVersion": template.is_default(version),
                    "LaunchTemplateData": version.data,
                    "LaunchTemplateId": template.id,
                    "LaunchTemplateName": template.name,
                    "VersionDescription": version.description,
                    "VersionNumber": version.number,
                }
                for template, version in page
            ]
        }
        if start + page_size < len(found):
            result["NextToken"] = str(start + page_size)
        return ActionResult(result)

    template_responses.LaunchTemplates.describe_launch_template_versions = (
        describe_launch_template_versions
    )

    patch_instance_refreshes()


# What a refresh's Status may be, as AWS spells it; the first five hold the group.
ACTIVE_REFRESH = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")


def patch_instance_refreshes() -> None:
    """Instance refreshes as state on the Auto Scaling backend (moto has none).

    Each group keeps its refreshes, newest first. StartInstanceRefresh adds one
    (Pending, 0%) and answers InstanceRefreshInProgress while another is active;
    DescribeInstanceRefreshes shows a Pending refresh as InProgress (AWS starts it
    within moments); CancelInstanceRefresh and RollbackInstanceRefresh end the
    active one (Cancelled, RollbackSuccessful) or answer
    ActiveInstanceRefreshNotFound. The emulator replaces no instance for a refresh,
    so one stays InProgress at 0% until it is cancelled or rolled back: a test
    starts one to hold a group the way a running refresh does on AWS.
    """
    import datetime
    import uuid

    from moto.autoscaling import responses as asg_responses
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult

    class RefreshError(ServiceException):
        pass

    def refreshes_of(response, group_name, must_exist=True):
        backend = response.autoscaling_backend
        if group_name not in backend.autoscaling_groups:
            if not must_exist:
                return []
            raise RefreshError(
                "ValidationError",
                f"AutoScalingGroup name not found - AutoScalingGroup {group_name} not found",
            )
        by_group = backend.__dict__.setdefault("emulator_instance_refreshes", {})
        return by_group.setdefault(group_name, [])

    def now():
        return datetime.datetime.now(datetime.timezone.utc)

    def start_instance_refresh(self):
        group_name = self._get_param("AutoScalingGroupName")
        refreshes = refreshes_of(self, group_name)
        if any(r["Status"] in ACTIVE_REFRESH for r in refreshes):
            raise RefreshError(
                "InstanceRefreshInProgress",
                "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.",
            )
        group = self.autoscaling_backend.autoscaling_groups[group_name]
        refresh = {
            "InstanceRefreshId": str(uuid.uuid4()),
            "AutoScalingGroupName": group_name,
            "Status": "Pending",
            "StartTime": now(),
            "PercentageComplete": 0,
            "InstancesToUpdate": len(group.instance_states),
        }
        for key in ("Preferences", "DesiredConfiguration"):
            value = self._get_param(key)
            if value:
                refresh[key] = value
        refreshes.insert(0, refresh)
        return ActionResult({"InstanceRefreshId": refresh["InstanceRefreshId"]})

    def describe_instance_refreshes(self):
        group_name = self._get_param("AutoScalingGroupName")
        refreshes = refreshes_of(self, group_name, must_exist=False)
        for refresh in refreshes:
            if refresh["Status"] == "Pending":
                refresh["Status"] = "InProgress"
        wanted = self._get_param("InstanceRefreshIds", [])
        found = [r for r in refreshes if not wanted or r["InstanceRefreshId"] in wanted]
        page_size = self._get_int_param("MaxRecords", 50)
        start = int(self._get_param("NextToken") or 0)
        result = {"InstanceRefreshes": found[start:start + page_size]}
        if start + page_size < len(found):
            result["NextToken"] = str(start + page_size)
        return ActionResult(result)

    def end_active(self, status):
        group_name = self._get_param("AutoScalingGroupName")
        for refresh in refreshes_of(self, group_name):
            if refresh["Status"] in ACTIVE_REFRESH:
                refresh["Status"] = status
                refresh["EndTime"] = now()
                return ActionResult({"InstanceRefreshId": refresh["InstanceRefreshId"]})
        raise RefreshError(
            "ActiveInstanceRefreshNotFound",
            f"No in progress or pending Instance Refresh found for Auto Scaling group {group_name}",
        )

    def cancel_instance_refresh(self):
        return end_active(self, "Cancelled")

    def rollback_instance_refresh(self):
        return end_active(self, "RollbackSuccessful")

    asg_responses.AutoScalingResponse.start_instance_refresh = start_instance_refresh
    asg_responses.AutoScalingResponse.describe_instance_refreshes = describe_instance_refreshes
    asg_responses.AutoScalingResponse.cancel_instance_refresh = cancel_instance_refresh
    asg_responses.AutoScalingResponse.rollback_instance_refresh = rollback_instance_refresh


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
    # AWS managed policies exist in every AWS account (see the module's doc).
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    patch_moto()
    from moto.server import main as moto_main

    moto_main(["-H", "127.0.0.1", "-p", str(args.port)])


if __name__ == "__main__":
    sys.exit(main())
