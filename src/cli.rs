//! The command line as typed: raw flags and arguments, before any validation.
//!
//! clap only splits the command line here. Values stay strings and become kiln's
//! types in `config`, where flags, `KILN_*` variables and kiln.toml are merged, so
//! every bad value gets the same kind of message whatever its source.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "kiln",
    version,
    about = "Immutable-infrastructure pipeline for AWS: bake, verify, deploy and prune AMIs, \
             handing image ids between stages through an SSM Parameter Store registry.",
    after_help = "Exit codes: 0 ok, 1 stage failed, 2 usage or configuration error, \
                  3 cleanup failed, 4 not found, 5 AWS unavailable (credentials, access, network), \
                  6 verify: tests failed, 7 verify: image or infrastructure broken, 130 interrupted."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Configuration file [default: ./kiln.toml if present; env: KILN_CONFIG]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Application name, one segment of the registry path [env: KILN_APP]
    #[arg(long, global = true, value_name = "NAME")]
    pub app: Option<String>,
    /// AWS region [env: KILN_REGION; else the AWS default chain]
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS shared-config profile [else kiln.toml, else AWS_PROFILE]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Send AWS calls to this endpoint, e.g. a local emulator [env: AWS_ENDPOINT_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Print what would change and change nothing [env: KILN_DRY_RUN=1]
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Result format on stdout: text or json [env: KILN_OUTPUT]
    #[arg(long, global = true, value_name = "FORMAT")]
    pub output: Option<String>,
    /// More log detail on stderr (-v, -vv, -vvv); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bake an AMI with Packer and publish it: `base`, or `app` on the registry's base
    Bake(BakeArgs),
    /// Add an AMI to the registry as the newest version of ROLE; prints the version
    Publish(PublishArgs),
    /// Gate an image on its Goss results; promote it to the tested channel on a pass
    Verify(VerifyArgs),
    /// Roll an image out to an Auto Scaling group, wait for it, roll back on failure
    Deploy(DeployArgs),
    /// Redeploy the previous production image (or --to REF)
    Rollback(RollbackArgs),
    /// Delete the app's old images and snapshots that nothing uses (a plan unless --apply)
    Prune(PruneArgs),
    /// Take a bad image out of service: channels, tag, EC2 deprecation
    Revoke(RevokeArgs),
    /// Print the AMI id a reference points at (ROLE, ROLE:CHANNEL, ROLE:VERSION)
    Resolve(ResolveArgs),
    /// Move a channel label to the version REF names
    Promote(PromoteArgs),
    /// List a role's versions, newest first, with AMI, labels, dates and provenance
    History(HistoryArgs),
    /// Show every role and channel in every configured region
    Status(StatusArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to stdout
    Completions(CompletionsArgs),
    /// Print kiln's man page (roff) to stdout, e.g. `kiln man > kiln.1`
    Man(ManArgs),
}

impl Command {
    /// The subcommand as typed, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Bake(_) => "bake",
            Command::Publish(_) => "publish",
            Command::Verify(_) => "verify",
            Command::Deploy(_) => "deploy",
            Command::Rollback(_) => "rollback",
            Command::Prune(_) => "prune",
            Command::Revoke(_) => "revoke",
            Command::Resolve(_) => "resolve",
            Command::Promote(_) => "promote",
            Command::History(_) => "history",
            Command::Status(_) => "status",
            Command::Completions(_) => "completions",
            Command::Man(_) => "man",
        }
    }
}

