//! The guard over what kiln creates for one run (the verify instance; blue-green
//! groups later): whatever happens, it is removed before kiln exits.
//!
//! A stage `hold`s each temporary resource as soon as AWS returns its id and
//! `remove`s it when done. `lib::run` calls `finish` after every stage, on success,
//! on error and after SIGINT/SIGTERM (the stage is dropped at its next await), so
//! what a stage left behind is removed in one place. Removal goes through the
//! effect gate like any other change; a failed removal is exit code 3.

use std::fmt;
use std::sync::Mutex;

use crate::effect::{Change, Effects};
use crate::error::{Error, Result};
use crate::model::{InstanceId, Region};

/// Something that exists only for one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Temporary {
    VerifyInstance { region: Region, id: InstanceId },
}

impl Temporary {
    fn removal(&self) -> Change {
        match self {
            Temporary::VerifyInstance { region, id } => Change::TerminateInstances {
                region: region.clone(),
                instances: vec![id.clone()],
            },
        }
    }
}

impl fmt::Display for Temporary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Temporary::VerifyInstance { region, id } => {
                write!(f, "verify instance {id} in {region}")
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
        effects.apply(thing.removal()).await?;
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
