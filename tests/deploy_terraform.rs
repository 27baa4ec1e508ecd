//! `kiln deploy --via terraform` with the real Terraform and the AWS provider from
//! the machine's mirror (harness/terraform.rs): without Terraform the deploy says
//! what to install, and tests/terraform/stack is applied for `--terraform-var`,
//! `--terraform-var-file` and `--terraform-workspace`. The reference stack's own
//! `--via terraform` deploy, its streamed output and the rollout to the version
//! Terraform made, is in apply_reference_stack.rs.

use crate::harness::groups::{TestedFleet, tested_fleet};
use crate::harness::{emulator, kiln, root, scratch_dir, terraform, write};

#[test]
fn without_terraform_the_deploy_says_what_to_install() {
    let TestedFleet { app, fleet, .. } = tested_fleet("deploy-no-terraform", 1, &[]);
    let run = kiln()
        .env("PATH", "/nonexistent")
        .args([
            "--app",
            &app,
            "deploy",
            "--asg",
            &fleet.group,
            "--via",
            "terraform",
        ])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.ends_with("  help: install Terraform (developer.hashicorp.com/terraform/install) and make sure it is on PATH, or deploy without --via terraform\n"),
        "{}",
        run.stderr
    );
    assert_eq!(emulator().group(&fleet.group).unwrap().version, "1");
}

/// The real Terraform 1.11.4 and the AWS provider from the machine's filesystem
/// mirror, applying tests/terraform/stack (a stack in the shape teams write:
/// `var.image_id`, a `.tfvars` per environment, workspaces that key names) against
/// the emulator. The test adds a local backend and the emulator's endpoint in an
/// `*_override.tf`, and the run's app name in an `*.auto.tfvars`.
struct RealStack {
    dir: std::path::PathBuf,
    cli_config: std::path::PathBuf,
}

impl RealStack {
    fn new(app: &str) -> Self {
        let scratch = scratch_dir(&format!("tf-{app}"));
        let dir = scratch.join("stack");
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(root().join("tests/terraform/stack")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
        let endpoint = &emulator().endpoint;
        write(
            &dir,
            "kiln_test_override.tf",
            &format!(
                r#"terraform {{
  backend "local" {{}}
}}
provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {{
    ec2 = "{endpoint}"
  }}
}}
"#
            ),
        );
        write(&dir, "run.auto.tfvars", &format!("app = \"{app}\"\n"));
        let cli_config = terraform::cli_config(&scratch);
        Self { dir, cli_config }
    }

    fn terraform(&self, args: &[&str]) -> String {
        let out = terraform::run(&self.dir, &self.cli_config, args);
        assert!(
            out.status.success(),
            "terraform {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

#[test]
fn a_real_stack_gets_the_ami_in_its_variable_with_its_var_file_in_its_workspace() {
    let app = crate::harness::unique_app("deploy-tf-real");
    let old = emulator().create_image(&format!("{app}-old"), &[]);
    let new = emulator().create_image(&format!("{app}-new"), &[]);
    crate::harness::kiln_ok(["--app", &app, "publish", "app", &new]);
    crate::harness::kiln_ok(["--app", &app, "promote", "app:1", "--to", "tested"]);

    // The stack as the team left it: applied in its staging workspace, default selected.
    let stack = RealStack::new(&app);
    stack.terraform(&["init", "-input=false", "-no-color"]);
    stack.terraform(&["workspace", "new", "-no-color", "staging"]);
    let var = format!("image_id={old}");
    stack.terraform(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        &var,
        "-var-file=staging.tfvars",
    ]);
    let template = stack
        .terraform(&["output", "-raw", "launch_template_id"])
        .trim()
        .to_string();
    stack.terraform(&["workspace", "select", "-no-color", "default"]);
    let group = format!("{app}-stg");
    emulator().group_on_template(&group, &template, 2);

    let deploy = |workspace: &str| {
        kiln()
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
                "--terraform-var",
                "image_id",
                "--terraform-var-file",
                "staging.tfvars",
                "--terraform-workspace",
                workspace,
                "--min-healthy",
                "50%",
                "--terraform-dir",
            ])
            .arg(&stack.dir)
            .run()
    };
    // A workspace the stack does not have: refused before the apply.
    let missing = deploy("production");
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.ends_with(&format!(
            "error: the Terraform stack in {dir} has no workspace production (it has: default, staging)\n  help: create it (`terraform -chdir={dir} workspace new production`, then apply it once), or name one it has in --terraform-workspace or [deploy] terraform_workspace\n",
            dir = stack.dir.display()
        )),
        "{}",
        missing.stderr
    );
    assert_eq!(emulator().latest_template_version(&template), 1);

    let done = deploy("staging");
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(emulator().group(&group).unwrap().version, "2");
    assert_eq!(
        emulator().template_version(&template, "2").0,
        new,
        "the AMI went to var.image_id"
    );
    assert_eq!(
        emulator().template_version(&template, "2").1,
        "t3.small",
        "staging.tfvars was applied (the default is t3.micro)"
    );
    assert_eq!(emulator().images_in_group(&group), vec![new; 2]);
    assert_eq!(
        stack.terraform(&["workspace", "show"]).trim(),
        "default",
        "the stack's own selection is left as it was"
    );
}
