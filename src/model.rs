//! The validated names kiln passes around: apps, roles, channels, versions, AMI ids,
//! regions and image references.
//!
//! Raw strings from flags, variables and files become these types once, at the edge
//! (see `config`), so the rest of the code never re-checks a string.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::error::{Error, Result, Source};

fn invalid(source: &Source, value: &str, expected: &str) -> Error {
    Error::InvalidValue {
        source: source.clone(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// A value AWS gave back (or a placeholder); trusted without checking.
            pub fn from_aws(value: impl Into<String>) -> Self {
                Self(value.into())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

mod infra;
mod rollout;
mod span;
pub use infra::*;
pub use rollout::{Batch, Percent, Strategy};
pub use span::Span;

string_newtype!(
    /// The application whose images kiln manages; one segment of the parameter path.
    AppName
);
string_newtype!(
    /// An EC2 image id, `ami-` and 8 or 17 hex digits.
    AmiId
);
string_newtype!(
    /// An AWS region name such as `eu-west-1`.
    Region
);
string_newtype!(
    /// A registry channel: a label on parameter versions (`tested`, `production`).
    Channel
);
string_newtype!(
    /// The SSM path under which kiln keeps its parameters, e.g. `/kiln`.
    ParameterPrefix
);
string_newtype!(
    /// The full name of a registry parameter, `<prefix>/<app>/<role>`; built only by
    /// `registry`.
    ParameterName
);

impl ParameterName {
    pub(crate) fn new(name: String) -> Self {
        Self(name)
    }
}

/// A point in time, as AWS reports it, in whole seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Self(secs)
    }

    /// Parses the ISO 8601 form EC2 uses for image creation dates.
    pub fn parse_iso(text: &str) -> Option<Self> {
        aws_smithy_types::DateTime::from_str(text, aws_smithy_types::date_time::Format::DateTime)
            .ok()
            .map(|t| Self(t.secs()))
    }

    /// RFC 3339 in UTC, e.g. `2026-11-23T15:04:05Z`.
    pub fn rfc3339(self) -> String {
        aws_smithy_types::DateTime::from_secs(self.0)
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap_or_else(|_| self.0.to_string())
    }

    /// How long ago, in the largest whole unit: `45s`, `12m`, `5h`, `3d`.
    pub fn age(self, now: Timestamp) -> String {
        let secs = (now.0 - self.0).max(0);
        match secs {
            s if s < 60 => format!("{s}s"),
            s if s < 3600 => format!("{}m", s / 60),
            s if s < 86_400 => format!("{}h", s / 3600),
            s => format!("{}d", s / 86_400),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.rfc3339())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse_iso(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {text}")))
    }
}

static APP_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$").unwrap());
static AMI_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$").unwrap());
static REGION_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$").unwrap());
static CHANNEL_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_.-][A-Za-z0-9_.-]{0,99}$").unwrap());
static PREFIX_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:/[A-Za-z0-9_.-]+)+$").unwrap());

pub const APP_EXPECTED: &str =
    "a name of letters, digits, '.', '_' or '-' (at most 100, starting with a letter or digit)";
pub const AMI_EXPECTED: &str = "an AMI id: `ami-` followed by 8 or 17 lowercase hex digits";
pub const REGION_EXPECTED: &str = "an AWS region name such as eu-west-1";
pub const CHANNEL_EXPECTED: &str = "a label of letters, digits, '.', '_' or '-' that does not start with a digit, `aws` or `ssm` and is not `latest`";
pub const PREFIX_EXPECTED: &str =
    "an SSM path such as /kiln: segments of letters, digits, '.', '_' or '-', each after a '/'";

/// `value` if it matches `pattern`, else the error that says what was expected.
fn matching(pattern: &Regex, value: &str, source: &Source, expected: &str) -> Result<String> {
    if pattern.is_match(value) {
        Ok(value.to_string())
    } else {
        Err(invalid(source, value, expected))
    }
}

impl AppName {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        matching(&APP_RE, value, source, APP_EXPECTED).map(Self)
    }
}

impl AmiId {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        matching(&AMI_RE, value, source, AMI_EXPECTED).map(Self)
    }
}

impl Region {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        matching(&REGION_RE, value, source, REGION_EXPECTED).map(Self)
    }
}

impl Channel {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        let lower = value.to_ascii_lowercase();
        let reserved = lower.starts_with("aws") || lower.starts_with("ssm") || lower == "latest";
        if CHANNEL_RE.is_match(value) && !reserved {
            Ok(Self(value.to_string()))
        } else {
            Err(invalid(source, value, CHANNEL_EXPECTED))
        }
    }
}

impl ParameterPrefix {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        let trimmed = value.trim_end_matches('/');
        if PREFIX_RE.is_match(trimmed) && !trimmed.to_ascii_lowercase().starts_with("/aws") {
            Ok(Self(trimmed.to_string()))
        } else {
            Err(invalid(source, value, PREFIX_EXPECTED))
        }
    }
}

impl Default for ParameterPrefix {
    fn default() -> Self {
        Self("/kiln".into())
    }
}

