//! What kiln does when things go wrong around it: two pipelines at once, bad input
//! of every kind, and secrets that must not leak anywhere kiln writes.

use std::collections::BTreeSet;

use crate::harness::groups::{TestedFleet, tested_fleet};
use crate::harness::{
    Run, emulator, kiln, kiln_without_aws, packer_template, root, unique_app, write,
};

#[test]
fn two_deploys_at_once_one_proceeds_the_other_refuses_with_the_lock() {
    let TestedFleet {
        app, new, fleet, ..
    } = tested_fleet("race-deploy", 4, &[]);
    let deploy = || {
        kiln()
            .args([
                "--app",
                &app,
                "deploy",
                "--asg",
                &fleet.group,
                "--batch-size",
                "1",
                "--min-healthy",
                "75%",
            ])
            .spawn()
    };
    let (first, second) = (deploy(), deploy());
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    let codes: BTreeSet<Option<i32>> = outputs.iter().map(|o| o.status.code()).collect();
    let stderr: Vec<String> = outputs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .collect();
    assert_eq!(codes, BTreeSet::from([Some(0), Some(1)]), "{stderr:?}");
    let refused = stderr
        .iter()
        .find(|e| e.contains("error: another deploy holds Auto Scaling group"))
        .expect("the loser names the lock");
    assert!(refused.contains("help: wait for it to finish"), "{refused}");
    assert_eq!(
        emulator().images_in_group(&fleet.group),
        vec![new.clone(); 4]
    );
    assert_eq!(
        emulator().group(&fleet.group).unwrap().version,
        "2",
        "one new version, not two"
    );
}

