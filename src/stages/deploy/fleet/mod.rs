//! A deploy or rollback of a fleet: every group of an environment (or the ones
//! named), in every region of it, one group after another, as one change.
//!
//! Order: read every group and what it launches now (the ledger's "before") →
//! take every group's lock → the start record → each group's rollout → if one
//! does not converge, it goes back and so does every group that already changed
//! → on success the environment's channel moves (only when the whole environment
//! was deployed) → the end record → the locks go. A signal or an error on the way
//! leaves the start record as the truth ("in progress"), which rollback reads.

use crate::aws::autoscaling::Group;
use crate::config::Fleet;
use crate::context::Context;
use crate::effect::unknown_offline;
use crate::error::{Error, Result, RollbackOutcome};
use crate::ledger::{DeployRecord, Launch, Outcome as Ended};
use crate::model::{RunId, Strategy, Timestamp};
use crate::report::Outcome;
use crate::teardown::Temporary;

use super::deployment::{Command, Convergence, Deployment};
use super::template::{self, Versions};

mod record;
mod report;

use record::{channels_before, move_channels, start_record, write};
use report::{groups_named, offline, report};

/// One group of the fleet, as it was before kiln touched it.
struct Member<'a, 'd> {
    d: &'d Deployment<'a>,
    group: Group,
    before: Launch,
}

/// A group that changed: what it was set to, for the report, the ledger and an undo.
struct Changed {
    versions: Versions,
    after: Launch,
}

/// What the fleet run is for: the command, and for a rollback from the ledger the
/// deploy it undoes.
pub struct Run<'a> {
    pub ctx: &'a Context,
    pub fleet: &'a Fleet,
    pub command: Command,
    pub undoes: Option<String>,
}

pub async fn run(run: &Run<'_>, deployments: &[Deployment<'_>]) -> Result<Outcome> {
    let ctx = run.ctx;
    let Some(first) = deployments.first() else {
        return Err(Error::NoGroup);
    };
    let promote = first.rollout.promote && run.fleet.whole;
    // Read every group first: a missing one stops the deploy before any change.
    let mut members = Vec::new();
    for d in deployments {
        let what = format!("autoscaling:DescribeAutoScalingGroups {}", d.group());
        let read = d.read(
            what,
            |aws| async move { aws.autoscaling.group(d.group()).await },
        );
        match unknown_offline(read.await)? {
            Some(Some(group)) => {
                let before = before(d, &group).await?;
                members.push(Member { d, group, before });
            }
            Some(None) => {
                return Err(Error::GroupNotFound {
                    group: d.group().to_string(),
                    region: d.region().to_string(),
                });
            }
            // Without AWS access: the plan of every group's changes.
            None => return offline(run, deployments, promote).await,
        }
    }
    let channels = channels_before(run, deployments, promote).await?;

    let run_id = RunId::new();
    let mut locks: Vec<Temporary> = Vec::new();
    for member in &members {
        locks.extend(super::lock::take(member.d, &run_id).await?);
    }
    let mut record = start_record(run, first, &run_id, &members, channels);
    write(first, &record).await?;
    let github = super::github::start(first).await;

    let result = roll_out_all(run, &members, &mut record, promote).await;
    let (state, description) = match &result {
        Ok(_) => (
            crate::github::DeploymentState::Success,
            format!("{} runs on {}", first.subject(), groups_named(&members)),
        ),
        Err(error) => (crate::github::DeploymentState::Failure, error.to_string()),
    };
    record.ended = Some(Timestamp::now());
    if let Err(error) = &result {
        if record.outcome == Ended::InProgress {
            record.outcome = Ended::Failed;
        }
        record.detail = Some(error.to_string());
    }
    // The end record is written whatever happened; failing to write it is a
    // warning on a finished deploy (the start record stays the truth).
    if let Err(error) = write(first, &record).await {
        crate::ui::warn(format!("the deploy record was not completed: {error}"));
    }
    github.set(first, state, &description).await;
    // Done either way: the locks go now. A failed release leaves one held, and the
    // teardown tries once more and reports it (exit 3).
    for lock in locks.iter().rev() {
        let _ = ctx.teardown.remove(&ctx.effects, lock).await;
    }
    let changed = result?;
    Ok(report(run, &members, &changed, &record))
}

