//! Where a deploy or rollback goes: `--env`, `--asg` (repeatable) and `[deploy]
//! asg` made into one `Fleet`, with the rollout keys that apply to it (the
//! environment's over `[deploy]`'s). Checked before anything is read.

use super::deploy::DeployConfig;
use super::{Config, Environment};
use crate::cli::RolloutArgs;
use crate::error::{Error, Result, Source};
use crate::model::{Channel, GroupName, Region};

/// Where a deploy or rollback goes: an environment's groups, all or some. Without
/// `--env` and `[environments]` it is the single-group `[deploy]` of old, recorded
/// as the environment named like the production channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fleet {
    /// The environment; its name keys the deploy ledger.
    pub environment: String,
    /// The channel that says what the environment runs.
    pub channel: Channel,
    /// The `after` gate: the environment an image must have run in, and its channel.
    pub after: Option<(String, Channel)>,
    /// The groups, rolled out one after another in this order.
    pub groups: Vec<GroupName>,
    /// Where the groups are; empty: the primary region.
    pub regions: Vec<Region>,
    /// Every group of the environment is deployed: its channel may move.
    pub whole: bool,
}

impl Fleet {
    /// The groups, as messages list them: `web, worker`.
    pub fn group_names(&self) -> String {
        self.groups
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The environment a deploy without `--env` is recorded as: the production channel's name.
pub(super) fn legacy_environment(config: &Config) -> String {
    config.channels.production.to_string()
}

/// Every environment with a ledger: the configured ones and the one of `[deploy]`.
pub(super) fn environment_names(config: &Config) -> Vec<String> {
    let mut names: Vec<String> = config.environments.iter().map(|e| e.name.clone()).collect();
    let legacy = legacy_environment(config);
    if !names.contains(&legacy) {
        names.push(legacy);
    }
    names
}

/// The fleet of `--env`/`--asg`/`[deploy] asg`, and the rollout keys that apply to it.
pub(super) fn fleet<'c>(
    args: &RolloutArgs,
    config: &'c Config,
) -> Result<(Fleet, &'c DeployConfig)> {
    let asg = args
        .asg
        .iter()
        .map(|name| GroupName::parse(name, &Source::Flag("--asg")))
        .collect::<Result<Vec<_>>>()?;
    let of_environment = |env: &'c Environment, groups: Vec<GroupName>| {
        let after = env.after.as_ref().map(|name| {
            let channel = config
                .environments
                .iter()
                .find(|e| &e.name == name)
                .map(|e| e.channel.clone())
                .expect("`after` is checked when kiln.toml loads");
            (name.clone(), channel)
        });
        let whole = env.groups.iter().all(|g| groups.contains(g));
        (
            Fleet {
                environment: env.name.clone(),
                channel: env.channel.clone(),
                after,
                groups,
                regions: env.regions.clone(),
                whole,
            },
            &env.deploy,
        )
    };
    if let Some(name) = &args.env {
        let env = config.environment(name, Source::Flag("--env"))?;
        if let Some(stranger) = asg.iter().find(|g| !env.groups.contains(g)) {
            return Err(Error::NotInEnvironment {
                group: stranger.to_string(),
                environment: env.name.clone(),
                groups: env.groups.iter().map(|g| g.to_string()).collect(),
            });
        }
        let groups = if asg.is_empty() {
            env.groups.clone()
        } else {
            asg
        };
        return Ok(of_environment(env, groups));
    }
    let groups = if asg.is_empty() {
        config.deploy.asg.clone().into_iter().collect()
    } else {
        asg
    };
    if groups.is_empty() {
        return Err(Error::NoGroup);
    }
    // Groups of one environment, named one by one: that environment's ledger.
    if let Some(env) = config
        .environments
        .iter()
        .find(|e| groups.iter().all(|g| e.groups.contains(g)))
    {
        return Ok(of_environment(env, groups));
    }
    Ok((
        Fleet {
            environment: legacy_environment(config),
            channel: config.channels.production.clone(),
            after: None,
            groups,
            regions: Vec::new(),
            whole: true,
        },
        &config.deploy,
    ))
}
