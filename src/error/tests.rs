//! Every variant is described (routed to an area that knows it), with a
//! documented exit code and, where it has help, help that says something.

use super::*;

/// One value of each variant, and for variants whose exit code or help depends
/// on a field, one of each of those too.
fn one_of_each() -> Vec<Error> {
    let s = |text: &str| text.to_string();
    let tail = vec![s("==> amazon-ebs: error")];
    vec![
        Error::InvalidValue {
            source: Source::Flag("--output"),
            value: s("x"),
            expected: s("`text` or `json`"),
        },
        Error::ConfigFile {
            path: "kiln.toml".into(),
            problem: s("unknown key `x`"),
            help: s("see the README's configuration reference"),
        },
        Error::NoApp,
        Error::NoRegion,
        Error::OutputUnwritable {
            path: "/nonexistent/x".into(),
            what: s("GITHUB_OUTPUT"),
            detail: s("the directory /nonexistent does not exist"),
        },
        Error::AwsProfileNotFound {
            profile: s("nope"),
            source: s("environment variable AWS_PROFILE"),
            config_file: "/home/ci/.aws/config".into(),
            credentials_file: "/home/ci/.aws/credentials".into(),
        },
        Error::AwsSsoLogin {
            profile: s("dev"),
            cache: "/home/ci/.aws/sso/cache/x.json".into(),
        },
        Error::ChannelClash { name: s("tested") },
        Error::UnknownChannel {
            channel: s("prod"),
            known: vec![s("tested"), s("production")],
        },
        Error::ParameterNotFound {
            parameter: s("/kiln/shop/app"),
            region: s("eu-west-1"),
            role: s("app"),
        },
        Error::VersionNotFound {
            parameter: s("/kiln/shop/app"),
            version: 9,
            latest: 3,
            role: s("app"),
        },
        Error::ChannelEmpty {
            parameter: s("/kiln/shop/app"),
            channel: s("tested"),
            role: s("app"),
        },
        Error::AmiNotFound {
            ami: s("ami-12345678"),
            region: s("eu-west-1"),
            from_registry: false,
        },
        Error::AmiNotFound {
            ami: s("ami-12345678"),
            region: s("eu-west-1"),
            from_registry: true,
        },
        Error::AmiNotAvailable {
            ami: s("ami-12345678"),
            state: s("pending"),
        },
        Error::AmiBelongsElsewhere {
            ami: s("ami-12345678"),
            tag: crate::provenance::tag::APP.into(),
            found: s("other"),
            wanted: s("shop"),
        },
        Error::AmiBelongsElsewhere {
            ami: s("ami-12345678"),
            tag: crate::provenance::tag::ROLE.into(),
            found: s("base"),
            wanted: s("app"),
        },
        Error::Revoked {
            ami: s("ami-12345678"),
            reason: s("CVE-2026-0001"),
        },
        Error::VersionLimit {
            parameter: s("/kiln/shop/app"),
            oldest: 1,
            labels: vec![s("production")],
        },
        Error::LabelLimit {
            parameter: s("/kiln/shop/app"),
            version: 3,
        },
        Error::NotVisible {
            parameter: s("/kiln/shop/app"),
            version: 3,
            waited_secs: 60,
        },
        Error::AwsUnreachable {
            endpoint: s("http://127.0.0.1:9"),
            detail: s("connection refused"),
            proxies: None,
        },
        Error::AwsUnreachable {
            endpoint: s("http://127.0.0.1:9"),
            detail: s("connection refused"),
            proxies: Some(s("HTTPS_PROXY=http://proxy:3128")),
        },
        Error::CaBundle {
            path: "/etc/corp.pem".into(),
            origin: s("environment variable AWS_CA_BUNDLE"),
            detail: s("No such file or directory (os error 2)"),
        },
        Error::AwsCredentials {
            detail: s("none"),
            profile: None,
        },
        Error::AwsCredentials {
            detail: s("the SSO token expired"),
            profile: Some(s("dev")),
        },
        Error::AwsAccessDenied {
            operation: s("ssm:GetParameter"),
            message: s("no"),
        },
        Error::AwsTimeout {
            operation: s("ssm:GetParameter"),
            endpoint: s("http://127.0.0.1:9"),
        },
        Error::AwsThrottled {
            operation: s("ssm:GetParameter"),
            message: s("Rate exceeded"),
        },
        Error::Aws {
            operation: s("ssm:PutParameter"),
            code: s("ValidationException"),
            message: s("bad"),
        },
        Error::Io {
            path: "out.xml".into(),
            message: s("permission denied"),
        },
        Error::ToolMissing {
            tool: s("packer"),
            detail: s("not found"),
        },
        Error::ToolMissing {
            tool: s("terraform"),
            detail: s("not found"),
        },
        Error::ToolMissing {
            tool: s("goss"),
            detail: s("not found"),
        },
        Error::ToolFailed {
            tool: s("packer"),
            code: Some(1),
            tail: tail.clone(),
        },
        Error::ToolFailed {
            tool: s("terraform"),
            code: None,
            tail: vec![],
        },
        Error::NoArtifact { tail },
        Error::BadArtifact {
            problem: s("two AMIs in one region"),
        },
        Error::BuiltElsewhere {
            primary: s("us-east-1"),
            role: s("app"),
            built: vec![(s("eu-central-1"), s("ami-12345678"))],
        },
        Error::AmiNameTaken {
            name: Some(s("shop-web")),
            existing: Some(s("ami-12345678")),
            tail: vec![s(
                "==> amazon-ebs: AMI Name: 'shop-web' is used by an existing AMI",
            )],
        },
        Error::SeveralBuilds {
            template: "packer/base.pkr.hcl".into(),
            role: s("base"),
            builds: vec![s("amazon-ebs.a"), s("amazon-ebs.b")],
        },
        Error::PackerTooOld {
            installed: s("1.6.6"),
        },
        Error::LineageMismatch {
            built_on: s("ami-0aaaaaaa"),
            base: s("ami-0bbbbbbb"),
            base_version: s("3"),
            left: None,
        },
        Error::LineageMismatch {
            built_on: s("ami-0aaaaaaa"),
            base: s("ami-0bbbbbbb"),
            base_version: s("3"),
            left: Some(s("ami-0ccccccc")),
        },
        Error::AmbiguousSource {
            build: s("amazon-ebs.base"),
            images: vec![s("ami-0aaaaaaa"), s("ami-0bbbbbbb")],
        },
        Error::InputMissing {
            path: "vars.json".into(),
            what: "variable file",
            flag: "--var-file",
        },
        Error::TemplateNotFound {
            path: "packer/base.pkr.hcl".into(),
            role: s("base"),
        },
        Error::Offline,
        Error::OutputClosed,
        Error::Internal {
            detail: s("a value made by a planned change"),
        },
        Error::Interrupted {
            signal: s("SIGINT"),
            what: s("running kiln verify"),
        },
        Error::TestsFailed {
            subject: s("ami-12345678"),
            failed: 2,
            total: 4,
        },
        Error::VerifyBroken {
            subject: s("ami-12345678"),
            detail: s("no output"),
            stage: super::BrokenAt::Goss,
        },
        Error::NoGroup,
        Error::UnknownEnvironment {
            source: Source::Flag("--env"),
            name: s("prod"),
            known: vec![s("staging"), s("production")],
        },
        Error::NotInEnvironment {
            group: s("web"),
            environment: s("production"),
            groups: vec![s("shop-web")],
        },
        Error::NotAfter {
            subject: s("ami-12345678 (app:2)"),
            environment: s("production"),
            after: s("staging"),
            channel: s("staging"),
            role: s("app"),
        },
        Error::LedgerRecordTooLarge {
            parameter: s("/kiln/shop/ledger/production"),
            bytes: 9000,
            groups: 40,
        },
        Error::RollbackIncomplete {
            group: s("web"),
            region: s("eu-west-1"),
            detail: s("still launches version 5"),
        },
        Error::GroupNotFound {
            group: s("web"),
            region: s("eu-west-1"),
        },
        Error::GroupWithoutTemplate { group: s("web") },
        Error::GroupOnLaunchConfiguration {
            group: s("web"),
            configuration: s("web-lc"),
            region: s("eu-west-1"),
        },
        Error::BlueGreenMixedGroup { group: s("web") },
        Error::DeployInterrupted {
            signal: s("SIGTERM"),
            command: s("deploy"),
            group: s("web"),
            launches: s("lt-0abc version 5"),
            running: vec![s("1 on version 5 (ami-new)"), s("3 on version 4 (ami-old)")],
        },
        Error::TerraformWorkspaceMissing {
            workspace: s("staging"),
            dir: s("terraform"),
            available: vec![s("default")],
        },
        Error::NoStack,
        Error::StackDidNotPin {
            stack: s("web"),
            parameter: s("AmiId"),
            template: s("lt-0abc"),
            ami: s("ami-12345678"),
            newest: s("version 3 with ami-87654321"),
        },
        Error::StackMissing {
            stack: s("web"),
            region: s("eu-west-1"),
        },
        Error::StackParameterMissing {
            stack: s("web"),
            parameter: s("AmiId"),
            available: vec![s("ImageId")],
        },
        Error::StackBusy {
            stack: s("web"),
            status: s("UPDATE_IN_PROGRESS"),
            waited: None,
        },
        Error::StackUpdateFailed {
            stack: s("web"),
            status: s("UPDATE_ROLLBACK_COMPLETE"),
            failures: vec![s("LaunchTemplate (UPDATE_FAILED): bad image")],
        },
        Error::NotTested {
            subject: s("ami-12345678 (app:1)"),
            channel: s("tested"),
            role: s("app"),
            rollback: false,
        },
        Error::NotTested {
            subject: s("ami-12345678 (app:1)"),
            channel: s("tested"),
            role: s("app"),
            rollback: true,
        },
        Error::DeployLocked {
            group: s("web"),
            holder: s("run 1 deploying app:3"),
            lock: s("/kiln/shop/deploy-lock/web"),
            region: s("eu-west-1"),
            by_refresh: false,
        },
        Error::DeployLocked {
            group: s("web"),
            holder: s("instance refresh r-1 is InProgress (40% done)"),
            lock: s("/kiln/shop/deploy-lock/web"),
            region: s("eu-west-1"),
            by_refresh: true,
        },
        Error::DeployFailed {
            group: s("web"),
            detail: s("unhealthy"),
            rollback: RollbackOutcome::Done(s("3")),
        },
        Error::DeployFailed {
            group: s("web"),
            detail: s("unhealthy"),
            rollback: RollbackOutcome::NotAsked,
        },
        Error::DeployFailed {
            group: s("web"),
            detail: s("unhealthy"),
            rollback: RollbackOutcome::Failed(s("throttled")),
        },
        Error::PruneIncomplete {
            failed: vec![(s("ami-12345678"), s("in use"))],
        },
        Error::NothingToRollBack {
            detail: s("/kiln/shop/app has no versions"),
        },
        Error::CleanupFailed {
            left: vec![Leftover {
                what: s("verify instance i-0abc in eu-west-1"),
                by_hand: s("terminate i-0abc: aws ec2 terminate-instances --instance-ids i-0abc"),
            }],
            detail: s("access denied"),
            after: None,
        },
        Error::Regions {
            published: vec![s("eu-west-1")],
            failed: vec![(s("us-east-1"), s("throttled"))],
        },
    ]
}

