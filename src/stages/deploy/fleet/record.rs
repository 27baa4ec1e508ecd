//! The ledger's records of a fleet run: the start record (what each group and the
//! channel were before), the channel moves on success, and writing a record.

use std::collections::BTreeMap;

use super::{Member, Run};
use crate::effect::ParameterChange;
use crate::error::Result;
use crate::ledger::{ChannelMove, DeployRecord, GroupRecord, Outcome as Ended};
use crate::model::{Region, RunId, Timestamp};
use crate::provenance::tag;

use super::super::deployment::{Command, Deployment};

/// The channel's version in each region before the deploy, when it may move.
pub(super) async fn channels_before(
    run: &Run<'_>,
    deployments: &[Deployment<'_>],
    promote: bool,
) -> Result<Vec<ChannelMove>> {
    let mut moves = Vec::new();
    if !promote {
        return Ok(moves);
    }
    for d in deployments {
        if moves.iter().any(|m: &ChannelMove| &m.region == d.region()) {
            continue;
        }
        let before = d
            .registry
            .channel_version(d.reference.role, &run.fleet.channel)
            .await?;
        moves.push(ChannelMove {
            region: d.region().clone(),
            name: run.fleet.channel.to_string(),
            before,
            after: None,
        });
    }
    Ok(moves)
}

/// Moves the environment's channel in each region to the image deployed there (or,
/// for a rollback to an image not in the registry, takes it off the version it was on).
pub(super) async fn move_channels(
    run: &Run<'_>,
    members: &[Member<'_, '_>],
    record: &mut DeployRecord,
) -> Result<()> {
    let mut done: Vec<&Region> = Vec::new();
    for member in members {
        let d = member.d;
        if done.contains(&d.region()) {
            continue;
        }
        done.push(d.region());
        let slot = record.channels.iter_mut().find(|m| &m.region == d.region());
        match &d.entry {
            Some(entry) => {
                d.apply(d.registry.promote(
                    d.reference.role,
                    Some(entry.version),
                    &run.fleet.channel,
                ))
                .await?;
                if run.command == Command::Deploy {
                    let marked =
                        BTreeMap::from([(tag::DEPLOYED.to_string(), Timestamp::now().rfc3339())]);
                    d.apply(d.registry.tag_image(Some(&entry.ami_id), marked))
                        .await?;
                }
                if let Some(slot) = slot {
                    slot.after = Some(entry.version);
                }
            }
            None => {
                if let Some(ChannelMove {
                    before: Some(version),
                    ..
                }) = slot
                {
                    d.apply(ParameterChange::Unlabel {
                        region: d.region().clone(),
                        name: d.registry.parameter(d.reference.role),
                        version: *version,
                        labels: vec![run.fleet.channel.clone()],
                    })
                    .await?;
                }
            }
        }
    }
    Ok(())
}

pub(super) fn start_record(
    run: &Run<'_>,
    first: &Deployment<'_>,
    run_id: &RunId,
    members: &[Member<'_, '_>],
    channels: Vec<ChannelMove>,
) -> DeployRecord {
    let ci = &run.ctx.config.ci;
    DeployRecord {
        id: run_id.to_string(),
        environment: run.fleet.environment.clone(),
        command: run.command.as_str().to_string(),
        outcome: Ended::InProgress,
        // A rollback to an image the registry does not hold has no reference: its AMI.
        reference: match (&first.entry, &first.pin) {
            (None, Some(_)) => first.subject(),
            _ => first.reference.to_string(),
        },
        role: first.reference.role,
        version: first.entry.as_ref().map(|e| e.version),
        ami_id: first
            .image()
            .cloned()
            .or(first.pin.as_ref().and_then(|p| p.ami_id.clone())),
        strategy: first.rollout.strategy,
        groups: members
            .iter()
            .map(|m| GroupRecord {
                region: m.d.region().clone(),
                group: m.d.group().clone(),
                before: m.before.clone(),
                after: None,
            })
            .collect(),
        channels,
        undoes: run.undoes.clone(),
        who: super::super::lock::actor(ci),
        started: Timestamp::now(),
        ended: None,
        commit: ci.provenance.git_sha.clone(),
        build_url: ci.provenance.build_url.clone(),
        detail: None,
    }
}

/// Adds the record to the environment's ledger (in the primary region's registry).
pub(super) async fn write(first: &Deployment<'_>, record: &DeployRecord) -> Result<()> {
    let registry = first.ctx.registry(&first.ctx.region())?;
    first.apply(registry.record(record)?).await?;
    Ok(())
}
