//! Auto Scaling groups: read one with its instances, point it at a launch
//! template version, replace instances, change capacity, tag it (the deploy lock,
//! blue-green), and create, detach and delete groups (blue-green).
//!
//! A group is read with one DescribeAutoScalingGroups call that lists its
//! instances and the launch template version each was launched from.
//!
//! A group launches from a launch template directly, or through a mixed
//! instances policy (the template in `LaunchTemplate.LaunchTemplateSpecification`,
//! beside instance-type overrides and the On-Demand/Spot distribution), or from a
//! launch configuration. Setting a version keeps the group's shape: a mixed group
//! gets its whole policy back with only the version changed (a bare
//! `LaunchTemplate` would replace the policy and drop its overrides and Spot mix).

use std::collections::BTreeMap;

use aws_sdk_autoscaling::types::{MixedInstancesPolicy, Tag};

use super::{AutoScaling, template_spec};
use crate::aws::{classify, error_code};
use crate::error::Result;
use crate::model::{GroupName, InstanceId, LaunchTemplateId, TargetGroupArn};

/// A group as kiln needs it for a rollout.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: GroupName,
    /// The launch template and the version string the group is set to (for a
    /// mixed group, its policy's template).
    pub template: Option<(LaunchTemplateId, String)>,
    /// The group's mixed instances policy, as AWS returned it.
    pub mixed: Option<MixedInstancesPolicy>,
    /// The launch configuration the group launches from, when it has one.
    pub launch_configuration: Option<String>,
    pub desired: i32,
    pub min: i32,
    pub max: i32,
    pub instances: Vec<GroupInstance>,
    pub target_groups: Vec<TargetGroupArn>,
    pub tags: BTreeMap<String, String>,
    pub subnets: Option<String>,
    pub health_check_type: Option<String>,
    pub health_check_grace: Option<i32>,
}

/// One instance of a group.
#[derive(Debug, Clone)]
pub struct GroupInstance {
    pub id: InstanceId,
    /// `Pending`, `InService`, `Terminating`, …
    pub lifecycle: String,
    /// The group's own health check (EC2 or ELB): `Healthy` or `Unhealthy`.
    pub healthy: bool,
    /// The launch template version it was launched from.
    pub version: Option<String>,
}

/// What a new group (blue-green) is made of.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewGroup {
    pub name: GroupName,
    pub template: LaunchTemplateId,
    /// `None`: the version a dry run only planned to make (never created so).
    pub version: Option<i64>,
    pub min: i32,
    pub max: i32,
    pub desired: i32,
    pub subnets: Option<String>,
    pub target_groups: Vec<TargetGroupArn>,
    pub health_check_type: Option<String>,
    pub health_check_grace: Option<i32>,
    pub tags: BTreeMap<String, String>,
}

