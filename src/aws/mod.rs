//! AWS connection settings and the one function that turns them into an `SdkConfig`.
//!
//! The same code talks to AWS, to a local emulator and (in dry-run) to nothing:
//! only the `SdkConfig` differs. Retries, timeouts and the HTTP client are chosen
//! here, once; SDK errors become kiln errors here, once. Each service kiln calls
//! is one module beside this file (`ec2`, `ssm`, `autoscaling`, `elb`,
//! `cloudformation`) holding all
//! of its calls and returning kiln's own types; `calls`, `retry` and `mocked` serve
//! every service.

pub mod autoscaling;
pub mod calls;
pub mod cloudformation;
pub mod ec2;
pub mod elb;
pub mod lost;
#[cfg(test)]
mod lost_answers;
#[cfg(test)]
pub mod mocked;
pub mod network;
pub mod profile;
pub mod retry;
pub mod ssm;

use std::error::Error as StdError;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::error::Error;
use crate::model::Region;

/// Where and as whom kiln talks to AWS. Everything else comes from the AWS default
/// chain: environment, shared config and profiles, SSO, web identity (GitHub OIDC),
/// container and instance metadata (Jenkins agents on EC2).
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub profile: Option<String>,
    /// Where `profile` came from (`--profile`, kiln.toml), for messages.
    pub profile_source: Option<String>,
    pub region: Option<Region>,
    /// Overrides every service's endpoint (`--endpoint-url`); `AWS_ENDPOINT_URL` is
    /// read by the SDK itself.
    pub endpoint_url: Option<String>,
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY` (or lower-case).
    pub proxies: network::Proxies,
    /// Private CAs trusted besides the system roots (`AWS_CA_BUNDLE`, `ca_bundle`).
    pub ca_bundle: Option<network::CaBundle>,
}

/// How long to wait for a TCP connection: long enough for a far region, short
/// enough that an unreachable endpoint fails within seconds.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(90);
const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// Builds the SDK configuration. Region, credentials and endpoint resolve lazily in
/// the SDK; kiln checks the region and credentials itself (see `Aws::check`).
pub async fn sdk_config(settings: &AwsSettings) -> SdkConfig {
    let http_client = network::http_client(&settings.proxies, settings.ca_bundle.as_ref());
    // Adaptive retries rate-limit the client when AWS throttles; short initial
    // backoff so a refused connection fails in a few seconds, not tens.
    let retry = RetryConfig::adaptive()
        .with_max_attempts(max_attempts())
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(5));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &settings.region {
        loader = loader.region(aws_config::Region::new(region.to_string()));
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// `AWS_MAX_ATTEMPTS` is honoured as in the AWS CLI; kiln's default is 8, since
/// pipelines run many calls and throttling is common in busy accounts.
pub(crate) fn max_attempts() -> u32 {
    std::env::var("AWS_MAX_ATTEMPTS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(DEFAULT_MAX_ATTEMPTS)
}

/// A connection to AWS: the SDK configuration and the region it resolved to.
#[derive(Clone, Debug)]
pub struct Aws {
    config: SdkConfig,
    primary: Option<Region>,
    endpoint: Option<String>,
    /// The profile named (`--profile`, kiln.toml, AWS_PROFILE), for messages.
    profile: Option<String>,
    /// Clients given from outside instead of built from `config`: SDK-level tests
    /// of what the emulator cannot do hand in clients mocked with aws-smithy-mocks.
    clients: Option<std::sync::Arc<Clients>>,
}

/// Ready-made clients for every service kiln calls (see `Aws::with_clients`).
#[derive(Debug)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
}

impl Aws {
    pub fn new(config: SdkConfig) -> Self {
        let primary = config.region().map(|r| Region::from_aws(r.as_ref()));
        let endpoint = config.endpoint_url().map(str::to_string);
        Self {
            config,
            primary,
            endpoint,
            profile: None,
            clients: None,
        }
    }

    /// Names the profile in use, so a credentials error can say which one failed.
    pub fn with_profile(mut self, profile: Option<String>) -> Self {
        self.profile = profile;
        self
    }

    /// Every call goes to these clients, whatever the region: for SDK-level tests
    /// with mocked clients (aws-smithy-mocks), the last step before AWS itself.
    pub fn with_clients(region: Region, clients: Clients) -> Self {
        Self {
            config: SdkConfig::builder()
                .region(aws_config::Region::new(region.to_string()))
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(
                        aws_credential_types::Credentials::new(
                            "mocked", "mocked", None, None, "mocked",
                        ),
                    ),
                )
                .build(),
            primary: Some(region),
            endpoint: Some("mocked AWS".into()),
            profile: None,
            clients: Some(std::sync::Arc::new(clients)),
        }
    }

    /// Checks that a region and credentials are available, so that the first AWS
    /// call does not fail with a vague error. Makes no AWS call: the credentials
    /// chain reads variables, files, or the local metadata endpoints only.
    pub async fn check(&self) -> Result<(), Error> {
        if self.primary.is_none() {
            return Err(Error::NoRegion);
        }
        let provider = self
            .config
            .credentials_provider()
            .ok_or_else(|| Error::AwsCredentials {
                detail: "no credentials provider is configured".into(),
                profile: self.profile.clone(),
            })?;
        let probe = tokio::time::timeout(Duration::from_secs(15), provider.provide_credentials());
        match probe.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(Error::AwsCredentials {
                detail: innermost(&e),
                profile: self.profile.clone(),
            }),
            Err(_) => Err(Error::AwsCredentials {
                detail: "looking for credentials took more than 15s".into(),
                profile: self.profile.clone(),
            }),
        }
    }

    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    pub fn primary_region(&self) -> Option<&Region> {
        self.primary.as_ref()
    }

    fn config_for(&self, region: &Region) -> SdkConfig {
        self.config
            .to_builder()
            .region(aws_config::Region::new(region.to_string()))
            .build()
    }

    fn endpoint_for(&self, region: &Region) -> String {
        match &self.endpoint {
            Some(url) => url.clone(),
            None => format!("AWS in {region}"),
        }
    }

    pub fn ssm(&self, region: &Region) -> ssm::Ssm {
        let client = match &self.clients {
            Some(clients) => clients.ssm.clone(),
            None => aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(&self.config_for(region))
                    .interceptor(calls::CallLog)
                    .retry_classifier(retry::RefusedIsFinal)
                    .build(),
            ),
        };
        ssm::Ssm::new(client, self.endpoint_for(region))
    }

    pub fn ec2(&self, region: &Region) -> ec2::Ec2 {
        let client = match &self.clients {
            Some(clients) => clients.ec2.clone(),
            None => aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(&self.config_for(region))
                    .interceptor(calls::CallLog)
                    .retry_classifier(retry::RefusedIsFinal)
                    .build(),
            ),
        };
        ec2::Ec2::new(client, self.endpoint_for(region))
    }

    pub fn autoscaling(&self, region: &Region) -> autoscaling::AutoScaling {
        let client = match &self.clients {
            Some(clients) => clients.autoscaling.clone(),
            None => aws_sdk_autoscaling::Client::from_conf(
                aws_sdk_autoscaling::config::Builder::from(&self.config_for(region))
                    .interceptor(calls::CallLog)
                    .retry_classifier(retry::RefusedIsFinal)
                    .build(),
            ),
        };
        autoscaling::AutoScaling::new(client, self.endpoint_for(region))
    }

    pub fn elb(&self, region: &Region) -> elb::Elb {
        let client = match &self.clients {
            Some(clients) => clients.elb.clone(),
            None => aws_sdk_elasticloadbalancingv2::Client::from_conf(
                aws_sdk_elasticloadbalancingv2::config::Builder::from(&self.config_for(region))
                    .interceptor(calls::CallLog)
                    .retry_classifier(retry::RefusedIsFinal)
                    .build(),
            ),
        };
        elb::Elb::new(client, self.endpoint_for(region))
    }

    pub fn cloudformation(&self, region: &Region) -> cloudformation::CloudFormation {
        let client = match &self.clients {
            Some(clients) => clients.cloudformation.clone(),
            None => aws_sdk_cloudformation::Client::from_conf(
                aws_sdk_cloudformation::config::Builder::from(&self.config_for(region))
                    .interceptor(calls::CallLog)
                    .retry_classifier(retry::RefusedIsFinal)
                    .build(),
            ),
        };
        cloudformation::CloudFormation::new(client, self.endpoint_for(region))
    }
}

/// The message of the deepest error in a chain: the one that says what really happened
/// ("Connection refused"), not the wrappers ("dispatch failure").
fn innermost(error: &(dyn StdError + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// Error codes that mean the caller is not allowed, or not who it claims to be.
const ACCESS_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthFailure",
];
/// Error codes that mean "slow down" (retried by the SDK before kiln sees them).
pub(crate) const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
];
const CREDENTIAL_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
];

/// Turns an SDK error into a kiln error: unreachable endpoints, timeouts, denied
/// access and bad credentials get their own classes; anything else keeps AWS's code
/// and message. Never a debug dump.
pub fn classify<E>(operation: &str, endpoint: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    match &err {
        SdkError::TimeoutError(_) => Error::AwsTimeout {
            operation: operation.to_string(),
            endpoint: endpoint.to_string(),
        },
        SdkError::DispatchFailure(failure) if failure.is_timeout() => Error::AwsTimeout {
            operation: operation.to_string(),
            endpoint: endpoint.to_string(),
        },
        SdkError::DispatchFailure(failure) if failure.is_io() => Error::AwsUnreachable {
            endpoint: endpoint.to_string(),
            detail: innermost(&err),
            proxies: network::proxies_in_effect(),
        },
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("Unknown").to_string();
            let message = service.err().message().unwrap_or("no message").to_string();
            if ACCESS_CODES.contains(&code.as_str()) {
                Error::AwsAccessDenied {
                    operation: operation.to_string(),
                    message,
                }
            } else if CREDENTIAL_CODES.contains(&code.as_str()) {
                Error::AwsCredentials {
                    detail: format!("{code}: {message}"),
                    profile: None,
                }
            } else if THROTTLING_CODES.contains(&code.as_str()) {
                Error::AwsThrottled {
                    operation: operation.to_string(),
                    message,
                }
            } else {
                Error::Aws {
                    operation: operation.to_string(),
                    code,
                    message,
                }
            }
        }
        SdkError::ResponseError(response) => Error::Aws {
            operation: operation.to_string(),
            code: format!("HTTP {}", response.raw().status().as_u16()),
            message: format!(
                "{endpoint} answered with something that is not an AWS response (an emulator that lacks this API does that)"
            ),
        },
        _ => Error::Aws {
            operation: operation.to_string(),
            code: "RequestFailed".into(),
            message: innermost(&err),
        },
    }
}

/// The AWS error code of a service error, if the error is one.
pub fn error_code<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<&str> {
    match err {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}
