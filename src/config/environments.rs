//! `[environments.NAME]` in kiln.toml: where an app runs (staging, production, …),
//! each one or more Auto Scaling groups in one or more regions, with its own
//! registry channel, an optional `after` gate (only images that ran in the
//! environment named there) and rollout keys overriding `[deploy]`.
//!
//! Checked when the file loads: every `after` names an environment and the chain
//! has no loop, every environment has a group, and no two share a channel.

use super::deploy::{self, DeployConfig};
use super::{Config, FileReader};
use crate::error::{Error, Result, Source};
use crate::model::{Channel, GroupName, Region};

/// The keys of an environment besides the rollout keys of `[deploy]`.
const OWN_KEYS: &[&str] = &["groups", "after", "channel", "regions"];

/// One environment as kiln.toml describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub name: String,
    /// The Auto Scaling groups, deployed one after another in this order.
    pub groups: Vec<GroupName>,
    /// Only images that ran in this environment may be deployed here.
    pub after: Option<String>,
    /// The registry label that says what the environment runs (default: its name).
    pub channel: Channel,
    /// Where the groups are; empty: the primary region.
    pub regions: Vec<Region>,
    /// `[deploy]` with this environment's keys on top.
    pub deploy: DeployConfig,
}

/// The allowed keys, for messages: the environment's own and `[deploy]`'s but `asg`.
fn allowed() -> Vec<&'static str> {
    OWN_KEYS
        .iter()
        .chain(deploy::KEYS.iter().filter(|k| **k != "asg"))
        .copied()
        .collect()
}

/// `[environments]`: a table of tables, read after `[deploy]` (whose keys they override).
pub(super) fn parse(
    file: &FileReader,
    value: &toml::Value,
    base: &DeployConfig,
) -> Result<Vec<Environment>> {
    let table = value.as_table().ok_or_else(|| {
        file.wrong_type(
            "environments",
            value,
            "a table of environments: [environments.staging] with groups = [\"…\"]",
        )
    })?;
    let allowed = allowed();
    let mut environments = Vec::new();
    for (name, value) in table {
        let at = format!("environments.{name}");
        let source = Source::File {
            path: file.path.to_path_buf(),
            key: at.clone(),
        };
        // The name is part of the ledger's parameter name and the default label.
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(Error::InvalidValue {
                source,
                value: name.clone(),
                expected:
                    "an environment name of letters, digits, '-', '_' or '.', such as staging"
                        .into(),
            });
        }
        let table = value.as_table().ok_or_else(|| {
            file.wrong_type(
                &at,
                value,
                "a table with groups = [\"an Auto Scaling group\"]",
            )
        })?;
        let mut rollout_keys = toml::Table::new();
        let (mut groups, mut after, mut channel, mut regions) = (None, None, None, Vec::new());
        for (key, value) in table {
            let full = format!("{at}.{key}");
            match key.as_str() {
                "groups" => groups = Some(list(file, &full, value, GroupName::parse)?),
                "regions" => regions = list(file, &full, value, Region::parse)?,
                "after" => after = Some(file.string(&full, value)?.to_string()),
                "channel" => channel = Some(file.parse(&full, value, Channel::parse)?),
                _ if allowed.contains(&key.as_str()) => {
                    rollout_keys.insert(key.clone(), value.clone());
                }
                _ => return Err(file.unknown_key(&full, &allowed)),
            }
        }
        let groups = groups.filter(|g| !g.is_empty()).ok_or_else(|| {
            file.problem(
                format!("environment `{name}` has no groups"),
                format!(
                    "add `groups = [\"NAME\"]` under [{at}]: the Auto Scaling groups it runs on"
                ),
            )
        })?;
        let channel = match channel {
            Some(channel) => channel,
            None => Channel::parse(name, &source).map_err(|_| {
                file.problem(
                    format!("environment `{name}` cannot be a registry label"),
                    format!("set `channel = \"NAME\"` under [{at}]: a label of letters, digits, '.', '-' or '_' not starting with aws or ssm"),
                )
            })?,
        };
        let deploy = deploy::overlay(file, &at, &rollout_keys, base.clone(), &allowed)?;
        environments.push(Environment {
            name: name.clone(),
            groups,
            after,
            channel,
            regions,
            deploy,
        });
    }
    check(file, &environments)?;
    Ok(environments)
}

/// A list of strings, each parsed.
fn list<T>(
    file: &FileReader,
    key: &str,
    value: &toml::Value,
    parse: fn(&str, &Source) -> Result<T>,
) -> Result<Vec<T>> {
    value
        .as_array()
        .ok_or_else(|| file.wrong_type(key, value, "a list of strings, e.g. [\"shop-web\"]"))?
        .iter()
        .map(|item| file.parse(key, item, parse))
        .collect()
}

/// `after` names an environment, the chain ends, and the channels are apart.
fn check(file: &FileReader, environments: &[Environment]) -> Result<()> {
    let find = |name: &str| environments.iter().find(|e| e.name == name);
    for env in environments {
        let mut seen = vec![env.name.as_str()];
        let mut next = env.after.as_deref();
        while let Some(name) = next {
            let Some(found) = find(name) else {
                let known: Vec<&str> = environments.iter().map(|e| e.name.as_str()).collect();
                return Err(file.problem(
                    format!(
                        "environments.{}.after names `{name}`, which is not an environment",
                        env.name
                    ),
                    format!("name one of: {}", known.join(", ")),
                ));
            };
            if seen.contains(&name) {
                seen.push(name);
                return Err(file.problem(
                    format!("the `after` keys go round in a loop: {}", seen.join(" -> ")),
                    "the first environment (e.g. staging) takes no `after`".into(),
                ));
            }
            seen.push(name);
            next = found.after.as_deref();
        }
        if let Some(other) = environments
            .iter()
            .find(|o| o.name < env.name && o.channel == env.channel)
        {
            return Err(file.problem(
                format!(
                    "environments `{}` and `{}` both use the channel `{}`",
                    other.name, env.name, env.channel
                ),
                "give each environment its own `channel` (a channel says what one environment runs)"
                    .into(),
            ));
        }
    }
    Ok(())
}

impl Config {
    /// The environment named `name`, or the error listing the ones there are.
    pub fn environment(&self, name: &str, source: Source) -> Result<&Environment> {
        self.environments
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| Error::UnknownEnvironment {
                source,
                name: name.to_string(),
                known: self.environments.iter().map(|e| e.name.clone()).collect(),
            })
    }

    /// The environment whose channel is `channel`.
    pub fn environment_of_channel(&self, channel: &Channel) -> Option<&Environment> {
        self.environments.iter().find(|e| &e.channel == channel)
    }
}

impl Config {
    /// The environments `kiln status` shows: every `[environments.NAME]`, then the
    /// single group of `[deploy] asg` as the environment a deploy without `--env`
    /// is recorded in, unless an environment already has that name or group.
    pub fn status_environments(&self) -> Vec<Environment> {
        let mut environments = self.environments.clone();
        let legacy = super::fleet::legacy_environment(self);
        if let Some(asg) = &self.deploy.asg
            && !environments
                .iter()
                .any(|e| e.name == legacy || e.groups.contains(asg))
        {
            environments.push(Environment {
                name: legacy,
                groups: vec![asg.clone()],
                after: None,
                channel: self.channels.production.clone(),
                regions: Vec::new(),
                deploy: self.deploy.clone(),
            });
        }
        environments
    }
}
