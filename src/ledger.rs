//! The deploy ledger: what every deploy and rollback of an environment changed,
//! kept in SSM beside the registry (one parameter per app and environment; the
//! registry knows where). Each version of the parameter is one JSON record: a
//! deploy writes one when it starts (`in-progress`, with what every group ran
//! before) and one when it ends (the outcome and what every group runs after).
//! Versions with the same `id` are the same deploy; the newest wins.
//!
//! Rollback reads the "before" of the newest deploy from here, so it returns a
//! group to exactly what it ran, whoever put it there; `history --deploys --at`
//! answers what ran where at a given time.
//!
//! Limits (SSM): a value holds 8 KB as an advanced parameter (kiln writes with
//! the Intelligent-Tiering tier: standard until a record passes 4 KB), and the
//! parameter keeps its 100 newest versions, so about the 50 newest deploys.

use serde::{Deserialize, Serialize};

use crate::model::{
    AmiId, GroupName, LaunchTemplateId, Region, Role, Strategy, Timestamp, Version,
};

/// The largest value SSM takes (an advanced parameter).
pub const MAX_RECORD_BYTES: usize = 8192;

/// How a deploy or rollback ended, as the record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Started and not (yet) ended: running, or interrupted without an end record.
    InProgress,
    /// Every group converged on the new image.
    Deployed,
    /// A group did not converge and every group that changed went back.
    FailedRolledBack,
    /// A group did not converge and not every group went back (or was not asked to).
    Failed,
    /// `kiln rollback` returned the groups to what they ran before a deploy.
    RolledBack,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::InProgress => "in progress",
            Outcome::Deployed => "deployed",
            Outcome::FailedRolledBack => "failed and rolled back",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolled back by command",
        }
    }
}

/// What a group launches: a launch template version and the image in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Launch {
    pub template: LaunchTemplateId,
    pub version: i64,
    pub ami_id: Option<AmiId>,
}

/// One group of a deploy: what it ran before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    pub region: Region,
    pub group: GroupName,
    pub before: Launch,
    /// `None` until the group converged (or in a start record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Launch>,
}

/// The channel of the environment in one region, around a deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMove {
    pub region: Region,
    pub name: String,
    /// The version the channel labelled before (`None`: it labelled none).
    pub before: Option<Version>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Version>,
}

/// One deploy or rollback of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployRecord {
    /// The run's id: the start and end records of one deploy share it.
    pub id: String,
    pub environment: String,
    /// `deploy` or `rollback`.
    pub command: String,
    pub outcome: Outcome,
    /// The reference given (`app:tested`), or what a rollback returned to.
    pub reference: String,
    pub role: Role,
    /// The registry version deployed, when the image is in the registry.
    pub version: Option<Version>,
    /// The image in the primary region.
    pub ami_id: Option<AmiId>,
    pub strategy: Strategy,
    pub groups: Vec<GroupRecord>,
    /// The environment's channel per region, when the deploy may move it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelMove>,
    /// For a rollback: the id of the deploy it undid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<String>,
    /// Who ran it: the CI actor, else the user.
    pub who: String,
    pub started: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<Timestamp>,
    pub commit: Option<String>,
    pub build_url: Option<String>,
    /// Why it failed, in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl DeployRecord {
    /// The record as the parameter stores it: compact JSON.
    pub fn to_value(&self) -> String {
        serde_json::to_string(self).expect("a deploy record always serialises")
    }

    pub fn from_value(value: &str) -> Option<Self> {
        serde_json::from_str(value).ok()
    }

    /// A deploy whose "before" a rollback returns to: one that changed groups and
    /// did not already put them all back.
    pub fn undoable(&self) -> bool {
        self.command == "deploy" && self.outcome != Outcome::FailedRolledBack
    }

    pub fn group(&self, region: &Region, group: &GroupName) -> Option<&GroupRecord> {
        self.groups
            .iter()
            .find(|g| &g.region == region && &g.group == group)
    }
}

/// The records of a parameter's versions (oldest first), one per deploy with its
/// newest state, newest deploy first. Values that are not records are skipped.
pub fn records(values: &[(Version, String)]) -> Vec<(Version, DeployRecord)> {
    let mut newest: Vec<(Version, DeployRecord)> = Vec::new();
    for (version, value) in values {
        let Some(record) = DeployRecord::from_value(value) else {
            continue;
        };
        match newest.iter_mut().find(|(_, r)| r.id == record.id) {
            Some(slot) if slot.0 < *version => *slot = (*version, record),
            Some(_) => {}
            None => newest.push((*version, record)),
        }
    }
    newest.sort_by_key(|(version, record)| {
        (
            std::cmp::Reverse(record.started),
            std::cmp::Reverse(*version),
        )
    });
    newest
}

/// What one group ran at a time, and which record says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RanAt {
    pub region: Region,
    pub group: GroupName,
    /// `None`: the time falls inside a deploy that had not ended, so some
    /// instances may have run `before` and some `after`.
    pub launch: Option<Launch>,
    pub state: String,
    pub record: String,
    pub who: String,
}

/// Per group of the records, what it ran at `at`: after the newest record that
/// had started by then. Groups no record had touched by then are left out.
pub fn ran_at(records: &[(Version, DeployRecord)], at: Timestamp) -> Vec<RanAt> {
    let mut seen: Vec<(Region, GroupName)> = Vec::new();
    let mut ran = Vec::new();
    // Newest first: the first record that started by `at` decides for its groups.
    for (_, record) in records.iter().filter(|(_, r)| r.started <= at) {
        for group in &record.groups {
            let key = (group.region.clone(), group.group.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let ended = record.ended.filter(|end| *end <= at);
            let (launch, state) = match (ended, record.outcome) {
                (None, _) => (
                    None,
                    format!(
                        "{} was in progress (from launch template version {})",
                        record.command, group.before.version
                    ),
                ),
                (Some(_), Outcome::Deployed | Outcome::RolledBack) => {
                    (group.after.clone(), record.outcome.as_str().to_string())
                }
                (Some(_), Outcome::FailedRolledBack) => (
                    Some(group.before.clone()),
                    record.outcome.as_str().to_string(),
                ),
                (Some(_), Outcome::Failed | Outcome::InProgress) => (
                    group.after.clone(),
                    format!(
                        "{} {} (the group may have run a mix)",
                        record.command,
                        record.outcome.as_str()
                    ),
                ),
            };
            ran.push(RanAt {
                region: group.region.clone(),
                group: group.group.clone(),
                launch,
                state,
                record: record.id.clone(),
                who: record.who.clone(),
            });
        }
    }
    ran
}

#[cfg(test)]
mod tests;
