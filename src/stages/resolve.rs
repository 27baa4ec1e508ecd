//! `kiln resolve REF`: print the AMI id a reference points at, and nothing else on
//! stdout, so that `$(kiln resolve app:production)` works in any shell step.

use serde_json::json;

use crate::config::ResolveSettings;
use crate::context::Context;
use crate::error::Result;
use crate::report::Outcome;

pub async fn run(ctx: &Context, settings: &ResolveSettings) -> Result<Outcome> {
    let reference = &settings.reference;
    let region = ctx.region();
    let registry = ctx.registry(&region)?;
    let entry = registry.resolve(reference).await?;
    Ok(Outcome {
        text: format!("{}\n", entry.ami_id),
        json: json!({
            "reference": reference.to_string(),
            "ami_id": entry.ami_id,
            "version": entry.version,
            "parameter": entry.parameter,
            "region": entry.region,
        }),
        step_outputs: vec![
            ("ami-id", entry.ami_id.to_string()),
            ("version", entry.version.to_string()),
        ],
        ..Outcome::default()
    })
}
