//! `kiln revoke` against the emulator: labels removed and named, the image tagged,
//! every stage refusing it, history showing it and the app images built on it,
//! `--undo`. The emulator has no EC2 image deprecation: kiln warns and goes on.

use crate::harness::{emulator, kiln, kiln_ok, unique_app};

#[test]
fn a_revoked_image_leaves_its_channels_and_every_stage_refuses_it() {
    let app = unique_app("revoke");
    let base = emulator().create_image(
        &format!("{app}-base"),
        &[("kiln:app", &app), ("kiln:role", "base")],
    );
    // Built on that base, as `kiln bake app` tags it.
    let image = emulator().create_image(
        &format!("{app}-app"),
        &[
            ("kiln:app", &app),
            ("kiln:role", "app"),
            ("kiln:base-ami", &base),
        ],
    );
    kiln_ok(["--app", &app, "publish", "base", &base]);
    kiln_ok(["--app", &app, "publish", "app", &image]);
    kiln_ok(["--app", &app, "promote", "app:1", "--to", "tested"]);
    kiln_ok(["--app", &app, "promote", "app:1", "--to", "production"]);

    let done = kiln_ok([
        "--app",
        &app,
        "revoke",
        "app:production",
        "--reason",
        "CVE-2026-1234 in openssl",
    ]);
    assert_eq!(
        done.stdout,
        format!(
            "revoked {image}: CVE-2026-1234 in openssl\nchannels now empty: app:tested, app:production (promote another version to fill them)\n"
        )
    );
    assert!(
        done.stderr
            .contains(&format!("warning: EC2 deprecation of {image} not changed:")),
        "{}",
        done.stderr
    );
    assert_eq!(
        emulator().image_tags(&image)["kiln:revoked"],
        "CVE-2026-1234 in openssl"
    );
    let labels: Vec<String> = emulator()
        .history(&format!("/kiln/{app}/app"))
        .into_iter()
        .flat_map(|(_, _, l)| l)
        .collect();
    assert!(labels.is_empty(), "{labels:?}");
    let refusal = format!(
        "error: AMI {image} is revoked: CVE-2026-1234 in openssl\n  help: publish or promote another image; if the revocation was a mistake, `kiln revoke --undo {image}` lifts it\n"
    );
    kiln()
        .args(["--app", &app, "promote", "app:1", "--to", "tested"])
        .run()
        .fails(1, &refusal);
    kiln()
        .args(["--app", &app, "deploy", "app:1", "--asg", "web", "--force"])
        .run()
        .fails(1, &refusal);
    let history = kiln_ok(["--app", &app, "--output", "json", "history", "app"]).json();
    assert_eq!(history["versions"][0]["image_state"], "revoked");

    // A base revoked: the app images built on it say so.
    kiln_ok(["--app", &app, "revoke", &base, "--reason", "bad kernel"]);
    kiln_ok(["--app", &app, "revoke", "app:1", "--undo"]);
    let history = kiln_ok(["--app", &app, "--output", "json", "history", "app"]).json();
    assert_eq!(history["versions"][0]["image_state"], "base revoked");
    assert_eq!(history["versions"][0]["base_revoked"], true);
    assert!(
        !emulator().image_tags(&image).contains_key("kiln:revoked"),
        "undone"
    );
    kiln_ok(["--app", &app, "promote", "app:1", "--to", "tested"]);
}

#[test]
fn revoke_needs_a_reason_and_refuses_another_apps_image() {
    kiln()
        .args(["--app", "shop", "revoke", "app:3"])
        .run()
        .fails(2, "error: the following required arguments were not provided:\n  --reason <TEXT>\n\nUsage: kiln revoke --reason <TEXT> <TARGET>\n\nFor more information, try '--help'.\n");
    let other = emulator().create_image("other-app", &[("kiln:app", "someone-else")]);
    kiln()
        .args(["--app", "shop", "revoke", &other, "--reason", "x"])
        .run()
        .fails(2, &format!("error: AMI {other} is tagged kiln:app=someone-else, not shop\n  help: pass --app someone-else if you meant that app's image, or fix its kiln:app tag\n"));
}

#[test]
fn a_dry_run_revoke_says_only_what_it_would_do() {
    let app = unique_app("revoke-dry");
    let image = emulator().create_image(
        &format!("{app}-app"),
        &[("kiln:app", &app), ("kiln:role", "app")],
    );
    kiln_ok(["--app", &app, "publish", "app", &image]);
    kiln_ok(["--app", &app, "promote", "app:1", "--to", "tested"]);
    let region = crate::harness::REGION;

    let planned = kiln_ok([
        "--app",
        &app,
        "--dry-run",
        "revoke",
        "app:tested",
        "--reason",
        "bad",
    ]);
    let lines: Vec<&str> = planned.stdout.lines().collect();
    // No "revoked …" or "channels now empty" above the plan: nothing was revoked.
    assert_eq!(lines[0], "dry run: nothing was changed; the plan:");
    assert_eq!(
        lines[1],
        format!(
            "  would run   ssm:UnlabelParameterVersion /kiln/{app}/app in {region}: version=1 labels=tested"
        )
    );
    assert!(
        lines[2].starts_with(&format!(
            "  would run   ec2:CreateTags {image} in {region}: kiln:revoked=bad kiln:revoked-at="
        )),
        "{}",
        lines[2]
    );
    assert_eq!(
        lines[3],
        format!("  would run   ec2:EnableImageDeprecation {image} in {region}: now")
    );
    assert_eq!(lines.len(), 4, "{}", planned.stdout);
    assert!(!emulator().image_tags(&image).contains_key("kiln:revoked"));

    // --undo: the JSON plan names the same action as the text plan.
    kiln_ok(["--app", &app, "revoke", "app:tested", "--reason", "bad"]);
    let text = kiln_ok(["--app", &app, "--dry-run", "revoke", &image, "--undo"]);
    assert_eq!(
        text.stdout,
        format!(
            "dry run: nothing was changed; the plan:\n  would run   ec2:DeleteTags {image} in {region}: kiln:revoked kiln:revoked-at\n  would run   ec2:DisableImageDeprecation {image} in {region}\n"
        )
    );
    let json = kiln_ok([
        "--app",
        &app,
        "--dry-run",
        "--output",
        "json",
        "revoke",
        &image,
        "--undo",
    ])
    .json();
    let actions: Vec<&str> = json["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["ec2:DeleteTags", "ec2:DisableImageDeprecation"]);
    assert_eq!(json["dry_run"], true);
}
