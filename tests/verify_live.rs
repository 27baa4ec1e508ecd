//! `kiln verify` on a throwaway instance, end to end against the emulator: the
//! launch and its tags, the command sent to that instance alone, the teardown after
//! every ending (broken image, timeout, SIGINT/SIGTERM), `--keep-on-failure` and
//! `--cleanup`. The emulator runs no command (its invocations succeed with empty
//! output), so every run here must end as "broken", never as a pass; the path
//! where Goss JSON comes back is tested at the SDK level (src/stages/verify/tests.rs).
//! As on AWS, the emulator's SSM agent comes online only on an instance launched
//! with an instance profile (`emulator().instance_profile()`).

use std::time::{Duration, Instant};

use crate::harness::{REGION, Run, emulator, kiln, unique_app, write};

const SPEC: &str = "package:\n  nginx:\n    installed: true\n";
/// The help when goss ran (or should have) but gave no usable report.
const BROKEN_HELP: &str = "  help: nothing was promoted; check that goss is installed on the image and that the spec loads (`goss validate` on a machine from this image)\n";
/// The help when the test never got to run: the instance or its SSM agent.
const NEVER_RAN_HELP: &str = "  help: nothing was promoted; the test never ran: check the [verify] subnet, security groups and instance profile, and that the image boots (--keep-on-failure keeps the instance to look at)\n";

/// An app whose newest `app` version is an image; `agent_offline` makes the
/// emulator's SSM agent on its instances never come online.
fn app_with_image(purpose: &str, agent_offline: bool) -> (String, String) {
    let app = unique_app(purpose);
    let tags: &[(&str, &str)] = if agent_offline {
        &[("emulator:ssm-agent", "offline")]
    } else {
        &[]
    };
    let ami = emulator().create_image(&app, tags);
    kiln()
        .args(["--app", &app, "publish", "app", &ami])
        .run()
        .ok();
    (app, ami)
}

/// `kiln --app APP verify ARGS…` in a directory with goss/app.yaml.
fn verify(app: &str, args: &[&str]) -> Run {
    let run = kiln();
    write(run.dir(), "goss/app.yaml", SPEC);
    run.args(["--app", app, "verify"]).args(args).run()
}

#[test]
fn the_instance_is_launched_tagged_sent_goss_alone_and_terminated() {
    let (app, ami) = app_with_image("live-lifecycle", false);
    let run = kiln();
    write(run.dir(), "goss/app.yaml", SPEC);
    write(
        run.dir(),
        "kiln.toml",
        &format!(
            "[verify]\ninstance_type = \"t3.small\"\nlifetime = \"3h\"\nboot_timeout = \"30s\"\ninstance_profile = \"{}\"\n",
            emulator().instance_profile()
        ),
    );
    let junit = run.dir().join("verify.xml");
    let done = run
        .args(["--app", &app, "verify", "--junit"])
        .arg(&junit)
        .run();

    let instances = emulator().app_instances(&app);
    assert_eq!(instances.len(), 1, "one instance: {instances:?}");
    let instance = &instances[0];
    assert_eq!(instance.image, ami);
    assert_eq!(instance.instance_type, "t3.small");
    assert_eq!(instance.state, "terminated");
    assert_eq!(instance.tags["kiln:purpose"], "verify");
    assert_eq!(instance.tags["Name"], format!("kiln-verify-{app}-app"));
    assert!(!instance.tags["kiln:run-id"].is_empty());
    let expires = kiln::model::Timestamp::parse_iso(&instance.tags["kiln:expires"]).unwrap();
    let in_secs = expires.0 - kiln::model::Timestamp::now().0;
    assert!(
        (3 * 3600 - 120..=3 * 3600).contains(&in_secs),
        "lifetime 3h: {in_secs}s"
    );

    let commands = emulator().commands_for(&instance.id);
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0].document, "AWS-RunShellScript");
    assert_eq!(
        commands[0].instance_ids,
        vec![instance.id.clone()],
        "that instance only"
    );
    let spec = aws_smithy_types::base64::encode(SPEC);
    assert!(
        commands[0].script.contains(&spec),
        "the spec travels in the script"
    );

    // The emulator's empty output is an infrastructure error, never a pass.
    assert_eq!(done.code, 7, "{}", done.stderr);
    assert!(
        done.stderr.ends_with(&format!(
            "kiln: terminated verify instance {id} in {REGION}\nerror: cannot verify {ami} (app:1): the command printed nothing (SSM status Success, exit code 0): no Goss results\n{BROKEN_HELP}",
            id = instance.id
        )),
        "{}",
        done.stderr
    );
    let xml = std::fs::read_to_string(junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("error"))
            .count(),
        1
    );
    assert!(
        emulator()
            .history(&format!("/kiln/{app}/app"))
            .iter()
            .all(|(_, _, labels)| labels.is_empty())
    );
}

