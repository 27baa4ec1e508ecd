//! `kiln deploy` onto groups in the shapes real fleets have: a mixed instances
//! policy (the template inside the policy, with instance-type overrides), a group
//! still on a launch configuration (refused before any change), and
//! `--strategy none` (the group changes, no instance is replaced); and what an
//! interrupted deploy says it left.

use std::time::{Duration, Instant};

use crate::harness::groups::{TestedFleet, tested_fleet};
use crate::harness::{REGION, emulator, kiln, kiln_ok};

#[test]
fn a_mixed_group_is_deployed_through_its_policy_which_keeps_its_overrides() {
    let TestedFleet {
        app, new, fleet, ..
    } = tested_fleet("deploy-mixed", 2, &[]);
    emulator().make_mixed(&fleet);
    let done = kiln_ok([
        "--app",
        &app,
        "deploy",
        "--asg",
        &fleet.group,
        "--batch-size",
        "1",
        "--min-healthy",
        "50%",
        "--timeout",
        "2m",
    ]);
    assert_eq!(
        done.stdout,
        format!(
            "deploy: {} runs {new} (app:1) (launch template {} version 2); production -> app:1\n",
            fleet.group, fleet.template
        )
    );
    assert_eq!(
        emulator().mixed_policy(&fleet.group),
        Some((
            "2".to_string(),
            vec![
                "t3.small".to_string(),
                "t3a.small".to_string(),
                "m5.large".to_string()
            ],
            100
        )),
        "the policy names the new version and keeps its overrides and distribution"
    );
    assert_eq!(emulator().images_in_group(&fleet.group), vec![new; 2]);

    // Blue-green would make a new group from a bare template: refused, nothing changed.
    let refused = kiln()
        .args([
            "--app",
            &app,
            "deploy",
            "--asg",
            &fleet.group,
            "--strategy",
            "blue-green",
        ])
        .run();
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.ends_with(&format!(
            "error: Auto Scaling group {} launches through a mixed instances policy, which a blue-green deploy would not carry to the new group\n  help: deploy it with --strategy rolling or instance-refresh (both keep its overrides and On-Demand/Spot mix)\n",
            fleet.group
        )),
        "{}",
        refused.stderr
    );
    assert_eq!(emulator().latest_template_version(&fleet.template), 2);
}

#[test]
fn a_group_on_a_launch_configuration_is_refused_before_any_change() {
    let TestedFleet { app, fleet, .. } = tested_fleet("deploy-launch-config", 1, &[]);
    let old = emulator().images_in_group(&fleet.group)[0].clone();
    let group = format!("{app}-lc");
    emulator().configuration_group(&group, &old, 1);
    let run = kiln()
        .args(["--app", &app, "deploy", "--asg", &group])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.ends_with(&format!(
            "error: Auto Scaling group {group} launches from launch configuration {group}-lc; kiln deploys through launch template versions and changed nothing\n  help: move the group to a launch template first: copy the launch configuration to one (EC2 console, Launch configurations, {group}-lc, Actions, Copy to launch template), then `aws autoscaling update-auto-scaling-group --auto-scaling-group-name {group} --launch-template LaunchTemplateName=NAME,Version=1 --region {REGION}`, and deploy again\n"
        )),
        "{}",
        run.stderr
    );
    let seen = emulator().group(&group).unwrap();
    assert!(seen.tags.is_empty(), "no lock tag: {:?}", seen.tags);
    assert_eq!(
        emulator().parameter(&format!("/kiln/{app}/deploy-lock/{group}")),
        None
    );
    assert_eq!(emulator().images_in_group(&group), vec![old]);
}

#[test]
fn strategy_none_updates_the_group_and_replaces_no_instance() {
    let TestedFleet {
        app, new, fleet, ..
    } = tested_fleet("deploy-strategy-none", 2, &[]);
    let before = emulator().group(&fleet.group).unwrap().instances;
    let old = emulator().images_in_group(&fleet.group);
    let done = kiln_ok([
        "--app",
        &app,
        "deploy",
        "--asg",
        &fleet.group,
        "--strategy",
        "none",
    ]);
    assert_eq!(
        done.stdout,
        format!(
            "deploy: {} launches {new} (app:1) (launch template {} version 2); production -> app:1; its 2 instances keep running the image they started with until scale-in or a later instance refresh replaces them\n",
            fleet.group, fleet.template
        )
    );
    let group = emulator().group(&fleet.group).unwrap();
    assert_eq!(group.version, "2");
    assert_eq!(group.instances, before, "the same instances, untouched");
    assert_eq!(emulator().images_in_group(&fleet.group), old);
    assert_eq!(
        emulator().template_version(&fleet.template, "2").0,
        new,
        "new launches get the new image"
    );
}

#[test]
fn an_interrupted_deploy_says_what_the_group_launches_and_runs_now() {
    let TestedFleet {
        app, new, fleet, ..
    } = tested_fleet("deploy-interrupt-truth", 4, &[]);
    let old = emulator().images_in_group(&fleet.group)[0].clone();
    let child = kiln()
        .args([
            "--app",
            &app,
            "deploy",
            "--asg",
            &fleet.group,
            "--batch-size",
            "1",
            "--min-healthy",
            "75%",
        ])
        .spawn();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !emulator()
        .group(&fleet.group)
        .unwrap()
        .instances
        .iter()
        .any(|(_, v, _)| v == "2")
    {
        assert!(Instant::now() < deadline, "the rollout never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: kill(2) on the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let instances = emulator().group(&fleet.group).unwrap().instances;
    let on = |version: &str| instances.iter().filter(|(_, v, _)| v == version).count();
    let (on_new, on_old) = (on("2"), on("1"));
    assert!(on_new >= 1 && on_new + on_old == 4, "{instances:?}");
    let mut running = vec![format!("{on_new} on version 2 ({new})")];
    if on_old > 0 {
        running.push(format!("{on_old} on version 1 ({old})"));
    }
    assert!(
        stderr.ends_with(&format!(
            "error: interrupted by SIGTERM during kiln deploy: {group} now launches {template} version 2; its instances: {}\n  help: the channel was not moved; run the same `kiln deploy` again to resume (instances already on the new version stay), or `kiln rollback` (with the same --env or --asg) to return {group} to what it ran before\n",
            running.join(", "),
            group = fleet.group,
            template = fleet.template,
        )),
        "{stderr}"
    );
}

#[test]
fn a_failed_deploy_left_in_place_says_how_many_instances_run_which_version() {
    let TestedFleet { app, fleet, .. } =
        tested_fleet("deploy-fail-truth", 4, &[("emulator:health", "unhealthy")]);
    let run = kiln()
        .args([
            "--app",
            &app,
            "deploy",
            "--asg",
            &fleet.group,
            "--batch-size",
            "2",
            "--timeout",
            "5s",
            "--no-rollback",
        ])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    // 90% of 4 must stay healthy: kiln added 2 on the new version before removing any.
    assert!(
        run.stderr.contains(
            "; when it stopped, the group had 2 on version 2, 4 on version 1; not rolled back (--no-rollback)\n"
        ),
        "{}",
        run.stderr
    );
}
