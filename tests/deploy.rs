//! `kiln deploy` and `kiln rollback` against the emulator: a group of 4 instances
//! from a launch template behind a target group. The launcher makes instances of
//! an image tagged `emulator:health=unhealthy` fail their health checks, which is
//! how a rollout that never becomes healthy is produced here; an instance refresh
//! started with the SDK stays in progress there until it is cancelled.

use std::time::{Duration, Instant};

use crate::harness::groups::Fleet;
use crate::harness::{REGION, emulator, kiln, kiln_ok, unique_app};

/// An app with two images published as app:1 (in production before, and on the
/// group now) and app:2 (tested), and a group of 4 instances on app:1.
struct Service {
    app: String,
    old: String,
    new: String,
    fleet: Fleet,
}

fn service(purpose: &str, new_is_unhealthy: bool) -> Service {
    let app = unique_app(purpose);
    let old = emulator().create_image(&format!("{app}-old"), &[]);
    let tags: &[(&str, &str)] = if new_is_unhealthy {
        &[("emulator:health", "unhealthy")]
    } else {
        &[]
    };
    let new = emulator().create_image(&format!("{app}-new"), tags);
    for ami in [&old, &new] {
        kiln_ok(["--app", &app, "publish", "app", ami]);
    }
    kiln_ok(["--app", &app, "promote", "app:1", "--to", "production"]);
    emulator().tag_image(&old, "kiln:deployed", "2026-01-01T00:00:00Z");
    kiln_ok(["--app", &app, "promote", "app:2", "--to", "tested"]);
    let fleet = emulator().fleet(&app, &old, 4);
    Service {
        app,
        old,
        new,
        fleet,
    }
}

fn production(app: &str) -> Option<i64> {
    emulator()
        .history(&format!("/kiln/{app}/app"))
        .into_iter()
        .find(|(_, _, labels)| labels.iter().any(|l| l == "production"))
        .map(|(version, _, _)| version)
}

/// Everything a deploy holds while it runs is gone.
fn assert_unlocked(service: &Service) {
    let group = emulator().group(&service.fleet.group).unwrap();
    assert!(
        !group.tags.contains_key("kiln:deploy-lock"),
        "{:?}",
        group.tags
    );
    let lock = format!("/kiln/{}/deploy-lock/{}", service.app, service.fleet.group);
    assert_eq!(
        emulator().parameter(&lock),
        None,
        "the lock parameter is gone"
    );
}

#[test]
fn rolling_deploy_then_rollback() {
    let s = service("deploy-rolling", false);
    let done = kiln_ok([
        "--app",
        &s.app,
        "deploy",
        "--asg",
        &s.fleet.group,
        "--batch-size",
        "2",
        "--min-healthy",
        "50%",
        "--timeout",
        "2m",
    ]);
    assert_eq!(
        done.stdout,
        format!(
            "deploy: {} runs {} (app:2) (launch template {} version 2); production -> app:2\n",
            s.fleet.group, s.new, s.fleet.template
        )
    );
    let group = emulator().group(&s.fleet.group).unwrap();
    assert_eq!(
        group.version, "2",
        "the group is on the new numbered version"
    );
    assert_eq!(group.instances.len(), 4);
    assert!(
        group
            .instances
            .iter()
            .all(|(_, v, state)| v == "2" && state == "InService"),
        "{group:?}"
    );
    assert_eq!(
        emulator().images_in_group(&s.fleet.group),
        vec![s.new.clone(); 4]
    );
    // Every other setting of version 1 was carried over.
    assert_eq!(
        emulator().template_version(&s.fleet.template, "2"),
        (s.new.clone(), "t3.small".to_string(), "ops".to_string())
    );
    assert_eq!(production(&s.app), Some(2));
    assert!(emulator().image_tags(&s.new).contains_key("kiln:deployed"));
    assert_unlocked(&s);

    let back = kiln_ok([
        "--app",
        &s.app,
        "rollback",
        "--asg",
        &s.fleet.group,
        "--min-healthy",
        "50%",
    ]);
    // The ledger says what the group ran before the deploy: that exact version.
    assert!(
        back.stderr.contains(&format!(
            "kiln: {} returns to launch template {} version 1: {} (app:1)\n",
            s.fleet.group, s.fleet.template, s.old
        )),
        "{}",
        back.stderr
    );
    assert_eq!(
        back.stdout,
        format!(
            "rollback: {} runs {} (app:1) (launch template {} version 1); production -> app:1\n",
            s.fleet.group, s.old, s.fleet.template
        )
    );
    assert_eq!(
        emulator().images_in_group(&s.fleet.group),
        vec![s.old.clone(); 4]
    );
    assert_eq!(emulator().group(&s.fleet.group).unwrap().version, "1");
    assert_eq!(production(&s.app), Some(1));
    assert_unlocked(&s);
}

