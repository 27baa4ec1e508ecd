//! EC2, the one module that calls it: images, the verify instance, launch
//! template versions, each in the file named after it, returning kiln's types.
//!
//! This file holds the client and what those files share: tag filters and tags
//! read back as a map.

mod images;
mod instances;
mod launch_templates;
mod template_data;

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::Filter;

pub use images::{Image, Reference};
pub use instances::{InstanceState, LIVE_STATES, LaunchSpec, TaggedInstance};
pub use launch_templates::TemplateVersion;

#[derive(Debug, Clone)]
pub struct Ec2 {
    client: Client,
    endpoint: String,
}

impl Ec2 {
    pub fn new(client: Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }
}

/// EC2 filters matching resources that carry every one of `tags`.
fn tag_filters(tags: &[(&str, &str)]) -> Vec<Filter> {
    tags.iter()
        .map(|(key, value)| {
            Filter::builder()
                .name(format!("tag:{key}"))
                .values(*value)
                .build()
        })
        .collect()
}

/// EC2 tags as a map; a tag without a key is dropped, one without a value is empty.
fn tags_from(tags: Option<Vec<aws_sdk_ec2::types::Tag>>) -> BTreeMap<String, String> {
    tags.unwrap_or_default()
        .into_iter()
        .filter_map(|t| Some((t.key?, t.value.unwrap_or_default())))
        .collect()
}
