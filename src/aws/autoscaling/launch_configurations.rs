//! Launch configurations, the older way a group names its image: kiln never
//! creates one, but `kiln prune` must not delete an image one still names.

use std::collections::{BTreeMap, BTreeSet};

use super::AutoScaling;
use crate::aws::classify;
use crate::aws::ec2::Reference;
use crate::error::Result;
use crate::model::AmiId;

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
