"""What the AWS provider reads back after `terraform apply`, answered as AWS does.

Why it exists: tests/terraform_stack.rs applies the reference stack (terraform/)
with the real Terraform and then requires a second `plan -detailed-exitcode` to be
empty. Terraform compares what it wrote with what it reads; where moto 5.2 forgets
or invents a field, the plan shows a change AWS would never show. Each patch below
makes the emulator keep what AWS keeps (launcher.py lists them with the others):

- DefaultInstanceWarmup. AWS keeps an Auto Scaling group's DefaultInstanceWarmup
  (CreateAutoScalingGroup, UpdateAutoScalingGroup) and returns it in
  DescribeAutoScalingGroups; an update that does not name it leaves it. moto drops
  the parameter, so the provider plans `default_instance_warmup = 60` forever.
  The patch stores it on the group (an update without it keeps it, an update with
  it changes it, as on AWS) and the describe returns it.
- CreateLaunchTemplate's TagSpecifications. On AWS, the request's own
  TagSpecifications (ResourceType launch-template) tag the template; version 1's
  LaunchTemplateData holds only the data's TagSpecifications (instance, volume…).
  moto appends the request's ones to version 1's data, so the provider sees a
  `tag_specifications { resource_type = "launch-template" }` block the stack never
  wrote and plans to remove it. The patch leaves the data as the request gave it
  (the template is still tagged).
- Security group rules' Description. AWS returns each rule's Description in
  DescribeSecurityGroupRules, whatever the rule's source (a CIDR, or another
  security group). moto returns it only for CIDR rules: for a rule whose source is
  a security group it reads the CIDR's (absent) description, so the provider plans
  to set the description of `referenced_security_group_id` rules on every plan.
  The patch reads the description the rule was created with, from its source.
"""


def patch_stack_reads() -> None:
    patch_default_instance_warmup()
    patch_launch_template_own_tags()
    patch_security_group_rule_descriptions()


def patch_default_instance_warmup() -> None:
    from moto.autoscaling import models as asg
    from moto.autoscaling import responses

    asg.FakeAutoScalingGroup.default_instance_warmup = None

    def keeping_warmup(original):
        def handler(self):
            result = original(self)
            warmup = self._get_int_param("DefaultInstanceWarmup")
            if warmup is not None:
                name = self._get_param("AutoScalingGroupName")
                group = self.autoscaling_backend.autoscaling_groups.get(name)
                if group is not None:
                    group.default_instance_warmup = warmup
            return result

        return handler

    response = responses.AutoScalingResponse
    response.create_auto_scaling_group = keeping_warmup(response.create_auto_scaling_group)
    response.update_auto_scaling_group = keeping_warmup(response.update_auto_scaling_group)


def patch_launch_template_own_tags() -> None:
    from moto.ec2.responses import launch_templates as responses

    original = responses.LaunchTemplates.create_launch_template

    def create_launch_template(self):
        # moto copies the parsed TagSpecifications into the data: hide them from
        # that copy only (the template itself is tagged from the same parse).
        data = self._get_param("LaunchTemplateData", {}) or {}
        own = list(data.get("TagSpecifications", []))
        result = original(self)
        template = self.ec2_backend.get_launch_template_by_name(
            self._get_param("LaunchTemplateName")
        )
        version = template.versions[0]
        if own:
            version.data["TagSpecifications"] = own
        else:
            version.data.pop("TagSpecifications", None)
        return result

    responses.LaunchTemplates.create_launch_template = create_launch_template


def patch_security_group_rule_descriptions() -> None:
    from moto.ec2.models import security_groups

    def description(self):
        found = self.ip_range.get("Description")
        if found is None and self.source_group:
            found = self.source_group.get("Description")
        return found

    security_groups.SecurityGroupRule.description = property(description)
