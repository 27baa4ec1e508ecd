//! A dry run's plan: what kiln would change, run, read and call, in order, as data
//! (`--output json`) and as text. Each change's action name comes from one place,
//! `Change::action`, for both.

use std::fmt;
use std::sync::{Arc, Mutex};

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::Change;
use crate::tools::ToolCommand;

/// One line of a dry run's plan.
#[derive(Debug, Clone)]
pub enum PlanEntry {
    Write(Change),
    Run(ToolCommand),
    Read {
        what: String,
        reason: String,
    },
    /// A call to GitHub (deployment records).
    Github {
        what: String,
    },
}

impl PlanEntry {
    /// Whether the entry is something kiln would change (not a read).
    pub fn changes(&self) -> bool {
        !matches!(self, PlanEntry::Read { .. })
    }
}

impl fmt::Display for PlanEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanEntry::Write(change) => write!(f, "would run   {change}"),
            PlanEntry::Run(command) => write!(f, "would run   {command}"),
            PlanEntry::Read { what, reason } => write!(f, "would read  {what} ({reason})"),
            PlanEntry::Github { what } => write!(f, "would call  GitHub: {what}"),
        }
    }
}

/// `{"kind": "write", "action": …, <the change's fields>}` and so on: the action
/// is the same `Change::action` the text shows.
impl Serialize for PlanEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut value = match self {
            PlanEntry::Write(change) => {
                let mut value = serde_json::to_value(change).map_err(serde::ser::Error::custom)?;
                if let Value::Object(map) = &mut value {
                    map.insert("action".into(), change.action().into());
                }
                value
            }
            PlanEntry::Run(command) => {
                serde_json::to_value(command).map_err(serde::ser::Error::custom)?
            }
            PlanEntry::Read { what, reason } => serde_json::json!({"what": what, "reason": reason}),
            PlanEntry::Github { what } => serde_json::json!({"what": what}),
        };
        let kind = match self {
            PlanEntry::Write(_) => "write",
            PlanEntry::Run(_) => "run",
            PlanEntry::Read { .. } => "read",
            PlanEntry::Github { .. } => "github",
        };
        if let Value::Object(map) = &mut value {
            map.insert("kind".into(), kind.into());
        }
        value.serialize(serializer)
    }
}

/// The plan being recorded, shared by the effect gate and the reader.
#[derive(Debug, Default, Clone)]
pub struct Plan(Arc<Mutex<Vec<PlanEntry>>>);

impl Plan {
    pub fn record(&self, entry: PlanEntry) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
    }

    pub fn entries(&self) -> Vec<PlanEntry> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
