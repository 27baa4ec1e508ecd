//! `kiln deploy` and `kiln rollback`: an image from the registry rolled out to an
//! Auto Scaling group, waited on, and rolled back when it does not become healthy.
//!
//! Order: the gate (tested channel, not revoked) → the lock → a launch template
//! version pinning the AMI → the strategy (`rolling`, `instance_refresh`,
//! `blue_green`) → on success the production channel moves to the version and the
//! image is marked deployed; on failure the group goes back to the previous
//! version and production stays where it was.

mod blue_green;
mod github;
mod instance_refresh;
mod lock;
mod rolling;
mod template;
mod terraform;
mod watch;

use std::collections::BTreeMap;

use serde_json::json;

use crate::aws::ec2::Image;
use crate::config::{DeploySettings, RollbackSettings, Rollout};
use crate::context::Context;
use crate::effect::Applied;
use crate::error::{Error, Result, RollbackOutcome};
use crate::model::{ImageRef, RunId, Strategy, Timestamp};
use crate::provenance::tag;
use crate::registry::{Entry, Registry};
use crate::report::Outcome;

pub async fn deploy(ctx: &Context, settings: &DeploySettings) -> Result<Outcome> {
    let rollout = settings.rollout.in_region(ctx.region());
    let tested = &ctx.config.channels.tested;
    let reference = settings.reference.clone();
    let registry = ctx.registry(&rollout.region)?;
    let entry = ctx.resolve_usable(&registry, &reference).await?;
    if let Some(entry) = &entry
        && !settings.force
    {
        // `app:tested` (the default) was resolved through the label: no second read.
        let on_tested = match &reference.selector {
            crate::model::Selector::Channel(channel) if channel == tested => Some(entry.version),
            _ => registry.channel_version(reference.role, tested).await?,
        };
        if on_tested != Some(entry.version) {
            return Err(Error::NotTested {
                subject: subject(entry),
                channel: tested.to_string(),
                role: reference.role.to_string(),
            });
        }
    }
    run(
        ctx,
        &rollout,
        &registry,
        &reference,
        entry.as_ref(),
        "deploy",
    )
    .await
}

pub async fn rollback(ctx: &Context, settings: &RollbackSettings) -> Result<Outcome> {
    let rollout = settings.rollout.in_region(ctx.region());
    let registry = ctx.registry(&rollout.region)?;
    let production = &ctx.config.channels.production;
    let (reference, entry) = match &settings.to {
        Some(reference) => {
            let entry = ctx.resolve_usable(&registry, reference).await?;
            (reference.clone(), entry)
        }
        None => match ctx
            .effects
            .read(
                format!(
                    "ssm:GetParameterHistory {}",
                    registry.parameter(crate::model::Role::App)
                ),
                previous_production(ctx, &registry),
            )
            .await?
        {
            Some(found) => found,
            // An offline dry run: the plan says what would be read.
            None => return Ok(offline_outcome("rollback", &rollout)),
        },
    };
    // The tested gate is skipped for images that were in production before; any
    // other image must be on the tested channel, as for a deploy.
    if let Some(entry) = &entry {
        let deployed_before = entry.image_tags.contains_key(tag::DEPLOYED);
        let on_tested = registry
            .channel_version(reference.role, &ctx.config.channels.tested)
            .await?;
        if !deployed_before && on_tested != Some(entry.version) {
            return Err(Error::NotTested {
                subject: subject(entry),
                channel: ctx.config.channels.tested.to_string(),
                role: reference.role.to_string(),
            });
        }
        ctx.ui.note(format!(
            "rolling {} back to {} (was {production} before)",
            rollout.group,
            subject(entry)
        ));
    }
    run(
        ctx,
        &rollout,
        &registry,
        &reference,
        entry.as_ref(),
        "rollback",
    )
    .await
}

/// The newest image that went to production before the one there now.
async fn previous_production(
    ctx: &Context,
    registry: &Registry,
) -> Result<(ImageRef, Option<Entry>)> {
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
    Ok((reference, Some(entry)))
}

/// What a dry run without AWS access can say: the plan holds the reads.
fn offline_outcome(command: &str, rollout: &Rollout) -> Outcome {
    Outcome {
        json: json!({
            "command": command,
            "asg": rollout.group,
            "strategy": rollout.strategy,
        }),
        ..Outcome::default()
    }
}

fn subject(entry: &Entry) -> String {
    format!("{} ({}:{})", entry.ami_id, entry.role, entry.version)
}

/// The rollout itself, shared by deploy and rollback.
async fn run(
    ctx: &Context,
    rollout: &Rollout,
    registry: &Registry,
    reference: &ImageRef,
    entry: Option<&Entry>,
    command: &str,
) -> Result<Outcome> {
    let what = entry.map_or_else(|| reference.to_string(), subject);
    let run_id = RunId::new();
    let group = ctx
        .effects
        .read(
            format!("autoscaling:DescribeAutoScalingGroups {}", rollout.group),
            ctx.aws_autoscaling(&rollout.region).group(&rollout.group),
        )
        .await?;
    let group = match group {
        Some(Some(group)) => group,
        Some(None) => {
            return Err(Error::GroupNotFound {
                group: rollout.group.to_string(),
                region: rollout.region.to_string(),
            });
        }
        // An offline dry run: the plan says what would be read.
        None => return Ok(offline_outcome(command, rollout)),
    };
    let lock = lock::take(ctx, rollout, &run_id, &what).await?;
    let record = github::start(ctx, rollout, entry, command).await;
    let result = rollout_and_promote(
        ctx, rollout, registry, reference, entry, command, &group, &what,
    )
    .await;
    let (state, description) = match &result {
        Ok(_) => (
            crate::github::DeploymentState::Success,
            format!("{what} runs on {}", rollout.group),
        ),
        Err(error) => (crate::github::DeploymentState::Failure, error.to_string()),
    };
    record.set(ctx, rollout, state, &description).await;
    // Done either way: the lock goes now. A failed release leaves it held, and the
    // teardown tries once more and reports it (exit 3).
    if let Some(lock) = lock {
        let _ = ctx.teardown.remove(&ctx.effects, &lock).await;
    }
    result
}

