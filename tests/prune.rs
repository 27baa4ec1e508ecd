//! `kiln prune` against the emulator, one scenario per rule: an image referenced
//! only by that rule survives `prune --apply`, and an otherwise identical
//! unreferenced one is deleted together with its snapshot. Retention is turned
//! off (`--keep 0 --min-age 0s --keep-versions 0`) unless the rule is retention.

use crate::harness::{emulator, kiln, kiln_ok, unique_app};

/// An image of APP with role ROLE (and a base), as a bake leaves it.
fn image(app: &str, role: &str, base: Option<&str>) -> String {
    let mut tags = vec![("kiln:app", app), ("kiln:role", role)];
    if let Some(base) = base {
        tags.push(("kiln:base-ami", base));
    }
    emulator().create_image(&format!("{app}-{role}"), &tags)
}

const NO_RETENTION: [&str; 6] = ["--keep", "0", "--min-age", "0s", "--keep-versions", "0"];

/// Runs `prune --apply` with EXTRA flags and checks `kept` survived and
/// `deleted` is gone with its snapshots.
#[track_caller]
fn assert_prune(app: &str, extra: &[&str], kept: &str, deleted: &str) -> String {
    let kept_snapshots = emulator().snapshots_of(kept);
    let deleted_snapshots = emulator().snapshots_of(deleted);
    assert!(
        !deleted_snapshots.is_empty(),
        "the emulator made a snapshot"
    );
    let done = kiln_ok([&["--app", app, "prune", "--apply"][..], extra].concat());
    assert!(
        emulator().image_exists(kept),
        "{kept} was deleted:\n{}",
        done.stdout
    );
    for snapshot in &kept_snapshots {
        assert!(
            emulator().snapshot_exists(snapshot),
            "{snapshot} of a kept image was deleted"
        );
    }
    assert!(
        !emulator().image_exists(deleted),
        "{deleted} survived:\n{}",
        done.stdout
    );
    for snapshot in &deleted_snapshots {
        assert!(!emulator().snapshot_exists(snapshot), "{snapshot} survived");
    }
    done.stdout
}

/// The plan's line for an image: its decision and reasons.
fn line<'a>(stdout: &'a str, ami: &str) -> &'a str {
    stdout.lines().find(|l| l.contains(ami)).unwrap_or_default()
}

#[test]
fn a_labelled_version_keeps_its_image() {
    let app = unique_app("prune-label");
    let (kept, deleted) = (image(&app, "app", None), image(&app, "app", None));
    kiln_ok(["--app", &app, "publish", "app", &kept]);
    kiln_ok(["--app", &app, "publish", "app", &deleted]);
    kiln_ok(["--app", &app, "promote", "app:1", "--to", "production"]);
    let stdout = assert_prune(&app, &NO_RETENTION, &kept, &deleted);
    assert!(
        line(&stdout, &kept)
            .ends_with(&format!("keep      production label on /kiln/{app}/app v1")),
        "{stdout}"
    );
}

#[test]
fn the_rollback_window_keeps_the_last_versions() {
    let app = unique_app("prune-window");
    let (deleted, kept) = (image(&app, "app", None), image(&app, "app", None));
    kiln_ok(["--app", &app, "publish", "app", &deleted]);
    kiln_ok(["--app", &app, "publish", "app", &kept]);
    let stdout = assert_prune(
        &app,
        &["--keep", "0", "--min-age", "0s", "--keep-versions", "1"],
        &kept,
        &deleted,
    );
    assert!(
        line(&stdout, &kept).contains("v2 is in the rollback window (last 1 versions)"),
        "{stdout}"
    );
}

#[test]
fn any_launch_template_version_keeps_its_image() {
    let app = unique_app("prune-template");
    let (kept, current, deleted) = (
        image(&app, "app", None),
        image(&app, "app", None),
        image(&app, "app", None),
    );
    // More templates than one page (the emulator pages by 15), and more versions
    // than one page of the template that matters.
    for n in 0..16 {
        emulator().template_with_versions(&format!("{app}-filler-{n}"), &current, &current);
    }
    // `kept` is only in version 1, which is neither the default nor the latest.
    emulator().template_with_versions(&app, &kept, &current);
    let stdout = assert_prune(&app, &NO_RETENTION, &kept, &deleted);
    assert!(line(&stdout, &kept).contains(" v1"), "{stdout}");
    assert!(emulator().image_exists(&current));
}

#[test]
fn a_launch_configuration_keeps_its_image() {
    let app = unique_app("prune-config");
    let (kept, deleted) = (image(&app, "app", None), image(&app, "app", None));
    emulator().launch_configuration(&app, &kept);
    let stdout = assert_prune(&app, &NO_RETENTION, &kept, &deleted);
    assert!(
        line(&stdout, &kept).contains(&format!("launch configuration {app}")),
        "{stdout}"
    );
}

