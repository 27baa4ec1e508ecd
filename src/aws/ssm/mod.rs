//! SSM, the one module that calls it: Parameter Store (the registry's parameters,
//! their labels, the deploy lock) and Run Command (verify), each in the file named
//! after it, returning kiln's types.

mod parameters;
mod run_command;

use aws_sdk_ssm::Client;

pub use parameters::{
    IMAGE_DATA_TYPE, MAX_DESCRIPTION, MAX_VERSIONS, ParameterValue, ParameterVersion,
};
pub use run_command::{Invocation, SHELL_DOCUMENT, Sent};

#[derive(Debug, Clone)]
pub struct Ssm {
    client: Client,
    endpoint: String,
}

impl Ssm {
    pub fn new(client: Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }
}

/// What the emulator cannot show: denied access, expired credentials and
/// throttling, as an SSM call reports them. Tested at the SDK level with mocked
/// responses (aws-smithy-mocks), through the same code that talks to AWS.
#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssm::error::ErrorMetadata;
    use aws_sdk_ssm::operation::get_parameter::GetParameterError;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

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
