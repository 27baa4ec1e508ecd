//! The change `kiln deploy --via cloudformation` makes to a stack: an update that
//! sets the AMI parameter and keeps the template and every other parameter.

use std::fmt;

use serde::Serialize;

use super::{Applied, made};
use crate::aws::Aws;
use crate::aws::cloudformation::Update;
use crate::error::Result;
use crate::model::{AmiId, Region};

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum StackChange {
    UpdateImage {
        region: Region,
        stack: String,
        parameter: String,
        /// `None`: the image a reference resolves to, in a dry run without AWS access.
        ami_id: Option<AmiId>,
        /// The stack's other parameters, each kept with UsePreviousValue.
        #[serde(skip)]
        keep: Vec<String>,
    },
}

impl StackChange {
    pub fn action(&self) -> &'static str {
        match self {
            StackChange::UpdateImage { .. } => "cloudformation:UpdateStack",
        }
    }

    pub(super) async fn apply(self, aws: &Aws) -> Result<Applied> {
        match self {
            StackChange::UpdateImage {
                region,
                stack,
                parameter,
                ami_id,
                keep,
            } => {
                let ami = made(ami_id, "the image to pass")?;
                match aws
                    .cloudformation(&region)
                    .update_image(&stack, &parameter, &ami, &keep)
                    .await?
                {
                    Update::Started => Ok(Applied::Done),
                    Update::NothingToChange => Ok(Applied::Unchanged),
                }
            }
        }
    }
}

impl fmt::Display for StackChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StackChange::UpdateImage {
                region,
                stack,
                parameter,
                ami_id,
                ..
            } => write!(
                f,
                "stack {stack} in {region}: {parameter}={}, its template and other parameters kept",
                ami_id
                    .as_ref()
                    .map_or("(the AMI the reference resolves to)".to_string(), |a| a
                        .to_string())
            ),
        }
    }
}
