//! One deploy per group at a time. The lock is an SSM parameter created without
//! overwrite (exactly one of two racing deploys can create it), with the holder
//! and an expiry in its value, and the same text in a tag on the group so people
//! see it in the console. An active instance refresh counts as a holder too.
//! The teardown guard removes both on every ending; a crashed run's lock expires.

use crate::effect::{Applied, GroupChange, ParameterChange};
use crate::error::{Error, Result};
use crate::model::{RunId, Timestamp};
use crate::provenance::tag;
use crate::teardown::Temporary;

use super::deployment::Deployment;

/// The parameter that is the lock on a group of an app (the registry knows where).
pub fn name(d: &Deployment<'_>) -> Result<String> {
    Ok(d.registry.lock_parameter(d.group()))
}

/// Takes the lock for this run, or says who holds it. Returns the held lock, which the
/// deploy removes when it ends; `None` in a dry run.
pub async fn take(d: &Deployment<'_>, run: &RunId) -> Result<Option<Temporary>> {
    let (ctx, rollout) = (d.ctx, d.rollout);
    let region = d.region();
    let lock = name(d)?;
    let refreshing = d
        .read(
            format!("autoscaling:DescribeInstanceRefreshes {}", rollout.group),
            |aws| async move { aws.autoscaling.refreshes(&rollout.group).await },
        )
        .await?;
    if let Some(active) = refreshing.iter().find(|r| r.active()) {
        return Err(Error::DeployLocked {
            group: rollout.group.to_string(),
            holder: format!(
                "instance refresh {} is {} ({}% done)",
                active.id, active.status, active.percent
            ),
            lock,
            region: region.to_string(),
            by_refresh: true,
        });
    }
    let until = Timestamp(Timestamp::now().0 + rollout.timeout.as_secs() as i64 * 2 + 600);
    let holder = format!(
        "run {run} deploying {}, by {}, until {}",
        d.subject(),
        actor(&ctx.config.ci),
        until.rfc3339()
    );
    for attempt in 0..2 {
        let change = ParameterChange::TakeLock {
            region: region.clone(),
            name: lock.clone(),
            holder: holder.clone(),
        };
        match ctx.effects.apply(change).await? {
            Applied::Refused => {
                let current = d
                    .read(format!("ssm:GetParameter {lock}"), |aws| {
                        let lock = &lock;
                        async move { aws.ssm.get(lock).await }
                    })
                    .await?
                    .map(|p| p.value);
                let Some(current) = current else { continue };
                // Our own write, whose answer was lost and which the SDK sent again:
                // the lock is ours.
                if current == holder {
                    return held(d, &lock, &holder).await.map(Some);
                }
                let expired = current
                    .rsplit("until ")
                    .next()
                    .and_then(Timestamp::parse_iso)
                    .is_some_and(|at| at < Timestamp::now());
                if expired && attempt == 0 {
                    ctx.ui
                        .note(format!("taking over an expired deploy lock ({current})"));
                    ctx.effects
                        .apply(ParameterChange::ReleaseLock {
                            region: region.clone(),
                            name: lock.clone(),
                        })
                        .await?;
                    continue;
                }
                return Err(Error::DeployLocked {
                    group: rollout.group.to_string(),
                    holder: current,
                    lock,
                    region: region.to_string(),
                    by_refresh: false,
                });
            }
            Applied::Planned => return Ok(None),
            _ => return held(d, &lock, &holder).await.map(Some),
        }
    }
    Err(Error::DeployLocked {
        group: rollout.group.to_string(),
        holder: "a deploy that keeps taking the lock".into(),
        lock,
        region: region.to_string(),
        by_refresh: false,
    })
}

