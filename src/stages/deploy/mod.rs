//! `kiln deploy` and `kiln rollback`: an image from the registry rolled out to the
//! Auto Scaling groups of an environment, waited on, and rolled back when one does
//! not become healthy.
//!
//! Order: the gate (tested channel, or the `after` environment's; not revoked) → a
//! `Deployment` per group and region → `fleet` (locks, the ledger, each group's
//! rollout in turn) → per group a launch template version pinning the AMI → the
//! strategy (`rolling`, `instance_refresh`, `blue_green`), which ends `Converged`
//! or `NotConverged` → on success the environment's channel moves and the image is
//! marked deployed; otherwise every changed group goes back and the channel stays.
//! `kiln rollback` without `--to` returns the groups to what the ledger says they
//! ran before the newest deploy (`undo`).

mod blue_green;
mod cloudformation;
mod deployment;
mod fleet;
mod github;
mod instance_refresh;
mod lock;
mod offline;
mod rolling;
mod template;
mod terraform;
mod undo;
mod watch;

use std::collections::BTreeMap;

use crate::aws::autoscaling::Group;
use crate::config::{DeploySettings, Fleet, RollbackSettings, Rollout};
use crate::context::Context;
use crate::effect::unknown_offline;
use crate::error::{Result, RollbackOutcome};
use crate::model::{ImageRef, Region, Strategy};
use crate::provenance::tag;
use crate::registry::Entry;
use crate::report::Outcome;

use deployment::{Command, Convergence, Deployment, subject, tested_gate};
use template::Versions;
pub use watch::explain_interruption;

pub async fn deploy(ctx: &Context, settings: &DeploySettings) -> Result<Outcome> {
    let fleet = &settings.fleet;
    let reference = &settings.reference;
    let registry = ctx.registry(&ctx.region())?;
    let entry = unknown_offline(registry.resolve_usable(reference).await)?;
    if let Some(entry) = &entry {
        // An environment after another takes what ran there; the others take what was tested.
        let gate = match &fleet.after {
            Some((after, channel)) => {
                deployment::after_gate(&registry, reference, entry, fleet, after, channel).await
            }
            None => tested_gate(ctx, &registry, reference, entry, false, Command::Deploy).await,
        };
        match gate {
            Err(refused) if settings.force => crate::ui::warn(format!(
                "--force: deploying anyway, though {}",
                refused.to_string().replace(" is not on", " was not on")
            )),
            other => other?,
        }
    }
    roll_out_image(
        ctx,
        fleet,
        &settings.rollout,
        reference,
        entry,
        Command::Deploy,
    )
    .await
}

pub async fn rollback(ctx: &Context, settings: &RollbackSettings) -> Result<Outcome> {
    let fleet = &settings.fleet;
    let Some(reference) = &settings.to else {
        return undo::from_ledger(ctx, settings).await;
    };
    let registry = ctx.registry(&ctx.region())?;
    let entry = unknown_offline(registry.resolve_usable(reference).await)?;
    // The tested gate is skipped for images that were deployed before; any
    // other image must be on the tested channel, as for a deploy.
    if let Some(entry) = &entry {
        let deployed_before = entry.image_tags.contains_key(tag::DEPLOYED);
        tested_gate(
            ctx,
            &registry,
            reference,
            entry,
            deployed_before,
            Command::Rollback,
        )
        .await?;
        // Say what the image is: one that was deployed, or one only tested.
        let channel = &fleet.channel;
        let was = if deployed_before {
            format!("was {channel} before")
        } else {
            format!("on {}, never in {channel}", ctx.config.channels.tested)
        };
        ctx.ui.note(format!(
            "rolling {} back to {} ({was})",
            fleet.group_names(),
            subject(entry)
        ));
    }
    roll_out_image(
        ctx,
        fleet,
        &settings.rollout,
        reference,
        entry,
        Command::Rollback,
    )
    .await
}

/// REF to every group of the fleet in every region, as one fleet run.
async fn roll_out_image(
    ctx: &Context,
    fleet: &Fleet,
    rollout: &Rollout,
    reference: &ImageRef,
    entry: Option<Entry>,
    command: Command,
) -> Result<Outcome> {
    let entries = region_entries(ctx, fleet, reference, entry).await?;
    let rollouts = rollouts(ctx, fleet, rollout);
    let deployments = rollouts
        .iter()
        .map(|(region, rollout)| {
            Ok(Deployment {
                ctx,
                rollout,
                region: region.clone(),
                command,
                registry: ctx.registry(region)?,
                reference: reference.clone(),
                entry: entries.get(region).cloned().flatten(),
                pin: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let run = fleet::Run {
        ctx,
        fleet,
        command,
        undoes: None,
    };
    fleet::run(&run, &deployments).await
}

/// The regions of a fleet: its own, else the primary one.
fn regions(ctx: &Context, fleet: &Fleet) -> Vec<Region> {
    if fleet.regions.is_empty() {
        vec![ctx.region()]
    } else {
        fleet.regions.clone()
    }
}

/// Each group of the fleet in each of its regions, with its rollout settings.
fn rollouts(ctx: &Context, fleet: &Fleet, rollout: &Rollout) -> Vec<(Region, Rollout)> {
    regions(ctx, fleet)
        .into_iter()
        .flat_map(|region| {
            fleet.groups.iter().map(move |group| {
                (
                    region.clone(),
                    Rollout {
                        group: group.clone(),
                        ..rollout.clone()
                    },
                )
            })
        })
        .collect()
}

/// The image in each region of the fleet: the primary's as resolved, the others'
/// from their own registry (each region holds its own copy's id).
async fn region_entries(
    ctx: &Context,
    fleet: &Fleet,
    reference: &ImageRef,
    primary: Option<Entry>,
) -> Result<BTreeMap<Region, Option<Entry>>> {
    let mut entries = BTreeMap::new();
    for region in regions(ctx, fleet) {
        let entry = if region == ctx.region() {
            primary.clone()
        } else {
            let registry = ctx.registry(&region)?;
            unknown_offline(registry.resolve_usable(reference).await)?
        };
        entries.insert(region, entry);
    }
    Ok(entries)
}

/// One group's rollout with its strategy: the version it rolls out and how it ended.
async fn roll_out(d: &Deployment<'_>, group: &Group) -> Result<(Versions, Convergence)> {
    let rollout = d.rollout;
    Ok(match rollout.strategy {
        Strategy::BlueGreen => blue_green::run(d, group).await?,
        Strategy::Rolling | Strategy::InstanceRefresh | Strategy::None => {
            // A rollback to an exact version goes through neither stack.
            let versions = match (&rollout.via_terraform, &rollout.via_cloudformation) {
                (Some(dir), _) if d.pin.is_none() => terraform::apply(d, group, dir).await?,
                (_, Some(stack)) if d.pin.is_none() => {
                    cloudformation::apply(d, group, stack).await?
                }
                _ => template::prepare(d, group).await?,
            };
            template::point_new(d, &versions).await?;
            let convergence = match rollout.strategy {
                Strategy::InstanceRefresh => instance_refresh::run(d, &versions).await?,
                Strategy::None => Convergence::Converged,
                _ => rolling::run(d, versions.new).await?,
            };
            (versions, convergence)
        }
    })
}

/// After a failed rollout: the group back on the previous version, its instances
/// replaced again, production untouched.
async fn roll_back(d: &Deployment<'_>, versions: &Versions) -> Result<RollbackOutcome> {
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
