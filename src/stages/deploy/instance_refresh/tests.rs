//! Instance refresh at the SDK level (the emulator's never finishes): the refresh is
//! started with the preferences from the flags and the new version as desired
//! configuration, waited on to success; a failure that AWS rolled back, and a
//! refresh that overruns the timeout (rolled back by kiln), both end as failures
//! with the group back on the previous version.

use aws_sdk_autoscaling::operation::describe_instance_refreshes::DescribeInstanceRefreshesOutput;
use aws_sdk_autoscaling::operation::rollback_instance_refresh::RollbackInstanceRefreshOutput;
use aws_sdk_autoscaling::operation::start_instance_refresh::StartInstanceRefreshOutput;
use aws_sdk_autoscaling::types::{InstanceRefresh, InstanceRefreshStatus};
use aws_smithy_mocks::{Rule, mock};

use super::super::deployment::{Command, Convergence, Deployment};
use super::super::template::Versions;
use super::{roll_back, run};
use crate::aws::mocked;
use crate::config::Rollout;
use crate::context::Context;
use crate::model::{LaunchTemplateId, Percent, Region, Span, Strategy};

const REFRESH: &str = "08b91cf7-8fa6-48af-b6a6-d227f40f1b9b";

fn rollout(timeout: Span) -> Rollout {
    Rollout {
        strategy: Strategy::InstanceRefresh,
        timeout,
        max_healthy: Some(Percent(110)),
        warmup: Some(60),
        checkpoints: vec![50],
        ..Rollout::of("shop-production")
    }
}

fn versions() -> Versions {
    Versions {
        template: LaunchTemplateId::from_aws("lt-0123456789abcdef0"),
        new: Some(5),
        previous: 4,
        created: true,
        mixed: None,
    }
}

/// A deploy of app:tested with this rollout (the image is not read: refreshes only).
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

fn refresh(status: InstanceRefreshStatus, percent: i32) -> DescribeInstanceRefreshesOutput {
    DescribeInstanceRefreshesOutput::builder()
        .instance_refreshes(
            InstanceRefresh::builder()
                .instance_refresh_id(REFRESH)
                .status(status)
                .percentage_complete(percent)
                .status_reason("Instance i-0abc failed ELB health checks")
                .build(),
        )
        .build()
}

/// StartInstanceRefresh with exactly the flags' preferences and version 5.
fn start() -> Rule {
    mock!(aws_sdk_autoscaling::Client::start_instance_refresh)
        .match_requests(|r| {
            let p = r.preferences().unwrap();
            let desired = r
                .desired_configuration()
                .and_then(|d| d.launch_template())
                .unwrap();
            r.auto_scaling_group_name() == Some("shop-production")
                && desired.launch_template_id() == Some("lt-0123456789abcdef0")
                && desired.version() == Some("5")
                && p.min_healthy_percentage() == Some(90)
                && p.max_healthy_percentage() == Some(110)
                && p.instance_warmup() == Some(60)
                && p.checkpoint_percentages() == [50]
                && p.skip_matching() == Some(true)
                && p.auto_rollback() == Some(true)
        })
        .then_output(|| {
            StartInstanceRefreshOutput::builder()
                .instance_refresh_id(REFRESH)
                .build()
        })
}

fn statuses(sequence: Vec<(InstanceRefreshStatus, i32)>) -> Rule {
    let mut builder = mock!(aws_sdk_autoscaling::Client::describe_instance_refreshes).sequence();
    let last = sequence.last().cloned().unwrap();
    for (status, percent) in sequence {
        builder = builder.output(move || refresh(status.clone(), percent));
    }
    builder
        .output(move || refresh(last.0.clone(), last.1))
        .repeatedly()
        .build()
}

#[tokio::test]
async fn a_refresh_is_started_with_the_preferences_and_waited_on_to_success() {
    let start = start();
    let describe = statuses(vec![
        (InstanceRefreshStatus::Pending, 0),
        (InstanceRefreshStatus::InProgress, 50),
        (InstanceRefreshStatus::Successful, 100),
    ]);
    let ctx = Context::mocked(mocked::aws(&[], &[], &[&start, &describe], &[])).await;
    let rollout = rollout(Span::secs(60));
    let outcome = run(&deployment(&ctx, &rollout), &versions()).await.unwrap();
    assert_eq!(outcome, Convergence::Converged);
    assert_eq!(start.num_calls(), 1);
    assert!(describe.num_calls() >= 3, "waited until it succeeded");
}

