//! The guard over what kiln creates or changes for one run (a verify instance, a
//! deploy lock, a group's raised capacity, a blue-green group that has not taken
//! over, an instance refresh kiln waits on): whatever happens, it is removed or
//! undone before kiln exits.
//!
//! A stage `hold`s each temporary resource as soon as AWS returns its id and
//! `remove`s it when done. `lib::run` calls `finish` after every stage, on success,
//! on error and after SIGINT/SIGTERM (the stage is dropped at its next await), so
//! what a stage left behind is removed in one place. Removal goes through the
//! effect gate like any other change; a failed removal is exit code 3.

use std::fmt;
use std::sync::Mutex;

use crate::effect::{Change, Effects, GroupChange, InstanceChange, ParameterChange};
use crate::error::{Error, Leftover, Result};
use crate::model::{GroupName, InstanceId, Region};

/// Something that exists (or a state that lasts) only for one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Temporary {
    VerifyInstance {
        region: Region,
        id: InstanceId,
    },
    /// The deploy lock: an SSM parameter, and a tag on the group for people.
    DeployLock {
        region: Region,
        name: String,
        group: GroupName,
    },
    /// A group's capacity raised for a rollout; removal restores it.
    RaisedCapacity {
        region: Region,
        group: GroupName,
        /// (min, desired, max) before the rollout.
        original: (i32, i32, i32),
    },
    /// A blue-green group that has not taken over yet.
    NewGroup {
        region: Region,
        group: GroupName,
    },
    /// An instance refresh kiln started and is waiting on; removal cancels it, so
    /// an interrupted deploy does not leave the group changing unattended.
    Refresh {
        region: Region,
        group: GroupName,
    },
}

impl Temporary {
    fn removal(&self) -> Vec<Change> {
        match self {
            Temporary::VerifyInstance { region, id } => vec![
                InstanceChange::Terminate {
                    region: region.clone(),
                    instances: vec![id.clone()],
                }
                .into(),
            ],
            Temporary::DeployLock {
                region,
                name,
                group,
            } => vec![
                Change::Group(GroupChange::Untag {
                    region: region.clone(),
                    group: group.clone(),
                    key: crate::provenance::tag::DEPLOY_LOCK.into(),
                }),
                Change::Parameter(ParameterChange::ReleaseLock {
                    region: region.clone(),
                    name: name.clone(),
                }),
            ],
            Temporary::RaisedCapacity {
                region,
                group,
                original,
            } => vec![Change::Group(GroupChange::Update {
                region: region.clone(),
                group: group.clone(),
                template: None,
                capacity: Some(*original),
            })],
            Temporary::NewGroup { region, group } => {
                vec![Change::Group(GroupChange::Delete {
                    region: region.clone(),
                    group: group.clone(),
                })]
            }
            Temporary::Refresh { region, group } => {
                vec![Change::Group(GroupChange::CancelRefresh {
                    region: region.clone(),
                    group: group.clone(),
                })]
            }
        }
    }
}

impl Temporary {
    /// How a person removes it when kiln could not: the help of a failed cleanup.
    fn by_hand(&self) -> String {
        match self {
            Temporary::VerifyInstance { region, id } => format!(
                "terminate {id}: aws ec2 terminate-instances --instance-ids {id} --region {region} (it also shuts itself down at the end of its lifetime, and `kiln verify --cleanup` removes it once that has passed)"
            ),
            Temporary::DeployLock {
                region,
                name,
                group,
            } => format!(
                "release the deploy lock: aws ssm delete-parameter --name {name} --region {region} (it also expires by itself), then untag the group: aws autoscaling delete-tags --tags ResourceId={group},ResourceType=auto-scaling-group,Key={} --region {region}",
                crate::provenance::tag::DEPLOY_LOCK
            ),
            Temporary::RaisedCapacity {
                region,
                group,
                original: (min, desired, max),
            } => format!(
                "restore the capacity of {group}: aws autoscaling update-auto-scaling-group --auto-scaling-group-name {group} --min-size {min} --desired-capacity {desired} --max-size {max} --region {region}"
            ),
            Temporary::NewGroup { region, group } => format!(
                "delete the new group: aws autoscaling delete-auto-scaling-group --auto-scaling-group-name {group} --force-delete --region {region}"
            ),
            Temporary::Refresh { region, group } => format!(
                "cancel the instance refresh: aws autoscaling cancel-instance-refresh --auto-scaling-group-name {group} --region {region}"
            ),
        }
    }

    fn leftover(&self) -> Leftover {
        Leftover {
            what: self.to_string(),
            by_hand: self.by_hand(),
        }
    }
}

