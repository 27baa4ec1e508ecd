//! The real Terraform for the tests that apply stacks: the `terraform` binary on
//! PATH and the hashicorp/aws provider from the machine's filesystem mirror, with
//! a CLI config file (`TF_CLI_CONFIG_FILE`) that installs the provider from there
//! and nowhere else. Missing either fails the test saying what to install: the
//! suite never skips the Terraform tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::write;

/// Where the machine image (or a developer) puts the provider mirror.
const MIRRORS: [&str; 3] = [
    "/opt/tf-plugins",
    "/usr/share/terraform/plugins",
    "/root/.terraform.d/plugins",
];

/// The folder holding registry.terraform.io/hashicorp/aws, or a failure saying
/// what to install.
pub fn mirror() -> PathBuf {
    assert_installed();
    // $KILN_TF_MIRROR, when set, is the only place looked at.
    let places: Vec<PathBuf> = match std::env::var_os("KILN_TF_MIRROR") {
        Some(set) => vec![PathBuf::from(set)],
        None => MIRRORS.iter().map(PathBuf::from).collect(),
    };
    let found = places
        .iter()
        .find(|p| p.join("registry.terraform.io/hashicorp/aws").is_dir())
        .cloned();
    found.unwrap_or_else(|| {
        panic!(
            "the Terraform tests need the hashicorp/aws provider in a filesystem mirror: \
             none of {places:?} holds registry.terraform.io/hashicorp/aws/ \
             (set $KILN_TF_MIRROR to the folder that does, or \
             install it with `terraform providers mirror /opt/tf-plugins` in a directory \
             whose configuration requires hashicorp/aws ~> 5.0)"
        )
    })
}

/// Fails with what to install when there is no `terraform` on PATH.
fn assert_installed() {
    let version = Command::new("terraform").arg("version").output();
    assert!(
        version.is_ok_and(|v| v.status.success()),
        "the Terraform tests need `terraform` (1.5 or later; CI uses 1.11.4) on PATH: \
         install it from developer.hashicorp.com/terraform/install"
    );
}

/// Writes a CLI config into `dir` that installs hashicorp/aws from the mirror only.
pub fn cli_config(dir: &Path) -> PathBuf {
    write(
        dir,
        "terraform.rc",
        &format!(
            r#"provider_installation {{
  filesystem_mirror {{
    path    = "{}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }}
}}
"#,
            mirror().display()
        ),
    )
}

/// `terraform ARGS` in `dir` with the CLI config, in automation mode.
pub fn run(dir: &Path, cli_config: &Path, args: &[&str]) -> Output {
    Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("terraform runs")
}
