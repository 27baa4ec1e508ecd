//! `kiln prune`'s settings: how many images and versions to keep, how young an
//! image is kept anyway, and the price for the saving estimate. Only flags set
//! them (kiln.toml has no `[prune]`); each is checked before anything is read.

use crate::cli::PruneArgs;
use crate::error::{Error, Result, Source};
use crate::model::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct PruneSettings {
    /// `--keep`: the newest images of each role kept [5].
    pub keep: usize,
    /// `--min-age`: every image younger than this is kept [7d].
    pub min_age: Span,
    /// `--keep-versions`: the images of the last K registry versions kept [10].
    pub keep_versions: usize,
    /// `--apply`: delete; without it only the plan is shown.
    pub apply: bool,
    /// `--price-per-gib`: dollars per GiB-month of snapshot storage [0.05].
    pub price_per_gib: f64,
}

pub(super) fn prune(args: &PruneArgs) -> Result<PruneSettings> {
    let count = |value: &Option<String>, flag: &'static str, default: usize| -> Result<usize> {
        match value {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| Error::InvalidValue {
                source: Source::Flag(flag),
                value: text.clone(),
                expected: "a whole number, 0 or more".into(),
            }),
        }
    };
    let price_per_gib = match &args.price_per_gib {
        None => 0.05,
        Some(text) => text
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite() && *p >= 0.0)
            .ok_or_else(|| Error::InvalidValue {
                source: Source::Flag("--price-per-gib"),
                value: text.clone(),
                expected: "a price in dollars per GiB-month, e.g. 0.05".into(),
            })?,
    };
    Ok(PruneSettings {
        keep: count(&args.keep, "--keep", 5)?,
        min_age: match &args.min_age {
            Some(text) => Span::parse(text, &Source::Flag("--min-age"))?,
            None => Span::secs(7 * 86_400),
        },
        keep_versions: count(&args.keep_versions, "--keep-versions", 10)?,
        apply: args.apply,
        price_per_gib,
    })
}