#[derive(Debug, Args)]
pub struct BakeArgs {
    /// Role: base or app
    pub role: String,
    /// Packer template, a file or a directory [default: from kiln.toml [bake], else packer/ROLE.pkr.hcl]
    #[arg(long, value_name = "PATH")]
    pub template: Option<PathBuf>,
    /// A Packer variable, passed through as -var (repeatable)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// A Packer variable file, passed through as -var-file (repeatable)
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// For `bake app`: the base to build on, base or base:CHANNEL or base:VERSION, or none for an app without a registry base [default: from kiln.toml [bake] app_base, else base]
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Bake even when an image with the same inputs exists
    #[arg(long)]
    pub force: bool,
    /// Bake again when the image with unchanged inputs is older than this, e.g. 7d [default: from kiln.toml [bake] max_age, else never]
    #[arg(long, value_name = "AGE")]
    pub max_age: Option<String>,
    /// For `bake app`: fail, publishing nothing, when the template builds on another image than the registry's base [default: from kiln.toml [bake] strict_lineage]
    #[arg(long)]
    pub strict_lineage: bool,
    /// Seconds to wait for SSM to validate each published version (0: do not wait)
    #[arg(long, value_name = "SECONDS", default_value = "60")]
    pub wait: String,
    /// The one build of a template with several to run (Packer's -only), e.g.
    /// amazon-ebs.ubuntu [default: [bake.ROLE] only in kiln.toml]
    #[arg(long, value_name = "NAME")]
    pub only: Option<String>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Without --results, kiln launches a throwaway instance from the image \
    ([verify] in kiln.toml: instance type, subnet, security groups, instance profile), runs \
    goss on it through SSM Run Command, and terminates it whatever happens. The image needs \
    goss and the SSM agent; the instance profile needs AmazonSSMManagedInstanceCore."
)]
pub struct VerifyArgs {
    /// The image: ROLE, ROLE:CHANNEL or ROLE:VERSION [default: app, the newest]
    pub reference: Option<String>,
    /// Goss JSON produced elsewhere (packer-plugin-goss, dgoss, a manual
    /// `goss validate --format json`): evaluate it for REF without launching anything
    #[arg(long, value_name = "FILE")]
    pub results: Option<PathBuf>,
    /// Also write the results as JUnit XML (for Jenkins' junit step, test reporters)
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Do not promote a passing image to the tested channel
    #[arg(long)]
    pub no_promote: bool,
    /// The Goss spec to run [default: goss/ROLE.yaml; [verify] goss_dir in kiln.toml]
    #[arg(long, value_name = "FILE", conflicts_with = "results")]
    pub goss: Option<PathBuf>,
    /// A Goss vars file (goss --vars)
    #[arg(long, value_name = "FILE", conflicts_with = "results")]
    pub goss_vars: Option<PathBuf>,
    /// Goss retries failing tests this long, e.g. 2m (goss --retry-timeout) [default: no retries]
    #[arg(long, value_name = "DURATION", conflicts_with = "results")]
    pub retry_timeout: Option<String>,
    /// Pause between Goss retries (goss --sleep) [default: 1s]
    #[arg(long, value_name = "DURATION", conflicts_with = "results")]
    pub sleep: Option<String>,
    /// How long the Goss command may run [default: 10m plus --retry-timeout]
    #[arg(long, value_name = "DURATION", conflicts_with = "results")]
    pub timeout: Option<String>,
    /// How long the instance may take to run and bring its SSM agent online [default: 10m]
    #[arg(long, value_name = "DURATION", conflicts_with = "results")]
    pub boot_timeout: Option<String>,
    /// Instance type [default: [verify] instance_type, else t3.micro]
    #[arg(long, value_name = "TYPE", conflicts_with = "results")]
    pub instance_type: Option<String>,
    /// Subnet to launch in [default: [verify] subnet, else the default VPC's]
    #[arg(long, value_name = "SUBNET_ID", conflicts_with = "results")]
    pub subnet: Option<String>,
    /// Security group (repeatable) [default: [verify] security_groups]
    #[arg(
        long = "security-group",
        value_name = "SG_ID",
        conflicts_with = "results"
    )]
    pub security_groups: Vec<String>,
    /// Instance profile, name or ARN, with AmazonSSMManagedInstanceCore [default: [verify] instance_profile]
    #[arg(long, value_name = "NAME", conflicts_with = "results")]
    pub instance_profile: Option<String>,
    /// Keep the instance when tests fail or the image is broken, and print how to reach it
    #[arg(long, conflicts_with = "results")]
    pub keep_on_failure: bool,
    /// Terminate this app's verify instances left by crashed runs (past their lifetime), then exit
    #[arg(long, conflicts_with_all = ["reference", "results", "junit", "goss", "keep_on_failure"])]
    pub cleanup: bool,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The image: ROLE, ROLE:CHANNEL or ROLE:VERSION [default: app:tested]
    pub reference: Option<String>,
    /// Deploy an image that is not on the tested channel
    #[arg(long)]
    pub force: bool,
    /// Let a stack make the launch template version: `terraform` runs
    /// `terraform apply -auto-approve -var ami_id=AMI` in [deploy] terraform_dir
    /// (the variable: --terraform-var); `cloudformation` updates --stack with the AMI
    /// id in --stack-parameter, every other parameter and the template kept
    #[arg(long, value_name = "DRIVER")]
    pub via: Option<String>,
    /// The Terraform stack for --via terraform [default: [deploy] terraform_dir, else terraform]
    #[arg(long, value_name = "DIR", requires = "via")]
    pub terraform_dir: Option<std::path::PathBuf>,
    /// The stack's variable that receives the AMI id [default: [deploy] terraform_var, else ami_id]
    #[arg(long, value_name = "NAME", requires = "via")]
    pub terraform_var: Option<String>,
    /// A .tfvars file for the apply, in the stack or relative to here (repeatable, in order) [default: [deploy] terraform_var_file]
    #[arg(long, value_name = "PATH", requires = "via")]
    pub terraform_var_file: Vec<std::path::PathBuf>,
    /// The Terraform workspace to apply in; it must exist [default: [deploy] terraform_workspace]
    #[arg(long, value_name = "NAME", requires = "via")]
    pub terraform_workspace: Option<String>,
    /// The CloudFormation stack for --via cloudformation [default: [deploy] cloudformation_stack]
    #[arg(long, value_name = "NAME", requires = "via")]
    pub stack: Option<String>,
    /// The stack parameter that receives the AMI id [default: [deploy] cloudformation_parameter, else AmiId]
    #[arg(long, value_name = "NAME", requires = "via")]
    pub stack_parameter: Option<String>,
    #[command(flatten)]
    pub rollout: RolloutArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The image to go back to [default: the production image before the current one]
    #[arg(long, value_name = "REF")]
    pub to: Option<String>,
    #[command(flatten)]
    pub rollout: RolloutArgs,
}