impl AutoScaling {
    /// The group with its instances; `None` when there is no such group.
    pub async fn group(&self, name: &GroupName) -> Result<Option<Group>> {
        let output = self
            .client
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name.as_str())
            .send()
            .await
            .map_err(|e| classify("autoscaling:DescribeAutoScalingGroups", &self.endpoint, e))?;
        Ok(output
            .auto_scaling_groups
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(group_from))
    }

    /// Groups that carry the tag `key` = `value`.
    pub async fn groups_tagged(&self, key: &str, value: &str) -> Result<Vec<Group>> {
        let mut pages = self
            .client
            .describe_auto_scaling_groups()
            .filters(
                aws_sdk_autoscaling::types::Filter::builder()
                    .name(format!("tag:{key}"))
                    .values(value)
                    .build(),
            )
            .into_paginator()
            .send();
        let mut groups = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                classify("autoscaling:DescribeAutoScalingGroups", &self.endpoint, e)
            })?;
            groups.extend(
                page.auto_scaling_groups
                    .unwrap_or_default()
                    .into_iter()
                    .map(group_from),
            );
        }
        Ok(groups)
    }

    /// Sets the group's launch template version and, optionally, its capacity.
    pub async fn update(
        &self,
        name: &GroupName,
        template: Option<(&LaunchTemplateId, i64)>,
        capacity: Option<(i32, i32, i32)>,
    ) -> Result<()> {
        let mut request = self
            .client
            .update_auto_scaling_group()
            .auto_scaling_group_name(name.as_str());
        if let Some((id, version)) = template {
            // Read in the change itself, so the policy sent back is the one the
            // group has at this moment.
            request = match self.group(name).await?.and_then(|g| g.mixed) {
                Some(policy) => {
                    request.mixed_instances_policy(super::mixed::with_version(policy, id, version))
                }
                None => request.launch_template(template_spec(id, version)),
            };
        }
        if let Some((min, desired, max)) = capacity {
            request = request
                .min_size(min)
                .desired_capacity(desired)
                .max_size(max);
        }
        request
            .send()
            .await
            .map_err(|e| classify("autoscaling:UpdateAutoScalingGroup", &self.endpoint, e))?;
        Ok(())
    }

    /// Terminates one instance of a group; the group launches its replacement
    /// unless `decrement` lowers the desired capacity instead.
    pub async fn terminate(&self, instance: &InstanceId, decrement: bool) -> Result<()> {
        match self
            .client
            .terminate_instance_in_auto_scaling_group()
            .instance_id(instance.as_str())
            .should_decrement_desired_capacity(decrement)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Already gone (a second run, or the group replaced it): nothing to do.
            // AWS answers ValidationError for other refusals too (an instance that is
            // not InService or Standby): those are errors, with AWS's message.
            Err(err) if no_longer_in_group(&err) => {
                tracing::info!("{instance} is no longer in its group");
                Ok(())
            }
            Err(err) => Err(classify(
                "autoscaling:TerminateInstanceInAutoScalingGroup",
                &self.endpoint,
                err,
            )),
        }
    }

    pub async fn set_tag(&self, name: &GroupName, key: &str, value: &str) -> Result<()> {
        self.set_tags(name, &[(key, value.to_string())]).await
    }

    /// Sets several tags in one call.
    pub async fn set_tags(&self, name: &GroupName, tags: &[(&str, String)]) -> Result<()> {
        let tags = tags
            .iter()
            .map(|(key, value)| tag(name, key, value))
            .collect();
        self.client
            .create_or_update_tags()
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| classify("autoscaling:CreateOrUpdateTags", &self.endpoint, e))?;
        Ok(())
    }

    pub async fn delete_tag(&self, name: &GroupName, key: &str) -> Result<()> {
        self.client
            .delete_tags()
            .tags(tag(name, key, ""))
            .send()
            .await
            .map_err(|e| classify("autoscaling:DeleteTags", &self.endpoint, e))?;
        Ok(())
    }

    /// Creates the group `spec` describes, on launch template `version` (the spec's,
    /// which the effect gate has checked is known).
    pub async fn create_group(&self, spec: &NewGroup, version: i64) -> Result<()> {
        let tags: Vec<Tag> = spec
            .tags
            .iter()
            .map(|(k, v)| tag(&spec.name, k, v))
            .collect();
        let result = self
            .client
            .create_auto_scaling_group()
            .auto_scaling_group_name(spec.name.as_str())
            .launch_template(template_spec(&spec.template, version))
            .min_size(spec.min)
            .max_size(spec.max)
            .desired_capacity(spec.desired)
            .set_vpc_zone_identifier(spec.subnets.clone())
            .set_target_group_arns(Some(
                spec.target_groups.iter().map(|t| t.to_string()).collect(),
            ))
            .set_health_check_type(spec.health_check_type.clone())
            .set_health_check_grace_period(spec.health_check_grace)
            .set_tags(Some(tags))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // CreateAutoScalingGroup has no client token: when an answer is lost the
            // SDK's retry meets the group the first attempt made. It is ours when it
            // runs the version this deploy just made and carries our tags.
            Err(err) if error_code(&err) == Some("AlreadyExists") => {
                let ours = self.group(&spec.name).await?.is_some_and(|group| {
                    group.template == Some((spec.template.clone(), version.to_string()))
                        && spec.tags.iter().all(|(k, v)| group.tags.get(k) == Some(v))
                });
                if ours {
                    tracing::info!("{} exists: a lost answer's create landed", spec.name);
                    Ok(())
                } else {
                    Err(classify(
                        "autoscaling:CreateAutoScalingGroup",
                        &self.endpoint,
                        err,
                    ))
                }
            }
            Err(err) => Err(classify(
                "autoscaling:CreateAutoScalingGroup",
                &self.endpoint,
                err,
            )),
        }
    }

    pub async fn detach_target_groups(
        &self,
        name: &GroupName,
        target_groups: &[TargetGroupArn],
    ) -> Result<()> {
        if target_groups.is_empty() {
            return Ok(());
        }
        self.client
            .detach_load_balancer_target_groups()
            .auto_scaling_group_name(name.as_str())
            .set_target_group_arns(Some(target_groups.iter().map(|t| t.to_string()).collect()))
            .send()
            .await
            .map_err(|e| {
                classify(
                    "autoscaling:DetachLoadBalancerTargetGroups",
                    &self.endpoint,
                    e,
                )
            })?;
        Ok(())
    }

    pub async fn delete_group(&self, name: &GroupName) -> Result<()> {
        self.client
            .delete_auto_scaling_group()
            .auto_scaling_group_name(name.as_str())
            .force_delete(true)
            .send()
            .await
            .map_err(|e| classify("autoscaling:DeleteAutoScalingGroup", &self.endpoint, e))?;
        Ok(())
    }
}

