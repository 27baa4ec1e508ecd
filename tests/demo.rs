//! The README's first command, scripts/demo, runs the pipeline end to end against
//! its own emulator and shows what a newcomer should see.

use std::process::Command;

use crate::harness::root;

#[test]
fn the_demo_runs_the_pipeline_against_the_emulator() {
    let output = Command::new(root().join("scripts/demo"))
        .env("KILN_BIN", env!("CARGO_BIN_EXE_kiln"))
        .env_remove("AWS_PROFILE")
        .output()
        .expect("scripts/demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "demo failed:\n{stdout}\n{stderr}");
    let production: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("app   production"))
        .collect();
    assert_eq!(production.len(), 1, "{stdout}");
    assert!(
        production[0].ends_with("outdated: built on base v1, latest base is v2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("dry run: nothing was changed; the plan:"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "would run   ssm:SendCommand AWS-RunShellScript to (the instance kiln launches)"
        ),
        "the verify plan is missing:\n{stdout}"
    );
    assert!(
        stderr.contains("not baking (--force bakes anyway)"),
        "the second app bake was not skipped:\n{stderr}"
    );
    assert!(stderr.ends_with("no files, no account\n"), "{stderr}");
}
