//! Parameter Store: read a parameter, its history or every one under a path;
//! put an image id; create one exclusively (the deploy lock's mutex) and delete
//! it; attach and remove labels (channels).
//!
//! Thin: no knowledge of paths or channels (that is `registry`), but it knows SSM's
//! limits and turns them into errors that say what to do. Creating a parameter
//! without overwrite either succeeds for exactly one caller or fails with
//! ParameterAlreadyExists: two deploys that start at the same moment cannot both
//! get the lock. Putting an image id and labelling survive lost answers (see
//! `aws::lost`): neither writes twice what landed once.

use std::time::{Duration, Instant};

use aws_sdk_ssm::config::retry::RetryConfig;
use aws_sdk_ssm::types::{ParameterHistory, ParameterType};

use super::Ssm;
use crate::aws::{classify, error_code, lost};
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

impl Ssm {
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

    /// The values of every parameter under `path` (one level), paginated.
    pub async fn values_under(&self, path: &str) -> Result<Vec<(String, String)>> {
        let mut pages = self
            .client
            .get_parameters_by_path()
            .path(path)
            .into_paginator()
            .send();
        let mut values = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ssm:GetParametersByPath", &self.endpoint, e))?;
            values.extend(
                page.parameters
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|p| Some((p.name?, p.value.unwrap_or_default()))),
            );
        }
        Ok(values)
    }

    /// Adds a version holding an AMI id, once however many answers are lost. SSM
    /// refuses when it keeps 100 versions and the oldest carries a label; that
    /// refusal names the version and its labels.
    ///
    /// PutParameter with overwrite has no client token: a retry after a lost answer
    /// would add a second version. So the SDK does not retry this call; kiln does,
    /// and before each retry (and after the last failure) reads the history: a
    /// newest version holding this AMI with this description is the one the lost
    /// answer was about. (The caller has made sure the newest version did not hold
    /// the AMI before: publishing the newest AMI again is a no-op.)
    pub async fn put_image_id(
        &self,
        name: &ParameterName,
        ami: &AmiId,
        description: &str,
    ) -> Result<Version> {
        let attempts = lost::max_attempts();
        let mut attempt = 1;
        loop {
            let result = self
                .client
                .put_parameter()
                .name(name.as_str())
                .value(ami.as_str())
                .r#type(ParameterType::String)
                .data_type(IMAGE_DATA_TYPE)
                .description(description)
                .overwrite(true)
                .customize()
                .config_override(
                    aws_sdk_ssm::config::Builder::default().retry_config(RetryConfig::disabled()),
                )
                .send()
                .await;
            let err = match result {
                Ok(output) => return Ok(Version(output.version.max(0) as u64)),
                Err(err) => err,
            };
            if error_code(&err) == Some("ParameterMaxVersionLimitExceeded") {
                let oldest = self
                    .history(name)
                    .await?
                    .and_then(|versions| versions.into_iter().next());
                return Err(Error::VersionLimit {
                    parameter: name.to_string(),
                    oldest: oldest.as_ref().map_or(0, |v| v.version.0),
                    labels: oldest.map(|v| v.labels).unwrap_or_default(),
                });
            }
            if !lost::answer_may_be_lost(&err) {
                return Err(classify("ssm:PutParameter", &self.endpoint, err));
            }
            if attempt < attempts {
                tokio::time::sleep(lost::backoff(attempt)).await;
            }
            if let Some(version) = self.landed(name, ami, description).await? {
                tracing::info!(
                    "{name} version {version} holds {ami}: a lost answer's PutParameter landed"
                );
                return Ok(version);
            }
            if attempt >= attempts {
                return Err(classify("ssm:PutParameter", &self.endpoint, err));
            }
            attempt += 1;
        }
    }

    /// Adds a version holding a deploy record (a plain string). Intelligent-Tiering:
    /// standard up to 4 KB, advanced (8 KB) for a larger record. A retry after a
    /// lost answer adds the same record twice, which readers fold by its id.
    pub async fn put_record(&self, name: &ParameterName, value: &str) -> Result<Version> {
        let result = self
            .client
            .put_parameter()
            .name(name.as_str())
            .value(value)
            .r#type(ParameterType::String)
            .tier(aws_sdk_ssm::types::ParameterTier::IntelligentTiering)
            .overwrite(true)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Version(output.version.max(0) as u64)),
            Err(err) => Err(classify("ssm:PutParameter", &self.endpoint, err)),
        }
    }

    /// The newest version, if it holds `ami` with `description`.
    async fn landed(
        &self,
        name: &ParameterName,
        ami: &AmiId,
        description: &str,
    ) -> Result<Option<Version>> {
        let newest = self.history(name).await?.and_then(|mut v| v.pop());
        Ok(newest
            .filter(|v| {
                v.value == ami.as_str() && v.description.as_deref().unwrap_or("") == description
            })
            .map(|v| v.version))
    }

    /// Creates `name` with `value` unless it exists; `false` when it does (the
    /// deploy lock reads whether the value that exists is its own: a retry after a
    /// lost answer).
    pub async fn create_exclusive(&self, name: &str, value: &str) -> Result<bool> {
        let result = self
            .client
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::String)
            .overwrite(false)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if error_code(&err) == Some("ParameterAlreadyExists") => Ok(false),
            Err(err) => Err(classify("ssm:PutParameter", &self.endpoint, err)),
        }
    }

    /// Deletes a parameter; one that is already gone is not an error.
    pub async fn delete(&self, name: &str) -> Result<()> {
        match self.client.delete_parameter().name(name).send().await {
            Ok(_) => Ok(()),
            Err(err) if error_code(&err) == Some("ParameterNotFound") => Ok(()),
            Err(err) => Err(classify("ssm:DeleteParameter", &self.endpoint, err)),
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
            // The SDK gave up, but an attempt whose answer was lost may have
            // moved the labels: read where they are before calling it a failure.
            Err(err) if lost::answer_may_be_lost(&err) => {
                for label in labels {
                    let on = self.get(&format!("{name}:{label}")).await?;
                    if on.is_none_or(|p| p.version != version) {
                        return Err(classify("ssm:LabelParameterVersion", &self.endpoint, err));
                    }
                }
                Ok(())
            }
            Err(err) => Err(classify("ssm:LabelParameterVersion", &self.endpoint, err)),
        }
    }

    /// Removes labels from a version; labels it does not carry are ignored.
    pub async fn unlabel(
        &self,
        name: &ParameterName,
        version: Version,
        labels: &[Channel],
    ) -> Result<()> {
        self.client
            .unlabel_parameter_version()
            .name(name.as_str())
            .parameter_version(version.0 as i64)
            .set_labels(Some(labels.iter().map(|l| l.to_string()).collect()))
            .send()
            .await
            .map_err(|e| classify("ssm:UnlabelParameterVersion", &self.endpoint, e))?;
        Ok(())
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
/// values. Tested at the SDK level with mocked responses (aws-smithy-mocks),
/// through the same code that talks to AWS.
#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssm::Client;
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
}
