//! Launch template versions: read the one a group runs, add one that pins an AMI,
//! and (for `kiln prune`) list every version of every template by its image.
//!
//! kiln never points a group at `$Latest` or `$Default`: each deploy adds a
//! numbered version with the concrete AMI id, and the group is set to that number,
//! so what runs is always visible in the group and a rollback is one number back.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::ResponseLaunchTemplateData;

use super::{Ec2, Reference, template_data};
use crate::aws::{classify, error_code};
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
                if error_code(&err).is_some_and(|c| {
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
            // A retried call whose answer was lost returns the first version.
            .client_token(crate::aws::lost::client_token())
            .launch_template_id(source.template.as_str())
            .source_version(source.number.to_string())
            .version_description(description.chars().take(255).collect::<String>())
            .launch_template_data(template_data::with_image(&source.data, image))
            .send()
            .await
            .map_err(|e| classify("ec2:CreateLaunchTemplateVersion", &self.endpoint, e))?;
        Ok(output
            .launch_template_version
            .and_then(|v| v.version_number)
            .unwrap_or_default())
    }

    /// Every version of every launch template, by the image it names.
    pub async fn template_references(
        &self,
        into: &mut BTreeMap<AmiId, BTreeSet<Reference>>,
    ) -> Result<()> {
        let mut templates = Vec::new();
        let mut pages = self
            .client
            .describe_launch_templates()
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| classify("ec2:DescribeLaunchTemplates", &self.endpoint, e))?;
            templates.extend(
                page.launch_templates
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|t| t.launch_template_id),
            );
        }
        for template in templates {
            let mut pages = self
                .client
                .describe_launch_template_versions()
                .launch_template_id(&template)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| {
                    classify("ec2:DescribeLaunchTemplateVersions", &self.endpoint, e)
                })?;
                for version in page.launch_template_versions.unwrap_or_default() {
                    let image = version.launch_template_data.and_then(|d| d.image_id);
                    if let Some(image) = image {
                        into.entry(AmiId::from_aws(image)).or_default().insert(
                            Reference::TemplateVersion {
                                template: LaunchTemplateId::from_aws(template.clone()),
                                version: version.version_number.unwrap_or_default(),
                            },
                        );
                    }
                }
            }
        }
        Ok(())
    }
}
