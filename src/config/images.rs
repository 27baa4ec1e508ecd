//! The settings of the commands that work on registry entries one at a time:
//! `publish`, `resolve`, `promote`, `revoke` and `history`. Their arguments are
//! references, ids and counts, checked here before anything is read.

use std::time::Duration;

use super::{Config, parse_count};
use crate::cli::{HistoryArgs, PromoteArgs, PublishArgs, ResolveArgs, RevokeArgs};
use crate::error::{Error, Result, Source};
use crate::model::{AmiId, Channel, ImageRef, Role, Timestamp};
use crate::provenance::without_credentials;

/// `kiln publish ROLE AMI_ID`.
#[derive(Debug, Clone)]
pub struct PublishSettings {
    pub role: Role,
    pub ami: AmiId,
    /// `--git-sha`, over the image's tags and CI's.
    pub git_sha: Option<String>,
    /// `--build-url` without credentials, over the image's tags and CI's.
    pub build_url: Option<String>,
    /// `--wait`: how long SSM may take to validate the version.
    pub wait: Duration,
}

/// `kiln resolve REF`.
#[derive(Debug, Clone)]
pub struct ResolveSettings {
    pub reference: ImageRef,
}

/// `kiln promote REF --to CHANNEL`.
#[derive(Debug, Clone)]
pub struct PromoteSettings {
    pub reference: ImageRef,
    /// One of the configured channels.
    pub channel: Channel,
}

/// `kiln revoke REF|AMI_ID`.
#[derive(Debug, Clone)]
pub struct RevokeSettings {
    pub target: RevokeTarget,
    /// `--reason`; empty with `--undo`.
    pub reason: String,
    pub undo: bool,
}

/// What `kiln revoke` was pointed at.
#[derive(Debug, Clone)]
pub enum RevokeTarget {
    Ami(AmiId),
    /// Resolved through the registry.
    Reference(ImageRef),
}

/// `kiln history ROLE`.
#[derive(Debug, Clone)]
pub struct HistorySettings {
    pub role: Role,
    /// `--limit`: at most this many versions.
    pub limit: Option<usize>,
}

/// `kiln history --deploys`: which environments' ledgers, and the time asked about.
#[derive(Debug, Clone)]
pub struct DeploysSettings {
    pub environments: Vec<String>,
    /// `--at`: what ran in each group then.
    pub at: Option<Timestamp>,
    /// `--limit`: at most this many deploys per environment.
    pub limit: Option<usize>,
}

pub(super) fn deploys(args: &HistoryArgs, config: &Config) -> Result<DeploysSettings> {
    let environments = match &args.env {
        Some(name) => {
            let legacy = super::fleet::legacy_environment(config);
            if name != &legacy {
                config.environment(name, Source::Flag("--env"))?;
            }
            vec![name.clone()]
        }
        None => super::fleet::environment_names(config),
    };
    let at = args
        .at
        .as_deref()
        .map(|text| {
            parse_time(text).ok_or_else(|| Error::InvalidValue {
                source: Source::Flag("--at"),
                value: text.to_string(),
                expected: "a time such as 2026-11-20T10:00:00Z or 2026-11-20 10:00 (UTC)".into(),
            })
        })
        .transpose()?;
    let limit = match &args.limit {
        Some(n) => Some(parse_count(n, "--limit", "a whole number of deploys")? as usize),
        None => None,
    };
    Ok(DeploysSettings {
        environments,
        at,
        limit,
    })
}

/// RFC 3339, or the same with a space for the `T`, without seconds or zone (UTC).
fn parse_time(text: &str) -> Option<Timestamp> {
    let mut time = text.trim().replacen(' ', "T", 1);
    if time.len() == 10 {
        time.push_str("T00:00");
    }
    if time.len() == 16 {
        time.push_str(":00");
    }
    if !time.ends_with('Z') && !time.get(10..)?.contains(['+', '-']) {
        time.push('Z');
    }
    Timestamp::parse_iso(&time)
}

pub(super) fn publish(args: &PublishArgs) -> Result<PublishSettings> {
    let role = Role::parse(&args.role, &Source::Argument("ROLE"))?;
    let ami = AmiId::parse(&args.ami_id, &Source::Argument("AMI_ID"))?;
    let wait = parse_count(&args.wait, "--wait", "a number of seconds")?;
    Ok(PublishSettings {
        role,
        ami,
        git_sha: args.git_sha.clone(),
        build_url: args.build_url.as_deref().map(without_credentials),
        wait: Duration::from_secs(wait),
    })
}

pub(super) fn resolve(args: &ResolveArgs, config: &Config) -> Result<ResolveSettings> {
    let reference = ImageRef::parse(
        &args.reference,
        &Source::Argument("REF"),
        &config.channels.all(),
    )?;
    Ok(ResolveSettings { reference })
}

pub(super) fn promote(args: &PromoteArgs, config: &Config) -> Result<PromoteSettings> {
    let channels = config.channels.all();
    let reference = ImageRef::parse(&args.reference, &Source::Argument("REF"), &channels)?;
    let channel = channels
        .iter()
        .find(|c| c.as_str() == args.to)
        .cloned()
        .ok_or_else(|| Error::UnknownChannel {
            channel: args.to.clone(),
            known: channels.iter().map(Channel::to_string).collect(),
        })?;
    Ok(PromoteSettings { reference, channel })
}

pub(super) fn revoke(args: &RevokeArgs, config: &Config) -> Result<RevokeSettings> {
    let source = Source::Argument("REF|AMI_ID");
    let target = if args.target.starts_with("ami-") {
        RevokeTarget::Ami(AmiId::parse(&args.target, &source)?)
    } else {
        RevokeTarget::Reference(ImageRef::parse(
            &args.target,
            &source,
            &config.channels.all(),
        )?)
    };
    Ok(RevokeSettings {
        target,
        reason: args.reason.clone().unwrap_or_default(),
        undo: args.undo,
    })
}

pub(super) fn history(args: &HistoryArgs) -> Result<HistorySettings> {
    let role = Role::parse(
        args.role.as_deref().unwrap_or_default(),
        &Source::Argument("ROLE"),
    )?;
    let limit = match &args.limit {
        Some(n) => Some(parse_count(n, "--limit", "a whole number of versions")? as usize),
        None => None,
    };
    Ok(HistorySettings { role, limit })
}
