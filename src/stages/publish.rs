//! `kiln publish ROLE AMI_ID`: add an image to the registry as a new version.
//!
//! Checks first, writes after: the AMI must exist, be available, not be revoked and
//! not belong to another app or role; only then are its provenance tags written and
//! the parameter version added. SSM validates `aws:ec2:image` values after it has
//! accepted them, so kiln waits until the new version is readable.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::aws::ec2::Image;
use crate::config::PublishSettings;
use crate::context::Context;
use crate::effect::{Applied, unknown_offline};
use crate::error::{Error, Result};
use crate::model::{AmiId, AppName, Role, Version};
use crate::provenance::{Provenance, tag};
use crate::registry::Registry;
use crate::report::Outcome;

pub async fn run(ctx: &Context, settings: &PublishSettings) -> Result<Outcome> {
    let (role, ami) = (settings.role, settings.ami.clone());
    let region = ctx.region();
    let registry = ctx.registry(&region)?;
    let app = registry.app().clone();

    // Without AWS access a dry run plans the publish without the checks.
    let image = unknown_offline(registry.image(&ami).await)?;
    let existing_tags = match image {
        Some(None) => {
            return Err(Error::AmiNotFound {
                ami: ami.to_string(),
                region: region.to_string(),
                from_registry: false,
            });
        }
        Some(Some(image)) => {
            check_publishable(&image, &app, role)?;
            image.tags
        }
        None => BTreeMap::new(),
    };

    let given = Provenance {
        git_sha: settings.git_sha.clone(),
        build_url: settings.build_url.clone(),
        ..Provenance::default()
    };
    let provenance =
        given
            .or(Provenance::from_tags(&existing_tags))
            .or(ctx.config.ci.provenance.clone());
    let parameter = registry.parameter(role);
    // Publishing what is already the newest version (a CI job run again) adds
    // nothing: the version it is reports back, as a bake's reuse does.
    if let Some((newest, version)) = unknown_offline(registry.newest(role).await)?.flatten()
        && newest == ami
    {
        ctx.ui.note(format!(
            "{ami} is already version {version} of {parameter} in {region}; nothing to publish"
        ));
        return Ok(outcome(
            &region,
            role,
            &parameter,
            &ami,
            Some(version),
            &provenance,
            false,
        ));
    }
    let version = publish_image(
        ctx,
        &registry,
        role,
        Some(&ami),
        &existing_tags,
        &provenance,
        settings.wait,
    )
    .await?;

    Ok(outcome(
        &region,
        role,
        &parameter,
        &ami,
        version,
        &provenance,
        true,
    ))
}

/// What a publish reports: the version (new, or the one the AMI already is).
fn outcome(
    region: &crate::model::Region,
    role: Role,
    parameter: &crate::model::ParameterName,
    ami: &AmiId,
    version: Option<Version>,
    provenance: &Provenance,
    published: bool,
) -> Outcome {
    let mut step_outputs = vec![
        ("ami-id", ami.to_string()),
        ("parameter", parameter.to_string()),
    ];
    let line = version.map(|v| format!("{v}\n")).unwrap_or_default();
    if let Some(version) = version {
        step_outputs.push(("version", version.to_string()));
    }
    // A new version is a change (a dry run shows its plan instead); the version an
    // AMI already is, is a fact either way.
    let (text, done) = if published {
        (String::new(), line)
    } else {
        (line, String::new())
    };
    Outcome {
        text,
        done,
        json: json!({
            "parameter": parameter,
            "region": region,
            "role": role,
            "ami_id": ami,
            "version": version,
            "published": published,
            "provenance": provenance,
        }),
        step_outputs,
        summary: Some(format!(
            "**kiln publish**: `{ami}` is version {} of `{parameter}` ({region})",
            version.map_or("(new)".to_string(), |v| v.to_string())
        )),
        ..Outcome::default()
    }
}

/// Records provenance on an image (only the tags that differ) and adds it as the
/// newest version of `role`, then waits until SSM has validated it. `ami` is `None`
/// only in a dry run of a bake; the result is `None` in any dry run.
pub(crate) async fn publish_image(
    ctx: &Context,
    registry: &Registry,
    role: Role,
    ami: Option<&AmiId>,
    existing_tags: &BTreeMap<String, String>,
    provenance: &Provenance,
    wait: Duration,
) -> Result<Option<Version>> {
    let changed_tags: BTreeMap<String, String> = provenance
        .tags(registry.app(), role)
        .into_iter()
        .filter(|(key, value)| existing_tags.get(key) != Some(value))
        .collect();
    if !changed_tags.is_empty() {
        ctx.effects
            .apply(registry.tag_image(ami, changed_tags))
            .await?;
    }
    let Applied::Version(version) = ctx
        .effects
        .apply(registry.publish(role, ami, provenance))
        .await?
    else {
        return Ok(None);
    };
    if !wait.is_zero() {
        registry.wait_readable(role, version, wait, &ctx.ui).await?;
    }
    ctx.ui.note(format!(
        "published {} as version {version} of {} in {}",
        ami.map_or("?".to_string(), |a| a.to_string()),
        registry.parameter(role),
        registry.region()
    ));
    Ok(Some(version))
}

/// Refuses images that are not ready, revoked, or tagged for another app or role.
fn check_publishable(image: &Image, app: &AppName, role: Role) -> Result<()> {
    if image.state != "available" {
        return Err(Error::AmiNotAvailable {
            ami: image.id.to_string(),
            state: image.state.clone(),
        });
    }
    if let Some(reason) = image.tags.get(tag::REVOKED) {
        return Err(Error::Revoked {
            ami: image.id.to_string(),
            reason: reason.clone(),
        });
    }
    for (key, wanted) in [(tag::APP, app.as_str()), (tag::ROLE, role.as_str())] {
        if let Some(found) = image.tags.get(key).filter(|found| *found != wanted) {
            return Err(Error::AmiBelongsElsewhere {
                ami: image.id.to_string(),
                tag: key.to_string(),
                found: found.clone(),
                wanted: wanted.to_string(),
            });
        }
    }
    Ok(())
}
