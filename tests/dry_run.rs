//! Dry-run: every changing command prints its plan and leaves AWS untouched, with
//! or without credentials.

use crate::harness::{
    REGION, app_with_three_versions, emulator, kiln, kiln_ok, kiln_without_aws, unique_app,
};

#[test]
fn publish_dry_run_prints_the_plan_and_changes_nothing() {
    let (app, _) = app_with_three_versions("dry-publish");
    let ami = emulator().create_image("dry-publish", &[]);
    let before = emulator().snapshot(&app, &[&ami]);
    let run = kiln_ok([
        "--app",
        &app,
        "--dry-run",
        "publish",
        "app",
        &ami,
        "--git-sha",
        "abc123",
    ]);
    assert_eq!(emulator().snapshot(&app, &[&ami]), before);
    assert_eq!(
        run.stdout,
        format!(
            "dry run: nothing was changed; the plan:\n  would run   ec2:CreateTags {ami} in {REGION}: kiln:app={app} kiln:git-sha=abc123 kiln:role=app\n  would run   ssm:PutParameter /kiln/{app}/app in {REGION}: value={ami} type=String data-type=aws:ec2:image overwrite=true description=\"kiln git=abc123\"\n"
        )
    );
}

#[test]
fn promote_dry_run_changes_nothing() {
    let (app, amis) = app_with_three_versions("dry-promote");
    let before = emulator().snapshot(&app, &[&amis[1]]);
    let run = kiln()
        .env("KILN_DRY_RUN", "1")
        .args(["--app", &app, "promote", "app:2", "--to", "production"])
        .run()
        .ok();
    assert_eq!(emulator().snapshot(&app, &[&amis[1]]), before);
    assert_eq!(
        run.stdout,
        format!(
            "dry run: nothing was changed; the plan:\n  would run   ssm:LabelParameterVersion /kiln/{app}/app in {REGION}: version=2 labels=production\n"
        )
    );
}

#[test]
fn dry_run_json_is_the_plan_as_data() {
    let (app, amis) = app_with_three_versions("dry-json");
    let before = emulator().snapshot(&app, &[]);
    let json = kiln_ok([
        "--app",
        &app,
        "--dry-run",
        "--output",
        "json",
        "promote",
        "app:3",
        "--to",
        "tested",
    ])
    .json();
    assert_eq!(emulator().snapshot(&app, &[]), before);
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["version"], 3);
    assert_eq!(json["ami_id"], amis[2].as_str());
    assert_eq!(
        json["plan"],
        serde_json::json!([{
            "kind": "write",
            "action": "ssm:LabelParameterVersion",
            "region": REGION,
            "name": format!("/kiln/{app}/app"),
            "version": 3,
            "labels": ["tested"],
        }])
    );
}

#[test]
fn dry_run_without_any_credentials_still_prints_the_plan() {
    let app = unique_app("no-creds");
    let ami = "ami-0123456789abcdef0";
    // No credentials and no region; the endpoint points nowhere, so a stray call fails.
    let run = kiln_without_aws()
        .without_env("AWS_ACCESS_KEY_ID")
        .without_env("AWS_SECRET_ACCESS_KEY")
        .without_env("AWS_REGION")
        .args(["--app", &app, "--dry-run", "publish", "app", ami])
        .run()
        .ok();
    let region = "(no region configured)";
    assert_eq!(
        run.stdout,
        format!(
            "dry run: nothing was changed; the plan:\n  would read  ec2:DescribeImages {ami} in {region} (no AWS region configured)\n  would read  ssm:GetParameter app of /kiln/{app}/app (no AWS region configured)\n  would run   ec2:CreateTags {ami} in {region}: kiln:app={app} kiln:role=app\n  would run   ssm:PutParameter /kiln/{app}/app in {region}: value={ami} type=String data-type=aws:ec2:image overwrite=true description=\"kiln\"\n"
        )
    );

    let run = kiln_without_aws()
        .without_env("AWS_ACCESS_KEY_ID")
        .without_env("AWS_SECRET_ACCESS_KEY")
        .args([
            "--app",
            &app,
            "--dry-run",
            "--output",
            "json",
            "promote",
            "app:tested",
            "--to",
            "production",
        ])
        .run()
        .ok();
    let json = run.json();
    let plan = json["plan"].as_array().unwrap();
    assert_eq!(plan[0]["kind"], "read");
    assert_eq!(plan[0]["reason"], "no AWS credentials");
    assert_eq!(
        plan[0]["what"],
        format!("ssm:GetParameter app:tested of /kiln/{app}/app")
    );
    assert_eq!(plan[2]["action"], "ssm:LabelParameterVersion");
    assert_eq!(plan[2]["version"], serde_json::Value::Null);
    assert_eq!(plan[2]["labels"], serde_json::json!(["production"]));
}

