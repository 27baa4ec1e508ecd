//! `kiln verify --results FILE`: the gate to the tested channel, end to end against
//! the emulator with Goss results that follow the real schema (tests/fixtures/goss).

use crate::harness::{Run, app_with_three_versions, emulator, kiln, root};

fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures/goss")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The versions that carry a label, as (version, labels).
fn labelled(app: &str) -> Vec<(i64, Vec<String>)> {
    emulator()
        .history(&format!("/kiln/{app}/app"))
        .into_iter()
        .filter(|(_, _, labels)| !labels.is_empty())
        .map(|(v, _, labels)| (v, labels))
        .collect()
}

/// Runs `kiln verify` with `--junit`; the run and the JUnit report it wrote.
fn verify_with_junit(app: &str, args: &[&str]) -> (Run, String) {
    let run = kiln();
    let junit = run.dir().join("goss.xml");
    let done = run
        .args(["--app", app, "verify"])
        .args(args)
        .arg("--junit")
        .arg(&junit)
        .run();
    let xml = std::fs::read_to_string(junit).unwrap_or_default();
    (done, xml)
}

#[test]
fn a_pass_promotes_the_version_to_tested_and_writes_junit() {
    let (app, amis) = app_with_three_versions("verify-pass");
    let (done, xml) = verify_with_junit(&app, &["app:2", "--results", &fixture("pass.json")]);
    let done = done.ok();
    assert_eq!(done.stdout, "goss: 4 tests, 0 failed, 0 skipped in 0.0s\n");
    assert_eq!(
        done.stderr,
        format!("kiln: promoted {} (app:2) to tested\n", amis[1])
    );
    assert_eq!(labelled(&app), vec![(2, vec!["tested".to_string()])]);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("tests"), Some("4"));
    assert_eq!(suite.attribute("failures"), Some("0"));
}

#[test]
fn failed_tests_promote_nothing_and_exit_6() {
    let (app, amis) = app_with_three_versions("verify-fail");
    let run = kiln()
        .args(["--app", &app, "verify", "--results", &fixture("fail.json")])
        .run();
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "goss: 4 tests, 2 failed, 1 skipped in 0.0s\n  FAIL service/kiln-app/running\n"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stderr,
        format!(
            "error: 2 of 4 Goss tests failed on {} (app:3)\n  help: nothing was promoted; the failures are listed above (and in the JUnit report with --junit)\n",
            amis[2]
        )
    );
    assert_eq!(labelled(&app), vec![]);
}

#[test]
fn unusable_results_are_a_broken_image_never_a_pass() {
    let (app, amis) = app_with_three_versions("verify-broken");
    for (file, detail) in [
        ("empty.txt", "goss printed nothing".to_string()),
        (
            "not-json.txt",
            "goss output is not JSON (it starts with `bash: line 1: goss: command not found`)"
                .to_string(),
        ),
    ] {
        kiln()
            .args(["--app", &app, "verify", "--results", &fixture(file)])
            .run()
            .fails(
                7,
                &format!(
                    "error: cannot verify {} (app:3): {detail}\n  help: nothing was promoted; pass the output of `goss validate --format json` (one run, or one per spec) to --results\n",
                    amis[2]
                ),
            );
    }
    let run = kiln()
        .args([
            "--app",
            &app,
            "verify",
            "--results",
            &fixture("wrong-shape.json"),
        ])
        .run();
    assert_eq!(run.code, 7);
    assert!(
        run.stderr
            .contains("goss output is JSON but not a Goss report: "),
        "{}",
        run.stderr
    );
    assert_eq!(labelled(&app), vec![]);
}

#[test]
fn with_retries_the_last_attempt_decides() {
    let (app, _) = app_with_three_versions("verify-retries");
    kiln()
        .args([
            "--app",
            &app,
            "verify",
            "--results",
            &fixture("retries.txt"),
        ])
        .run()
        .ok();
    assert_eq!(labelled(&app), vec![(3, vec!["tested".to_string()])]);
}

