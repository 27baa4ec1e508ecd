//! Bad input: the exact message, the documented exit code, and nothing written.

use crate::harness::{
    app_with_three_versions, emulator, free_port, kiln, kiln_without_aws, unique_app, write,
};

#[test]
fn malformed_ami_id() {
    let (app, amis) = app_with_three_versions("bad-ami");
    let before = emulator().snapshot(&app, &[]);
    kiln().args(["--app", &app, "publish", "app", "ami-xyz"]).run().fails(
        2,
        "error: invalid value `ami-xyz` in argument AMI_ID: expected an AMI id: `ami-` followed by 8 or 17 lowercase hex digits\n",
    );
    assert_eq!(emulator().snapshot(&app, &[]), before);
    assert_eq!(amis.len(), 3);
}

#[test]
fn ami_that_does_not_exist() {
    let (app, _) = app_with_three_versions("no-ami");
    let before = emulator().snapshot(&app, &[]);
    kiln().args(["--app", &app, "publish", "app", "ami-0123456789abcdef0"]).run().fails(
        4,
        "error: AMI ami-0123456789abcdef0 does not exist in us-east-1\n  help: check the id and the region (--region); AMIs are regional\n",
    );
    assert_eq!(emulator().snapshot(&app, &[]), before);
}

#[test]
fn unknown_channel() {
    let (app, amis) = app_with_three_versions("channel");
    let before = emulator().snapshot(&app, &[&amis[0]]);
    let expected = "error: unknown channel `prod`: the channels are tested, production\n  help: channel names are set in kiln.toml under [channels]\n";
    kiln()
        .args(["--app", &app, "resolve", "app:prod"])
        .run()
        .fails(2, expected);
    kiln()
        .args(["--app", &app, "promote", "app:1", "--to", "prod"])
        .run()
        .fails(2, expected);
    assert_eq!(emulator().snapshot(&app, &[&amis[0]]), before);
}

#[test]
fn unknown_version() {
    let (app, _) = app_with_three_versions("version");
    let before = emulator().snapshot(&app, &[]);
    let expected = format!(
        "error: /kiln/{app}/app has no version 9 (the latest is 3)\n  help: list the versions with `kiln history app`\n"
    );
    kiln()
        .args(["--app", &app, "resolve", "app:9"])
        .run()
        .fails(4, &expected);
    kiln()
        .args(["--app", &app, "promote", "app:9", "--to", "production"])
        .run()
        .fails(4, &expected);
    assert_eq!(emulator().snapshot(&app, &[]), before);
}

#[test]
fn missing_parameter() {
    let app = unique_app("missing");
    let expected = format!(
        "error: no parameter /kiln/{app}/base in us-east-1\n  help: run `kiln bake base` first, or `kiln publish base AMI_ID`\n"
    );
    kiln()
        .args(["--app", &app, "resolve", "base"])
        .run()
        .fails(4, &expected);
    kiln()
        .args(["--app", &app, "history", "base"])
        .run()
        .fails(4, &expected);
    kiln()
        .args(["--app", &app, "promote", "base", "--to", "tested"])
        .run()
        .fails(4, &expected);
    assert_eq!(emulator().history(&format!("/kiln/{app}/base")), vec![]);
}

#[test]
fn empty_channel() {
    let (app, _) = app_with_three_versions("empty");
    kiln().args(["--app", &app, "resolve", "app:tested"]).run().fails(
        4,
        &format!(
            "error: channel `tested` of /kiln/{app}/app is empty\n  help: promote a version first: `kiln promote app:VERSION --to tested`\n"
        ),
    );
}

#[test]
fn missing_app_name() {
    let expected = "error: no app name given\n  help: pass --app NAME, set KILN_APP, or add `app = \"NAME\"` to kiln.toml\n";
    kiln_without_aws()
        .args(["resolve", "app"])
        .run()
        .fails(2, expected);
    kiln_without_aws()
        .args(["publish", "app", "ami-12345678"])
        .run()
        .fails(2, expected);
    kiln_without_aws().args(["status"]).run().fails(2, expected);
}

#[test]
fn unknown_config_key() {
    let (app, _) = app_with_three_versions("config-key");
    let before = emulator().snapshot(&app, &[]);
    let run = kiln();
    write(
        run.dir(),
        "kiln.toml",
        &format!("app = \"{app}\"\naap = \"typo\"\n"),
    );
    run.args(["promote", "app:1", "--to", "production"]).run().fails(
        2,
        "error: kiln.toml: unknown key `aap`\n  help: the keys allowed here are: app, region, regions, parameter_prefix, profile, channels, bake, verify, deploy, environments\n",
    );
    assert_eq!(emulator().snapshot(&app, &[]), before);
}

