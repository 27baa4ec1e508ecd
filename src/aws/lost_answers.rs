//! What the emulator cannot show of lost answers, tested at the SDK level with
//! mocked responses (aws-smithy-mocks) through the same code that talks to AWS:
//! the bytes each attempt sends (the client token the SDK resends on RunInstances,
//! CopyImage and CreateLaunchTemplateVersion), a PutParameter
//! whose answer was lost and which kiln does not send again, labels that moved
//! although every attempt's answer was lost, and a group that AlreadyExists
//! because the first attempt made it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_autoscaling::operation::create_auto_scaling_group::CreateAutoScalingGroupError;
use aws_sdk_autoscaling::operation::describe_auto_scaling_groups::DescribeAutoScalingGroupsOutput;
use aws_sdk_autoscaling::types::{AutoScalingGroup, LaunchTemplateSpecification, TagDescription};
use aws_sdk_ec2::operation::copy_image::CopyImageOutput;
use aws_sdk_ec2::operation::create_launch_template_version::CreateLaunchTemplateVersionOutput;
use aws_sdk_ec2::operation::run_instances::RunInstancesOutput;
use aws_sdk_ec2::types::{Instance, LaunchTemplateVersion, ResponseLaunchTemplateData};
use aws_sdk_ssm::error::ErrorMetadata;
use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
use aws_sdk_ssm::operation::get_parameter_history::GetParameterHistoryOutput;
use aws_sdk_ssm::operation::put_parameter::PutParameterOutput;
use aws_sdk_ssm::types::{Parameter, ParameterHistory};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use super::autoscaling::{AutoScaling, NewGroup};
use super::ec2::{Ec2, LaunchSpec, TemplateVersion};
use super::mocked;
use super::ssm::Ssm;
use crate::error::Source;
use crate::model::{
    AmiId, Channel, GroupName, InstanceType, LaunchTemplateId, ParameterName, Region, RunId,
    Version,
};

const AMI: &str = "ami-0123456789abcdef0";
const DESCRIPTION: &str = "git abc123";

/// Records the body each attempt transmits.
#[derive(Debug, Clone, Default)]
struct Sent(Arc<Mutex<Vec<String>>>);

impl Intercept for Sent {
    fn name(&self) -> &'static str {
        "test: bodies sent"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().unwrap_or_default();
        self.0
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(body).into_owned());
        Ok(())
    }
}

impl Sent {
    /// The ClientToken each attempt sent.
    fn tokens(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|body| {
                body.split('&')
                    .find_map(|p| p.strip_prefix("ClientToken="))
                    .unwrap_or("(none)")
                    .to_string()
            })
            .collect()
    }
}

/// An EC2 client that retries as kiln's does (a 503 is retried), recording
/// what each attempt sends.
fn ec2_retrying(rule: &Rule, sent: &Sent) -> Ec2 {
    let interceptor = MockResponseInterceptor::new()
        .rule_mode(RuleMode::MatchAny)
        .with_rule(rule);
    let client = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::Config::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .region(aws_sdk_ec2::config::Region::new("eu-west-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "mocked", "mocked", None, None, "mocked",
            ))
            .retry_config(
                aws_sdk_ec2::config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .interceptor(sent.clone())
            .build(),
    );
    Ec2::new(client, "mock".into())
}

fn assert_one_token_resent(sent: &Sent) {
    let tokens = sent.tokens();
    assert_eq!(tokens.len(), 2, "two attempts: {tokens:?}");
    assert!(tokens[0].starts_with("kiln-"), "{tokens:?}");
    assert_eq!(tokens[0], tokens[1], "the retry resends the first token");
}

