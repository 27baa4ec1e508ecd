//! What a bake builds on, with the real Packer 1.6.6 against the emulator: a base
//! whose upstream image moves is baked again, an old image is baked again with
//! `--max-age`, and an app records only the base it really used.

use crate::harness::{REGION, Run, emulator, kiln, packer_template, unique_app};

fn bake(app: &str, role: &str, template: &std::path::Path, extra: &[&str]) -> Run {
    kiln()
        .args(["--app", app, "bake", role])
        .args(extra)
        .arg("--template")
        .arg(template)
        .run()
}

/// (version, AMI) of the role's latest registry entry.
fn latest(app: &str, role: &str) -> (i64, String) {
    let history = emulator().history(&format!("/kiln/{app}/{role}"));
    let (version, ami, _) = history.last().cloned().expect("a published version");
    (version, ami)
}

#[test]
fn a_base_is_baked_again_when_its_upstream_image_moves() {
    let app = unique_app("src-upstream");
    let template = packer_template("upstream");
    let filter = format!("upstream_name=upstream-{app}-*");
    let bake = |extra: &[&str]| {
        let mut args = vec!["--var", &filter];
        args.extend(extra);
        bake(&app, "base", &template, &args).ok()
    };
    let first = emulator().create_image(&format!("upstream-{app}-v1"), &[]);

    let run = bake(&[]);
    assert!(
        run.stderr.contains(&format!(
            "kiln: amazon-ebs.golden builds on {first} (the one image its source_ami_filter matches)\n"
        )),
        "{}",
        run.stderr
    );
    let (version, base1) = latest(&app, "base");
    assert_eq!(version, 1);
    assert_eq!(emulator().image_tags(&base1)["source-ami"], first);

    // Upstream unchanged: the same inputs, nothing baked.
    let again = bake(&[]);
    assert!(again.stderr.contains("not baking"), "{}", again.stderr);
    assert_eq!(latest(&app, "base"), (1, base1.clone()));

    // Upstream publishes a newer image (CreationDate has whole seconds).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = emulator().create_image(&format!("upstream-{app}-v2"), &[]);
    let moved = bake(&[]);
    assert!(
        moved.stderr.contains(&format!(
            "kiln: amazon-ebs.golden builds on {second} (the newest of 2 images its source_ami_filter matches)\n"
        )),
        "{}",
        moved.stderr
    );
    assert!(!moved.stderr.contains("not baking"), "{}", moved.stderr);
    let (version, base2) = latest(&app, "base");
    assert_eq!(version, 2);
    assert_ne!(base2, base1);
    assert_eq!(
        emulator().image_tags(&base2)["source-ami"],
        second,
        "Packer built on the new upstream image"
    );
}

#[test]
fn an_image_older_than_max_age_is_baked_again() {
    let app = unique_app("src-max-age");
    let template = packer_template("base");
    bake(&app, "base", &template, &[]).ok();
    let (_, first) = latest(&app, "base");

    // Young enough: reused.
    let young = bake(&app, "base", &template, &["--max-age", "7d"]).ok();
    assert!(young.stderr.contains("not baking"), "{}", young.stderr);
    assert_eq!(latest(&app, "base"), (1, first.clone()));

    // Older than the maximum (CreationDate has whole seconds): baked again, saying why.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let old = bake(&app, "base", &template, &["--max-age", "1s"]).ok();
    let why = old
        .stderr
        .lines()
        .find(|l| l.contains("--max-age"))
        .unwrap_or_else(|| panic!("no reason given:\n{}", old.stderr));
    assert!(
        why.starts_with(&format!("kiln: {first} was baked with these inputs "))
            && why.ends_with(
                " ago, longer ago than the maximum age 1s (--max-age, [bake] max_age); baking again"
            ),
        "{why}"
    );
    let (version, second) = latest(&app, "base");
    assert_eq!(version, 2);
    assert_ne!(second, first);

    // The same from kiln.toml.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let run = kiln();
    std::fs::write(run.dir().join("kiln.toml"), "[bake]\nmax_age = \"1s\"\n").unwrap();
    run.args(["--app", &app, "bake", "base", "--template"])
        .arg(&template)
        .run()
        .ok();
    assert_eq!(latest(&app, "base").0, 3);
}

/// The app template that builds on its own `var.base_ami`, baked on an image that
/// is not the registry's base; returns (app, registry base, the other image).
fn own_base_app(purpose: &str) -> (String, String, String) {
    let app = unique_app(purpose);
    bake(&app, "base", &packer_template("base"), &[]).ok();
    let (_, base) = latest(&app, "base");
    let other = emulator().create_image(&format!("golden-{app}"), &[]);
    (app, base, other)
}

