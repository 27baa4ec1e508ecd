//! ELBv2 target health: whether a group's instances serve traffic.
//!
//! One DescribeTargetHealth per target group lists every target in it, so a poll
//! costs one call per target group however many instances the group has.

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::Client;

use super::classify;
use crate::error::Result;
use crate::model::{InstanceId, TargetGroupArn};

#[derive(Debug, Clone)]
pub struct Elb {
    pub(super) client: Client,
    pub(super) endpoint: String,
}

impl Elb {
    pub fn new(client: Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }

    /// Each registered target's state (`healthy`, `initial`, `unhealthy`,
    /// `draining`, …) in one target group.
    pub async fn target_states(
        &self,
        target_group: &TargetGroupArn,
    ) -> Result<HashMap<InstanceId, String>> {
        let output = self
            .client
            .describe_target_health()
            .target_group_arn(target_group.as_str())
            .send()
            .await
            .map_err(|e| {
                classify(
                    "elasticloadbalancing:DescribeTargetHealth",
                    &self.endpoint,
                    e,
                )
            })?;
        Ok(output
            .target_health_descriptions
            .unwrap_or_default()
            .into_iter()
            .filter_map(|d| {
                let id = d.target?.id?;
                let state = d
                    .target_health
                    .and_then(|h| h.state)
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "unknown".into());
                Some((InstanceId::from_aws(id), state))
            })
            .collect())
    }
}
