//! SSM Run Command and the agent's registration: how `kiln verify` runs Goss on an
//! instance without SSH, open ports or keys.
//!
//! Thin like Parameter Store's calls: it sends a shell script to one instance and reports the
//! invocation as SSM sees it; what the script does and what its output means is the
//! verify stage's business.

use aws_sdk_ssm::types::{CommandInvocationStatus, InstanceInformationStringFilter, PingStatus};

use super::Ssm;
use crate::aws::{classify, error_code};
use crate::error::Result;
use crate::model::{CommandId, InstanceId, Span};

/// The SSM document that runs a shell script on Linux.
pub const SHELL_DOCUMENT: &str = "AWS-RunShellScript";

/// Where a command stands on one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// SSM's status: `Pending`, `InProgress`, `Delayed`, `Success`, `Failed`,
    /// `TimedOut`, `Cancelled`, `Cancelling`, … (`Pending` until it exists).
    pub status: String,
    /// The script's exit code; -1 while it runs.
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Invocation {
    /// Whether SSM will not change this invocation any more.
    pub fn finished(&self) -> bool {
        !matches!(
            self.status.as_str(),
            "Pending" | "InProgress" | "Delayed" | "Cancelling"
        )
    }
}

/// The outcome of trying to send a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Command(CommandId),
    /// SSM does not know the instance yet: its agent has not registered.
    NotRegistered,
}

impl Ssm {
    /// Whether the instance's SSM agent has registered and answers pings.
    pub async fn agent_online(&self, id: &InstanceId) -> Result<bool> {
        let output = self
            .client
            .describe_instance_information()
            .filters(
                InstanceInformationStringFilter::builder()
                    .key("InstanceIds")
                    .values(id.as_str())
                    .build()
                    .expect("key and values are set"),
            )
            .send()
            .await
            .map_err(|e| classify("ssm:DescribeInstanceInformation", &self.endpoint, e))?;
        Ok(output
            .instance_information_list
            .unwrap_or_default()
            .iter()
            .any(|info| {
                info.instance_id.as_deref() == Some(id.as_str())
                    && info.ping_status == Some(PingStatus::Online)
            }))
    }

    /// Sends a shell script to exactly one instance.
    pub async fn send_shell(
        &self,
        instance: &InstanceId,
        script: &str,
        execution_timeout: Span,
        comment: &str,
    ) -> Result<Sent> {
        let result = self
            .client
            .send_command()
            .document_name(SHELL_DOCUMENT)
            .instance_ids(instance.as_str())
            .parameters("commands", vec![script.to_string()])
            .parameters(
                "executionTimeout",
                vec![execution_timeout.as_secs().to_string()],
            )
            .comment(comment.chars().take(100).collect::<String>())
            .send()
            .await;
        match result {
            Ok(output) => Ok(Sent::Command(CommandId::from_aws(
                output
                    .command
                    .and_then(|c| c.command_id)
                    .unwrap_or_default(),
            ))),
            Err(err) if error_code(&err) == Some("InvalidInstanceId") => Ok(Sent::NotRegistered),
            Err(err) => Err(classify("ssm:SendCommand", &self.endpoint, err)),
        }
    }

    /// The command's invocation on the instance. Right after SendCommand SSM may not
    /// know it yet: that is reported as `Pending`.
    pub async fn invocation(
        &self,
        command: &CommandId,
        instance: &InstanceId,
    ) -> Result<Invocation> {
        let result = self
            .client
            .get_command_invocation()
            .command_id(command.as_str())
            .instance_id(instance.as_str())
            .send()
            .await;
        match result {
            Ok(output) => Ok(Invocation {
                status: output
                    .status
                    .unwrap_or(CommandInvocationStatus::Pending)
                    .as_str()
                    .to_string(),
                exit_code: output.response_code,
                stdout: output.standard_output_content.unwrap_or_default(),
                stderr: output.standard_error_content.unwrap_or_default(),
            }),
            Err(err) if error_code(&err) == Some("InvocationDoesNotExist") => Ok(Invocation {
                status: "Pending".into(),
                exit_code: -1,
                stdout: String::new(),
                stderr: String::new(),
            }),
            Err(err) => Err(classify("ssm:GetCommandInvocation", &self.endpoint, err)),
        }
    }
}
