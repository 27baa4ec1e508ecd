//! A mutex in SSM Parameter Store: creating a parameter without overwrite either
//! succeeds for exactly one caller or fails with ParameterAlreadyExists. kiln's
//! deploy lock is such a parameter (with a tag on the group so people see it):
//! two deploys that start at the same moment cannot both get it.

use aws_sdk_ssm::types::ParameterType;

use super::ssm::Ssm;
use super::{classify, error_code};
use crate::error::Result;

impl Ssm {
    /// Creates `name` with `value` unless it exists; `false` when it does.
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
}

impl Ssm {
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

    /// Removes labels from a version; labels it does not carry are ignored.
    pub async fn unlabel(
        &self,
        name: &crate::model::ParameterName,
        version: crate::model::Version,
        labels: &[crate::model::Channel],
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
