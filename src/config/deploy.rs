//! `[deploy]` in kiln.toml: which group `kiln deploy` and `kiln rollback` roll out
//! to, and how; and the settings of those two commands: the file's keys with the
//! flags on top, `--via`, the image and the GitHub target, checked before anything
//! is read or changed.

use std::path::PathBuf;
use std::sync::Arc;

use super::cloudformation::CloudFormationStack;
use super::fleet::{Fleet, fleet};
use super::{CiEnv, Config, FileReader, flag_or};
use crate::cli::{DeployArgs, RollbackArgs, RolloutArgs};
use crate::error::{Error, Result, Source};
use crate::github::GithubTarget;
use crate::model::{Batch, GroupName, ImageRef, Percent, Span, Strategy};

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
    "terraform_var",
    "terraform_var_file",
    "terraform_workspace",
    "cloudformation_stack",
    "cloudformation_parameter",
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
    /// `--via terraform`: the variable that receives the AMI id.
    pub terraform_var: String,
    /// `--via terraform`: `-var-file`s, in order (one string or a list).
    pub terraform_var_files: Vec<PathBuf>,
    /// `--via terraform`: the workspace to apply in; `None`: the stack's selected one.
    pub terraform_workspace: Option<String>,
    /// `--via cloudformation`: the stack to update.
    pub cloudformation_stack: Option<String>,
    /// `--via cloudformation`: the stack parameter that receives the AMI id.
    pub cloudformation_parameter: String,
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
            terraform_var: "ami_id".into(),
            terraform_var_files: Vec::new(),
            terraform_workspace: None,
            cloudformation_stack: None,
            cloudformation_parameter: super::cloudformation::DEFAULT_PARAMETER.into(),
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
    overlay(file, "deploy", table, DeployConfig::default(), KEYS)
}

/// The rollout keys of `table` (at `at` in the file) on top of `deploy`: `[deploy]`
/// on the defaults, and an environment's keys on `[deploy]`. Keys not in `allowed`
/// are refused (an environment takes no `asg`: it has `groups`).
pub(super) fn overlay(
    file: &FileReader,
    at: &str,
    table: &toml::Table,
    mut deploy: DeployConfig,
    allowed: &[&str],
) -> Result<DeployConfig> {
    for (name, value) in table {
        let key = format!("{at}.{name}");
        if !allowed.contains(&name.as_str()) {
            return Err(file.unknown_key(&key, allowed));
        }
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
            "terraform_var" => deploy.terraform_var = file.parse(&key, value, terraform_name)?,
            "terraform_var_file" => {
                let expected = "a .tfvars path or a list of them, e.g. [\"prod.tfvars\"]";
                let items = match value {
                    toml::Value::String(_) => vec![value],
                    toml::Value::Array(items) => items.iter().collect(),
                    _ => return Err(file.wrong_type(&key, value, expected)),
                };
                deploy.terraform_var_files = items
                    .into_iter()
                    .map(|item| {
                        let text = item
                            .as_str()
                            .ok_or_else(|| file.wrong_type(&key, value, expected))?;
                        Ok(file.relative(text))
                    })
                    .collect::<Result<_>>()?;
            }
            "terraform_workspace" => {
                deploy.terraform_workspace = Some(file.parse(&key, value, terraform_name)?)
            }
            "cloudformation_stack" => {
                deploy.cloudformation_stack =
                    Some(file.parse(&key, value, super::cloudformation::stack_name)?)
            }
            "cloudformation_parameter" => {
                deploy.cloudformation_parameter =
                    file.parse(&key, value, super::cloudformation::parameter_name)?
            }
            // Read from the group itself; accepted so the Terraform stack's
            // `kiln_toml` output can be pasted as it is.
            "launch_template" | "target_groups" => {}
            _ => return Err(file.unknown_key(&key, allowed)),
        }
    }
    Ok(deploy)
}

/// A Terraform variable or workspace name: letters, digits, `_` and `-`, not
/// starting with a digit or `-` (what `-var NAME=…` and `workspace` accept).
fn terraform_name(value: &str, source: &Source) -> Result<String> {
    let first_ok = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Ok(value.to_string());
    }
    Err(Error::InvalidValue {
        source: source.clone(),
        value: value.to_string(),
        expected: "a Terraform name: letters, digits, `_` and `-`, starting with a letter or `_`"
            .into(),
    })
}

/// `--via terraform`: where the stack is and how kiln hands it the AMI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerraformStack {
    pub dir: PathBuf,
    /// The variable that receives the AMI id (`-var NAME=AMI`).
    pub var: String,
    /// `-var-file`s, in order, each an existing file.
    pub var_files: Vec<PathBuf>,
    /// The workspace to apply in (TF_WORKSPACE); it must exist.
    pub workspace: Option<String>,
}

