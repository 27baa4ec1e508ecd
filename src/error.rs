//! The one error type of kiln.
//!
//! Every failure a user can meet is a variant here, with a message that says what
//! failed and why, a `help` line that says what to do, and an exit code by class.
//! `main` prints an error once, at the top; nothing else prints errors.

use std::fmt;
use std::path::PathBuf;

/// Exit codes, by class. Documented in the README; scripts depend on them.
pub mod exit {
    /// Everything went as asked.
    pub const OK: u8 = 0;
    /// A stage failed (AWS refused a change, a limit was hit, a tool failed).
    pub const FAILED: u8 = 1;
    /// Bad usage or configuration: flags, kiln.toml, KILN_* variables, arguments.
    pub const USAGE: u8 = 2;
    /// Something kiln created temporarily could not be cleaned up.
    pub const CLEANUP: u8 = 3;
    /// What was asked for does not exist: parameter, version, channel, AMI.
    pub const NOT_FOUND: u8 = 4;
    /// AWS could not be used: no credentials, access denied, endpoint unreachable, timeout.
    pub const AWS: u8 = 5;
    /// The image's tests failed (kiln verify).
    pub const TESTS_FAILED: u8 = 6;
    /// The image or the verify infrastructure is broken: no usable test results.
    pub const BROKEN: u8 = 7;
    /// Stopped by SIGINT or SIGTERM (after stopping what kiln was running).
    pub const INTERRUPTED: u8 = 130;
}

/// Where a configuration value came from, so a message can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    File { path: PathBuf, key: String },
    Argument(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "{flag}"),
            Source::Env(var) => write!(f, "environment variable {var}"),
            Source::File { path, key } => write!(f, "{}: key `{key}`", path.display()),
            Source::Argument(name) => write!(f, "argument {name}"),
        }
    }
}

