//! `kiln bake` with templates shaped like real teams' (legacy JSON with a
//! `variables` block, two builds in one template, `required_plugins`, a region of
//! their own, a fixed AMI name), with the real Packer 1.6.6 against the emulator.

use sha2::Digest;

use crate::harness::{REGION, emulator, kiln, packer_template, root, scratch_dir};

fn latest(app: &str, role: &str) -> (i64, String) {
    let history = emulator().history(&format!("/kiln/{app}/{role}"));
    let (version, ami, _) = history.last().cloned().expect("a published version");
    (version, ami)
}

/// The legacy JSON app template, alone in a directory of its own.
fn legacy_template() -> std::path::PathBuf {
    let dir = scratch_dir("packer-legacy");
    let file = dir.join("app.json");
    std::fs::copy(root().join("tests/packer/legacy/app.json"), &file).unwrap();
    file
}

#[test]
fn a_legacy_json_app_template_gets_kilns_context_and_its_secret_privately() {
    let app = crate::harness::unique_app("bake-json-tpl");
    kiln()
        .args(["--app", &app, "bake", "base", "--template"])
        .arg(packer_template("base"))
        .run()
        .ok();
    let (_, base) = latest(&app, "base");
    let template = legacy_template();
    let token = "tok-j50n-s3cret";
    let tmp = scratch_dir("bake-json-tmp");
    let args = |dry: bool| {
        let mut args = vec!["--app".to_string(), app.clone()];
        if dry {
            args.push("--dry-run".into());
        }
        args.extend(
            [
                "bake",
                "app",
                "--var",
                &format!("api_token={token}"),
                "--var",
                "instance_type=t3.small",
                "--template",
            ]
            .map(String::from),
        );
        args.push(template.display().to_string());
        args
    };

    // The plan: context as -var for what the template declares, the secret in a
    // private variable file, never on the command line.
    let plan = kiln().args(args(true)).run().ok();
    let line = plan.stdout.lines().nth(1).unwrap();
    assert!(
        line.starts_with(&format!(
            "  would run   CHECKPOINT_DISABLE=1 packer build -machine-readable '-var-file={{private}}/kiln-secrets.json' -var kiln_app={app} -var kiln_region={REGION} -var kiln_source_ami={base} -var kiln_ami_name={app}-app-"
        )),
        "{line}"
    );
    assert!(
        line.ends_with(&format!(
            " -var instance_type=t3.small {}",
            template.display()
        )),
        "{line}"
    );
    assert!(
        line.contains(" -var kiln_ec2_endpoint=http://127.0.0.1:"),
        "{line}"
    );
    assert!(
        !line.contains("kiln_role") && !line.contains("kiln_git_sha"),
        "undeclared context is not passed (Packer would fail): {line}"
    );
    assert!(!plan.stdout.contains("j50n"), "{}", plan.stdout);

    // The bake: every value arrived, the secret too, through a private file.
    let run = kiln().env("TMPDIR", &tmp).args(args(false)).run().ok();
    let (version, ami) = latest(&app, "app");
    assert_eq!(version, 1);
    let tags = emulator().image_tags(&ami);
    assert_eq!(tags["source-ami"], base, "kiln_source_ami reached Packer");
    assert_eq!(tags["instance-type"], "t3.small", "the user's --var too");
    assert!(tags["Name"].starts_with(&format!("{app}-app-")), "{tags:?}");
    assert_eq!(tags["kiln:base-ami"], base);
    let digest: String = sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        run.stderr.contains(&format!("token-sha256 {digest}")),
        "the secret reached the template:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("private-modes 700 600"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("j50n") && !run.stdout.contains("j50n"));
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("kiln-"))
        .collect();
    assert!(
        left.is_empty(),
        "the private directory was removed: {left:?}"
    );
}

#[test]
fn a_template_with_two_builds_is_refused_before_building_and_only_picks_one() {
    let app = crate::harness::unique_app("bake-two");
    let template = packer_template("two-builds");
    kiln()
        .args(["--app", &app, "bake", "base", "--template"])
        .arg(&template)
        .run()
        .fails(
            2,
            &format!(
                "error: the template {} makes 2 builds (amazon-ebs.ubuntu, amazon-ebs.ubuntu-lts); kiln bakes one image per role, so nothing was built\n  help: pick one with --only NAME (Packer's -only), e.g. --only amazon-ebs.ubuntu, or set only = \"amazon-ebs.ubuntu\" under [bake.base] in kiln.toml\n",
                template.display()
            ),
        );
    assert!(emulator().images_named(&app).is_empty());
    assert!(emulator().live_bake_instances(&app).is_empty());

    // --only: that build alone is baked and published.
    kiln()
        .args([
            "--app",
            &app,
            "bake",
            "base",
            "--only",
            "amazon-ebs.ubuntu-lts",
        ])
        .arg("--template")
        .arg(&template)
        .run()
        .ok();
    let (version, ami) = latest(&app, "base");
    assert_eq!(version, 1);
    assert_eq!(emulator().image_tags(&ami)["release"], "lts");
    assert_eq!(emulator().images_named(&app), vec![ami]);

    // The same from kiln.toml.
    let run = kiln();
    std::fs::write(
        run.dir().join("kiln.toml"),
        "[bake.base]\nonly = \"amazon-ebs.ubuntu\"\n",
    )
    .unwrap();
    run.args(["--app", &app, "bake", "base", "--force", "--template"])
        .arg(&template)
        .run()
        .ok();
    let (version, ami) = latest(&app, "base");
    assert_eq!(version, 2);
    assert!(!emulator().image_tags(&ami).contains_key("release"));
}