#[test]
fn blue_green_deploy_switches_to_a_new_group_and_keeps_the_old_at_zero() {
    let s = service("deploy-blue-green", false);
    let done = kiln_ok([
        "--app",
        &s.app,
        "--output",
        "json",
        "deploy",
        "--asg",
        &s.fleet.group,
        "--strategy",
        "blue-green",
        "--timeout",
        "2m",
    ])
    .json();
    assert_eq!(done["promoted_to"], "production");
    let family = emulator().blue_green_family(&s.fleet.group);
    let new_group = family
        .iter()
        .find(|g| **g != s.fleet.group)
        .expect("a new group")
        .clone();
    let new = emulator().group(&new_group).unwrap();
    assert_eq!(new.tags.get("kiln:live").map(String::as_str), Some("true"));
    assert_eq!(new.target_groups, vec![s.fleet.target_group.clone()]);
    assert_eq!(
        emulator().images_in_group(&new_group),
        vec![s.new.clone(); 4]
    );
    let old = emulator().group(&s.fleet.group).unwrap();
    assert_eq!(
        (old.desired, old.instances.len()),
        (0, 0),
        "the old group is at zero"
    );
    assert!(old.target_groups.is_empty(), "and detached");
    assert!(old.tags.contains_key("kiln:retired"));
    let serving: Vec<String> = emulator()
        .target_states(&s.fleet.target_group)
        .into_iter()
        .filter(|(_, state)| state == "healthy")
        .map(|(id, _)| id)
        .collect();
    let mut new_ids: Vec<String> = new.instances.iter().map(|(id, _, _)| id.clone()).collect();
    let mut serving_sorted = serving.clone();
    new_ids.sort();
    serving_sorted.sort();
    assert_eq!(serving_sorted, new_ids, "only the new group serves");
    assert_eq!(production(&s.app), Some(2));
    assert_unlocked(&s);
}

#[test]
fn a_rollout_that_never_becomes_healthy_is_rolled_back() {
    let s = service("deploy-unhealthy", true);
    let run = kiln()
        .args([
            "--app",
            &s.app,
            "deploy",
            "--asg",
            &s.fleet.group,
            "--batch-size",
            "2",
            "--timeout",
            "6s",
        ])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: deploy to {} failed: not converged within 6s: 0 of ",
            s.fleet.group
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with("; rolled back to launch template version 1\n  help: production was not moved; look at the new instances' health (target group health checks, the app's logs) and deploy a fixed image\n"),
        "{}",
        run.stderr
    );
    let group = emulator().group(&s.fleet.group).unwrap();
    assert_eq!(group.version, "1");
    assert_eq!((group.desired, group.max), (4, 8), "the capacity is back");
    assert_eq!(
        emulator().images_in_group(&s.fleet.group),
        vec![s.old.clone(); 4]
    );
    assert_eq!(production(&s.app), Some(1), "production did not move");
    assert_unlocked(&s);
}

#[test]
fn refusals_change_nothing() {
    let s = service("deploy-refusals", false);
    // Not tested: app:2 is on tested, app:1 is not.
    kiln()
        .args(["--app", &s.app, "deploy", "app:1", "--asg", &s.fleet.group])
        .run()
        .fails(
            1,
            &format!("error: {} (app:1) is not on the tested channel\n  help: verify it first (`kiln verify app:VERSION` promotes it to tested), or pass --force to deploy it anyway\n", s.old),
        );
    // Held by another deploy.
    let lock = format!("/kiln/{}/deploy-lock/{}", s.app, s.fleet.group);
    let holder = "run 20261123T120000Z-1 deploying ami-0123 (app:9), by GitHub Actions acme/shop run 7, until 2099-01-01T00:00:00Z";
    emulator().put_text(&lock, holder);
    kiln()
        .args(["--app", &s.app, "deploy", "--asg", &s.fleet.group])
        .run()
        .fails(
            1,
            &format!("error: another deploy holds Auto Scaling group {}: {holder}\n  help: wait for it to finish; if its run is gone (a crashed job), the lock expires by itself, or remove it: aws ssm delete-parameter --name {lock} --region {REGION}\n", s.fleet.group),
        );
    assert_eq!(
        emulator().parameter(&lock).as_deref(),
        Some(holder),
        "someone else's lock stays"
    );
    // Revoked.
    emulator().tag_image(&s.new, "kiln:revoked", "CVE-2026-0001");
    kiln()
        .args(["--app", &s.app, "deploy", "--asg", &s.fleet.group, "--force"])
        .run()
        .fails(
            1,
            &format!("error: AMI {} is revoked: CVE-2026-0001\n  help: publish or promote another image; if the revocation was a mistake, `kiln revoke --undo {}` lifts it\n", s.new, s.new),
        );
    let group = emulator().group(&s.fleet.group).unwrap();
    assert_eq!(group.version, "1");
    assert_eq!(
        emulator().images_in_group(&s.fleet.group),
        vec![s.old.clone(); 4]
    );
    assert_eq!(production(&s.app), Some(1));
}

