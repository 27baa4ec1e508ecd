//! `kiln promote REF --to CHANNEL`: move a channel label to the version REF names.
//!
//! A channel reference promotes what that channel points at
//! (`kiln promote app:tested --to production`). SSM moves a label atomically, so a
//! reader sees the old or the new version, never none. Revoked or deregistered
//! images are refused; promoting to where the channel already is changes nothing.

use serde_json::json;

use crate::config::PromoteSettings;
use crate::context::Context;
use crate::effect::unknown_offline;
use crate::error::Result;
use crate::model::Selector;
use crate::report::Outcome;

pub async fn run(ctx: &Context, settings: &PromoteSettings) -> Result<Outcome> {
    let (reference, channel) = (&settings.reference, &settings.channel);
    let region = ctx.region();
    let registry = ctx.registry(&region)?;
    let parameter = registry.parameter(reference.role);

    // Without AWS access a dry run still plans the label move, the version unknown
    // unless the reference names it.
    let entry = unknown_offline(registry.resolve_usable(reference).await)?;
    let current =
        unknown_offline(registry.channel_version(reference.role, channel).await)?.flatten();
    // A version reference names its version even when a dry run cannot read it.
    let version = entry
        .as_ref()
        .map(|e| e.version)
        .or(match &reference.selector {
            Selector::Version(version) => Some(*version),
            _ => None,
        });
    let already = version.is_some() && current == version;
    if already {
        ctx.ui.note(format!(
            "{channel} is already on version {} of {parameter}; nothing to do",
            current.unwrap_or_default()
        ));
    } else {
        let applied = ctx
            .effects
            .apply(registry.promote(reference.role, version, channel))
            .await?;
        if let (true, Some(version)) = (applied.done(), version) {
            ctx.ui.note(format!(
                "moved {channel} of {parameter} to version {version}{}",
                current.map_or(String::new(), |v| format!(" (was {v})"))
            ));
        }
    }

    let ami_id = entry.as_ref().map(|e| e.ami_id.clone());
    let mut step_outputs = vec![("channel", channel.to_string())];
    if let (Some(version), Some(ami)) = (version, &ami_id) {
        step_outputs.push(("version", version.to_string()));
        step_outputs.push(("ami-id", ami.to_string()));
    }
    let done = match (version, &ami_id) {
        (Some(version), Some(ami)) => {
            format!(
                "{}:{channel} -> version {version} ({ami})\n",
                reference.role
            )
        }
        _ => String::new(),
    };
    Ok(Outcome {
        done,
        json: json!({
            "parameter": parameter,
            "region": region,
            "role": reference.role,
            "channel": channel,
            "version": version,
            "previous_version": current,
            "ami_id": ami_id,
            "changed": !already,
        }),
        summary: version
            .map(|v| format!("**kiln promote**: `{parameter}` version {v} is now on `{channel}`")),
        step_outputs,
        ..Outcome::default()
    })
}
