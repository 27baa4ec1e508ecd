//! Instance refreshes: Auto Scaling replacing a group's instances itself, which
//! the instance-refresh strategy starts, watches, cancels or rolls back, and which
//! the deploy lock counts as a holder while one is active.

use aws_sdk_autoscaling::types::{DesiredConfiguration, RefreshPreferences};

use super::{AutoScaling, template_spec};
use crate::aws::classify;
use crate::error::Result;
use crate::model::{GroupName, LaunchTemplateId};

/// An instance refresh as Auto Scaling reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    pub id: String,
    /// `Pending`, `InProgress`, `Successful`, `Failed`, `Cancelling`, `Cancelled`,
    /// `RollbackInProgress`, `RollbackFailed`, `RollbackSuccessful`, `Baking`.
    pub status: String,
    pub percent: i32,
    pub reason: Option<String>,
}

impl Refresh {
    pub fn active(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Pending" | "InProgress" | "Cancelling" | "RollbackInProgress" | "Baking"
        )
    }
}

/// What `StartInstanceRefresh` is asked to do.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefreshSpec {
    pub template: LaunchTemplateId,
    pub version: i64,
    pub min_healthy_percent: i32,
    pub max_healthy_percent: Option<i32>,
    pub instance_warmup: Option<i32>,
    pub checkpoints: Vec<i32>,
    pub skip_matching: bool,
    pub auto_rollback: bool,
    /// The group's mixed instances policy, when it has one: the refresh's desired
    /// configuration is that policy on `version` (its overrides kept).
    #[serde(skip)]
    pub mixed: Option<aws_sdk_autoscaling::types::MixedInstancesPolicy>,
}

impl AutoScaling {
    /// The group's most recent instance refreshes, newest first.
    pub async fn refreshes(&self, name: &GroupName) -> Result<Vec<Refresh>> {
        let output = self
            .client
            .describe_instance_refreshes()
            .auto_scaling_group_name(name.as_str())
            .max_records(5)
            .send()
            .await
            .map_err(|e| classify("autoscaling:DescribeInstanceRefreshes", &self.endpoint, e))?;
        Ok(output
            .instance_refreshes
            .unwrap_or_default()
            .into_iter()
            .map(|r| Refresh {
                id: r.instance_refresh_id.unwrap_or_default(),
                status: r
                    .status
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "Unknown".into()),
                percent: r.percentage_complete.unwrap_or_default(),
                reason: r.status_reason,
            })
            .collect())
    }

    /// Starts a refresh to `spec`'s version; a mixed group's desired configuration
    /// is its policy with that version (a bare launch template would replace it).
    pub async fn start_refresh(&self, name: &GroupName, spec: &RefreshSpec) -> Result<String> {
        let desired = match spec.mixed.clone() {
            Some(policy) => DesiredConfiguration::builder().mixed_instances_policy(
                super::mixed::with_version(policy, &spec.template, spec.version),
            ),
            None => DesiredConfiguration::builder()
                .launch_template(template_spec(&spec.template, spec.version)),
        };
        let preferences = RefreshPreferences::builder()
            .min_healthy_percentage(spec.min_healthy_percent)
            .set_max_healthy_percentage(spec.max_healthy_percent)
            .set_instance_warmup(spec.instance_warmup)
            .set_checkpoint_percentages(
                Some(spec.checkpoints.clone()).filter(|c: &Vec<i32>| !c.is_empty()),
            )
            .skip_matching(spec.skip_matching)
            .auto_rollback(spec.auto_rollback)
            .build();
        let output = self
            .client
            .start_instance_refresh()
            .auto_scaling_group_name(name.as_str())
            .desired_configuration(desired.build())
            .preferences(preferences)
            .send()
            .await
            .map_err(|e| classify("autoscaling:StartInstanceRefresh", &self.endpoint, e))?;
        Ok(output.instance_refresh_id.unwrap_or_default())
    }

    pub async fn cancel_refresh(&self, name: &GroupName) -> Result<()> {
        self.client
            .cancel_instance_refresh()
            .auto_scaling_group_name(name.as_str())
            .send()
            .await
            .map_err(|e| classify("autoscaling:CancelInstanceRefresh", &self.endpoint, e))?;
        Ok(())
    }

    pub async fn rollback_refresh(&self, name: &GroupName) -> Result<()> {
        self.client
            .rollback_instance_refresh()
            .auto_scaling_group_name(name.as_str())
            .send()
            .await
            .map_err(|e| classify("autoscaling:RollbackInstanceRefresh", &self.endpoint, e))?;
        Ok(())
    }
}
