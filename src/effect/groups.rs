//! The changes a deploy makes to Auto Scaling groups: the launch template version
//! they run, capacity, instance replacement, instance refreshes, the lock tag, and
//! blue-green's new and old groups.

use std::fmt;

use serde::Serialize;

use super::{Applied, made};
use crate::aws::Aws;
use crate::aws::autoscaling::{NewGroup, RefreshSpec};
use crate::error::Result;
use crate::model::{GroupName, InstanceId, LaunchTemplateId, Region, TargetGroupArn};
use crate::provenance::tag;

/// The launch template version a group is set to.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TemplatePin {
    /// `None`: the group's template, in a dry run without AWS access.
    pub id: Option<LaunchTemplateId>,
    /// `None`: the version created just before, in a dry run that only planned it.
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum GroupChange {
    Update {
        region: Region,
        group: GroupName,
        /// The launch template version to set (`None`: unchanged).
        template: Option<TemplatePin>,
        /// (min, desired, max), when they change.
        capacity: Option<(i32, i32, i32)>,
    },
    ReplaceInstance {
        region: Region,
        /// `None`: each instance not on the new version, in a dry run without AWS access.
        instance: Option<InstanceId>,
        /// Lower the desired capacity instead of launching a replacement.
        decrement: bool,
    },
    Tag {
        region: Region,
        group: GroupName,
        key: String,
        value: String,
    },
    Untag {
        region: Region,
        group: GroupName,
        key: String,
    },
    /// Records on the group the version a rollout goes to and the one it goes back
    /// to (`provenance::tag::ROLLOUT_VERSION`, `ROLLBACK_VERSION`): the state a
    /// re-run resumes from.
    MarkRollout {
        region: Region,
        group: GroupName,
        /// `None`: the version a dry run only planned to make.
        version: Option<i64>,
        /// `None`: the version the group runs, in a dry run without AWS access.
        previous: Option<i64>,
    },
    StartRefresh {
        region: Region,
        group: GroupName,
        spec: RefreshSpec,
    },
    CancelRefresh {
        region: Region,
        group: GroupName,
    },
    RollbackRefresh {
        region: Region,
        group: GroupName,
    },
    Create {
        region: Region,
        spec: NewGroup,
    },
    DetachTargetGroups {
        region: Region,
        group: GroupName,
        target_groups: Vec<TargetGroupArn>,
    },
    Delete {
        region: Region,
        group: GroupName,
    },
}

impl GroupChange {
    pub fn action(&self) -> &'static str {
        use GroupChange::*;
        match self {
            Update { .. } => "autoscaling:UpdateAutoScalingGroup",
            ReplaceInstance { .. } => "autoscaling:TerminateInstanceInAutoScalingGroup",
            Tag { .. } | MarkRollout { .. } => "autoscaling:CreateOrUpdateTags",
            Untag { .. } => "autoscaling:DeleteTags",
            StartRefresh { .. } => "autoscaling:StartInstanceRefresh",
            CancelRefresh { .. } => "autoscaling:CancelInstanceRefresh",
            RollbackRefresh { .. } => "autoscaling:RollbackInstanceRefresh",
            Create { .. } => "autoscaling:CreateAutoScalingGroup",
            DetachTargetGroups { .. } => "autoscaling:DetachLoadBalancerTargetGroups",
            Delete { .. } => "autoscaling:DeleteAutoScalingGroup",
        }
    }

    pub(super) async fn apply(self, aws: &Aws) -> Result<Applied> {
        use GroupChange::*;
        match self {
            Update {
                region,
                group,
                template,
                capacity,
            } => {
                let template = match &template {
                    Some(pin) => Some((
                        made(pin.id.as_ref(), "the launch template")?,
                        made(pin.version, "the launch template version")?,
                    )),
                    None => None,
                };
                aws.autoscaling(&region)
                    .update(&group, template, capacity)
                    .await?
            }
            ReplaceInstance {
                region,
                instance,
                decrement,
            } => {
                let instance = made(instance, "the instance to replace")?;
                aws.autoscaling(&region)
                    .terminate(&instance, decrement)
                    .await?
            }
            Tag {
                region,
                group,
                key,
                value,
            } => {
                aws.autoscaling(&region)
                    .set_tag(&group, &key, &value)
                    .await?
            }
            Untag { region, group, key } => {
                aws.autoscaling(&region).delete_tag(&group, &key).await?
            }
            MarkRollout {
                region,
                group,
                version,
                previous,
            } => {
                let version = made(version, "the launch template version rolled out")?;
                let previous = made(previous, "the launch template version to go back to")?;
                let tags = [
                    (tag::ROLLOUT_VERSION, version.to_string()),
                    (tag::ROLLBACK_VERSION, previous.to_string()),
                ];
                aws.autoscaling(&region).set_tags(&group, &tags).await?
            }
            StartRefresh {
                region,
                group,
                spec,
            } => {
                let id = aws
                    .autoscaling(&region)
                    .start_refresh(&group, &spec)
                    .await?;
                return Ok(Applied::Refresh(id));
            }
            CancelRefresh { region, group } => {
                aws.autoscaling(&region).cancel_refresh(&group).await?
            }
            RollbackRefresh { region, group } => {
                aws.autoscaling(&region).rollback_refresh(&group).await?
            }
            Create { region, spec } => {
                let version = made(spec.version, "the new group's launch template version")?;
                aws.autoscaling(&region)
                    .create_group(&spec, version)
                    .await?
            }
            DetachTargetGroups {
                region,
                group,
                target_groups,
            } => {
                aws.autoscaling(&region)
                    .detach_target_groups(&group, &target_groups)
                    .await?
            }
            Delete { region, group } => aws.autoscaling(&region).delete_group(&group).await?,
        }
        Ok(Applied::Done)
    }
}

