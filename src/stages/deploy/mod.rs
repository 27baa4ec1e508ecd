//! `kiln deploy` and `kiln rollback`: an image from the registry rolled out to an
//! Auto Scaling group, waited on, and rolled back when it does not become healthy.
//!
//! Order: the gate (tested channel, not revoked) → a `Deployment` → the lock → a
//! launch template version pinning the AMI → the strategy (`rolling`,
//! `instance_refresh`, `blue_green`), which ends `Converged` or `NotConverged` → on
//! success the production channel moves to the version and the image is marked
//! deployed; otherwise the group goes back to the previous version and production
//! stays where it was.

mod blue_green;
mod deployment;
mod github;
mod instance_refresh;
mod lock;
mod offline;
mod rolling;
mod template;
mod terraform;
mod watch;

use std::collections::BTreeMap;

use serde_json::json;

use crate::aws::autoscaling::Group;
use crate::aws::ec2::Image;
use crate::config::{DeploySettings, RollbackSettings};
use crate::context::Context;
use crate::effect::unknown_offline;
use crate::error::{Error, Result, RollbackOutcome};
use crate::model::{ImageRef, RunId, Strategy, Timestamp};
use crate::provenance::tag;
use crate::registry::{Entry, Registry};
use crate::report::Outcome;

use deployment::{Command, Convergence, Deployment, subject, tested_gate};
pub use watch::explain_interruption;

pub async fn deploy(ctx: &Context, settings: &DeploySettings) -> Result<Outcome> {
    let rollout = &settings.rollout;
    let region = ctx.region();
    let reference = settings.reference.clone();
    let registry = ctx.registry(&region)?;
    let entry = unknown_offline(registry.resolve_usable(&reference).await)?;
    if let Some(entry) = &entry {
        let force = settings.force;
        tested_gate(ctx, &registry, &reference, entry, force, Command::Deploy).await?;
    }
    let deployment = Deployment {
        ctx,
        rollout,
        region,
        command: Command::Deploy,
        registry,
        reference,
        entry,
    };
    run(&deployment).await
}

pub async fn rollback(ctx: &Context, settings: &RollbackSettings) -> Result<Outcome> {
    let rollout = &settings.rollout;
    let region = ctx.region();
    let registry = ctx.registry(&region)?;
    let production = &ctx.config.channels.production;
    let (reference, entry) = match &settings.to {
        Some(reference) => {
            let entry = unknown_offline(registry.resolve_usable(reference).await)?;
            (reference.clone(), entry)
        }
        // Without AWS access there is no telling which image that is: the plan
        // ends at the history read.
        None => {
            let (reference, entry) = previous_production(ctx, &registry).await?;
            (reference, Some(entry))
        }
    };
    // The tested gate is skipped for images that were in production before; any
    // other image must be on the tested channel, as for a deploy.
    if let Some(entry) = &entry {
        let deployed_before = entry.image_tags.contains_key(tag::DEPLOYED);
        tested_gate(
            ctx,
            &registry,
            &reference,
            entry,
            deployed_before,
            Command::Rollback,
        )
        .await?;
        // Say what the image is: one that ran in production, or one only tested.
        let was = if deployed_before {
            format!("was {production} before")
        } else {
            format!("on {}, never in {production}", ctx.config.channels.tested)
        };
        ctx.ui.note(format!(
            "rolling {} back to {} ({was})",
            rollout.group,
            subject(entry)
        ));
    }
    let deployment = Deployment {
        ctx,
        rollout,
        region,
        command: Command::Rollback,
        registry,
        reference,
        entry,
    };
    run(&deployment).await
}

