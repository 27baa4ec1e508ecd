//! One change to the SDK's retry decisions: a refused connection is final.
//!
//! kiln retries up to 8 attempts (adaptive, 200 ms to 5 s backoff), so a pipeline
//! survives a burst of throttling or 5xx answers. A refused connection, though,
//! means nothing listens at the endpoint (a wrong `--endpoint-url`, a stopped
//! emulator); retrying it only delays the message by seconds, so it fails at once.

use std::error::Error as StdError;

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};

#[derive(Debug, Clone, Copy)]
pub struct RefusedIsFinal;

impl ClassifyRetry for RefusedIsFinal {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let Some(connector) = error.as_connector_error() else {
            return RetryAction::NoActionIndicated;
        };
        let mut source: Option<&(dyn StdError + 'static)> = Some(connector);
        while let Some(error) = source {
            if let Some(io) = error.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::ConnectionRefused
            {
                return RetryAction::RetryForbidden;
            }
            source = error.source();
        }
        RetryAction::NoActionIndicated
    }

    fn name(&self) -> &'static str {
        "kiln: a refused connection is final"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::interceptors::context::{Error, Input};
    use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
    use aws_smithy_runtime_api::client::result::ConnectorError;

    fn after(kind: std::io::ErrorKind) -> RetryAction {
        let mut ctx = InterceptorContext::new(Input::erase(()));
        let io = std::io::Error::from(kind);
        ctx.set_output_or_error(Err(OrchestratorError::<Error>::connector(
            ConnectorError::io(Box::new(io)),
        )));
        RefusedIsFinal.classify_retry(&ctx)
    }

    #[test]
    fn a_refused_connection_is_not_retried_but_a_reset_one_is_left_to_the_sdk() {
        assert_eq!(
            after(std::io::ErrorKind::ConnectionRefused),
            RetryAction::RetryForbidden
        );
        assert_eq!(
            after(std::io::ErrorKind::ConnectionReset),
            RetryAction::NoActionIndicated
        );
    }
}
