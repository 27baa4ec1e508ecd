//! What a group looks like now: its instances, which launch template version each
//! runs, and whether each is healthy in the group and in every target group.
//!
//! One snapshot costs one DescribeAutoScalingGroups and one DescribeTargetHealth
//! per target group, whatever the number of instances: a poll of 400 instances
//! makes as many calls as a poll of 4.

use std::collections::HashMap;

use crate::aws::autoscaling::Group;
use crate::error::{Error, Result};
use crate::model::{GroupName, InstanceId};

use super::deployment::Deployment;

/// One instance of the group.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: InstanceId,
    pub version: Option<String>,
    /// InService, healthy for the group, and healthy in every target group.
    pub healthy: bool,
    /// On its way out (Terminating, Detaching, …).
    pub leaving: bool,
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub group: Group,
    pub members: Vec<Member>,
}

impl Snapshot {
    /// Instances that stay (not on their way out).
    pub fn staying(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| !m.leaving)
    }

    pub fn on_version(&self, version: i64) -> impl Iterator<Item = &Member> {
        let wanted = version.to_string();
        self.staying()
            .filter(move |m| m.version.as_deref() == Some(wanted.as_str()))
    }

    pub fn healthy_on(&self, version: i64) -> usize {
        self.on_version(version).filter(|m| m.healthy).count()
    }

    /// Converged: exactly the desired number of instances, all on `version` and healthy.
    pub fn converged_on(&self, version: i64) -> bool {
        let staying = self.staying().count();
        staying == self.group.desired as usize && self.healthy_on(version) == staying
    }
}

/// Reads the group and its target groups' health.
pub async fn snapshot(d: &Deployment<'_>, name: &GroupName) -> Result<Snapshot> {
    let what = format!(
        "autoscaling:DescribeAutoScalingGroups {name} and elasticloadbalancing:DescribeTargetHealth of its target groups"
    );
    let (group, target_states) = d
        .read(what, |aws| async move {
            let group = aws.autoscaling.group(name).await?;
            let mut target_states: Vec<HashMap<InstanceId, String>> = Vec::new();
            if let Some(group) = &group {
                for target_group in &group.target_groups {
                    target_states.push(aws.elb.target_states(target_group).await?);
                }
            }
            Ok((group, target_states))
        })
        .await?;
    let group = group.ok_or_else(|| Error::GroupNotFound {
        group: name.to_string(),
        region: d.region().to_string(),
    })?;
    let members = group
        .instances
        .iter()
        .map(|i| {
            let in_target_groups = target_states
                .iter()
                .all(|states| states.get(&i.id).is_some_and(|s| s == "healthy"));
            Member {
                id: i.id.clone(),
                version: i.version.clone(),
                healthy: i.lifecycle == "InService" && i.healthy && in_target_groups,
                leaving: !matches!(
                    i.lifecycle.as_str(),
                    "InService" | "Pending" | "Pending:Wait" | "Pending:Proceed"
                ),
            }
        })
        .collect();
    Ok(Snapshot { group, members })
}