#[test]
fn a_live_instance_keeps_its_image() {
    let app = unique_app("prune-instance");
    let (kept, deleted) = (image(&app, "app", None), image(&app, "app", None));
    let instance = emulator().launch_tagged(&kept, &[("Name", "still running")]);
    let stdout = assert_prune(&app, &NO_RETENTION, &kept, &deleted);
    assert!(
        line(&stdout, &kept).contains(&format!("instance {instance} (running)")),
        "{stdout}"
    );
}

#[test]
fn the_base_of_a_kept_app_image_is_kept() {
    let app = unique_app("prune-base");
    let (kept_base, deleted_base) = (image(&app, "base", None), image(&app, "base", None));
    let app_image = image(&app, "app", Some(&kept_base));
    kiln_ok(["--app", &app, "publish", "app", &app_image]);
    kiln_ok(["--app", &app, "promote", "app:1", "--to", "production"]);
    let stdout = assert_prune(&app, &NO_RETENTION, &kept_base, &deleted_base);
    assert!(
        line(&stdout, &kept_base).ends_with(&format!("base of kept image {app_image}")),
        "{stdout}"
    );
}

#[test]
fn a_deploy_lock_keeps_the_image_it_deploys() {
    let app = unique_app("prune-lock");
    let (kept, deleted) = (image(&app, "app", None), image(&app, "app", None));
    emulator().put_text(
        &format!("/kiln/{app}/deploy-lock/web"),
        &format!("run 1 deploying {kept} (app:3), by ci, until 2099-01-01T00:00:00Z"),
    );
    let stdout = assert_prune(&app, &NO_RETENTION, &kept, &deleted);
    assert!(
        line(&stdout, &kept).contains(&format!("deploy lock /kiln/{app}/deploy-lock/web")),
        "{stdout}"
    );
}

#[test]
fn retention_keeps_the_newest_and_the_young() {
    let app = unique_app("prune-retention");
    let (older, newer) = (image(&app, "app", None), image(&app, "app", None));
    // Both are younger than the default 7 days: nothing goes.
    let plan = kiln_ok(["--app", &app, "prune", "--apply", "--keep", "0"]);
    assert!(
        line(&plan.stdout, &older).contains("younger than 7d"),
        "{}",
        plan.stdout
    );
    assert!(emulator().image_exists(&older) && emulator().image_exists(&newer));
    // Same second: by id order the newest is the larger id; keep 1 keeps exactly one.
    kiln_ok([
        "--app",
        &app,
        "prune",
        "--apply",
        "--keep",
        "1",
        "--min-age",
        "0s",
        "--keep-versions",
        "0",
    ]);
    let left = [&older, &newer]
        .iter()
        .filter(|a| emulator().image_exists(a))
        .count();
    assert_eq!(left, 1, "the newest one stays");
}

#[test]
fn the_plan_changes_nothing_and_apply_deletes_exactly_what_it_listed() {
    let app = unique_app("prune-plan");
    let images: Vec<String> = (0..4).map(|_| image(&app, "app", None)).collect();
    kiln_ok(["--app", &app, "publish", "app", &images[3]]);
    let planned = kiln_ok(
        [
            &["--app", &app, "--output", "json", "prune"][..],
            &NO_RETENTION[..],
        ]
        .concat(),
    )
    .json();
    assert!(
        images.iter().all(|i| emulator().image_exists(i)),
        "the plan changed nothing"
    );
    let listed: Vec<String> = planned["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["decision"] == "delete")
        .map(|i| i["ami_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed.len(), 4, "{planned}");
    let dry = kiln_ok(
        [
            &["--app", &app, "--dry-run", "prune", "--apply"][..],
            &NO_RETENTION[..],
        ]
        .concat(),
    );
    assert_eq!(
        dry.stdout
            .matches("would run   ec2:DeregisterImage")
            .count(),
        4,
        "{}",
        dry.stdout
    );
    assert!(
        images.iter().all(|i| emulator().image_exists(i)),
        "a dry run changed nothing"
    );
    let applied = kiln_ok(
        [
            &["--app", &app, "--output", "json", "prune", "--apply"][..],
            &NO_RETENTION[..],
        ]
        .concat(),
    )
    .json();
    let mut deleted: Vec<String> = applied["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let mut listed = listed;
    deleted.sort();
    listed.sort();
    assert_eq!(deleted, listed);
    assert_eq!(applied["deleted_snapshots"].as_array().unwrap().len(), 4);
}

#[test]
fn bad_prune_input_is_a_usage_error() {
    kiln()
        .args(["--app", "shop", "prune", "--min-age", "a week"])
        .run()
        .fails(2, "error: invalid value `a week` in --min-age: expected a duration such as 90s, 10m, 2h or 7d (units s, m, h, d; combined like 1h30m)\n");
}
