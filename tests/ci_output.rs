//! CI-aware output, as a pipeline's log shows it: in GitHub Actions the final error
//! is also an `::error` annotation (escaped as GitHub requires), so it appears on
//! the run's page; under Jenkins there is no spinner, carriage-return progress or
//! colour even when the agent gives kiln a terminal; and there are no ANSI codes
//! whenever stdout and stderr are not terminals.
//!
//! The terminal cases run kiln under `script` (util-linux), which gives it a
//! pseudo-terminal as an interactive shell or a Jenkins agent with a tty would.

use std::process::Command;

use crate::harness::{REGION, emulator, kiln_ok, kiln_without_aws, unique_app, write};

const NO_APP: &str = "error: no app name given\n  help: pass --app NAME, set KILN_APP, or add `app = \"NAME\"` to kiln.toml\n";

#[test]
fn in_github_actions_the_final_error_is_also_an_annotation() {
    kiln_without_aws()
        .env("GITHUB_ACTIONS", "true")
        .args(["resolve", "app"])
        .run()
        .fails(
            2,
            &format!(
                "{NO_APP}::error title=kiln resolve::no app name given%0Ahelp: pass --app NAME, set KILN_APP, or add `app = \"NAME\"` to kiln.toml\n"
            ),
        );
    // `%` is escaped in the annotation, not in the line a person reads.
    kiln_without_aws()
        .env("GITHUB_ACTIONS", "true")
        .args(["--app", "demo", "--output", "100%", "status"])
        .run()
        .fails(
            2,
            "error: invalid value `100%` in --output: expected `text` or `json`\n::error title=kiln status::invalid value `100%25` in --output: expected `text` or `json`\n",
        );
    // A mistyped flag in a workflow is clap's error, annotated too.
    kiln_without_aws()
        .env("GITHUB_ACTIONS", "true")
        .args(["deploy", "--stratgy", "rolling"])
        .run()
        .fails(
            2,
            "error: unexpected argument '--stratgy' found\n\n  tip: a similar argument exists: '--strategy'\n\nUsage: kiln deploy --strategy <STRATEGY> [REFERENCE]\n\nFor more information, try '--help'.\n::error title=kiln::unexpected argument '--stratgy' found\n",
        );
}

#[test]
fn outside_github_actions_errors_are_not_annotated() {
    kiln_without_aws()
        .env("GITHUB_ACTIONS", "false")
        .args(["resolve", "app"])
        .run()
        .fails(2, NO_APP);
    let run = kiln_without_aws()
        .args(["deploy", "--stratgy", "rolling"])
        .run();
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains("::error"), "{}", run.stderr);
}

#[test]
fn no_ansi_codes_when_stdout_and_stderr_are_not_terminals() {
    let app = unique_app("plain");
    let ami = emulator().create_image(&app, &[]);
    // Tables (bold headers on a terminal), logs (-vv) and a dry-run plan.
    let runs = [
        kiln_ok(["-vv", "--app", &app, "publish", "app", &ami]),
        kiln_ok(["-vv", "--app", &app, "history", "app"]),
        kiln_ok(["-vv", "--app", &app, "status"]),
        kiln_ok([
            "-vv",
            "--app",
            &app,
            "--dry-run",
            "promote",
            "app:1",
            "--to",
            "tested",
        ]),
    ];
    for run in &runs {
        assert!(!run.stderr.is_empty(), "-vv logs");
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains('\x1b'), "an ANSI code in:\n{text}");
        }
    }
    assert!(
        runs[1].stdout.contains("VERSION  AMI"),
        "{}",
        runs[1].stdout
    );
}

/// Runs kiln on a pseudo-terminal (stdout and stderr both), against the emulator,
/// in a directory with a Goss spec; returns the exit code and what the terminal got.
fn on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let dir = crate::harness::scratch_dir("tty");
    write(
        &dir,
        "goss/app.yaml",
        "package:\n  nginx:\n    installed: true\n",
    );
    let line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_kiln"))
        .chain(args.iter().copied())
        .map(|word| format!("'{word}'"))
        .collect();
    let mut command = Command::new("script");
    command
        .args([
            "--quiet",
            "--return",
            "--command",
            &line.join(" "),
            "/dev/null",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &dir)
        .env("TERM", "xterm-256color")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_ENDPOINT_URL", &emulator().endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .current_dir(&dir)
        .stdin(std::process::Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().expect("script (util-linux) runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A carriage return that does not end a line (the terminal turns `\n` into `\r\n`).
fn has_bare_carriage_return(text: &str) -> bool {
    text.replace("\r\n", "\n").contains('\r')
}

#[test]
fn under_jenkins_no_spinner_or_colour_even_on_a_terminal() {
    // An image whose SSM agent never comes online: verify waits, with progress,
    // for the 2 s boot timeout and ends as "broken" (exit 7).
    let app = unique_app("jenkins-tty");
    let ami = emulator().create_image(&app, &[("emulator:ssm-agent", "offline")]);
    kiln_ok(["--app", &app, "publish", "app", &ami]);
    let args = ["--app", &app, "verify", "--boot-timeout", "2s"];

    // On a terminal: a spinner, drawn with carriage returns and escape codes.
    let (code, screen) = on_a_terminal(&args, &[]);
    assert_eq!(code, 7, "{screen}");
    assert!(
        screen.contains('\x1b') && has_bare_carriage_return(&screen),
        "no spinner on a terminal:\n{screen:?}"
    );

    // The same on a Jenkins agent's terminal: plain lines only.
    let (code, log) = on_a_terminal(
        &args,
        &[
            ("JENKINS_URL", "https://jenkins.example.com/"),
            ("BUILD_URL", "https://jenkins.example.com/job/shop/7/"),
        ],
    );
    assert_eq!(code, 7, "{log}");
    assert!(
        !log.contains('\x1b'),
        "an escape code under Jenkins:\n{log:?}"
    );
    assert!(
        !has_bare_carriage_return(&log),
        "carriage-return progress under Jenkins:\n{log:?}"
    );
    assert!(
        log.contains("to run and its SSM agent to come online (0s)\r\n"),
        "plain progress lines:\n{log:?}"
    );
}