impl fmt::Display for GroupChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use GroupChange::*;
        match self {
            Update {
                region,
                group,
                template,
                capacity,
            } => {
                write!(f, "{group} in {region}:")?;
                if let Some(TemplatePin { id, version }) = template {
                    let id = id
                        .as_ref()
                        .map_or("(the group's)".to_string(), |t| t.to_string());
                    match version {
                        None => write!(f, " launch-template={id} version=(the new version)")?,
                        Some(n) => write!(f, " launch-template={id} version={n}")?,
                    }
                }
                if let Some((min, desired, max)) = capacity {
                    write!(f, " min={min} desired={desired} max={max}")?;
                }
                Ok(())
            }
            ReplaceInstance {
                region,
                instance,
                decrement,
            } => write!(
                f,
                "{} in {region} ({})",
                instance.as_ref().map_or(
                    "(each instance not on the new version, batch by batch)".to_string(),
                    |i| i.to_string()
                ),
                if *decrement {
                    "lowering the desired capacity"
                } else {
                    "the group launches a replacement"
                }
            ),
            Tag {
                region,
                group,
                key,
                value,
            } => write!(f, "{group} in {region}: {key}={value}"),
            Untag { region, group, key } => write!(f, "{group} in {region}: {key}"),
            MarkRollout {
                region,
                group,
                version,
                previous,
            } => write!(
                f,
                "{group} in {region}: {}={} {}={}",
                tag::ROLLOUT_VERSION,
                version.map_or("(the new version)".to_string(), |v| v.to_string()),
                tag::ROLLBACK_VERSION,
                previous.map_or("(the current version)".to_string(), |v| v.to_string()),
            ),
            StartRefresh {
                region,
                group,
                spec,
            } => write!(
                f,
                "{group} in {region}: launch-template={} version={} min-healthy={}% skip-matching={} auto-rollback={}",
                spec.template,
                spec.version,
                spec.min_healthy_percent,
                spec.skip_matching,
                spec.auto_rollback
            ),
            CancelRefresh { region, group }
            | RollbackRefresh { region, group }
            | Delete { region, group } => write!(f, "{group} in {region}"),
            Create { region, spec } => write!(
                f,
                "{} in {region}: launch-template={} version={} min={} desired={} max={}",
                spec.name,
                spec.template,
                spec.version
                    .map_or("(the new version)".to_string(), |v| v.to_string()),
                spec.min,
                spec.desired,
                spec.max
            ),
            DetachTargetGroups {
                region,
                group,
                target_groups,
            } => {
                let arns: Vec<&str> = target_groups.iter().map(|t| t.as_str()).collect();
                write!(f, "{group} in {region}: {}", arns.join(" "))
            }
        }
    }
}
