//! The changes a deploy makes to a group, its launch template and its lock, as
//! data: what the plan shows in a dry run and what `Effects::apply` carries out.

use std::fmt;

use serde::Serialize;

use super::Applied;
use crate::aws::Aws;
use crate::aws::autoscaling::{NewGroup, RefreshSpec};
use crate::error::Result;
use crate::model::{AmiId, GroupName, InstanceId, LaunchTemplateId, Region, TargetGroupArn};

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action")]
pub enum RolloutChange {
    #[serde(rename = "ec2:CreateLaunchTemplateVersion")]
    CreateTemplateVersion {
        region: Region,
        template: LaunchTemplateId,
        source_version: i64,
        /// `None` in a dry run that could not resolve the image.
        ami_id: Option<AmiId>,
        description: String,
    },
    #[serde(rename = "autoscaling:UpdateAutoScalingGroup")]
    UpdateGroup {
        region: Region,
        group: GroupName,
        /// The launch template version to set (`None`: unchanged; 0 in a dry run:
        /// the version created just before).
        template: Option<(LaunchTemplateId, i64)>,
        /// (min, desired, max), when they change.
        capacity: Option<(i32, i32, i32)>,
    },
    #[serde(rename = "autoscaling:TerminateInstanceInAutoScalingGroup")]
    ReplaceInstance {
        region: Region,
        instance: InstanceId,
        /// Lower the desired capacity instead of launching a replacement.
        decrement: bool,
    },
    #[serde(rename = "ssm:PutParameter")]
    TakeLock {
        region: Region,
        name: String,
        holder: String,
    },
    #[serde(rename = "ssm:DeleteParameter")]
    ReleaseLock { region: Region, name: String },
    #[serde(rename = "autoscaling:CreateOrUpdateTags")]
    TagGroup {
        region: Region,
        group: GroupName,
        key: String,
        value: String,
    },
    #[serde(rename = "autoscaling:DeleteTags")]
    UntagGroup {
        region: Region,
        group: GroupName,
        key: String,
    },
    #[serde(rename = "autoscaling:StartInstanceRefresh")]
    StartRefresh {
        region: Region,
        group: GroupName,
        spec: RefreshSpec,
    },
    #[serde(rename = "autoscaling:CancelInstanceRefresh")]
    CancelRefresh { region: Region, group: GroupName },
    #[serde(rename = "autoscaling:RollbackInstanceRefresh")]
    RollbackRefresh { region: Region, group: GroupName },
    #[serde(rename = "autoscaling:CreateAutoScalingGroup")]
    CreateGroup { region: Region, spec: NewGroup },
    #[serde(rename = "autoscaling:DetachLoadBalancerTargetGroups")]
    DetachTargetGroups {
        region: Region,
        group: GroupName,
        target_groups: Vec<TargetGroupArn>,
    },
    #[serde(rename = "autoscaling:DeleteAutoScalingGroup")]
    DeleteGroup { region: Region, group: GroupName },
}

impl fmt::Display for RolloutChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RolloutChange::*;
        match self {
            CreateTemplateVersion {
                region,
                template,
                source_version,
                ami_id,
                ..
            } => write!(
                f,
                "ec2:CreateLaunchTemplateVersion {template} in {region}: version {source_version}'s settings with image={}",
                ami_id
                    .as_ref()
                    .map_or("(the AMI the reference resolves to)".to_string(), |a| a
                        .to_string())
            ),
            UpdateGroup {
                region,
                group,
                template,
                capacity,
            } => {
                write!(f, "autoscaling:UpdateAutoScalingGroup {group} in {region}:")?;
                if let Some((id, version)) = template {
                    match version {
                        0 => write!(f, " launch-template={id} version=(the new version)")?,
                        n => write!(f, " launch-template={id} version={n}")?,
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
                "autoscaling:TerminateInstanceInAutoScalingGroup {instance} in {region} ({})",
                if *decrement {
                    "lowering the desired capacity"
                } else {
                    "the group launches a replacement"
                }
            ),
            TakeLock {
                region,
                name,
                holder,
            } => write!(
                f,
                "ssm:PutParameter {name} in {region} (no overwrite): {holder}"
            ),
            ReleaseLock { region, name } => write!(f, "ssm:DeleteParameter {name} in {region}"),
            TagGroup {
                region,
                group,
                key,
                value,
            } => write!(
                f,
                "autoscaling:CreateOrUpdateTags {group} in {region}: {key}={value}"
            ),
            UntagGroup { region, group, key } => {
                write!(f, "autoscaling:DeleteTags {group} in {region}: {key}")
            }
            StartRefresh {
                region,
                group,
                spec,
            } => write!(
                f,
                "autoscaling:StartInstanceRefresh {group} in {region}: launch-template={} version={} min-healthy={}% skip-matching={} auto-rollback={}",
                spec.template,
                spec.version,
                spec.min_healthy_percent,
                spec.skip_matching,
                spec.auto_rollback
            ),
            CancelRefresh { region, group } => {
                write!(f, "autoscaling:CancelInstanceRefresh {group} in {region}")
            }
            RollbackRefresh { region, group } => {
                write!(f, "autoscaling:RollbackInstanceRefresh {group} in {region}")
            }
            CreateGroup { region, spec } => write!(
                f,
                "autoscaling:CreateAutoScalingGroup {} in {region}: launch-template={} version={} min={} desired={} max={}",
                spec.name, spec.template, spec.version, spec.min, spec.desired, spec.max
            ),
            DetachTargetGroups {
                region,
                group,
                target_groups,
            } => {
                let arns: Vec<&str> = target_groups.iter().map(|t| t.as_str()).collect();
                write!(
                    f,
                    "autoscaling:DetachLoadBalancerTargetGroups {group} in {region}: {}",
                    arns.join(" ")
                )
            }
            DeleteGroup { region, group } => {
                write!(f, "autoscaling:DeleteAutoScalingGroup {group} in {region}")
            }
        }
    }
}

