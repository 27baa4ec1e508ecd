//! The stack update at the SDK level (moto's updates never fail and end at once):
//! the UpdateStack request (the AMI set, the template and every other parameter
//! kept), "No updates are to be performed" as nothing to change, a failed update
//! waited on through CloudFormation's rollback and reported with the resource that
//! failed, and a stack still updating when the rollout's timeout ends.

use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::operation::update_stack::{UpdateStackError, UpdateStackOutput};
use aws_sdk_cloudformation::types::{Parameter, ResourceStatus, Stack, StackEvent, StackStatus};
use aws_smithy_mocks::{Rule, mock};

use super::super::deployment::{Command, Deployment};
use super::wait;
use crate::aws::cloudformation::Update;
use crate::aws::mocked;
use crate::config::{CloudFormationStack, Rollout};
use crate::context::Context;
use crate::model::{AmiId, Region, Span};

fn rollout(timeout: Span) -> Rollout {
    Rollout {
        timeout,
        skip_matching: false,
        via_cloudformation: Some(stack()),
        ..Rollout::of("shop-production")
    }
}

fn stack() -> CloudFormationStack {
    CloudFormationStack {
        name: "shop".into(),
        parameter: "AmiId".into(),
    }
}

fn deployment<'a>(ctx: &'a Context, rollout: &'a Rollout) -> Deployment<'a> {
    Deployment {
        ctx,
        rollout,
        region: Region::from_aws("eu-west-1"),
        command: Command::Deploy,
        registry: ctx.registry(&Region::from_aws("eu-west-1")).unwrap(),
        reference: crate::model::ImageRef {
            role: crate::model::Role::App,
            selector: crate::model::Selector::Latest,
        },
        entry: None,
        pin: None,
    }
}

fn described(status: StackStatus) -> DescribeStacksOutput {
    DescribeStacksOutput::builder()
        .stacks(
            Stack::builder()
                .stack_name("shop")
                .stack_status(status)
                .parameters(
                    Parameter::builder()
                        .parameter_key("AmiId")
                        .parameter_value("ami-0old")
                        .build(),
                )
                .build(),
        )
        .build()
}

fn statuses(sequence: Vec<StackStatus>) -> Rule {
    let mut builder = mock!(aws_sdk_cloudformation::Client::describe_stacks).sequence();
    let last = sequence.last().cloned().unwrap();
    for status in sequence {
        builder = builder.output(move || described(status.clone()));
    }
    builder
        .output(move || described(last.clone()))
        .repeatedly()
        .build()
}

fn event(resource: &str, status: ResourceStatus, reason: &str) -> StackEvent {
    StackEvent::builder()
        .stack_name("shop")
        .logical_resource_id(resource)
        .resource_status(status)
        .resource_status_reason(reason)
        .build()
}

#[tokio::test]
async fn the_update_sets_the_image_and_keeps_the_template_and_the_other_parameters() {
    let update = mock!(aws_sdk_cloudformation::Client::update_stack)
        .match_requests(|r| {
            let p = r.parameters();
            r.stack_name() == Some("shop")
                && r.use_previous_template() == Some(true)
                && r.template_body().is_none()
                && p.len() == 3
                && p[0].parameter_key() == Some("AmiId")
                && p[0].parameter_value() == Some("ami-12345678")
                && p[1..]
                    .iter()
                    .all(|k| k.use_previous_value() == Some(true) && k.parameter_value().is_none())
                && p[1].parameter_key() == Some("InstanceType")
                && p[2].parameter_key() == Some("SubnetIds")
        })
        .then_output(|| {
            UpdateStackOutput::builder()
                .stack_id("arn:stack/shop")
                .build()
        });
    let aws = mocked::with_cloudformation(&[&update], &[], &[]);
    let keep = ["AmiId", "InstanceType", "SubnetIds"].map(String::from);
    let ami = AmiId::from_aws("ami-12345678");
    let started = aws
        .cloudformation(&Region::from_aws("eu-west-1"))
        .update_image("shop", "AmiId", &ami, &keep)
        .await
        .unwrap();
    assert_eq!(started, Update::Started);
}

#[tokio::test]
async fn no_updates_to_perform_is_nothing_to_change() {
    let update = mock!(aws_sdk_cloudformation::Client::update_stack).then_error(|| {
        UpdateStackError::generic(
            aws_smithy_types::error::ErrorMetadata::builder()
                .code("ValidationError")
                .message("No updates are to be performed.")
                .build(),
        )
    });
    let aws = mocked::with_cloudformation(&[&update], &[], &[]);
    let answer = aws
        .cloudformation(&Region::from_aws("eu-west-1"))
        .update_image("shop", "AmiId", &AmiId::from_aws("ami-12345678"), &[])
        .await
        .unwrap();
    assert_eq!(answer, Update::NothingToChange);
}

#[tokio::test]
async fn a_failed_update_is_waited_on_through_its_rollback_and_names_the_resource() {
    let describe = statuses(vec![
        StackStatus::UpdateInProgress,
        StackStatus::UpdateRollbackInProgress,
        StackStatus::UpdateRollbackComplete,
    ]);
    let events = mock!(aws_sdk_cloudformation::Client::describe_stack_events).then_output(|| {
        DescribeStackEventsOutput::builder()
            // Newest first, as CloudFormation lists them.
            .stack_events(event("shop", ResourceStatus::UpdateRollbackComplete, ""))
            .stack_events(event(
                "Group",
                ResourceStatus::UpdateFailed,
                "Resource update cancelled",
            ))
            .stack_events(event(
                "LaunchTemplate",
                ResourceStatus::UpdateFailed,
                "The image id '[ami-12345678]' does not exist",
            ))
            .stack_events(event(
                "shop",
                ResourceStatus::UpdateInProgress,
                "User Initiated",
            ))
            // An older update's failure is not this one's.
            .stack_events(event("Group", ResourceStatus::UpdateFailed, "long ago"))
            .build()
    });
    let ctx = Context::mocked(mocked::with_cloudformation(&[&describe, &events], &[], &[])).await;
    let rollout = rollout(Span::minutes(5));
    let error = wait(&deployment(&ctx, &rollout), &stack())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the update of stack shop failed (UPDATE_ROLLBACK_COMPLETE): LaunchTemplate (UPDATE_FAILED): The image id '[ami-12345678]' does not exist; Group (UPDATE_FAILED): Resource update cancelled"
    );
}

#[tokio::test]
async fn an_update_that_completes_goes_on() {
    let describe = statuses(vec![
        StackStatus::UpdateInProgress,
        StackStatus::UpdateCompleteCleanupInProgress,
        StackStatus::UpdateComplete,
    ]);
    let ctx = Context::mocked(mocked::with_cloudformation(&[&describe], &[], &[])).await;
    let rollout = rollout(Span::minutes(5));
    wait(&deployment(&ctx, &rollout), &stack()).await.unwrap();
}

#[tokio::test]
async fn a_stack_still_updating_at_the_timeout_is_reported() {
    let describe = statuses(vec![StackStatus::UpdateInProgress]);
    let ctx = Context::mocked(mocked::with_cloudformation(&[&describe], &[], &[])).await;
    let rollout = rollout(Span::secs(1));
    let error = wait(&deployment(&ctx, &rollout), &stack())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "stack shop is still UPDATE_IN_PROGRESS after 1s"
    );
}
