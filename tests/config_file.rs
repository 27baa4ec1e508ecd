//! kiln.toml, KILN_* variables and flags, through the real binary.

use crate::harness::{app_with_three_versions, kiln, kiln_without_aws, write};

#[test]
fn the_file_names_app_prefix_and_channels() {
    let (app, amis) = app_with_three_versions("file");
    // A second registry under another prefix, with renamed channels, all from the file.
    let run = kiln();
    write(
        run.dir(),
        "kiln.toml",
        &format!(
            "app = \"{app}\"\nparameter_prefix = \"/teams/web\"\n\n[channels]\ntested = \"qa\"\nproduction = \"live\"\n"
        ),
    );
    let published = run.args(["publish", "app", &amis[0]]).run().ok();
    assert_eq!(published.stdout, "1\n");
    let parameter = crate::harness::emulator().history(&format!("/teams/web/{app}/app"));
    assert_eq!(parameter.len(), 1);

    let run = kiln();
    write(
        run.dir(),
        "kiln.toml",
        &format!(
            "app = \"{app}\"\nparameter_prefix = \"/teams/web\"\n[channels]\nproduction = \"live\"\n"
        ),
    );
    let promote = run.args(["promote", "app:1", "--to", "live"]).run().ok();
    assert!(
        promote.stdout.starts_with("app:live -> version 1"),
        "{}",
        promote.stdout
    );
}

#[test]
fn flags_beat_environment_beat_file() {
    let (app, amis) = app_with_three_versions("precedence");
    let run = kiln().env("KILN_APP", &app);
    write(run.dir(), "kiln.toml", "app = \"from-file\"\n");
    assert_eq!(
        run.args(["resolve", "app"]).run().ok().stdout,
        format!("{}\n", amis[2])
    );

    let run = kiln().env("KILN_APP", "from-env");
    write(run.dir(), "kiln.toml", "app = \"from-file\"\n");
    assert_eq!(
        run.args(["--app", &app, "resolve", "app:1"])
            .run()
            .ok()
            .stdout,
        format!("{}\n", amis[0])
    );
}

#[test]
fn a_config_path_that_does_not_exist_is_an_error() {
    kiln_without_aws().args(["--config", "nope.toml", "--app", "shop", "resolve", "app"]).run().fails(
        2,
        "error: nope.toml: configuration file not found\n  help: check the path given to --config or KILN_CONFIG\n",
    );
}

#[test]
fn wrong_types_in_the_file_name_key_and_value() {
    let run = kiln_without_aws();
    write(
        run.dir(),
        "kiln.toml",
        "app = \"shop\"\nregions = \"eu-west-1\"\n",
    );
    run.args(["resolve", "app"]).run().fails(
        2,
        "error: kiln.toml: key `regions` must be a list of region names, e.g. [\"us-east-1\"], not the string \"eu-west-1\"\n  help: see the README's configuration reference\n",
    );
    let run = kiln_without_aws();
    write(
        run.dir(),
        "kiln.toml",
        "app = \"shop\"\n[channels]\nproduction = \"1live\"\n",
    );
    run.args(["resolve", "app"]).run().fails(
        2,
        "error: invalid value `1live` in kiln.toml: key `channels.production`: expected a label of letters, digits, '.', '_' or '-' that does not start with a digit, `aws` or `ssm` and is not `latest`\n",
    );
}

#[test]
fn the_example_kiln_toml_works_copied_to_a_repository_root() {
    let root = crate::harness::root();
    let run = kiln_without_aws()
        .without_env("AWS_ACCESS_KEY_ID")
        .without_env("AWS_SECRET_ACCESS_KEY");
    // A repository with the example config at its root, beside its templates.
    let example = std::fs::read_to_string(root.join("examples/kiln.toml")).unwrap();
    write(run.dir(), "kiln.toml", &example);
    for template in ["base", "app"] {
        let text =
            std::fs::read_to_string(root.join(format!("packer/{template}.pkr.hcl"))).unwrap();
        write(run.dir(), &format!("packer/{template}.pkr.hcl"), &text);
    }
    let planned = run.args(["--dry-run", "bake", "base"]).run().ok();
    assert!(
        planned.stdout.contains("packer/base.pkr.hcl"),
        "{}",
        planned.stdout
    );
}
