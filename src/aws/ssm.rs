//! SSM Parameter Store calls kiln makes, returning kiln's types.
//!
//! Thin: no knowledge of paths or channels (that is `registry`), but it knows SSM's
//! limits and turns them into errors that say what to do.

use std::time::{Duration, Instant};

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{ParameterHistory, ParameterType};

use super::{classify, error_code};
use crate::error::{Error, Result};
use crate::model::{AmiId, Channel, ParameterName, Timestamp, Version};

/// The SSM data type that makes SSM check the value is an AMI id.
pub const IMAGE_DATA_TYPE: &str = "aws:ec2:image";
/// SSM keeps this many versions of a parameter.
pub const MAX_VERSIONS: usize = 100;
/// The longest description SSM accepts.
pub const MAX_DESCRIPTION: usize = 1024;

/// One parameter value as `GetParameter` returns it.
#[derive(Debug, Clone)]
pub struct ParameterValue {
    pub value: String,
    pub version: Version,
}

/// One version from the parameter's history.
#[derive(Debug, Clone)]
pub struct ParameterVersion {
    pub version: Version,
    pub value: String,
    pub labels: Vec<String>,
    pub modified: Option<Timestamp>,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Ssm {
    pub(super) client: Client,
    pub(super) endpoint: String,
}

impl Ssm {
    pub fn new(client: Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }

    /// `GetParameter` with a name that may carry a selector (`name:3`, `name:label`).
    /// `None` when the parameter, version or label does not exist.
    pub async fn get(&self, name: &str) -> Result<Option<ParameterValue>> {
        match self.client.get_parameter().name(name).send().await {
            Ok(output) => Ok(output.parameter.map(|p| ParameterValue {
                value: p.value.unwrap_or_default(),
                version: Version(p.version.max(0) as u64),
            })),
            Err(err) if is_not_found(error_code(&err)) => Ok(None),
            Err(err) => Err(classify("ssm:GetParameter", &self.endpoint, err)),
        }
    }

    /// Polls until `selected` can be read (true) or `timeout` has passed (false);
    /// `tick` runs before each pause, for progress.
    pub async fn wait_readable(
        &self,
        selected: &str,
        timeout: Duration,
        interval: Duration,
        mut tick: impl FnMut(),
    ) -> Result<bool> {
        let started = Instant::now();
        loop {
            if self.get(selected).await?.is_some() {
                return Ok(true);
            }
            if started.elapsed() >= timeout {
                return Ok(false);
            }
            tick();
            tokio::time::sleep(interval).await;
        }
    }

    /// Every version SSM keeps, oldest first. `None` when the parameter does not exist.
    pub async fn history(&self, name: &ParameterName) -> Result<Option<Vec<ParameterVersion>>> {
        let mut pages = self
            .client
            .get_parameter_history()
            .name(name.as_str())
            .max_results(50)
            .into_paginator()
            .send();
        let mut versions = Vec::new();
        while let Some(page) = pages.next().await {
            match page {
                Ok(output) => versions.extend(
                    output
                        .parameters
                        .unwrap_or_default()
                        .into_iter()
                        .map(from_history),
                ),
                Err(err) if is_not_found(error_code(&err)) => return Ok(None),
                Err(err) => return Err(classify("ssm:GetParameterHistory", &self.endpoint, err)),
            }
        }
        versions.sort_by_key(|v| v.version);
        Ok(Some(versions))
    }

    /// Adds a version holding an AMI id. SSM refuses when it keeps 100 versions and
    /// the oldest carries a label; that refusal names the version and its labels.
    pub async fn put_image_id(
        &self,
        name: &ParameterName,
        ami: &AmiId,
        description: &str,
    ) -> Result<Version> {
        let result = self
            .client
            .put_parameter()
            .name(name.as_str())
            .value(ami.as_str())
            .r#type(ParameterType::String)
            .data_type(IMAGE_DATA_TYPE)
            .description(description)
            .overwrite(true)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Version(output.version.max(0) as u64)),
            Err(err) if error_code(&err) == Some("ParameterMaxVersionLimitExceeded") => {
                let oldest = self
                    .history(name)
                    .await?
                    .and_then(|versions| versions.into_iter().next());
                Err(Error::VersionLimit {
                    parameter: name.to_string(),
                    oldest: oldest.as_ref().map_or(0, |v| v.version.0),
                    labels: oldest.map(|v| v.labels).unwrap_or_default(),
                })
            }
            Err(err) => Err(classify("ssm:PutParameter", &self.endpoint, err)),
        }
    }

    /// Attaches labels to a version; SSM moves a label that is on another version.
    pub async fn label(
        &self,
        name: &ParameterName,
        version: Version,
        labels: &[Channel],
    ) -> Result<()> {
        let result = self
            .client
            .label_parameter_version()
            .name(name.as_str())
            .parameter_version(version.0 as i64)
            .set_labels(Some(labels.iter().map(|l| l.to_string()).collect()))
            .send()
            .await;
        match result {
            Ok(output) => match output.invalid_labels {
                Some(invalid) if !invalid.is_empty() => Err(Error::Aws {
                    operation: "ssm:LabelParameterVersion".into(),
                    code: "InvalidLabels".into(),
                    message: format!("SSM refused the label(s) {}", invalid.join(", ")),
                }),
                _ => Ok(()),
            },
            Err(err) if error_code(&err) == Some("ParameterVersionLabelLimitExceeded") => {
                Err(Error::LabelLimit {
                    parameter: name.to_string(),
                    version: version.0,
                })
            }
            Err(err) => Err(classify("ssm:LabelParameterVersion", &self.endpoint, err)),
        }
    }
}

