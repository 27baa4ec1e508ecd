//! AWS could not be used at all (exit code 5: credentials, access, network,
//! throttling), or refused one call (exit code 1).

use super::{Described, Error, exit, misrouted};

pub(super) fn describe(error: &Error) -> Described {
    use Error::*;
    match error {
        AwsUnreachable {
            endpoint,
            detail,
            proxies,
        } => Described::new(
            exit::AWS,
            format!("cannot reach AWS at {endpoint}: {detail}"),
            match proxies {
                // rustls's "invalid peer certificate: UnknownIssuer": a private CA.
                _ if detail.starts_with("invalid peer certificate") => "the endpoint's certificate is not signed by a CA this machine trusts: for a private CA (a TLS-inspecting proxy, a private endpoint), set AWS_CA_BUNDLE or `ca_bundle` in the AWS profile to its PEM file".to_string(),
                Some(proxies) => format!(
                    "check --endpoint-url / AWS_ENDPOINT_URL, the region and the network; kiln connects through the proxy set by {proxies}: check that proxy, or add the endpoint's host to NO_PROXY to connect directly"
                ),
                None => "check --endpoint-url / AWS_ENDPOINT_URL, the region and the network".to_string(),
            },
        ),
        // A configuration problem found before any AWS call: a usage error.
        CaBundle {
            path,
            origin,
            detail,
        } => Described::new(
            exit::USAGE,
            format!(
                "cannot use the CA bundle {} (from {origin}): {detail}",
                path.display()
            ),
            format!(
                "point {origin} at a readable file of PEM certificates (-----BEGIN CERTIFICATE-----), or unset it to trust only the system roots"
            ),
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
