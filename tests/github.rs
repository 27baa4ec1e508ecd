//! GitHub Actions integration: step outputs and the step summary.

use crate::harness::{emulator, kiln, kiln_ok, unique_app};

#[test]
fn publish_writes_step_outputs_and_a_summary() {
    let app = unique_app("github");
    let ami = emulator().create_image("github", &[]);
    let run = kiln();
    let outputs = run.dir().join("github_output");
    let summary = run.dir().join("step_summary");
    run.env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["--app", &app, "publish", "app", &ami])
        .run()
        .ok();
    assert_eq!(
        std::fs::read_to_string(&outputs).unwrap(),
        format!("ami-id={ami}\nparameter=/kiln/{app}/app\nversion=1\n")
    );
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!("**kiln publish**: `{ami}` is version 1 of `/kiln/{app}/app` (us-east-1)\n")
    );
}

#[test]
fn ci_variables_become_provenance_without_credentials() {
    let app = unique_app("jenkins");
    let ami = emulator().create_image("jenkins", &[]);
    kiln()
        .env("GIT_COMMIT", "0123abcd")
        .env(
            "BUILD_URL",
            "https://builder:t0ps3cret@jenkins.internal/job/shop/12/",
        )
        .args(["--app", &app, "publish", "app", &ami])
        .run()
        .ok();
    let tags = emulator().image_tags(&ami);
    assert_eq!(tags["kiln:git-sha"], "0123abcd");
    assert_eq!(
        tags["kiln:build-url"],
        "https://jenkins.internal/job/shop/12/"
    );
    let history = kiln_ok(["--app", &app, "history", "app", "--output", "json"]);
    assert!(!history.stdout.contains("t0ps3cret"));
    assert!(!format!("{tags:?}").contains("t0ps3cret"));
}