/// The variant's name. No wildcard: a new variant does not compile until it is
/// named here, and then `every_variant_is_covered` wants one in `one_of_each`.
fn variant(error: &Error) -> &'static str {
    use Error::*;
    match error {
        InvalidValue { .. } => "InvalidValue",
        ConfigFile { .. } => "ConfigFile",
        NoApp => "NoApp",
        NoRegion => "NoRegion",
        OutputUnwritable { .. } => "OutputUnwritable",
        AwsProfileNotFound { .. } => "AwsProfileNotFound",
        AwsSsoLogin { .. } => "AwsSsoLogin",
        ChannelClash { .. } => "ChannelClash",
        UnknownChannel { .. } => "UnknownChannel",
        ParameterNotFound { .. } => "ParameterNotFound",
        VersionNotFound { .. } => "VersionNotFound",
        ChannelEmpty { .. } => "ChannelEmpty",
        AmiNotFound { .. } => "AmiNotFound",
        AmiNotAvailable { .. } => "AmiNotAvailable",
        AmiBelongsElsewhere { .. } => "AmiBelongsElsewhere",
        Revoked { .. } => "Revoked",
        VersionLimit { .. } => "VersionLimit",
        LabelLimit { .. } => "LabelLimit",
        NotVisible { .. } => "NotVisible",
        AwsUnreachable { .. } => "AwsUnreachable",
        CaBundle { .. } => "CaBundle",
        AwsCredentials { .. } => "AwsCredentials",
        AwsAccessDenied { .. } => "AwsAccessDenied",
        AwsTimeout { .. } => "AwsTimeout",
        AwsThrottled { .. } => "AwsThrottled",
        Aws { .. } => "Aws",
        Io { .. } => "Io",
        ToolMissing { .. } => "ToolMissing",
        ToolFailed { .. } => "ToolFailed",
        NoArtifact { .. } => "NoArtifact",
        BadArtifact { .. } => "BadArtifact",
        BuiltElsewhere { .. } => "BuiltElsewhere",
        AmiNameTaken { .. } => "AmiNameTaken",
        SeveralBuilds { .. } => "SeveralBuilds",
        PackerTooOld { .. } => "PackerTooOld",
        LineageMismatch { .. } => "LineageMismatch",
        AmbiguousSource { .. } => "AmbiguousSource",
        InputMissing { .. } => "InputMissing",
        TemplateNotFound { .. } => "TemplateNotFound",
        Interrupted { .. } => "Interrupted",
        Offline => "Offline",
        OutputClosed => "OutputClosed",
        Internal { .. } => "Internal",
        TestsFailed { .. } => "TestsFailed",
        VerifyBroken { .. } => "VerifyBroken",
        NoGroup => "NoGroup",
        UnknownEnvironment { .. } => "UnknownEnvironment",
        NotInEnvironment { .. } => "NotInEnvironment",
        NotAfter { .. } => "NotAfter",
        LedgerRecordTooLarge { .. } => "LedgerRecordTooLarge",
        RollbackIncomplete { .. } => "RollbackIncomplete",
        GroupNotFound { .. } => "GroupNotFound",
        GroupWithoutTemplate { .. } => "GroupWithoutTemplate",
        GroupOnLaunchConfiguration { .. } => "GroupOnLaunchConfiguration",
        TerraformWorkspaceMissing { .. } => "TerraformWorkspaceMissing",
        NoStack => "NoStack",
        StackMissing { .. } => "StackMissing",
        StackParameterMissing { .. } => "StackParameterMissing",
        StackBusy { .. } => "StackBusy",
        StackUpdateFailed { .. } => "StackUpdateFailed",
        StackDidNotPin { .. } => "StackDidNotPin",
        DeployInterrupted { .. } => "DeployInterrupted",
        BlueGreenMixedGroup { .. } => "BlueGreenMixedGroup",
        NotTested { .. } => "NotTested",
        DeployLocked { .. } => "DeployLocked",
        DeployFailed { .. } => "DeployFailed",
        PruneIncomplete { .. } => "PruneIncomplete",
        NothingToRollBack { .. } => "NothingToRollBack",
        CleanupFailed { .. } => "CleanupFailed",
        Regions { .. } => "Regions",
    }
}

