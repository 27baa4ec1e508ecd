//! `kiln deploy --via cloudformation` against the emulator: the reference stack
//! (cloudformation/kiln-stack.json) created on the old image, kiln's UpdateStack
//! with the new one in AmiId (InstanceType and the rest kept), the rollout to the
//! version CloudFormation made; an update with nothing to change; a missing stack
//! and a missing parameter, refused before anything changes.

use std::collections::BTreeSet;

use crate::harness::{REGION, emulator, kiln, kiln_ok, root, unique_app};

/// The deploy policy's actions and the CloudFormation ones a deploy through a
/// stack adds (cloudformation/kiln-actions.json).
fn allowed_actions() -> BTreeSet<String> {
    let read = |path: &str, key: &str| -> Vec<String> {
        let text = std::fs::read_to_string(root().join(path)).unwrap();
        let listed: serde_json::Value = serde_json::from_str(&text).unwrap();
        listed[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key} in {path}"))
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    };
    let mut allowed: BTreeSet<String> = read("terraform/kiln-actions.json", "deploy")
        .into_iter()
        .collect();
    allowed.extend(read(
        "cloudformation/kiln-actions.json",
        "deploy_via_cloudformation",
    ));
    allowed
}

/// An app whose new image is tested, and the reference stack on its old one.
fn stack_on_old_image(purpose: &str, size: i32) -> (String, String, crate::harness::groups::Fleet) {
    let app = unique_app(purpose);
    let emulator = emulator();
    let old = emulator.create_image(&format!("{app}-old"), &[]);
    let new = emulator.create_image(&format!("{app}-new"), &[]);
    kiln_ok(["--app", &app, "publish", "app", &new]);
    kiln_ok(["--app", &app, "promote", "app:1", "--to", "tested"]);
    let fleet = emulator.reference_stack(&app, &old, size);
    (app, new, fleet)
}

#[test]
fn the_stack_makes_the_version_and_kiln_rolls_the_group_to_it() {
    let (app, new, fleet) = stack_on_old_image("deploy-cfn", 2);
    assert_eq!(emulator().group(&fleet.group).unwrap().version, "1");
    let deploy = [
        "--app",
        &app,
        "deploy",
        "--asg",
        &fleet.group,
        "--via",
        "cloudformation",
        "--stack",
        &app,
        "--min-healthy",
        "50%",
    ];
    let done = kiln()
        .args(deploy)
        .env("RUST_LOG", "kiln::aws::calls=debug")
        .run()
        .ok();
    // Every AWS call is in the deploy policy or the stack's own actions.
    let allowed = allowed_actions();
    let called: BTreeSet<String> = done
        .stderr
        .lines()
        .filter_map(|l| l.split_once("aws call ").map(|(_, a)| a.trim().to_string()))
        .collect();
    assert!(called.contains("cloudformation:UpdateStack"), "{called:?}");
    let missing: Vec<&String> = called.difference(&allowed).collect();
    assert!(
        missing.is_empty(),
        "not in terraform/kiln-actions.json deploy nor cloudformation/kiln-actions.json: {missing:?}"
    );

    let stack = emulator().stack(&app);
    assert_eq!(stack.status, "UPDATE_COMPLETE");
    assert_eq!(stack.parameters["AmiId"], new);
    assert_eq!(stack.parameters["InstanceType"], "t3.small", "kept");
    assert_eq!(stack.parameters["GroupName"], app, "kept");
    let group = emulator().group(&fleet.group).unwrap();
    assert_eq!(group.version, "2", "the version CloudFormation made");
    assert_eq!(
        emulator().images_in_group(&fleet.group),
        vec![new.clone(); 2]
    );

    // The same image again: CloudFormation has nothing to do, nor has kiln.
    let again = kiln().args(deploy).run().ok();
    assert!(
        again.stderr.contains(&format!(
            "stack {app}: nothing to change (AmiId already is that image)"
        )),
        "{}",
        again.stderr
    );
    assert_eq!(emulator().group(&fleet.group).unwrap().version, "2");
}

#[test]
fn a_missing_stack_or_parameter_is_refused_before_anything_changes() {
    let (app, _, fleet) = stack_on_old_image("deploy-cfn-missing", 1);
    let base = [
        "--app",
        &app,
        "deploy",
        "--asg",
        &fleet.group,
        "--via",
        "cloudformation",
    ];

    let run = kiln().args(base).args(["--stack", "no-such-stack"]).run();
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.ends_with(&format!("error: CloudFormation has no stack no-such-stack in {REGION}\n  help: check the name (`aws cloudformation describe-stacks`) and the region, then pass it in --stack or [deploy] cloudformation_stack\n")),
        "{}",
        run.stderr
    );

    let run = kiln()
        .args(base)
        .args(["--stack", &app, "--stack-parameter", "ImageId"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.ends_with(&format!("error: stack {app} has no parameter ImageId (it has: AmiId, InstanceType, VpcId, SubnetIds, GroupName, MinSize, MaxSize)\n  help: name the parameter its launch template's ImageId refers to in --stack-parameter or [deploy] cloudformation_parameter\n")),
        "{}",
        run.stderr
    );

    let run = kiln().args(base).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.ends_with("error: no CloudFormation stack given for --via cloudformation\n  help: pass --stack NAME, or set cloudformation_stack under [deploy] (or the environment) in kiln.toml\n"),
        "{}",
        run.stderr
    );

    let seen = emulator().stack(&app);
    assert_eq!(seen.status, "CREATE_COMPLETE", "not updated");
    assert_eq!(emulator().group(&fleet.group).unwrap().version, "1");
}

#[test]
fn a_dry_run_plans_the_stack_update_and_changes_nothing() {
    let (app, new, fleet) = stack_on_old_image("deploy-cfn-dry", 1);
    let run = kiln()
        .args(["--app", &app, "--dry-run", "deploy", "--asg", &fleet.group])
        .args(["--via", "cloudformation", "--stack", &app])
        .run()
        .ok();
    assert!(
        run.stdout.contains(&format!("would run   cloudformation:UpdateStack stack {app} in {REGION}: AmiId={new}, its template and other parameters kept\n")),
        "{}",
        run.stdout
    );
    assert_eq!(emulator().stack(&app).status, "CREATE_COMPLETE");
    assert_eq!(emulator().group(&fleet.group).unwrap().version, "1");
}
