//! The one way kiln reads AWS: a reader that knows whether it can.
//!
//! Stages and the registry get AWS clients only inside `Reader::read`. In a dry run
//! without AWS access (no credentials, no region) nothing is read: the read is
//! recorded in the plan ("would read …") and fails with `Error::Offline`, which
//! ends the stage early; `lib::run` then prints the plan instead of an error. A
//! stage whose plan can go on without the value (publish, promote) turns that into
//! "not known" with `unknown_offline`, and plans its changes with the value left
//! out (`None`, null in JSON). No value is ever made up.

use std::future::Future;

use super::plan::{Plan, PlanEntry};
use crate::aws::Aws;
use crate::aws::autoscaling::AutoScaling;
use crate::aws::cloudformation::CloudFormation;
use crate::aws::ec2::Ec2;
use crate::aws::elb::Elb;
use crate::aws::ssm::Ssm;
use crate::error::{Error, Result};
use crate::model::Region;

/// The services of one region, for the length of one read.
pub struct Services {
    pub ec2: Ec2,
    pub ssm: Ssm,
    pub autoscaling: AutoScaling,
    pub elb: Elb,
    pub cloudformation: CloudFormation,
}

#[derive(Debug, Clone)]
pub struct Reader {
    aws: Aws,
    /// Why nothing can be read (a dry run without credentials or region).
    offline: Option<String>,
    plan: Plan,
}

impl Reader {
    pub(super) fn new(aws: Aws, offline: Option<String>, plan: Plan) -> Self {
        Self { aws, offline, plan }
    }

    /// Runs `read` with the region's services; `what` names it for the plan (the
    /// IAM action and its subject) when it cannot run.
    pub async fn read<T, F, Fut>(
        &self,
        region: &Region,
        what: impl Into<String>,
        read: F,
    ) -> Result<T>
    where
        F: FnOnce(Services) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if let Some(reason) = &self.offline {
            self.plan.record(PlanEntry::Read {
                what: what.into(),
                reason: reason.clone(),
            });
            return Err(Error::Offline);
        }
        read(Services {
            ec2: self.aws.ec2(region),
            ssm: self.aws.ssm(region),
            autoscaling: self.aws.autoscaling(region),
            elb: self.aws.elb(region),
            cloudformation: self.aws.cloudformation(region),
        })
        .await
    }

    /// Whether reads run (false only in a dry run without AWS access).
    pub fn online(&self) -> bool {
        self.offline.is_none()
    }
}

/// A read's value, or `None` when a dry run without AWS access could not make it:
/// for plans that go on without the value.
pub fn unknown_offline<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Err(Error::Offline) => Ok(None),
        other => other.map(Some),
    }
}
