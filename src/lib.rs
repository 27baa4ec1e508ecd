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
pub mod generate;
pub mod github;
pub mod goss;
pub mod inputs;
pub mod ledger;
pub mod model;
pub mod poll;
pub mod provenance;
pub mod registry;
pub mod report;
pub mod stages;
pub mod teardown;
pub mod tools;
pub mod ui;

use cli::Cli;
use config::Settings;
use context::Context;
use error::{Error, Result};
use ui::Ui;

/// Runs one command to completion: configuration, AWS connection, the stage, output.
pub fn run(cli: Cli) -> Result<()> {
    // Completions and the man page need no configuration, app or AWS.
    if let Some(printed) = generate::run(&cli.command) {
        return printed;
    }
    let config = config::load(&cli.global, &config::Env::process())?;
    // Every command so far works on an app's registry: say so before touching AWS.
    config.app()?;
    // Every flag, reference and input file is checked before touching AWS too.
    let settings = config::settings(&cli.command, &config)?;
    // So are the files it will write: none may fail after AWS was changed.
    report::files::check(&report::files::for_command(&settings))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io {
            path: "tokio runtime".into(),
            message: e.to_string(),
        })?;
    runtime.block_on(async {
        let ui = Ui::detect();
        let output = config.output;
        let ctx = tokio::select! {
            ctx = Context::new(config, ui) => ctx?,
            signal = tools::interrupted() => return Err(Error::Interrupted {
                signal: signal.into(),
                what: "connecting to AWS".into(),
            }),
        };
        // A signal drops the stage at its next await; what it created is then
        // removed below, as after any other ending.
        let result = tokio::select! {
            outcome = stage(&ctx, &settings) => outcome,
            signal = tools::interrupted() => Err(Error::Interrupted {
                signal: signal.into(),
                what: format!("running kiln {}", cli.command.name()),
            }),
        };
        // A dry run without AWS access ends at its first read: its plan is the result.
        let result = match result {
            Err(Error::Offline) => Ok(report::Outcome::default()),
            other => other,
        };
        let result = ctx.teardown.finish(&ctx.effects, result).await;
        let mut outcome = stages::deploy::explain_interruption(&ctx, &settings, result).await?;
        outcome.changes = ctx.effects.changes();
        report::emit(outcome, output, &ctx.effects.plan(), &ui)
    })
}

async fn stage(ctx: &Context, settings: &Settings) -> Result<report::Outcome> {
    match settings {
        Settings::Bake(settings) => stages::bake::run(ctx, settings).await,
        Settings::Verify(settings) => stages::verify::run(ctx, settings).await,
        Settings::Deploy(settings) => stages::deploy::deploy(ctx, settings).await,
        Settings::Rollback(settings) => stages::deploy::rollback(ctx, settings).await,
        Settings::Prune(settings) => stages::prune::run(ctx, settings).await,
        Settings::Revoke(settings) => stages::revoke::run(ctx, settings).await,
        Settings::Publish(settings) => stages::publish::run(ctx, settings).await,
        Settings::Resolve(settings) => stages::resolve::run(ctx, settings).await,
        Settings::Promote(settings) => stages::promote::run(ctx, settings).await,
        Settings::History(settings) => stages::history::run(ctx, settings).await,
        Settings::Deploys(settings) => stages::deploys::run(ctx, settings).await,
        Settings::Status => stages::status::run(ctx).await,
    }
}