#[test]
fn no_promote_and_dry_run_change_nothing() {
    let (app, _) = app_with_three_versions("verify-nopromote");
    kiln()
        .args([
            "--app",
            &app,
            "verify",
            "--no-promote",
            "--results",
            &fixture("pass.json"),
        ])
        .run()
        .ok();
    let dry = kiln()
        .args([
            "--app",
            &app,
            "--dry-run",
            "verify",
            "app:1",
            "--results",
            &fixture("pass.json"),
        ])
        .run()
        .ok();
    assert!(dry.stdout.ends_with(&format!(
        "dry run: nothing was changed; the plan:\n  would run   ssm:LabelParameterVersion /kiln/{app}/app in us-east-1: version=1 labels=tested\n"
    )), "{}", dry.stdout);
    assert_eq!(labelled(&app), vec![]);
}

#[test]
fn results_as_json() {
    let (app, amis) = app_with_three_versions("verify-json");
    let run = kiln()
        .args([
            "--app",
            &app,
            "--output",
            "json",
            "verify",
            "--results",
            &fixture("fail.json"),
        ])
        .run();
    assert_eq!(run.code, 6);
    let json = run.json();
    assert_eq!(json["passed"], false);
    assert_eq!(json["ami_id"], amis[2].as_str());
    assert_eq!(json["failed"], 2);
    assert_eq!(json["failures"][1]["name"], "app health endpoint");
    assert_eq!(json["promoted_to"], serde_json::Value::Null);
}

#[test]
fn unusable_results_still_leave_a_junit_report() {
    let (app, _) = app_with_three_versions("verify-broken-junit");
    let (done, xml) = verify_with_junit(&app, &["--results", &fixture("empty.txt")]);
    assert_eq!(done.code, 7, "{}", done.stderr);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let error = doc.descendants().find(|n| n.has_tag_name("error")).unwrap();
    assert_eq!(error.attribute("message"), Some("goss printed nothing"));
}

#[test]
fn results_that_tested_nothing_or_hide_a_failure_are_never_a_pass() {
    let (app, amis) = app_with_three_versions("verify-real-goss");
    // Every test skipped (a Goss 0.3 report: no skipped-count): nothing was tested.
    let run = kiln()
        .args(["--app", &app, "verify", "app:3", "--results"])
        .arg(fixture("v03-all-skipped.json"))
        .run();
    assert_eq!(run.code, 7, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "error: cannot verify {} (app:3): all 2 Goss tests were skipped: nothing was tested\n",
            amis[2]
        )),
        "{}",
        run.stderr
    );
    // Two specs' reports in one file: the first spec's failures count.
    let run = kiln()
        .args(["--app", &app, "verify", "app:3", "--results"])
        .arg(fixture("two-specs-first-fails.txt"))
        .run();
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("goss: 7 tests, 2 failed, 2 skipped in 0.0s\n"),
        "{}",
        run.stdout
    );
    // JUnit XML given by mistake is named as such.
    let run = kiln()
        .args(["--app", &app, "verify", "app:3", "--results"])
        .arg(fixture("junit.xml"))
        .run();
    assert_eq!(run.code, 7, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("goss output is XML (JUnit?), not JSON: run goss with --format json"),
        "{}",
        run.stderr
    );
    assert_eq!(labelled(&app), vec![]);

    // A PowerShell redirection writes UTF-16: read as the pass it is.
    let run = kiln();
    let utf16 = run.dir().join("results.json");
    let pass = std::fs::read_to_string(fixture("pass.json")).unwrap();
    let bytes: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(pass.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(&utf16, bytes).unwrap();
    run.args(["--app", &app, "verify", "app:3", "--results"])
        .arg(&utf16)
        .run()
        .ok();
    assert_eq!(labelled(&app), vec![(3, vec!["tested".to_string()])]);
}
