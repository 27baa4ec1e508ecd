"""CloudFormation stack updates as AWS does them (imported by launcher.py).

- UpdateStack with a parameter `UsePreviousValue: true`. AWS keeps the value the
  stack has for it, whether it was passed at creation or taken from the template's
  `Default` (DescribeStacks lists both, and a client keeping "every other
  parameter" names each one it lists). moto 5.2.5 looks the previous value up only
  among the parameters passed at creation: a defaulted one fails the update with
  HTTP 500 (KeyError). Patch: the previous value of a parameter not passed at
  creation is the one the stack resolved (what DescribeStacks shows); one the
  stack does not have at all still fails, as on AWS (ValidationError there).
- An AWS::AutoScaling::AutoScalingGroup with a LaunchTemplate and no
  MixedInstancesPolicy. AWS makes a group without a mixed instances policy. moto
  gives the group an empty policy (`{}`), which DescribeAutoScalingGroups returns
  as an empty MixedInstancesPolicy element: a client then sees a mixed group, and
  setting a version through that policy leaves the group's own LaunchTemplate
  version as it was. Patch: a group made from a stack without the property has no
  policy; one whose template declares a policy keeps it.
"""


def patch_cloudformation() -> None:
    from moto.cloudformation import models
    from moto.cloudformation.exceptions import ValidationError

    original = models.CloudFormationBackend._resolve_update_parameters

    def resolve_update_parameters(self, instance, incoming_params):
        resolved = getattr(instance, "stack_parameters", None) or {}
        passed = instance.parameters
        if not isinstance(passed, dict):  # a stack set's instances: left as they are
            return original(self, instance, incoming_params)
        for parameter in incoming_params:
            key = parameter["ParameterKey"]
            if parameter.get("UsePreviousValue", False) and key not in passed:
                if key not in resolved:
                    raise ValidationError(
                        message=f"Invalid input for parameter key {key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template"
                    )
                passed[key] = resolved[key]
        return original(self, instance, incoming_params)

    models.CloudFormationBackend._resolve_update_parameters = resolve_update_parameters

    from moto.autoscaling import models as asg

    original_init = asg.FakeAutoScalingGroup.__init__

    def init_without_empty_policy(self, *args, **kwargs):
        if kwargs.get("mixed_instances_policy") == {}:
            kwargs["mixed_instances_policy"] = None
        original_init(self, *args, **kwargs)

    asg.FakeAutoScalingGroup.__init__ = init_without_empty_policy