#[test]
fn an_active_instance_refresh_holds_the_group_until_it_ends() {
    let s = service("deploy-refreshing", false);
    // Someone (the console, another tool) started a refresh of the group.
    let refresh = emulator().start_instance_refresh(&s.fleet.group);
    kiln()
        .args(["--app", &s.app, "deploy", "--asg", &s.fleet.group])
        .run()
        .fails(
            1,
            &format!("error: another deploy holds Auto Scaling group {group}: instance refresh {refresh} is InProgress (0% done)\n  help: wait for the instance refresh to finish, or cancel it: aws autoscaling cancel-instance-refresh --auto-scaling-group-name {group} --region {REGION}\n", group = s.fleet.group),
        );
    assert_eq!(
        emulator().latest_template_version(&s.fleet.template),
        1,
        "no launch template version was made"
    );
    assert_eq!(emulator().group(&s.fleet.group).unwrap().version, "1");
    assert_unlocked(&s);
    assert_eq!(
        emulator().instance_refreshes(&s.fleet.group),
        vec![(refresh, "InProgress".to_string())],
        "someone else's refresh is left alone"
    );
    // Once it has ended, the group is free again.
    emulator().cancel_instance_refresh(&s.fleet.group);
    kiln_ok([
        "--app",
        &s.app,
        "deploy",
        "--asg",
        &s.fleet.group,
        "--batch-size",
        "2",
        "--min-healthy",
        "50%",
    ]);
    assert_eq!(
        emulator().images_in_group(&s.fleet.group),
        vec![s.new.clone(); 4]
    );
    assert_unlocked(&s);
}

#[test]
fn a_dry_run_plans_the_rollout_and_changes_nothing() {
    let s = service("deploy-dry", false);
    let done = kiln_ok([
        "--app",
        &s.app,
        "--dry-run",
        "deploy",
        "--asg",
        &s.fleet.group,
    ]);
    for line in [
        format!(
            "would run   ec2:CreateLaunchTemplateVersion {} in {REGION}: version 1's settings with image={}\n",
            s.fleet.template, s.new
        ),
        format!(
            "would run   autoscaling:UpdateAutoScalingGroup {} in {REGION}: launch-template={} version=(the new version)\n",
            s.fleet.group, s.fleet.template
        ),
        format!(
            "would run   autoscaling:CreateOrUpdateTags {} in {REGION}: kiln:rollout-version=(the new version) kiln:rollback-version=1\n",
            s.fleet.group
        ),
        format!(
            "would run   ssm:LabelParameterVersion /kiln/{}/app in {REGION}: version=2 labels=production\n",
            s.app
        ),
    ] {
        assert!(done.stdout.contains(&line), "{line}---\n{}", done.stdout);
    }
    assert_eq!(
        done.stdout
            .matches("autoscaling:TerminateInstanceInAutoScalingGroup")
            .count(),
        4,
        "{}",
        done.stdout
    );
    let group = emulator().group(&s.fleet.group).unwrap();
    assert_eq!(group.version, "1");
    assert_eq!(
        emulator().images_in_group(&s.fleet.group),
        vec![s.old.clone(); 4]
    );
    assert_eq!(production(&s.app), Some(1));
    assert_unlocked(&s);
}

