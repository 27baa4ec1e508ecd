//! Launch template versions: read the one a group runs, add one that pins an AMI.
//!
//! kiln never points a group at `$Latest` or `$Default`: each deploy adds a
//! numbered version with the concrete AMI id, and the group is set to that number,
//! so what runs is always visible in the group and a rollback is one number back.

use aws_sdk_ec2::types::ResponseLaunchTemplateData;

use super::classify;
use super::ec2::Ec2;
use crate::error::Result;
use crate::model::{AmiId, LaunchTemplateId};

/// One version of a launch template.
#[derive(Debug, Clone)]
pub struct TemplateVersion {
    pub template: LaunchTemplateId,
    pub number: i64,
    pub image: Option<AmiId>,
    pub description: Option<String>,
    pub data: ResponseLaunchTemplateData,
}

impl Ec2 {
    /// A version by number or `$Latest`/`$Default`; `None` when it does not exist.
    pub async fn template_version(
        &self,
        template: &LaunchTemplateId,
        version: &str,
    ) -> Result<Option<TemplateVersion>> {
        let result = self
            .client
            .describe_launch_template_versions()
            .launch_template_id(template.as_str())
            .versions(version)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(err)
                if super::error_code(&err).is_some_and(|c| {
                    c.starts_with("InvalidLaunchTemplateId")
                        || c.starts_with("InvalidLaunchTemplateVersion")
                }) =>
            {
                return Ok(None);
            }
            Err(err) => {
                return Err(classify(
                    "ec2:DescribeLaunchTemplateVersions",
                    &self.endpoint,
                    err,
                ));
            }
        };
        Ok(output
            .launch_template_versions
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(|v| {
                let data = v
                    .launch_template_data
                    .unwrap_or_else(|| ResponseLaunchTemplateData::builder().build());
                TemplateVersion {
                    template: template.clone(),
                    number: v.version_number.unwrap_or_default(),
                    image: data.image_id.clone().map(AmiId::from_aws),
                    description: v.version_description,
                    data,
                }
            }))
    }

    /// Adds a version: `source`'s data with `image` as the AMI (see `template_data`).
    pub async fn create_template_version(
        &self,
        source: &TemplateVersion,
        image: &AmiId,
        description: &str,
    ) -> Result<i64> {
        let output = self
            .client
            .create_launch_template_version()
            .launch_template_id(source.template.as_str())
            .source_version(source.number.to_string())
            .version_description(description.chars().take(255).collect::<String>())
            .launch_template_data(super::template_data::with_image(&source.data, image))
            .send()
            .await
            .map_err(|e| classify("ec2:CreateLaunchTemplateVersion", &self.endpoint, e))?;
        Ok(output
            .launch_template_version
            .and_then(|v| v.version_number)
            .unwrap_or_default())
    }
}
