//! Every AWS call kiln makes, named as IAM names it (`ssm:GetParameter`), logged
//! at debug level under the target `kiln::aws::calls`.
//!
//! Why: the least-privilege policies in terraform/ must list exactly what each
//! stage calls. The integration tests run each stage with this log on and check
//! every call against terraform/kiln-actions.json; `RUST_LOG=kiln::aws::calls=debug`
//! shows the same list to a person writing their own policy.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Debug, Clone, Copy)]
pub struct CallLog;

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "kiln::aws::calls"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            tracing::debug!(
                target: "kiln::aws::calls",
                "aws call {}:{}",
                iam_prefix(metadata.service()),
                metadata.name()
            );
        }
        Ok(())
    }
}

/// The IAM action prefix of an SDK service name.
fn iam_prefix(service: &str) -> String {
    match service
        .to_ascii_lowercase()
        .replace([' ', '-'], "")
        .as_str()
    {
        "elasticloadbalancingv2" => "elasticloadbalancing".to_string(),
        "autoscaling" => "autoscaling".to_string(),
        other => other.to_string(),
    }
}