fn warning(other: &str, base: &str) -> String {
    format!(
        "warning: the app was built on {other}, not on the registry's base {base} (base version 1); no base is recorded on the image (set source_ami = var.kiln_source_ami in the template, or bake with --base none; --strict-lineage makes this an error)\n"
    )
}

#[test]
fn an_app_built_on_its_own_base_ami_says_so_and_records_no_base() {
    let (app, base, other) = own_base_app("src-own-base");
    let template = packer_template("own-base");
    let var = format!("base_ami={other}");
    let run = bake(&app, "app", &template, &["--var", &var]).ok();
    assert!(
        run.stderr.contains(&warning(&other, &base)),
        "{}",
        run.stderr
    );
    let (_, ami) = latest(&app, "app");
    let tags = emulator().image_tags(&ami);
    assert_eq!(tags["source-ami"], other);
    assert!(!tags.contains_key("kiln:base-ami"), "{tags:?}");
    assert!(!tags.contains_key("kiln:base-version"), "{tags:?}");

    // Where kiln cannot tell beforehand (a function call), Packer's own word is used.
    let file = template.join("own-base.pkr.hcl");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("= var.base_ami\n", "= lower(var.base_ami)\n"),
    )
    .unwrap();
    let run = bake(&app, "app", &template, &["--var", &var]).ok();
    assert!(
        run.stderr.contains("kiln: cannot tell which image "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&warning(&other, &base)),
        "{}",
        run.stderr
    );
    let (version, ami) = latest(&app, "app");
    assert_eq!(version, 2);
    assert!(!emulator().image_tags(&ami).contains_key("kiln:base-ami"));
}

#[test]
fn strict_lineage_refuses_an_app_built_on_another_image() {
    let (app, base, other) = own_base_app("src-strict");
    let template = packer_template("own-base");
    let var = format!("base_ami={other}");
    bake(&app, "app", &template, &["--var", &var, "--strict-lineage"]).fails(
        1,
        &format!(
            "kiln: amazon-ebs.web builds on {other} (its source_ami)\nerror: the app was built on {other}, not on the registry's base {base} (base version 1); nothing was baked or published\n  help: build on the base kiln hands the template (declare variable \"kiln_source_ami\" and set source_ami = var.kiln_source_ami), or bake with --base none for an image without a registry base; without --strict-lineage kiln warns and records no base\n"
        ),
    );
    assert!(emulator().history(&format!("/kiln/{app}/app")).is_empty());

    // kiln.toml's strict_lineage is the same.
    let run = kiln();
    std::fs::write(
        run.dir().join("kiln.toml"),
        "[bake]\nstrict_lineage = true\n",
    )
    .unwrap();
    let run = run
        .args(["--app", &app, "bake", "app", "--var", &var, "--template"])
        .arg(&template)
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(emulator().history(&format!("/kiln/{app}/app")).is_empty());
}

#[test]
fn base_none_bakes_an_app_without_a_registry_base() {
    let app = unique_app("src-base-none");
    let other = emulator().create_image(&format!("golden-{app}"), &[]);
    let template = packer_template("own-base");
    let var = format!("base_ami={other}");
    let json = kiln()
        .args([
            "--app", &app, "--output", "json", "bake", "app", "--base", "none",
        ])
        .args(["--var", &var, "--template"])
        .arg(&template)
        .run()
        .ok();
    assert!(!json.stderr.contains("warning:"), "{}", json.stderr);
    let json = json.json();
    assert_eq!(json["baked"], true);
    assert_eq!(json["source_ami"], serde_json::Value::Null);
    let (version, ami) = latest(&app, "app");
    assert_eq!(version, 1);
    let tags = emulator().image_tags(&ami);
    assert_eq!(tags["source-ami"], other);
    assert!(!tags.contains_key("kiln:base-ami"), "{tags:?}");

    // The same from kiln.toml: no base in the registry is needed.
    let run = kiln();
    std::fs::write(run.dir().join("kiln.toml"), "[bake]\napp_base = \"none\"\n").unwrap();
    run.args([
        "--app",
        &app,
        "bake",
        "app",
        "--force",
        "--var",
        &var,
        "--template",
    ])
    .arg(&template)
    .run()
    .ok();
    let (version, ami) = latest(&app, "app");
    assert_eq!(version, 2);
    assert!(!emulator().image_tags(&ami).contains_key("kiln:base-ami"));

    // kiln hands the template no base.
    let plan = kiln()
        .args([
            "--app",
            &app,
            "--dry-run",
            "bake",
            "app",
            "--force",
            "--base",
            "none",
        ])
        .args(["--var", &var, "--template"])
        .arg(&template)
        .run()
        .ok();
    assert!(
        plan.stdout.contains(&format!(
            "PKR_VAR_kiln_region={REGION} PKR_VAR_kiln_source_ami= PKR_VAR_kiln_ami_name="
        )),
        "{}",
        plan.stdout
    );
}
