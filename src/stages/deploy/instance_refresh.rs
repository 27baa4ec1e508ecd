//! The instance-refresh strategy: AWS replaces the instances (with the
//! preferences from the flags), kiln starts the refresh with the new launch
//! template version as the desired configuration and waits for its outcome.
//!
//! The emulator keeps refreshes as state but replaces no instance, so a refresh
//! never finishes there: this path is tested at the SDK level with
//! aws-smithy-mocks (see `tests` below).

use crate::aws::autoscaling::RefreshSpec;
use crate::context::Context;
use crate::effect::{Applied, Change, RolloutChange};
use crate::error::Result;
use crate::poll::Poll;
use crate::teardown::Temporary;

use super::settings::Rollout;
use super::template::Versions;

pub async fn run(
    ctx: &Context,
    rollout: &Rollout,
    versions: &Versions,
) -> Result<Result<(), String>> {
    let spec = RefreshSpec {
        template: versions.template.clone(),
        version: versions.new,
        min_healthy_percent: rollout.min_healthy.0 as i32,
        max_healthy_percent: rollout.max_healthy.map(|p| p.0 as i32),
        instance_warmup: rollout.warmup,
        checkpoints: rollout.checkpoints.clone(),
        skip_matching: rollout.skip_matching,
        auto_rollback: rollout.rollback_on_failure,
    };
    let started = ctx
        .effects
        .apply(Change::Rollout(RolloutChange::StartRefresh {
            region: rollout.region.clone(),
            group: rollout.group.clone(),
            spec,
        }))
        .await?;
    let Applied::Refresh(id) = started else {
        return Ok(Ok(()));
    };
    let held = Temporary::Refresh {
        region: rollout.region.clone(),
        group: rollout.group.clone(),
    };
    ctx.teardown.hold(held.clone());
    let outcome = wait(ctx, rollout, &id, "Successful").await;
    // Finished, failed or timed out: nothing to cancel (a rollback may follow).
    ctx.teardown.keep(&held);
    outcome
}

/// Waits until refresh `id` reaches `goal`; `Err` with why when it ends otherwise.
async fn wait(
    ctx: &Context,
    rollout: &Rollout,
    id: &str,
    goal: &str,
) -> Result<Result<(), String>> {
    let autoscaling = ctx.aws_autoscaling(&rollout.region);
    let mut poll = Poll::new(rollout.timeout);
    let mut progress = ctx
        .ui
        .progress(format!("instance refresh {id} of {}", rollout.group));
    loop {
        let refreshes = autoscaling.refreshes(&rollout.group).await?;
        let current = refreshes.iter().find(|r| r.id == id);
        if let Some(refresh) = current {
            progress.set_message(format!(
                "instance refresh {id} of {}: {} ({}% done)",
                rollout.group, refresh.status, refresh.percent
            ));
            progress.tick();
            if refresh.status == goal {
                return Ok(Ok(()));
            }
            if !refresh.active() {
                let reason = refresh
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                return Ok(Err(format!(
                    "instance refresh {id} ended {}{reason}",
                    refresh.status
                )));
            }
        }
        if !poll.next().await {
            return Ok(Err(format!(
                "instance refresh {id} did not finish within {}",
                rollout.timeout
            )));
        }
    }
}

/// After a failed refresh: nothing to do if AWS already rolled it back; roll an
/// active one back; otherwise point the group at the previous version and refresh
/// to it.
pub async fn roll_back(
    ctx: &Context,
    rollout: &Rollout,
    versions: &Versions,
) -> Result<Result<(), String>> {
    let refreshes = ctx
        .aws_autoscaling(&rollout.region)
        .refreshes(&rollout.group)
        .await?;
    let latest = refreshes.first().cloned();
    match latest {
        Some(refresh) if refresh.status == "RollbackSuccessful" => Ok(Ok(())),
        Some(refresh) if refresh.active() => {
            ctx.effects
                .apply(Change::Rollout(RolloutChange::RollbackRefresh {
                    region: rollout.region.clone(),
                    group: rollout.group.clone(),
                }))
                .await?;
            wait(ctx, rollout, &refresh.id, "RollbackSuccessful").await
        }
        _ => {
            super::template::point(ctx, rollout, &versions.template, versions.previous).await?;
            let back = Versions {
                new: versions.previous,
                ..versions.clone()
            };
            let mut again = rollout.clone();
            again.rollback_on_failure = false;
            run(ctx, &again, &back).await
        }
    }
}

#[cfg(test)]
mod tests;
