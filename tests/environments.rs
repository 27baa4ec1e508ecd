//! Environments, the deploy ledger and rollback from it, against the emulator: a
//! team with staging (one group) and production (web and worker, after staging),
//! as kiln.toml describes it, each group two instances behind its own target group.

use std::path::PathBuf;

use crate::harness::groups::Fleet;
use crate::harness::{emulator, kiln, kiln_ok, scratch_dir, unique_app, write};

struct Team {
    app: String,
    config: PathBuf,
    stg: Fleet,
    web: Fleet,
    worker: Fleet,
}

/// Groups on the image `image(app)` makes, and a kiln.toml with staging and
/// production (after staging).
fn team(purpose: &str, image: impl FnOnce(&str) -> String) -> Team {
    let app = unique_app(purpose);
    let ami = image(&app);
    let fleet = |suffix: &str| emulator().fleet(&format!("{app}-{suffix}"), &ami, 2);
    let (stg, web, worker) = (fleet("stg"), fleet("web"), fleet("worker"));
    let config = write(
        &scratch_dir("environments"),
        "kiln.toml",
        &format!(
            r#"app = "{app}"

[deploy]
batch_size = "1"
min_healthy = "50%"
timeout = "2m"

[environments.staging]
groups = ["{}"]

[environments.production]
groups = ["{}", "{}"]
after = "staging"
"#,
            stg.group, web.group, worker.group
        ),
    );
    Team {
        app,
        config,
        stg,
        web,
        worker,
    }
}

impl Team {
    fn kiln<'a>(&self, args: impl IntoIterator<Item = &'a str>) -> crate::harness::Run {
        kiln().arg("--config").arg(&self.config).args(args).run()
    }

    /// `history --deploys --env ENV` as JSON: the records, newest first.
    fn ledger(&self, env: &str) -> Vec<serde_json::Value> {
        let json = self
            .kiln(["--output", "json", "history", "--deploys", "--env", env])
            .ok()
            .json();
        json["environments"][0]["records"]
            .as_array()
            .unwrap()
            .clone()
    }

    fn label(&self, channel: &str) -> Option<i64> {
        emulator()
            .history(&format!("/kiln/{}/app", self.app))
            .into_iter()
            .find(|(_, _, labels)| labels.iter().any(|l| l == channel))
            .map(|(version, _, _)| version)
    }
}

/// What a group launches and runs: (launch template version, images of its instances).
fn runs(fleet: &Fleet) -> (String, Vec<String>) {
    let group = emulator().group(&fleet.group).unwrap();
    (group.version, emulator().images_in_group(&fleet.group))
}

fn target_group_name(fleet: &Fleet) -> String {
    fleet.target_group.split('/').nth(1).unwrap().to_string()
}

