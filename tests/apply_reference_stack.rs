//! The reference stack (terraform/) applied for real: Terraform 1.11 with the
//! hashicorp/aws provider from the machine's mirror, against the emulator. It
//! proves what the stack's README promises: a second plan is empty, `kiln deploy`
//! and `kiln deploy --via terraform` roll the group without Terraform seeing drift
//! (the drift check `plan -detailed-exitcode -var ami_id=$(kiln resolve …)` exits
//! 0), the apply inside `--via terraform` leaves kiln's tags on the group, and
//! `destroy` takes it all down. About four minutes, most of it the provider's
//! fixed load balancer waits.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::harness::{emulator, kiln, kiln_ok, root, scratch_dir, terraform, unique_app, write};

struct Stack {
    dir: PathBuf,
    cli_config: PathBuf,
}

impl Stack {
    /// A copy of terraform/ with a local backend and the emulator's endpoints in an
    /// override file (the stack declares a partial S3 backend), and its variables.
    fn new(app: &str, ami: &str) -> Self {
        let scratch = scratch_dir(&format!("tf-stack-{app}"));
        let cli_config = terraform::cli_config(&scratch);
        let dir = scratch.join("terraform");
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(root().join("terraform")).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
            }
        }
        let endpoint = &emulator().endpoint;
        let endpoints: String = [
            "autoscaling",
            "ec2",
            "elbv2",
            "iam",
            "kms",
            "logs",
            "ssm",
            "sts",
        ]
        .iter()
        .map(|s| format!("    {s} = \"{endpoint}\"\n"))
        .collect();
        // Not skip_requesting_account_id: without the account id the provider
        // reports drift on every security group reference.
        write(
            &dir,
            "kiln_test_override.tf",
            &format!(
                "terraform {{\n  backend \"local\" {{}}\n}}\n\nprovider \"aws\" {{\n  access_key                  = \"testing\"\n  secret_key                  = \"testing\"\n  skip_credentials_validation = true\n  skip_metadata_api_check     = true\n  endpoints {{\n{endpoints}  }}\n}}\n"
            ),
        );
        write(
            &dir,
            "terraform.tfvars",
            &format!(
                "app_name                = \"{app}\"\nenvironment             = \"prod\"\nregion                  = \"us-east-1\"\ngithub_repository       = \"example/{app}\"\nami_id                  = \"{ami}\"\nalb_deletion_protection = false\n"
            ),
        );
        Self { dir, cli_config }
    }

    /// `terraform ARGS`, which must exit with `code`; its stdout.
    fn expect(&self, code: i32, args: &[&str]) -> String {
        let started = Instant::now();
        let out = terraform::run(&self.dir, &self.cli_config, args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        eprintln!("terraform {} took {:?}", args[0], started.elapsed());
        assert_eq!(
            out.status.code(),
            Some(code),
            "terraform {args:?}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn output(&self, name: &str) -> String {
        self.expect(0, &["output", "-raw", name]).trim().to_string()
    }

    /// The drift check the README gives: exit 0 is "no changes", 2 "changes".
    fn plan_is_empty(&self, ami: &str, after: &str) {
        let var = format!("ami_id={ami}");
        let out = terraform::run(
            &self.dir,
            &self.cli_config,
            &[
                "plan",
                "-detailed-exitcode",
                "-input=false",
                "-no-color",
                "-var",
                &var,
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "the plan after {after} is not empty:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn published(app: &str, n: u32, name: &str) -> String {
    let ami = emulator().create_image(&format!("{app}-{name}"), &[]);
    kiln_ok(["--app", app, "publish", "app", &ami]);
    kiln_ok([
        "--app",
        app,
        "promote",
        &format!("app:{n}"),
        "--to",
        "tested",
    ]);
    ami
}

fn resolved(app: &str) -> String {
    kiln_ok(["--app", app, "resolve", "app:production"])
        .stdout
        .trim()
        .to_string()
}

#[test]
fn the_reference_stack_applies_takes_kiln_deploys_without_drift_and_is_destroyed() {
    let started = Instant::now();
    // Before anything else: no Terraform or no provider fails saying what to install.
    terraform::mirror();
    let app = unique_app("tfs").replace('_', "-");
    let first = published(&app, 1, "first");
    let stack = Stack::new(&app, &first);

    stack.expect(0, &["init", "-input=false", "-no-color"]);
    stack.expect(0, &["validate", "-no-color"]);
    stack.expect(0, &["apply", "-auto-approve", "-input=false", "-no-color"]);
    stack.plan_is_empty(&first, "the first apply");

    let group = stack.output("asg_name");
    let template = stack.output("launch_template_id");
    assert_eq!(group, format!("{app}-prod"));
    assert_eq!(emulator().group(&group).unwrap().version, "1");

    // kiln deploys the next image onto the stack's group: a version of its own.
    let second = published(&app, 2, "second");
    let run = kiln()
        .args([
            "--app",
            &app,
            "deploy",
            "--asg",
            &group,
            "--min-healthy",
            "50%",
        ])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "deploy: {group} runs {second} (app:2) (launch template {template} version 2); production -> app:2\n"
        )
    );
    assert_eq!(emulator().group(&group).unwrap().version, "2");
    assert_eq!(emulator().template_version(&template, "2").0, second);
    assert_eq!(emulator().images_in_group(&group), vec![second.clone(); 2]);
    assert_eq!(resolved(&app), second);
    // The template version and capacity are kiln's: no resource changes, no output moves.
    stack.plan_is_empty(&resolved(&app), "kiln deploy");

    // kiln deploy --via terraform: the real apply makes the version, kiln rolls to it.
    let third = published(&app, 3, "third");
    let run = kiln()
        .env("TF_CLI_CONFIG_FILE", &stack.cli_config)
        .env("CHECKPOINT_DISABLE", "1")
        .args([
            "--app",
            &app,
            "deploy",
            "--asg",
            &group,
            "--via",
            "terraform",
            "--min-healthy",
            "50%",
            "--terraform-dir",
        ])
        .arg(&stack.dir)
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Terraform's output streamed under kiln's prefix, as it comes.
    assert!(
        run.stderr
            .contains("s] aws_launch_template.app: Modifying... [id=")
            && run
                .stderr
                .contains("s] Apply complete! Resources: 0 added, 1 changed, 0 destroyed.\n")
            && run.stderr.contains("terraform | ["),
        "{}",
        run.stderr
    );
    // kiln names the AMI the version pins, whatever description Terraform copied
    // onto it (the stack ignores descriptions: they are kiln's previous one).
    assert_eq!(
        run.stdout,
        format!(
            "deploy: {group} runs {third} (app:3) (launch template {template} version 3); production -> app:3\n"
        )
    );
    let seen = emulator().group(&group).unwrap();
    assert_eq!(seen.version, "3", "the version Terraform made");
    assert_eq!(emulator().template_version(&template, "3").0, third);
    assert_eq!(emulator().images_in_group(&group), vec![third.clone(); 2]);
    // The apply left kiln's tags alone: the rollout marks a resumed deploy reads,
    // and the lock kiln held during the apply (released by kiln, not stripped).
    let tag = |key: &str| {
        seen.tags
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v.to_string())
    };
    assert_eq!(tag("kiln:rollout-version").as_deref(), Some("3"));
    assert_eq!(tag("kiln:rollback-version").as_deref(), Some("2"));
    assert_eq!(tag("kiln:deploy-lock"), None, "released at the end");
    assert_eq!(tag("Name").as_deref(), Some(group.as_str()));
    assert!(
        !run.stderr.contains("kiln:deploy-lock"),
        "the apply did not touch the lock tag:\n{}",
        run.stderr
    );
    stack.plan_is_empty(&resolved(&app), "kiln deploy --via terraform");

    // The registry read from Terraform, as the README shows it.
    reads_the_labelled_version(&stack.dir, &stack.cli_config, &app, &third);

    stack.expect(
        0,
        &[
            "destroy",
            "-auto-approve",
            "-input=false",
            "-no-color",
            "-var",
            &format!("ami_id={third}"),
        ],
    );
    assert!(emulator().group(&group).is_none(), "the group is destroyed");
    eprintln!(
        "the reference stack's whole cycle took {:?}",
        started.elapsed()
    );
}

/// `data "aws_ssm_parameter"` on `<prefix>/<app>/app:production` (a parameter
/// selector) returns the version labelled production, not the newest.
fn reads_the_labelled_version(stack: &Path, cli_config: &Path, app: &str, production: &str) {
    // A newer version than the labelled one: the newest is not production.
    let newest = emulator().create_image(&format!("{app}-newest"), &[]);
    kiln_ok(["--app", app, "publish", "app", &newest]);
    let dir = stack.parent().unwrap().join("reader");
    std::fs::create_dir_all(&dir).unwrap();
    let endpoint = &emulator().endpoint;
    write(
        &dir,
        "main.tf",
        &format!(
            r#"terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }}
  }}
}}

provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {{
    ssm = "{endpoint}"
  }}
}}

data "aws_ssm_parameter" "app_production" {{
  name = "/kiln/{app}/app:production"
}}

output "ami_id" {{
  value     = nonsensitive(data.aws_ssm_parameter.app_production.value)
}}
"#
        ),
    );
    terraform::run(&dir, cli_config, &["fmt"]);
    for args in [
        &["init", "-input=false", "-no-color"][..],
        &["apply", "-auto-approve", "-input=false", "-no-color"][..],
    ] {
        let out = terraform::run(&dir, cli_config, args);
        assert!(
            out.status.success(),
            "terraform {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = terraform::run(&dir, cli_config, &["output", "-raw", "ami_id"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), production);
}
