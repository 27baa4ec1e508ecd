//! The changes `kiln prune` and `kiln revoke` make to images, their snapshots and
//! the registry's labels, as data for the plan and for `Effects::apply`.

use std::fmt;

use serde::Serialize;

use super::Applied;
use crate::aws::Aws;
use crate::error::Result;
use crate::model::{AmiId, Channel, ParameterName, Region, Version};

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action")]
pub enum ImageChange {
    #[serde(rename = "ec2:DeregisterImage")]
    Deregister { region: Region, ami_id: AmiId },
    #[serde(rename = "ec2:DeleteSnapshot")]
    DeleteSnapshot { region: Region, snapshot: String },
    /// EnableImageDeprecation (now) or, with `deprecated: false`, DisableImageDeprecation.
    #[serde(rename = "ec2:EnableImageDeprecation")]
    Deprecate {
        region: Region,
        ami_id: AmiId,
        deprecated: bool,
    },
    #[serde(rename = "ec2:DeleteTags")]
    Untag {
        region: Region,
        ami_id: AmiId,
        keys: Vec<String>,
    },
    #[serde(rename = "ssm:UnlabelParameterVersion")]
    Unlabel {
        region: Region,
        name: ParameterName,
        version: Version,
        labels: Vec<Channel>,
    },
}

impl fmt::Display for ImageChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ImageChange::*;
        match self {
            Deregister { region, ami_id } => write!(f, "ec2:DeregisterImage {ami_id} in {region}"),
            DeleteSnapshot { region, snapshot } => {
                write!(f, "ec2:DeleteSnapshot {snapshot} in {region}")
            }
            Deprecate {
                region,
                ami_id,
                deprecated,
            } => {
                if *deprecated {
                    write!(f, "ec2:EnableImageDeprecation {ami_id} in {region}: now")
                } else {
                    write!(f, "ec2:DisableImageDeprecation {ami_id} in {region}")
                }
            }
            Untag {
                region,
                ami_id,
                keys,
            } => write!(f, "ec2:DeleteTags {ami_id} in {region}: {}", keys.join(" ")),
            Unlabel {
                region,
                name,
                version,
                labels,
            } => {
                let labels: Vec<&str> = labels.iter().map(|l| l.as_str()).collect();
                write!(
                    f,
                    "ssm:UnlabelParameterVersion {name} in {region}: version={version} labels={}",
                    labels.join(",")
                )
            }
        }
    }
}

impl ImageChange {
    pub(super) async fn apply(self, aws: &Aws) -> Result<Applied> {
        use ImageChange::*;
        match self {
            Deregister { region, ami_id } => aws.ec2(&region).deregister(&ami_id).await?,
            DeleteSnapshot { region, snapshot } => {
                aws.ec2(&region).delete_snapshot(&snapshot).await?
            }
            Deprecate {
                region,
                ami_id,
                deprecated,
            } => aws.ec2(&region).deprecate(&ami_id, deprecated).await?,
            Untag {
                region,
                ami_id,
                keys,
            } => {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                aws.ec2(&region).untag(&ami_id, &keys).await?
            }
            Unlabel {
                region,
                name,
                version,
                labels,
            } => aws.ssm(&region).unlabel(&name, version, &labels).await?,
        }
        Ok(Applied::Done)
    }
}
