//! kiln: an immutable-infrastructure pipeline for AWS.
//!
//! Every change bakes a new AMI and replaces instances; stages hand AMI ids to each
//! other through an SSM Parameter Store registry (`registry`). This crate is the
//! whole tool; `main.rs` only parses, runs and turns errors into exit codes.

pub mod aws;
pub mod cli;
pub mod config;
pub mod context;
pub mod effect;
pub mod error;
pub mod goss;
pub mod inputs;
pub mod model;
pub mod provenance;
pub mod registry;
pub mod report;
pub mod stages;
pub mod tools;
pub mod ui;

use cli::{Cli, Command};
use context::Context;
use error::{Error, Result};
use ui::Ui;

/// Runs one command to completion: configuration, AWS connection, the stage, output.
pub fn run(cli: Cli) -> Result<()> {
    let config = config::load(&cli.global, &|name| std::env::var(name).ok())?;
    // Every command so far works on an app's registry: say so before touching AWS.
    config.app()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io {
            path: "tokio runtime".into(),
            message: e.to_string(),
        })?;
    runtime.block_on(async {
        tokio::spawn(tools::watch_signals());
        let ui = Ui::detect();
        let output = config.output;
        let dry_run = config.dry_run;
        let ctx = Context::new(config, ui).await?;
        let outcome = match &cli.command {
            Command::Bake(args) => stages::bake::run(&ctx, args).await?,
            Command::Verify(args) => stages::verify::run(&ctx, args).await?,
            Command::Publish(args) => stages::publish::run(&ctx, args).await?,
            Command::Resolve(args) => stages::resolve::run(&ctx, args).await?,
            Command::Promote(args) => stages::promote::run(&ctx, args).await?,
            Command::History(args) => stages::history::run(&ctx, args).await?,
            Command::Status(_) => stages::status::run(&ctx).await?,
        };
        report::emit(outcome, output, dry_run, &ctx.effects.plan(), &ui)
    })
}