#[test]
fn two_publish_and_promote_sequences_at_once_leave_a_consistent_registry() {
    let app = unique_app("race-publish");
    let amis: Vec<String> = (0..2)
        .map(|n| emulator().create_image(&format!("{app}-{n}"), &[]))
        .collect();
    let children: Vec<_> = amis
        .iter()
        .map(|ami| {
            let script = format!(
                "set -e; v=$({kiln} --app {app} publish app {ami}); {kiln} --app {app} promote app:$v --to tested",
                kiln = env!("CARGO_BIN_EXE_kiln")
            );
            kiln_shell(&script)
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let history = emulator().history(&format!("/kiln/{app}/app"));
    let values: BTreeSet<String> = history.iter().map(|(_, ami, _)| ami.clone()).collect();
    assert_eq!(history.len(), 2, "one version per publish: {history:?}");
    assert_eq!(values, amis.iter().cloned().collect::<BTreeSet<_>>());
    let tested: Vec<i64> = history
        .iter()
        .filter(|(_, _, labels)| labels.iter().any(|l| l == "tested"))
        .map(|(v, _, _)| *v)
        .collect();
    assert_eq!(
        tested.len(),
        1,
        "the label is on exactly one version: {history:?}"
    );
}

/// A shell running kiln commands with the harness's environment.
fn kiln_shell(script: &str) -> std::process::Child {
    let endpoint = emulator().endpoint.clone();
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", crate::harness::REGION)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Every command with malformed input: its documented exit code, a message that
/// names the bad value, never a panic or a debug dump, and no AWS call (the
/// endpoint is dead: a call would fail with exit 5 instead).
#[test]
fn bad_input_is_refused_before_anything_happens() {
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["resolve", "app:"],
            2,
            "invalid value `app:` in argument REF",
        ),
        (
            &["resolve", "web"],
            2,
            "invalid value `web` in argument REF",
        ),
        (
            &["publish", "app", "ami-xyz"],
            2,
            "invalid value `ami-xyz` in argument AMI_ID",
        ),
        (
            &["--region", "mars-1", "status"],
            2,
            "invalid value `mars-1` in --region",
        ),
        (
            &["history", "app", "--limit", "many"],
            2,
            "invalid value `many` in --limit",
        ),
        (
            &["promote", "app:3", "--to", "staging"],
            2,
            "unknown channel `staging`",
        ),
        (
            &["verify", "--boot-timeout", "1y"],
            2,
            "invalid value `1y` in --boot-timeout",
        ),
        (
            &["verify", "--results", "/nonexistent.json"],
            2,
            "/nonexistent.json: Goss results file not found",
        ),
        (
            &["deploy", "--asg", "web", "--batch-size", "0"],
            2,
            "invalid value `0` in --batch-size",
        ),
        (
            &["deploy", "--asg", "web", "--strategy", "canary"],
            2,
            "invalid value `canary` in --strategy",
        ),
        (
            &["deploy", "--asg", "web", "--timeout", "soon"],
            2,
            "invalid value `soon` in --timeout",
        ),
        (
            &["deploy", "--asg", "web", "--via", "pulumi"],
            2,
            "invalid value `pulumi` in --via",
        ),
        (&["deploy"], 2, "no Auto Scaling group given"),
        (
            &["rollback", "--asg", "web", "--min-healthy", "150%"],
            2,
            "invalid value `150%` in --min-healthy",
        ),
        (
            &["prune", "--keep", "few"],
            2,
            "invalid value `few` in --keep",
        ),
        (
            &["prune", "--price-per-gib", "free"],
            2,
            "invalid value `free` in --price-per-gib",
        ),
        (
            &["revoke", "ami-1", "--reason", "x"],
            2,
            "invalid value `ami-1` in argument REF|AMI_ID",
        ),
        (&["bake", "web"], 2, "invalid value `web` in argument ROLE"),
        (
            &["bake", "base", "--var", "novalue"],
            2,
            "invalid value `novalue` in --var",
        ),
        (
            &["--output", "yaml", "status"],
            2,
            "invalid value `yaml` in --output",
        ),
        (
            &["--endpoint-url", "localhost", "status"],
            2,
            "invalid value `localhost` in --endpoint-url",
        ),
        (&["frobnicate"], 2, "unrecognized subcommand 'frobnicate'"),
    ];
    for (args, code, message) in cases {
        let kiln = kiln_without_aws();
        // A template where bake looks, so its own flags are what is checked.
        write(kiln.dir(), "packer/base.pkr.hcl", "");
        let run = kiln.args(["--app", "shop"]).args(*args).run();
        assert_no_crash(&run, args);
        assert_eq!(run.code, *code, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn bad_configuration_files_are_refused_with_the_key() {
    let cases = [
        ("", 0, ""),
        (
            "app = 5\n",
            2,
            "kiln.toml: key `app` must be a string, not the integer 5",
        ),
        ("apps = \"x\"\n", 2, "kiln.toml: unknown key `apps`"),
        (
            "[deploy]\nstrategy = \"yolo\"\n",
            2,
            "invalid value `yolo` in kiln.toml: key `deploy.strategy`",
        ),
        (
            "[deploy]\nkeep_old = -2\n",
            2,
            "kiln.toml: key `deploy.keep_old` must be a whole number such as 1, not the integer -2",
        ),
        (
            "[verify]\nlifetime = 60\n",
            2,
            "kiln.toml: key `verify.lifetime` must be a string, not the integer 60",
        ),
        ("[verify\n", 2, "kiln.toml: not valid TOML"),
    ];
    for (text, code, message) in cases {
        let run = kiln_without_aws();
        write(run.dir(), "kiln.toml", text);
        // `resolve --dry-run` with a dead endpoint: a good file gets as far as AWS.
        let done = run
            .args(["--app", "shop", "--dry-run", "history", "app"])
            .run();
        assert_no_crash(&done, &[text]);
        if code == 0 {
            assert_ne!(done.code, 2, "an empty file is fine: {}", done.stderr);
        } else {
            assert_eq!(done.code, code, "{text:?}: {}", done.stderr);
            assert!(done.stderr.contains(message), "{text:?}: {}", done.stderr);
        }
    }
}

#[track_caller]
fn assert_no_crash(run: &Run, what: &[&str]) {
    for sign in ["panicked", "RUST_BACKTRACE", "Error {", "Some(", "SdkError"] {
        assert!(
            !run.stderr.contains(sign),
            "{what:?} printed {sign:?}:\n{}",
            run.stderr
        );
    }
}

/// A recognisable fake secret in the environment, in a secret `--var`, in GitHub's
/// token: after a bake, verify, deploy and revoke it is in no output, no tag, no
/// parameter value or description, no report file.
#[test]
fn secrets_appear_nowhere_kiln_writes() {
    const SECRET: &str = "kiln-test-secret-7f3e9a";
    let app = unique_app("secrets");
    let mut seen = String::new();
    let mut run = |kiln: crate::harness::Kiln| {
        let dir = kiln.dir().to_path_buf();
        let outputs = dir.join("github-output");
        let summary = dir.join("github-summary");
        let done = kiln
            .env("MY_SERVICE_PASSWORD", SECRET)
            .env("GITHUB_TOKEN", SECRET)
            .env("GITHUB_REPOSITORY", "acme/shop")
            .env("GITHUB_SHA", "6dcb09b5b57875f334f61aebed695e2e4193db5e")
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env(
                "BUILD_URL",
                format!("https://ci:{SECRET}@jenkins.example/job/1/"),
            )
            .run();
        seen.push_str(&done.stdout);
        seen.push_str(&done.stderr);
        for file in [outputs, summary, dir.join("verify.xml")] {
            seen.push_str(&std::fs::read_to_string(file).unwrap_or_default());
        }
        done
    };
    run(kiln()
        .args([
            "--app",
            &app,
            "bake",
            "base",
            "--var",
            &format!("api_token={SECRET}"),
            "--template",
        ])
        .arg(packer_template("secret")))
    .ok();
    let old = emulator().create_image(&format!("{app}-old"), &[]);
    let fleet = emulator().fleet(&app, &old, 1);
    let image = emulator().create_image(&format!("{app}-app"), &[]);
    run(kiln().args(["--app", &app, "publish", "app", &image])).ok();
    run(kiln()
        .args([
            "--app",
            &app,
            "verify",
            "app:1",
            "--junit",
            "verify.xml",
            "--results",
        ])
        .arg(root().join("tests/fixtures/goss/pass.json")))
    .ok();
    // GitHub is unreachable here (no --github-api-url server): a warning only.
    run(kiln().args([
        "--app",
        &app,
        "deploy",
        "--asg",
        &fleet.group,
        "--min-healthy",
        "0%",
        "--github-api-url",
        "http://127.0.0.1:9",
    ]))
    .ok();
    run(kiln().args(["--app", &app, "revoke", "app:1", "--reason", "test"])).ok();
    assert!(
        !seen.contains(SECRET),
        "the secret leaked into output or a report:\n{seen}"
    );
    for role in ["base", "app"] {
        let history = emulator().history(&format!("/kiln/{app}/{role}"));
        assert!(!format!("{history:?}").contains(SECRET), "{history:?}");
        for (_, ami, _) in history {
            let tags = emulator().image_tags(&ami);
            assert!(!format!("{tags:?}").contains(SECRET), "{tags:?}");
        }
    }
    assert!(!format!("{:?}", emulator().group(&fleet.group)).contains(SECRET));
}
