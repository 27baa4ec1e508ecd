//! One deployment: which image goes to which group, how, and for which command,
//! with the reads and changes of the deployment's region in one place, so the
//! strategies read top to bottom without reaching back for clients.

use std::future::Future;

use crate::context::Context;
use crate::effect::{Applied, Change, Services};
use crate::error::{Error, Result};
use crate::ledger::Launch;
use crate::model::{AmiId, GroupName, ImageRef, Region};
use crate::registry::{Entry, Registry};

use super::watch::Snapshot;
use crate::config::Rollout;

/// deploy or rollback: the same rollout, worded for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Deploy,
    Rollback,
}

impl Command {
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Deploy => "deploy",
            Command::Rollback => "rollback",
        }
    }
}

/// How a strategy's rollout ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Convergence {
    /// Every instance runs the new version and is healthy.
    Converged,
    /// It did not get there (timed out, a refresh failed, …): why, in numbers.
    NotConverged { why: String },
}

pub struct Deployment<'a> {
    pub ctx: &'a Context,
    pub rollout: &'a Rollout,
    /// Where the group is: the primary region.
    pub region: Region,
    pub command: Command,
    pub registry: Registry,
    pub reference: ImageRef,
    /// The image; `None` in a dry run without AWS access, and when a rollback
    /// returns a group to a launch template version whose image is not in the registry.
    pub entry: Option<Entry>,
    /// A rollback's or undo's exact launch template version: no new version is
    /// made, the group goes back to this one (see `template::prepare`).
    pub pin: Option<Launch>,
}

impl Deployment<'_> {
    pub fn region(&self) -> &Region {
        &self.region
    }

    pub fn group(&self) -> &GroupName {
        &self.rollout.group
    }

    pub fn image(&self) -> Option<&AmiId> {
        self.entry.as_ref().map(|e| &e.ami_id)
    }

    /// The image and its registry version, as messages name it.
    pub fn subject(&self) -> String {
        match (&self.entry, &self.pin) {
            (Some(entry), _) => subject(entry),
            (None, Some(pin)) => match &pin.ami_id {
                Some(ami) => format!("{ami} (not in the registry)"),
                None => format!("launch template version {}", pin.version),
            },
            (None, None) => self.reference.to_string(),
        }
    }

    /// A read in the deployment's region (see `effect::Reader`).
    pub async fn read<T, F, Fut>(&self, what: impl Into<String>, read: F) -> Result<T>
    where
        F: FnOnce(Services) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.ctx.reader().read(self.region(), what, read).await
    }

    /// A change, through the effect gate.
    pub async fn apply(&self, change: impl Into<Change>) -> Result<Applied> {
        self.ctx.effects.apply(change).await
    }

    /// A group of the deployment's region as it is now (instances and health).
    pub async fn snapshot(&self, group: &GroupName) -> Result<Snapshot> {
        super::watch::snapshot(self, group).await
    }

    /// A dry run plans a strategy's changes without waiting for them.
    pub fn only_planning(&self) -> bool {
        self.ctx.effects.only_planning()
    }
}

/// `AMI (ROLE:VERSION)`.
pub fn subject(entry: &Entry) -> String {
    format!("{} ({}:{})", entry.ami_id, entry.role, entry.version)
}

/// The one gate on what may be deployed: the image is on the tested channel,
/// unless `--force` or it ran in production before (a rollback).
pub async fn tested_gate(
    ctx: &Context,
    registry: &Registry,
    reference: &ImageRef,
    entry: &Entry,
    exempt: bool,
    command: Command,
) -> Result<()> {
    if exempt {
        return Ok(());
    }
    let tested = &ctx.config.channels.tested;
    // `app:tested` (deploy's default) was resolved through the label: no second read.
    let on_tested = match &reference.selector {
        crate::model::Selector::Channel(channel) if channel == tested => Some(entry.version),
        _ => registry.channel_version(reference.role, tested).await?,
    };
    if on_tested == Some(entry.version) {
        return Ok(());
    }
    Err(Error::NotTested {
        subject: subject(entry),
        channel: tested.to_string(),
        role: reference.role.to_string(),
        rollback: command == Command::Rollback,
    })
}

/// The gate of an environment deployed after another: the image is what `after`'s
/// channel labels, or the ledger of `after` shows it deployed there once.
pub async fn after_gate(
    registry: &Registry,
    reference: &ImageRef,
    entry: &Entry,
    fleet: &crate::config::Fleet,
    after: &str,
    channel: &crate::model::Channel,
) -> Result<()> {
    let on_channel = match &reference.selector {
        crate::model::Selector::Channel(c) if c == channel => Some(entry.version),
        _ => registry.channel_version(reference.role, channel).await?,
    };
    if on_channel == Some(entry.version) {
        return Ok(());
    }
    let ran_there = registry.ledger(after).await?.iter().any(|(_, record)| {
        record.command == "deploy"
            && record.outcome == crate::ledger::Outcome::Deployed
            && record.ami_id.as_ref() == Some(&entry.ami_id)
    });
    if ran_there {
        return Ok(());
    }
    Err(Error::NotAfter {
        subject: subject(entry),
        environment: fleet.environment.clone(),
        after: after.to_string(),
        channel: channel.to_string(),
        role: reference.role.to_string(),
    })
}
