//! The one gate every change passes, and the one reader every read passes.
//!
//! Stages describe changes as `Change` values, grouped by the resource they touch
//! (images, parameters, instances, groups, launch templates); `Effects::apply` is
//! the single place where they happen. In a dry run it records the change in the
//! plan and returns `Applied::Planned` instead, and `lib::run` gives the outcome
//! the gate's `Changes` so that `report` words a dry run once for every command.
//! Reads go through `Reader` (see `read`), which knows whether a dry run can read.

mod groups;
mod images;
mod instances;
mod launch_templates;
mod parameters;
mod plan;
mod read;
mod stacks;

pub use groups::{GroupChange, TemplatePin};
pub use images::ImageChange;
pub use instances::InstanceChange;
pub use launch_templates::TemplateChange;
pub use parameters::ParameterChange;
pub use plan::{Plan, PlanEntry};
pub use read::{Reader, Services, unknown_offline};
pub use stacks::StackChange;

use std::fmt;

use serde::Serialize;

use crate::aws::Aws;
use crate::aws::ssm::Sent;
use crate::error::{Error, Result};
use crate::model::{AmiId, InstanceId, Version};
use crate::tools::{self, Finished, ToolCommand};

/// A change to the world outside kiln, by the resource it touches.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Change {
    Image(ImageChange),
    Parameter(ParameterChange),
    Instance(InstanceChange),
    Group(GroupChange),
    Template(TemplateChange),
    Stack(StackChange),
}

impl Change {
    /// The AWS action (as IAM names it) that carries the change out: the one name
    /// both the text plan and the JSON plan show.
    pub fn action(&self) -> &'static str {
        match self {
            Change::Image(change) => change.action(),
            Change::Parameter(change) => change.action(),
            Change::Instance(change) => change.action(),
            Change::Group(change) => change.action(),
            Change::Template(change) => change.action(),
            Change::Stack(change) => change.action(),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.action())?;
        match self {
            Change::Image(change) => change.fmt(f),
            Change::Parameter(change) => change.fmt(f),
            Change::Instance(change) => change.fmt(f),
            Change::Group(change) => change.fmt(f),
            Change::Template(change) => change.fmt(f),
            Change::Stack(change) => change.fmt(f),
        }
    }
}

macro_rules! into_change {
    ($($resource:ident => $variant:ident),*) => {$(
        impl From<$resource> for Change {
            fn from(change: $resource) -> Self {
                Change::$variant(change)
            }
        }
    )*};
}
into_change!(ImageChange => Image, ParameterChange => Parameter, InstanceChange => Instance,
    GroupChange => Group, TemplateChange => Template, StackChange => Stack);

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
    /// Nothing to change: the resource already was as asked (a stack update
    /// CloudFormation answered with "No updates are to be performed").
    Unchanged,
    /// Not done because someone else holds what it needed (the deploy lock).
    Refused,
    /// Dry run: recorded, not done.
    Planned,
}

impl Applied {
    /// The change happened (it was neither only planned nor refused).
    pub fn done(&self) -> bool {
        !matches!(self, Applied::Planned | Applied::Refused)
    }
}

/// Whether a run's changes were made or only planned: what `report` words a dry
/// run by, for every command alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Changes {
    /// Made (or nothing to change).
    #[default]
    Done,
    /// A dry run: the plan holds what would have been changed or read.
    Planned,
}

/// A value a real run always has, because the change that makes it ran before:
/// `None` only in a dry run, which never gets here. Should that ever break, the
/// run fails with a message instead of a panic.
pub fn made<T>(value: Option<T>, what: &'static str) -> Result<T> {
    value.ok_or(Error::Internal {
        detail: format!("{what} is not known (it is made by a change that was only planned)"),
    })
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

#[derive(Debug)]
pub struct Effects {
    aws: Aws,
    dry_run: bool,
    plan: Plan,
    reader: Reader,
}

impl Effects {
    /// `offline`: why reads cannot be made (a dry run without credentials or region).
    pub fn new(aws: Aws, dry_run: bool, offline: Option<String>) -> Self {
        let plan = Plan::default();
        Self {
            reader: Reader::new(aws.clone(), offline, plan.clone()),
            aws,
            dry_run,
            plan,
        }
    }

    /// The reader: the only way to AWS's read calls.
    pub fn reader(&self) -> &Reader {
        &self.reader
    }

    /// A dry run cannot wait for what it did not do: the rollout strategies plan
    /// their changes without waiting when this is true.
    pub fn only_planning(&self) -> bool {
        self.dry_run
    }

    /// Whether the run's changes were made or only planned.
    pub fn changes(&self) -> Changes {
        if self.dry_run {
            Changes::Planned
        } else {
            Changes::Done
        }
    }

    /// The single place a change happens.
    pub async fn apply(&self, change: impl Into<Change>) -> Result<Applied> {
        let change = change.into();
        if self.dry_run {
            self.plan.record(PlanEntry::Write(change));
            return Ok(Applied::Planned);
        }
        tracing::info!("{change}");
        match change {
            Change::Image(change) => change.apply(&self.aws).await,
            Change::Parameter(change) => change.apply(&self.aws).await,
            Change::Instance(change) => change.apply(&self.aws).await,
            Change::Group(change) => change.apply(&self.aws).await,
            Change::Template(change) => change.apply(&self.aws).await,
            Change::Stack(change) => change.apply(&self.aws).await,
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
            self.plan.record(PlanEntry::Github { what });
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
            self.plan.record(PlanEntry::Run(command));
            return Ok(None);
        }
        tracing::info!("running {command}");
        tools::run(&command, on_line).await.map(Some)
    }

    pub fn plan(&self) -> Vec<PlanEntry> {
        self.plan.entries()
    }
}
