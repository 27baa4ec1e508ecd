//! CloudFormation, the one module that calls it: `kiln deploy --via cloudformation`
//! reads a stack (its status and parameters), updates it with a new AMI id for one
//! parameter and every other parameter and the template kept, and reads the
//! stack's events to name the resource that failed an update.

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::Parameter;

use super::{classify, error_code};
use crate::error::{Error, Result};
use crate::model::AmiId;

#[derive(Debug, Clone)]
pub struct CloudFormation {
    client: Client,
    endpoint: String,
}

/// A stack as DescribeStacks shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub name: String,
    /// `UPDATE_COMPLETE`, `UPDATE_IN_PROGRESS`, `UPDATE_ROLLBACK_COMPLETE`, …
    pub status: String,
    /// Each parameter's key and value, in the stack's order.
    pub parameters: Vec<(String, String)>,
}

impl Stack {
    /// Still moving: CloudFormation is updating, rolling back or cleaning up.
    pub fn in_progress(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS")
    }
}

/// A resource CloudFormation could not create, update or delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedResource {
    /// The logical id in the template (`LaunchTemplate`).
    pub resource: String,
    pub status: String,
    pub reason: String,
}

/// What UpdateStack answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    Started,
    /// "No updates are to be performed": the stack already has that value.
    NothingToChange,
}

impl CloudFormation {
    pub fn new(client: Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }

    /// The stack, or `None` when CloudFormation has none by that name.
    pub async fn stack(&self, name: &str) -> Result<Option<Stack>> {
        let output = match self.client.describe_stacks().stack_name(name).send().await {
            Ok(output) => output,
            // CloudFormation answers a missing stack with a ValidationError.
            Err(e)
                if error_code(&e) == Some("ValidationError")
                    && e.as_service_error()
                        .and_then(|s| {
                            aws_sdk_cloudformation::error::ProvideErrorMetadata::message(s)
                        })
                        .is_some_and(|m| m.contains("does not exist")) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(classify("cloudformation:DescribeStacks", &self.endpoint, e)),
        };
        Ok(output
            .stacks
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(|s| Stack {
                name: s.stack_name.unwrap_or_else(|| name.to_string()),
                status: s
                    .stack_status
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "UNKNOWN".into()),
                parameters: s
                    .parameters
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|p| Some((p.parameter_key?, p.parameter_value.unwrap_or_default())))
                    .collect(),
            }))
    }

    /// UpdateStack with the stack's own template (`UsePreviousTemplate`), `parameter`
    /// set to `ami` and every other one of `keep` left as it is (`UsePreviousValue`).
    pub async fn update_image(
        &self,
        name: &str,
        parameter: &str,
        ami: &AmiId,
        keep: &[String],
    ) -> Result<Update> {
        let mut request = self
            .client
            .update_stack()
            .stack_name(name)
            .use_previous_template(true)
            .parameters(
                Parameter::builder()
                    .parameter_key(parameter)
                    .parameter_value(ami.as_str())
                    .build(),
            );
        for key in keep.iter().filter(|k| *k != parameter) {
            request = request.parameters(
                Parameter::builder()
                    .parameter_key(key)
                    .use_previous_value(true)
                    .build(),
            );
        }
        match request.send().await {
            Ok(_) => Ok(Update::Started),
            Err(e)
                if error_code(&e) == Some("ValidationError")
                    && e.as_service_error()
                        .and_then(|s| {
                            aws_sdk_cloudformation::error::ProvideErrorMetadata::message(s)
                        })
                        .is_some_and(|m| m.contains("No updates are to be performed")) =>
            {
                Ok(Update::NothingToChange)
            }
            Err(e) => Err(classify("cloudformation:UpdateStack", &self.endpoint, e)),
        }
    }

    /// The resources that failed since the newest user-initiated update began,
    /// oldest first (the first is the cause; the others failed because of it).
    pub async fn failures(&self, name: &str) -> Result<Vec<FailedResource>> {
        let mut failed = Vec::new();
        let mut token = None;
        // Events come newest first; stop at the update that started it all.
        'pages: loop {
            let output = self
                .client
                .describe_stack_events()
                .stack_name(name)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify("cloudformation:DescribeStackEvents", &self.endpoint, e))?;
            for event in output.stack_events.unwrap_or_default() {
                let status = event
                    .resource_status
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                let resource = event.logical_resource_id.unwrap_or_default();
                let reason = event.resource_status_reason.unwrap_or_default();
                // The stack's own events carry its name as their logical id
                // (`name` may be the stack's ARN).
                let own = event.stack_name.as_deref() == Some(resource.as_str());
                if own && status == "UPDATE_IN_PROGRESS" {
                    break 'pages;
                }
                if status.ends_with("_FAILED") && !own {
                    failed.push(FailedResource {
                        resource,
                        status,
                        reason,
                    });
                }
            }
            token = output.next_token;
            if token.is_none() {
                break;
            }
        }
        failed.reverse();
        Ok(failed)
    }
}

/// An AMI id CloudFormation cannot take is impossible (kiln's ids are checked),
/// but a stack without a parameter of that name is common: a typed error for it.
pub fn missing_parameter(stack: &Stack, parameter: &str) -> Option<Error> {
    if stack.parameters.iter().any(|(k, _)| k == parameter) {
        return None;
    }
    Some(Error::StackParameterMissing {
        stack: stack.name.clone(),
        parameter: parameter.to_string(),
        available: stack.parameters.iter().map(|(k, _)| k.clone()).collect(),
    })
}
