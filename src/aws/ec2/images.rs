//! Images: look them up, copy them between regions, tag, deprecate and remove
//! them (with their snapshots), and list this account's own for `kiln prune`.
//!
//! Images are looked up with an `image-id` filter rather than `ImageIds`: with ids,
//! one missing image fails the whole call; with the filter it is simply absent, so
//! any number of images costs one paginated call.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, Tag};

use super::{Ec2, tag_filters, tags_from};
use crate::aws::{classify, error_code};
use crate::error::Result;
use crate::model::{AmiId, InstanceId, LaunchTemplateId, Region, Timestamp};

/// The filter accepts at most this many values per call.
const IDS_PER_CALL: usize = 195;

/// What kiln needs to know about an image.
#[derive(Debug, Clone)]
pub struct Image {
    pub id: AmiId,
    pub name: Option<String>,
    pub state: String,
    pub created: Option<Timestamp>,
    pub tags: BTreeMap<String, String>,
    /// The EBS snapshots behind the image, with their size in GiB.
    pub snapshots: Vec<(String, i32)>,
}

/// Where an image is referred to from outside the registry: found by
/// `template_references`, `instance_references` and (Auto Scaling)
/// `configuration_references`, for `kiln prune`. Each of those reads is paginated
/// and collects image ids in one pass, so the number of calls grows with the
/// number of pages (and launch templates), never with the number of images times
/// the number of references.
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
    /// The images among `ids` that exist (in any state) and this account can see.
    pub async fn images(&self, ids: &[AmiId]) -> Result<Vec<Image>> {
        let mut images = Vec::new();
        for chunk in ids.chunks(IDS_PER_CALL) {
            let filter = Filter::builder()
                .name("image-id")
                .set_values(Some(chunk.iter().map(|id| id.to_string()).collect()))
                .build();
            let mut pages = self
                .client
                .describe_images()
                .filters(filter)
                .include_deprecated(true)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| classify("ec2:DescribeImages", &self.endpoint, e))?;
                images.extend(page.images.unwrap_or_default().into_iter().map(image_from));
            }
        }
        Ok(images)
    }

    /// This account's available images that carry all of `tags`.
    pub async fn images_tagged(&self, tags: &[(&str, &str)]) -> Result<Vec<Image>> {
        let mut filters = tag_filters(tags);
        filters.push(Filter::builder().name("state").values("available").build());
        let mut pages = self
            .client
            .describe_images()
            .owners("self")
            .set_filters(Some(filters))
            .into_paginator()
            .send();
        let mut images = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ec2:DescribeImages", &self.endpoint, e))?;
            images.extend(page.images.unwrap_or_default().into_iter().map(image_from));
        }
        Ok(images)
    }

    /// The images a Packer `source_ami_filter` matches, asked the way Packer 1.6.6
    /// asks: `owners` as DescribeImages' owners (when there are any) and each filter
    /// as one filter with one value. Deprecated images are left out, as DescribeImages
    /// leaves them out by default (and Packer does not ask for them).
    pub async fn images_matching(
        &self,
        owners: &[String],
        filters: &BTreeMap<String, String>,
    ) -> Result<Vec<Image>> {
        let filters: Vec<Filter> = filters
            .iter()
            .map(|(name, value)| Filter::builder().name(name).values(value).build())
            .collect();
        let mut request = self.client.describe_images();
        if !owners.is_empty() {
            request = request.set_owners(Some(owners.to_vec()));
        }
        if !filters.is_empty() {
            request = request.set_filters(Some(filters));
        }
        let mut pages = request.into_paginator().send();
        let mut images = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ec2:DescribeImages", &self.endpoint, e))?;
            images.extend(page.images.unwrap_or_default().into_iter().map(image_from));
        }
        Ok(images)
    }

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

    /// Copies an image from another region into this one; returns the new id.
    pub async fn copy_image(
        &self,
        source_region: &Region,
        source: &AmiId,
        name: &str,
    ) -> Result<AmiId> {
        let output = self
            .client
            .copy_image()
            // A retried call whose answer was lost returns the first copy.
            .client_token(crate::aws::lost::client_token())
            .source_region(source_region.as_str())
            .source_image_id(source.as_str())
            .name(name)
            .send()
            .await
            .map_err(|e| classify("ec2:CopyImage", &self.endpoint, e))?;
        Ok(AmiId::from_aws(output.image_id.unwrap_or_default()))
    }

    /// Polls until the image is available (true), failed or gone (false), or the
    /// timeout passes (false).
    pub async fn wait_available(&self, id: &AmiId, timeout: std::time::Duration) -> Result<bool> {
        let started = std::time::Instant::now();
        loop {
            match self.image(id).await?.map(|i| i.state) {
                Some(state) if state == "available" => return Ok(true),
                Some(state) if state == "pending" => {}
                _ => return Ok(false),
            }
            if started.elapsed() >= timeout {
                return Ok(false);
            }
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        }
    }

    /// One image, or `None` when it does not exist here.
    pub async fn image(&self, id: &AmiId) -> Result<Option<Image>> {
        let images = self.images(std::slice::from_ref(id)).await?;
        Ok(images.into_iter().find(|image| &image.id == id))
    }

    pub async fn tag(&self, id: &AmiId, tags: &BTreeMap<String, String>) -> Result<()> {
        self.client
            .create_tags()
            .resources(id.as_str())
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| classify("ec2:CreateTags", &self.endpoint, e))?;
        Ok(())
    }

    pub async fn untag(&self, image: &AmiId, keys: &[&str]) -> Result<()> {
        self.client
            .delete_tags()
            .resources(image.as_str())
            .set_tags(Some(
                keys.iter()
                    .map(|k| Tag::builder().key(*k).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| classify("ec2:DeleteTags", &self.endpoint, e))?;
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
            let at = deprecation_time(crate::model::Timestamp::now().0);
            self.client
                .enable_image_deprecation()
                .image_id(image.as_str())
                .deprecate_at(aws_smithy_types::DateTime::from_secs(at))
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
}

/// When a deprecation "now" can take effect: EC2 refuses a DeprecateAt in the past
/// and rounds it to the minute, so the first whole minute at least a minute ahead.
fn deprecation_time(now: i64) -> i64 {
    (now + 60).div_euclid(60) * 60 + 60
}

fn image_from(image: aws_sdk_ec2::types::Image) -> Image {
    Image {
        id: AmiId::from_aws(image.image_id.unwrap_or_default()),
        name: image.name,
        state: image
            .state
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "unknown".into()),
        created: image
            .creation_date
            .as_deref()
            .and_then(Timestamp::parse_iso),
        tags: tags_from(image.tags),
        snapshots: image
            .block_device_mappings
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                let ebs = m.ebs?;
                Some((ebs.snapshot_id?, ebs.volume_size.unwrap_or_default()))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::operation::enable_image_deprecation::EnableImageDeprecationOutput;
    use aws_smithy_mocks::mock;

    use super::*;

    #[test]
    fn a_deprecation_is_set_to_a_whole_minute_at_least_a_minute_ahead() {
        for now in [1_796_000_000, 1_796_000_001, 1_796_000_059, 1_796_000_060] {
            let at = deprecation_time(now);
            assert_eq!(at % 60, 0, "{now}");
            assert!(at >= now + 60 && at <= now + 180, "{now} -> {at}");
        }
    }

    #[tokio::test]
    async fn revoke_asks_ec2_for_a_time_it_accepts() {
        let before = crate::model::Timestamp::now().0;
        let rule = mock!(aws_sdk_ec2::Client::enable_image_deprecation)
            .match_requests(move |request| {
                request.deprecate_at().is_some_and(|at| {
                    at.secs() % 60 == 0 && at.secs() >= before + 60 && at.secs() <= before + 240
                })
            })
            .then_output(|| {
                EnableImageDeprecationOutput::builder()
                    .r#return(true)
                    .build()
            });
        let ec2 = Ec2::new(
            crate::aws::mocked::ec2(&[&rule]),
            "https://ec2.eu-west-1.amazonaws.com".into(),
        );
        ec2.deprecate(&AmiId::from_aws("ami-0123456789abcdef0"), true)
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 1);
    }
}