fn is_not_found(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("ParameterNotFound" | "ParameterVersionNotFound" | "ParameterVersionLabelNotFound")
    )
}

fn from_history(entry: ParameterHistory) -> ParameterVersion {
    ParameterVersion {
        version: Version(entry.version.max(0) as u64),
        value: entry.value.unwrap_or_default(),
        labels: entry.labels.unwrap_or_default(),
        modified: entry.last_modified_date.map(|d| Timestamp(d.secs())),
        description: entry.description.filter(|d| !d.is_empty()),
    }
}

/// What the emulator cannot show: SSM's asynchronous validation of `aws:ec2:image`
/// values, denied access and throttling. Tested at the SDK level with mocked
/// responses (aws-smithy-mocks), through the same code that talks to AWS.
#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssm::error::ErrorMetadata;
    use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
    use aws_sdk_ssm::types::Parameter;
    use aws_sdk_ssm::types::error::ParameterVersionNotFound;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    const SELECTED: &str = "/kiln/shop/app:4";

    fn not_yet_validated() -> GetParameterError {
        // As SSM answers it: the error's code travels in its metadata.
        let meta = ErrorMetadata::builder()
            .code("ParameterVersionNotFound")
            .build();
        GetParameterError::ParameterVersionNotFound(
            ParameterVersionNotFound::builder().meta(meta).build(),
        )
    }

    fn validated() -> GetParameterOutput {
        GetParameterOutput::builder()
            .parameter(
                Parameter::builder()
                    .value("ami-12345678")
                    .version(4)
                    .build(),
            )
            .build()
    }

    #[tokio::test]
    async fn a_version_becomes_readable_once_ssm_has_validated_it() {
        let pending = mock!(Client::get_parameter)
            .match_requests(|r| r.name() == Some(SELECTED))
            .sequence()
            .error(not_yet_validated)
            .times(2)
            .output(validated)
            .build();
        let ssm = Ssm::new(
            mock_client!(aws_sdk_ssm, RuleMode::Sequential, [&pending]),
            "mock".into(),
        );
        let mut pauses = 0;
        let readable = ssm
            .wait_readable(
                SELECTED,
                Duration::from_secs(5),
                Duration::from_millis(1),
                || pauses += 1,
            )
            .await
            .unwrap();
        assert!(readable);
        assert_eq!((pauses, pending.num_calls()), (2, 3));
    }

    #[tokio::test]
    async fn a_version_that_never_validates_times_out() {
        let invalid = mock!(Client::get_parameter)
            .sequence()
            .error(not_yet_validated)
            .repeatedly()
            .build();
        let ssm = Ssm::new(
            mock_client!(aws_sdk_ssm, RuleMode::Sequential, [&invalid]),
            "mock".into(),
        );
        let readable = ssm
            .wait_readable(
                SELECTED,
                Duration::from_millis(30),
                Duration::from_millis(5),
                || {},
            )
            .await
            .unwrap();
        assert!(!readable);
        assert!(invalid.num_calls() >= 2);
    }

    fn failing_with(code: &'static str, message: &'static str) -> Ssm {
        let rule = mock!(Client::get_parameter)
            .sequence()
            .error(move || {
                GetParameterError::generic(
                    ErrorMetadata::builder().code(code).message(message).build(),
                )
            })
            .repeatedly()
            .build();
        Ssm::new(
            mock_client!(aws_sdk_ssm, RuleMode::Sequential, [&rule]),
            "https://ssm.eu-west-1.amazonaws.com".into(),
        )
    }

    #[tokio::test]
    async fn access_denied_names_the_operation_and_exits_5() {
        let err = failing_with("AccessDeniedException", "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ssm:GetParameter")
            .get("/kiln/shop/app")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "access denied to ssm:GetParameter: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ssm:GetParameter"
        );
        assert_eq!(err.exit_code(), crate::error::exit::AWS);
        assert_eq!(
            err.help().unwrap(),
            "grant the caller permission for ssm:GetParameter"
        );
    }

    #[tokio::test]
    async fn expired_credentials_are_a_credentials_error() {
        let err = failing_with(
            "ExpiredTokenException",
            "The security token included in the request is expired",
        )
        .get("/kiln/shop/app")
        .await
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no usable AWS credentials: ExpiredTokenException: The security token included in the request is expired"
        );
        assert_eq!(err.exit_code(), crate::error::exit::AWS);
    }

    #[tokio::test]
    async fn throttling_after_every_retry_says_so() {
        let err = failing_with("ThrottlingException", "Rate exceeded")
            .get("/kiln/shop/app")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "AWS throttled ssm:GetParameter on every attempt: Rate exceeded"
        );
        assert_eq!(err.exit_code(), crate::error::exit::AWS);
    }

    #[tokio::test]
    async fn other_service_errors_keep_the_aws_code_and_message() {
        let err = failing_with("HierarchyLevelLimitExceededException", "too deep")
            .get("/kiln/shop/app")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ssm:GetParameter failed: HierarchyLevelLimitExceededException: too deep"
        );
        assert_eq!(err.exit_code(), crate::error::exit::FAILED);
    }
}
