//! The changes kiln makes to machine images and their snapshots: provenance tags,
//! copies to other regions, revoke's tags and deprecation, prune's deletions.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::{Applied, made};
use crate::aws::Aws;
use crate::error::Result;
use crate::model::{AmiId, Region};

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ImageChange {
    Tag {
        region: Region,
        /// `None`: the image a bake makes, in a dry run that only planned the bake.
        ami_id: Option<AmiId>,
        tags: BTreeMap<String, String>,
    },
    Copy {
        region: Region,
        source_region: Region,
        /// `None`: the image a bake makes, in a dry run that only planned the bake.
        source_ami: Option<AmiId>,
        name: String,
    },
    Untag {
        region: Region,
        ami_id: AmiId,
        keys: Vec<String>,
    },
    Deprecate {
        region: Region,
        ami_id: AmiId,
    },
    Undeprecate {
        region: Region,
        ami_id: AmiId,
    },
    Deregister {
        region: Region,
        ami_id: AmiId,
    },
    DeleteSnapshot {
        region: Region,
        snapshot: String,
    },
}

impl ImageChange {
    pub fn action(&self) -> &'static str {
        use ImageChange::*;
        match self {
            Tag { .. } => "ec2:CreateTags",
            Copy { .. } => "ec2:CopyImage",
            Untag { .. } => "ec2:DeleteTags",
            Deprecate { .. } => "ec2:EnableImageDeprecation",
            Undeprecate { .. } => "ec2:DisableImageDeprecation",
            Deregister { .. } => "ec2:DeregisterImage",
            DeleteSnapshot { .. } => "ec2:DeleteSnapshot",
        }
    }

    pub(super) async fn apply(self, aws: &Aws) -> Result<Applied> {
        use ImageChange::*;
        match self {
            Tag {
                region,
                ami_id,
                tags,
            } => {
                let ami_id = made(ami_id, "the image to tag")?;
                aws.ec2(&region).tag(&ami_id, &tags).await?
            }
            Copy {
                region,
                source_region,
                source_ami,
                name,
            } => {
                let source = made(source_ami, "the image to copy")?;
                let copy = aws
                    .ec2(&region)
                    .copy_image(&source_region, &source, &name)
                    .await?;
                return Ok(Applied::Image(copy));
            }
            Untag {
                region,
                ami_id,
                keys,
            } => {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                aws.ec2(&region).untag(&ami_id, &keys).await?
            }
            Deprecate { region, ami_id } => aws.ec2(&region).deprecate(&ami_id, true).await?,
            Undeprecate { region, ami_id } => aws.ec2(&region).deprecate(&ami_id, false).await?,
            Deregister { region, ami_id } => aws.ec2(&region).deregister(&ami_id).await?,
            DeleteSnapshot { region, snapshot } => {
                aws.ec2(&region).delete_snapshot(&snapshot).await?
            }
        }
        Ok(Applied::Done)
    }
}

/// What the change does, after its action name (see `Change`'s Display).
impl fmt::Display for ImageChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ImageChange::*;
        match self {
            Tag {
                region,
                ami_id,
                tags,
            } => {
                let tags: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "{} in {region}: {}", baked(ami_id), tags.join(" "))
            }
            Copy {
                region,
                source_region,
                source_ami,
                name,
            } => write!(
                f,
                "{} from {source_region} to {region}: name={name}",
                baked(source_ami)
            ),
            Untag {
                region,
                ami_id,
                keys,
            } => write!(f, "{ami_id} in {region}: {}", keys.join(" ")),
            Deprecate { region, ami_id } => write!(f, "{ami_id} in {region}: now"),
            Undeprecate { region, ami_id } | Deregister { region, ami_id } => {
                write!(f, "{ami_id} in {region}")
            }
            DeleteSnapshot { region, snapshot } => write!(f, "{snapshot} in {region}"),
        }
    }
}

/// An image id, or what the plan calls the image a planned bake makes.
pub(super) fn baked(ami: &Option<AmiId>) -> String {
    ami.as_ref()
        .map_or("(the AMI the bake makes)".to_string(), |a| a.to_string())
}
