//! `[deploy]` in kiln.toml: which group `kiln deploy` and `kiln rollback` roll out
//! to, and how. Flags override each key (see `stages::deploy`).

use std::path::PathBuf;

use super::FileReader;
use crate::error::Result;
use crate::model::{Batch, GroupName, Percent, Span, Strategy};

pub(super) const KEYS: &[&str] = &[
    "asg",
    "strategy",
    "batch_size",
    "min_healthy",
    "timeout",
    "keep_old",
    "terraform_dir",
    "launch_template",
    "target_groups",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployConfig {
    pub asg: Option<GroupName>,
    pub strategy: Strategy,
    pub batch_size: Batch,
    /// The share of the desired capacity that stays healthy during a rollout;
    /// below it kiln adds instances before it removes any.
    pub min_healthy: Percent,
    /// How long a whole rollout may take.
    pub timeout: Span,
    /// Blue-green: how many old groups (scaled to zero) to keep for an instant rollback.
    pub keep_old: u32,
    /// `--via terraform`: the directory with the stack.
    pub terraform_dir: PathBuf,
}

impl Default for DeployConfig {
    fn default() -> Self {
        Self {
            asg: None,
            strategy: Strategy::Rolling,
            batch_size: Batch::Percent(Percent(25)),
            min_healthy: Percent(90),
            timeout: Span::minutes(30),
            keep_old: 1,
            terraform_dir: PathBuf::from("terraform"),
        }
    }
}

pub(super) fn parse(file: &FileReader, value: &toml::Value) -> Result<DeployConfig> {
    let table = value.as_table().ok_or_else(|| {
        file.wrong_type(
            "deploy",
            value,
            "a table: [deploy] with asg, strategy, batch_size, min_healthy, timeout, keep_old, terraform_dir",
        )
    })?;
    let mut deploy = DeployConfig::default();
    for (name, value) in table {
        let key = format!("deploy.{name}");
        match name.as_str() {
            "asg" => deploy.asg = Some(file.parse(&key, value, GroupName::parse)?),
            "strategy" => deploy.strategy = file.parse(&key, value, Strategy::parse)?,
            "batch_size" => deploy.batch_size = file.parse(&key, value, Batch::parse)?,
            "min_healthy" => deploy.min_healthy = file.parse(&key, value, Percent::parse)?,
            "timeout" => deploy.timeout = file.parse(&key, value, Span::parse)?,
            "keep_old" => {
                deploy.keep_old = value
                    .as_integer()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| file.wrong_type(&key, value, "a whole number such as 1"))?
            }
            "terraform_dir" => deploy.terraform_dir = file.relative(file.string(&key, value)?),
            // Read from the group itself; accepted so the Terraform stack's
            // `kiln_toml` output can be pasted as it is.
            "launch_template" | "target_groups" => {}
            _ => return Err(file.unknown_key(&key, KEYS)),
        }
    }
    Ok(deploy)
}
