//! EC2 calls kiln makes, returning kiln's types.
//!
//! Images are looked up with an `image-id` filter rather than `ImageIds`: with ids,
//! one missing image fails the whole call; with the filter it is simply absent, so
//! any number of images costs one paginated call.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, Tag};

use super::classify;
use crate::error::Result;
use crate::model::{AmiId, Region, Timestamp};

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

#[derive(Debug, Clone)]
pub struct Ec2 {
    pub(super) client: Client,
    pub(super) endpoint: String,
}

impl Ec2 {
    pub fn new(client: Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }

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
}

/// EC2 filters matching resources that carry every one of `tags`.
pub(super) fn tag_filters(tags: &[(&str, &str)]) -> Vec<Filter> {
    tags.iter()
        .map(|(key, value)| {
            Filter::builder()
                .name(format!("tag:{key}"))
                .values(*value)
                .build()
        })
        .collect()
}

pub(super) fn image_from(image: aws_sdk_ec2::types::Image) -> Image {
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
        tags: super::ec2_tags(image.tags),
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
