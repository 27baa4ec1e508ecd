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
    /// Print the AMI id a reference points at (ROLE, ROLE:CHANNEL, ROLE:VERSION)
    Resolve(ResolveArgs),
    /// Move a channel label to the version REF names
    Promote(PromoteArgs),
    /// List a role's versions, newest first, with AMI, labels, dates and provenance
    History(HistoryArgs),
    /// Show every role and channel in every configured region
    Status(StatusArgs),
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
    /// For `bake app`: the base to build on, base or base:CHANNEL or base:VERSION [default: base]
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Bake even when an image with the same inputs exists
    #[arg(long)]
    pub force: bool,
    /// Seconds to wait for SSM to validate each published version (0: do not wait)
    #[arg(long, value_name = "SECONDS", default_value = "60")]
    pub wait: String,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The image: ROLE, ROLE:CHANNEL or ROLE:VERSION [default: app, the newest]
    pub reference: Option<String>,
    /// Goss JSON produced elsewhere (packer-plugin-goss, dgoss, a manual
    /// `goss validate --format json`): evaluate it for REF without launching anything
    #[arg(long, value_name = "FILE", required = true)]
    pub results: PathBuf,
    /// Also write the results as JUnit XML (for Jenkins' junit step, test reporters)
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Do not promote a passing image to the tested channel
    #[arg(long)]
    pub no_promote: bool,
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
    pub role: String,
    /// Show at most this many versions
    #[arg(long, value_name = "N")]
    pub limit: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