#[test]
fn an_interrupted_rollout_releases_the_lock_and_a_second_run_continues_it() {
    let s = service("deploy-resume", false);
    let child = kiln()
        .args([
            "--app",
            &s.app,
            "deploy",
            "--asg",
            &s.fleet.group,
            "--batch-size",
            "1",
            "--min-healthy",
            "75%",
        ])
        .spawn();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let group = emulator().group(&s.fleet.group).unwrap();
        if group.instances.iter().any(|(_, v, _)| v == "2") {
            break;
        }
        assert!(Instant::now() < deadline, "the rollout never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: kill(2) on the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "kiln: removed the deploy lock on {} in {REGION}\n",
            s.fleet.group
        )),
        "{stderr}"
    );
    assert_unlocked(&s);
    let kept: Vec<String> = emulator()
        .group(&s.fleet.group)
        .unwrap()
        .instances
        .into_iter()
        .filter(|(_, v, _)| v == "2")
        .map(|(id, _, _)| id)
        .collect();
    assert!(!kept.is_empty());
    assert_eq!(production(&s.app), Some(1));
    // The state a re-run resumes from is on the group: where the rollout goes, and
    // where a failure goes back to.
    let tags = emulator().group(&s.fleet.group).unwrap().tags;
    assert_eq!(
        (
            tags.get("kiln:rollout-version").map(String::as_str),
            tags.get("kiln:rollback-version").map(String::as_str)
        ),
        (Some("2"), Some("1")),
        "{tags:?}"
    );

    let again = kiln_ok([
        "--app",
        &s.app,
        "deploy",
        "--asg",
        &s.fleet.group,
        "--batch-size",
        "1",
        "--min-healthy",
        "75%",
    ]);
    assert!(
        again.stderr.contains("continuing that rollout"),
        "{}",
        again.stderr
    );
    let group = emulator().group(&s.fleet.group).unwrap();
    assert_eq!(group.version, "2", "no second new version");
    for id in &kept {
        assert!(
            group.instances.iter().any(|(i, _, _)| i == id),
            "{id} was replaced again"
        );
    }
    assert_eq!(
        emulator().images_in_group(&s.fleet.group),
        vec![s.new.clone(); 4]
    );
    assert_eq!(production(&s.app), Some(2));
}

#[test]
fn a_blue_green_deploy_cancelled_while_the_new_group_comes_up_removes_it() {
    let s = service("deploy-bg-cancel", true);
    let child = kiln()
        .args([
            "--app",
            &s.app,
            "deploy",
            "--asg",
            &s.fleet.group,
            "--strategy",
            "blue-green",
            "--timeout",
            "10m",
        ])
        .spawn();
    let deadline = Instant::now() + Duration::from_secs(60);
    let new_group = loop {
        let family = emulator().blue_green_family(&s.fleet.group);
        if let Some(group) = family.into_iter().find(|g| *g != s.fleet.group) {
            break group;
        }
        assert!(Instant::now() < deadline, "the new group never appeared");
        std::thread::sleep(Duration::from_millis(100));
    };
    // SAFETY: kill(2) on the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "kiln: removed the new group {new_group} in {REGION}\n"
        )),
        "{stderr}"
    );
    assert!(
        emulator().group(&new_group).is_none(),
        "the new group is deleted"
    );
    let old = emulator().group(&s.fleet.group).unwrap();
    assert_eq!(
        (old.desired, old.target_groups.len()),
        (4, 1),
        "the old group kept serving"
    );
    assert_unlocked(&s);
    assert_eq!(production(&s.app), Some(1));
}

#[test]
fn rolling_back_to_an_image_that_never_ran_in_production_says_so() {
    let s = service("rollback-to-tested", false);
    let back = kiln_ok([
        "--app",
        &s.app,
        "rollback",
        "--to",
        "app:2",
        "--asg",
        &s.fleet.group,
        "--batch-size",
        "2",
        "--min-healthy",
        "50%",
    ]);
    assert!(
        back.stderr.contains(&format!(
            "kiln: rolling {} back to {} (app:2) (on tested, never in production)\n",
            s.fleet.group, s.new
        )),
        "{}",
        back.stderr
    );
    assert_eq!(production(&s.app), Some(2));
}

#[test]
fn a_reader_that_quits_early_leaves_nothing_held_and_the_next_deploy_runs() {
    use std::io::BufRead;
    let s = service("deploy-closed-pipe", false);
    // `kiln deploy … 2>&1 | head -1`: the reader takes one line and quits.
    let mut child = kiln()
        .args([
            "--app",
            &s.app,
            "deploy",
            "--asg",
            &s.fleet.group,
            "--batch-size",
            "2",
            "--min-healthy",
            "100%",
        ])
        .spawn();
    let mut first = String::new();
    std::io::BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    // No panic (101): the deploy ran to its end, then could not deliver its result.
    assert_eq!(status.code(), Some(141), "first line: {first}");
    assert_unlocked(&s);
    let group = emulator().group(&s.fleet.group).unwrap();
    assert_eq!(
        (group.desired, group.max),
        (4, 8),
        "the raised capacity was restored"
    );
    assert_eq!(production(&s.app), Some(2));
    // The next deploy is not refused by anything left behind.
    kiln_ok(["--app", &s.app, "deploy", "--asg", &s.fleet.group]);
}