#[test]
fn unreachable_endpoint() {
    let port = free_port();
    let started = std::time::Instant::now();
    kiln()
        .args(["--app", "shop", "--endpoint-url", &format!("http://127.0.0.1:{port}")])
        .args(["publish", "app", "ami-0123456789abcdef0"])
        .run()
        .fails(
            5,
            &format!(
                "error: cannot reach AWS at http://127.0.0.1:{port}: Connection refused (os error 111)\n  help: check --endpoint-url / AWS_ENDPOINT_URL, the region and the network\n"
            ),
        );
    // Within seconds, not a hang (generous bound: retries with backoff).
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn no_credentials_outside_a_dry_run() {
    let run = kiln_without_aws()
        .without_env("AWS_ACCESS_KEY_ID")
        .without_env("AWS_SECRET_ACCESS_KEY")
        .args(["--app", "shop", "resolve", "app"])
        .run();
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: no usable AWS credentials: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with("  help: set AWS_PROFILE (run `aws sso login` for SSO), export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure an OIDC role in CI; `--dry-run` works without credentials\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_values_from_flags_and_environment() {
    kiln_without_aws().args(["--app", "shop", "--region", "mars", "resolve", "app"]).run().fails(
        2,
        "error: invalid value `mars` in --region: expected an AWS region name such as eu-west-1\n",
    );
    kiln_without_aws().env("KILN_OUTPUT", "yaml").args(["--app", "shop", "resolve", "app"]).run().fails(
        2,
        "error: invalid value `yaml` in environment variable KILN_OUTPUT: expected `text` or `json`\n",
    );
    kiln_without_aws().args(["--app", "shop", "resolve", "web:1"]).run().fails(
        2,
        "error: invalid value `web:1` in argument REF: expected a reference ROLE, ROLE:CHANNEL or ROLE:VERSION, e.g. `app`, `app:production`, `base:7`\n",
    );
    kiln_without_aws().args(["--app", "shop/x", "resolve", "app"]).run().fails(
        2,
        "error: invalid value `shop/x` in --app: expected a name of letters, digits, '.', '_' or '-' (at most 100, starting with a letter or digit)\n",
    );
}

#[test]
fn revoked_and_foreign_images_are_refused() {
    let app = unique_app("refuse");
    let revoked = emulator().create_image("revoked", &[("kiln:revoked", "CVE-2026-0001")]);
    let foreign = emulator().create_image("foreign", &[("kiln:app", "other")]);
    let before = emulator().snapshot(&app, &[&revoked, &foreign]);
    kiln().args(["--app", &app, "publish", "app", &revoked]).run().fails(
        1,
        &format!(
            "error: AMI {revoked} is revoked: CVE-2026-0001\n  help: publish or promote another image; if the revocation was a mistake, `kiln revoke --undo {revoked}` lifts it\n"
        ),
    );
    kiln().args(["--app", &app, "publish", "app", &foreign]).run().fails(
        2,
        &format!(
            "error: AMI {foreign} is tagged kiln:app=other, not {app}\n  help: pass --app other if you meant that app's image, or fix its kiln:app tag\n"
        ),
    );
    assert_eq!(emulator().snapshot(&app, &[&revoked, &foreign]), before);
}

#[test]
fn usage_errors_exit_2() {
    let run = kiln_without_aws().args(["publish"]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("required arguments were not provided"),
        "{}",
        run.stderr
    );
}

#[test]
fn promote_and_verify_refuse_a_revoked_image() {
    let (app, amis) = app_with_three_versions("revoked-gate");
    emulator().tag_image(&amis[2], "kiln:revoked", "CVE-2026-0003");
    let before = emulator().snapshot(&app, &[]);
    let expected = format!(
        "error: AMI {} is revoked: CVE-2026-0003\n  help: publish or promote another image; if the revocation was a mistake, `kiln revoke --undo {}` lifts it\n",
        amis[2], amis[2]
    );
    kiln()
        .args(["--app", &app, "promote", "app", "--to", "production"])
        .run()
        .fails(1, &expected);
    let pass = crate::harness::root().join("tests/fixtures/goss/pass.json");
    kiln()
        .args(["--app", &app, "verify", "--results"])
        .args([pass])
        .run()
        .fails(1, &expected);
    assert_eq!(emulator().snapshot(&app, &[]), before);
}

#[test]
fn missing_input_files_are_usage_errors() {
    kiln_without_aws()
        .args(["--app", "shop", "verify", "--results", "missing.json"])
        .run()
        .fails(
            2,
            "error: missing.json: Goss results file not found\n  help: check the path given to --results\n",
        );
    let template = crate::harness::packer_template("base");
    kiln_without_aws()
        .args(["--app", "shop", "bake", "base", "--var-file", "missing.pkrvars.hcl", "--template"])
        .args([template])
        .run()
        .fails(
            2,
            "error: missing.pkrvars.hcl: variable file not found\n  help: check the path given to --var-file\n",
        );
}
