//! AWS profiles as kiln is asked to use them (AWS_PROFILE, --profile, kiln.toml),
//! checked in a scratch HOME's AWS files before any AWS call: a profile that is in
//! neither file, and SSO profiles that were never logged in, are said as such.

use crate::harness::{kiln, kiln_without_aws, unique_app, write};

const NOT_FOUND_HELP: &str = "  help: check the name (`aws configure list-profiles` lists the profiles), or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at the files that define it\n";

/// A config file in the shape `aws configure sso` writes: an sso-session, a
/// profile using it, a legacy profile with its own start URL, and a plain one.
const CONFIG: &str = "[default]
region = us-east-1
output = json

[sso-session acme]
sso_start_url = https://acme.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile platform-dev]
sso_session = acme
sso_account_id = 111122223333
sso_role_name = PlatformEngineer
region = eu-west-1

[profile legacy-admin]
sso_start_url = https://my-sso-portal.awsapps.com/start
sso_region = us-east-1
sso_account_id = 444455556666
sso_role_name = AdministratorAccess
region = us-east-1

[profile ci]
region = us-east-1
";

#[test]
fn a_profile_in_neither_file_is_named_with_both_files() {
    let run = kiln_without_aws().env("AWS_PROFILE", "nope");
    let home = run.dir().to_path_buf();
    run.args(["--app", "shop", "status"]).run().fails(
        2,
        &format!(
            "error: AWS profile `nope` (from environment variable AWS_PROFILE) is in neither {0}/.aws/config nor {0}/.aws/credentials\n{NOT_FOUND_HELP}",
            home.display()
        ),
    );
}

#[test]
fn the_profile_flag_and_kiln_toml_are_named_as_its_source() {
    let run = kiln_without_aws();
    let config = write(run.dir(), "aws/config", CONFIG);
    let credentials = write(
        run.dir(),
        "aws/credentials",
        "[deploy]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n",
    );
    run.env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .args(["--app", "shop", "--profile", "platfrom-dev", "status"])
        .run()
        .fails(
            2,
            &format!(
                "error: AWS profile `platfrom-dev` (from --profile) is in neither {} nor {}\n{NOT_FOUND_HELP}",
                config.display(),
                credentials.display()
            ),
        );
    let run = kiln_without_aws();
    write(
        run.dir(),
        "kiln.toml",
        "app = \"shop\"\nprofile = \"staging\"\n",
    );
    let home = run.dir().to_path_buf();
    run.args(["status"]).run().fails(
        2,
        &format!(
            "error: AWS profile `staging` (from kiln.toml: key `profile`) is in neither {0}/.aws/config nor {0}/.aws/credentials\n{NOT_FOUND_HELP}",
            home.display()
        ),
    );
}

#[test]
fn sso_profiles_without_a_login_name_the_profile_the_cache_and_the_login() {
    // The cache file names are the SHA-1 of the session name and of the start URL.
    for (profile, cache) in [
        ("platform-dev", "293abb6b76d7791c0732cc517d38c4b5c734b87f"),
        ("legacy-admin", "c7aaaf71fcc8777ae2475525ed049d39fe16c484"),
    ] {
        let run = kiln_without_aws().env("AWS_PROFILE", profile);
        write(run.dir(), ".aws/config", CONFIG);
        let home = run.dir().to_path_buf();
        run.args(["--app", "shop", "resolve", "app"]).run().fails(
            5,
            &format!(
                "error: AWS profile `{profile}` uses SSO, but there is no SSO login for it ({}/.aws/sso/cache/{cache}.json does not exist)\n  help: run `aws sso login --profile {profile}`\n",
                home.display()
            ),
        );
    }
}

#[test]
fn a_dry_run_needs_no_sso_login_but_a_profile_that_exists() {
    let run = kiln_without_aws()
        .without_env("AWS_ACCESS_KEY_ID")
        .without_env("AWS_SECRET_ACCESS_KEY")
        .env("AWS_PROFILE", "platform-dev");
    write(run.dir(), ".aws/config", CONFIG);
    let done = run
        .args([
            "--app",
            "shop",
            "--dry-run",
            "promote",
            "app:1",
            "--to",
            "tested",
        ])
        .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    let run = kiln_without_aws().env("AWS_PROFILE", "nope");
    assert_eq!(
        run.args(["--app", "shop", "--dry-run", "status"])
            .run()
            .code,
        2
    );
}

#[test]
fn an_expired_sso_login_names_the_profile_and_its_login() {
    let run = kiln_without_aws()
        .without_env("AWS_ACCESS_KEY_ID")
        .without_env("AWS_SECRET_ACCESS_KEY")
        .env("AWS_PROFILE", "platform-dev");
    write(run.dir(), ".aws/config", CONFIG);
    write(
        run.dir(),
        ".aws/sso/cache/293abb6b76d7791c0732cc517d38c4b5c734b87f.json",
        "{\"startUrl\": \"https://acme.awsapps.com/start\", \"region\": \"us-east-1\", \"accessToken\": \"expired\", \"expiresAt\": \"2020-01-01T00:00:00Z\"}\n",
    );
    let done = run.args(["--app", "shop", "resolve", "app"]).run();
    assert_eq!(done.code, 5, "{}", done.stderr);
    assert!(
        done.stderr
            .starts_with("error: no usable AWS credentials from profile `platform-dev`: "),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.ends_with("  help: run `aws sso login --profile platform-dev` if it uses SSO, else check its keys, role or credential_process in the AWS files; `--dry-run` works without credentials\n"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_profile_that_exists_is_used() {
    // Its region, the harness's keys from the environment (they come first).
    let app = unique_app("profile-ok");
    let run = kiln().env("AWS_PROFILE", "ci");
    write(run.dir(), ".aws/config", CONFIG);
    run.args(["--app", &app, "status"]).run().ok();
}
