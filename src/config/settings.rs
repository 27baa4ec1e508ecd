//! The second step of argument parsing for one command: its clap arguments, the
//! configuration and the CI environment made into the typed value its stage runs
//! on. `lib::run` calls `settings` once, before connecting to AWS, so every bad
//! flag, reference or input file is reported before anything is read or changed.

use super::{
    BakeSettings, Config, DeploySettings, DeploysSettings, HistorySettings, PromoteSettings,
    PruneSettings, PublishSettings, ResolveSettings, RevokeSettings, RollbackSettings,
    VerifySettings, bake, deploy, images, prune, verify,
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
    Deploys(DeploysSettings),
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
        Command::History(args) if args.deploys => Settings::Deploys(images::deploys(args, config)?),
        Command::History(args) => Settings::History(images::history(args)?),
        Command::Status(_) => Settings::Status,
        Command::Completions(_) | Command::Man(_) => {
            unreachable!("`run` prints completions and the man page before any settings")
        }
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::Parser;

    use super::*;
    use crate::cli::Cli;
    use crate::config::{Env, RevokeTarget, Rollout, load, parse_file};
    use crate::model::{Batch, Percent, Span, Strategy};

    /// The settings of a command line, with `kiln_toml` as the file and `env` as
    /// the environment.
    fn settings_of(line: &str, kiln_toml: &str, env: &[(&str, &str)]) -> Result<Settings> {
        let cli = Cli::try_parse_from(line.split_whitespace()).expect("a valid command line");
        let mut config = load(&cli.global, &Env::from_pairs(env))?;
        let file = parse_file(Path::new("kiln.toml"), kiln_toml)?;
        config.deploy = file.deploy;
        settings(&cli.command, &config)
    }

    fn rollout_of(line: &str, kiln_toml: &str) -> Rollout {
        match settings_of(line, kiln_toml, &[]).unwrap() {
            Settings::Deploy(deploy) => deploy.rollout,
            Settings::Rollback(rollback) => rollback.rollout,
            other => panic!("not a rollout: {other:?}"),
        }
    }

    const FILE: &str =
        "[deploy]\nasg = \"shop-file\"\nstrategy = \"blue-green\"\nbatch_size = \"2\"\n";

    #[test]
    fn a_bad_base_says_what_base_takes_none_included() {
        let expected = "invalid value `nope` in --base: expected a base reference: base, base:CHANNEL or base:VERSION, or none";
        for line in [
            "kiln bake app --template packer --base nope",
            "kiln bake app --template packer --base app:3",
        ] {
            let error = settings_of(line, "", &[]).unwrap_err().to_string();
            let value = line.rsplit(' ').next().unwrap();
            assert_eq!(error, expected.replace("nope", value), "{line}");
        }
    }

    #[test]
    fn a_rollout_flag_wins_over_the_file_which_wins_over_the_default() {
        let flags = rollout_of(
            "kiln deploy --asg shop-flag --strategy instance-refresh --batch-size 50%",
            FILE,
        );
        assert_eq!(flags.group.as_str(), "shop-flag");
        assert_eq!(flags.strategy, Strategy::InstanceRefresh);
        assert_eq!(flags.batch, Batch::Percent(Percent(50)));
        let file = rollout_of("kiln rollback", FILE);
        assert_eq!(file.group.as_str(), "shop-file");
        assert_eq!(file.strategy, Strategy::BlueGreen);
        assert_eq!(file.batch, Batch::Count(2));
        let defaults = rollout_of("kiln deploy --asg shop-flag", "");
        assert_eq!(defaults.strategy, Strategy::Rolling);
        assert_eq!(defaults.batch, Batch::Percent(Percent(25)));
        assert_eq!(defaults.timeout, Span::minutes(30));
        assert!(defaults.github.is_none() && defaults.via_terraform.is_none());
    }

    #[test]
    fn deploy_defaults_to_the_tested_image_and_via_terraform_to_the_files_stack() {
        let Settings::Deploy(deploy) = settings_of(
            "kiln deploy --via terraform",
            "[deploy]\nasg = \"shop\"\nterraform_dir = \"infra\"\n",
            &[("KILN_CHANNEL_TESTED", "qa")],
        )
        .unwrap() else {
            panic!("not a deploy");
        };
        assert_eq!(deploy.reference.to_string(), "app:qa");
        let stack = deploy.rollout.via_terraform.unwrap();
        assert_eq!(stack.dir, Path::new("infra"));
        assert_eq!(
            (stack.var.as_str(), stack.var_files.len(), stack.workspace),
            ("ami_id", 0, None),
            "the AMI goes to var.ami_id, in the stack's selected workspace"
        );
    }

    #[test]
    fn terraform_var_var_files_and_workspace_from_flags_over_the_file() {
        let dir = std::env::temp_dir().join(format!("kiln-tfvars-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["common.tfvars", "prod.tfvars"] {
            std::fs::write(dir.join(name), "instance_type = \"t3.small\"\n").unwrap();
        }
        let stack = |line: &str, file: &str| match settings_of(line, file, &[]) {
            Ok(Settings::Deploy(deploy)) => Ok(deploy.rollout.via_terraform.unwrap()),
            Ok(other) => panic!("not a deploy: {other:?}"),
            Err(err) => Err(err.to_string()),
        };
        let file = format!(
            "[deploy]\nasg = \"shop\"\nterraform_var = \"image_id\"\nterraform_workspace = \"staging\"\nterraform_var_file = [\"{0}/common.tfvars\", \"{0}/prod.tfvars\"]\n",
            dir.display()
        );
        let from_file = stack("kiln deploy --via terraform", &file).unwrap();
        assert_eq!(from_file.var, "image_id");
        assert_eq!(from_file.workspace.as_deref(), Some("staging"));
        assert_eq!(
            from_file.var_files,
            [dir.join("common.tfvars"), dir.join("prod.tfvars")]
        );
        let line = format!(
            "kiln deploy --via terraform --terraform-var app_ami --terraform-workspace production --terraform-var-file {}",
            dir.join("prod.tfvars").display()
        );
        let from_flags = stack(&line, &file).unwrap();
        assert_eq!(from_flags.var, "app_ami");
        assert_eq!(from_flags.workspace.as_deref(), Some("production"));
        assert_eq!(from_flags.var_files, [dir.join("prod.tfvars")]);
        let single = "[deploy]\nasg = \"shop\"\nterraform_var_file = \"missing.tfvars\"\n";
        assert_eq!(
            stack("kiln deploy --via terraform", single).unwrap_err(),
            "invalid value `missing.tfvars` in kiln.toml: key `deploy.terraform_var_file`: expected an existing .tfvars file (in the stack, or relative to here)"
        );
        assert_eq!(
            stack(
                "kiln deploy --via terraform --terraform-var 1ami",
                "[deploy]\nasg = \"shop\"\n"
            )
            .unwrap_err(),
            "invalid value `1ami` in --terraform-var: expected a Terraform name: letters, digits, `_` and `-`, starting with a letter or `_`"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_rollout_values_name_their_flag() {
        let err = |line: &str| settings_of(line, FILE, &[]).unwrap_err().to_string();
        assert_eq!(
            err("kiln deploy --via ansible"),
            "invalid value `ansible` in --via: expected `terraform` or `cloudformation` (or leave it out: kiln makes the launch template version)"
        );
        assert_eq!(
            err("kiln deploy --max-healthy 90%"),
            "invalid value `90%` in --max-healthy: expected a percentage from 100% to 200%"
        );
        assert_eq!(
            err("kiln rollback --keep-old=-1x"),
            "invalid value `-1x` in --keep-old: expected a whole number of old groups to keep, 0 or more"
        );
        let no_group = settings_of("kiln deploy", "", &[]).unwrap_err();
        assert!(
            matches!(no_group, crate::error::Error::NoGroup),
            "{no_group}"
        );
    }

    #[test]
    fn the_github_target_comes_from_the_ci_environment() {
        let deploy = |env: &[(&str, &str)]| match settings_of("kiln deploy", FILE, env) {
            Ok(Settings::Deploy(deploy)) => Ok(deploy.rollout.github),
            Ok(other) => panic!("not a deploy: {other:?}"),
            Err(error) => Err(error.to_string()),
        };
        let target = deploy(&[
            ("GITHUB_TOKEN", "ghs_x"),
            ("GITHUB_REPOSITORY", "octo-org/shop"),
        ])
        .unwrap()
        .expect("recording is on with both variables");
        assert_eq!(
            (target.owner.as_str(), target.repo.as_str()),
            ("octo-org", "shop")
        );
        assert!(deploy(&[("GITHUB_TOKEN", "ghs_x")]).unwrap().is_none());
        assert_eq!(
            settings_of("kiln deploy --github", FILE, &[])
                .unwrap_err()
                .to_string(),
            "invalid value `` in --github: expected GITHUB_TOKEN and GITHUB_REPOSITORY in the environment"
        );
    }

    #[test]
    fn prune_flags_win_over_the_defaults_and_bad_ones_are_named() {
        let prune = |line: &str| match settings_of(line, "", &[]) {
            Ok(Settings::Prune(prune)) => Ok(prune),
            Ok(other) => panic!("not a prune: {other:?}"),
            Err(error) => Err(error.to_string()),
        };
        let defaults = prune("kiln prune").unwrap();
        assert_eq!(
            (defaults.keep, defaults.keep_versions, defaults.apply),
            (5, 10, false)
        );
        assert_eq!(defaults.min_age, Span::secs(7 * 86_400));
        let given = prune("kiln prune --keep 2 --min-age 1h --keep-versions 0 --apply").unwrap();
        assert_eq!((given.keep, given.keep_versions, given.apply), (2, 0, true));
        assert_eq!(given.min_age, Span::secs(3600));
        assert_eq!(
            prune("kiln prune --keep many").unwrap_err(),
            "invalid value `many` in --keep: expected a whole number, 0 or more"
        );
        assert_eq!(
            prune("kiln prune --price-per-gib=-1").unwrap_err(),
            "invalid value `-1` in --price-per-gib: expected a price in dollars per GiB-month, e.g. 0.05"
        );
    }

    #[test]
    fn references_are_checked_against_the_configured_channels() {
        let env = [("KILN_CHANNEL_PRODUCTION", "live")];
        let Settings::Promote(promote) =
            settings_of("kiln promote app:tested --to live", "", &env).unwrap()
        else {
            panic!("not a promote");
        };
        assert_eq!(promote.channel.as_str(), "live");
        let err = settings_of("kiln promote app:7 --to production", "", &env).unwrap_err();
        assert!(
            matches!(err, crate::error::Error::UnknownChannel { .. }),
            "{err}"
        );
        let Settings::Revoke(revoke) =
            settings_of("kiln revoke ami-0123456789abcdef0 --undo", "", &[]).unwrap()
        else {
            panic!("not a revoke");
        };
        assert!(matches!(revoke.target, RevokeTarget::Ami(_)));
        assert!(revoke.undo && revoke.reason.is_empty());
    }
}
