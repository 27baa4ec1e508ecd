//! The configuration's tests: precedence, file keys and the exact messages of bad values.

use super::*;

fn flags() -> GlobalArgs {
    GlobalArgs {
        config: None,
        app: None,
        region: None,
        profile: None,
        endpoint_url: None,
        dry_run: false,
        output: None,
        verbose: 0,
    }
}

fn env(pairs: &[(&str, &str)]) -> Env {
    Env::from_pairs(pairs)
}

fn file(text: &str) -> Result<FileValues> {
    parse_file(Path::new("kiln.toml"), text)
}

#[test]
fn flags_win_over_environment() {
    let mut f = flags();
    f.app = Some("from-flag".into());
    let config = load(&f, &env(&[("KILN_APP", "from-env")])).unwrap();
    assert_eq!(config.app.unwrap().as_str(), "from-flag");
    let config = load(&flags(), &env(&[("KILN_APP", "from-env")])).unwrap();
    assert_eq!(config.app.unwrap().as_str(), "from-env");
}

#[test]
fn empty_variables_count_as_unset() {
    let config = load(&flags(), &env(&[("KILN_APP", ""), ("KILN_OUTPUT", "")])).unwrap();
    assert!(config.app.is_none());
    assert_eq!(config.output, OutputFormat::Text);
}

#[test]
fn defaults_apply_without_file_or_environment() {
    let config = load(&flags(), &env(&[])).unwrap();
    assert_eq!(config.prefix.as_str(), "/kiln");
    assert_eq!(config.channels, Channels::default());
    assert!(!config.dry_run);
    assert!(matches!(config.app(), Err(Error::NoApp)));
}

#[test]
fn a_bad_environment_value_names_the_variable() {
    let err = load(&flags(), &env(&[("KILN_REGIONS", "us-east-1, mars")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value `mars` in environment variable KILN_REGIONS: expected an AWS region name such as eu-west-1"
    );
    let err = load(&flags(), &env(&[("KILN_DRY_RUN", "maybe")])).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid value `maybe` in environment variable KILN_DRY_RUN")
    );
}

#[test]
fn the_file_sets_every_key() {
    let values = file(
        r#"
        app = "shop"
        region = "eu-west-1"
        regions = ["us-east-1", "ap-southeast-2"]
        parameter_prefix = "/teams/web/"
        profile = "ci"
        [channels]
        tested = "qa"
        production = "live"
        "#,
    )
    .unwrap();
    assert_eq!(values.app.unwrap().as_str(), "shop");
    assert_eq!(values.regions.unwrap().len(), 2);
    assert_eq!(values.parameter_prefix.unwrap().as_str(), "/teams/web");
    assert_eq!(values.production.unwrap().as_str(), "live");
}

#[test]
fn bake_paths_are_relative_to_the_file() {
    let values = parse_file(
        Path::new("infra/kiln.toml"),
        "[bake]\nbase_template = \"images/base.pkr.hcl\"\nansible = \"playbooks\"\n",
    )
    .unwrap();
    assert_eq!(
        values.bake.base_template,
        PathBuf::from("infra/images/base.pkr.hcl")
    );
    assert_eq!(
        values.bake.app_template,
        PathBuf::from("packer/app.pkr.hcl")
    );
    assert_eq!(values.bake.ansible, PathBuf::from("infra/playbooks"));
    let err = file("[bake]\ntemplate = \"x\"").unwrap_err();
    assert_eq!(err.to_string(), "kiln.toml: unknown key `bake.template`");
}

#[test]
fn bake_age_lineage_and_app_base_keys() {
    let values = parse_file(
        Path::new("kiln.toml"),
        "[bake]\nmax_age = \"7d\"\nstrict_lineage = true\napp_base = \"none\"\n",
    )
    .unwrap();
    assert_eq!(values.bake.max_age, Some(Span::secs(7 * 86_400)));
    assert!(values.bake.strict_lineage);
    assert_eq!(values.bake.app_base.as_deref(), Some("none"));
    let err = file("[bake]\nmax_age = \"a week\"").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid value `a week` in kiln.toml: key `bake.max_age`"),
        "{err}"
    );
    let err = file("[bake]\nstrict_lineage = \"yes\"").unwrap_err();
    assert!(err.to_string().contains("bake.strict_lineage"), "{err}");
}

#[test]
fn unknown_keys_name_the_file_the_key_and_the_allowed_ones() {
    let err = file("aap = \"shop\"").unwrap_err();
    assert_eq!(err.to_string(), "kiln.toml: unknown key `aap`");
    assert_eq!(
        err.help().unwrap(),
        "the keys allowed here are: app, region, regions, parameter_prefix, profile, channels, bake, verify, deploy, environments"
    );
    let err = file("[channels]\nstaging = \"s\"").unwrap_err();
    assert_eq!(err.to_string(), "kiln.toml: unknown key `channels.staging`");
}

#[test]
fn wrong_types_and_bad_values_are_named() {
    let err = file("regions = 5").unwrap_err();
    assert_eq!(
        err.to_string(),
        "kiln.toml: key `regions` must be a list of region names, e.g. [\"us-east-1\"], not the integer 5"
    );
    let err = file("region = \"mars\"").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value `mars` in kiln.toml: key `region`: expected an AWS region name such as eu-west-1"
    );
    let err = file("app = \"shop\"\napp = \"x\"").unwrap_err();
    assert!(
        err.to_string().starts_with("kiln.toml: not valid TOML"),
        "{err}"
    );
}

#[test]
fn the_two_channels_must_differ() {
    let err = load(&flags(), &env(&[("KILN_CHANNEL_PRODUCTION", "tested")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the tested and production channels are both named `tested`"
    );
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn endpoints_must_be_urls() {
    let mut f = flags();
    f.endpoint_url = Some("127.0.0.1:5000".into());
    let err = load(&f, &env(&[])).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid value `127.0.0.1:5000` in --endpoint-url")
    );
}
