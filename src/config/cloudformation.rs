//! `--via cloudformation`: which stack kiln updates and which of its parameters
//! takes the AMI id, from `--stack`/`--stack-parameter` over `[deploy]`'s (or an
//! environment's) `cloudformation_stack`/`cloudformation_parameter`.

use super::deploy::DeployConfig;
use super::flag_or;
use crate::cli::DeployArgs;
use crate::error::{Error, Result, Source};

/// `--via cloudformation`: the stack, and the parameter that receives the AMI id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudFormationStack {
    pub name: String,
    pub parameter: String,
}

/// The parameter's name when neither the flag nor kiln.toml gives one.
pub const DEFAULT_PARAMETER: &str = "AmiId";

/// A stack name: letters, digits and `-`, starting with a letter, at most 128
/// (CloudFormation's own rule); a stack id (an ARN) is accepted as it is.
pub(super) fn stack_name(value: &str, source: &Source) -> Result<String> {
    let arn = value.starts_with("arn:") && value.contains(":stack/");
    let mut chars = value.chars();
    let named = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
        && value.len() <= 128;
    if arn || named {
        return Ok(value.to_string());
    }
    Err(Error::InvalidValue {
        source: source.clone(),
        value: value.to_string(),
        expected: "a CloudFormation stack name: letters, digits and `-`, starting with a letter"
            .into(),
    })
}

/// A template parameter's logical id: letters and digits only.
pub(super) fn parameter_name(value: &str, source: &Source) -> Result<String> {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Ok(value.to_string());
    }
    Err(Error::InvalidValue {
        source: source.clone(),
        value: value.to_string(),
        expected: "a CloudFormation parameter name: letters and digits, e.g. AmiId".into(),
    })
}

/// The flags over the file's keys; the stack must be named in one of them.
pub(super) fn stack(args: &DeployArgs, file: &DeployConfig) -> Result<CloudFormationStack> {
    let name = flag_or(
        args.stack.as_deref(),
        "--stack",
        |v, s| stack_name(v, s).map(Some),
        file.cloudformation_stack.clone(),
    )?
    .ok_or(Error::NoStack)?;
    let parameter = flag_or(
        args.stack_parameter.as_deref(),
        "--stack-parameter",
        parameter_name,
        file.cloudformation_parameter.clone(),
    )?;
    Ok(CloudFormationStack { name, parameter })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::Parser;

    use crate::cli::Cli;
    use crate::config::{CloudFormationStack, Env, Settings, load, parse_file, settings};

    fn stack_of(line: &str, kiln_toml: &str) -> Result<CloudFormationStack, String> {
        let cli = Cli::try_parse_from(line.split_whitespace()).expect("a valid command line");
        let mut config = load(&cli.global, &Env::from_pairs(&[])).unwrap();
        let file = parse_file(Path::new("kiln.toml"), kiln_toml).map_err(|e| e.to_string())?;
        config.deploy = file.deploy;
        config.environments = file.environments;
        match settings(&cli.command, &config) {
            Ok(Settings::Deploy(deploy)) => Ok(deploy.rollout.via_cloudformation.unwrap()),
            Ok(other) => panic!("not a deploy: {other:?}"),
            Err(err) => Err(err.to_string()),
        }
    }

    #[test]
    fn the_stack_and_parameter_from_flags_over_deploy_over_an_environment() {
        let file = "[deploy]\nasg = \"shop\"\ncloudformation_stack = \"shop-stack\"\n\
            [environments.staging]\ngroups = [\"shop-staging\"]\ncloudformation_stack = \"shop-staging\"\ncloudformation_parameter = \"ImageId\"\n";
        let from_deploy = stack_of("kiln deploy --via cloudformation", file).unwrap();
        assert_eq!(
            (from_deploy.name.as_str(), from_deploy.parameter.as_str()),
            ("shop-stack", "AmiId")
        );
        let from_env = stack_of("kiln deploy --via cloudformation --env staging", file).unwrap();
        assert_eq!(
            (from_env.name.as_str(), from_env.parameter.as_str()),
            ("shop-staging", "ImageId")
        );
        let from_flags = stack_of(
            "kiln deploy --via cloudformation --env staging --stack other --stack-parameter Ami",
            file,
        )
        .unwrap();
        assert_eq!(
            (from_flags.name.as_str(), from_flags.parameter.as_str()),
            ("other", "Ami")
        );
    }

    #[test]
    fn a_missing_or_malformed_stack_or_parameter_is_refused() {
        let file = "[deploy]\nasg = \"shop\"\n";
        assert_eq!(
            stack_of("kiln deploy --via cloudformation", file).unwrap_err(),
            "no CloudFormation stack given for --via cloudformation"
        );
        assert_eq!(
            stack_of("kiln deploy --via cloudformation --stack 9lives", file).unwrap_err(),
            "invalid value `9lives` in --stack: expected a CloudFormation stack name: letters, digits and `-`, starting with a letter"
        );
        assert_eq!(
            stack_of(
                "kiln deploy --via cloudformation --stack shop --stack-parameter Ami_Id",
                file
            )
            .unwrap_err(),
            "invalid value `Ami_Id` in --stack-parameter: expected a CloudFormation parameter name: letters and digits, e.g. AmiId"
        );
        let arn = "arn:aws:cloudformation:eu-west-1:123456789012:stack/shop/1a2b";
        assert_eq!(
            stack_of(
                &format!("kiln deploy --via cloudformation --stack {arn}"),
                file
            )
            .unwrap()
            .name,
            arn
        );
    }
}
