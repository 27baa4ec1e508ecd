//! `kiln revoke`: takes a bad image out of service. Its channel labels are removed
//! (kiln says which channels that leaves empty), it is tagged `kiln:revoked` with
//! the reason and `kiln:revoked-at`, and deprecated in EC2 where EC2 supports it.
//! verify, deploy and promote refuse it from then on; status and history show it.
//! `--undo` removes the tags and the deprecation; labels are not put back.

use std::collections::BTreeMap;

use serde_json::json;

use crate::config::{RevokeSettings, RevokeTarget};
use crate::context::Context;
use crate::effect::{ImageChange, ParameterChange};
use crate::error::{Error, Result};
use crate::model::{AmiId, Role, Timestamp};
use crate::provenance::tag;
use crate::report::Outcome;

pub async fn run(ctx: &Context, settings: &RevokeSettings) -> Result<Outcome> {
    let region = ctx.region();
    let registry = ctx.registry(&region)?;
    let ami = match &settings.target {
        RevokeTarget::Ami(ami) => ami.clone(),
        RevokeTarget::Reference(reference) => registry.resolve(reference).await?.ami_id,
    };
    let image = registry
        .image(&ami)
        .await?
        .ok_or_else(|| Error::AmiNotFound {
            ami: ami.to_string(),
            region: region.to_string(),
            from_registry: matches!(settings.target, RevokeTarget::Reference(_)),
        })?;
    let app = ctx.config.app()?;
    if let Some(owner) = image.tags.get(tag::APP).filter(|o| *o != app.as_str()) {
        return Err(Error::AmiBelongsElsewhere {
            ami: ami.to_string(),
            tag: tag::APP.into(),
            found: owner.clone(),
            wanted: app.to_string(),
        });
    }
    if settings.undo {
        return undo(ctx, &region, &ami, image.tags.contains_key(tag::REVOKED)).await;
    }
    let reason = settings.reason.clone();

    // Every labelled version that holds this image loses its labels.
    let mut emptied = Vec::new();
    for role in [Role::Base, Role::App] {
        let Some(history) = registry.history(role).await? else {
            continue;
        };
        for version in history
            .iter()
            .filter(|v| v.ami_id == ami && !v.labels.is_empty())
        {
            let labels: Vec<_> = version
                .labels
                .iter()
                .map(|l| crate::model::Channel::from_aws(l.clone()))
                .collect();
            ctx.effects
                .apply(ParameterChange::Unlabel {
                    region: region.clone(),
                    name: registry.parameter(role),
                    version: version.version,
                    labels: labels.clone(),
                })
                .await?;
            emptied.extend(labels.iter().map(|l| format!("{role}:{l}")));
        }
    }
    let tags = BTreeMap::from([
        (
            tag::REVOKED.to_string(),
            crate::provenance::tag_value(&reason),
        ),
        (tag::REVOKED_AT.to_string(), Timestamp::now().rfc3339()),
    ]);
    ctx.effects
        .apply(registry.tag_image(Some(&ami), tags))
        .await?;
    deprecate(ctx, &region, &ami, true).await;

    let mut done = format!("revoked {ami}: {reason}\n");
    if !emptied.is_empty() {
        done.push_str(&format!(
            "channels now empty: {} (promote another version to fill them)\n",
            emptied.join(", ")
        ));
    }
    Ok(Outcome {
        summary: Some(format!("### kiln revoke\n\n`{ami}` revoked: {reason}\n")),
        json: json!({
            "ami_id": ami,
            "revoked": true,
            "reason": reason,
            "emptied_channels": emptied,
        }),
        done,
        step_outputs: vec![("ami-id", ami.to_string())],
        ..Outcome::default()
    })
}

async fn undo(
    ctx: &Context,
    region: &crate::model::Region,
    ami: &AmiId,
    revoked: bool,
) -> Result<Outcome> {
    if revoked {
        ctx.effects
            .apply(ImageChange::Untag {
                region: region.clone(),
                ami_id: ami.clone(),
                keys: vec![tag::REVOKED.into(), tag::REVOKED_AT.into()],
            })
            .await?;
        deprecate(ctx, region, ami, false).await;
    } else {
        ctx.ui
            .note(format!("{ami} is not revoked: nothing to undo"));
    }
    Ok(Outcome {
        done: format!(
            "{ami} is in service again; its channel labels were not restored (kiln promote puts them back)\n"
        ),
        json: json!({"ami_id": ami, "revoked": false}),
        step_outputs: vec![("ami-id", ami.to_string())],
        ..Outcome::default()
    })
}

/// EC2 deprecation is a courtesy (it hides the image from new launches in the
/// console); where EC2 or an emulator does not support it, kiln says so and goes on.
async fn deprecate(ctx: &Context, region: &crate::model::Region, ami: &AmiId, deprecated: bool) {
    let (region, ami_id) = (region.clone(), ami.clone());
    let change = if deprecated {
        ImageChange::Deprecate { region, ami_id }
    } else {
        ImageChange::Undeprecate { region, ami_id }
    };
    if let Err(error) = ctx.effects.apply(change).await {
        crate::ui::warn(format!("EC2 deprecation of {ami} not changed: {error}"));
    }
}
