//! `kiln status`: every role × channel × region → AMI, version and age, with the
//! app images marked outdated when the base they were built on is no longer the
//! newest base, and revoked or missing images called out.
//!
//! Regions are read concurrently; each costs two calls per role (history, images).
//! Below that, per environment, what its groups actually run and where that
//! drifted from the ledger (see `fleet`).

mod fleet;
mod render;

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;
use tokio::task::JoinSet;

use crate::aws::ec2::Image;
use crate::context::Context;
use crate::error::Result;
use crate::model::{AmiId, Region, Role, Timestamp, Version};
use crate::provenance::{Provenance, tag};
use crate::registry::{Registry, VersionRecord};
use crate::report::{Outcome, Table, markdown_table};

pub use fleet::{EnvironmentStatus, GroupStatus, InstanceSet, Labelled};

/// One row of the status: what one channel of one role points at in one region.
#[derive(Debug, Clone, Serialize)]
pub struct StatusEntry {
    pub region: Region,
    pub role: Role,
    /// `latest` or a channel name.
    pub channel: String,
    pub version: Option<Version>,
    pub ami_id: Option<AmiId>,
    pub published: Option<Timestamp>,
    pub ami_created: Option<Timestamp>,
    pub outdated: bool,
    pub notes: Vec<String>,
}

pub async fn run(ctx: &Context) -> Result<Outcome> {
    let channels: Vec<String> = std::iter::once("latest".to_string())
        .chain(ctx.config.channels.all().iter().map(|c| c.to_string()))
        .collect();
    let app = ctx.config.app()?;
    let regions = ctx.regions();
    let registries = regions
        .iter()
        .map(|region| ctx.registry(region))
        .collect::<Result<Vec<_>>>()?;
    let entries = gather(registries, channels).await?;
    let environments = fleet::environments(ctx).await?;

    let now = Timestamp::now();
    let mut table = Table::new(vec![
        "ROLE", "CHANNEL", "REGION", "VERSION", "AMI", "AGE", "NOTE",
    ]);
    let mut markdown_rows = Vec::new();
    for entry in &entries {
        let age = entry
            .ami_created
            .or(entry.published)
            .map_or("-".to_string(), |t| t.age(now));
        let note = entry.notes.join("; ");
        let note_cell = if entry.outdated || note.contains("revoked") || note.contains("missing") {
            ctx.ui.yellow(&note)
        } else {
            note.clone()
        };
        let version = entry.version.map_or("-".to_string(), |v| v.to_string());
        let ami = entry
            .ami_id
            .as_ref()
            .map_or("-".to_string(), |a| a.to_string());
        table.row(vec![
            entry.role.to_string(),
            entry.channel.clone(),
            entry.region.to_string(),
            version.clone(),
            ami.clone(),
            age,
            note_cell,
        ]);
        markdown_rows.push(vec![
            entry.role.to_string(),
            entry.channel.clone(),
            entry.region.to_string(),
            version,
            format!("`{ami}`"),
            note,
        ]);
    }
    let mut summary = format!(
        "**kiln status** `{app}`\n\n{}",
        markdown_table(
            &["role", "channel", "region", "version", "AMI", "note"],
            &markdown_rows
        )
    );
    let mut text = table.render(&ctx.ui);
    for environment in &environments {
        text.push('\n');
        text.push_str(&render::text(ctx, environment));
        summary.push_str(&render::markdown(environment));
    }
    Ok(Outcome {
        failure: None,
        text,
        json: json!({ "app": app, "entries": entries, "environments": environments }),
        step_outputs: Vec::new(),
        summary: Some(summary),
        ..Outcome::default()
    })
}

/// Reads every region at once; the entries come back in the order of the regions.
async fn gather(registries: Vec<Registry>, channels: Vec<String>) -> Result<Vec<StatusEntry>> {
    let mut tasks = JoinSet::new();
    for (index, registry) in registries.into_iter().enumerate() {
        let channels = channels.clone();
        tasks.spawn(async move { (index, region_status(registry, channels).await) });
    }
    let mut by_region = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (index, result) = joined.expect("status tasks do not panic");
        by_region.push((index, result?));
    }
    by_region.sort_by_key(|(index, _)| *index);
    Ok(by_region
        .into_iter()
        .flat_map(|(_, entries)| entries)
        .collect())
}

async fn region_status(registry: Registry, channels: Vec<String>) -> Result<Vec<StatusEntry>> {
    let (base, app) = tokio::join!(registry.history(Role::Base), registry.history(Role::App));
    let (base, app) = (base?, app?);
    let mut ids: Vec<AmiId> = Vec::new();
    for versions in [&base, &app].into_iter().flatten() {
        ids.extend(versions.iter().map(|v| v.ami_id.clone()));
    }
    let images = registry.images(&ids).await?;
    let latest_base = base.as_ref().and_then(|v| v.first()).cloned();

    let mut entries = Vec::new();
    for (role, history) in [(Role::Base, &base), (Role::App, &app)] {
        for channel in &channels {
            let record = history.as_ref().and_then(|versions| {
                if channel == "latest" {
                    versions.first()
                } else {
                    versions
                        .iter()
                        .find(|v| v.labels.iter().any(|l| l == channel))
                }
            });
            entries.push(entry(
                &registry,
                role,
                channel,
                history.is_some(),
                record,
                &images,
                latest_base.as_ref(),
            ));
        }
    }
    Ok(entries)
}

fn entry(
    registry: &Registry,
    role: Role,
    channel: &str,
    published: bool,
    record: Option<&VersionRecord>,
    images: &HashMap<AmiId, Image>,
    latest_base: Option<&VersionRecord>,
) -> StatusEntry {
    let mut notes = Vec::new();
    let mut outdated = false;
    let image = record.and_then(|r| images.get(&r.ami_id));
    match (record, image) {
        (None, _) if !published => notes.push(format!("not published: run `kiln bake {role}`")),
        (None, _) => notes.push("empty".into()),
        (Some(_), None) => notes.push("image missing (deregistered?)".into()),
        (Some(_), Some(image)) => {
            if let Some(reason) = image.tags.get(tag::REVOKED) {
                notes.push(format!("revoked: {reason}"));
            }
        }
    }
    if let (Role::App, Some(record)) = (role, record) {
        let built_on = image
            .map(|i| Provenance::from_tags(&i.tags))
            .unwrap_or_default()
            .or(record.provenance.clone());
        match (built_on.base_ami, latest_base) {
            (None, _) => notes.push("base unknown".into()),
            (Some(_), None) => {}
            (Some(base), Some(latest)) if base != latest.ami_id => {
                outdated = true;
                let was = built_on
                    .base_version
                    .map_or(base.to_string(), |v| format!("base v{v}"));
                notes.push(format!(
                    "outdated: built on {was}, latest base is v{}",
                    latest.version
                ));
            }
            (Some(_), Some(_)) => {}
        }
        if let Some(base_image) = image
            .and_then(|i| i.tags.get(tag::BASE_AMI))
            .and_then(|b| images.get(&AmiId::from_aws(b.clone())))
            .filter(|b| b.tags.contains_key(tag::REVOKED))
        {
            notes.push(format!("built on revoked base {}", base_image.id));
        }
    }
    StatusEntry {
        region: registry.region().clone(),
        role,
        channel: channel.to_string(),
        version: record.map(|r| r.version),
        ami_id: record.map(|r| r.ami_id.clone()),
        published: record.and_then(|r| r.published),
        ami_created: image.and_then(|i| i.created),
        outdated,
        notes,
    }
}
