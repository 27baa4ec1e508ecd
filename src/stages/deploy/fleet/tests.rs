//! The check after a rollback, at the SDK level: the emulator cannot change a group
//! between kiln's rollout and its check, AWS (an operator, a scaling policy) can.

use aws_sdk_autoscaling::operation::describe_auto_scaling_groups::DescribeAutoScalingGroupsOutput;
use aws_sdk_autoscaling::types::{
    AutoScalingGroup, Instance, LaunchTemplateSpecification, LifecycleState,
};
use aws_smithy_mocks::mock;

use super::check_back;
use crate::aws::mocked;
use crate::config::Rollout;
use crate::context::Context;
use crate::error::Error;
use crate::model::{ImageRef, LaunchTemplateId, Percent, Region, Role, Selector};
use crate::stages::deploy::deployment::{Command, Deployment};
use crate::stages::deploy::template::Versions;

const TEMPLATE: &str = "lt-0123456789abcdef0";

/// `shop-web`, set to `version`, with one InService instance per entry of `instances`.
fn group(version: &str, instances: &[(&str, &str)]) -> DescribeAutoScalingGroupsOutput {
    let spec = |v: &str| {
        LaunchTemplateSpecification::builder()
            .launch_template_id(TEMPLATE)
            .version(v)
            .build()
    };
    let mut group = AutoScalingGroup::builder()
        .auto_scaling_group_name("shop-web")
        .launch_template(spec(version))
        .min_size(1)
        .max_size(4)
        .desired_capacity(instances.len() as i32);
    for (id, v) in instances {
        group = group.instances(
            Instance::builder()
                .instance_id(*id)
                .lifecycle_state(LifecycleState::InService)
                .health_status("Healthy")
                .launch_template(spec(v))
                .build(),
        );
    }
    DescribeAutoScalingGroupsOutput::builder()
        .auto_scaling_groups(group.build())
        .build()
}

fn rollout() -> Rollout {
    Rollout {
        min_healthy: Percent(50),
        ..Rollout::of("shop-web")
    }
}

/// The check of a rollback to version 4, with the group as AWS answers it.
async fn check(answer: DescribeAutoScalingGroupsOutput) -> crate::error::Result<()> {
    let describe = mock!(aws_sdk_autoscaling::Client::describe_auto_scaling_groups)
        .then_output(move || answer.clone());
    let ctx = Context::mocked(mocked::aws(&[], &[], &[&describe], &[])).await;
    let rollout = rollout();
    let region = Region::from_aws("eu-west-1");
    let d = Deployment {
        ctx: &ctx,
        rollout: &rollout,
        region: region.clone(),
        command: Command::Rollback,
        registry: ctx.registry(&region).unwrap(),
        reference: ImageRef {
            role: Role::App,
            selector: Selector::Version(crate::model::Version(1)),
        },
        entry: None,
        pin: None,
    };
    let versions = Versions {
        template: LaunchTemplateId::from_aws(TEMPLATE),
        new: Some(4),
        previous: 5,
        created: false,
        mixed: None,
    };
    check_back(&d, &versions).await
}

#[tokio::test]
async fn a_group_that_launches_and_runs_the_version_is_back() {
    let answer = group("4", &[("i-0aaa", "4"), ("i-0bbb", "4")]);
    assert!(check(answer).await.is_ok());
}

#[tokio::test]
async fn a_group_set_to_another_version_is_not_reported_back() {
    let err = check(group("5", &[("i-0aaa", "4")])).await.unwrap_err();
    assert!(matches!(err, Error::RollbackIncomplete { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "rollback incomplete: shop-web in eu-west-1 launches {TEMPLATE} version 5, not version 4"
        )
    );
    assert_eq!(err.exit_code(), 1);
}

#[tokio::test]
async fn an_instance_still_on_another_version_is_named() {
    let err = check(group("4", &[("i-0aaa", "4"), ("i-0bbb", "5")]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "rollback incomplete: shop-web in eu-west-1 still runs 1 instance(s) on another version: i-0bbb (version 5)"
    );
}
