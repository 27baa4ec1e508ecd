//! What refers to an image, read region-wide for `kiln prune`: every launch
//! template version, every launch configuration, every instance that still exists.
//! And the calls that delete or deprecate images.
//!
//! Each read is paginated and collects image ids in one pass, so the number of
//! calls grows with the number of pages (and launch templates), never with the
//! number of images times the number of references.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::Filter;

use super::autoscaling::AutoScaling;
use super::ec2::{Ec2, Image, image_from};
use super::instances::LIVE_STATES;
use super::{classify, error_code};
use crate::error::Result;
use crate::model::{AmiId, InstanceId, LaunchTemplateId};

/// Where an image is referred to from outside the registry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reference {
    TemplateVersion {
        template: LaunchTemplateId,
        version: i64,
    },
    LaunchConfiguration(String),
    Instance {
        id: InstanceId,
        state: String,
    },
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::TemplateVersion { template, version } => {
                write!(f, "launch template {template} v{version}")
            }
            Reference::LaunchConfiguration(name) => write!(f, "launch configuration {name}"),
            Reference::Instance { id, state } => write!(f, "instance {id} ({state})"),
        }
    }
}

impl Ec2 {
    /// All images this account owns, in any state but deregistered.
    pub async fn own_images(&self) -> Result<Vec<Image>> {
        let mut pages = self
            .client
            .describe_images()
            .owners("self")
            .include_deprecated(true)
            .into_paginator()
            .send();
        let mut images = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ec2:DescribeImages", &self.endpoint, e))?;
            images.extend(page.images.unwrap_or_default().into_iter().map(image_from));
        }
        Ok(images)
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

    /// Every instance that still exists (not terminated), by its image.
    pub async fn instance_references(
        &self,
        into: &mut BTreeMap<AmiId, BTreeSet<Reference>>,
    ) -> Result<()> {
        let mut pages = self
            .client
            .describe_instances()
            .filters(
                Filter::builder()
                    .name("instance-state-name")
                    .set_values(Some(LIVE_STATES.iter().map(|s| s.to_string()).collect()))
                    .build(),
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ec2:DescribeInstances", &self.endpoint, e))?;
            for instance in page
                .reservations
                .unwrap_or_default()
                .into_iter()
                .flat_map(|r| r.instances.unwrap_or_default())
            {
                if let (Some(image), Some(id)) = (instance.image_id, instance.instance_id) {
                    let state = instance
                        .state
                        .and_then(|s| s.name)
                        .map(|n| n.as_str().to_string())
                        .unwrap_or_default();
                    into.entry(AmiId::from_aws(image))
                        .or_default()
                        .insert(Reference::Instance {
                            id: InstanceId::from_aws(id),
                            state,
                        });
                }
            }
        }
        Ok(())
    }

    pub async fn deregister(&self, image: &AmiId) -> Result<()> {
        match self
            .client
            .deregister_image()
            .image_id(image.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if error_code(&err) == Some("InvalidAMIID.NotFound") => Ok(()),
            Err(err) => Err(classify("ec2:DeregisterImage", &self.endpoint, err)),
        }
    }

    pub async fn delete_snapshot(&self, snapshot: &str) -> Result<()> {
        match self
            .client
            .delete_snapshot()
            .snapshot_id(snapshot)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if error_code(&err) == Some("InvalidSnapshot.NotFound") => Ok(()),
            Err(err) => Err(classify("ec2:DeleteSnapshot", &self.endpoint, err)),
        }
    }

    /// Marks an image deprecated now (`true`), or no longer (`false`).
    pub async fn deprecate(&self, image: &AmiId, deprecated: bool) -> Result<()> {
        if deprecated {
            let now = aws_smithy_types::DateTime::from_secs(crate::model::Timestamp::now().0);
            self.client
                .enable_image_deprecation()
                .image_id(image.as_str())
                .deprecate_at(now)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("ec2:EnableImageDeprecation", &self.endpoint, e))
        } else {
            self.client
                .disable_image_deprecation()
                .image_id(image.as_str())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("ec2:DisableImageDeprecation", &self.endpoint, e))
        }
    }

    pub async fn untag(&self, image: &AmiId, keys: &[&str]) -> Result<()> {
        self.client
            .delete_tags()
            .resources(image.as_str())
            .set_tags(Some(
                keys.iter()
                    .map(|k| aws_sdk_ec2::types::Tag::builder().key(*k).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| classify("ec2:DeleteTags", &self.endpoint, e))?;
        Ok(())
    }
}

impl AutoScaling {
    /// Every launch configuration, by the image it names.
    pub async fn configuration_references(
        &self,
        into: &mut BTreeMap<AmiId, BTreeSet<Reference>>,
    ) -> Result<()> {
        let mut pages = self
            .client
            .describe_launch_configurations()
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                classify(
                    "autoscaling:DescribeLaunchConfigurations",
                    &self.endpoint,
                    e,
                )
            })?;
            for config in page.launch_configurations.unwrap_or_default() {
                if let (Some(image), Some(name)) =
                    (config.image_id, config.launch_configuration_name)
                {
                    into.entry(AmiId::from_aws(image))
                        .or_default()
                        .insert(Reference::LaunchConfiguration(name));
                }
            }
        }
        Ok(())
    }
}
