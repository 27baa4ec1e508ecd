//! `kiln status` with environments against the emulator: staging with one group
//! (and one that was deleted), production with two; one production group left
//! mixed by an interrupted deploy, the other changed outside kiln onto a revoked
//! image. The ledger records are written as the deploy writes them (JSON in the
//! versions of `<prefix>/<app>/ledger/<environment>`).

use serde_json::{Value, json};

use crate::harness::{REGION, emulator, kiln, unique_app, write};

fn launch(template: &str, version: i64, ami: &str) -> Value {
    json!({ "template": template, "version": version, "ami_id": ami })
}

/// One ledger record of a deploy of app:`version` (`ami`) touching `groups`:
/// (group, before, after); `ended` `None` is a deploy that never ended.
fn record(
    id: &str,
    environment: &str,
    started: &str,
    ended: Option<&str>,
    (version, ami): (i64, &str),
    groups: Vec<(&str, Value, Option<Value>)>,
) -> String {
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(group, before, after)| {
            let mut g = json!({ "region": REGION, "group": group, "before": before });
            if let Some(after) = after {
                g["after"] = after;
            }
            g
        })
        .collect();
    let mut record = json!({
        "id": id, "environment": environment, "command": "deploy",
        "outcome": if ended.is_some() { "deployed" } else { "in-progress" },
        "reference": "app:tested", "role": "app", "version": version, "ami_id": ami,
        "strategy": "rolling", "groups": groups, "channel": null, "who": "ci-bot",
        "started": started, "commit": "4f2a9c1", "build_url": null,
    });
    if let Some(ended) = ended {
        record["ended"] = json!(ended);
    }
    record.to_string()
}

