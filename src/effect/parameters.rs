//! The changes kiln makes to SSM parameters: the registry's versions and channel
//! labels, and the deploy lock.

use std::fmt;

use serde::Serialize;

use super::images::baked;
use super::{Applied, made};
use crate::aws::Aws;
use crate::error::Result;
use crate::model::{AmiId, Channel, ParameterName, Region, Version};

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ParameterChange {
    /// A new version of a registry parameter.
    Publish {
        region: Region,
        name: ParameterName,
        /// `None`: the image a bake makes, in a dry run that only planned the bake.
        value: Option<AmiId>,
        data_type: &'static str,
        description: String,
    },
    /// Moves channel labels to a version (SSM moves a label atomically).
    Label {
        region: Region,
        name: ParameterName,
        /// `None`: the version a reference names, in a dry run without AWS access.
        version: Option<Version>,
        labels: Vec<Channel>,
    },
    Unlabel {
        region: Region,
        name: ParameterName,
        version: Version,
        labels: Vec<Channel>,
    },
    /// A new version of an environment's deploy ledger: one record (JSON).
    Record {
        region: Region,
        name: ParameterName,
        /// What the record says, for the plan and messages: `start` or the outcome.
        event: String,
        value: String,
    },
    /// Creates the deploy lock; refused when someone holds it.
    TakeLock {
        region: Region,
        name: String,
        holder: String,
    },
    ReleaseLock {
        region: Region,
        name: String,
    },
}

impl ParameterChange {
    pub fn action(&self) -> &'static str {
        use ParameterChange::*;
        match self {
            Publish { .. } | Record { .. } | TakeLock { .. } => "ssm:PutParameter",
            Label { .. } => "ssm:LabelParameterVersion",
            Unlabel { .. } => "ssm:UnlabelParameterVersion",
            ReleaseLock { .. } => "ssm:DeleteParameter",
        }
    }

    pub(super) async fn apply(self, aws: &Aws) -> Result<Applied> {
        use ParameterChange::*;
        match self {
            Publish {
                region,
                name,
                value,
                description,
                ..
            } => {
                let value = made(value, "the image to publish")?;
                let version = aws
                    .ssm(&region)
                    .put_image_id(&name, &value, &description)
                    .await?;
                Ok(Applied::Version(version))
            }
            Record {
                region,
                name,
                value,
                ..
            } => {
                let version = aws.ssm(&region).put_record(&name, &value).await?;
                Ok(Applied::Version(version))
            }
            Label {
                region,
                name,
                version,
                labels,
            } => {
                let version = made(version, "the version to label")?;
                aws.ssm(&region).label(&name, version, &labels).await?;
                Ok(Applied::Done)
            }
            Unlabel {
                region,
                name,
                version,
                labels,
            } => {
                aws.ssm(&region).unlabel(&name, version, &labels).await?;
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
        }
    }
}

impl fmt::Display for ParameterChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ParameterChange::*;
        let labels = |labels: &[Channel]| {
            labels
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            Publish {
                region,
                name,
                value,
                data_type,
                description,
            } => write!(
                f,
                "{name} in {region}: value={} type=String data-type={data_type} overwrite=true description=\"{description}\"",
                baked(value)
            ),
            Label {
                region,
                name,
                version,
                labels: channels,
            } => {
                let version = version
                    .map_or("(the version the reference names)".to_string(), |v| {
                        v.to_string()
                    });
                write!(
                    f,
                    "{name} in {region}: version={version} labels={}",
                    labels(channels)
                )
            }
            Unlabel {
                region,
                name,
                version,
                labels: channels,
            } => write!(
                f,
                "{name} in {region}: version={version} labels={}",
                labels(channels)
            ),
            Record {
                region,
                name,
                event,
                ..
            } => write!(
                f,
                "{name} in {region} tier=Intelligent-Tiering: the deploy record ({event})"
            ),
            TakeLock {
                region,
                name,
                holder,
            } => write!(f, "{name} in {region} (no overwrite): {holder}"),
            ReleaseLock { region, name } => write!(f, "{name} in {region}"),
        }
    }
}