#[allow(clippy::too_many_arguments)]
async fn rollout_and_promote(
    ctx: &Context,
    rollout: &Rollout,
    registry: &Registry,
    reference: &ImageRef,
    entry: Option<&Entry>,
    command: &str,
    group: &crate::aws::autoscaling::Group,
    what: &str,
) -> Result<Outcome> {
    let image = entry.map(|e| &e.ami_id);
    let (versions, result) = match rollout.strategy {
        Strategy::BlueGreen => blue_green::run(ctx, rollout, group, image, what).await?,
        Strategy::Rolling | Strategy::InstanceRefresh => {
            let versions = match &rollout.via_terraform {
                Some(dir) => terraform::apply(ctx, rollout, group, dir, image).await?,
                None => template::prepare(ctx, rollout, group, image, what).await?,
            };
            template::point(ctx, rollout, &versions.template, versions.new).await?;
            let result = match rollout.strategy {
                Strategy::InstanceRefresh => instance_refresh::run(ctx, rollout, &versions).await?,
                _ => rolling::run(ctx, rollout, versions.new).await?,
            };
            (versions, result)
        }
    };
    if let Err(detail) = result {
        let outcome = if !rollout.rollback_on_failure {
            RollbackOutcome::NotAsked
        } else {
            roll_back(ctx, rollout, &versions).await?
        };
        return Err(Error::DeployFailed {
            group: rollout.group.to_string(),
            detail,
            rollback: outcome,
        });
    }

    let production = &ctx.config.channels.production;
    let mut promoted = false;
    if let Some(entry) = entry
        && rollout.promote
    {
        let applied = ctx
            .effects
            .apply(registry.promote(reference.role, Some(entry.version), production))
            .await?;
        promoted = applied != Applied::Planned;
        let marked = BTreeMap::from([(tag::DEPLOYED.to_string(), Timestamp::now().rfc3339())]);
        ctx.effects
            .apply(registry.tag_image(Some(&entry.ami_id), marked))
            .await?;
    }
    let done = !ctx.effects.dry_run();
    let text = if done {
        format!(
            "{command}: {} runs {what} (launch template {} version {}){}\n",
            rollout.group,
            versions.template,
            versions.new,
            if promoted {
                format!(
                    "; {production} -> {}:{}",
                    reference.role,
                    entry.map_or(0, |e| e.version.0)
                )
            } else {
                String::new()
            }
        )
    } else {
        String::new()
    };
    let mut step_outputs = vec![
        ("asg", rollout.group.to_string()),
        ("launch-template-version", versions.new.to_string()),
    ];
    if let Some(entry) = entry {
        step_outputs.push(("ami-id", entry.ami_id.to_string()));
        step_outputs.push(("version", entry.version.to_string()));
    }
    if promoted {
        step_outputs.push(("channel", production.to_string()));
    }
    Ok(Outcome {
        summary: done.then(|| {
            format!(
                "### kiln {command}\n\n`{}` runs `{what}` (launch template `{}` version {}, {} strategy){}\n",
                rollout.group,
                versions.template,
                versions.new,
                rollout.strategy,
                if promoted { format!("; `{production}` moved to it") } else { String::new() }
            )
        }),
        text,
        json: json!({
            "command": command,
            "asg": rollout.group,
            "strategy": rollout.strategy,
            "reference": reference.to_string(),
            "ami_id": entry.map(|e| e.ami_id.clone()),
            "version": entry.map(|e| e.version),
            "launch_template": versions.template,
            "launch_template_version": versions.new,
            "previous_launch_template_version": versions.previous,
            "resumed": !versions.created,
            "promoted_to": promoted.then(|| production.to_string()),
        }),
        step_outputs,
        failure: None,
    })
}

/// After a failed rollout: the group back on the previous version, its instances
/// replaced again, production untouched.
async fn roll_back(
    ctx: &Context,
    rollout: &Rollout,
    versions: &template::Versions,
) -> Result<RollbackOutcome> {
    ctx.ui.note(format!(
        "rolling {} back to launch template version {}",
        rollout.group, versions.previous
    ));
    let outcome = match rollout.strategy {
        // Nothing to undo: the failed new group was deleted (see `blue_green`) and
        // the old one never stopped serving.
        Strategy::BlueGreen => Ok(()),
        Strategy::InstanceRefresh => instance_refresh::roll_back(ctx, rollout, versions).await?,
        Strategy::Rolling => {
            template::point(ctx, rollout, &versions.template, versions.previous).await?;
            rolling::run(ctx, rollout, versions.previous).await?
        }
    };
    Ok(match outcome {
        Ok(()) => RollbackOutcome::Done(versions.previous.to_string()),
        Err(why) => RollbackOutcome::Failed(why),
    })
}
