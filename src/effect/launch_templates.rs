//! The change a deploy makes to a launch template: a new numbered version that pins
//! the image, with every other setting of the version it starts from.

use std::fmt;

use serde::Serialize;

use super::{Applied, made};
use crate::aws::Aws;
use crate::aws::ec2::TemplateVersion;
use crate::error::Result;
use crate::model::{AmiId, LaunchTemplateId, Region};

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum TemplateChange {
    CreateVersion {
        region: Region,
        /// `None`: the group's template, in a dry run without AWS access.
        template: Option<LaunchTemplateId>,
        /// `None`: the version the group runs, in a dry run without AWS access.
        source_version: Option<i64>,
        /// The source version's settings, read once by the deploy (not re-read here).
        #[serde(skip)]
        source: Option<Box<TemplateVersion>>,
        /// `None`: the image a reference resolves to, in a dry run without AWS access.
        ami_id: Option<AmiId>,
        description: String,
    },
}

impl TemplateChange {
    pub fn action(&self) -> &'static str {
        match self {
            TemplateChange::CreateVersion { .. } => "ec2:CreateLaunchTemplateVersion",
        }
    }

    pub(super) async fn apply(self, aws: &Aws) -> Result<Applied> {
        match self {
            TemplateChange::CreateVersion {
                region,
                source,
                ami_id,
                description,
                ..
            } => {
                let ami = made(ami_id, "the image to pin")?;
                let source = made(source, "the launch template version to start from")?;
                let number = aws
                    .ec2(&region)
                    .create_template_version(&source, &ami, &description)
                    .await?;
                Ok(Applied::TemplateVersion(number))
            }
        }
    }
}

impl fmt::Display for TemplateChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateChange::CreateVersion {
                region,
                template,
                source_version,
                ami_id,
                ..
            } => write!(
                f,
                "{} in {region}: {} settings with image={}",
                template
                    .as_ref()
                    .map_or("(the group's launch template)".to_string(), |t| t
                        .to_string()),
                source_version.map_or("the current version's".to_string(), |v| format!(
                    "version {v}'s"
                )),
                ami_id
                    .as_ref()
                    .map_or("(the AMI the reference resolves to)".to_string(), |a| a
                        .to_string())
            ),
        }
    }
}
