//! The instance-refresh strategy: AWS replaces the instances (with the
//! preferences from the flags), kiln starts the refresh with the new launch
//! template version as the desired configuration and waits for its outcome.
//!
//! The emulator keeps refreshes as state but replaces no instance, so a refresh
//! never finishes there: this path is tested at the SDK level with
//! aws-smithy-mocks (see `tests` below).

use crate::aws::autoscaling::RefreshSpec;
use crate::effect::{Applied, GroupChange};
use crate::error::Result;
use crate::poll::Poll;
use crate::teardown::Temporary;

use super::deployment::{Convergence, Deployment};
use super::template::Versions;

pub async fn run(d: &Deployment<'_>, versions: &Versions) -> Result<Convergence> {
    let (ctx, rollout) = (d.ctx, d.rollout);
    let Some(version) = versions.new else {
        // A dry run that only planned the version: the refresh's spec needs it.
        return Ok(Convergence::Converged);
    };
    let spec = RefreshSpec {
        template: versions.template.clone(),
        version,
        min_healthy_percent: rollout.min_healthy.0 as i32,
        max_healthy_percent: rollout.max_healthy.map(|p| p.0 as i32),
        instance_warmup: rollout.warmup,
        checkpoints: rollout.checkpoints.clone(),
        skip_matching: rollout.skip_matching,
        auto_rollback: rollout.rollback_on_failure,
        mixed: versions.mixed.clone(),
    };
    let started = d
        .apply(GroupChange::StartRefresh {
            region: d.region().clone(),
            group: rollout.group.clone(),
            spec,
        })
        .await?;
    let Applied::Refresh(id) = started else {
        return Ok(Convergence::Converged);
    };
    let held = Temporary::Refresh {
        region: d.region().clone(),
        group: rollout.group.clone(),
    };
    ctx.teardown.hold(held.clone());
    let outcome = wait(d, &id, "Successful").await;
    // Finished, failed or timed out: nothing to cancel (a rollback may follow).
    ctx.teardown.keep(&held);
    outcome
}

/// Waits until refresh `id` reaches `goal`; `Err` with why when it ends otherwise.
async fn wait(d: &Deployment<'_>, id: &str, goal: &str) -> Result<Convergence> {
    let (ctx, rollout) = (d.ctx, d.rollout);
    let mut poll = Poll::new(rollout.timeout);
    let mut progress = ctx
        .ui
        .progress(format!("instance refresh {id} of {}", rollout.group));
    loop {
        let refreshes = refreshes(d).await?;
        let current = refreshes.iter().find(|r| r.id == id);
        if let Some(refresh) = current {
            progress.set_message(format!(
                "instance refresh {id} of {}: {} ({}% done)",
                rollout.group, refresh.status, refresh.percent
            ));
            progress.tick();
            if refresh.status == goal {
                return Ok(Convergence::Converged);
            }
            if !refresh.active() {
                let reason = refresh
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                return Ok(Convergence::NotConverged {
                    why: format!("instance refresh {id} ended {}{reason}", refresh.status),
                });
            }
        }
        if !poll.next().await {
            return Ok(Convergence::NotConverged {
                why: format!(
                    "instance refresh {id} did not finish within {}",
                    rollout.timeout
                ),
            });
        }
    }
}

/// After a failed refresh: nothing to do if AWS already rolled it back; roll an
/// active one back; otherwise point the group at the previous version and refresh
/// to it.
pub async fn roll_back(d: &Deployment<'_>, versions: &Versions) -> Result<Convergence> {
    let latest = refreshes(d).await?.first().cloned();
    match latest {
        Some(refresh) if refresh.status == "RollbackSuccessful" => Ok(Convergence::Converged),
        Some(refresh) if refresh.active() => {
            d.apply(GroupChange::RollbackRefresh {
                region: d.region().clone(),
                group: d.group().clone(),
            })
            .await?;
            wait(d, &refresh.id, "RollbackSuccessful").await
        }
        _ => {
            super::template::point(d, &versions.template, Some(versions.previous)).await?;
            let back = Versions {
                new: Some(versions.previous),
                ..versions.clone()
            };
            let mut again = d.rollout.clone();
            again.rollback_on_failure = false;
            let d = Deployment {
                rollout: &again,
                region: d.region.clone(),
                registry: d.registry.clone(),
                reference: d.reference.clone(),
                entry: d.entry.clone(),
                pin: d.pin.clone(),
                ..*d
            };
            run(&d, &back).await
        }
    }
}

/// The group's instance refreshes, newest first.
async fn refreshes(d: &Deployment<'_>) -> Result<Vec<crate::aws::autoscaling::Refresh>> {
    let what = format!("autoscaling:DescribeInstanceRefreshes {}", d.group());
    d.read(what, |aws| async move {
        aws.autoscaling.refreshes(d.group()).await
    })
    .await
}

#[cfg(test)]
mod tests;