#[tokio::test]
async fn a_refresh_aws_rolled_back_is_a_failure_already_undone() {
    let start = start();
    let describe = statuses(vec![
        (InstanceRefreshStatus::InProgress, 25),
        (InstanceRefreshStatus::RollbackInProgress, 25),
        (InstanceRefreshStatus::RollbackSuccessful, 100),
    ]);
    let ctx = Context::mocked(mocked::aws(&[], &[], &[&start, &describe], &[])).await;
    let rollout = rollout(Span::secs(60));
    let outcome = run(&deployment(&ctx, &rollout), &versions()).await.unwrap();
    assert_eq!(
        outcome,
        Convergence::NotConverged {
            why: format!(
                "instance refresh {REFRESH} ended RollbackSuccessful: Instance i-0abc failed ELB health checks"
            )
        }
    );
    // Nothing left to do: no second refresh, no rollback call.
    assert_eq!(
        roll_back(&deployment(&ctx, &rollout), &versions())
            .await
            .unwrap(),
        Convergence::Converged
    );
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn a_refresh_that_overruns_the_timeout_is_rolled_back_by_kiln() {
    let start = start();
    let describe = statuses(vec![
        (InstanceRefreshStatus::InProgress, 10),
        (InstanceRefreshStatus::InProgress, 10),
        (InstanceRefreshStatus::InProgress, 10),
        (InstanceRefreshStatus::RollbackInProgress, 10),
        (InstanceRefreshStatus::RollbackSuccessful, 100),
    ]);
    let rollback = mock!(aws_sdk_autoscaling::Client::rollback_instance_refresh)
        .match_requests(|r| r.auto_scaling_group_name() == Some("shop-production"))
        .then_output(|| RollbackInstanceRefreshOutput::builder().build());
    let ctx = Context::mocked(mocked::aws(&[], &[], &[&start, &describe, &rollback], &[])).await;
    let short = rollout(Span::secs(2));
    let outcome = run(&deployment(&ctx, &short), &versions()).await.unwrap();
    assert_eq!(
        outcome,
        Convergence::NotConverged {
            why: format!("instance refresh {REFRESH} did not finish within 2s")
        }
    );
    let rollout = rollout(Span::secs(60));
    let undone = roll_back(&deployment(&ctx, &rollout), &versions())
        .await
        .unwrap();
    assert_eq!(undone, Convergence::Converged);
    assert_eq!(
        rollback.num_calls(),
        1,
        "kiln asked AWS to roll the refresh back"
    );
}

#[tokio::test]
async fn an_interrupted_refresh_is_cancelled_by_the_teardown() {
    let start = start();
    let describe = statuses(vec![(InstanceRefreshStatus::InProgress, 10)]);
    let cancel = mock!(aws_sdk_autoscaling::Client::cancel_instance_refresh)
        .match_requests(|r| r.auto_scaling_group_name() == Some("shop-production"))
        .then_output(|| {
            aws_sdk_autoscaling::operation::cancel_instance_refresh::CancelInstanceRefreshOutput::builder()
                .build()
        });
    let ctx = Context::mocked(mocked::aws(&[], &[], &[&start, &describe, &cancel], &[])).await;
    // What SIGTERM does in lib::run: the stage is dropped at its next await...
    let (long, versions) = (rollout(Span::secs(600)), versions());
    let d = deployment(&ctx, &long);
    let waiting = run(&d, &versions);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(1500), waiting)
            .await
            .is_err()
    );
    // ...and the teardown removes what it held.
    let finished = ctx
        .teardown
        .finish::<()>(&ctx.effects, Err(crate::error::Error::NoGroup))
        .await;
    assert!(matches!(finished, Err(crate::error::Error::NoGroup)));
    assert_eq!(cancel.num_calls(), 1, "the refresh was cancelled");
}

#[tokio::test]
async fn a_mixed_group_is_refreshed_to_its_policy_on_the_new_version() {
    use aws_sdk_autoscaling::types::{
        InstancesDistribution, LaunchTemplate, LaunchTemplateOverrides,
        LaunchTemplateSpecification, MixedInstancesPolicy,
    };
    let start = mock!(aws_sdk_autoscaling::Client::start_instance_refresh)
        .match_requests(|r| {
            let desired = r.desired_configuration().unwrap();
            let Some(policy) = desired.mixed_instances_policy() else {
                return false;
            };
            let launch = policy.launch_template().unwrap();
            let spec = launch.launch_template_specification().unwrap();
            let types: Vec<_> = launch
                .overrides()
                .iter()
                .filter_map(|o| o.instance_type())
                .collect();
            desired.launch_template().is_none()
                && spec.launch_template_id() == Some("lt-0123456789abcdef0")
                && spec.version() == Some("5")
                && types == ["m6i.large", "m5.large"]
                && policy
                    .instances_distribution()
                    .and_then(|d| d.spot_allocation_strategy())
                    == Some("price-capacity-optimized")
        })
        .then_output(|| {
            StartInstanceRefreshOutput::builder()
                .instance_refresh_id(REFRESH)
                .build()
        });
    let describe = statuses(vec![(InstanceRefreshStatus::Successful, 100)]);
    let ctx = Context::mocked(mocked::aws(&[], &[], &[&start, &describe], &[])).await;
    let rollout = rollout(Span::secs(60));
    let policy = MixedInstancesPolicy::builder()
        .launch_template(
            LaunchTemplate::builder()
                .launch_template_specification(
                    LaunchTemplateSpecification::builder()
                        .launch_template_id("lt-0123456789abcdef0")
                        .launch_template_name("shop")
                        .version("4")
                        .build(),
                )
                .overrides(
                    LaunchTemplateOverrides::builder()
                        .instance_type("m6i.large")
                        .build(),
                )
                .overrides(
                    LaunchTemplateOverrides::builder()
                        .instance_type("m5.large")
                        .build(),
                )
                .build(),
        )
        .instances_distribution(
            InstancesDistribution::builder()
                .on_demand_base_capacity(1)
                .on_demand_percentage_above_base_capacity(25)
                .spot_allocation_strategy("price-capacity-optimized")
                .build(),
        )
        .build();
    let versions = Versions {
        mixed: Some(policy),
        ..versions()
    };
    let outcome = run(&deployment(&ctx, &rollout), &versions).await.unwrap();
    assert_eq!(outcome, Convergence::Converged);
    assert_eq!(
        start.num_calls(),
        1,
        "started with the policy on version 5, overrides and distribution kept"
    );
}
