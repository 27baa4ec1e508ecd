//! The least-privilege policies in terraform/ against what kiln really calls: each
//! stage runs against the emulator with kiln's AWS call log on
//! (`RUST_LOG=kiln::aws::calls=debug`), and every call it makes must be in that
//! stage's list in terraform/kiln-actions.json, which scripts/check-terraform
//! checks against the Terraform policy documents themselves.

use std::collections::BTreeSet;

use crate::harness::{Kiln, emulator, kiln, packer_template, root, unique_app, write};

/// The actions the policies allow, per stage.
fn allowed(stage: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("terraform/kiln-actions.json")).unwrap();
    let listed: serde_json::Value = serde_json::from_str(&text).unwrap();
    listed[stage]
        .as_array()
        .unwrap_or_else(|| panic!("no {stage} in kiln-actions.json"))
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// Runs kiln with the call log on; the actions it called (it may fail: the calls
/// made on the way count too).
fn calls(run: Kiln, into: &mut BTreeSet<String>) {
    let done = run.env("RUST_LOG", "kiln::aws::calls=debug").run();
    for line in done.stderr.lines() {
        if let Some((_, action)) = line.split_once("aws call ") {
            into.insert(action.trim().to_string());
        }
    }
}

#[track_caller]
fn assert_covered(stage: &str, called: &BTreeSet<String>) {
    assert!(!called.is_empty(), "no AWS call was logged for {stage}");
    let allowed = allowed(stage);
    let missing: Vec<&String> = called.difference(&allowed).collect();
    assert!(
        missing.is_empty(),
        "the {stage} policy (terraform/kiln-actions.json, terraform/ci.tf) lacks {missing:?}; kiln called {called:?}"
    );
}

#[test]
fn bake_calls_only_what_the_bake_policy_allows() {
    let app = unique_app("iam-bake");
    let mut called = BTreeSet::new();
    for role in ["base", "app"] {
        calls(
            kiln()
                .args(["--app", &app, "bake", role, "--template"])
                .arg(packer_template(role)),
            &mut called,
        );
    }
    assert_covered("bake", &called);
}

#[test]
fn verify_calls_only_what_the_verify_policy_allows() {
    let app = unique_app("iam-verify");
    let ami = emulator().create_image(&app, &[]);
    kiln()
        .args(["--app", &app, "publish", "app", &ami])
        .run()
        .ok();
    let mut called = BTreeSet::new();
    let live = kiln();
    write(
        live.dir(),
        "goss/app.yaml",
        "package:\n  nginx:\n    installed: true\n",
    );
    let profile = emulator().instance_profile();
    calls(
        live.args([
            "--app",
            &app,
            "verify",
            "app:1",
            "--instance-profile",
            profile,
        ]),
        &mut called,
    );
    let results = root().join("tests/fixtures/goss/pass.json");
    calls(
        kiln()
            .args(["--app", &app, "verify", "app:1", "--results"])
            .arg(results),
        &mut called,
    );
    calls(
        kiln().args(["--app", &app, "verify", "--cleanup"]),
        &mut called,
    );
    assert!(called.contains("ssm:SendCommand"), "{called:?}");
    assert_covered("verify", &called);
}

#[test]
fn deploy_and_rollback_call_only_what_the_deploy_policy_allows() {
    let app = unique_app("iam-deploy");
    let old = emulator().create_image(&format!("{app}-old"), &[]);
    let new = emulator().create_image(&format!("{app}-new"), &[]);
    for ami in [&old, &new] {
        kiln()
            .args(["--app", &app, "publish", "app", ami])
            .run()
            .ok();
    }
    kiln()
        .args(["--app", &app, "promote", "app:1", "--to", "production"])
        .run()
        .ok();
    emulator().tag_image(&old, "kiln:deployed", "2026-01-01T00:00:00Z");
    kiln()
        .args(["--app", &app, "promote", "app:2", "--to", "tested"])
        .run()
        .ok();
    let fleet = emulator().fleet(&app, &old, 2);
    let mut called = BTreeSet::new();
    for args in [
        vec!["deploy", "--asg", &fleet.group],
        vec!["rollback", "--asg", &fleet.group],
        vec!["deploy", "--asg", &fleet.group, "--strategy", "blue-green"],
    ] {
        calls(kiln().args(["--app", &app]).args(args), &mut called);
    }
    assert!(
        called.contains("autoscaling:CreateAutoScalingGroup"),
        "{called:?}"
    );
    assert_covered("deploy", &called);
}

#[test]
fn prune_and_revoke_call_only_what_the_prune_policy_allows() {
    let app = unique_app("iam-prune");
    let images: Vec<String> = (0..3)
        .map(|_| emulator().create_image(&app, &[("kiln:app", &app), ("kiln:role", "app")]))
        .collect();
    kiln()
        .args(["--app", &app, "publish", "app", &images[0]])
        .run()
        .ok();
    kiln()
        .args(["--app", &app, "promote", "app:1", "--to", "production"])
        .run()
        .ok();
    let mut called = BTreeSet::new();
    for args in [
        vec!["revoke", "app:1", "--reason", "test"],
        vec!["revoke", "app:1", "--undo"],
        vec![
            "prune",
            "--apply",
            "--keep",
            "0",
            "--min-age",
            "0s",
            "--keep-versions",
            "0",
        ],
    ] {
        calls(kiln().args(["--app", &app]).args(args), &mut called);
    }
    assert!(called.contains("ec2:DeregisterImage"), "{called:?}");
    assert_covered("prune", &called);
}
