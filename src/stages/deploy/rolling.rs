//! The rolling strategy: kiln replaces the group's instances in batches and waits
//! for each batch to be in service and healthy in every target group before the
//! next. While enough of the group stays healthy (`--min-healthy`), a batch is
//! terminated and the group launches replacements; otherwise kiln first raises
//! the desired capacity by the batch, waits for the new instances, then removes as
//! many old ones. Instances already on the target version are never replaced
//! again, so a re-run after an interruption continues where it stopped.

use crate::effect::GroupChange;
use crate::error::Result;
use crate::poll::Poll;
use crate::teardown::Temporary;

use super::deployment::{Convergence, Deployment};
use super::watch::Snapshot;
use crate::config::Rollout;

/// What is in flight between two polls.
enum Phase {
    /// Nothing: look at the group and start the next batch (or finish).
    Idle,
    /// Waiting for this many healthy instances on the target version.
    Replacing { expect: usize },
    /// Capacity raised by `count`: waiting for `expect` healthy new instances,
    /// then `count` old ones go.
    Surging { count: usize, expect: usize },
}

/// Rolls the group to `version` (`None`: the version a dry run planned to make).
pub async fn run(d: &Deployment<'_>, version: Option<i64>) -> Result<Convergence> {
    let (ctx, rollout) = (d.ctx, d.rollout);
    let region = d.region();
    let first = d.snapshot(d.group()).await?;
    if d.only_planning() {
        // The plan: every old instance, batch by batch; nothing to wait for.
        let wanted = version.map(|v| v.to_string());
        for member in first.staying().filter(|m| m.version != wanted) {
            replace(d, member.id.clone(), false).await?;
        }
        return Ok(Convergence::Converged);
    }
    let version = crate::effect::made(version, "the launch template version rolled out")?;
    let base = first.group.desired;
    let original = (first.group.min, first.group.desired, first.group.max);
    let mut raised = None;
    let mut poll = Poll::new(rollout.timeout);
    let mut progress = ctx.ui.progress(format!(
        "rolling {} to launch template version {version}",
        rollout.group
    ));
    let mut phase = Phase::Idle;
    let mut snap = first;
    loop {
        let desired = base.max(1) as usize;
        let healthy_new = snap.healthy_on(version);
        progress.set_message(format!(
            "rolling {} to launch template version {version}: {healthy_new}/{desired} replaced and healthy",
            rollout.group
        ));
        progress.tick();
        phase = match phase {
            Phase::Idle => {
                let old: Vec<_> = snap
                    .staying()
                    .filter(|m| m.version.as_deref() != Some(version.to_string().as_str()))
                    .cloned()
                    .collect();
                if old.is_empty() && snap.converged_on(version) {
                    break;
                }
                if old.is_empty() {
                    Phase::Replacing { expect: desired }
                } else {
                    let count = rollout.batch.of(desired).min(old.len());
                    let healthy = snap.staying().filter(|m| m.healthy).count();
                    let keep = rollout.min_healthy.of_rounded_up(desired);
                    if healthy >= keep + count {
                        for member in old.iter().take(count) {
                            replace(d, member.id.clone(), false).await?;
                        }
                        Phase::Replacing {
                            expect: healthy_new + count,
                        }
                    } else {
                        let target = base + count as i32;
                        if raised.is_none() {
                            let held = Temporary::RaisedCapacity {
                                region: region.clone(),
                                group: rollout.group.clone(),
                                original,
                            };
                            // A rollback after a failed rollout gets the first
                            // raise back: its capacity is the one to restore.
                            raised = Some(ctx.teardown.hold(held));
                        }
                        d.apply(GroupChange::Update {
                            region: region.clone(),
                            group: rollout.group.clone(),
                            template: None,
                            capacity: Some((original.0, target, original.2.max(target))),
                        })
                        .await?;
                        Phase::Surging {
                            count,
                            expect: healthy_new + count,
                        }
                    }
                }
            }
            Phase::Replacing { expect } if healthy_new >= expect.min(desired) => Phase::Idle,
            Phase::Surging { count, expect } if healthy_new >= expect => {
                let old: Vec<_> = snap
                    .staying()
                    .filter(|m| m.version.as_deref() != Some(version.to_string().as_str()))
                    .take(count)
                    .map(|m| m.id.clone())
                    .collect();
                for id in old {
                    replace(d, id, true).await?;
                }
                Phase::Idle
            }
            waiting => waiting,
        };
        if matches!(phase, Phase::Idle) {
            snap = d.snapshot(d.group()).await?;
            continue;
        }
        if !poll.next().await {
            return Ok(Convergence::NotConverged {
                why: timeout_detail(&snap, version, rollout),
            });
        }
        snap = d.snapshot(d.group()).await?;
    }
    if let Some(held) = raised {
        // Back to the group's own maximum (the desired capacity already is).
        ctx.teardown.remove(&ctx.effects, &held).await?;
    }
    Ok(Convergence::Converged)
}

async fn replace(
    d: &Deployment<'_>,
    instance: crate::model::InstanceId,
    decrement: bool,
) -> Result<()> {
    d.apply(GroupChange::ReplaceInstance {
        region: d.region().clone(),
        instance: Some(instance),
        decrement,
    })
    .await?;
    Ok(())
}

/// Why a rollout did not converge, in numbers a person can check.
pub fn timeout_detail(snap: &Snapshot, version: i64, rollout: &Rollout) -> String {
    let on_new = snap.on_version(version).count();
    let healthy = snap.healthy_on(version);
    let unhealthy: Vec<String> = snap
        .on_version(version)
        .filter(|m| !m.healthy)
        .map(|m| m.id.to_string())
        .collect();
    let mut detail = format!(
        "not converged within {}: {healthy} of {} instances on version {version} are healthy ({on_new} launched)",
        rollout.timeout, snap.group.desired
    );
    if !unhealthy.is_empty() {
        detail.push_str(&format!("; not healthy: {}", unhealthy.join(", ")));
    }
    detail.push_str(&format!("; when it stopped, {}", by_version(snap)));
    detail
}

/// The group's instances by launch template version, newest first:
/// `the group had 2 on version 2, 4 on version 1`.
pub fn by_version(snap: &Snapshot) -> String {
    let mut counts: std::collections::BTreeMap<Option<i64>, usize> = Default::default();
    for member in snap.staying() {
        let version = member.version.as_deref().and_then(|v| v.parse().ok());
        *counts.entry(version).or_default() += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .rev()
        .map(|(version, n)| match version {
            Some(v) => format!("{n} on version {v}"),
            None => format!("{n} from no launch template version"),
        })
        .collect();
    if parts.is_empty() {
        return "the group had no instances".into();
    }
    format!("the group had {}", parts.join(", "))
}
