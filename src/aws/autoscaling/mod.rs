//! Auto Scaling, the one module that calls it: groups, instance refreshes and
//! launch configurations, each in the file named after it, returning kiln's types.

mod groups;
mod launch_configurations;
mod mixed;
mod refreshes;

use aws_sdk_autoscaling::Client;
use aws_sdk_autoscaling::types::LaunchTemplateSpecification;

pub use groups::{Group, GroupInstance, NewGroup};
pub use refreshes::{Refresh, RefreshSpec};

use crate::model::LaunchTemplateId;

#[derive(Debug, Clone)]
pub struct AutoScaling {
    client: Client,
    endpoint: String,
}

impl AutoScaling {
    pub fn new(client: Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }
}

/// A launch template pinned to one version number, as a group or refresh names it.
fn template_spec(template: &LaunchTemplateId, version: i64) -> LaunchTemplateSpecification {
    LaunchTemplateSpecification::builder()
        .launch_template_id(template.as_str())
        .version(version.to_string())
        .build()
}