#[test]
fn read_only_commands_in_a_dry_run_without_credentials_list_their_reads() {
    let run = kiln_without_aws()
        .without_env("AWS_ACCESS_KEY_ID")
        .without_env("AWS_SECRET_ACCESS_KEY")
        .args(["--app", "shop", "--dry-run", "resolve", "app:production"])
        .run()
        .ok();
    assert_eq!(
        run.stdout,
        format!(
            "dry run: nothing was changed; the plan:\n  would read  ssm:GetParameter app:production of /kiln/shop/app (no AWS credentials)\n"
        )
    );
}

#[test]
fn deploy_and_rollback_dry_runs_on_a_laptop_without_credentials_plan_their_reads() {
    let offline = || {
        kiln_without_aws()
            .without_env("AWS_ACCESS_KEY_ID")
            .without_env("AWS_SECRET_ACCESS_KEY")
    };
    let rollback = offline()
        .args(["--app", "shop", "--dry-run", "rollback", "--asg", "web"])
        .run()
        .ok();
    assert_eq!(
        rollback.stdout,
        "dry run: nothing was changed; the plan:\n  would read  ssm:GetParameterHistory /kiln/shop/ledger/production (no AWS credentials)\n"
    );
    let args = ["--app", "shop", "--dry-run", "deploy", "--asg", "web"];
    let deploy = offline().args(args).run().ok();
    // Nothing can be read, so nothing is made up: the writes every rolling deploy
    // makes, with what is not known described.
    assert_eq!(
        deploy.stdout,
        "dry run: nothing was changed; the plan:
  would read  ssm:GetParameter app:tested of /kiln/shop/app (no AWS credentials)
  would read  autoscaling:DescribeAutoScalingGroups web (no AWS credentials)
  would run   ssm:PutParameter /kiln/shop/ledger/production in us-east-1 tier=Intelligent-Tiering: the deploy record (in progress: what each group runs before)
  would run   ssm:PutParameter /kiln/shop/deploy-lock/web in us-east-1 (no overwrite): this run, deploying app:tested
  would run   ec2:CreateLaunchTemplateVersion (the group's launch template) in us-east-1: the current version's settings with image=(the AMI the reference resolves to)
  would run   autoscaling:UpdateAutoScalingGroup web in us-east-1: launch-template=(the group's) version=(the new version)
  would run   autoscaling:CreateOrUpdateTags web in us-east-1: kiln:rollout-version=(the new version) kiln:rollback-version=(the current version)
  would run   autoscaling:TerminateInstanceInAutoScalingGroup (each instance not on the new version, batch by batch) in us-east-1 (the group launches a replacement)
  would run   ssm:LabelParameterVersion /kiln/shop/app in us-east-1: version=(the version the reference names) labels=production
  would run   autoscaling:DeleteTags web in us-east-1: kiln:deploy-lock
  would run   ssm:DeleteParameter /kiln/shop/deploy-lock/web in us-east-1
  would run   ssm:PutParameter /kiln/shop/ledger/production in us-east-1 tier=Intelligent-Tiering: the deploy record (how it ended, what each group runs after)
"
    );
    let deploy = offline()
        .args([
            "--app",
            "shop",
            "--dry-run",
            "--output",
            "json",
            "deploy",
            "--asg",
            "web",
        ])
        .run()
        .ok()
        .json();
    assert_eq!(deploy["command"], "deploy");
    assert_eq!(deploy["dry_run"], true);
    assert_eq!(deploy["launch_template_version"], serde_json::Value::Null);
    assert_eq!(
        deploy["plan"][1]["what"],
        "autoscaling:DescribeAutoScalingGroups web"
    );
    // The same action names as the text: the new version is null, not 0.
    let actions: Vec<&str> = deploy["plan"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "ssm:PutParameter",
            "ssm:PutParameter",
            "ec2:CreateLaunchTemplateVersion",
            "autoscaling:UpdateAutoScalingGroup",
            "autoscaling:CreateOrUpdateTags",
            "autoscaling:TerminateInstanceInAutoScalingGroup",
            "ssm:LabelParameterVersion",
            "autoscaling:DeleteTags",
            "ssm:DeleteParameter",
            "ssm:PutParameter",
        ]
    );
    assert_eq!(
        deploy["plan"][4]["template"]["version"],
        serde_json::Value::Null
    );
}