/// `kiln deploy`: the image, where it goes and how it rolls out.
#[derive(Debug, Clone)]
pub struct DeploySettings {
    /// REF, by default `app:TESTED` (or `app:AFTER` in an environment with `after`).
    pub reference: ImageRef,
    /// `--force`: no tested gate, no `after` gate.
    pub force: bool,
    pub fleet: Fleet,
    /// How each group rolls out (its `group` is the fleet's first; see `Rollout::for_group`).
    pub rollout: Rollout,
}

/// `kiln rollback`: where to go back to, where, and how it rolls out.
#[derive(Debug, Clone)]
pub struct RollbackSettings {
    /// `--to REF`; `None`: what the groups ran before the newest deploy (the ledger).
    pub to: Option<ImageRef>,
    pub fleet: Fleet,
    pub rollout: Rollout,
}

/// How a deploy or rollback rolls out, one group at a time. The region is the
/// deployment's (it may come from the AWS profile, so it is known only after
/// connecting).
#[derive(Debug, Clone)]
pub struct Rollout {
    pub group: GroupName,
    pub strategy: Strategy,
    pub batch: Batch,
    pub min_healthy: Percent,
    pub timeout: Span,
    pub max_healthy: Option<Percent>,
    pub warmup: Option<i32>,
    pub checkpoints: Vec<i32>,
    pub skip_matching: bool,
    pub keep_old: u32,
    pub rollback_on_failure: bool,
    pub promote: bool,
    pub environment: String,
    /// Where to record a GitHub Deployment, if anywhere.
    pub github: Option<Arc<GithubTarget>>,
    /// `--via terraform`: the stack; Terraform makes the version.
    pub via_terraform: Option<TerraformStack>,
    /// `--via cloudformation`: the stack; CloudFormation makes the version.
    pub via_cloudformation: Option<CloudFormationStack>,
}

#[cfg(test)]
impl Rollout {
    /// A rolling rollout of `group` with the defaults, for unit tests to change
    /// what they are about (`Rollout { strategy, ..Rollout::of(group) }`).
    pub fn of(group: &str) -> Self {
        Self {
            group: GroupName::from_aws(group),
            strategy: Strategy::Rolling,
            batch: Batch::Count(1),
            min_healthy: Percent(90),
            timeout: Span::secs(60),
            max_healthy: None,
            warmup: None,
            checkpoints: Vec::new(),
            skip_matching: true,
            keep_old: 1,
            rollback_on_failure: true,
            promote: true,
            environment: "production".into(),
            github: None,
            via_terraform: None,
            via_cloudformation: None,
        }
    }
}

/// `kiln deploy`'s settings: the rollout's, then `--via`, then REF.
pub(super) fn deploy(args: &DeployArgs, config: &Config) -> Result<DeploySettings> {
    let (fleet, keys) = fleet(&args.rollout, config)?;
    let rollout = rollout(&args.rollout, keys, &fleet, &config.ci)?;
    let rollout = match args.via.as_deref() {
        None => rollout,
        Some("terraform") => Rollout {
            via_terraform: Some(terraform_stack(args, keys)?),
            ..rollout
        },
        Some("cloudformation") => Rollout {
            via_cloudformation: Some(super::cloudformation::stack(args, keys)?),
            ..rollout
        },
        Some(other) => {
            return Err(Error::InvalidValue {
                source: Source::Flag("--via"),
                value: other.to_string(),
                expected: "`terraform` or `cloudformation` (or leave it out: kiln makes the launch template version)"
                    .into(),
            });
        }
    };
    let default = match &fleet.after {
        Some((_, channel)) => format!("app:{channel}"),
        None => format!("app:{}", config.channels.tested),
    };
    let reference = ImageRef::parse(
        args.reference.as_deref().unwrap_or(&default),
        &Source::Argument("REF"),
        &config.channels.all(),
    )?;
    Ok(DeploySettings {
        reference,
        force: args.force,
        fleet,
        rollout,
    })
}

