//! The pipeline through the fault-injecting proxy (harness/faults.rs), twice: once
//! with a fifth of all requests throttled, failed with 500/503, dropped or slowed
//! before they reach the emulator, once with a fifth of all answers lost after the
//! emulator carried the request out (the SDK's retry, or kiln's, then meets a
//! change already made). Every stage (bake with a copy to a second region, verify,
//! deploy, rollback, prune) must still succeed, and afterwards nothing is doubled
//! or left behind: one AMI and one copy per bake, one registry version per
//! publish, labels where the commands said, one verify instance and no longer
//! running, one launch template version per deploy, the deploy lock gone.

use std::sync::atomic::Ordering;

use crate::harness::faults::{FaultProxy, When};
use crate::harness::{Run, emulator, kiln_via, packer_template, root, unique_app, write};

const FAULT_PERCENT: u64 = 20;
/// The writes AWS does not make idempotent by themselves: with lost answers, the
/// first answer to each of them is always lost (besides the random fifth).
const WRITES: &[&str] = &[
    "PutParameter",
    "LabelParameterVersion",
    "CopyImage",
    "RunInstances",
    "CreateLaunchTemplateVersion",
    "CreateAutoScalingGroup",
    "TerminateInstanceInAutoScalingGroup",
];
/// The region bakes copy their image to.
const COPY_REGION: &str = "eu-west-1";

#[test]
fn the_pipeline_succeeds_with_a_fifth_of_requests_faulted_and_leaves_no_debris() {
    pipeline(
        "faults",
        FaultProxy::faulting(&emulator().endpoint, FAULT_PERCENT, When::Before),
    );
}

#[test]
fn the_pipeline_with_a_fifth_of_answers_lost_after_the_change_doubles_nothing() {
    let proxy = FaultProxy::losing(&emulator().endpoint, FAULT_PERCENT, When::After, WRITES);
    pipeline("lost", proxy);
}

fn pipeline(purpose: &str, proxy: FaultProxy) {
    let app = unique_app(purpose);
    let kiln = |args: &[&str]| -> Run {
        kiln_via(&proxy.endpoint)
            .args(["--app", &app])
            .args(args)
            .run()
    };
    // Packer's own calls go straight to the emulator: Packer 1.6.6 retries some
    // errors and not others (a 503 during its prevalidation ends the build), and
    // what is tested here is kiln. Its calls (publish, copy, tags, registry) go
    // through the proxy.
    let direct = |name: &str| {
        let dir = packer_template(name);
        let source = dir.join("emulator.pkr.hcl");
        let text = std::fs::read_to_string(&source).unwrap();
        let endpoint = format!("\"{}\"", emulator().endpoint);
        std::fs::write(&source, text.replace("var.kiln_ec2_endpoint", &endpoint)).unwrap();
        dir
    };
    let base_template = direct("base");
    let app_template = direct("app");
    kiln_via(&proxy.endpoint)
        .env("KILN_REGIONS", COPY_REGION)
        .args(["--app", &app, "bake", "base", "--template"])
        .args([base_template.to_str().unwrap()])
        .run()
        .ok();
    kiln(&["bake", "app", "--template", app_template.to_str().unwrap()]).ok();
    let pass = root().join("tests/fixtures/goss/pass.json");
    kiln(&["verify", "app:1", "--results", pass.to_str().unwrap()]).ok();
    // A live verify: the emulator's empty command output is "broken" (exit 7), but
    // the instance must be gone however many calls failed on the way.
    let live = kiln_via(&proxy.endpoint);
    write(
        live.dir(),
        "goss/app.yaml",
        "package:\n  nginx:\n    installed: true\n",
    );
    let broken = live
        .args(["--app", &app, "verify", "app:1", "--no-promote"])
        .args(["--instance-profile", emulator().instance_profile()])
        .run();
    assert_eq!(broken.code, 7, "{}", broken.stderr);

    let old = emulator().create_image(&format!("{app}-old"), &[]);
    let fleet = emulator().fleet(&app, &old, 2);
    emulator().tag_image(&old, "kiln:deployed", "2026-01-01T00:00:00Z");
    kiln(&["deploy", "--asg", &fleet.group, "--min-healthy", "50%"]).ok();
    // The image the group ran before, as app:2, to roll back to.
    kiln(&["publish", "app", &old]).ok();
    kiln(&[
        "rollback",
        "--asg",
        &fleet.group,
        "--to",
        "app:2",
        "--min-healthy",
        "50%",
    ])
    .ok();
    kiln(&[
        "prune",
        "--apply",
        "--keep",
        "1",
        "--min-age",
        "0s",
        "--keep-versions",
        "1",
    ])
    .ok();

    let faults = proxy.faults.load(Ordering::SeqCst);
    let requests = proxy.requests.load(Ordering::SeqCst);
    assert!(
        faults * 100 >= requests * (FAULT_PERCENT - 5),
        "{faults} of {requests} faulted"
    );

    // One AMI per bake, one version per publish.
    let bases = emulator().history(&format!("/kiln/{app}/base"));
    let apps = emulator().history(&format!("/kiln/{app}/app"));
    assert_eq!(bases.len(), 1, "{bases:?}");
    assert_eq!(apps.len(), 2, "{apps:?}");
    assert_eq!(
        emulator().app_images(&app).len(),
        3,
        "no duplicate AMIs: base, app, old"
    );
    let copies = emulator().images_named_in(COPY_REGION, &format!("{app}-base-"));
    assert_eq!(copies.len(), 1, "one copy of the base: {copies:?}");
    let copied = emulator().history_in(COPY_REGION, &format!("/kiln/{app}/base"));
    assert_eq!(copied.len(), 1, "{copied:?}");
    assert_eq!(apps[0].2, vec!["tested".to_string()], "{apps:?}");
    assert_eq!(
        apps[1].2,
        vec!["production".to_string()],
        "rolled back: {apps:?}"
    );
    // Nothing left running or locked.
    let verify_left: Vec<_> = emulator()
        .app_instances(&app)
        .into_iter()
        .filter(|i| i.state != "terminated")
        .collect();
    assert!(verify_left.is_empty(), "{verify_left:?}");
    let verify_instances: Vec<_> = emulator()
        .app_instances(&app)
        .into_iter()
        .filter(|i| i.tags.get("kiln:purpose").map(String::as_str) == Some("verify"))
        .collect();
    assert_eq!(
        verify_instances.len(),
        1,
        "one live verify: {verify_instances:?}"
    );
    // The fleet's version 1, the deploy's 2 and the rollback's 3: no more.
    assert_eq!(emulator().latest_template_version(&fleet.template), 3);
    assert_eq!(emulator().group(&fleet.group).unwrap().version, "3");
    let lock = format!("/kiln/{app}/deploy-lock/{}", fleet.group);
    assert_eq!(emulator().parameter(&lock), None);
    assert_eq!(
        emulator().images_in_group(&fleet.group),
        vec![old.clone(); 2]
    );
    eprintln!("{faults} of {requests} requests faulted");
}

