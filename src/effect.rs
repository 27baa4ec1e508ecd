//! The one gate every change passes.
//!
//! Stages describe changes as `Change` values; `Effects::apply` is the single place
//! where they happen. In a dry run it records the change in the plan and returns
//! `Applied::Planned` instead. Reads that cannot be made in a dry run (no
//! credentials, no region) are recorded as "would read" entries, so the plan still
//! prints on a laptop with no AWS account.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use serde::Serialize;

use crate::aws::Aws;
use crate::error::Result;
use crate::model::{AmiId, Channel, ParameterName, Region, Version};

/// A change to the world outside kiln.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action")]
pub enum Change {
    #[serde(rename = "ec2:CreateTags")]
    TagImage {
        region: Region,
        ami_id: AmiId,
        tags: BTreeMap<String, String>,
    },
    #[serde(rename = "ssm:PutParameter")]
    PutParameter {
        region: Region,
        name: ParameterName,
        value: AmiId,
        data_type: &'static str,
        description: String,
    },
    #[serde(rename = "ssm:LabelParameterVersion")]
    LabelVersion {
        region: Region,
        name: ParameterName,
        /// `None` in a dry run that could not read which version the reference means.
        version: Option<Version>,
        labels: Vec<Channel>,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::TagImage {
                region,
                ami_id,
                tags,
            } => {
                let tags: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "ec2:CreateTags {ami_id} in {region}: {}", tags.join(" "))
            }
            Change::PutParameter {
                region,
                name,
                value,
                data_type,
                description,
            } => write!(
                f,
                "ssm:PutParameter {name} in {region}: value={value} type=String data-type={data_type} overwrite=true description=\"{description}\""
            ),
            Change::LabelVersion {
                region,
                name,
                version,
                labels,
            } => {
                let labels: Vec<&str> = labels.iter().map(|l| l.as_str()).collect();
                let version = version
                    .map_or("(the version the reference names)".to_string(), |v| {
                        v.to_string()
                    });
                write!(
                    f,
                    "ssm:LabelParameterVersion {name} in {region}: version={version} labels={}",
                    labels.join(",")
                )
            }
        }
    }
}

/// What applying a change gave back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// A new parameter version.
    Version(Version),
    /// Dry run: recorded, not done.
    Planned,
}

/// One line of a dry run's plan.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PlanEntry {
    Write(Change),
    Read { what: String, reason: String },
}

impl fmt::Display for PlanEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanEntry::Write(change) => write!(f, "would run   {change}"),
            PlanEntry::Read { what, reason } => write!(f, "would read  {what} ({reason})"),
        }
    }
}

#[derive(Debug)]
pub struct Effects {
    aws: Aws,
    dry_run: bool,
    /// Why reads cannot be made (dry run without credentials or region).
    offline: Option<String>,
    plan: Mutex<Vec<PlanEntry>>,
}

impl Effects {
    pub fn new(aws: Aws, dry_run: bool, offline: Option<String>) -> Self {
        Self {
            aws,
            dry_run,
            offline,
            plan: Mutex::new(Vec::new()),
        }
    }

    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// Runs a read, or in an offline dry run records that it would have run.
    /// `Ok(None)` means "not read".
    pub async fn read<T>(
        &self,
        what: impl Into<String>,
        read: impl Future<Output = Result<T>>,
    ) -> Result<Option<T>> {
        match &self.offline {
            Some(reason) => {
                self.record(PlanEntry::Read {
                    what: what.into(),
                    reason: reason.clone(),
                });
                Ok(None)
            }
            None => read.await.map(Some),
        }
    }

    /// The single place a change happens.
    pub async fn apply(&self, change: Change) -> Result<Applied> {
        if self.dry_run {
            self.record(PlanEntry::Write(change));
            return Ok(Applied::Planned);
        }
        tracing::info!("{change}");
        match change {
            Change::TagImage {
                region,
                ami_id,
                tags,
            } => {
                self.aws.ec2(&region).tag(&ami_id, &tags).await?;
                Ok(Applied::Done)
            }
            Change::PutParameter {
                region,
                name,
                value,
                description,
                ..
            } => {
                let version = self
                    .aws
                    .ssm(&region)
                    .put_image_id(&name, &value, &description)
                    .await?;
                Ok(Applied::Version(version))
            }
            Change::LabelVersion {
                region,
                name,
                version,
                labels,
            } => {
                let version = version.expect("a real run always knows the version it labels");
                self.aws.ssm(&region).label(&name, version, &labels).await?;
                Ok(Applied::Done)
            }
        }
    }

    fn record(&self, entry: PlanEntry) {
        self.plan
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(entry);
    }

    pub fn plan(&self) -> Vec<PlanEntry> {
        self.plan.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