/// `--via terraform`'s flags over `[deploy]`'s terraform keys. Var files on the
/// command line are relative to where kiln runs, in kiln.toml to the file; both
/// are handed to Terraform (which runs in the stack) as absolute paths.
fn terraform_stack(args: &DeployArgs, file: &DeployConfig) -> Result<TerraformStack> {
    let var = flag_or(
        args.terraform_var.as_deref(),
        "--terraform-var",
        terraform_name,
        file.terraform_var.clone(),
    )?;
    let workspace = flag_or(
        args.terraform_workspace.as_deref(),
        "--terraform-workspace",
        |v, s| terraform_name(v, s).map(Some),
        file.terraform_workspace.clone(),
    )?;
    let dir = args
        .terraform_dir
        .clone()
        .unwrap_or_else(|| file.terraform_dir.clone());
    // kiln.toml's are relative to it already; a flag's is the stack's file when
    // the stack has it (as `terraform apply -var-file` in the stack reads it),
    // else one relative to where kiln runs.
    let (files, source) = if args.terraform_var_file.is_empty() {
        let source = Source::File {
            path: PathBuf::from("kiln.toml"),
            key: "deploy.terraform_var_file".into(),
        };
        (file.terraform_var_files.clone(), source)
    } else {
        let source = Source::Flag("--terraform-var-file");
        let files = args
            .terraform_var_file
            .iter()
            .map(|p| match dir.join(p) {
                in_stack if p.is_relative() && in_stack.is_file() => in_stack,
                _ => p.clone(),
            })
            .collect();
        (files, source)
    };
    let var_files = files
        .into_iter()
        .map(|path| {
            std::path::absolute(&path)
                .ok()
                .filter(|p| p.is_file())
                .ok_or_else(|| Error::InvalidValue {
                    source: source.clone(),
                    value: path.display().to_string(),
                    expected: "an existing .tfvars file (in the stack, or relative to here)".into(),
                })
        })
        .collect::<Result<_>>()?;
    Ok(TerraformStack {
        dir,
        var,
        var_files,
        workspace,
    })
}

/// `kiln rollback`'s settings: the rollout's, then `--to`.
pub(super) fn rollback(args: &RollbackArgs, config: &Config) -> Result<RollbackSettings> {
    let (fleet, keys) = fleet(&args.rollout, config)?;
    let rollout = rollout(&args.rollout, keys, &fleet, &config.ci)?;
    let to = args
        .to
        .as_deref()
        .map(|text| ImageRef::parse(text, &Source::Flag("--to"), &config.channels.all()))
        .transpose()?;
    Ok(RollbackSettings { to, fleet, rollout })
}

/// `[deploy]` (or the environment's keys) with the rollout flags on top.
fn rollout(args: &RolloutArgs, file: &DeployConfig, fleet: &Fleet, ci: &CiEnv) -> Result<Rollout> {
    let group = fleet.groups.first().cloned().ok_or(Error::NoGroup)?;
    let number = |value: &Option<String>, flag: &'static str| -> Result<Option<i32>> {
        value
            .as_deref()
            .map(|v| {
                v.parse::<i32>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| Error::InvalidValue {
                        source: Source::Flag(flag),
                        value: v.to_string(),
                        expected: "a whole number of seconds, 0 or more".into(),
                    })
            })
            .transpose()
    };
    let checkpoints = match &args.checkpoints {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|p| Percent::parse(p.trim(), &Source::Flag("--checkpoints")).map(|p| p.0 as i32))
            .collect::<Result<_>>()?,
    };
    Ok(Rollout {
        group,
        strategy: flag_or(
            args.strategy.as_deref(),
            "--strategy",
            Strategy::parse,
            file.strategy,
        )?,
        batch: flag_or(
            args.batch_size.as_deref(),
            "--batch-size",
            Batch::parse,
            file.batch_size,
        )?,
        min_healthy: flag_or(
            args.min_healthy.as_deref(),
            "--min-healthy",
            Percent::parse,
            file.min_healthy,
        )?,
        timeout: flag_or(
            args.timeout.as_deref(),
            "--timeout",
            Span::parse,
            file.timeout,
        )?,
        max_healthy: flag_or(
            args.max_healthy.as_deref(),
            "--max-healthy",
            |v, s| {
                // Above 100%: instance refresh launches before it terminates.
                match v.trim_end_matches('%').parse::<u32>() {
                    Ok(n) if (100..=200).contains(&n) => Ok(Some(Percent(n))),
                    _ => Err(Error::InvalidValue {
                        source: s.clone(),
                        value: v.to_string(),
                        expected: "a percentage from 100% to 200%".into(),
                    }),
                }
            },
            None,
        )?,
        warmup: number(&args.instance_warmup, "--instance-warmup")?,
        checkpoints,
        skip_matching: !args.no_skip_matching,
        keep_old: match &args.keep_old {
            Some(n) => n.parse().map_err(|_| Error::InvalidValue {
                source: Source::Flag("--keep-old"),
                value: n.clone(),
                expected: "a whole number of old groups to keep, 0 or more".into(),
            })?,
            None => file.keep_old,
        },
        rollback_on_failure: !args.no_rollback,
        promote: !args.no_promote,
        // The GitHub environment: the flag, else kiln's environment, else production.
        environment: args.environment.clone().unwrap_or_else(|| {
            if args.env.is_some() {
                fleet.environment.clone()
            } else {
                "production".into()
            }
        }),
        github: GithubTarget::from_env(args.github, args.github_api_url.as_deref(), ci)?
            .map(Arc::new),
        via_terraform: None,
        via_cloudformation: None,
    })
}
