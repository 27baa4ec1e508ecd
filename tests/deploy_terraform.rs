//! `kiln deploy --via terraform`. Terraform with the AWS provider cannot run here
//! (no provider download), so a stand-in `terraform` on PATH does what the
//! reference stack's apply does to the launch template: a new version with
//! `var.ami_id` as its image. It also records how kiln called it. What is tested is
//! kiln's side: the command line and directory, the output streamed, and the
//! rollout to the version Terraform made.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::harness::groups::{TestedFleet, tested_fleet};
use crate::harness::{emulator, kiln, root, scratch_dir, write};

#[test]
fn terraform_makes_the_version_and_kiln_rolls_the_group_to_it() {
    let TestedFleet {
        app, new, fleet, ..
    } = tested_fleet("deploy-terraform", 2, &[]);

    let venv = Command::new(root().join("scripts/emulator-venv"))
        .output()
        .unwrap();
    let python = String::from_utf8(venv.stdout).unwrap().trim().to_string();
    let bin = scratch_dir("fake-terraform");
    let log = bin.join("calls.json");
    let terraform = write(
        &bin,
        "terraform",
        &format!(
            r#"#!{python}
import json, os, sys
import boto3
args = sys.argv[1:]
with open({log:?}, "w") as f:
    json.dump({{"args": args, "cwd": os.getcwd(), "automation": os.environ.get("TF_IN_AUTOMATION")}}, f)
ami = [a.split("=", 1)[1] for a in args if a.startswith("ami_id=")][0]
ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
ec2.create_launch_template_version(
    LaunchTemplateId=os.environ["FAKE_TF_TEMPLATE"],
    LaunchTemplateData={{"ImageId": ami, "InstanceType": "t3.small"}},
)
print("aws_launch_template.app: Modifying...")
print("Apply complete! Resources: 0 added, 1 changed, 0 destroyed.")
"#,
            log = log.display().to_string()
        ),
    );
    std::fs::set_permissions(&terraform, std::fs::Permissions::from_mode(0o755)).unwrap();

    let run = kiln();
    let stack = run.dir().join("stack");
    std::fs::create_dir_all(&stack).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let done = run
        .env("PATH", path)
        .env("FAKE_TF_TEMPLATE", &fleet.template)
        .args([
            "--app",
            &app,
            "deploy",
            "--asg",
            &fleet.group,
            "--via",
            "terraform",
            "--terraform-dir",
        ])
        .arg(&stack)
        .args(["--min-healthy", "50%"])
        .run()
        .ok();
    assert!(
        done.stderr.contains(
            "terraform | [   0s] Apply complete! Resources: 0 added, 1 changed, 0 destroyed.\n"
        ),
        "{}",
        done.stderr
    );
    let call: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    assert_eq!(
        call["args"],
        serde_json::json!([
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            "-var",
            format!("ami_id={new}")
        ])
    );
    assert_eq!(
        call["cwd"],
        stack.canonicalize().unwrap().display().to_string()
    );
    assert_eq!(call["automation"], "1");
    let group = emulator().group(&fleet.group).unwrap();
    assert_eq!(group.version, "2", "the version Terraform made");
    assert_eq!(
        emulator().images_in_group(&fleet.group),
        vec![new.clone(); 2]
    );
}

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
