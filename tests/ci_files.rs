//! The files a pipeline reads after kiln (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, the
//! JUnit report) are checked before anything changes: a run that cannot write
//! them is refused with exit 2 and AWS untouched. A failed command still says why
//! where a pipeline reads it: the step summary, and with `--output json` stdout.

use crate::harness::{app_with_three_versions, emulator, kiln, kiln_without_aws, root, unique_app};

fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures/goss")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

const REFUSED_HELP: &str = "  help: nothing was changed: kiln checks every file it will write before it changes anything; fix the path or its permissions\n";

#[test]
fn an_unwritable_github_output_is_refused_before_publishing() {
    let app = unique_app("ci-output-file");
    let ami = emulator().create_image(&app, &[]);
    kiln()
        .env("GITHUB_OUTPUT", "/nonexistent/x")
        .args(["--app", &app, "publish", "app", &ami])
        .run()
        .fails(
            2,
            &format!(
                "error: cannot write GITHUB_OUTPUT at /nonexistent/x: the directory /nonexistent does not exist\n{REFUSED_HELP}"
            ),
        );
    assert_eq!(
        emulator().history(&format!("/kiln/{app}/app")),
        vec![],
        "no version was published"
    );
}

#[test]
fn an_unwritable_step_summary_is_refused_before_promoting() {
    let (app, _) = app_with_three_versions("ci-summary-file");
    let run = kiln();
    let summary = run.dir().join("summary.md");
    std::fs::create_dir(&summary).unwrap();
    run.env("GITHUB_STEP_SUMMARY", &summary)
        .args(["--app", &app, "promote", "app:2", "--to", "tested"])
        .run()
        .fails(
            2,
            &format!(
                "error: cannot write GITHUB_STEP_SUMMARY at {}: it is a directory\n{REFUSED_HELP}",
                summary.display()
            ),
        );
    let labelled: Vec<_> = emulator()
        .history(&format!("/kiln/{app}/app"))
        .into_iter()
        .filter(|(_, _, labels)| !labels.is_empty())
        .collect();
    assert_eq!(labelled, vec![], "nothing was promoted");
}

#[test]
fn an_unwritable_junit_report_is_refused_before_the_gate() {
    let (app, _) = app_with_three_versions("ci-junit-file");
    for results in ["pass.json", "fail.json"] {
        kiln()
            .args(["--app", &app, "verify", "--results", &fixture(results)])
            .args(["--junit", "/nonexistent/reports/goss.xml"])
            .run()
            .fails(
                2,
                &format!(
                    "error: cannot write the JUnit report (--junit) at /nonexistent/reports/goss.xml: the directory /nonexistent/reports does not exist\n{REFUSED_HELP}"
                ),
            );
    }
    let labelled: Vec<_> = emulator()
        .history(&format!("/kiln/{app}/app"))
        .into_iter()
        .filter(|(_, _, labels)| !labels.is_empty())
        .collect();
    assert_eq!(labelled, vec![], "nothing was promoted");
}

#[test]
fn a_failed_command_prints_an_error_object_with_output_json() {
    let expected = "{\n  \"error\": {\n    \"message\": \"no app name given\",\n    \"help\": \"pass --app NAME, set KILN_APP, or add `app = \\\"NAME\\\"` to kiln.toml\",\n    \"exit_code\": 2\n  }\n}\n";
    for run in [
        kiln_without_aws()
            .args(["--output", "json", "resolve", "app"])
            .run(),
        kiln_without_aws()
            .env("KILN_OUTPUT", "json")
            .args(["resolve", "app"])
            .run(),
    ] {
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert_eq!(run.stdout, expected);
        // stderr keeps the text error a person reads.
        assert_eq!(
            run.stderr,
            "error: no app name given\n  help: pass --app NAME, set KILN_APP, or add `app = \"NAME\"` to kiln.toml\n"
        );
    }
}

#[test]
fn failed_tests_with_output_json_are_one_document_with_the_error() {
    let (app, _) = app_with_three_versions("ci-json-fail");
    let run = kiln()
        .args(["--app", &app, "--output", "json", "verify", "--results"])
        .arg(fixture("fail.json"))
        .run();
    assert_eq!(run.code, 6, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["passed"], false);
    assert_eq!(json["error"]["exit_code"], 6);
    assert_eq!(
        json["error"]["help"],
        "nothing was promoted; the failures are listed above (and in the JUnit report with --junit)"
    );
}

#[test]
fn a_failed_command_writes_the_step_summary() {
    let app = unique_app("ci-failed-summary");
    let run = kiln();
    let summary = run.dir().join("summary.md");
    let done = run
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["--app", &app, "resolve", "app"])
        .run();
    assert_eq!(done.code, 4, "{}", done.stderr);
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!(
            "### kiln resolve failed\n\nno parameter /kiln/{app}/app in us-east-1\n\nhelp: run `kiln bake app` first, or `kiln publish app AMI_ID`\n"
        )
    );
}
