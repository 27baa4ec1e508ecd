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
    let dir = crate::harness::scratch_dir("iam-deploy");
    let config = write(
        &dir,
        "kiln.toml",
        &format!(
            "[environments.production]\ngroups = [\"{}\"]\n",
            fleet.group
        ),
    );
    let mut called = BTreeSet::new();
    for args in [
        vec!["deploy", "--asg", &fleet.group],
        vec!["rollback", "--asg", &fleet.group],
        vec!["deploy", "--asg", &fleet.group, "--strategy", "blue-green"],
    ] {
        calls(kiln().args(["--app", &app]).args(args), &mut called);
    }
    // An environment's deploy and its rollback from the ledger; what the deploy
    // role reads to see what it deployed: the ledger and the groups' drift
    // (status reads launch template versions and instances).
    for args in [
        vec!["deploy", "--env", "production", "--force", "app:1"],
        vec!["rollback", "--env", "production"],
        vec!["history", "--deploys"],
        vec!["status"],
    ] {
        calls(
            kiln()
                .args(["--app", &app, "--config"])
                .arg(&config)
                .args(args),
            &mut called,
        );
    }
    assert!(
        called.contains("autoscaling:CreateAutoScalingGroup"),
        "{called:?}"
    );
    assert!(
        called.contains("ec2:DescribeLaunchTemplateVersions"),
        "{called:?}"
    );
    assert_covered("deploy", &called);
}

/// The statements of one policy document in ci.tf: (actions, resources) each.
fn statements(policy: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let text = std::fs::read_to_string(root().join("terraform/ci.tf")).unwrap();
    let start = text
        .find(&format!("data \"aws_iam_policy_document\" \"{policy}\""))
        .unwrap_or_else(|| panic!("no {policy} in ci.tf"));
    let body = &text[start..];
    let body = &body[..body[1..].find("\ndata ").map_or(body.len(), |e| e + 1)];
    let quoted = |block: &str| -> Vec<String> {
        block
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let list = |statement: &str, key: &str| -> Vec<String> {
        let Some(at) = statement.find(&format!("{key} ")) else {
            return Vec::new();
        };
        let rest = &statement[at..];
        let end = rest.find(']').unwrap_or(rest.len());
        quoted(&rest[..end])
    };
    body.split("statement {")
        .skip(1)
        .map(|statement| (list(statement, "actions"), list(statement, "resources")))
        .collect()
}

#[test]
fn the_deploy_policy_lets_kiln_write_and_read_the_deploy_ledger() {
    let ledger = "arn:${local.partition}:ssm:*:${local.account_id}:parameter${var.parameter_prefix}/${var.app_name}/ledger/*";
    let covering: Vec<_> = statements("kiln_deploy")
        .into_iter()
        .filter(|(_, resources)| resources.iter().any(|r| r == ledger))
        .collect();
    for action in ["ssm:PutParameter", "ssm:GetParameterHistory"] {
        assert!(
            covering
                .iter()
                .any(|(actions, _)| actions.iter().any(|a| a == action)),
            "no kiln_deploy statement allows {action} on {ledger}: {covering:?}"
        );
    }
    // Not every parameter of the app: only the ledger (and the lock) take writes.
    let writes: Vec<_> = statements("kiln_deploy")
        .into_iter()
        .filter(|(actions, _)| actions.iter().any(|a| a == "ssm:PutParameter"))
        .flat_map(|(_, resources)| resources)
        .collect();
    assert!(
        writes
            .iter()
            .all(|r| r.ends_with("/ledger/*") || r.ends_with("/deploy-lock/*")),
        "{writes:?}"
    );
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
