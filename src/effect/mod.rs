//! The one gate every change passes.
//!
//! Stages describe changes as `Change` values; `Effects::apply` is the single place
//! where they happen. In a dry run it records the change in the plan and returns
//! `Applied::Planned` instead. Reads that cannot be made in a dry run (no
//! credentials, no region) are recorded as "would read" entries, so the plan still
//! prints on a laptop with no AWS account.

mod images;
mod rollout;

pub use images::ImageChange;
pub use rollout::RolloutChange;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use serde::Serialize;

use crate::aws::Aws;
use crate::aws::instances::LaunchSpec;
use crate::aws::run_command::{SHELL_DOCUMENT, Sent};
use crate::error::Result;
use crate::model::{AmiId, Channel, InstanceId, ParameterName, Region, Span, Version};
use crate::tools::{self, Finished, ToolCommand};

/// A change to the world outside kiln.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action")]
pub enum Change {
    #[serde(rename = "ec2:CreateTags")]
    TagImage {
        region: Region,
        /// `None` in a dry run: the image a bake would make.
        ami_id: Option<AmiId>,
        tags: BTreeMap<String, String>,
    },
    #[serde(rename = "ec2:CopyImage")]
    CopyImage {
        region: Region,
        source_region: Region,
        /// `None` in a dry run: the image a bake would make.
        source_ami: Option<AmiId>,
        name: String,
    },
    #[serde(rename = "ssm:PutParameter")]
    PutParameter {
        region: Region,
        name: ParameterName,
        /// `None` in a dry run: the image a bake would make.
        value: Option<AmiId>,
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
    #[serde(rename = "ec2:RunInstances")]
    LaunchInstance { region: Region, spec: LaunchSpec },
    #[serde(rename = "ssm:SendCommand")]
    SendCommand {
        region: Region,
        /// `None` in a dry run: the instance kiln would launch.
        instance: Option<InstanceId>,
        /// What the script does, for the plan and logs (the script is in `script`).
        summary: String,
        #[serde(skip)]
        script: String,
        timeout: Span,
    },
    #[serde(rename = "ec2:TerminateInstances")]
    TerminateInstances {
        region: Region,
        /// Empty in a dry run: the instance kiln would launch.
        instances: Vec<InstanceId>,
    },
    /// A deploy's changes to a group, its launch template and its lock.
    #[serde(untagged)]
    Rollout(RolloutChange),
    /// Prune's and revoke's changes to images, snapshots and labels.
    #[serde(untagged)]
    Image(ImageChange),
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
                write!(
                    f,
                    "ec2:CreateTags {} in {region}: {}",
                    shown(ami_id),
                    tags.join(" ")
                )
            }
            Change::CopyImage {
                region,
                source_region,
                source_ami,
                name,
            } => write!(
                f,
                "ec2:CopyImage {} from {source_region} to {region}: name={name}",
                shown(source_ami)
            ),
            Change::PutParameter {
                region,
                name,
                value,
                data_type,
                description,
            } => write!(
                f,
                "ssm:PutParameter {name} in {region}: value={} type=String data-type={data_type} overwrite=true description=\"{description}\"",
                shown(value)
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
            Change::LaunchInstance { region, spec } => {
                write!(
                    f,
                    "ec2:RunInstances in {region}: image={} type={}",
                    spec.ami_id, spec.instance_type
                )?;
                if let Some(subnet) = &spec.subnet {
                    write!(f, " subnet={subnet}")?;
                }
                if !spec.security_groups.is_empty() {
                    let groups: Vec<&str> =
                        spec.security_groups.iter().map(|g| g.as_str()).collect();
                    write!(f, " security-groups={}", groups.join(","))?;
                }
                if let Some(profile) = &spec.instance_profile {
                    write!(f, " instance-profile={profile}")?;
                }
                let tags: Vec<String> = spec.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, " tags: {}", tags.join(" "))
            }
            Change::SendCommand {
                region,
                instance,
                summary,
                timeout,
                ..
            } => write!(
                f,
                "ssm:SendCommand {SHELL_DOCUMENT} to {} in {region} (timeout {timeout}): {summary}",
                instance
                    .as_ref()
                    .map_or("(the instance kiln launches)".to_string(), |i| i
                        .to_string())
            ),
            Change::Rollout(change) => change.fmt(f),
            Change::Image(change) => change.fmt(f),
            Change::TerminateInstances { region, instances } => {
                let ids: Vec<&str> = instances.iter().map(|i| i.as_str()).collect();
                write!(
                    f,
                    "ec2:TerminateInstances {} in {region}",
                    if ids.is_empty() {
                        "(the instance kiln launches)".to_string()
                    } else {
                        ids.join(" ")
                    }
                )
            }
        }
    }
}

