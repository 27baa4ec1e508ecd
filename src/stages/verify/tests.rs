//! The live path at the SDK level, with clients mocked by aws-smithy-mocks: the
//! emulator cannot run a command on an instance (its GetCommandInvocation always
//! answers Success with empty output), so this is where Goss JSON coming back
//! through SSM is followed to the gate: a pass moves the tested label, failed tests
//! move nothing, and the instance is terminated either way.

use aws_sdk_ec2::operation::describe_images::DescribeImagesOutput;
use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
use aws_sdk_ec2::operation::run_instances::RunInstancesOutput;
use aws_sdk_ec2::operation::terminate_instances::TerminateInstancesOutput;
use aws_sdk_ec2::types::{
    Image, ImageState, Instance, InstanceState, InstanceStateName, Reservation,
};
use aws_sdk_ssm::error::ErrorMetadata;
use aws_sdk_ssm::operation::describe_instance_information::DescribeInstanceInformationOutput;
use aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput;
use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
use aws_sdk_ssm::operation::label_parameter_version::LabelParameterVersionOutput;
use aws_sdk_ssm::operation::send_command::SendCommandOutput;
use aws_sdk_ssm::types::{
    Command, CommandInvocationStatus, InstanceInformation, Parameter, PingStatus,
};
use aws_smithy_mocks::{Rule, mock};

use super::remote::tests::printed;
use crate::aws::mocked;
use crate::cli::VerifyArgs;
use crate::context::Context;
use crate::error::Error;

const AMI: &str = "ami-0123456789abcdef0";
const INSTANCE: &str = "i-0fedcba9876543210";
const COMMAND: &str = "2b6e1c9a-0000-4000-8000-000000000007";

/// The rules that count: what must happen (or must not) for the test to pass.
struct Calls {
    send: Rule,
    label: Rule,
    terminate: Rule,
}

/// A live `kiln verify` of app v7 whose Goss run prints `goss_json`.
async fn verify_with_output(
    goss_json: &str,
) -> (crate::error::Result<crate::report::Outcome>, Calls) {
    verify(goss_json, false, None).await
}

