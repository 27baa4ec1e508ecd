//! Writes whose answer may be lost: AWS made the change, the answer never came back
//! (a dropped connection, a timeout, a 5xx from a proxy or load balancer in front of
//! the service), and a blind retry would make the change a second time.
//!
//! Where AWS takes a client token (RunInstances, CopyImage,
//! CreateLaunchTemplateVersion) kiln sets one on the call's input: the SDK
//! serializes the input once and resends the same bytes on each retry, and AWS
//! answers a repeated token with the first result. Where it has none, the caller
//! reads after a failure whether the change landed (see `ssm::put_image_id`,
//! `ssm::label`, `autoscaling::create_group`; the deploy lock
//! reads whether the lock that exists holds its own run). This module
//! says which failures may hide a change that landed, and how long to wait.

use std::error::Error as StdError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// True when the request may have reached AWS and been carried out although no
/// answer says so; false when AWS answered (a refusal) or nothing listened.
pub fn answer_may_be_lost<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => {
            !failure.as_connector_error().is_some_and(|e| refused(e))
        }
        SdkError::ServiceError(service) => {
            service.raw().status().as_u16() >= 500
                || service
                    .err()
                    .code()
                    .is_some_and(|code| super::THROTTLING_CODES.contains(&code))
        }
        _ => false,
    }
}

/// A refused connection: nothing listens, so nothing was sent.
fn refused(error: &(dyn StdError + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        source = error.source();
    }
    false
}

/// The pause before attempt `attempt + 1` (1-based): 200 ms doubling to 5 s, as
/// the SDK's own retries (see `aws::sdk_config`).
pub fn backoff(attempt: u32) -> Duration {
    let millis = 200u64.saturating_mul(1 << attempt.saturating_sub(1).min(5));
    Duration::from_millis(millis.min(5_000))
}

/// How many attempts a write kiln retries itself may make: `AWS_MAX_ATTEMPTS`, as
/// for the SDK's retries.
pub fn max_attempts() -> u32 {
    super::max_attempts()
}

/// A client token for one call, unique to it: the time, the process and a count
/// (EC2 takes up to 64 ASCII characters). Set on the operation's input, so every
/// retry the SDK makes of that call sends the same token.
pub fn client_token() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNT.fetch_add(1, Ordering::Relaxed);
    format!("kiln-{nanos}-{}-{count}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_up_to_five_seconds() {
        let pauses: Vec<u64> = (1..=7).map(|a| backoff(a).as_millis() as u64).collect();
        assert_eq!(pauses, [200, 400, 800, 1600, 3200, 5000, 5000]);
    }

    #[test]
    fn each_call_gets_its_own_token_that_ec2_accepts() {
        let (a, b) = (client_token(), client_token());
        assert_ne!(a, b);
        assert!(a.len() <= 64 && a.is_ascii(), "{a}");
    }
}