#[test]
fn staging_then_production_with_the_after_gate_the_ledger_and_a_failing_group() {
    let t = team("env-stg-prd", |app| {
        emulator().create_image(&format!("{app}-v1"), &[])
    });
    let v1 = emulator().images_in_group(&t.web.group)[0].clone();
    let v2 = emulator().create_image(&format!("{}-v2", t.app), &[]);
    for ami in [&v1, &v2] {
        kiln_ok(["--app", &t.app, "publish", "app", ami]);
    }
    for (version, channel) in [
        ("app:1", "staging"),
        ("app:1", "production"),
        ("app:2", "tested"),
    ] {
        t.kiln(["promote", version, "--to", channel]).ok();
    }

    // Production takes only what ran in staging.
    let refused = t.kiln(["deploy", "app:2", "--env", "production"]);
    refused.fails(
        1,
        &format!(
            "error: {v2} (app:2) never ran in staging, which production deploys after\n  \
             help: deploy it to staging first (`kiln deploy app:VERSION --env staging`), deploy what staging runs (`kiln deploy app:staging --env production`), or pass --force to deploy it anyway\n"
        ),
    );
    assert_eq!(runs(&t.web), ("1".into(), vec![v1.clone(); 2]));

    let staged = t.kiln(["deploy", "--env", "staging"]).ok();
    assert_eq!(
        staged.stdout,
        format!(
            "deploy: {} runs {v2} (app:2) (launch template {} version 2); staging -> app:2\n",
            t.stg.group, t.stg.template
        )
    );
    assert_eq!(t.label("staging"), Some(2));
    // A second apart, so that a time falls between the two deploys.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // The environment's channel is a channel like the others.
    let resolved = t.kiln(["resolve", "app:staging"]).ok();
    assert_eq!(resolved.stdout.trim(), v2);

    // Production's default is what staging runs; both groups move, then the channel.
    let deployed = t.kiln(["deploy", "--env", "production"]).ok();
    assert_eq!(
        deployed.stdout,
        format!(
            "deploy: {} runs {v2} (app:2) (launch template {} version 2)\n\
             deploy: {} runs {v2} (app:2) (launch template {} version 2)\n\
             deploy: production -> app:2\n",
            t.web.group, t.web.template, t.worker.group, t.worker.template
        )
    );
    assert_eq!(runs(&t.web), ("2".into(), vec![v2.clone(); 2]));
    assert_eq!(runs(&t.worker), ("2".into(), vec![v2.clone(); 2]));
    assert_eq!(t.label("production"), Some(2));

    // The ledger: one record per deploy, what each group ran before and after.
    let records = t.ledger("production");
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record["outcome"], "deployed");
    assert_eq!(record["reference"], "app:staging");
    assert_eq!(record["ami_id"], v2);
    assert_eq!(record["groups"][0]["group"], t.web.group);
    assert_eq!(record["groups"][0]["before"]["version"], 1);
    assert_eq!(record["groups"][0]["before"]["ami_id"], v1);
    assert_eq!(record["groups"][1]["after"]["version"], 2);
    assert_eq!(record["channels"][0]["before"], 1);
    assert_eq!(record["channels"][0]["after"], 2);
    // Status agrees with the ledger: both groups run what the deploy left, no drift.
    let status = t.kiln(["--output", "json", "status"]).ok().json();
    let production = status["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["environment"] == "production")
        .unwrap()
        .clone();
    for group in production["groups"].as_array().unwrap() {
        assert_eq!(group["launches"], 2, "{group}");
        assert_eq!(group["ami_id"], v2, "{group}");
        assert_eq!(group["mixed"], false, "{group}");
        assert_eq!(group["changed_outside_kiln"], false, "{group}");
    }
    assert_eq!(production["labelled"][0]["ami_id"], v2);
    // Readable without kiln: every version of the parameter is one record.
    let raw = emulator().history(&format!("/kiln/{}/ledger/production", t.app));
    assert_eq!(raw.len(), 2, "a start and an end record");

    // What ran where: when staging's deploy ended (before production's), and now.
    let before = t.ledger("staging")[0]["ended"]
        .as_str()
        .unwrap()
        .to_string();
    let then = t
        .kiln(["--output", "json", "history", "--deploys", "--at", &before])
        .ok()
        .json();
    let groups = then["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "only staging had a deploy by then: {then}");
    assert_eq!(groups[0]["ran"]["group"], t.stg.group);
    assert_eq!(groups[0]["ran"]["launch"]["ami_id"], v2);
    let now = t
        .kiln(["history", "--deploys", "--at", "2100-01-01 00:00"])
        .ok();
    assert!(
        now.stdout.contains(&t.worker.group) && now.stdout.contains(&v2),
        "{}",
        now.stdout
    );

    // app:3 fails in the worker group only: web converged first and goes back too.
    let v3 = emulator().create_image(
        &format!("{}-v3", t.app),
        &[("emulator:unhealthy-in", &target_group_name(&t.worker))],
    );
    kiln_ok(["--app", &t.app, "publish", "app", &v3]);
    kiln_ok(["--app", &t.app, "promote", "app:3", "--to", "tested"]);
    t.kiln(["deploy", "--env", "staging"]).ok();
    let failed = t.kiln(["deploy", "--env", "production", "--timeout", "40s"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed.stderr.contains(&format!(
            "; {} went back to launch template version 2",
            t.web.group
        )),
        "{}",
        failed.stderr
    );
    assert_eq!(runs(&t.web).1, vec![v2.clone(); 2]);
    assert_eq!(runs(&t.worker).1, vec![v2.clone(); 2]);
    assert_eq!(t.label("production"), Some(2), "production did not move");
    assert_eq!(t.ledger("production")[0]["outcome"], "failed-rolled-back");
}

#[test]
fn rollback_after_the_first_deploy_onto_a_fleet_kiln_never_deployed() {
    // The groups run an image nobody published (made by hand, or by Terraform).
    let t = team("env-first", |app| {
        emulator().create_image(&format!("{app}-by-hand"), &[])
    });
    let by_hand = emulator().images_in_group(&t.web.group)[0].clone();
    let v1 = emulator().create_image(&format!("{}-v1", t.app), &[]);
    kiln_ok(["--app", &t.app, "publish", "app", &v1]);
    kiln_ok(["--app", &t.app, "promote", "app:1", "--to", "tested"]);
    t.kiln(["deploy", "--env", "production", "app:1", "--force"])
        .ok();
    assert_eq!(runs(&t.web), ("2".into(), vec![v1.clone(); 2]));
    assert_eq!(t.label("production"), Some(1));

    let back = t.kiln(["rollback", "--env", "production"]).ok();
    assert!(
        back.stderr.contains(&format!(
            "kiln: {} returns to launch template {} version 1: {by_hand} (not in the registry)\n",
            t.worker.group, t.worker.template
        )),
        "{}",
        back.stderr
    );
    assert_eq!(runs(&t.web), ("1".into(), vec![by_hand.clone(); 2]));
    assert_eq!(runs(&t.worker), ("1".into(), vec![by_hand.clone(); 2]));
    assert_eq!(
        t.label("production"),
        None,
        "production labels no image: the fleet runs one the registry does not hold"
    );
    let records = t.ledger("production");
    assert_eq!(records[0]["command"], "rollback");
    assert_eq!(records[0]["outcome"], "rolled-back");
    assert_eq!(records[0]["undoes"], records[1]["id"]);
    assert_eq!(
        records[0]["reference"],
        format!("{by_hand} (not in the registry)")
    );
}

#[test]
fn rollback_of_one_group_after_an_ad_hoc_deploy_returns_that_group_only() {
    let t = team("env-adhoc", |app| {
        emulator().create_image(&format!("{app}-v1"), &[])
    });
    let v1 = emulator().images_in_group(&t.web.group)[0].clone();
    let v2 = emulator().create_image(&format!("{}-v2", t.app), &[]);
    for ami in [&v1, &v2] {
        kiln_ok(["--app", &t.app, "publish", "app", ami]);
    }
    t.kiln(["promote", "app:1", "--to", "staging"]).ok();
    kiln_ok(["--app", &t.app, "promote", "app:2", "--to", "tested"]);
    t.kiln(["deploy", "app:1", "--env", "production"]).ok();
    // An ad-hoc deploy of app:2 to web alone: production (two groups) does not move.
    let adhoc = t
        .kiln(["deploy", "app:2", "--asg", &t.web.group, "--force"])
        .ok();
    assert!(!adhoc.stdout.contains("production ->"), "{}", adhoc.stdout);
    assert_eq!(t.label("production"), Some(1));
    assert_eq!(runs(&t.web), ("3".into(), vec![v2.clone(); 2]));

    let back = t.kiln(["rollback", "--asg", &t.web.group]).ok();
    assert_eq!(
        back.stdout,
        format!(
            "rollback: {} runs {v1} (app:1) (launch template {} version 2)\n",
            t.web.group, t.web.template
        )
    );
    assert_eq!(runs(&t.web), ("2".into(), vec![v1.clone(); 2]));
    // The worker was not touched by the ad-hoc deploy nor by its rollback.
    assert_eq!(runs(&t.worker), ("2".into(), vec![v1.clone(); 2]));
    assert_eq!(t.label("production"), Some(1));
}

#[test]
fn environment_mistakes_are_named_before_anything_is_read() {
    let dir = scratch_dir("environments-bad");
    let config = |text: &str| write(&dir, "kiln.toml", text);
    let run = |path: &PathBuf, args: &[&str]| {
        crate::harness::kiln_without_aws()
            .arg("--config")
            .arg(path)
            .args(args)
            .run()
    };
    let good = config(
        "app = \"shop\"\n[environments.staging]\ngroups = [\"shop-stg\"]\n[environments.production]\ngroups = [\"shop-web\"]\nafter = \"staging\"\n",
    );
    run(&good, &["deploy", "--env", "prod"]).fails(
        2,
        "error: unknown environment `prod` in --env\n  help: the environments in kiln.toml are: production, staging\n",
    );
    run(&good, &["deploy", "--env", "production", "--asg", "shop-stg"]).fails(
        2,
        "error: Auto Scaling group shop-stg is not in environment production\n  help: its groups are: shop-web (leave out --asg to deploy all of them)\n",
    );
    let looped = config(
        "app = \"shop\"\n[environments.a]\ngroups = [\"x\"]\nafter = \"b\"\n[environments.b]\ngroups = [\"y\"]\nafter = \"a\"\n",
    );
    let failed = run(&looped, &["status"]);
    assert_eq!(failed.code, 2);
    assert!(
        failed
            .stderr
            .contains("the `after` keys go round in a loop: a -> b -> a"),
        "{}",
        failed.stderr
    );
    let empty = config("app = \"shop\"\n[environments.staging]\nstrategy = \"rolling\"\n");
    let failed = run(&empty, &["status"]);
    assert!(
        failed
            .stderr
            .contains("environment `staging` has no groups"),
        "{}",
        failed.stderr
    );
}

#[test]
fn blue_green_to_two_groups_named_with_asg_then_rollback_from_the_ledger() {
    let app = unique_app("env-bg");
    let v1 = emulator().create_image(&format!("{app}-v1"), &[]);
    let v2 = emulator().create_image(&format!("{app}-v2"), &[]);
    for ami in [&v1, &v2] {
        kiln_ok(["--app", &app, "publish", "app", ami]);
    }
    kiln_ok(["--app", &app, "promote", "app:1", "--to", "production"]);
    kiln_ok(["--app", &app, "promote", "app:2", "--to", "tested"]);
    let a = emulator().fleet(&format!("{app}-a"), &v1, 2);
    let b = emulator().fleet(&format!("{app}-b"), &v1, 2);
    // Without kiln.toml: the groups named one by one, as the production environment.
    let rollout = |command: &str| {
        let mut args = vec!["--app", &app, command, "--asg", &a.group, "--asg", &b.group];
        args.extend(["--strategy", "blue-green", "--timeout", "2m"]);
        kiln_ok(args)
    };
    let done = rollout("deploy");
    assert_eq!(
        done.stdout,
        format!(
            "deploy: {} runs {v2} (app:2) (launch template {} version 2)\n\
             deploy: {} runs {v2} (app:2) (launch template {} version 2)\n\
             deploy: production -> app:2\n",
            a.group, a.template, b.group, b.template
        )
    );
    let live = |fleet: &Fleet| {
        let family = emulator().blue_green_family(&fleet.group);
        family
            .into_iter()
            .find(|name| {
                emulator()
                    .group(name)
                    .is_some_and(|g| g.tags.get("kiln:live").is_some_and(|v| v == "true"))
            })
            .unwrap()
    };
    for fleet in [&a, &b] {
        assert_eq!(
            emulator().images_in_group(&live(fleet)),
            vec![v2.clone(); 2]
        );
    }
    let back = rollout("rollback");
    assert!(
        back.stdout.ends_with("rollback: production -> app:1\n"),
        "{}",
        back.stdout
    );
    for fleet in [&a, &b] {
        let serving = live(fleet);
        assert_eq!(emulator().group(&serving).unwrap().version, "1");
        assert_eq!(emulator().images_in_group(&serving), vec![v1.clone(); 2]);
    }
}

#[test]
fn a_base_image_deployed_directly_rolls_back_and_the_production_channel_can_be_renamed() {
    let app = unique_app("env-base");
    let v1 = emulator().create_image(&format!("{app}-base-v1"), &[]);
    let v2 = emulator().create_image(&format!("{app}-base-v2"), &[]);
    for ami in [&v1, &v2] {
        kiln_ok(["--app", &app, "publish", "base", ami]);
    }
    let fleet = emulator().fleet(&app, &v1, 2);
    // A team that calls its production channel `live`.
    let run = |args: &[&str]| {
        kiln()
            .env("KILN_CHANNEL_PRODUCTION", "live")
            .args(["--app", &app])
            .args(args)
            .run()
            .ok()
    };
    let flags = [
        "--asg",
        &fleet.group,
        "--min-healthy",
        "50%",
        "--batch-size",
        "1",
    ];
    let mut deploy = vec!["deploy", "base:2", "--force"];
    deploy.extend(flags);
    run(&deploy);
    assert_eq!(run(&["resolve", "base:live"]).stdout.trim(), v2);
    let mut rollback = vec!["rollback"];
    rollback.extend(flags);
    let back = run(&rollback);
    assert_eq!(
        back.stdout,
        format!(
            "rollback: {} runs {v1} (base:1) (launch template {} version 1); live -> base:1\n",
            fleet.group, fleet.template
        )
    );
    assert_eq!(
        emulator().images_in_group(&fleet.group),
        vec![v1.clone(); 2]
    );
}
