//! A rollout's settings: `[deploy]` in kiln.toml with the flags on top, checked
//! before anything is read or changed.

use crate::cli::RolloutArgs;
use crate::config::flag_or;
use crate::context::Context;
use crate::error::{Error, Result, Source};
use crate::model::{Batch, GroupName, Percent, Region, Span, Strategy};

#[derive(Debug, Clone)]
pub struct Rollout {
    pub region: Region,
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
    pub github: Option<std::sync::Arc<crate::github::GithubTarget>>,
    /// `--via terraform`: the stack's directory; Terraform makes the version.
    pub via_terraform: Option<std::path::PathBuf>,
}

impl Rollout {
    pub fn new(ctx: &Context, args: &RolloutArgs) -> Result<Self> {
        let file = &ctx.config.deploy;
        let group = flag_or(
            args.asg.as_deref(),
            "--asg",
            |v, s| GroupName::parse(v, s).map(Some),
            file.asg.clone(),
        )?
        .ok_or(Error::NoGroup)?;
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
                .map(|p| {
                    Percent::parse(p.trim(), &Source::Flag("--checkpoints")).map(|p| p.0 as i32)
                })
                .collect::<Result<_>>()?,
        };
        Ok(Self {
            region: ctx.region(),
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
            environment: args
                .environment
                .clone()
                .unwrap_or_else(|| "production".into()),
            github: crate::github::GithubTarget::from_env(
                args.github,
                args.github_api_url.as_deref(),
                &|name| std::env::var(name).ok(),
            )?
            .map(std::sync::Arc::new),
            via_terraform: None,
        })
    }
}
