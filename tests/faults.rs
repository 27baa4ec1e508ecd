//! The pipeline through the fault-injecting proxy (harness/faults.rs): a fifth of
//! all requests are throttled, fail with 500/503, are dropped or slowed. Every
//! stage (bake, verify, deploy, rollback, prune) must still succeed, and afterwards nothing is doubled or left behind:
//! one AMI per bake, one registry version per publish, labels where the commands
//! said, no verify instance running, the deploy lock gone.

use std::sync::atomic::Ordering;

use crate::harness::faults::FaultProxy;
use crate::harness::{Run, emulator, kiln_via, packer_template, root, unique_app, write};

const FAULT_PERCENT: u64 = 20;

#[test]
fn the_pipeline_succeeds_with_a_fifth_of_requests_faulted_and_leaves_no_debris() {
    let proxy = FaultProxy::start(&emulator().endpoint, FAULT_PERCENT);
    let app = unique_app("faults");
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
    kiln(&[
        "bake",
        "base",
        "--template",
        base_template.to_str().unwrap(),
    ])
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
    let lock = format!("/kiln/{app}/deploy-lock/{}", fleet.group);
    assert_eq!(emulator().parameter(&lock), None);
    assert_eq!(
        emulator().images_in_group(&fleet.group),
        vec![old.clone(); 2]
    );
    eprintln!("{faults} of {requests} requests faulted");
}
