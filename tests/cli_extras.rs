//! `kiln completions SHELL` and `kiln man`: generated from the clap definitions,
//! they must cover every command, and run on a bare machine (a package build, a
//! dotfiles script) with no app, no kiln.toml, no AWS and an empty environment.
//! The bash script is exercised in a real bash, as a person pressing Tab would.

use clap::CommandFactory;

use crate::harness::{Kiln, Run, kiln_without_aws};

/// Every subcommand a user can type (not clap's own `help`).
fn subcommands() -> Vec<String> {
    let names: Vec<String> = kiln::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for expected in ["bake", "verify", "deploy", "rollback", "completions", "man"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    names
}

/// kiln with nothing at all in its environment (no PATH, HOME, AWS or KILN_ variables).
fn bare() -> Kiln {
    let mut kiln = kiln_without_aws();
    for name in [
        "PATH",
        "HOME",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_EC2_METADATA_DISABLED",
    ] {
        kiln = kiln.without_env(name);
    }
    kiln
}

#[track_caller]
fn generated(args: &[&str]) -> String {
    let run: Run = bare().args(args).run().ok();
    assert_eq!(run.stderr, "", "kiln {args:?} wrote to stderr");
    assert!(!run.stdout.is_empty(), "kiln {args:?} printed nothing");
    run.stdout
}

/// What bash completes for the words typed so far (the last one being completed).
fn bash_complete(script: &str, words: &[&str]) -> Vec<String> {
    let dir = crate::harness::scratch_dir("completion");
    let path = dir.join("kiln.bash");
    std::fs::write(&path, script).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let driver = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_kiln kiln '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path.display(),
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = std::process::Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &driver])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completion_offers_every_command_and_their_flags() {
    let script = generated(&["completions", "bash"]);
    // The top-level candidates: every subcommand.
    let top = script
        .lines()
        .skip_while(|l| l.trim() != "kiln)")
        .find(|l| l.trim_start().starts_with("opts=\""))
        .expect("an opts= line for `kiln`");
    let offered: Vec<&str> = top
        .trim()
        .trim_start_matches("opts=\"")
        .trim_end_matches('"')
        .split_whitespace()
        .collect();
    for name in subcommands() {
        assert!(offered.contains(&name.as_str()), "{name} in {top}");
    }
    assert!(script.contains("complete -F _kiln"), "registers itself");

    // Tab in a real bash.
    assert_eq!(bash_complete(&script, &["kiln", "rol"]), ["rollback"]);
    assert_eq!(
        bash_complete(&script, &["kiln", "deploy", "--str"]),
        ["--strategy"]
    );
    assert_eq!(
        bash_complete(&script, &["kiln", "completions", "p"]),
        ["powershell"]
    );
    let globals = bash_complete(&script, &["kiln", "verify", "--dry"]);
    assert_eq!(globals, ["--dry-run"], "global flags after a subcommand");
}

#[test]
fn every_shell_gets_a_script_naming_every_command() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = generated(&["completions", shell]);
        for name in subcommands() {
            assert!(script.contains(&name), "{shell}: {name}");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    bare().args(["completions", "tcsh"]).run().fails(
        2,
        "error: invalid value 'tcsh' for '<SHELL>'\n  [possible values: bash, elvish, fish, powershell, zsh]\n\n  tip: a similar value exists: 'zsh'\n\nFor more information, try '--help'.\n",
    );
}

#[test]
fn the_man_page_is_roff_and_covers_every_command() {
    let page = generated(&["man"]);
    assert!(
        page.starts_with(".TH KILN 1 "),
        "{}",
        &page[..page.len().min(200)]
    );
    assert!(page.contains("\n.SH SYNOPSIS\n"));
    for name in subcommands() {
        assert!(page.contains(&format!("\n.SS \"kiln {name}\"\n")), "{name}");
    }
    // A command's own flags, and the exit codes.
    assert!(page.contains("\\fB\\-\\-keep\\-on\\-failure\\fR"));
    assert!(page.contains("\n.SH \"EXIT STATUS\"\n"));
    assert!(page.contains("6 verify: tests failed"));
}

#[test]
fn completions_and_man_ignore_a_broken_configuration() {
    // They never read kiln.toml or KILN_* variables: a bad one must not stop them.
    let kiln = bare().env("KILN_OUTPUT", "yaml");
    std::fs::write(kiln.dir().join("kiln.toml"), "this is not toml").unwrap();
    let run = kiln.args(["completions", "zsh"]).run().ok();
    assert!(run.stdout.starts_with("#compdef kiln"), "{}", run.stdout);
    let kiln = bare().env("KILN_OUTPUT", "yaml");
    std::fs::write(kiln.dir().join("kiln.toml"), "this is not toml").unwrap();
    assert!(kiln.arg("man").run().ok().stdout.starts_with(".TH KILN 1 "));
}
