//! What a group looks like now: its instances, which launch template version each
//! runs, and whether each is healthy in the group and in every target group.
//!
//! One snapshot costs one DescribeAutoScalingGroups and one DescribeTargetHealth
//! per target group, whatever the number of instances: a poll of 400 instances
//! makes as many calls as a poll of 4.
//!
//! It also says what an interrupted deploy or rollback left: after the teardown,
//! the group is read once more, so the message names the version it launches and
//! how many instances run which image, not "nothing was changed".

use std::collections::HashMap;

use std::collections::BTreeMap;

use crate::aws::autoscaling::Group;
use crate::config::Settings;
use crate::context::Context;
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

/// An interrupted deploy or rollback, told as the group is now; any other result,
/// or a group that cannot be read, as it is.
pub async fn explain_interruption<T>(
    ctx: &Context,
    settings: &Settings,
    result: Result<T>,
) -> Result<T> {
    let (fleet, command) = match settings {
        Settings::Deploy(s) => (&s.fleet, "deploy"),
        Settings::Rollback(s) => (&s.fleet, "rollback"),
        _ => return result,
    };
    let signal = match &result {
        Err(Error::Interrupted { signal, .. }) if !ctx.effects.only_planning() => signal.clone(),
        _ => return result,
    };
    // Groups roll out one after another: the one caught halfway is the one with
    // instances on several versions; else the first.
    let mut told = None;
    for group in &fleet.groups {
        if let Ok(Some((launches, running))) = left_running(ctx, group).await {
            let halfway = running.len() > 1;
            if told.is_none() || halfway {
                told = Some((group, launches, running));
            }
            if halfway {
                break;
            }
        }
    }
    match told {
        Some((group, launches, running)) => Err(Error::DeployInterrupted {
            signal,
            command: command.into(),
            group: group.to_string(),
            launches,
            running,
        }),
        None => result,
    }
}

/// What the group launches (`TEMPLATE version N`) and its instances by version
/// and image (`2 on version 5 (ami-…)`), newest version first.
async fn left_running(ctx: &Context, name: &GroupName) -> Result<Option<(String, Vec<String>)>> {
    let region = ctx.region();
    let what = format!(
        "autoscaling:DescribeAutoScalingGroups {name} and ec2:DescribeLaunchTemplateVersions of its instances' versions"
    );
    ctx.reader()
        .read(&region, what, |aws| async move {
            let Some(group) = aws.autoscaling.group(name).await? else {
                return Ok(None);
            };
            let Some((template, set)) = group.template.clone() else {
                return Ok(None);
            };
            let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
            let mut unknown = 0;
            for instance in group.instances.iter().filter(|i| {
                matches!(
                    i.lifecycle.as_str(),
                    "InService" | "Pending" | "Pending:Wait" | "Pending:Proceed"
                )
            }) {
                match instance.version.as_deref().and_then(|v| v.parse().ok()) {
                    Some(v) => *counts.entry(v).or_default() += 1,
                    None => unknown += 1,
                }
            }
            let mut running = Vec::new();
            for (version, count) in counts.iter().rev() {
                let image = aws
                    .ec2
                    .template_version(&template, &version.to_string())
                    .await?
                    .and_then(|v| v.image)
                    .map_or("an unknown image".to_string(), |i| i.to_string());
                running.push(format!("{count} on version {version} ({image})"));
            }
            if unknown > 0 {
                running.push(format!("{unknown} from no launch template version"));
            }
            if running.is_empty() {
                running.push("none running".into());
            }
            Ok(Some((format!("{template} version {set}"), running)))
        })
        .await
}
