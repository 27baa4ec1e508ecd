//! The changes kiln makes to EC2 instances: verify's throwaway instance, the
//! command sent to it through SSM Run Command, and its termination.

use std::fmt;

use serde::Serialize;

use super::{Applied, made};
use crate::aws::Aws;
use crate::aws::ec2::LaunchSpec;
use crate::aws::ssm::SHELL_DOCUMENT;
use crate::error::Result;
use crate::model::{InstanceId, Region, Span};

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum InstanceChange {
    Launch {
        region: Region,
        spec: LaunchSpec,
    },
    SendCommand {
        region: Region,
        /// `None`: the instance kiln launches, in a dry run that only planned it.
        instance: Option<InstanceId>,
        /// What the script does, for the plan and logs (the script is in `script`).
        summary: String,
        #[serde(skip)]
        script: String,
        timeout: Span,
    },
    Terminate {
        region: Region,
        /// Empty: the instance kiln launches, in a dry run that only planned it.
        instances: Vec<InstanceId>,
    },
}

impl InstanceChange {
    pub fn action(&self) -> &'static str {
        match self {
            InstanceChange::Launch { .. } => "ec2:RunInstances",
            InstanceChange::SendCommand { .. } => "ssm:SendCommand",
            InstanceChange::Terminate { .. } => "ec2:TerminateInstances",
        }
    }

    pub(super) async fn apply(self, aws: &Aws) -> Result<Applied> {
        match self {
            InstanceChange::Launch { region, spec } => {
                let id = aws.ec2(&region).run_instance(&spec).await?;
                Ok(Applied::Instance(id))
            }
            InstanceChange::SendCommand {
                region,
                instance,
                summary,
                script,
                timeout,
            } => {
                let instance = made(instance, "the instance to send the command to")?;
                let sent = aws
                    .ssm(&region)
                    .send_shell(&instance, &script, timeout, &summary)
                    .await?;
                Ok(Applied::Sent(sent))
            }
            InstanceChange::Terminate { region, instances } => {
                aws.ec2(&region).terminate(&instances).await?;
                Ok(Applied::Done)
            }
        }
    }
}

impl fmt::Display for InstanceChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const PLANNED: &str = "(the instance kiln launches)";
        match self {
            InstanceChange::Launch { region, spec } => {
                write!(
                    f,
                    "in {region}: image={} type={}",
                    spec.ami_id, spec.instance_type
                )?;
                if let Some(subnet) = &spec.subnet {
                    write!(f, " subnet={subnet}")?;
                }
                if !spec.security_groups.is_empty() {
                    let groups: Vec<&str> =
                        spec.security_groups.iter().map(|g| g.as_str()).collect();
                    write!(f, " security-groups={}", groups.join(","))?;
                }
                if let Some(profile) = &spec.instance_profile {
                    write!(f, " instance-profile={profile}")?;
                }
                let tags: Vec<String> = spec.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, " tags: {}", tags.join(" "))
            }
            InstanceChange::SendCommand {
                region,
                instance,
                summary,
                timeout,
                ..
            } => write!(
                f,
                "{SHELL_DOCUMENT} to {} in {region} (timeout {timeout}): {summary}",
                instance
                    .as_ref()
                    .map_or(PLANNED.to_string(), |i| i.to_string())
            ),
            InstanceChange::Terminate { region, instances } => {
                let ids: Vec<&str> = instances.iter().map(|i| i.as_str()).collect();
                let ids = if ids.is_empty() {
                    PLANNED.to_string()
                } else {
                    ids.join(" ")
                };
                write!(f, "{ids} in {region}")
            }
        }
    }
}
