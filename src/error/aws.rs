//! AWS could not be used at all (exit code 5: credentials, access, network,
//! throttling), or refused one call (exit code 1).

use super::{Described, Error, exit, misrouted};

pub(super) fn describe(error: &Error) -> Described {
    use Error::*;
    match error {
        AwsUnreachable { endpoint, detail } => Described::new(
            exit::AWS,
            format!("cannot reach AWS at {endpoint}: {detail}"),
            "check --endpoint-url / AWS_ENDPOINT_URL, the region and the network",
        ),
        AwsCredentials {
            detail,
            profile: None,
        } => Described::new(
            exit::AWS,
            format!("no usable AWS credentials: {detail}"),
            "set AWS_PROFILE (run `aws sso login` for SSO), export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure an OIDC role in CI; `--dry-run` works without credentials",
        ),
        AwsCredentials {
            detail,
            profile: Some(profile),
        } => Described::new(
            exit::AWS,
            format!("no usable AWS credentials from profile `{profile}`: {detail}"),
            format!(
                "run `aws sso login --profile {profile}` if it uses SSO, else check its keys, role or credential_process in the AWS files; `--dry-run` works without credentials"
            ),
        ),
        AwsSsoLogin { profile, cache } => Described::new(
            exit::AWS,
            format!(
                "AWS profile `{profile}` uses SSO, but there is no SSO login for it ({} does not exist)",
                cache.display()
            ),
            format!("run `aws sso login --profile {profile}`"),
        ),
        AwsAccessDenied { operation, message } => Described::new(
            exit::AWS,
            format!("access denied to {operation}: {message}"),
            format!("grant the caller permission for {operation}"),
        ),
        AwsTimeout {
            operation,
            endpoint,
        } => Described::new(
            exit::AWS,
            format!("{operation} timed out talking to {endpoint}"),
            "retry; check the network and the endpoint",
        ),
        AwsThrottled { operation, message } => Described::new(
            exit::AWS,
            format!("AWS throttled {operation} on every attempt: {message}"),
            "retry later, or allow more attempts with AWS_MAX_ATTEMPTS (default 8)",
        ),
        // AWS's own message is the most precise help there is.
        Aws {
            operation,
            code,
            message,
        } => Described::without_help(
            exit::FAILED,
            format!("{operation} failed: {code}: {message}"),
        ),
        other => misrouted("aws", other),
    }
}