/// Every group's rollout, one after another; on a failure every changed group goes back.
async fn roll_out_all(
    run: &Run<'_>,
    members: &[Member<'_, '_>],
    record: &mut DeployRecord,
    promote: bool,
) -> Result<Vec<Changed>> {
    let mut changed: Vec<Changed> = Vec::new();
    for (index, member) in members.iter().enumerate() {
        let d = member.d;
        let (versions, convergence) = super::roll_out(d, &member.group).await?;
        if let Convergence::NotConverged { why } = convergence {
            let failed_back = if d.rollout.rollback_on_failure {
                super::roll_back(d, &versions).await?
            } else {
                RollbackOutcome::NotAsked
            };
            let mut all_back = matches!(failed_back, RollbackOutcome::Done(_));
            let mut detail = why;
            if d.rollout.rollback_on_failure {
                for (earlier, done) in members[..index].iter().zip(&changed).rev() {
                    match undo(earlier.d, &done.versions).await {
                        Ok(Convergence::Converged) => detail.push_str(&format!(
                            "; {} went back to launch template version {}",
                            earlier.d.group(),
                            done.versions.previous
                        )),
                        Ok(Convergence::NotConverged { why }) => {
                            all_back = false;
                            detail.push_str(&format!(
                                "; {} did not go back to launch template version {}: {why}",
                                earlier.d.group(),
                                done.versions.previous
                            ));
                        }
                        Err(error) => {
                            all_back = false;
                            detail.push_str(&format!(
                                "; {} did not go back: {error}",
                                earlier.d.group()
                            ));
                        }
                    }
                }
            }
            record.outcome = if all_back {
                Ended::FailedRolledBack
            } else {
                Ended::Failed
            };
            return Err(Error::DeployFailed {
                group: d.group().to_string(),
                detail,
                rollback: failed_back,
            });
        }
        if run.command == Command::Rollback && d.rollout.strategy != Strategy::BlueGreen {
            check_back(d, &versions).await?;
        }
        let after = Launch {
            template: versions.template.clone(),
            version: versions.new.unwrap_or_default(),
            ami_id: d
                .image()
                .cloned()
                .or(d.pin.as_ref().and_then(|p| p.ami_id.clone())),
        };
        if let Some(group) = record
            .groups
            .iter_mut()
            .find(|g| &g.region == d.region() && &g.group == d.group())
        {
            group.after = versions.new.map(|_| after.clone());
        }
        changed.push(Changed { versions, after });
    }
    if promote {
        move_channels(run, members, record).await?;
    }
    record.outcome = match run.command {
        Command::Deploy => Ended::Deployed,
        Command::Rollback => Ended::RolledBack,
    };
    Ok(changed)
}

/// What a group launches now: its template version and the image in it.
async fn before(d: &Deployment<'_>, group: &Group) -> Result<Launch> {
    let named = if d.rollout.strategy == Strategy::BlueGreen {
        super::blue_green::live(d, group).await?
    } else {
        group.clone()
    };
    let current = template::current(d, &named).await?;
    Ok(Launch {
        template: current.template,
        version: current.number,
        ami_id: current.image,
    })
}

/// A group that converged goes back to the version it ran, with its own strategy.
async fn undo(d: &Deployment<'_>, versions: &Versions) -> Result<Convergence> {
    let mut again = d.rollout.clone();
    again.rollback_on_failure = false;
    let pinned = Deployment {
        rollout: &again,
        region: d.region.clone(),
        registry: d.registry.clone(),
        reference: d.reference.clone(),
        entry: None,
        pin: Some(Launch {
            template: versions.template.clone(),
            version: versions.previous,
            ami_id: None,
        }),
        command: Command::Rollback,
        ctx: d.ctx,
    };
    d.ctx.ui.note(format!(
        "returning {} to launch template version {}",
        d.group(),
        versions.previous
    ));
    let what = format!("autoscaling:DescribeAutoScalingGroups {}", d.group());
    let group = pinned
        .read(
            what,
            |aws| async move { aws.autoscaling.group(d.group()).await },
        )
        .await?
        .ok_or_else(|| Error::GroupNotFound {
            group: d.group().to_string(),
            region: d.region().to_string(),
        })?;
    Ok(super::roll_out(&pinned, &group).await?.1)
}

/// After a rollback's rollout: the group launches the version, and every instance
/// that stays runs it; otherwise the rollback is not reported done.
async fn check_back(d: &Deployment<'_>, versions: &Versions) -> Result<()> {
    let Some(version) = versions.new else {
        return Ok(());
    };
    if d.only_planning() {
        return Ok(());
    }
    let snap = d.snapshot(d.group()).await?;
    let incomplete = |detail: String| Error::RollbackIncomplete {
        group: d.group().to_string(),
        region: d.region().to_string(),
        detail,
    };
    match &snap.group.template {
        Some((template, set)) if template == &versions.template && set == &version.to_string() => {}
        Some((template, set)) => {
            return Err(incomplete(format!(
                "launches {template} version {set}, not version {version}"
            )));
        }
        None => return Err(incomplete("has no launch template".into())),
    }
    let others: Vec<String> = snap
        .staying()
        .filter(|m| m.version.as_deref() != Some(version.to_string().as_str()))
        .map(|m| {
            format!(
                "{} (version {})",
                m.id,
                m.version.as_deref().unwrap_or("unknown")
            )
        })
        .collect();
    if !others.is_empty() {
        return Err(incomplete(format!(
            "still runs {} instance(s) on another version: {}",
            others.len(),
            others.join(", ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