/// As `verify_with_output`; `terminate_fails` makes every TerminateInstances fail;
/// `junit` is `--junit`.
async fn verify(
    goss_json: &str,
    terminate_fails: bool,
    junit: Option<std::path::PathBuf>,
) -> (crate::error::Result<crate::report::Outcome>, Calls) {
    let image = mock!(aws_sdk_ec2::Client::describe_images).then_output(|| {
        DescribeImagesOutput::builder()
            .images(
                Image::builder()
                    .image_id(AMI)
                    .state(ImageState::Available)
                    .build(),
            )
            .build()
    });
    let launch = mock!(aws_sdk_ec2::Client::run_instances)
        .match_requests(|r| r.image_id() == Some(AMI) && r.client_token().is_some())
        .then_output(|| {
            RunInstancesOutput::builder()
                .instances(Instance::builder().instance_id(INSTANCE).build())
                .build()
        });
    let running = mock!(aws_sdk_ec2::Client::describe_instances).then_output(|| {
        DescribeInstancesOutput::builder()
            .reservations(
                Reservation::builder()
                    .instances(
                        Instance::builder()
                            .instance_id(INSTANCE)
                            .state(
                                InstanceState::builder()
                                    .name(InstanceStateName::Running)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let terminate = if terminate_fails {
        mock!(aws_sdk_ec2::Client::terminate_instances)
            .match_requests(|r| r.instance_ids() == [INSTANCE])
            .sequence()
            .error(|| {
                aws_sdk_ec2::operation::terminate_instances::TerminateInstancesError::generic(
                    aws_sdk_ec2::error::ErrorMetadata::builder()
                        .code("UnauthorizedOperation")
                        .message("You are not authorized to perform this operation.")
                        .build(),
                )
            })
            .repeatedly()
            .build()
    } else {
        mock!(aws_sdk_ec2::Client::terminate_instances)
            .match_requests(|r| r.instance_ids() == [INSTANCE])
            .then_output(|| TerminateInstancesOutput::builder().build())
    };

    let latest = mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(|r| r.name() == Some("/kiln/shop/app"))
        .then_output(|| {
            GetParameterOutput::builder()
                .parameter(Parameter::builder().value(AMI).version(7).build())
                .build()
        });
    let tested_is_empty = mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(|r| r.name() == Some("/kiln/shop/app:tested"))
        .then_error(|| {
            GetParameterError::generic(
                ErrorMetadata::builder()
                    .code("ParameterVersionLabelNotFound")
                    .build(),
            )
        });
    let online = mock!(aws_sdk_ssm::Client::describe_instance_information).then_output(|| {
        DescribeInstanceInformationOutput::builder()
            .instance_information_list(
                InstanceInformation::builder()
                    .instance_id(INSTANCE)
                    .ping_status(PingStatus::Online)
                    .build(),
            )
            .build()
    });
    let send = mock!(aws_sdk_ssm::Client::send_command)
        .match_requests(|r| {
            r.instance_ids() == [INSTANCE]
                && r.document_name() == Some("AWS-RunShellScript")
                && r.parameters()
                    .and_then(|p| p.get("commands"))
                    .is_some_and(|c| c[0].contains("validate --format json"))
        })
        .then_output(|| {
            SendCommandOutput::builder()
                .command(Command::builder().command_id(COMMAND).build())
                .build()
        });
    let stdout = printed(goss_json, 0);
    let invocation = mock!(aws_sdk_ssm::Client::get_command_invocation)
        .match_requests(|r| r.command_id() == Some(COMMAND) && r.instance_id() == Some(INSTANCE))
        .sequence()
        .output(|| {
            GetCommandInvocationOutput::builder()
                .status(CommandInvocationStatus::InProgress)
                .response_code(-1)
                .build()
        })
        .output(move || {
            GetCommandInvocationOutput::builder()
                .status(CommandInvocationStatus::Success)
                .response_code(0)
                .standard_output_content(stdout.clone())
                .build()
        })
        .build();
    let label = mock!(aws_sdk_ssm::Client::label_parameter_version)
        .match_requests(|r| {
            r.name() == Some("/kiln/shop/app")
                && r.parameter_version() == Some(7)
                && r.labels() == ["tested"]
        })
        .then_output(|| LabelParameterVersionOutput::builder().build());

    let aws = mocked::aws(
        &[&image, &launch, &running, &terminate],
        &[
            &latest,
            &tested_is_empty,
            &online,
            &send,
            &invocation,
            &label,
        ],
        &[],
        &[],
    );
    let ctx = Context::mocked(aws).await;
    let spec = std::env::temp_dir().join(format!("kiln-verify-sdk-{}.yaml", std::process::id()));
    std::fs::write(&spec, "package:\n  nginx:\n    installed: true\n").unwrap();
    let args = VerifyArgs {
        reference: None,
        results: None,
        junit,
        no_promote: false,
        goss: Some(spec),
        goss_vars: None,
        retry_timeout: None,
        sleep: None,
        timeout: None,
        boot_timeout: None,
        instance_type: None,
        subnet: None,
        security_groups: Vec::new(),
        instance_profile: None,
        keep_on_failure: false,
        cleanup: false,
    };
    let settings = crate::config::settings(&crate::cli::Command::Verify(args), &ctx.config);
    let Ok(crate::config::Settings::Verify(settings)) = settings else {
        panic!("verify settings: {settings:?}");
    };
    let outcome = super::run(&ctx, &settings).await;
    let outcome = ctx.teardown.finish(&ctx.effects, outcome).await;
    (
        outcome,
        Calls {
            send,
            label,
            terminate,
        },
    )
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/goss")
            .join(name),
    )
    .unwrap()
}

#[tokio::test]
async fn goss_passing_on_the_instance_moves_tested_and_terminates_it() {
    let (outcome, calls) = verify_with_output(&fixture("pass.json")).await;
    let outcome = outcome.unwrap();
    assert!(outcome.failure.is_none());
    assert_eq!(outcome.json["passed"], true);
    assert_eq!(outcome.json["instance_id"], INSTANCE);
    assert_eq!(outcome.json["promoted_to"], "tested");
    assert_eq!(
        calls.send.num_calls(),
        1,
        "the Goss command went to the instance"
    );
    assert_eq!(calls.label.num_calls(), 1, "tested moved to version 7");
    assert_eq!(
        calls.terminate.num_calls(),
        1,
        "the instance was terminated"
    );
}

#[tokio::test]
async fn a_junit_report_that_cannot_be_written_after_the_tests_keeps_their_verdict() {
    // The path was checked before the run (`report::files`); its directory going
    // away meanwhile is a warning, and failed tests stay exit 6, not 1.
    let gone = std::env::temp_dir().join(format!("kiln-junit-gone-{}", std::process::id()));
    let (outcome, calls) = verify(&fixture("fail.json"), false, Some(gone.join("r.xml"))).await;
    let outcome = outcome.expect("the outcome, not an I/O error");
    let failure = outcome.failure.expect("the tests failed");
    assert!(matches!(failure, Error::TestsFailed { .. }), "{failure:?}");
    assert_eq!(failure.exit_code(), crate::error::exit::TESTS_FAILED);
    assert_eq!(calls.terminate.num_calls(), 1);
}

#[tokio::test]
async fn failed_tests_on_the_instance_promote_nothing_and_terminate_it() {
    let (outcome, calls) = verify_with_output(&fixture("fail.json")).await;
    let outcome = outcome.unwrap();
    assert!(matches!(
        outcome.failure,
        Some(Error::TestsFailed {
            failed: 2,
            total: 4,
            ..
        })
    ));
    assert_eq!(outcome.json["promoted_to"], serde_json::Value::Null);
    assert_eq!(calls.label.num_calls(), 0, "nothing was promoted");
    assert_eq!(
        calls.terminate.num_calls(),
        1,
        "the instance was terminated"
    );
}

#[tokio::test]
async fn a_failed_teardown_is_exit_3_and_names_the_instance_left() {
    let (outcome, calls) = verify(&fixture("pass.json"), true, None).await;
    let err = outcome.unwrap_err();
    assert_eq!(err.exit_code(), crate::error::exit::CLEANUP);
    assert_eq!(
        err.to_string(),
        format!(
            "could not remove verify instance {INSTANCE} in eu-west-1: access denied to ec2:TerminateInstances: You are not authorized to perform this operation."
        )
    );
    assert_eq!(
        calls.terminate.num_calls(),
        2,
        "tried by the stage, then by the guard"
    );
}