#[test]
fn required_plugins_with_packer_1_6_is_refused_before_building() {
    let app = crate::harness::unique_app("bake-plugins");
    kiln()
        .args(["--app", &app, "bake", "base", "--template"])
        .arg(packer_template("plugins"))
        .run()
        .fails(
            2,
            "error: this template needs Packer ≥ 1.7 (required_plugins); installed: 1.6.6\n  help: install Packer 1.7 or newer from HashiCorp (developer.hashicorp.com/packer/install; Debian's package is older) and run kiln again: kiln runs `packer init` for the template's plugins; or drop the packer { required_plugins } block to bake with this Packer\n",
        );
    assert!(emulator().images_named(&app).is_empty());
    assert!(emulator().live_bake_instances(&app).is_empty());
}

#[test]
fn a_build_in_another_region_names_the_flag_and_the_untracked_ami() {
    let app = crate::harness::unique_app("bake-elsewhere");
    let run = kiln()
        .args(["--app", &app, "bake", "base", "--template"])
        .arg(packer_template("elsewhere"))
        .run();
    let ami = run
        .stderr
        .split("it left ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{}", run.stderr))
        .to_string();
    assert!(ami.starts_with("ami-"), "{}", run.stderr);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let expected = format!(
        "error: Packer built in eu-central-1 but not in the primary region {REGION}; it left {ami} (eu-central-1) untracked (not tagged, not published)\n  help: kiln bakes in its primary region: build in it (`region = var.kiln_region` in the template), or make eu-central-1 kiln's region (--region eu-central-1, or region = \"eu-central-1\" in kiln.toml); to adopt what was built: `kiln --region eu-central-1 publish base {ami}`\n"
    );
    assert!(run.stderr.ends_with(&expected), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(emulator().history(&format!("/kiln/{app}/base")).is_empty());
    // The line in the help adopts the image.
    kiln()
        .args([
            "--app",
            &app,
            "--region",
            "eu-central-1",
            "publish",
            "base",
            &ami,
        ])
        .run()
        .ok();
}

#[test]
fn a_fixed_ami_name_that_collides_says_to_use_kiln_ami_name() {
    let app = crate::harness::unique_app("bake-fixed");
    let template = packer_template("fixed-name");
    kiln()
        .args(["--app", &app, "bake", "base", "--template"])
        .arg(&template)
        .run()
        .ok();
    let (_, first) = latest(&app, "base");
    let run = kiln()
        .args(["--app", &app, "bake", "base", "--force", "--template"])
        .arg(&template)
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    let error = lines.iter().find(|l| l.starts_with("error: ")).unwrap();
    assert_eq!(
        *error,
        format!(
            "error: the AMI name `{app}-golden` is already taken by {first}: the template gives every bake the same ami_name; its last lines:"
        )
    );
    assert_eq!(
        lines.last().unwrap(),
        &"  help: use var.kiln_ami_name, the unique name kiln passes each bake: declare variable \"kiln_ami_name\" and set ami_name = var.kiln_ami_name (legacy JSON: \"ami_name\": \"{{user `kiln_ami_name`}}\"); nothing was published"
    );
    assert_eq!(latest(&app, "base"), (1, first));
}

/// A Packer ≥ 1.7 stand-in (only 1.6.6 is installed): answers `version`, logs
/// each call, and reports an AMI the test made, so the order of calls shows.
fn newer_packer(dir: &std::path::Path) {
    let script = dir.join("packer");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"$*\" >> \"$FAKE_PACKER_LOG\"\ncase \"$1\" in\n  version) echo 'Packer v1.9.4' ;;\n  init) echo 'Installed plugin github.com/hashicorp/amazon v1.2.8' ;;\n  build) echo \"1795444880,amazon-ebs.ubuntu,artifact,0,id,us-east-1:$FAKE_AMI\" ;;\nesac\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn required_plugins_with_a_newer_packer_runs_packer_init_before_building() {
    let app = crate::harness::unique_app("bake-init");
    let bin = scratch_dir("fake-packer");
    newer_packer(&bin);
    let log = bin.join("calls.log");
    let ami = emulator().create_image(&format!("{app}-made"), &[]);
    let template = packer_template("plugins");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    kiln()
        .env("PATH", &path)
        .env("FAKE_PACKER_LOG", &log)
        .env("FAKE_AMI", &ami)
        .args(["--app", &app, "bake", "base", "--template"])
        .arg(&template)
        .run()
        .ok();
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(calls[0], "version");
    assert_eq!(calls[1], format!("init {}", template.display()));
    assert!(calls[2].starts_with("build -machine-readable"), "{calls:?}");
    assert_eq!(latest(&app, "base"), (1, ami));
}