fn notes(group: &Value) -> Vec<String> {
    group["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn status_shows_what_each_group_of_each_environment_runs_and_its_drift() {
    let app = unique_app("status-drift");
    let e = emulator();
    let old = e.create_image(&format!("{app}-old"), &[]);
    let new = e.create_image(&format!("{app}-new"), &[]);
    let bad = e.create_image(&format!("{app}-bad"), &[]);
    let (stg, web, worker) = (
        format!("{app}-stg"),
        format!("{app}-web"),
        format!("{app}-worker"),
    );
    let dir = crate::harness::scratch_dir("status-drift");
    let config = write(
        &dir,
        "kiln.toml",
        &format!(
            "[environments.staging]\ngroups = [\"{stg}\", \"{app}-gone\"]\n\n\
             [environments.production]\ngroups = [\"{web}\", \"{worker}\"]\nafter = \"staging\"\n"
        ),
    );
    let run = |args: &[&str]| {
        kiln()
            .args(["--config", config.to_str().unwrap(), "--app", &app])
            .args(args)
            .run()
            .ok()
    };
    run(&["publish", "app", &old]);
    run(&["publish", "app", &new]);
    run(&["promote", "app:1", "--to", "production"]);
    run(&["promote", "app:2", "--to", "staging"]);
    e.tag_image(&bad, "kiln:revoked", "CVE-2026-0001");

    let staging = e.fleet(&stg, &new, 1);
    let web_fleet = e.fleet(&web, &old, 2);
    let worker_fleet = e.fleet(&worker, &old, 1);
    // An interrupted deploy of app:2 to web: the group launches version 2, one of
    // three instances came from it, two still from version 1.
    assert_eq!(e.set_group_image(&web_fleet, &new), 2);
    e.set_desired(&web, 3);
    // Someone points worker at another image by hand.
    assert_eq!(e.set_group_image(&worker_fleet, &bad), 2);

    let ledger = |env: &str| format!("/kiln/{app}/ledger/{env}");
    e.put_text(
        &ledger("staging"),
        &record(
            "run-s",
            "staging",
            "2026-11-20T09:00:00Z",
            Some("2026-11-20T09:10:00Z"),
            (2, &new),
            vec![(
                &stg,
                launch(&staging.template, 1, &old),
                Some(launch(&staging.template, 1, &new)),
            )],
        ),
    );
    e.put_text(
        &ledger("production"),
        &record(
            "run-0",
            "production",
            "2026-11-19T09:00:00Z",
            Some("2026-11-19T09:10:00Z"),
            (1, &old),
            vec![
                (
                    &web,
                    launch(&web_fleet.template, 1, &old),
                    Some(launch(&web_fleet.template, 1, &old)),
                ),
                (
                    &worker,
                    launch(&worker_fleet.template, 1, &old),
                    Some(launch(&worker_fleet.template, 1, &old)),
                ),
            ],
        ),
    );
    e.put_text(
        &ledger("production"),
        &record(
            "run-1",
            "production",
            "2026-11-20T10:00:00Z",
            None,
            (2, &new),
            vec![(&web, launch(&web_fleet.template, 1, &old), None)],
        ),
    );

    let status = run(&["status", "--output", "json"]).json();
    let environments = status["environments"].as_array().unwrap();
    let names: Vec<&str> = environments
        .iter()
        .map(|e| e["environment"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["production", "staging"], "{status:#}");
    let (production, staging_env) = (&environments[0], &environments[1]);
    assert_eq!(production["labelled"][0]["version"], 1);
    assert_eq!(production["labelled"][0]["ami_id"], old.as_str());
    assert_eq!(staging_env["labelled"][0]["version"], 2);

    let group = |env: &Value, name: &str| -> Value {
        env["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == name)
            .unwrap_or_else(|| panic!("{name} in {env:#}"))
            .clone()
    };
    // web: mixed, mid-deploy; not changed outside kiln.
    let w = group(production, &web);
    assert_eq!(w["launches"], 2);
    assert_eq!(w["ami_id"], new.as_str());
    assert_eq!(w["mixed"], true);
    assert_eq!(w["changed_outside_kiln"], false);
    let sets: Vec<(String, String, usize)> = w["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["version"].as_str().unwrap().to_string(),
                s["ami_id"].as_str().unwrap().to_string(),
                s["instances"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        sets,
        [
            ("1".to_string(), old.clone(), 2),
            ("2".to_string(), new.clone(), 1)
        ]
    );
    assert_eq!(
        notes(&w),
        [
            "mixed fleet: 2 on version 1, 1 on version 2".to_string(),
            "deploy run-1 by ci-bot did not finish (running, interrupted or failed): deploy was in progress (from launch template version 1)".to_string(),
            format!("launches {new}, not the channel production (app v1)"),
        ]
    );

    // worker: changed by hand onto a revoked image; its instance is still on v1.
    let k = group(production, &worker);
    assert_eq!(k["launches"], 2);
    assert_eq!(k["revoked"], true);
    assert_eq!(k["changed_outside_kiln"], true);
    assert_eq!(k["mixed"], false);
    assert_eq!(
        notes(&k),
        [
            format!("launches revoked image {bad}: CVE-2026-0001"),
            "1 instance still on version 1; the group launches 2".to_string(),
            "changed outside kiln: the ledger has launch template version 1 (deployed by ci-bot), the group launches 2".to_string(),
            format!("launches {bad}, not the channel production (app v1)"),
        ]
    );

    // staging: the deployed group as the ledger says, and the missing one.
    let s = group(staging_env, &stg);
    assert_eq!(notes(&s), Vec::<String>::new(), "{s:#}");
    assert_eq!(s["changed_outside_kiln"], false);
    let gone = group(staging_env, &format!("{app}-gone"));
    assert_eq!(gone["missing"], true);
    assert_eq!(
        notes(&gone),
        [format!(
            "group missing: no Auto Scaling group {app}-gone in {REGION}"
        )]
    );

    // The text says the same, per environment.
    let text = run(&["status"]).stdout;
    assert!(
        text.contains(&format!(
            "environment production: channel production = app v1 ({old}) in {REGION}"
        )),
        "{text}"
    );
    let web_line = text
        .lines()
        .find(|l| l.starts_with(&format!("{web} ")))
        .unwrap_or_else(|| panic!("{text}"));
    for part in [
        format!("{} v2", web_fleet.template),
        new.clone(),
        "2 on v1, 1 on v2".to_string(),
        "mixed fleet".to_string(),
    ] {
        assert!(web_line.contains(&part), "{part} in {web_line}");
    }
}

#[test]
fn status_shows_the_single_group_of_deploy_asg_as_the_production_environment() {
    let app = unique_app("status-legacy");
    let e = emulator();
    let old = e.create_image(&format!("{app}-old"), &[]);
    let fleet = e.fleet(&app, &old, 2);
    let dir = crate::harness::scratch_dir("status-legacy");
    let config = write(&dir, "kiln.toml", &format!("[deploy]\nasg = \"{app}\"\n"));
    let status = kiln()
        .args(["--config", config.to_str().unwrap(), "--app", &app])
        .args(["status", "--output", "json"])
        .run()
        .ok()
        .json();
    let environments = status["environments"].as_array().unwrap();
    assert_eq!(environments.len(), 1, "{status:#}");
    let production = &environments[0];
    assert_eq!(production["environment"], "production");
    assert_eq!(production["channel"], "production");
    assert_eq!(production["labelled"][0]["version"], Value::Null);
    let group = &production["groups"][0];
    assert_eq!(group["group"], app.as_str());
    assert_eq!(group["template"], fleet.template.as_str());
    assert_eq!(group["launches"], 1);
    assert_eq!(group["ami_id"], old.as_str());
    assert_eq!(
        group["instances"][0]["instances"].as_array().unwrap().len(),
        2
    );
    // A fleet kiln never deployed to (made by hand or by Terraform).
    assert_eq!(group["changed_outside_kiln"], true);
    assert_eq!(
        notes(group),
        ["changed outside kiln: no deploy in the ledger touched it"]
    );

    // Without kiln.toml there is no environment to show.
    let bare = kiln()
        .args(["--app", &app, "status", "--output", "json"])
        .run()
        .ok()
        .json();
    assert_eq!(bare["environments"], json!([]));
}
