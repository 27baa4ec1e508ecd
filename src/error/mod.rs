//! The one error type of kiln.
//!
//! Every failure a user can meet is a variant here, with a message that says what
//! failed and why, a `help` line that says what to do, and an exit code by class.
//! `main` prints an error once, at the top; nothing else prints errors.
//!
//! Each variant's message, help and exit code are written together, in one arm
//! of one match that returns a [`Described`], so a help line is read next to the
//! message it answers and cannot drift from it. The arms are split by area, one
//! file each, because the areas are read and changed separately:
//!
//! - `usage`: flags, kiln.toml, arguments, input files (mostly exit 2)
//! - `registry`: SSM versions, channels, images, limits, prune (exit 4 and 1)
//! - `aws`: reaching and using AWS at all (exit 5, and 1 for a refused call)
//! - `bake`: Packer and the other tools, publishing to several regions
//! - `verify`: Goss results (exit 6 and 7)
//! - `deploy`: groups, the tested gate, the lock, rollouts, rollback
//! - `run`: the run as a whole: interrupted, leftovers, files (exit 130, 3, 1)
//!
//! [`Error::describe`] routes each variant to its area; the compiler checks that
//! every variant is routed, and a unit test builds one of each.

mod aws;
mod bake;
mod deploy;
mod registry;
mod run;
mod usage;
mod verify;

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
    /// Ran to the end, but stdout was closed before the results were written (a
    /// reader that quit early): the code a shell gives a process ended by SIGPIPE.
    pub const OUTPUT_CLOSED: u8 = 141;
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
    /// A file kiln will write (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, --junit) cannot
    /// be written: found before anything was changed.
    OutputUnwritable {
        path: PathBuf,
        /// Which file it is: `GITHUB_OUTPUT`, `--junit`…
        what: String,
        detail: String,
    },
    /// The AWS profile asked for is in neither AWS file.
    AwsProfileNotFound {
        profile: String,
        /// Where the name came from: `--profile`, AWS_PROFILE, kiln.toml.
        source: String,
        config_file: PathBuf,
        credentials_file: PathBuf,
    },
    /// An SSO profile without a login: its token cache file is missing.
    AwsSsoLogin {
        profile: String,
        cache: PathBuf,
    },
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
        /// The id came from the registry (a reference resolved to it), not from the user.
        from_registry: bool,
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
        /// The proxy variables in effect (`HTTPS_PROXY=…, NO_PROXY=…`), if any.
        proxies: Option<String>,
    },
    /// `AWS_CA_BUNDLE` or a profile's `ca_bundle` names a file kiln cannot use.
    CaBundle {
        path: PathBuf,
        /// Where the file's name came from, for the message.
        origin: String,
        detail: String,
    },
    AwsCredentials {
        detail: String,
        /// The profile named (`--profile`, kiln.toml, AWS_PROFILE), if any: the
        /// help then speaks of it rather than of setting one.
        profile: Option<String>,
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
    /// Packer built, but not in kiln's primary region: what it made is untracked.
    BuiltElsewhere {
        primary: String,
        role: String,
        /// (region, AMI) of each image Packer reported.
        built: Vec<(String, String)>,
    },
    /// The template's AMI name is taken (a fixed `ami_name`, baked before).
    AmiNameTaken {
        name: Option<String>,
        existing: Option<String>,
        tail: Vec<String>,
    },
    /// The template makes several builds and no `--only` picks one.
    SeveralBuilds {
        template: PathBuf,
        role: String,
        builds: Vec<String>,
    },
    /// The template declares `required_plugins`, which this Packer cannot read.
    PackerTooOld {
        installed: String,
    },
    /// An app bake's template builds on another image than the registry's base,
    /// and `--strict-lineage` makes that an error.
    LineageMismatch {
        built_on: String,
        base: String,
        base_version: String,
        /// The AMI Packer made anyway (the mismatch was learned from Packer's output).
        left: Option<String>,
    },
    /// A `source_ami_filter` without `most_recent` matches several images (Packer
    /// refuses that too).
    AmbiguousSource {
        build: String,
        images: Vec<String>,
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
    /// stdout was closed before the results were written; the run itself ended
    /// as it would have (changes made, teardown done).
    OutputClosed,
    /// A dry run without AWS access reached a read it cannot make: the stage ends
    /// there and `lib::run` prints the plan (never shown as an error).
    Offline,
    /// kiln broke one of its own rules (a bug): says which, instead of panicking.
    Internal {
        detail: String,
    },
    /// kiln was told to stop (SIGINT/SIGTERM) and stopped what it was running.
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
        /// Where it broke, for help that fits.
        stage: BrokenAt,
    },
    /// No Auto Scaling group was named.
    NoGroup,
    /// `--env NAME` names no environment of kiln.toml.
    UnknownEnvironment {
        source: Source,
        name: String,
        known: Vec<String>,
    },
    /// `--asg NAME` with `--env`: the group is not one of the environment's.
    NotInEnvironment {
        group: String,
        environment: String,
        groups: Vec<String>,
    },
    /// The image never ran in the environment an `after` gate names.
    NotAfter {
        subject: String,
        environment: String,
        after: String,
        channel: String,
        role: String,
    },
    /// A deploy record does not fit in an SSM parameter value.
    LedgerRecordTooLarge {
        parameter: String,
        bytes: usize,
        groups: usize,
    },
    /// After a rollback a group still launches or runs another image.
    RollbackIncomplete {
        group: String,
        region: String,
        detail: String,
    },
    GroupNotFound {
        group: String,
        region: String,
    },
    /// The group does not launch from a launch template kiln can version.
    GroupWithoutTemplate {
        group: String,
    },
    /// The group launches from a launch configuration: refused before any change.
    GroupOnLaunchConfiguration {
        group: String,
        configuration: String,
        region: String,
    },
    /// Blue-green makes a new group from a bare launch template: a mixed group's
    /// policy (overrides, Spot mix) would be lost, so it is refused.
    BlueGreenMixedGroup {
        group: String,
    },
    /// A deploy or rollback stopped by a signal, with what the group is left on.
    DeployInterrupted {
        signal: String,
        /// `deploy` or `rollback`.
        command: String,
        group: String,
        /// `TEMPLATE version N`: what the group launches now.
        launches: String,
        /// Its instances by version and image, e.g. `2 on version 5 (ami-…)`.
        running: Vec<String>,
    },
    /// `--terraform-workspace NAME` names a workspace the stack does not have.
    TerraformWorkspaceMissing {
        workspace: String,
        dir: String,
        /// The stack's workspaces, as `terraform workspace list` printed them.
        available: Vec<String>,
    },
    /// `--via cloudformation` without `--stack` or `cloudformation_stack`.
    NoStack,
    /// `--via cloudformation --stack NAME`: CloudFormation has no such stack.
    StackMissing {
        stack: String,
        region: String,
    },
    /// The stack has no parameter of the `--stack-parameter` name.
    StackParameterMissing {
        stack: String,
        parameter: String,
        /// The stack's parameters.
        available: Vec<String>,
    },
    /// The stack is busy (an update or rollback in progress), before kiln's update
    /// or still after the rollout's timeout.
    StackBusy {
        stack: String,
        status: String,
        /// How long kiln waited, when it did.
        waited: Option<String>,
    },
    /// The stack's update failed and CloudFormation rolled it back.
    StackUpdateFailed {
        stack: String,
        /// The status the stack ended in (`UPDATE_ROLLBACK_COMPLETE`, …).
        status: String,
        /// Each failed resource: `LogicalId (STATUS): reason`, the cause first.
        failures: Vec<String>,
    },
    /// After the stack's update, its launch template's newest version does not
    /// pin the AMI: the parameter does not reach the template's ImageId.
    StackDidNotPin {
        stack: String,
        parameter: String,
        template: String,
        ami: String,
        /// The newest version and its image.
        newest: String,
    },
    /// The image is not on the tested channel and --force was not given.
    NotTested {
        subject: String,
        channel: String,
        role: String,
        /// `kiln rollback` has no --force: the help points at `kiln deploy --force`.
        rollback: bool,
    },
    /// Another deploy (or an instance refresh) is in progress on the group.
    DeployLocked {
        group: String,
        holder: String,
        lock: String,
        region: String,
        /// An instance refresh holds the group, not another kiln run's lock.
        by_refresh: bool,
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
        /// What is left, each as the teardown describes it.
        left: Vec<Leftover>,
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

/// Something the teardown could not remove: what it is and how a person removes
/// it (the teardown knows both; see `teardown::Temporary`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// e.g. `verify instance i-0abc… in eu-west-1`.
    pub what: String,
    /// An instruction, e.g. `terminate it: aws ec2 terminate-instances …`.
    pub by_hand: String,
}

/// Where a verify got no usable results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokenAt {
    /// The instance never ran, its SSM agent never came online, or SSM did not
    /// run the command to the end.
    Instance,
    /// On the instance: goss is missing, the spec did not load, or its output is
    /// not a usable report.
    Goss,
    /// The results file given with `--results` is not a usable report.
    Results,
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

/// A variant's exit code, message and help, written in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Described {
    exit: u8,
    message: String,
    help: Option<String>,
}

