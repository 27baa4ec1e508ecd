//! How a deploy rolls out: the strategy, the batch size and the share of the
//! group that must stay healthy, parsed once from flags or kiln.toml.

use std::fmt;

use serde::Serialize;

use crate::error::{Result, Source};

/// How new instances replace old ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// kiln replaces instances in batches and waits for each batch to be healthy.
    Rolling,
    /// AWS's instance refresh does the replacing; kiln starts it and waits.
    InstanceRefresh,
    /// A new group beside the old one; traffic moves when it is healthy.
    BlueGreen,
    /// The launch template version and the group change; no instance is replaced
    /// (scale-in or a later refresh does it).
    None,
}

impl Strategy {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        match value {
            "rolling" => Ok(Self::Rolling),
            "instance-refresh" => Ok(Self::InstanceRefresh),
            "blue-green" => Ok(Self::BlueGreen),
            "none" => Ok(Self::None),
            _ => Err(super::invalid(
                source,
                value,
                "`rolling`, `instance-refresh`, `blue-green` or `none`",
            )),
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rolling => "rolling",
            Self::InstanceRefresh => "instance-refresh",
            Self::BlueGreen => "blue-green",
            Self::None => "none",
        })
    }
}

/// How many instances a rolling deploy replaces at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    Count(u32),
    Percent(Percent),
}

impl Batch {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        if value.ends_with('%') {
            let percent = Percent::parse(value, source)?;
            if percent.0 == 0 {
                return Err(super::invalid(source, value, BATCH_EXPECTED));
            }
            return Ok(Self::Percent(percent));
        }
        match value.parse::<u32>() {
            Ok(n) if n > 0 => Ok(Self::Count(n)),
            _ => Err(super::invalid(source, value, BATCH_EXPECTED)),
        }
    }

    /// The batch for a group of `size` instances: at least one.
    pub fn of(self, size: usize) -> usize {
        match self {
            Self::Count(n) => n as usize,
            Self::Percent(p) => p.of_rounded_up(size),
        }
        .max(1)
    }
}

const BATCH_EXPECTED: &str = "a number of instances (1, 2, …) or a share of the group (25%)";

impl fmt::Display for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Count(n) => write!(f, "{n}"),
            Self::Percent(p) => write!(f, "{p}"),
        }
    }
}

/// A percentage from 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percent(pub u32);

impl Percent {
    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        match value.trim_end_matches('%').parse::<u32>() {
            Ok(n) if n <= 100 => Ok(Self(n)),
            _ => Err(super::invalid(
                source,
                value,
                "a percentage from 0% to 100%",
            )),
        }
    }

    pub fn of_rounded_up(self, size: usize) -> usize {
        (size * self.0 as usize).div_ceil(100)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_and_percentages() {
        let source = Source::Flag("--batch-size");
        assert_eq!(Batch::parse("2", &source).unwrap().of(10), 2);
        assert_eq!(Batch::parse("25%", &source).unwrap().of(10), 3);
        assert_eq!(Batch::parse("1%", &source).unwrap().of(4), 1);
        assert!(Batch::parse("0", &source).is_err());
        assert!(Batch::parse("0%", &source).is_err());
        assert_eq!(Percent(90).of_rounded_up(4), 4);
        assert_eq!(
            Percent::parse("120%", &Source::Flag("--min-healthy"))
                .unwrap_err()
                .to_string(),
            "invalid value `120%` in --min-healthy: expected a percentage from 0% to 100%"
        );
        assert_eq!(
            Strategy::parse("canary", &Source::Flag("--strategy"))
                .unwrap_err()
                .to_string(),
            "invalid value `canary` in --strategy: expected `rolling`, `instance-refresh`, `blue-green` or `none`"
        );
        assert_eq!(
            Strategy::parse("none", &Source::Flag("--strategy")).unwrap(),
            Strategy::None
        );
        assert_eq!(Strategy::None.to_string(), "none");
    }
}
