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

use crate::effect::{Change, Effects, RolloutChange};
use crate::error::{Error, Result};
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
            Temporary::VerifyInstance { region, id } => vec![Change::TerminateInstances {
                region: region.clone(),
                instances: vec![id.clone()],
            }],
            Temporary::DeployLock {
                region,
                name,
                group,
            } => vec![
                Change::Rollout(RolloutChange::UntagGroup {
                    region: region.clone(),
                    group: group.clone(),
                    key: crate::provenance::tag::DEPLOY_LOCK.into(),
                }),
                Change::Rollout(RolloutChange::ReleaseLock {
                    region: region.clone(),
                    name: name.clone(),
                }),
            ],
            Temporary::RaisedCapacity {
                region,
                group,
                original,
            } => vec![Change::Rollout(RolloutChange::UpdateGroup {
                region: region.clone(),
                group: group.clone(),
                template: None,
                capacity: Some(*original),
            })],
            Temporary::NewGroup { region, group } => {
                vec![Change::Rollout(RolloutChange::DeleteGroup {
                    region: region.clone(),
                    group: group.clone(),
                })]
            }
            Temporary::Refresh { region, group } => {
                vec![Change::Rollout(RolloutChange::CancelRefresh {
                    region: region.clone(),
                    group: group.clone(),
                })]
            }
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
    /// From now on, `thing` is removed however the run ends.
    pub fn hold(&self, thing: Temporary) {
        self.lock().push(thing);
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
        for thing in held {
            match self.remove(effects, &thing).await {
                Ok(()) => eprintln!("kiln: removed {thing}"),
                Err(error) => {
                    detail = error.to_string();
                    left.push(thing.to_string());
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
