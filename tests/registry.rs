//! The registry contract: publish, promote, resolve, history and status agree.

use crate::harness::{REGION, app_with_three_versions, emulator, kiln, kiln_ok, unique_app};

#[test]
fn promoted_version_resolves_by_channel_and_latest_by_role() {
    let (app, amis) = app_with_three_versions("contract");

    let promote = kiln_ok(["--app", &app, "promote", "app:2", "--to", "production"]);
    assert_eq!(
        promote.stdout,
        format!("app:production -> version 2 ({})\n", amis[1])
    );

    let production = kiln_ok(["--app", &app, "resolve", "app:production"]);
    assert_eq!(production.stdout, format!("{}\n", amis[1]));
    let latest = kiln_ok(["--app", &app, "resolve", "app"]);
    assert_eq!(latest.stdout, format!("{}\n", amis[2]));
    let by_version = kiln_ok(["--app", &app, "resolve", "app:1"]);
    assert_eq!(by_version.stdout, format!("{}\n", amis[0]));

    // What SSM holds, read without kiln: three versions, the label on version 2.
    let history = emulator().history(&format!("/kiln/{app}/app"));
    let labels: Vec<(i64, &str, Vec<String>)> = history
        .iter()
        .map(|(v, ami, l)| (*v, ami.as_str(), l.clone()))
        .collect();
    assert_eq!(
        labels,
        vec![
            (1, amis[0].as_str(), vec![]),
            (2, amis[1].as_str(), vec!["production".to_string()]),
            (3, amis[2].as_str(), vec![]),
        ]
    );
}

#[test]
fn publish_prints_the_new_version_and_tags_the_image() {
    let app = unique_app("publish");
    let ami = emulator().create_image("publish", &[]);
    let run = kiln_ok(["--app", &app, "publish", "base", &ami]);
    assert_eq!(run.stdout, "1\n");
    assert_eq!(
        run.stderr,
        format!("kiln: published {ami} as version 1 of /kiln/{app}/base in {REGION}\n")
    );
    let tags = emulator().image_tags(&ami);
    assert_eq!(tags.get("kiln:app"), Some(&app));
    assert_eq!(tags.get("kiln:role").map(String::as_str), Some("base"));
}

#[test]
fn promoting_a_channel_reference_promotes_what_it_points_at() {
    let (app, amis) = app_with_three_versions("chain");
    kiln_ok(["--app", &app, "promote", "app:1", "--to", "tested"]);
    kiln_ok(["--app", &app, "promote", "app:tested", "--to", "production"]);
    let production = kiln_ok(["--app", &app, "resolve", "app:production"]);
    assert_eq!(production.stdout, format!("{}\n", amis[0]));

    // Again: nothing to do, and it says so.
    let again = kiln_ok(["--app", &app, "promote", "app:1", "--to", "production"]);
    assert_eq!(
        again.stderr,
        format!("kiln: production is already on version 1 of /kiln/{app}/app; nothing to do\n")
    );
    assert_eq!(
        again.stdout,
        format!("app:production -> version 1 ({})\n", amis[0])
    );
}

#[test]
fn history_lists_versions_newest_first_in_text_and_json() {
    let (app, amis) = app_with_three_versions("history");
    kiln_ok(["--app", &app, "promote", "app:2", "--to", "production"]);

    let text = kiln_ok(["--app", &app, "history", "app"]).stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("/kiln/{app}/app ({REGION})"));
    assert!(lines[1].starts_with("VERSION  AMI"), "{text}");
    let rows: Vec<Vec<&str>> = lines[2..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert_eq!(
        (rows[0][0], rows[0][1], rows[0][2]),
        ("3", amis[2].as_str(), "-")
    );
    assert_eq!(
        (rows[1][0], rows[1][1], rows[1][2]),
        ("2", amis[1].as_str(), "production")
    );
    assert_eq!(rows[2][0], "1");
    assert_eq!(rows[0].last(), Some(&"available"));

    let json = kiln_ok(["--app", &app, "history", "app", "--output", "json"]).json();
    assert_eq!(json["parameter"], format!("/kiln/{app}/app"));
    let versions = json["versions"].as_array().unwrap();
    let summary: Vec<(u64, &str, usize)> = versions
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["ami_id"].as_str().unwrap(),
                v["labels"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (3, amis[2].as_str(), 0),
            (2, amis[1].as_str(), 1),
            (1, amis[0].as_str(), 0)
        ]
    );
    assert_eq!(versions[1]["labels"][0], "production");
    assert_eq!(versions[0]["image_state"], "available");

    let limited = kiln_ok([
        "--app", &app, "history", "app", "--limit", "1", "--output", "json",
    ])
    .json();
    assert_eq!(limited["versions"].as_array().unwrap().len(), 1);
}