/// The variants whose message is all there is to say.
const WITHOUT_HELP: [&str; 4] = ["InvalidValue", "Aws", "Io", "Offline"];

#[test]
fn every_variant_is_covered() {
    let covered: std::collections::BTreeSet<&str> = one_of_each().iter().map(variant).collect();
    assert_eq!(
        covered.len(),
        70,
        "one_of_each misses a variant: {covered:?}"
    );
}

#[test]
fn every_variant_has_a_documented_exit_code_a_message_and_its_help() {
    let documented = [
        // Only `Offline`, which `lib::run` turns into the plan of a dry run.
        exit::OK,
        exit::FAILED,
        exit::USAGE,
        exit::CLEANUP,
        exit::NOT_FOUND,
        exit::AWS,
        exit::TESTS_FAILED,
        exit::BROKEN,
        exit::INTERRUPTED,
        exit::OUTPUT_CLOSED,
    ];
    for error in one_of_each() {
        let name = variant(&error);
        assert!(
            documented.contains(&error.exit_code()),
            "{name}: exit code {}",
            error.exit_code()
        );
        assert!(!error.to_string().trim().is_empty(), "{name}: no message");
        match error.help() {
            Some(help) => assert!(!help.trim().is_empty(), "{name}: empty help"),
            None => assert!(WITHOUT_HELP.contains(&name), "{name}: no help"),
        }
    }
}