#[tokio::test]
async fn a_retried_launch_template_version_resends_its_client_token() {
    let rule = mock!(aws_sdk_ec2::Client::create_launch_template_version)
        .sequence()
        .http_status(503, None)
        .output(|| {
            CreateLaunchTemplateVersionOutput::builder()
                .launch_template_version(LaunchTemplateVersion::builder().version_number(4).build())
                .build()
        })
        .build();
    let sent = Sent::default();
    let source = TemplateVersion {
        template: LaunchTemplateId::from_aws("lt-0123456789abcdef0".to_string()),
        number: 3,
        image: None,
        description: None,
        data: ResponseLaunchTemplateData::builder().build(),
    };
    let number = ec2_retrying(&rule, &sent)
        .create_template_version(&source, &AmiId::from_aws(AMI.to_string()), "kiln deploy")
        .await
        .unwrap();
    assert_eq!(number, 4);
    assert_one_token_resent(&sent);
}

#[tokio::test]
async fn a_retried_copy_resends_its_client_token() {
    let rule = mock!(aws_sdk_ec2::Client::copy_image)
        .sequence()
        .http_status(503, None)
        .output(|| {
            CopyImageOutput::builder()
                .image_id("ami-0fedcba987654321f")
                .build()
        })
        .build();
    let sent = Sent::default();
    let copy = ec2_retrying(&rule, &sent)
        .copy_image(
            &Region::from_aws("us-east-1"),
            &AmiId::from_aws(AMI.to_string()),
            "shop-base-1",
        )
        .await
        .unwrap();
    assert_eq!(copy.as_str(), "ami-0fedcba987654321f");
    assert_one_token_resent(&sent);
}

#[tokio::test]
async fn a_retried_launch_resends_the_runs_client_token() {
    let rule = mock!(aws_sdk_ec2::Client::run_instances)
        .sequence()
        .http_status(503, None)
        .output(|| {
            RunInstancesOutput::builder()
                .instances(
                    Instance::builder()
                        .instance_id("i-0123456789abcdef0")
                        .build(),
                )
                .build()
        })
        .build();
    let sent = Sent::default();
    let source = Source::Argument("test");
    let spec = LaunchSpec {
        ami_id: AmiId::from_aws(AMI.to_string()),
        instance_type: InstanceType::parse("t3.micro", &source).unwrap(),
        subnet: None,
        security_groups: Vec::new(),
        instance_profile: None,
        tags: BTreeMap::new(),
        user_data: String::new(),
        client_token: RunId::new(),
    };
    let id = ec2_retrying(&rule, &sent)
        .run_instance(&spec)
        .await
        .unwrap();
    assert_eq!(id.as_str(), "i-0123456789abcdef0");
    let tokens = sent.tokens();
    assert_eq!(tokens.len(), 2, "two attempts: {tokens:?}");
    assert!(
        tokens.iter().all(|t| t == spec.client_token.as_str()),
        "{tokens:?}"
    );
}

fn history_with_newest(version: i64, value: &'static str) -> Rule {
    mock!(aws_sdk_ssm::Client::get_parameter_history).then_output(move || {
        GetParameterHistoryOutput::builder()
            .parameters(
                ParameterHistory::builder()
                    .name("/kiln/shop/app")
                    .version(version)
                    .value(value)
                    .description(DESCRIPTION)
                    .build(),
            )
            .build()
    })
}

async fn publish(ssm: Ssm) -> crate::error::Result<Version> {
    ssm.put_image_id(
        &ParameterName::new("/kiln/shop/app".to_string()),
        &AmiId::from_aws(AMI.to_string()),
        DESCRIPTION,
    )
    .await
}

#[tokio::test]
async fn a_publish_whose_answer_was_lost_is_not_sent_again() {
    // The version was made (the history shows it), the answer became a 503.
    let put = mock!(aws_sdk_ssm::Client::put_parameter)
        .sequence()
        .http_status(503, None)
        .repeatedly()
        .build();
    let history = history_with_newest(7, AMI);
    let ssm = Ssm::new(mocked::ssm(&[&put, &history]), "mock".into());
    assert_eq!(publish(ssm).await.unwrap(), Version(7));
    assert_eq!(put.num_calls(), 1, "PutParameter was not sent again");
}