/// The newest image that went to production before the one there now.
async fn previous_production(ctx: &Context, registry: &Registry) -> Result<(ImageRef, Entry)> {
    let role = crate::model::Role::App;
    let production = &ctx.config.channels.production;
    let Some(history) = registry.history(role).await? else {
        return Err(Error::NothingToRollBack {
            detail: format!("{} has no versions", registry.parameter(role)),
        });
    };
    let current = history
        .iter()
        .find(|v| v.labels.iter().any(|l| l == production.as_str()))
        .map(|v| v.ami_id.clone());
    let ids: Vec<_> = history.iter().map(|v| v.ami_id.clone()).collect();
    let images = registry.images(&ids).await?;
    let mut candidates: Vec<(Timestamp, &crate::registry::VersionRecord, &Image)> = history
        .iter()
        .filter(|v| Some(&v.ami_id) != current.as_ref())
        .filter_map(|v| {
            let image = images.get(&v.ami_id)?;
            if image.tags.contains_key(tag::REVOKED) {
                return None;
            }
            let at = Timestamp::parse_iso(image.tags.get(tag::DEPLOYED)?)?;
            Some((at, v, image))
        })
        .collect();
    candidates.sort_by_key(|(at, v, _)| (std::cmp::Reverse(*at), std::cmp::Reverse(v.version)));
    let Some((_, record, image)) = candidates.first() else {
        return Err(Error::NothingToRollBack {
            detail: format!(
                "no image of {} other than the current {production} one was ever deployed",
                registry.parameter(role)
            ),
        });
    };
    let reference = ImageRef {
        role,
        selector: crate::model::Selector::Version(record.version),
    };
    // History and images are read already: no second lookup of the same version.
    let entry = Entry {
        role,
        version: record.version,
        ami_id: record.ami_id.clone(),
        parameter: registry.parameter(role),
        region: registry.region().clone(),
        image_tags: Default::default(),
    };
    let entry = registry.usable(entry, Some((*image).clone()))?;
    Ok((reference, entry))
}

/// The rollout itself, shared by deploy and rollback.
async fn run(d: &Deployment<'_>) -> Result<Outcome> {
    let what = format!("autoscaling:DescribeAutoScalingGroups {}", d.group());
    let group = unknown_offline(
        d.read(
            what,
            |aws| async move { aws.autoscaling.group(d.group()).await },
        )
        .await,
    )?;
    let group = match group {
        Some(Some(group)) => group,
        Some(None) => {
            return Err(Error::GroupNotFound {
                group: d.group().to_string(),
                region: d.region().to_string(),
            });
        }
        None => return offline::plan(d).await,
    };
    template::check_launches_from_template(d, &group)?;
    let run_id = RunId::new();
    let lock = lock::take(d, &run_id).await?;
    let record = github::start(d).await;
    let result = rollout_and_promote(d, &group).await;
    let (state, description) = match &result {
        Ok(_) => (
            crate::github::DeploymentState::Success,
            format!("{} runs on {}", d.subject(), d.group()),
        ),
        Err(error) => (crate::github::DeploymentState::Failure, error.to_string()),
    };
    record.set(d, state, &description).await;
    // Done either way: the lock goes now. A failed release leaves it held, and the
    // teardown tries once more and reports it (exit 3).
    if let Some(lock) = lock {
        let _ = d.ctx.teardown.remove(&d.ctx.effects, &lock).await;
    }
    result
}