impl RolloutChange {
    pub(super) async fn apply(self, aws: &Aws) -> Result<Applied> {
        use RolloutChange::*;
        match self {
            CreateTemplateVersion {
                region,
                template,
                source_version,
                ami_id,
                description,
            } => {
                let ec2 = aws.ec2(&region);
                let ami = ami_id.expect("a real run pins a real image");
                let source = ec2
                    .template_version(&template, &source_version.to_string())
                    .await?
                    .ok_or_else(|| crate::error::Error::Aws {
                        operation: "ec2:DescribeLaunchTemplateVersions".into(),
                        code: "InvalidLaunchTemplateVersion".into(),
                        message: format!("{template} has no version {source_version}"),
                    })?;
                let number = ec2
                    .create_template_version(&source, &ami, &description)
                    .await?;
                Ok(Applied::TemplateVersion(number))
            }
            UpdateGroup {
                region,
                group,
                template,
                capacity,
            } => {
                let template = template.as_ref().map(|(id, version)| (id, *version));
                aws.autoscaling(&region)
                    .update(&group, template, capacity)
                    .await?;
                Ok(Applied::Done)
            }
            ReplaceInstance {
                region,
                instance,
                decrement,
            } => {
                aws.autoscaling(&region)
                    .terminate(&instance, decrement)
                    .await?;
                Ok(Applied::Done)
            }
            TakeLock {
                region,
                name,
                holder,
            } => {
                let taken = aws.ssm(&region).create_exclusive(&name, &holder).await?;
                Ok(if taken {
                    Applied::Done
                } else {
                    Applied::Refused
                })
            }
            ReleaseLock { region, name } => {
                aws.ssm(&region).delete(&name).await?;
                Ok(Applied::Done)
            }
            TagGroup {
                region,
                group,
                key,
                value,
            } => {
                aws.autoscaling(&region)
                    .set_tag(&group, &key, &value)
                    .await?;
                Ok(Applied::Done)
            }
            UntagGroup { region, group, key } => {
                aws.autoscaling(&region).delete_tag(&group, &key).await?;
                Ok(Applied::Done)
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
                Ok(Applied::Refresh(id))
            }
            CancelRefresh { region, group } => {
                aws.autoscaling(&region).cancel_refresh(&group).await?;
                Ok(Applied::Done)
            }
            RollbackRefresh { region, group } => {
                aws.autoscaling(&region).rollback_refresh(&group).await?;
                Ok(Applied::Done)
            }
            CreateGroup { region, spec } => {
                aws.autoscaling(&region).create_group(&spec).await?;
                Ok(Applied::Done)
            }
            DetachTargetGroups {
                region,
                group,
                target_groups,
            } => {
                aws.autoscaling(&region)
                    .detach_target_groups(&group, &target_groups)
                    .await?;
                Ok(Applied::Done)
            }
            DeleteGroup { region, group } => {
                aws.autoscaling(&region).delete_group(&group).await?;
                Ok(Applied::Done)
            }
        }
    }
}
