//! Lengths of time as people write them in CI files and kiln.toml: `90s`, `10m`,
//! `2h`, `7d`, or combined (`1h30m`). Used for timeouts, lifetimes and ages.

use std::fmt;

use serde::Serialize;

use crate::error::{Result, Source};

/// A length of time in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(u64);

const EXPECTED: &str =
    "a duration such as 90s, 10m, 2h or 7d (units s, m, h, d; combined like 1h30m)";

impl Span {
    pub const fn secs(secs: u64) -> Self {
        Self(secs)
    }

    pub const fn minutes(minutes: u64) -> Self {
        Self(minutes * 60)
    }

    pub fn as_secs(self) -> u64 {
        self.0
    }

    pub fn std(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0)
    }

    pub fn parse(value: &str, source: &Source) -> Result<Self> {
        let invalid = || super::invalid(source, value, EXPECTED);
        let mut total: u64 = 0;
        let mut digits = String::new();
        let mut units = 0;
        for c in value.trim().chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let scale = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => return Err(invalid()),
            };
            let amount: u64 = digits.parse().map_err(|_| invalid())?;
            total = amount
                .checked_mul(scale)
                .and_then(|s| total.checked_add(s))
                .ok_or_else(invalid)?;
            digits.clear();
            units += 1;
        }
        // A bare number is read as seconds; a trailing number after units is not.
        match (units, digits.is_empty()) {
            (0, false) => digits.parse().map(Self).map_err(|_| invalid()),
            (n, true) if n > 0 => Ok(Self(total)),
            _ => Err(invalid()),
        }
    }
}

impl fmt::Display for Span {
    /// The shortest exact form: `45s`, `10m`, `1h30m`, `7d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Span> {
        Span::parse(text, &Source::Flag("--timeout"))
    }

    #[test]
    fn units_and_combinations() {
        assert_eq!(parse("90s").unwrap(), Span::secs(90));
        assert_eq!(parse("10m").unwrap(), Span::minutes(10));
        assert_eq!(parse("1h30m").unwrap(), Span::secs(5400));
        assert_eq!(parse("7d").unwrap(), Span::secs(604_800));
        assert_eq!(parse("45").unwrap(), Span::secs(45));
        assert_eq!(Span::secs(5400).to_string(), "1h30m");
        assert_eq!(Span::secs(604_800).to_string(), "7d");
    }

    #[test]
    fn bad_durations_say_what_is_expected() {
        for bad in ["", "m", "10x", "1h30", "-5s", "99999999999999999999d"] {
            let err = parse(bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid value `{bad}` in --timeout: expected {EXPECTED}"),
                "{bad}"
            );
        }
    }
}