#[derive(Debug)]
pub enum Error {
    /// A value (flag, variable, file key, argument) is malformed.
    InvalidValue {
        source: Source,
        value: String,
        expected: String,
    },
    /// kiln.toml could not be read or parsed, or holds an unknown key.
    ConfigFile {
        path: PathBuf,
        problem: String,
        help: String,
    },
    /// A command that touches the registry was run without an app name.
    NoApp,
    /// No AWS region anywhere (flag, env, kiln.toml, AWS profile).
    NoRegion,
    /// The two channels were given the same name.
    ChannelClash {
        name: String,
    },
    /// A reference names a channel that is not configured.
    UnknownChannel {
        channel: String,
        known: Vec<String>,
    },
    ParameterNotFound {
        parameter: String,
        region: String,
        role: String,
    },
    VersionNotFound {
        parameter: String,
        version: u64,
        latest: u64,
        role: String,
    },
    ChannelEmpty {
        parameter: String,
        channel: String,
        role: String,
    },
    AmiNotFound {
        ami: String,
        region: String,
    },
    /// The AMI exists but is not in the `available` state.
    AmiNotAvailable {
        ami: String,
        state: String,
    },
    /// The AMI carries kiln tags of another app or role.
    AmiBelongsElsewhere {
        ami: String,
        tag: String,
        found: String,
        wanted: String,
    },
    /// The AMI was revoked (`kiln:revoked` tag) and may not be published or promoted.
    Revoked {
        ami: String,
        reason: String,
    },
    /// SSM keeps 100 versions and cannot drop the oldest because it carries a label.
    VersionLimit {
        parameter: String,
        oldest: u64,
        labels: Vec<String>,
    },
    /// SSM allows at most 10 labels on one version.
    LabelLimit {
        parameter: String,
        version: u64,
    },
    /// A published version did not become readable (SSM's asynchronous AMI validation).
    NotVisible {
        parameter: String,
        version: u64,
        waited_secs: u64,
    },
    AwsUnreachable {
        endpoint: String,
        detail: String,
    },
    AwsCredentials {
        detail: String,
    },
    AwsAccessDenied {
        operation: String,
        message: String,
    },
    AwsTimeout {
        operation: String,
        endpoint: String,
    },
    /// AWS kept throttling after every retry.
    AwsThrottled {
        operation: String,
        message: String,
    },
    /// Any other error AWS answered with.
    Aws {
        operation: String,
        code: String,
        message: String,
    },
    Io {
        path: PathBuf,
        message: String,
    },
    /// A program kiln needs could not be started.
    ToolMissing {
        tool: String,
        detail: String,
    },
    /// A program kiln ran failed; `tail` holds its last lines.
    ToolFailed {
        tool: String,
        code: Option<i32>,
        tail: Vec<String>,
    },
    /// Packer succeeded but reported no AMI.
    NoArtifact {
        tail: Vec<String>,
    },
    /// Packer reported AMIs kiln cannot use.
    BadArtifact {
        problem: String,
    },
    /// A file named on the command line does not exist.
    InputMissing {
        path: PathBuf,
        what: &'static str,
        flag: &'static str,
    },
    /// The Packer template is not where kiln looked.
    TemplateNotFound {
        path: PathBuf,
        role: String,
    },
    /// kiln was told to stop (SIGINT/SIGTERM) and stopped what it was running.
    /// A dry run without AWS access reached a read it cannot make: the stage ends
    /// there and `lib::run` prints the plan (never shown as an error).
    Offline,
    /// kiln broke one of its own rules (a bug): says which, instead of panicking.
    Internal {
        detail: String,
    },
    Interrupted {
        signal: String,
        what: String,
    },
    /// Goss ran and some tests failed.
    TestsFailed {
        subject: String,
        failed: u64,
        total: u64,
    },
    /// There are no usable Goss results for the image.
    VerifyBroken {
        subject: String,
        detail: String,
    },
    /// No Auto Scaling group was named.
    NoGroup,
    GroupNotFound {
        group: String,
        region: String,
    },
    /// The group does not launch from a launch template kiln can version.
    GroupWithoutTemplate {
        group: String,
    },
    /// The image is not on the tested channel (or is revoked) and --force was not given.
    NotTested {
        subject: String,
        channel: String,
        role: String,
    },
    /// Another deploy (or an instance refresh) is in progress on the group.
    DeployLocked {
        group: String,
        holder: String,
        lock: String,
        region: String,
    },
    /// The rollout did not converge; `rollback` says what was done about it.
    DeployFailed {
        group: String,
        detail: String,
        rollback: RollbackOutcome,
    },
    /// Some deletions of a prune failed (the others were done).
    PruneIncomplete {
        failed: Vec<(String, String)>,
    },
    /// `kiln rollback` found nothing to return to.
    NothingToRollBack {
        detail: String,
    },
    /// Something kiln created for the run could not be removed.
    CleanupFailed {
        /// What is left, e.g. `verify instance i-0abc… in eu-west-1`.
        left: Vec<String>,
        detail: String,
        /// The error that ended the run before the cleanup, if any.
        after: Option<String>,
    },
    /// Some regions were published and others failed.
    Regions {
        published: Vec<String>,
        failed: Vec<(String, String)>,
    },
}