#[test]
fn a_blue_green_deploy_whose_answers_are_lost_makes_one_new_group() {
    let proxy = FaultProxy::losing(&emulator().endpoint, FAULT_PERCENT, When::Both, WRITES);
    let s = crate::harness::groups::tested_fleet("lost-blue-green", 2, &[]);
    kiln_via(&proxy.endpoint)
        .args(["--app", &s.app, "deploy", "--asg", &s.fleet.group])
        .args(["--strategy", "blue-green", "--timeout", "2m"])
        .run()
        .ok();
    let family = emulator().blue_green_family(&s.fleet.group);
    assert_eq!(family.len(), 2, "the old group and one new: {family:?}");
    let new_group = family.iter().find(|g| **g != s.fleet.group).unwrap();
    assert_eq!(
        emulator().images_in_group(new_group),
        vec![s.new.clone(); 2]
    );
    assert_eq!(emulator().latest_template_version(&s.fleet.template), 2);
    let history = emulator().history(&format!("/kiln/{}/app", s.app));
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(
        history[0].2.iter().any(|l| l == "production"),
        "promoted where kiln said: {history:?}"
    );
    eprintln!(
        "{} of {} requests faulted",
        proxy.faults.load(Ordering::SeqCst),
        proxy.requests.load(Ordering::SeqCst)
    );
}

#[test]
fn a_publish_whose_answer_is_lost_reports_the_one_version_it_made() {
    // Only PutParameter's first answer is lost (the connection drops or a 5xx
    // replaces it); a CI job run again afterwards adds nothing either.
    let proxy = FaultProxy::losing(&emulator().endpoint, 0, When::After, &["PutParameter"]);
    let app = unique_app("lost-publish");
    let ami = emulator().create_image("lost-publish", &[]);
    for _ in 0..2 {
        let published = kiln_via(&proxy.endpoint)
            .args(["--app", &app, "publish", "app", &ami])
            .run();
        assert_eq!(published.code, 0, "{}", published.stderr);
        assert_eq!(published.stdout, "1\n");
    }
    let versions = emulator().history(&format!("/kiln/{app}/app"));
    assert_eq!(versions.len(), 1, "{versions:?}");
    assert_eq!(proxy.faults.load(Ordering::SeqCst), 1);
}