impl Described {
    fn new(exit: u8, message: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
            help: Some(help.into()),
        }
    }

    /// For errors whose message already says everything there is to do.
    fn without_help(exit: u8, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
            help: None,
        }
    }
}

impl Error {
    /// The exit code of the error's class (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        self.describe().exit
    }

    /// What the user can do about it.
    pub fn help(&self) -> Option<String> {
        self.describe().help
    }

    /// Each variant's message, help and exit code, from its area's file.
    fn describe(&self) -> Described {
        use Error::*;
        match self {
            InvalidValue { .. }
            | ConfigFile { .. }
            | NoApp
            | NoRegion
            | OutputUnwritable { .. }
            | AwsProfileNotFound { .. }
            | ChannelClash { .. }
            | UnknownChannel { .. }
            | InputMissing { .. }
            | TemplateNotFound { .. } => usage::describe(self),
            ParameterNotFound { .. }
            | VersionNotFound { .. }
            | ChannelEmpty { .. }
            | AmiNotFound { .. }
            | AmiNotAvailable { .. }
            | AmiBelongsElsewhere { .. }
            | Revoked { .. }
            | VersionLimit { .. }
            | LabelLimit { .. }
            | NotVisible { .. }
            | PruneIncomplete { .. } => registry::describe(self),
            AwsUnreachable { .. }
            | CaBundle { .. }
            | AwsCredentials { .. }
            | AwsSsoLogin { .. }
            | AwsAccessDenied { .. }
            | AwsTimeout { .. }
            | AwsThrottled { .. }
            | Aws { .. } => aws::describe(self),
            ToolMissing { .. }
            | ToolFailed { .. }
            | NoArtifact { .. }
            | BadArtifact { .. }
            | BuiltElsewhere { .. }
            | AmiNameTaken { .. }
            | SeveralBuilds { .. }
            | PackerTooOld { .. }
            | LineageMismatch { .. }
            | AmbiguousSource { .. }
            | Regions { .. } => bake::describe(self),
            TestsFailed { .. } | VerifyBroken { .. } => verify::describe(self),
            NoGroup
            | UnknownEnvironment { .. }
            | NotInEnvironment { .. }
            | NotAfter { .. }
            | LedgerRecordTooLarge { .. }
            | RollbackIncomplete { .. }
            | GroupNotFound { .. }
            | GroupWithoutTemplate { .. }
            | GroupOnLaunchConfiguration { .. }
            | TerraformWorkspaceMissing { .. }
            | NoStack
            | StackMissing { .. }
            | StackParameterMissing { .. }
            | StackBusy { .. }
            | StackUpdateFailed { .. }
            | StackDidNotPin { .. }
            | DeployInterrupted { .. }
            | BlueGreenMixedGroup { .. }
            | NotTested { .. }
            | DeployLocked { .. }
            | DeployFailed { .. }
            | NothingToRollBack { .. } => deploy::describe(self),
            Io { .. }
            | Offline
            | OutputClosed
            | Internal { .. }
            | Interrupted { .. }
            | CleanupFailed { .. } => run::describe(self),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe().message)
    }
}

impl std::error::Error for Error {}

/// An area was handed a variant `describe` routes elsewhere: a bug in the routing.
fn misrouted(area: &str, error: &Error) -> ! {
    unreachable!("{error:?} is routed to error::{area}, which does not describe it")
}

#[cfg(test)]
mod tests;