async fn rollout_and_promote(d: &Deployment<'_>, group: &Group) -> Result<Outcome> {
    let (ctx, rollout) = (d.ctx, d.rollout);
    let (versions, convergence) = match rollout.strategy {
        Strategy::BlueGreen => blue_green::run(d, group).await?,
        Strategy::Rolling | Strategy::InstanceRefresh | Strategy::None => {
            let versions = match &rollout.via_terraform {
                Some(dir) => terraform::apply(d, group, dir).await?,
                None => template::prepare(d, group).await?,
            };
            template::point_new(d, &versions).await?;
            let convergence = match rollout.strategy {
                Strategy::InstanceRefresh => instance_refresh::run(d, &versions).await?,
                Strategy::None => Convergence::Converged,
                _ => rolling::run(d, versions.new).await?,
            };
            (versions, convergence)
        }
    };
    if let Convergence::NotConverged { why } = convergence {
        let outcome = if !rollout.rollback_on_failure {
            RollbackOutcome::NotAsked
        } else {
            roll_back(d, &versions).await?
        };
        return Err(Error::DeployFailed {
            group: rollout.group.to_string(),
            detail: why,
            rollback: outcome,
        });
    }

    let production = &ctx.config.channels.production;
    let mut promoted = false;
    if let Some(entry) = &d.entry
        && rollout.promote
    {
        let applied = ctx
            .effects
            .apply(
                d.registry
                    .promote(d.reference.role, Some(entry.version), production),
            )
            .await?;
        promoted = applied.done();
        let marked = BTreeMap::from([(tag::DEPLOYED.to_string(), Timestamp::now().rfc3339())]);
        ctx.effects
            .apply(d.registry.tag_image(Some(&entry.ami_id), marked))
            .await?;
    }
    let command = d.command.as_str();
    let what = d.subject();
    let new = versions
        .new
        .map_or("(the new version)".to_string(), |v| v.to_string());
    let moved = match (&d.entry, promoted) {
        (Some(entry), true) => format!("; {production} -> {}:{}", d.reference.role, entry.version),
        _ => String::new(),
    };
    // `--strategy none`: the group launches the image; its instances are not replaced.
    let (runs, kept) = template::wording(rollout.strategy, group);
    let mut step_outputs = vec![("asg", rollout.group.to_string())];
    if let Some(new) = versions.new {
        step_outputs.push(("launch-template-version", new.to_string()));
    }
    if let Some(entry) = &d.entry {
        step_outputs.push(("ami-id", entry.ami_id.to_string()));
        step_outputs.push(("version", entry.version.to_string()));
    }
    if promoted {
        step_outputs.push(("channel", production.to_string()));
    }
    Ok(Outcome {
        summary: Some(format!(
            "### kiln {command}\n\n`{}` {runs} `{what}` (launch template `{}` version {new}, {} strategy){}{kept}\n",
            rollout.group,
            versions.template,
            rollout.strategy,
            if promoted {
                format!("; `{production}` moved to it")
            } else {
                String::new()
            }
        )),
        done: format!(
            "{command}: {} {runs} {what} (launch template {} version {new}){moved}{kept}\n",
            rollout.group, versions.template,
        ),
        json: json!({
            "command": command,
            "asg": rollout.group,
            "strategy": rollout.strategy,
            "reference": d.reference.to_string(),
            "ami_id": d.image(),
            "version": d.entry.as_ref().map(|e| e.version),
            "launch_template": versions.template,
            "launch_template_version": versions.new,
            "previous_launch_template_version": versions.previous,
            "resumed": !versions.created,
            "promoted_to": promoted.then(|| production.to_string()),
        }),
        step_outputs,
        ..Outcome::default()
    })
}

/// After a failed rollout: the group back on the previous version, its instances
/// replaced again, production untouched.
async fn roll_back(d: &Deployment<'_>, versions: &template::Versions) -> Result<RollbackOutcome> {
    d.ctx.ui.note(format!(
        "rolling {} back to launch template version {}",
        d.group(),
        versions.previous
    ));
    let convergence = match d.rollout.strategy {
        // Nothing to undo: the failed new group was deleted (see `blue_green`) and
        // the old one never stopped serving.
        Strategy::BlueGreen => Convergence::Converged,
        Strategy::InstanceRefresh => instance_refresh::roll_back(d, versions).await?,
        Strategy::Rolling => {
            template::point(d, &versions.template, Some(versions.previous)).await?;
            rolling::run(d, Some(versions.previous)).await?
        }
        // `none` always converges: nothing to roll back (listed for the compiler).
        Strategy::None => Convergence::Converged,
    };
    Ok(match convergence {
        Convergence::Converged => RollbackOutcome::Done(versions.previous.to_string()),
        Convergence::NotConverged { why } => RollbackOutcome::Failed(why),
    })
}