/// A version number of a registry parameter (SSM counts from 1).
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Version(pub u64);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What an image is for: the hardened base, or the application baked on it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Base,
    App,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Base, Role::App];

    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        match value {
            "base" => Ok(Role::Base),
            "app" => Ok(Role::App),
            _ => Err(invalid(source, value, "a role: `base` or `app`")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Base => "base",
            Role::App => "app",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which version of a role's parameter a reference means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Latest,
    Channel(Channel),
    Version(Version),
}

/// A reference to a registry entry: `ROLE`, `ROLE:CHANNEL` or `ROLE:VERSION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub role: Role,
    pub selector: Selector,
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.selector {
            Selector::Latest => write!(f, "{}", self.role),
            Selector::Channel(channel) => write!(f, "{}:{channel}", self.role),
            Selector::Version(version) => write!(f, "{}:{version}", self.role),
        }
    }
}

pub const REF_EXPECTED: &str =
    "a reference ROLE, ROLE:CHANNEL or ROLE:VERSION, e.g. `app`, `app:production`, `base:7`";

impl ImageRef {
    /// Parses a reference; `channels` are the configured channel names, so a typo in a
    /// channel is caught here instead of looking like an empty channel.
    pub fn parse(value: &str, source: &Source, channels: &[Channel]) -> Result<Self> {
        let (role_part, selector_part) = match value.split_once(':') {
            Some((role, selector)) => (role, Some(selector)),
            None => (value, None),
        };
        let role =
            Role::parse(role_part, source).map_err(|_| invalid(source, value, REF_EXPECTED))?;
        let selector = match selector_part {
            None | Some("latest") => Selector::Latest,
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                match digits.parse::<u64>() {
                    Ok(n) if n > 0 => Selector::Version(Version(n)),
                    _ => return Err(invalid(source, value, "a version number of 1 or more")),
                }
            }
            Some(name) => match channels.iter().find(|c| c.as_str() == name) {
                Some(channel) => Selector::Channel(channel.clone()),
                None if name.is_empty() => return Err(invalid(source, value, REF_EXPECTED)),
                None => {
                    return Err(Error::UnknownChannel {
                        channel: name.to_string(),
                        known: channels.iter().map(|c| c.to_string()).collect(),
                    });
                }
            },
        };
        Ok(Self { role, selector })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARG: Source = Source::Argument("REF");

    fn channels() -> Vec<Channel> {
        vec![Channel("tested".into()), Channel("production".into())]
    }

    #[test]
    fn parses_the_three_reference_forms() {
        let latest = ImageRef::parse("app", &ARG, &channels()).unwrap();
        assert_eq!(latest.selector, Selector::Latest);
        let channel = ImageRef::parse("base:production", &ARG, &channels()).unwrap();
        assert_eq!(channel.role, Role::Base);
        assert_eq!(
            channel.selector,
            Selector::Channel(Channel("production".into()))
        );
        let version = ImageRef::parse("app:7", &ARG, &channels()).unwrap();
        assert_eq!(version.selector, Selector::Version(Version(7)));
        assert_eq!(version.to_string(), "app:7");
    }

    #[test]
    fn an_unconfigured_channel_is_named_with_the_known_ones() {
        let err = ImageRef::parse("app:prod", &ARG, &channels()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown channel `prod`: the channels are tested, production"
        );
    }

    #[test]
    fn rejects_bad_roles_and_versions() {
        assert!(ImageRef::parse("web", &ARG, &channels()).is_err());
        assert!(ImageRef::parse("app:0", &ARG, &channels()).is_err());
        assert!(ImageRef::parse("app:", &ARG, &channels()).is_err());
        assert!(ImageRef::parse("app:99999999999999999999999", &ARG, &channels()).is_err());
    }

    #[test]
    fn ami_ids_have_8_or_17_hex_digits() {
        assert!(AmiId::parse("ami-12345678", &ARG).is_ok());
        assert!(AmiId::parse("ami-0123456789abcdef0", &ARG).is_ok());
        for bad in [
            "ami-xyz",
            "ami-0123456789ABCDEF0",
            "ami-123",
            "i-12345678",
            "",
        ] {
            assert!(AmiId::parse(bad, &ARG).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn regions_look_like_aws_regions() {
        for good in [
            "eu-west-1",
            "us-gov-west-1",
            "ap-southeast-3",
            "il-central-1",
        ] {
            assert!(Region::parse(good, &ARG).is_ok(), "{good} rejected");
        }
        for bad in ["mars", "EU-WEST-1", "eu-west", "eu west 1"] {
            assert!(Region::parse(bad, &ARG).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn channels_follow_ssm_label_rules() {
        assert!(Channel::parse("production", &ARG).is_ok());
        for bad in ["1st", "aws-prod", "SSMx", "latest", "a b", ""] {
            assert!(Channel::parse(bad, &ARG).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn timestamps_format_and_age() {
        let t = Timestamp::parse_iso("2026-11-20T10:00:00.000Z").unwrap();
        assert_eq!(t.rfc3339(), "2026-11-20T10:00:00Z");
        assert_eq!(t.age(Timestamp(t.0 + 3 * 86_400 + 5)), "3d");
        assert_eq!(t.age(Timestamp(t.0 + 7_300)), "2h");
        assert_eq!(t.age(Timestamp(t.0 - 10)), "0s");
    }

    #[test]
    fn prefixes_are_paths_without_trailing_slash() {
        assert_eq!(
            ParameterPrefix::parse("/teams/web/", &ARG)
                .unwrap()
                .as_str(),
            "/teams/web"
        );
        for bad in ["kiln", "/", "/aws/x", "/a//b"] {
            assert!(ParameterPrefix::parse(bad, &ARG).is_err(), "{bad} accepted");
        }
    }
}