fn tag(group: &GroupName, key: &str, value: &str) -> Tag {
    Tag::builder()
        .resource_id(group.as_str())
        .resource_type("auto-scaling-group")
        .key(key)
        .value(value)
        .propagate_at_launch(false)
        .build()
}

fn group_from(g: aws_sdk_autoscaling::types::AutoScalingGroup) -> Group {
    let mixed_spec = g
        .mixed_instances_policy
        .as_ref()
        .and_then(|p| p.launch_template.as_ref())
        .and_then(|t| t.launch_template_specification.as_ref());
    // A group has one or the other; the policy's is the one it launches from.
    let template = mixed_spec.or(g.launch_template.as_ref()).and_then(|t| {
        Some((
            LaunchTemplateId::from_aws(t.launch_template_id.clone()?),
            t.version.clone().unwrap_or_else(|| "$Default".into()),
        ))
    });
    Group {
        name: GroupName::from_aws(g.auto_scaling_group_name.unwrap_or_default()),
        template,
        mixed: g.mixed_instances_policy,
        launch_configuration: g.launch_configuration_name,
        desired: g.desired_capacity.unwrap_or_default(),
        min: g.min_size.unwrap_or_default(),
        max: g.max_size.unwrap_or_default(),
        instances: g
            .instances
            .unwrap_or_default()
            .into_iter()
            .map(|i| GroupInstance {
                id: InstanceId::from_aws(i.instance_id.unwrap_or_default()),
                lifecycle: i
                    .lifecycle_state
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                healthy: i.health_status.as_deref() == Some("Healthy"),
                version: i.launch_template.and_then(|t| t.version),
            })
            .collect(),
        target_groups: g
            .target_group_arns
            .unwrap_or_default()
            .into_iter()
            .map(TargetGroupArn::from_aws)
            .collect(),
        tags: g
            .tags
            .unwrap_or_default()
            .into_iter()
            .filter_map(|t| Some((t.key?, t.value.unwrap_or_default())))
            .collect(),
        subnets: g.vpc_zone_identifier,
        health_check_type: g.health_check_type,
        health_check_grace: g.health_check_grace_period,
    }
}

/// AWS's answer for an instance its group no longer manages: ValidationError
/// "Instance Id not found - No managed instance found for instance ID: i-…".
fn no_longer_in_group<E: aws_sdk_autoscaling::error::ProvideErrorMetadata>(
    err: &aws_sdk_autoscaling::error::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> bool {
    error_code(err) == Some("ValidationError")
        && aws_sdk_autoscaling::error::ProvideErrorMetadata::message(err)
            .is_some_and(|m| m.contains("not found") || m.contains("No managed instance"))
}

#[cfg(test)]
mod tests {
    use aws_sdk_autoscaling::error::ErrorMetadata;
    use aws_sdk_autoscaling::operation::terminate_instance_in_auto_scaling_group::TerminateInstanceInAutoScalingGroupError;
    use aws_smithy_mocks::mock;

    use super::super::AutoScaling;
    use crate::model::InstanceId;

    fn refusing(message: &'static str) -> AutoScaling {
        let rule = mock!(aws_sdk_autoscaling::Client::terminate_instance_in_auto_scaling_group)
            .then_error(move || {
                TerminateInstanceInAutoScalingGroupError::generic(
                    ErrorMetadata::builder()
                        .code("ValidationError")
                        .message(message)
                        .build(),
                )
            });
        AutoScaling::new(
            crate::aws::mocked::autoscaling(&[&rule]),
            "https://autoscaling.eu-west-1.amazonaws.com".into(),
        )
    }

    #[tokio::test]
    async fn an_instance_the_group_no_longer_has_is_done_already() {
        let gone =
            refusing("Instance Id not found - No managed instance found for instance ID: i-0abc");
        gone.terminate(&InstanceId::from_aws("i-0abc"), false)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn any_other_refusal_is_an_error_with_aws_message() {
        let busy = refusing("The instance i-0abc is not in InService or Standby.");
        let error = busy
            .terminate(&InstanceId::from_aws("i-0abc"), false)
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "autoscaling:TerminateInstanceInAutoScalingGroup failed: ValidationError: The instance i-0abc is not in InService or Standby."
        );
    }
}