#[test]
fn classes_map_to_documented_exit_codes() {
    assert_eq!(Error::NoApp.exit_code(), 2);
    let missing = Error::AmiNotFound {
        ami: "ami-12345678".into(),
        region: "eu-west-1".into(),
        from_registry: false,
    };
    assert_eq!(missing.exit_code(), 4);
    let unreachable = Error::AwsUnreachable {
        endpoint: "http://127.0.0.1:9".into(),
        detail: "connection refused".into(),
        proxies: None,
    };
    assert_eq!(unreachable.exit_code(), 5);
    let limit = Error::LabelLimit {
        parameter: "/kiln/shop/app".into(),
        version: 3,
    };
    assert_eq!(limit.exit_code(), 1);
    let failed_rollback = Error::DeployFailed {
        group: "web".into(),
        detail: "unhealthy".into(),
        rollback: RollbackOutcome::Failed("throttled".into()),
    };
    assert_eq!(failed_rollback.exit_code(), 3);
}

#[test]
fn invalid_value_names_where_it_came_from() {
    let err = Error::InvalidValue {
        source: Source::Env("KILN_REGION"),
        value: "mars".into(),
        expected: "an AWS region name such as eu-west-1".into(),
    };
    assert_eq!(
        err.to_string(),
        "invalid value `mars` in environment variable KILN_REGION: expected an AWS region name such as eu-west-1"
    );
}