#[test]
fn an_image_whose_ssm_agent_never_comes_online_is_broken() {
    let (app, ami) = app_with_image("live-no-agent", true);
    let done = verify(&app, &["--boot-timeout", "2s"]);
    let instances = emulator().app_instances(&app);
    assert_eq!(instances.len(), 1);
    let id = &instances[0].id;
    assert_eq!(instances[0].state, "terminated");
    assert!(emulator().commands_for(id).is_empty(), "nothing was sent");
    assert_eq!(done.code, 7, "{}", done.stderr);
    assert!(
        done.stderr.ends_with(&format!(
            "kiln: terminated verify instance {id} in {REGION}\nerror: cannot verify {ami} (app:1): the SSM agent on {id} did not come online within 2s: the image needs the SSM agent, the instance profile needs AmazonSSMManagedInstanceCore, and the subnet a route to SSM (NAT or VPC endpoints)\n{NEVER_RAN_HELP}"
        )),
        "{}",
        done.stderr
    );
}

#[test]
fn without_an_instance_profile_the_ssm_agent_never_comes_online() {
    // A working image, but no --instance-profile and none in kiln.toml: the agent
    // has no credentials to register with SSM, so nothing can be sent.
    let (app, ami) = app_with_image("live-no-profile", false);
    let done = verify(&app, &["--boot-timeout", "2s"]);
    let instances = emulator().app_instances(&app);
    assert_eq!(instances.len(), 1);
    let id = &instances[0].id;
    assert_eq!(instances[0].state, "terminated");
    assert!(emulator().commands_for(id).is_empty(), "nothing was sent");
    assert_eq!(done.code, 7, "{}", done.stderr);
    assert!(
        done.stderr.ends_with(&format!(
            "kiln: terminated verify instance {id} in {REGION}\nerror: cannot verify {ami} (app:1): the SSM agent on {id} did not come online within 2s: the image needs the SSM agent, the instance profile needs AmazonSSMManagedInstanceCore, and the subnet a route to SSM (NAT or VPC endpoints)\n{NEVER_RAN_HELP}"
        )),
        "{}",
        done.stderr
    );
    // The same image with the profile as a flag reaches the command.
    let done = verify(&app, &["--instance-profile", emulator().instance_profile()]);
    assert_eq!(done.code, 7, "{}", done.stderr);
    assert!(
        done.stderr.contains(
            "the command printed nothing (SSM status Success, exit code 0): no Goss results"
        ),
        "{}",
        done.stderr
    );
    let instances = emulator().app_instances(&app);
    assert_eq!(instances.len(), 2);
    let sent: usize = instances
        .iter()
        .map(|i| emulator().commands_for(&i.id).len())
        .sum();
    assert_eq!(sent, 1, "one command, to the instance with the profile");
}

#[test]
fn sigint_or_sigterm_while_the_instance_is_up_leaves_no_instance() {
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
        let (app, _) = app_with_image("live-signal", true);
        let run = kiln();
        write(run.dir(), "goss/app.yaml", SPEC);
        let child = run
            .args(["--app", &app, "verify", "--boot-timeout", "10m"])
            .spawn();
        let deadline = Instant::now() + Duration::from_secs(60);
        let id = loop {
            let running: Vec<_> = emulator()
                .app_instances(&app)
                .into_iter()
                .filter(|i| i.state == "running")
                .collect();
            if let Some(instance) = running.first() {
                break instance.id.clone();
            }
            assert!(Instant::now() < deadline, "no verify instance came up");
            std::thread::sleep(Duration::from_millis(200));
        };
        // SAFETY: kill(2) on the child this test started.
        unsafe { libc::kill(child.id() as i32, signal) };
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(130), "{stderr}");
        assert!(
            stderr.ends_with(&format!(
                "kiln: removed verify instance {id} in {REGION}\nerror: interrupted by {name} while running kiln verify\n  help: nothing was published or promoted, and what kiln had started was removed; run the command again\n"
            )),
            "{stderr}"
        );
        let left: Vec<_> = emulator()
            .app_instances(&app)
            .into_iter()
            .filter(|i| i.state != "terminated")
            .collect();
        assert!(left.is_empty(), "{name} left {left:?}");
        // A second run after the cancellation succeeds (here on results from elsewhere).
        kiln()
            .args(["--app", &app, "verify", "--results"])
            .arg(crate::harness::root().join("tests/fixtures/goss/pass.json"))
            .run()
            .ok();
    }
}

