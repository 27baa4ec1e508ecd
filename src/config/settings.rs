//! The second step of argument parsing for one command: its clap arguments, the
//! configuration and the CI environment made into the typed value its stage runs
//! on. `lib::run` calls `settings` once, before connecting to AWS, so every bad
//! flag, reference or input file is reported before anything is read or changed.

use super::{
    BakeSettings, Config, DeploySettings, HistorySettings, PromoteSettings, PruneSettings,
    PublishSettings, ResolveSettings, RevokeSettings, RollbackSettings, VerifySettings, bake,
    deploy, images, prune, verify,
};
use crate::cli::Command;
use crate::error::Result;

/// One command's settings; each stage's `run` takes its own.
#[derive(Debug, Clone)]
pub enum Settings {
    Bake(BakeSettings),
    Publish(PublishSettings),
    Verify(VerifySettings),
    Deploy(DeploySettings),
    Rollback(RollbackSettings),
    Prune(PruneSettings),
    Revoke(RevokeSettings),
    Resolve(ResolveSettings),
    Promote(PromoteSettings),
    History(HistorySettings),
    Status,
}

/// The settings of `command`: its flags over kiln.toml over the defaults.
pub fn settings(command: &Command, config: &Config) -> Result<Settings> {
    Ok(match command {
        Command::Bake(args) => Settings::Bake(bake::bake(args, config)?),
        Command::Publish(args) => Settings::Publish(images::publish(args)?),
        Command::Verify(args) => Settings::Verify(verify::verify(args, config)?),
        Command::Deploy(args) => Settings::Deploy(deploy::deploy(args, config)?),
        Command::Rollback(args) => Settings::Rollback(deploy::rollback(args, config)?),
        Command::Prune(args) => Settings::Prune(prune::prune(args)?),
        Command::Revoke(args) => Settings::Revoke(images::revoke(args, config)?),
        Command::Resolve(args) => Settings::Resolve(images::resolve(args, config)?),
        Command::Promote(args) => Settings::Promote(images::promote(args, config)?),
        Command::History(args) => Settings::History(images::history(args)?),
        Command::Status(_) => Settings::Status,
        Command::Completions(_) | Command::Man(_) => {
            unreachable!("`run` prints completions and the man page before any settings")
        }
    })
}
