//! One module per command. Each validates its own arguments, reads through the
//! registry, sends changes through the effect gate and returns an `Outcome`.

pub mod bake;
pub mod deploy;
pub mod history;
pub mod promote;
pub mod prune;
pub mod publish;
pub mod resolve;
pub mod revoke;
pub mod status;
pub mod verify;

use crate::error::{Error, Result, Source};

/// Parses a whole number given on the command line.
pub(crate) fn parse_count(value: &str, name: &'static str, expected: &str) -> Result<u64> {
    value.parse::<u64>().map_err(|_| Error::InvalidValue {
        source: Source::Flag(name),
        value: value.to_string(),
        expected: expected.to_string(),
    })
}
