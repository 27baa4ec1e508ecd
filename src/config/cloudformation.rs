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
