//! `kiln bake` with the real Packer (Debian's 1.6.6) against the emulator.

mod inputs;

use std::time::{Duration, Instant};

use crate::harness::{REGION, Run, emulator, kiln, kiln_ok, packer_template, unique_app};

fn bake(app: &str, role: &str, template: &std::path::Path) -> crate::harness::Run {
    kiln()
        .args(["--app", app, "bake", role, "--template"])
        .args([template])
        .run()
}

/// (version, AMI) of the role's latest registry entry.
fn latest(app: &str, role: &str) -> (i64, String) {
    let history = emulator().history(&format!("/kiln/{app}/{role}"));
    let (version, ami, _) = history.last().cloned().expect("a published version");
    (version, ami)
}

#[test]
fn bake_base_publishes_the_ami_packer_made() {
    let app = unique_app("bake-base");
    let run = bake(&app, "base", &packer_template("base")).ok();
    let (version, ami) = latest(&app, "base");
    assert_eq!(version, 1);
    assert_eq!(
        run.stdout,
        format!(
            "REGION     AMI                    VERSION  HOW\n{REGION}  {ami}  1        baked\n"
        )
    );
    assert!(
        run.stderr.contains("s] ==> amazon-ebs.base: Creating AMI"),
        "{}",
        run.stderr
    );
    let tags = emulator().image_tags(&ami);
    assert_eq!(tags["kiln:app"], app);
    assert_eq!(tags["kiln:role"], "base");
    assert!(tags["kiln:inputs-hash"].starts_with("sha256:"));
    assert!(
        emulator().live_bake_instances(&app).is_empty(),
        "Packer's instance is gone"
    );
}

#[test]
fn bake_app_builds_on_the_registry_base_and_bakes_only_when_inputs_change() {
    let app = unique_app("bake-app");
    bake(&app, "base", &packer_template("base")).ok();
    let (_, base1) = latest(&app, "base");
    let template = packer_template("app");

    // The app is built from the registry's base, and records it.
    bake(&app, "app", &template).ok();
    let (version, app1) = latest(&app, "app");
    assert_eq!(version, 1);
    let tags = emulator().image_tags(&app1);
    assert_eq!(
        tags["source-ami"], base1,
        "Packer was given the base as source"
    );
    assert_eq!(tags["kiln:base-ami"], base1);
    assert_eq!(tags["kiln:base-version"], "1");

    // Unchanged inputs: no new AMI, no new version.
    let images = emulator().app_images(&app);
    let again = bake(&app, "app", &template).ok();
    assert_eq!(emulator().app_images(&app), images);
    assert_eq!(latest(&app, "app"), (1, app1.clone()));
    assert!(
        again.stderr.contains("not baking (--force bakes anyway)"),
        "{}",
        again.stderr
    );
    assert!(
        !again.stderr.contains("packer |"),
        "Packer did not run:\n{}",
        again.stderr
    );
    assert!(
        again.stdout.ends_with("reused (already published)\n"),
        "{}",
        again.stdout
    );

    // A changed template file bakes anew.
    let file = template.join("app.pkr.hcl");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}\n# a change\n")).unwrap();
    bake(&app, "app", &template).ok();
    let (version, app2) = latest(&app, "app");
    assert_eq!(version, 2);
    assert_ne!(app2, app1);

    // A new base version makes the next app bake bake again, on the new base.
    kiln()
        .args(["--app", &app, "bake", "base", "--force", "--template"])
        .args([packer_template("base")])
        .run()
        .ok();
    let (_, base2) = latest(&app, "base");
    assert_ne!(base2, base1);
    bake(&app, "app", &template).ok();
    let (version, app3) = latest(&app, "app");
    assert_eq!(version, 3);
    assert_eq!(emulator().image_tags(&app3)["kiln:base-ami"], base2);
    assert_eq!(emulator().image_tags(&app3)["kiln:base-version"], "2");

    // --force bakes even with unchanged inputs.
    kiln_ok([
        "--app",
        &app,
        "bake",
        "app",
        "--force",
        "--template",
        template.to_str().unwrap(),
    ]);
    assert_eq!(latest(&app, "app").0, 4);
}