/// How a deploy or rollback rolls out; each flag overrides [deploy] in kiln.toml.
#[derive(Debug, Args)]
#[command(next_help_heading = "Rollout")]
pub struct RolloutArgs {
    /// The environment of kiln.toml ([environments.NAME]): every group of it
    #[arg(long = "env", value_name = "NAME")]
    pub env: Option<String>,
    /// The Auto Scaling group, repeatable; with --env, some of its groups [default: [deploy] asg]
    #[arg(long, value_name = "NAME")]
    pub asg: Vec<String>,
    /// rolling, instance-refresh, blue-green or none (update the group, replace nothing) [default: rolling]
    #[arg(long, value_name = "STRATEGY")]
    pub strategy: Option<String>,
    /// Instances replaced at once, a number or a share (rolling) [default: 25%]
    #[arg(long, value_name = "N|PERCENT")]
    pub batch_size: Option<String>,
    /// Share of the group kept healthy; below it kiln adds before it removes [default: 90%]
    #[arg(long, value_name = "PERCENT")]
    pub min_healthy: Option<String>,
    /// How long the whole rollout may take [default: 30m]
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// instance-refresh: the most of the group in service at once, e.g. 110%
    #[arg(long, value_name = "PERCENT")]
    pub max_healthy: Option<String>,
    /// instance-refresh: seconds a new instance warms up before it counts
    #[arg(long, value_name = "SECONDS")]
    pub instance_warmup: Option<String>,
    /// instance-refresh: pause at these percentages, e.g. 20,50
    #[arg(long, value_name = "PERCENTS")]
    pub checkpoints: Option<String>,
    /// instance-refresh: replace instances even when they already match
    #[arg(long)]
    pub no_skip_matching: bool,
    /// blue-green: old groups (scaled to zero) kept for an instant rollback [default: 1]
    #[arg(long, value_name = "N")]
    pub keep_old: Option<String>,
    /// On failure, leave the group as it is instead of rolling back
    #[arg(long)]
    pub no_rollback: bool,
    /// Do not move the production channel on success (e.g. a staging group)
    #[arg(long)]
    pub no_promote: bool,
    /// GitHub environment of the deployment record [default: production]
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// Record a GitHub Deployment (on by default when GITHUB_TOKEN and GITHUB_REPOSITORY are set)
    #[arg(long)]
    pub github: bool,
    /// GitHub API URL, for GitHub Enterprise [default: GITHUB_API_URL, else https://api.github.com]
    #[arg(long, value_name = "URL")]
    pub github_api_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Delete what the plan says (without it, only the plan is shown)
    #[arg(long)]
    pub apply: bool,
    /// Keep the newest N images of each role [default: 5]
    #[arg(long, value_name = "N")]
    pub keep: Option<String>,
    /// Keep every image younger than this [default: 7d]
    #[arg(long, value_name = "DURATION")]
    pub min_age: Option<String>,
    /// Keep the images of the last K registry versions of each role, the rollback window [default: 10]
    #[arg(long, value_name = "K")]
    pub keep_versions: Option<String>,
    /// Snapshot storage price for the saving estimate, dollars per GiB-month [default: 0.05]
    #[arg(long, value_name = "DOLLARS")]
    pub price_per_gib: Option<String>,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The image: ROLE, ROLE:CHANNEL, ROLE:VERSION, or an AMI id
    pub target: String,
    /// Why (recorded in the kiln:revoked tag); required unless --undo
    #[arg(long, value_name = "TEXT", required_unless_present = "undo")]
    pub reason: Option<String>,
    /// Put a revoked image back in service (channel labels are not restored)
    #[arg(long)]
    pub undo: bool,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Role: base or app
    pub role: String,
    /// The AMI to publish (must exist in the region)
    pub ami_id: String,
    /// Git commit the image was built from [default: from GitHub Actions or Jenkins]
    #[arg(long, value_name = "SHA")]
    pub git_sha: Option<String>,
    /// URL of the build that made the image [default: from GitHub Actions or Jenkins]
    #[arg(long, value_name = "URL")]
    pub build_url: Option<String>,
    /// Seconds to wait for SSM to validate the AMI and make the version readable (0: do not wait)
    #[arg(long, value_name = "SECONDS", default_value = "60")]
    pub wait: String,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// ROLE, ROLE:CHANNEL or ROLE:VERSION, e.g. app:production
    pub reference: String,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The version to promote: ROLE:VERSION, ROLE:CHANNEL or ROLE (the newest)
    pub reference: String,
    /// The channel to move to that version
    #[arg(long, value_name = "CHANNEL")]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Role: base or app
    #[arg(required_unless_present = "deploys")]
    pub role: Option<String>,
    /// Show at most this many versions (or deploys)
    #[arg(long, value_name = "N")]
    pub limit: Option<String>,
    /// The deploy ledger instead: every deploy and rollback, newest first
    #[arg(long, conflicts_with = "role")]
    pub deploys: bool,
    /// With --deploys: only this environment's [default: every environment]
    #[arg(long = "env", value_name = "NAME", requires = "deploys")]
    pub env: Option<String>,
    /// With --deploys: what ran in each group at this time, e.g. 2026-11-20T10:00:00Z
    #[arg(long, value_name = "TIME", requires = "deploys")]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {}

#[derive(Debug, Args)]
#[command(after_help = "Install, e.g.: bash: kiln completions bash > \
    ~/.local/share/bash-completion/completions/kiln; zsh: kiln completions zsh > \
    \"${fpath[1]}/_kiln\"; fish: kiln completions fish > ~/.config/fish/completions/kiln.fish. \
    Needs no app, configuration or AWS.")]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
