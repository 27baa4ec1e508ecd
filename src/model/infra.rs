//! Names of the EC2 and SSM things kiln creates or points at while it verifies and
//! deploys: instances, commands, subnets, security groups, instance profiles.
//!
//! Like the registry names in `model`, each is checked once where it enters kiln,
//! so a typo in kiln.toml fails before anything is launched.

use std::sync::LazyLock;

use regex::Regex;

use super::matching;
use crate::error::{Result, Source};

string_newtype!(
    /// An EC2 instance id, `i-` and 8 or 17 hex digits.
    InstanceId
);
string_newtype!(
    /// An SSM Run Command id.
    CommandId
);
string_newtype!(
    /// One kiln run's id: tags what the run creates, so a crashed run's leftovers
    /// can be found, and makes RunInstances idempotent (its client token).
    RunId
);
string_newtype!(
    /// An EC2 instance type such as `t3.micro`.
    InstanceType
);
string_newtype!(
    /// A VPC subnet id, `subnet-` and hex digits.
    SubnetId
);
string_newtype!(
    /// A VPC security group id, `sg-` and hex digits.
    SecurityGroupId
);
string_newtype!(
    /// An IAM instance profile, by name or by ARN.
    InstanceProfile
);

string_newtype!(
    /// An Auto Scaling group's name.
    GroupName
);
string_newtype!(
    /// A launch template id, `lt-` and hex digits.
    LaunchTemplateId
);
string_newtype!(
    /// An ELBv2 target group ARN.
    TargetGroupArn
);

impl GroupName {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        let fits = (1..=255).contains(&value.chars().count())
            && !value.contains(':')
            && !value.starts_with(char::is_whitespace);
        if fits {
            Ok(Self(value.to_string()))
        } else {
            Err(super::invalid(
                source,
                value,
                "an Auto Scaling group name (1 to 255 characters, no `:`)",
            ))
        }
    }
}

static INSTANCE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$").unwrap());
static TYPE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$").unwrap());
static SUBNET_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$").unwrap());
static GROUP_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$").unwrap());
static PROFILE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[A-Za-z0-9+=,.@_-]{1,128}|arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/[A-Za-z0-9+=,.@_/-]{1,128})$",
    )
    .unwrap()
});

impl InstanceId {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        matching(
            &INSTANCE_RE,
            value,
            source,
            "an instance id: `i-` followed by 8 or 17 lowercase hex digits",
        )
        .map(Self)
    }
}

impl InstanceType {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        matching(
            &TYPE_RE,
            value,
            source,
            "an EC2 instance type such as t3.micro",
        )
        .map(Self)
    }
}

impl SubnetId {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        matching(
            &SUBNET_RE,
            value,
            source,
            "a subnet id: `subnet-` followed by 8 or 17 lowercase hex digits",
        )
        .map(Self)
    }
}

impl SecurityGroupId {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        matching(
            &GROUP_RE,
            value,
            source,
            "a security group id: `sg-` followed by 8 or 17 lowercase hex digits",
        )
        .map(Self)
    }
}

impl InstanceProfile {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        matching(
            &PROFILE_RE,
            value,
            source,
            "an instance profile name, or its ARN (arn:aws:iam::ACCOUNT:instance-profile/NAME)",
        )
        .map(Self)
    }

    pub fn is_arn(&self) -> bool {
        self.0.starts_with("arn:")
    }
}

impl RunId {
    /// A new id: the time and the process id, unique per machine and readable in a
    /// listing of instances (`20261123T173005-4242`).
    pub fn new() -> Self {
        let now = super::Timestamp::now().rfc3339();
        let compact: String = now.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        Self(format!("{compact}-{}", std::process::id()))
    }
}

impl Default for RunId {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_and_checks() {
        let source = Source::Flag("--x");
        assert!(InstanceId::parse("i-0123456789abcdef0", &source).is_ok());
        assert!(InstanceId::parse("i-xyz", &source).is_err());
        assert!(InstanceType::parse("m7g.large", &source).is_ok());
        assert!(SubnetId::parse("subnet-01234567", &source).is_ok());
        assert!(SecurityGroupId::parse("sg-0123456789abcdef0", &source).is_ok());
        let arn = "arn:aws:iam::123456789012:instance-profile/ci/kiln-verify";
        assert!(InstanceProfile::parse(arn, &source).unwrap().is_arn());
        assert!(
            !InstanceProfile::parse("kiln-verify", &source)
                .unwrap()
                .is_arn()
        );
        assert!(InstanceProfile::parse("no spaces", &source).is_err());
    }
}