#[test]
fn bake_app_takes_the_base_from_a_channel() {
    let app = unique_app("bake-channel");
    bake(&app, "base", &packer_template("base")).ok();
    let (_, base1) = latest(&app, "base");
    kiln_ok(["--app", &app, "promote", "base", "--to", "production"]);
    kiln()
        .args(["--app", &app, "bake", "base", "--force", "--template"])
        .args([packer_template("base")])
        .run()
        .ok();
    kiln()
        .args([
            "--app",
            &app,
            "bake",
            "app",
            "--base",
            "base:production",
            "--template",
        ])
        .args([packer_template("app")])
        .run()
        .ok();
    let (_, ami) = latest(&app, "app");
    assert_eq!(emulator().image_tags(&ami)["source-ami"], base1);
}

#[test]
fn bake_app_without_a_base_says_what_to_do() {
    let app = unique_app("bake-nobase");
    bake(&app, "app", &packer_template("app")).fails(
        4,
        &format!(
            "error: no parameter /kiln/{app}/base in {REGION}\n  help: run `kiln bake base` first, or `kiln publish base AMI_ID`\n"
        ),
    );
}

#[test]
fn a_failing_packer_publishes_nothing() {
    let app = unique_app("bake-fail");
    let run = bake(&app, "base", &packer_template("failing"));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: packer failed with exit code 1; its last lines:\n  packer | "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with(
            "  help: nothing was published; fix the template or the build and run kiln again\n"
        ),
        "{}",
        run.stderr
    );
    assert!(emulator().history(&format!("/kiln/{app}/base")).is_empty());
}

#[test]
fn packer_without_an_artifact_publishes_nothing() {
    let app = unique_app("bake-none");
    let run = bake(&app, "base", &packer_template("no-artifact"));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: packer finished without reporting an AMI"),
        "{}",
        run.stderr
    );
    assert!(emulator().history(&format!("/kiln/{app}/base")).is_empty());
}