#[test]
fn a_tool_failure_shows_its_last_lines_under_the_message() {
    let err = Error::ToolFailed {
        tool: "packer".into(),
        code: Some(1),
        tail: vec!["first\nsecond".into(), "third".into()],
    };
    assert_eq!(
        err.to_string(),
        "packer failed with exit code 1; its last lines:\n  packer | first\n  packer | second\n  packer | third"
    );
}

#[test]
fn an_image_gone_from_under_the_registry_is_not_a_mistyped_id() {
    let gone = |from_registry| Error::AmiNotFound {
        ami: "ami-12345678".into(),
        region: "eu-west-1".into(),
        from_registry,
    };
    assert_eq!(
        gone(false).help().unwrap(),
        "check the id and the region (--region); AMIs are regional"
    );
    assert_eq!(
        gone(true).help().unwrap(),
        "the registry points at an image that no longer exists: publish or promote another image"
    );
    assert_eq!(gone(true).to_string(), gone(false).to_string());
}

#[test]
fn an_instance_refresh_holding_the_group_is_cancelled_not_unlocked() {
    let err = Error::DeployLocked {
        group: "web".into(),
        holder: "instance refresh r-1 is InProgress (40% done)".into(),
        lock: "/kiln/shop/deploy-lock/web".into(),
        region: "eu-west-1".into(),
        by_refresh: true,
    };
    assert_eq!(
        err.help().unwrap(),
        "wait for the instance refresh to finish, or cancel it: aws autoscaling cancel-instance-refresh --auto-scaling-group-name web --region eu-west-1"
    );
}

#[test]
fn a_rollback_that_is_not_tested_points_at_deploy_force() {
    let err = Error::NotTested {
        subject: "ami-12345678 (app:1)".into(),
        channel: "tested".into(),
        role: "app".into(),
        rollback: true,
    };
    assert_eq!(
        err.help().unwrap(),
        "verify it first (`kiln verify app:VERSION` promotes it to tested), or deploy it anyway with `kiln deploy app:VERSION --force`"
    );
}