impl fmt::Display for Temporary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Temporary::VerifyInstance { region, id } => {
                write!(f, "verify instance {id} in {region}")
            }
            Temporary::DeployLock { region, group, .. } => {
                write!(f, "the deploy lock on {group} in {region}")
            }
            Temporary::RaisedCapacity {
                region,
                group,
                original,
            } => write!(
                f,
                "the raised capacity of {group} in {region} (back to min={} desired={} max={})",
                original.0, original.1, original.2
            ),
            Temporary::NewGroup { region, group } => {
                write!(f, "the new group {group} in {region}")
            }
            Temporary::Refresh { region, group } => {
                write!(f, "the instance refresh of {group} in {region} (cancelled)")
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct Teardown {
    held: Mutex<Vec<Temporary>>,
}

impl Teardown {
    /// From now on, `thing` is removed however the run ends; returns what is held.
    /// A group's capacity is held once, with the capacity it had before kiln first
    /// raised it: a second raise (a rollback after a failed rollout) returns the
    /// first, so the group always ends at the capacity it started with.
    pub fn hold(&self, thing: Temporary) -> Temporary {
        let mut held = self.lock();
        if let Temporary::RaisedCapacity { region, group, .. } = &thing
            && let Some(first) = held.iter().find(|h| {
                matches!(h, Temporary::RaisedCapacity { region: r, group: g, .. } if r == region && g == group)
            })
        {
            return first.clone();
        }
        held.push(thing.clone());
        thing
    }

    /// Lets `thing` outlive the run (`--keep-on-failure`).
    pub fn keep(&self, thing: &Temporary) {
        self.lock().retain(|held| held != thing);
    }

    /// Removes `thing` now. It stays held if the removal fails, so `finish` tries
    /// once more and reports it.
    pub async fn remove(&self, effects: &Effects, thing: &Temporary) -> Result<()> {
        for change in thing.removal() {
            effects.apply(change).await?;
        }
        self.keep(thing);
        Ok(())
    }

    /// Removes everything still held, then returns the run's result, or the
    /// cleanup failure (which names the run's own error too).
    pub async fn finish<T>(&self, effects: &Effects, result: Result<T>) -> Result<T> {
        let held: Vec<Temporary> = self.lock().clone();
        let mut left = Vec::new();
        let mut detail = String::new();
        // Newest first, as they were made: a group's capacity is restored before
        // the lock on it is released.
        for thing in held.into_iter().rev() {
            match self.remove(effects, &thing).await {
                Ok(()) => crate::ui::to_stderr(format_args!("kiln: removed {thing}")),
                Err(error) => {
                    detail = error.to_string();
                    left.push(thing.leftover());
                }
            }
        }
        if left.is_empty() {
            return result;
        }
        Err(Error::CleanupFailed {
            left,
            detail,
            after: result.err().map(|e| e.to_string()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Temporary>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_group_ends_at_the_capacity_it_had_before_kiln_raised_it() {
        use aws_sdk_autoscaling::operation::update_auto_scaling_group::UpdateAutoScalingGroupOutput;
        use aws_smithy_mocks::mock;
        // Only a restore to the capacity before the first raise is answered: a
        // restore to the raised size (the second raise's "original") fails the run.
        let restore = mock!(aws_sdk_autoscaling::Client::update_auto_scaling_group)
            .match_requests(|r| r.desired_capacity() == Some(3) && r.min_size() == Some(1))
            .then_output(|| UpdateAutoScalingGroupOutput::builder().build());
        let ctx =
            crate::context::Context::mocked(crate::aws::mocked::aws(&[], &[], &[&restore], &[]))
                .await;
        let raise = |original| Temporary::RaisedCapacity {
            region: region(),
            group: group(),
            original,
        };
        let first = ctx.teardown.hold(raise((1, 3, 6)));
        // A rollback after the failed rollout raises again from the raised size.
        let second = ctx.teardown.hold(raise((1, 4, 6)));
        assert_eq!(second, first, "the first raise is the one held");
        ctx.teardown
            .finish(&ctx.effects, Ok(()))
            .await
            .expect("restored to the capacity before the first raise");
        assert_eq!(restore.num_calls(), 1);
    }

    fn cleanup_failed(left: &[Temporary]) -> Error {
        Error::CleanupFailed {
            left: left.iter().map(Temporary::leftover).collect(),
            detail: "access denied".into(),
            after: None,
        }
    }

    const ARG: crate::error::Source = crate::error::Source::Argument("test");

    fn region() -> Region {
        Region::parse("eu-west-1", &ARG).unwrap()
    }

    fn group() -> GroupName {
        GroupName::parse("web", &ARG).unwrap()
    }

    fn lock() -> Temporary {
        Temporary::DeployLock {
            region: region(),
            name: "/kiln/shop/deploy-lock/web".into(),
            group: group(),
        }
    }

    #[test]
    fn a_verify_instance_left_is_terminated_by_hand() {
        let instance = Temporary::VerifyInstance {
            region: region(),
            id: InstanceId::parse("i-0123456789abcdef0", &ARG).unwrap(),
        };
        let err = cleanup_failed(&[instance]);
        assert_eq!(
            err.to_string(),
            "could not remove verify instance i-0123456789abcdef0 in eu-west-1: access denied"
        );
        assert_eq!(
            err.help().unwrap(),
            "terminate i-0123456789abcdef0: aws ec2 terminate-instances --instance-ids i-0123456789abcdef0 --region eu-west-1 (it also shuts itself down at the end of its lifetime, and `kiln verify --cleanup` removes it once that has passed)"
        );
    }

    #[test]
    fn a_deploy_lock_left_is_released_not_terminated() {
        let err = cleanup_failed(&[lock()]);
        let help = err.help().unwrap();
        assert_eq!(
            help,
            "release the deploy lock: aws ssm delete-parameter --name /kiln/shop/deploy-lock/web --region eu-west-1 (it also expires by itself), then untag the group: aws autoscaling delete-tags --tags ResourceId=web,ResourceType=auto-scaling-group,Key=kiln:deploy-lock --region eu-west-1"
        );
        assert!(!help.contains("instance"), "{help}");
    }

    #[test]
    fn several_things_left_each_say_how() {
        let refresh = Temporary::Refresh {
            region: region(),
            group: group(),
        };
        let err = cleanup_failed(&[refresh, lock()]);
        assert_eq!(
            err.to_string(),
            "could not remove the instance refresh of web in eu-west-1 (cancelled), the deploy lock on web in eu-west-1: access denied"
        );
        let help = err.help().unwrap();
        assert!(
            help.starts_with(
                "cancel the instance refresh: aws autoscaling cancel-instance-refresh --auto-scaling-group-name web --region eu-west-1; release the deploy lock: "
            ),
            "{help}"
        );
    }
}
