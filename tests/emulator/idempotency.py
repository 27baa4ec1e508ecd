"""Retries after a lost answer, as AWS sees them (imported by launcher.py).

A client that lost an answer sends the same request again. What AWS does then,
and what moto 5.2.5 does, one call at a time:

- RunInstances, CopyImage, CreateLaunchTemplateVersion take a ClientToken. AWS:
  a request that repeats a token answers with the first request's result and makes
  nothing new (the same reservation, image or version number); the same token with
  other parameters is refused with IdempotentParameterMismatch. moto ignores the
  token: every retry launches another instance, copies another image, adds another
  version. Patch: each of the three responses remembers, per account, region, action
  and token, the parameters and the answer it gave; a repeated token with the same
  parameters gets that answer again (nothing is made), with other parameters
  IdempotentParameterMismatch. A request without a token is carried out each time,
  as on AWS, so a test can still show what a retry without one does.
- CreateAutoScalingGroup has no token. AWS refuses a name that exists with
  AlreadyExists ("AutoScalingGroup by this name already exists"). moto replaces
  the group silently (its instances are forgotten, new ones launched). Patch: a
  name that exists is refused as AWS refuses it; the existing group is untouched.
- TerminateInstanceInAutoScalingGroup, sent again after the first call detached
  and terminated the instance. AWS answers ValidationError "Instance Id not found -
  No managed instance found for instance ID: ID" for an instance in no group. moto
  fails with HTTP 500 (a StopIteration in its lookup). Patch: an instance in no
  group gets AWS's ValidationError; one in a group is terminated as before.
"""

import json


def patch_idempotency() -> None:
    from moto.autoscaling import models as asg
    from moto.autoscaling.exceptions import AutoscalingClientError
    from moto.core.exceptions import ServiceException
    from moto.ec2.responses import amis, instances, launch_templates

    class MismatchError(ServiceException):
        pass

    answers = {}

    def by_client_token(original, action):
        def respond(self):
            token = self._get_param("ClientToken")
            if not token:
                return original(self)
            key = (self.current_account, self.region, action, token)
            params = json.dumps(
                sorted(
                    (k, v)
                    for k, v in self.querystring.items()
                    if k not in ("ClientToken", "Action", "Version")
                ),
                default=str,
            )
            if key in answers:
                first_params, answer = answers[key]
                if first_params != params:
                    raise MismatchError(
                        "IdempotentParameterMismatch",
                        f"Client token {token} was used with different parameters.",
                    )
                return answer
            answer = original(self)
            answers[key] = (params, answer)
            return answer

        return respond

    instances.InstanceResponse.run_instances = by_client_token(
        instances.InstanceResponse.run_instances, "RunInstances"
    )
    amis.AmisResponse.copy_image = by_client_token(amis.AmisResponse.copy_image, "CopyImage")
    launch_templates.LaunchTemplates.create_launch_template_version = by_client_token(
        launch_templates.LaunchTemplates.create_launch_template_version,
        "CreateLaunchTemplateVersion",
    )

    original_create_group = asg.AutoScalingBackend.create_auto_scaling_group

    def create_auto_scaling_group(self, name, *args, **kwargs):
        if name in self.autoscaling_groups:
            raise AutoscalingClientError(
                "AlreadyExists",
                f"AutoScalingGroup by this name already exists - A group with the name {name} already exists",
            )
        return original_create_group(self, name, *args, **kwargs)

    asg.AutoScalingBackend.create_auto_scaling_group = create_auto_scaling_group

    original_terminate = asg.AutoScalingBackend.terminate_instance

    def terminate_instance(self, instance_id, should_decrement):
        in_a_group = any(
            state.instance.id == instance_id
            for group in self.autoscaling_groups.values()
            for state in group.instance_states
        )
        if not in_a_group:
            raise AutoscalingClientError(
                "ValidationError",
                f"Instance Id not found - No managed instance found for instance ID: {instance_id}",
            )
        return original_terminate(self, instance_id, should_decrement)

    asg.AutoScalingBackend.terminate_instance = terminate_instance