fn shown(ami: &Option<AmiId>) -> String {
    ami.as_ref()
        .map_or("(the AMI the bake makes)".to_string(), |a| a.to_string())
}

/// What applying a change gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// A new parameter version.
    Version(Version),
    /// A new image.
    Image(AmiId),
    /// A new instance.
    Instance(InstanceId),
    /// A command sent, or SSM did not know the instance yet.
    Sent(Sent),
    /// A new launch template version.
    TemplateVersion(i64),
    /// An instance refresh started.
    Refresh(String),
    /// Not done because someone else holds what it needed (the deploy lock).
    Refused,
    /// Dry run: recorded, not done.
    Planned,
}

/// One line of a dry run's plan.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
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

/// A call to GitHub's Deployments API; never fails a run (see `Effects::github`).
pub enum GithubCall<'a> {
    Create(&'a crate::github::NewDeployment),
    Status {
        id: crate::github::DeploymentId,
        state: crate::github::DeploymentState,
        description: &'a str,
        log_url: Option<&'a str>,
    },
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
                let ami_id = ami_id.expect("a real run tags a real image");
                self.aws.ec2(&region).tag(&ami_id, &tags).await?;
                Ok(Applied::Done)
            }
            Change::CopyImage {
                region,
                source_region,
                source_ami,
                name,
            } => {
                let source = source_ami.expect("a real run copies a real image");
                let copy = self
                    .aws
                    .ec2(&region)
                    .copy_image(&source_region, &source, &name)
                    .await?;
                Ok(Applied::Image(copy))
            }
            Change::PutParameter {
                region,
                name,
                value,
                description,
                ..
            } => {
                let value = value.expect("a real run publishes a real image");
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
            Change::LaunchInstance { region, spec } => {
                let id = self.aws.ec2(&region).run_instance(&spec).await?;
                Ok(Applied::Instance(id))
            }
            Change::SendCommand {
                region,
                instance,
                summary,
                script,
                timeout,
            } => {
                let instance = instance.expect("a real run sends to a real instance");
                let sent = self
                    .aws
                    .ssm(&region)
                    .send_shell(&instance, &script, timeout, &summary)
                    .await?;
                Ok(Applied::Sent(sent))
            }
            Change::TerminateInstances { region, instances } => {
                self.aws.ec2(&region).terminate(&instances).await?;
                Ok(Applied::Done)
            }
            Change::Rollout(change) => change.apply(&self.aws).await,
            Change::Image(change) => change.apply(&self.aws).await,
        }
    }

    /// The single place kiln calls GitHub. A failure is a warning, never an error:
    /// a deployment record must not fail a deploy. `None` in a dry run or on failure.
    pub async fn github(
        &self,
        target: &crate::github::GithubTarget,
        call: GithubCall<'_>,
    ) -> Option<crate::github::DeploymentId> {
        let repository = format!("{}/{}", target.owner, target.repo);
        if self.dry_run {
            let what = match &call {
                GithubCall::Create(request) => format!(
                    "create a deployment of {} to environment {} in {repository} (ref {})",
                    request.image.ami_id, request.environment, request.commit
                ),
                GithubCall::Status { id, state, .. } => {
                    format!("set deployment {id} of {repository} to {}", state.as_str())
                }
            };
            self.record(PlanEntry::Github { what });
            return None;
        }
        let result = async {
            let client = crate::github::Deployments::new(target)?;
            match call {
                GithubCall::Create(request) => client.create(request).await.map(Some),
                GithubCall::Status {
                    id,
                    state,
                    description,
                    log_url,
                } => client
                    .set_status(id, state, description, log_url)
                    .await
                    .map(|()| None),
            }
        }
        .await;
        match result {
            Ok(id) => id,
            Err(error) => {
                crate::ui::warn(format!(
                    "GitHub deployment of {repository} not updated: {error}"
                ));
                None
            }
        }
    }

    /// The single place a tool runs: a dry run records the command line instead.
    /// `on_line` sees each line the tool prints and returns what to keep of it.
    pub async fn run_tool(
        &self,
        command: ToolCommand,
        on_line: impl FnMut(&str) -> String,
    ) -> Result<Option<Finished>> {
        if self.dry_run {
            self.record(PlanEntry::Run(command));
            return Ok(None);
        }
        tracing::info!("running {command}");
        tools::run(&command, on_line).await.map(Some)
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
