//! `kiln rollback` without `--to`: every group back to exactly what it ran before
//! the newest deploy of the environment, as the deploy ledger recorded it (the
//! launch template version, so the image and every other setting), whoever or
//! whatever changed the group since. A group that kiln never deployed through the
//! ledger (deploys of an older kiln) falls back to the newest other image that was
//! in production, as before.

use crate::aws::ec2::Image;
use crate::config::RollbackSettings;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::ledger::{DeployRecord, GroupRecord};
use crate::model::{ImageRef, Region, Role, Selector, Timestamp};
use crate::provenance::tag;
use crate::registry::{Entry, Registry};
use crate::report::Outcome;

use super::deployment::{Command, Deployment, subject};
use super::fleet;

pub async fn from_ledger(ctx: &Context, settings: &RollbackSettings) -> Result<Outcome> {
    let fleet = &settings.fleet;
    let registry = ctx.registry(&ctx.region())?;
    // Without AWS access there is no telling what the groups ran: the plan ends
    // at this read.
    let records = registry.ledger(&fleet.environment).await?;
    let regions = super::regions(ctx, fleet);
    let wanted = |g: &GroupRecord| fleet.groups.contains(&g.group) && regions.contains(&g.region);
    let Some(record) = records
        .iter()
        .map(|(_, r)| r)
        .find(|r| r.undoable() && r.groups.iter().any(wanted))
    else {
        if records.is_empty() && fleet.channel == ctx.config.channels.production {
            return legacy(ctx, settings, &registry).await;
        }
        return Err(Error::NothingToRollBack {
            detail: format!(
                "no deploy of {} to {} is recorded in {}",
                fleet.environment,
                fleet.group_names(),
                registry.ledger_parameter(&fleet.environment)
            ),
        });
    };
    ctx.ui.note(format!(
        "rolling {} back to what it ran before deploy {} of {} ({}, started {} by {})",
        fleet.environment,
        record.id,
        record.reference,
        record.outcome.as_str(),
        record.started.rfc3339(),
        record.who
    ));
    let groups: Vec<&GroupRecord> = record.groups.iter().filter(|g| wanted(g)).collect();
    let rollouts: Vec<(Region, crate::config::Rollout)> = groups
        .iter()
        .map(|g| {
            (
                g.region.clone(),
                crate::config::Rollout {
                    group: g.group.clone(),
                    ..settings.rollout.clone()
                },
            )
        })
        .collect();
    let mut deployments = Vec::new();
    for ((region, rollout), group) in rollouts.iter().zip(&groups) {
        let registry = ctx.registry(region)?;
        let entry = match &group.before.ami_id {
            Some(ami) => registered(&registry, record, ami).await?,
            None => None,
        };
        let reference = entry.as_ref().map_or(
            ImageRef {
                role: record.role,
                selector: Selector::Latest,
            },
            |e| ImageRef {
                role: e.role,
                selector: Selector::Version(e.version),
            },
        );
        let d = Deployment {
            ctx,
            rollout,
            region: region.clone(),
            command: Command::Rollback,
            registry,
            reference,
            entry,
            pin: Some(group.before.clone()),
        };
        ctx.ui.note(format!(
            "{} returns to launch template {} version {}: {}",
            group.group,
            group.before.template,
            group.before.version,
            d.subject()
        ));
        deployments.push(d);
    }
    let run = fleet::Run {
        ctx,
        fleet,
        command: Command::Rollback,
        undoes: Some(record.id.clone()),
    };
    fleet::run(&run, &deployments).await
}

/// The registry's newest version holding `ami`, usable (not revoked), if any.
async fn registered(
    registry: &Registry,
    record: &DeployRecord,
    ami: &crate::model::AmiId,
) -> Result<Option<Entry>> {
    let Some(history) = registry.history(record.role).await? else {
        return Ok(None);
    };
    let Some(found) = history.iter().find(|v| &v.ami_id == ami) else {
        return Ok(None);
    };
    let entry = Entry {
        role: record.role,
        version: found.version,
        ami_id: found.ami_id.clone(),
        parameter: registry.parameter(record.role),
        region: registry.region().clone(),
        image_tags: Default::default(),
    };
    let image = registry.image(ami).await?;
    // A revoked image is still what ran: the rollback returns to it, but the
    // channel is not moved onto it.
    Ok(registry.usable(entry, image).ok())
}

/// No ledger yet: the newest image that went to production before the one there now.
async fn legacy(
    ctx: &Context,
    settings: &RollbackSettings,
    registry: &Registry,
) -> Result<Outcome> {
    let (reference, entry) = previous_production(ctx, registry).await?;
    ctx.ui.note(format!(
        "rolling {} back to {} (was {} before)",
        settings.rollout.group,
        subject(&entry),
        settings.fleet.channel
    ));
    let deployment = Deployment {
        ctx,
        rollout: &settings.rollout,
        region: ctx.region(),
        command: Command::Rollback,
        registry: registry.clone(),
        reference,
        entry: Some(entry),
        pin: None,
    };
    let run = fleet::Run {
        ctx,
        fleet: &settings.fleet,
        command: Command::Rollback,
        undoes: None,
    };
    fleet::run(&run, std::slice::from_ref(&deployment)).await
}

/// The newest image that went to production before the one there now.
async fn previous_production(ctx: &Context, registry: &Registry) -> Result<(ImageRef, Entry)> {
    let role = Role::App;
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