/// The lock is this run's: the teardown holds it, and the group shows the holder.
async fn held(d: &Deployment<'_>, lock: &str, holder: &str) -> Result<Temporary> {
    let held = Temporary::DeployLock {
        region: d.region().clone(),
        name: lock.to_string(),
        group: d.group().clone(),
    };
    d.ctx.teardown.hold(held.clone());
    d.apply(GroupChange::Tag {
        region: d.region().clone(),
        group: d.group().clone(),
        key: tag::DEPLOY_LOCK.into(),
        value: holder.chars().take(256).collect(),
    })
    .await?;
    Ok(held)
}

/// Who is deploying, as CI names it.
pub fn actor(ci: &crate::config::CiEnv) -> String {
    if let (Some(repo), Some(run)) = (&ci.github_repository, &ci.github_run_id) {
        return format!("GitHub Actions {repo} run {run}");
    }
    if let Some(url) = &ci.build_url {
        return format!("Jenkins {}", crate::provenance::without_credentials(url));
    }
    ci.user
        .as_ref()
        .map_or_else(|| "kiln".to_string(), |user| format!("{user} (kiln)"))
}

#[cfg(test)]
mod tests {
    //! At the SDK level: the emulator cannot lose an answer after it made the change.

    use std::sync::{Arc, Mutex};

    use aws_sdk_autoscaling::operation::create_or_update_tags::CreateOrUpdateTagsOutput;
    use aws_sdk_autoscaling::operation::describe_instance_refreshes::DescribeInstanceRefreshesOutput;
    use aws_sdk_ssm::error::ErrorMetadata;
    use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
    use aws_sdk_ssm::operation::put_parameter::PutParameterError;
    use aws_sdk_ssm::types::Parameter;
    use aws_smithy_mocks::mock;

    use super::super::deployment::{Command, Deployment};
    use crate::config::Rollout;
    use crate::context::Context;
    use crate::model::{ImageRef, Region, Role, RunId, Selector};

    #[tokio::test]
    async fn a_lock_that_exists_because_this_run_wrote_it_is_this_runs() {
        // The first PutParameter made the lock, its answer was lost, the SDK sent it
        // again: SSM says it exists, holding exactly what this run wrote.
        let written = Arc::new(Mutex::new(String::new()));
        let seen = written.clone();
        let put = mock!(aws_sdk_ssm::Client::put_parameter)
            .match_requests(move |r| {
                *seen.lock().unwrap() = r.value().unwrap_or_default().to_string();
                true
            })
            .then_error(|| {
                PutParameterError::generic(
                    ErrorMetadata::builder()
                        .code("ParameterAlreadyExists")
                        .message("The parameter already exists.")
                        .build(),
                )
            });
        let stored = written.clone();
        let get = mock!(aws_sdk_ssm::Client::get_parameter).then_output(move || {
            GetParameterOutput::builder()
                .parameter(
                    Parameter::builder()
                        .value(stored.lock().unwrap().clone())
                        .version(1)
                        .build(),
                )
                .build()
        });
        let refreshes = mock!(aws_sdk_autoscaling::Client::describe_instance_refreshes)
            .then_output(|| DescribeInstanceRefreshesOutput::builder().build());
        let tag = mock!(aws_sdk_autoscaling::Client::create_or_update_tags)
            .then_output(|| CreateOrUpdateTagsOutput::builder().build());
        let ctx = Context::mocked(crate::aws::mocked::aws(
            &[],
            &[&put, &get],
            &[&refreshes, &tag],
            &[],
        ))
        .await;
        let rollout = Rollout::of("shop-web");
        let region = Region::from_aws("eu-west-1");
        let d = Deployment {
            ctx: &ctx,
            rollout: &rollout,
            region: region.clone(),
            command: Command::Deploy,
            registry: ctx.registry(&region).unwrap(),
            reference: ImageRef {
                role: Role::App,
                selector: Selector::Latest,
            },
            entry: None,
            pin: None,
        };
        let held = super::take(&d, &RunId::new()).await.unwrap();
        assert!(held.is_some(), "the lock is this run's");
        assert_eq!(tag.num_calls(), 1, "and the group shows it");
    }
}