#[test]
fn an_interrupted_bake_stops_packer_cleans_up_and_publishes_nothing() {
    let app = unique_app("bake-stop");
    let template = packer_template("interrupted");
    let child = kiln()
        .args(["--app", &app, "bake", "base", "--template"])
        .args([&template])
        .spawn();
    // Wait until Packer's temporary instance exists, then stop kiln as CI would.
    let deadline = Instant::now() + Duration::from_secs(60);
    while emulator().live_bake_instances(&app).is_empty() {
        assert!(
            Instant::now() < deadline,
            "Packer never started an instance"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: kill(2) on the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.ends_with("error: interrupted by SIGTERM while packer was building (it was stopped and cleaned up; nothing was published)\n  help: nothing was published or promoted, and what kiln had started was removed; run the command again\n"),
        "{stderr}"
    );
    assert!(
        emulator().live_bake_instances(&app).is_empty(),
        "Packer's instance was left running"
    );
    assert!(emulator().history(&format!("/kiln/{app}/base")).is_empty());
    // A second run after the cancellation succeeds.
    bake(&app, "base", &packer_template("base")).ok();
    assert_eq!(latest(&app, "base").0, 1);
}

#[test]
fn a_dry_run_bake_runs_nothing_and_shows_the_plan() {
    let app = unique_app("bake-dry");
    let template = packer_template("base");
    let run = kiln()
        .args([
            "--app",
            &app,
            "--dry-run",
            "bake",
            "base",
            "--var",
            "size=small",
            "--template",
        ])
        .args([&template])
        .run()
        .ok();
    let plan: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(plan[0], "dry run: nothing was changed; the plan:");
    assert!(plan[1].starts_with(&format!("  would run   CHECKPOINT_DISABLE=1 PKR_VAR_kiln_app={app} PKR_VAR_kiln_role=base PKR_VAR_kiln_region={REGION} PKR_VAR_kiln_source_ami= PKR_VAR_kiln_ami_name={app}-base-")), "{}", plan[1]);
    assert!(
        plan[1].ends_with(&format!(
            "packer build -machine-readable -var size=small {}",
            template.display()
        )),
        "{}",
        plan[1]
    );
    assert!(plan[2].starts_with(&format!("  would run   ec2:CreateTags (the AMI the bake makes) in {REGION}: kiln:app={app} kiln:inputs-hash=sha256:")), "{}", plan[2]);
    assert!(plan[3].starts_with(&format!("  would run   ssm:PutParameter /kiln/{app}/base in {REGION}: value=(the AMI the bake makes)")), "{}", plan[3]);
    assert_eq!(plan.len(), 4);
    assert!(emulator().app_images(&app).is_empty());
    assert!(emulator().live_bake_instances(&app).is_empty());
}

#[test]
fn a_missing_packer_is_explained() {
    let app = unique_app("bake-nopacker");
    let run = kiln()
        .env("PATH", "/nonexistent")
        .args(["--app", &app, "bake", "base", "--template"])
        .args([packer_template("base")])
        .run();
    // The first line is kiln's note of the source image it resolved for the hash.
    let (note, error) = run.stderr.split_once('\n').unwrap();
    assert!(
        note.starts_with("kiln: amazon-ebs.base builds on ami-"),
        "{}",
        run.stderr
    );
    Run {
        stderr: error.to_string(),
        ..run
    }
    .fails(
        1,
        "error: cannot run packer: No such file or directory (os error 2)\n  help: install Packer (Debian/Ubuntu: `apt-get install packer`; or HashiCorp's release from developer.hashicorp.com/packer/install) and make sure it is on PATH\n",
    );
}

#[test]
fn a_missing_template_is_a_usage_error() {
    kiln().args(["--app", "shop", "bake", "base"]).run().fails(
        2,
        "error: no Packer template for base at packer/base.pkr.hcl\n  help: pass --template PATH, or set base_template under [bake] in kiln.toml; the kiln repository's packer/ directory has reference templates\n",
    );
}

#[test]
fn secret_variables_never_reach_the_output() {
    let app = unique_app("bake-secret");
    let run = kiln()
        .args([
            "--app",
            &app,
            "bake",
            "base",
            "--var",
            "api_token=tok-5up3r-s3cret",
            "--template",
        ])
        .args([packer_template("secret")])
        .run()
        .ok();
    assert!(
        run.stderr
            .contains("s]     amazon-ebs.secret: using token <redacted>"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("5up3r") && !run.stdout.contains("5up3r"));
    let (_, ami) = latest(&app, "base");
    assert!(!format!("{:?}", emulator().image_tags(&ami)).contains("5up3r"));
}

#[test]
fn extra_regions_get_a_copy_published_once_available() {
    let app = unique_app("bake-regions");
    let run = kiln()
        .env("KILN_REGIONS", "eu-west-1")
        .args(["--app", &app, "bake", "base", "--template"])
        .args([packer_template("base")])
        .run()
        .ok();
    let (_, primary) = latest(&app, "base");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(
        lines[2].starts_with("eu-west-1  ami-") && lines[2].ends_with("1        copied"),
        "{}",
        run.stdout
    );
    let copy = lines[2].split_whitespace().nth(1).unwrap();
    assert_ne!(copy, primary);
    let json = kiln()
        .env("KILN_REGIONS", "eu-west-1")
        .args(["--app", &app, "status", "--output", "json"])
        .run()
        .ok()
        .json();
    let west = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["region"] == "eu-west-1" && e["role"] == "base" && e["channel"] == "latest")
        .unwrap()
        .clone();
    assert_eq!(west["ami_id"], copy);
    assert_eq!(west["version"], 1);
}

#[test]
fn amis_packer_made_in_other_regions_are_published_there_without_a_copy() {
    let app = unique_app("bake-ami-regions");
    let run = kiln()
        .env("KILN_REGIONS", "eu-west-1")
        .args(["--app", &app, "bake", "base", "--template"])
        .args([packer_template("regions")])
        .run()
        .ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(
        lines[1].starts_with(REGION) && lines[1].ends_with("1        baked"),
        "{}",
        run.stdout
    );
    assert!(
        lines[2].starts_with("eu-west-1  ami-") && lines[2].ends_with("1        baked"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("s] eu-west-1: ami-"),
        "the eu-west-1 AMI came from Packer:\n{}",
        run.stderr
    );
}

#[test]
fn bake_reports_as_json_and_github_step_outputs() {
    let app = unique_app("bake-json");
    let run = kiln();
    let outputs = run.dir().join("github_output");
    let json = run
        .env("GITHUB_OUTPUT", &outputs)
        .args([
            "--app",
            &app,
            "--output",
            "json",
            "bake",
            "base",
            "--template",
        ])
        .args([packer_template("base")])
        .run()
        .ok()
        .json();
    let (version, ami) = latest(&app, "base");
    assert_eq!(json["role"], "base");
    assert_eq!(json["parameter"], format!("/kiln/{app}/base"));
    assert_eq!(json["baked"], true);
    assert_eq!(json["regions"][0]["ami_id"], ami.as_str());
    assert_eq!(json["regions"][0]["version"], version);
    assert_eq!(json["regions"][0]["how"], "baked");
    let hash = json["inputs_hash"].as_str().unwrap().to_string();
    assert_eq!(
        std::fs::read_to_string(outputs).unwrap(),
        format!("inputs-hash={hash}\nbaked=true\nami-id={ami}\nversion=1\n")
    );
}

#[test]
fn malformed_variables_are_usage_errors() {
    kiln()
        .args([
            "--app",
            "shop",
            "bake",
            "base",
            "--var",
            "novalue",
            "--template",
        ])
        .args([packer_template("base")])
        .run()
        .fails(
            2,
            "error: invalid value `novalue` in --var: expected NAME=VALUE\n",
        );
}

#[test]
fn a_failed_region_fails_the_bake_and_names_what_was_published() {
    let app = unique_app("bake-region-fail");
    // The emulator refuses a region it does not know, as AWS refuses one that is
    // not enabled for the account.
    let run = kiln()
        .env("KILN_REGIONS", "eu-west-1,xx-nowhere-1")
        .args(["--app", &app, "bake", "base", "--template"])
        .args([packer_template("base")])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap();
    assert!(
        error.starts_with(&format!(
            "error: published in {REGION}, eu-west-1; failed in xx-nowhere-1 (ec2:CopyImage failed: "
        )),
        "{error}"
    );
    assert_eq!(latest(&app, "base").0, 1);
}

#[test]
fn output_that_is_not_utf8_does_not_stop_the_bake() {
    let app = unique_app("bake-bytes");
    let run = bake(&app, "base", &packer_template("binary-output")).ok();
    assert!(run.stderr.contains("latin-1"), "{}", run.stderr);
    assert_eq!(latest(&app, "base").0, 1);
}

#[test]
fn a_revoked_image_is_baked_again_not_reused() {
    let app = unique_app("bake-revoked");
    let template = packer_template("base");
    bake(&app, "base", &template).ok();
    let (_, first) = latest(&app, "base");
    emulator().tag_image(&first, "kiln:revoked", "CVE-2026-0002");
    let again = bake(&app, "base", &template).ok();
    assert!(!again.stderr.contains("not baking"), "{}", again.stderr);
    let (version, second) = latest(&app, "base");
    assert_eq!(version, 2);
    assert_ne!(second, first);
}

#[test]
fn forced_rebakes_copy_to_extra_regions_again() {
    let app = unique_app("bake-recopy");
    let template = packer_template("base");
    for _ in 0..2 {
        kiln()
            .env("KILN_REGIONS", "eu-west-1")
            .args(["--app", &app, "bake", "base", "--force", "--template"])
            .args([&template])
            .run()
            .ok();
    }
    assert_eq!(latest(&app, "base").0, 2);
}

#[test]
fn a_reader_that_quits_early_does_not_stop_packer_or_its_cleanup() {
    use std::io::BufRead;
    let app = unique_app("bake-closed-pipe");
    // `kiln bake base … 2>&1 | head -1`.
    let mut child = kiln()
        .args(["--app", &app, "bake", "base", "--template"])
        .args([&packer_template("base")])
        .spawn();
    let mut first = String::new();
    std::io::BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(141), "first line: {first}");
    assert!(
        emulator().live_bake_instances(&app).is_empty(),
        "Packer's instance was left running"
    );
    // Packer finished and the image was published as usual.
    assert_eq!(latest(&app, "base").0, 1);
    bake(&app, "base", &packer_template("base")).ok();
}