#[test]
fn provenance_from_flags_reaches_tags_and_history() {
    let app = unique_app("provenance");
    let ami = emulator().create_image("provenance", &[]);
    kiln()
        .args([
            "--app",
            &app,
            "publish",
            "app",
            &ami,
            "--git-sha",
            "3f2a9c1d",
        ])
        .args(["--build-url", "https://ci.example/job/7"])
        .run()
        .ok();
    let tags = emulator().image_tags(&ami);
    assert_eq!(
        tags.get("kiln:git-sha").map(String::as_str),
        Some("3f2a9c1d")
    );
    assert_eq!(
        tags.get("kiln:build-url").map(String::as_str),
        Some("https://ci.example/job/7")
    );
    let json = kiln_ok(["--app", &app, "history", "app", "--output", "json"]).json();
    let provenance = &json["versions"][0]["provenance"];
    assert_eq!(provenance["git_sha"], "3f2a9c1d");
    assert_eq!(provenance["build_url"], "https://ci.example/job/7");
}

#[test]
fn status_shows_every_role_and_channel_and_marks_outdated_apps() {
    let app = unique_app("status");
    let base1 = emulator().create_image("base1", &[]);
    let base2 = emulator().create_image("base2", &[]);
    kiln_ok(["--app", &app, "publish", "base", &base1]);
    // The app image was baked on base version 1, as a bake records it.
    let app_ami = emulator().create_image(
        "app",
        &[("kiln:base-ami", &base1), ("kiln:base-version", "1")],
    );
    kiln_ok(["--app", &app, "publish", "app", &app_ami]);
    kiln_ok(["--app", &app, "promote", "app", "--to", "production"]);

    let json = kiln_ok(["--app", &app, "status", "--output", "json"]).json();
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 6, "2 roles x (latest + 2 channels)");
    let find = |role: &str, channel: &str| {
        entries
            .iter()
            .find(|e| e["role"] == role && e["channel"] == channel)
            .unwrap()
            .clone()
    };
    assert_eq!(find("app", "production")["ami_id"], app_ami.as_str());
    assert_eq!(find("app", "production")["outdated"], false);
    assert_eq!(find("app", "tested")["version"], serde_json::Value::Null);
    assert_eq!(find("app", "tested")["notes"][0], "empty");

    // A newer base makes the app outdated.
    kiln_ok(["--app", &app, "publish", "base", &base2]);
    let json = kiln_ok(["--app", &app, "status", "--output", "json"]).json();
    let entries = json["entries"].as_array().unwrap();
    let production = entries
        .iter()
        .find(|e| e["role"] == "app" && e["channel"] == "production")
        .unwrap();
    assert_eq!(production["outdated"], true);
    assert_eq!(
        production["notes"][0],
        "outdated: built on base v1, latest base is v2"
    );

    let text = kiln_ok(["--app", &app, "status"]).stdout;
    let row = text
        .lines()
        .find(|l| l.starts_with("app   production"))
        .unwrap_or_else(|| panic!("no app production row in:\n{text}"));
    assert!(row.contains(&app_ami), "{row}");
    assert!(
        row.ends_with("outdated: built on base v1, latest base is v2"),
        "{row}"
    );
    assert!(text.starts_with("ROLE  CHANNEL"), "{text}");
}

#[test]
fn status_covers_extra_regions() {
    let app = unique_app("regions");
    let ami = emulator().create_image("regions", &[]);
    kiln_ok(["--app", &app, "publish", "app", &ami]);
    let json = kiln()
        .args(["--app", &app, "status", "--output", "json"])
        .env("KILN_REGIONS", "eu-west-1")
        .run()
        .ok()
        .json();
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 12);
    let west_latest = entries
        .iter()
        .find(|e| e["region"] == "eu-west-1" && e["role"] == "app" && e["channel"] == "latest")
        .unwrap();
    assert_eq!(west_latest["ami_id"], serde_json::Value::Null);
    assert_eq!(
        west_latest["notes"][0],
        "not published: run `kiln bake app`"
    );
}

#[test]
fn publishing_the_newest_image_again_adds_no_version() {
    let app = unique_app("publish-again");
    let ami = emulator().create_image("publish-again", &[]);
    kiln_ok(["--app", &app, "publish", "app", &ami]);
    // A CI job run again publishes the same AMI: it is reported, not added.
    let again = kiln_ok(["--app", &app, "publish", "app", &ami]);
    assert_eq!(again.stdout, "1\n");
    assert_eq!(
        again.stderr,
        format!(
            "kiln: {ami} is already version 1 of /kiln/{app}/app in {REGION}; nothing to publish\n"
        )
    );
    assert_eq!(emulator().history(&format!("/kiln/{app}/app")).len(), 1);
    // Another image in between: the first one is a new version again.
    let other = emulator().create_image("publish-again-2", &[]);
    kiln_ok(["--app", &app, "publish", "app", &other]);
    assert_eq!(
        kiln_ok(["--app", &app, "publish", "app", &ami]).stdout,
        "3\n"
    );
}