/// What happened after a failed rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackOutcome {
    /// The group is back on this launch template version.
    Done(String),
    /// `--no-rollback`: the group was left as it was.
    NotAsked,
    /// The rollback failed too: the group needs a person.
    Failed(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn exit_code(&self) -> u8 {
        use Error::*;
        match self {
            ChannelClash { .. } => exit::USAGE,
            InvalidValue { .. } | ConfigFile { .. } | NoApp | NoRegion | UnknownChannel { .. } => {
                exit::USAGE
            }
            AmiBelongsElsewhere { .. } => exit::USAGE,
            ParameterNotFound { .. }
            | VersionNotFound { .. }
            | ChannelEmpty { .. }
            | AmiNotFound { .. } => exit::NOT_FOUND,
            AmiNotAvailable { .. }
            | Revoked { .. }
            | VersionLimit { .. }
            | LabelLimit { .. }
            | NotVisible { .. } => exit::FAILED,
            AwsUnreachable { .. }
            | AwsCredentials { .. }
            | AwsAccessDenied { .. }
            | AwsTimeout { .. }
            | AwsThrottled { .. } => exit::AWS,
            Aws { .. } | Io { .. } => exit::FAILED,
            ToolMissing { .. }
            | ToolFailed { .. }
            | NoArtifact { .. }
            | BadArtifact { .. }
            | Regions { .. } => exit::FAILED,
            TemplateNotFound { .. } | InputMissing { .. } => exit::USAGE,
            Interrupted { .. } => exit::INTERRUPTED,
            Offline => exit::OK,
            Internal { .. } => exit::FAILED,
            TestsFailed { .. } => exit::TESTS_FAILED,
            VerifyBroken { .. } => exit::BROKEN,
            CleanupFailed { .. } => exit::CLEANUP,
            NoGroup => exit::USAGE,
            GroupNotFound { .. } | NothingToRollBack { .. } => exit::NOT_FOUND,
            PruneIncomplete { .. } => exit::FAILED,
            GroupWithoutTemplate { .. } | NotTested { .. } | DeployLocked { .. } => exit::FAILED,
            DeployFailed { rollback, .. } => match rollback {
                RollbackOutcome::Failed(_) => exit::CLEANUP,
                _ => exit::FAILED,
            },
        }
    }

    /// What the user can do about it.
    pub fn help(&self) -> Option<String> {
        use Error::*;
        Some(match self {
            InvalidValue { .. } => return None,
            ConfigFile { help, .. } => help.clone(),
            NoApp => "pass --app NAME, set KILN_APP, or add `app = \"NAME\"` to kiln.toml".into(),
            NoRegion => "pass --region, set AWS_REGION, or add `region = \"...\"` to kiln.toml".into(),
            UnknownChannel { .. } => {
                "channel names are set in kiln.toml under [channels]".into()
            }
            ChannelClash { .. } => {
                "give them different names ([channels] in kiln.toml, KILN_CHANNEL_TESTED, KILN_CHANNEL_PRODUCTION)".into()
            }
            ParameterNotFound { role, .. } => {
                format!("run `kiln bake {role}` first, or `kiln publish {role} AMI_ID`")
            }
            VersionNotFound { role, .. } => format!("list the versions with `kiln history {role}`"),
            ChannelEmpty { role, channel, .. } => {
                format!("promote a version first: `kiln promote {role}:VERSION --to {channel}`")
            }
            AmiNotFound { .. } => {
                "check the id and the region (--region); AMIs are regional".into()
            }
            AmiNotAvailable { .. } => {
                "wait until the image is available, or publish another image".into()
            }
            AmiBelongsElsewhere { .. } => {
                "publish it under the app and role its tags name, or fix its kiln:* tags".into()
            }
            Revoked { .. } => {
                "publish or promote another image; if the revocation was a mistake, remove the AMI's kiln:revoked tag".into()
            }
            VersionLimit { labels, .. } => format!(
                "move the label(s) {} to a newer version with `kiln promote`, then publish again",
                labels.join(", ")
            ),
            LabelLimit { .. } => {
                "remove labels you no longer need from that version (aws ssm unlabel-parameter-version)".into()
            }
            NotVisible { .. } => {
                "SSM validates aws:ec2:image values after accepting them: check the AMI exists in this region and that the caller may call ec2:DescribeImages".into()
            }
            AwsUnreachable { .. } => {
                "check --endpoint-url / AWS_ENDPOINT_URL, the region and the network".into()
            }
            AwsCredentials { .. } => {
                "set AWS_PROFILE (run `aws sso login` for SSO), export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure an OIDC role in CI; `--dry-run` works without credentials".into()
            }
            AwsAccessDenied { operation, .. } => {
                format!("grant the caller permission for {operation}")
            }
            AwsTimeout { .. } => "retry; check the network and the endpoint".into(),
            AwsThrottled { .. } => {
                "retry later, or allow more attempts with AWS_MAX_ATTEMPTS (default 8)".into()
            }
            Aws { .. } | Io { .. } => return None,
            ToolMissing { tool, .. } if tool == "packer" => {
                "install Packer (Debian/Ubuntu: `apt-get install packer`; or HashiCorp's release from developer.hashicorp.com/packer/install) and make sure it is on PATH".into()
            }
            ToolMissing { tool, .. } if tool == "terraform" => {
                "install Terraform (developer.hashicorp.com/terraform/install) and make sure it is on PATH, or deploy without --via terraform".into()
            }
            ToolMissing { tool, .. } => format!("install {tool} and make sure it is on PATH"),
            InputMissing { flag, .. } => format!("check the path given to {flag}"),
            TemplateNotFound { role, .. } => format!(
                "pass --template PATH, or set {role}_template under [bake] in kiln.toml; the kiln repository's packer/ directory has reference templates"
            ),
            ToolFailed { tool, .. } if tool == "terraform" => {
                "the group was not changed; fix the stack (`terraform plan` shows what apply tried) and run kiln deploy again".into()
            }
            ToolFailed { .. } | NoArtifact { .. } | BadArtifact { .. } => {
                "nothing was published; fix the template or the build and run kiln again".into()
            }
            Offline => return None,
            Internal { .. } => {
                "this is a bug in kiln: please report it with the command line and this message"
                    .into()
            }
            Interrupted { .. } => {
                "nothing was published or promoted, and what kiln had started was removed; run the command again".into()
            }
            TestsFailed { .. } => {
                "nothing was promoted; the failures are listed above (and in the JUnit report with --junit)".into()
            }
            VerifyBroken { .. } => {
                "nothing was promoted; check that goss is installed on the image and that the spec loads (`goss validate` on a machine from this image)".into()
            }
            NoGroup => "pass --asg NAME, or set asg under [deploy] in kiln.toml".into(),
            GroupNotFound { .. } => "check the name and the region (--region)".into(),
            GroupWithoutTemplate { .. } => {
                "kiln deploys groups that launch from a launch template (not a launch configuration or a mixed instances policy); move the group to a launch template first".into()
            }
            NotTested { role, channel, .. } => format!(
                "verify it first (`kiln verify {role}:VERSION` promotes it to {channel}), or pass --force to deploy it anyway"
            ),
            DeployLocked { lock, region, .. } => format!(
                "wait for it to finish; if its run is gone (a crashed job), the lock expires by itself, or remove it: aws ssm delete-parameter --name {lock} --region {region}"
            ),
            DeployFailed { rollback, .. } => match rollback {
                RollbackOutcome::Done(_) => {
                    "production was not moved; look at the new instances' health (target group health checks, the app's logs) and deploy a fixed image".into()
                }
                RollbackOutcome::NotAsked => {
                    "the group was left on the new version (--no-rollback); production was not moved: `kiln rollback` returns to the production image".into()
                }
                RollbackOutcome::Failed(_) => {
                    "the group is between versions: check it in the console, then run `kiln rollback`".into()
                }
            },
            PruneIncomplete { .. } => {
                "run kiln prune --apply again: what was deleted stays deleted, the rest is retried".into()
            }
            NothingToRollBack { .. } => {
                "name the image to return to: `kiln rollback --to app:VERSION` (`kiln history app` lists them)".into()
            }
            CleanupFailed { .. } => {
                "remove it yourself (aws ec2 terminate-instances --instance-ids ID), or run `kiln verify --cleanup` once its lifetime has passed; it also shuts itself down at the end of its lifetime".into()
            }
            Regions { .. } => {
                "run the command again: regions already published keep their version, the others are retried".into()
            }
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Error::*;
        match self {
            InvalidValue {
                source,
                value,
                expected,
            } => write!(
                f,
                "invalid value `{value}` in {source}: expected {expected}"
            ),
            ConfigFile { path, problem, .. } => write!(f, "{}: {problem}", path.display()),
            NoApp => write!(f, "no app name given"),
            ChannelClash { name } => write!(
                f,
                "the tested and production channels are both named `{name}`"
            ),
            NoRegion => write!(f, "no AWS region configured"),
            UnknownChannel { channel, known } => write!(
                f,
                "unknown channel `{channel}`: the channels are {}",
                known.join(", ")
            ),
            ParameterNotFound {
                parameter, region, ..
            } => write!(f, "no parameter {parameter} in {region}"),
            VersionNotFound {
                parameter,
                version,
                latest,
                ..
            } => write!(
                f,
                "{parameter} has no version {version} (the latest is {latest})"
            ),
            ChannelEmpty {
                parameter, channel, ..
            } => write!(f, "channel `{channel}` of {parameter} is empty"),
            AmiNotFound { ami, region } => write!(f, "AMI {ami} does not exist in {region}"),
            AmiNotAvailable { ami, state } => write!(f, "AMI {ami} is {state}, not available"),
            AmiBelongsElsewhere {
                ami,
                tag,
                found,
                wanted,
            } => write!(f, "AMI {ami} is tagged {tag}={found}, not {wanted}"),
            Revoked { ami, reason } => write!(f, "AMI {ami} is revoked: {reason}"),
            VersionLimit {
                parameter,
                oldest,
                labels,
            } => write!(
                f,
                "{parameter} already has 100 versions and its oldest, version {oldest}, carries the label(s) {}: SSM cannot drop it to add a new version",
                labels.join(", ")
            ),
            LabelLimit { parameter, version } => write!(
                f,
                "version {version} of {parameter} already carries 10 labels, the most SSM allows"
            ),
            NotVisible {
                parameter,
                version,
                waited_secs,
            } => write!(
                f,
                "version {version} of {parameter} was accepted but is still not readable after {waited_secs}s"
            ),
            AwsUnreachable { endpoint, detail } => {
                write!(f, "cannot reach AWS at {endpoint}: {detail}")
            }
            AwsCredentials { detail } => write!(f, "no usable AWS credentials: {detail}"),
            AwsAccessDenied { operation, message } => {
                write!(f, "access denied to {operation}: {message}")
            }
            AwsTimeout {
                operation,
                endpoint,
            } => write!(f, "{operation} timed out talking to {endpoint}"),
            AwsThrottled { operation, message } => {
                write!(f, "AWS throttled {operation} on every attempt: {message}")
            }
            Aws {
                operation,
                code,
                message,
            } => write!(f, "{operation} failed: {code}: {message}"),
            Io { path, message } => write!(f, "{}: {message}", path.display()),
            ToolMissing { tool, detail } => write!(f, "cannot run {tool}: {detail}"),
            ToolFailed { tool, code, tail } => {
                match code {
                    Some(code) => write!(f, "{tool} failed with exit code {code}")?,
                    None => write!(f, "{tool} was killed by a signal")?,
                }
                write_tail(f, tool, tail)
            }
            NoArtifact { tail } => {
                write!(f, "packer finished without reporting an AMI")?;
                write_tail(f, "packer", tail)
            }
            BadArtifact { problem } => write!(f, "cannot use what packer reported: {problem}"),
            InputMissing { path, what, .. } => write!(f, "{}: {what} not found", path.display()),
            TemplateNotFound { path, role } => {
                write!(f, "no Packer template for {role} at {}", path.display())
            }
            TestsFailed {
                subject,
                failed,
                total,
            } => write!(f, "{failed} of {total} Goss tests failed on {subject}"),
            VerifyBroken { subject, detail } => write!(f, "cannot verify {subject}: {detail}"),
            Offline => write!(f, "a dry run without AWS access cannot read AWS"),
            Internal { detail } => write!(f, "internal error: {detail}"),
            Interrupted { signal, what } => write!(f, "interrupted by {signal} while {what}"),
            NoGroup => write!(f, "no Auto Scaling group given"),
            GroupNotFound { group, region } => {
                write!(f, "no Auto Scaling group {group} in {region}")
            }
            GroupWithoutTemplate { group } => {
                write!(
                    f,
                    "Auto Scaling group {group} does not use a launch template"
                )
            }
            NotTested {
                subject, channel, ..
            } => {
                write!(f, "{subject} is not on the {channel} channel")
            }
            DeployLocked { group, holder, .. } => {
                write!(
                    f,
                    "another deploy holds Auto Scaling group {group}: {holder}"
                )
            }
            DeployFailed {
                group,
                detail,
                rollback,
            } => {
                write!(f, "deploy to {group} failed: {detail}")?;
                match rollback {
                    RollbackOutcome::Done(version) => {
                        write!(f, "; rolled back to launch template version {version}")
                    }
                    RollbackOutcome::NotAsked => write!(f, "; not rolled back (--no-rollback)"),
                    RollbackOutcome::Failed(why) => write!(f, "; the rollback failed too: {why}"),
                }
            }
            NothingToRollBack { detail } => write!(f, "nothing to roll back to: {detail}"),
            PruneIncomplete { failed } => {
                let failed: Vec<String> = failed
                    .iter()
                    .map(|(what, why)| format!("{what} ({why})"))
                    .collect();
                write!(
                    f,
                    "{} deletions failed: {}",
                    failed.len(),
                    failed.join("; ")
                )
            }
            CleanupFailed {
                left,
                detail,
                after,
            } => {
                write!(f, "could not remove {}: {detail}", left.join(", "))?;
                match after {
                    Some(cause) => write!(f, " (after: {cause})"),
                    None => Ok(()),
                }
            }
            Regions { published, failed } => {
                let failed: Vec<String> =
                    failed.iter().map(|(r, e)| format!("{r} ({e})")).collect();
                write!(
                    f,
                    "published in {}; failed in {}",
                    if published.is_empty() {
                        "no region".to_string()
                    } else {
                        published.join(", ")
                    },
                    failed.join(", ")
                )
            }
        }
    }
}

/// A tool's last lines, indented under the message.
fn write_tail(f: &mut fmt::Formatter<'_>, tool: &str, tail: &[String]) -> fmt::Result {
    if !tail.is_empty() {
        write!(f, "; its last lines:")?;
        for line in tail.iter().flat_map(|entry| entry.lines()) {
            write!(f, "\n  {tool} | {line}")?;
        }
    }
    Ok(())
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_map_to_documented_exit_codes() {
        assert_eq!(Error::NoApp.exit_code(), 2);
        let missing = Error::AmiNotFound {
            ami: "ami-12345678".into(),
            region: "eu-west-1".into(),
        };
        assert_eq!(missing.exit_code(), 4);
        let unreachable = Error::AwsUnreachable {
            endpoint: "http://127.0.0.1:9".into(),
            detail: "connection refused".into(),
        };
        assert_eq!(unreachable.exit_code(), 5);
        let limit = Error::LabelLimit {
            parameter: "/kiln/shop/app".into(),
            version: 3,
        };
        assert_eq!(limit.exit_code(), 1);
    }

    #[test]
    fn invalid_value_names_where_it_came_from() {
        let err = Error::InvalidValue {
            source: Source::Env("KILN_REGION"),
            value: "mars".into(),
            expected: "an AWS region name such as eu-west-1".into(),
        };
        assert_eq!(
            err.to_string(),
            "invalid value `mars` in environment variable KILN_REGION: expected an AWS region name such as eu-west-1"
        );
    }
}