#[test]
fn keep_on_failure_keeps_the_instance_and_cleanup_removes_only_expired_ones() {
    let (app, ami) = app_with_image("live-keep", true);
    let done = verify(&app, &["--boot-timeout", "1s", "--keep-on-failure"]);
    assert_eq!(done.code, 7, "{}", done.stderr);
    let kept = emulator().app_instances(&app)[0].clone();
    assert_eq!(kept.state, "running");
    assert!(
        done.stderr.contains(&format!(
            "  connect:   aws ssm start-session --target {id} --region {REGION}\n",
            id = kept.id
        )),
        "{}",
        done.stderr
    );
    // What a crashed run leaves: past its lifetime.
    let crashed = emulator().launch_tagged(
        &ami,
        &[
            ("kiln:purpose", "verify"),
            ("kiln:app", &app),
            ("kiln:run-id", "crashed"),
            ("kiln:expires", "2020-01-01T00:00:00Z"),
        ],
    );
    let plan = kiln()
        .args(["--app", &app, "--dry-run", "verify", "--cleanup"])
        .run()
        .ok();
    assert!(
        plan.stdout.contains(&format!(
            "would run   ec2:TerminateInstances {crashed} in {REGION}"
        )),
        "{}",
        plan.stdout
    );
    let cleaned = kiln()
        .args(["--app", &app, "--output", "json", "verify", "--cleanup"])
        .run()
        .ok()
        .json();
    assert_eq!(cleaned["terminated"], serde_json::json!([crashed]));
    let states: Vec<(String, String)> = emulator()
        .app_instances(&app)
        .into_iter()
        .map(|i| (i.id, i.state))
        .collect();
    assert!(
        states.contains(&(crashed, "terminated".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&(kept.id.clone(), "running".into())),
        "within its lifetime: {states:?}"
    );
}

#[test]
fn a_dry_run_plans_the_launch_the_command_and_the_teardown() {
    let (app, ami) = app_with_image("live-dry", false);
    let done = verify(&app, &["--dry-run"]).ok();
    for line in [
        format!(
            "would run   ec2:RunInstances in {REGION}: image={ami} type=t3.micro tags: Name=kiln-verify-{app}-app kiln:ami={ami} kiln:app={app} kiln:expires="
        ),
        format!(
            "would run   ssm:SendCommand AWS-RunShellScript to (the instance kiln launches) in {REGION} (timeout 10m): goss validate --format json of goss/app.yaml\n"
        ),
        format!("would run   ec2:TerminateInstances (the instance kiln launches) in {REGION}\n"),
    ] {
        assert!(done.stdout.contains(&line), "{line}\n---\n{}", done.stdout);
    }
    assert!(
        emulator().app_instances(&app).is_empty(),
        "nothing was launched"
    );
}

#[test]
fn bad_verify_input_fails_before_anything_is_launched() {
    let (app, _) = app_with_image("live-bad-input", false);
    kiln().args(["--app", &app, "verify"]).run().fails(
        2,
        "error: goss/app.yaml: Goss spec not found\n  help: check the path given to --goss\n",
    );
    verify(&app, &["--boot-timeout", "soon"]).fails(
        2,
        "error: invalid value `soon` in --boot-timeout: expected a duration such as 90s, 10m, 2h or 7d (units s, m, h, d; combined like 1h30m)\n",
    );
    verify(&app, &["--instance-type", "huge"]).fails(
        2,
        "error: invalid value `huge` in --instance-type: expected an EC2 instance type such as t3.micro\n",
    );
    assert!(
        emulator().app_instances(&app).is_empty(),
        "nothing was launched"
    );
}