#[tokio::test]
async fn a_publish_that_did_not_land_is_sent_again() {
    let put = mock!(aws_sdk_ssm::Client::put_parameter)
        .sequence()
        .http_status(503, None)
        .output(|| PutParameterOutput::builder().version(8).build())
        .build();
    // The newest version holds another image: the first attempt made nothing.
    let history = history_with_newest(7, "ami-0aaaaaaaaaaaaaaaa");
    let ssm = Ssm::new(mocked::ssm(&[&put, &history]), "mock".into());
    assert_eq!(publish(ssm).await.unwrap(), Version(8));
    assert_eq!(put.num_calls(), 2);
}

fn label_on(version: i64) -> Rule {
    mock!(aws_sdk_ssm::Client::get_parameter)
        .match_requests(|r| r.name() == Some("/kiln/shop/app:production"))
        .then_output(move || {
            GetParameterOutput::builder()
                .parameter(Parameter::builder().value(AMI).version(version).build())
                .build()
        })
}

async fn promote(rules: &[&Rule]) -> crate::error::Result<()> {
    Ssm::new(mocked::ssm(rules), "mock".into())
        .label(
            &ParameterName::new("/kiln/shop/app".to_string()),
            Version(4),
            &[Channel::from_aws("production".to_string())],
        )
        .await
}

#[tokio::test]
async fn labels_that_moved_although_every_answer_was_lost_are_a_success() {
    let label = mock!(aws_sdk_ssm::Client::label_parameter_version)
        .sequence()
        .http_status(503, None)
        .repeatedly()
        .build();
    promote(&[&label, &label_on(4)]).await.unwrap();
    let elsewhere = promote(&[&label, &label_on(3)]).await.unwrap_err();
    assert!(
        elsewhere
            .to_string()
            .starts_with("ssm:LabelParameterVersion failed: "),
        "{elsewhere}"
    );
}

fn new_group(version: i64) -> NewGroup {
    NewGroup {
        name: GroupName::from_aws("web-green".to_string()),
        template: LaunchTemplateId::from_aws("lt-0123456789abcdef0".to_string()),
        version: Some(version),
        min: 1,
        max: 2,
        desired: 1,
        subnets: None,
        target_groups: Vec::new(),
        health_check_type: None,
        health_check_grace: None,
        tags: BTreeMap::from([("kiln:blue-green".to_string(), "web".to_string())]),
    }
}

/// CreateAutoScalingGroup answers AlreadyExists; the group that exists runs
/// launch template version 5 with our tag.
async fn create_when_it_exists(ours: NewGroup) -> crate::error::Result<()> {
    let create = mock!(aws_sdk_autoscaling::Client::create_auto_scaling_group).then_error(|| {
        CreateAutoScalingGroupError::generic(
            ErrorMetadata::builder()
                .code("AlreadyExists")
                .message("AutoScalingGroup by this name already exists - A group with the name web-green already exists")
                .build(),
        )
    });
    let describe =
        mock!(aws_sdk_autoscaling::Client::describe_auto_scaling_groups).then_output(|| {
            DescribeAutoScalingGroupsOutput::builder()
                .auto_scaling_groups(
                    AutoScalingGroup::builder()
                        .auto_scaling_group_name("web-green")
                        .launch_template(
                            LaunchTemplateSpecification::builder()
                                .launch_template_id("lt-0123456789abcdef0")
                                .version("5")
                                .build(),
                        )
                        .tags(
                            TagDescription::builder()
                                .key("kiln:blue-green")
                                .value("web")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let version = ours.version.unwrap();
    AutoScaling::new(mocked::autoscaling(&[&create, &describe]), "mock".into())
        .create_group(&ours, version)
        .await
}

#[tokio::test]
async fn a_group_that_already_exists_as_we_asked_is_the_one_we_created() {
    create_when_it_exists(new_group(5)).await.unwrap();
    // Another deploy's group of that name (another version) is an error.
    let theirs = create_when_it_exists(new_group(6)).await.unwrap_err();
    assert_eq!(
        theirs.to_string(),
        "autoscaling:CreateAutoScalingGroup failed: AlreadyExists: AutoScalingGroup by this name already exists - A group with the name web-green already exists"
    );
}
