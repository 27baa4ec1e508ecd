//! `kiln history ROLE`: every version SSM keeps, newest first, with its AMI, labels,
//! publish date, provenance and whether the image still exists or was revoked.
//! Two calls whatever the length: the parameter history and one batched image lookup.

use serde_json::json;

use crate::config::HistorySettings;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::Timestamp;
use crate::provenance::tag;
use crate::report::{Outcome, Table, markdown_table};

pub async fn run(ctx: &Context, settings: &HistorySettings) -> Result<Outcome> {
    let (role, limit) = (settings.role, settings.limit);
    let region = ctx.region();
    let registry = ctx.registry(&region)?;
    let parameter = registry.parameter(role);
    let Some(mut versions) = registry.history(role).await? else {
        return Err(Error::ParameterNotFound {
            parameter: parameter.to_string(),
            region: region.to_string(),
            role: role.to_string(),
        });
    };
    if let Some(limit) = limit {
        versions.truncate(limit);
    }
    // The images and the bases they were built on (a revoked base shows).
    let ids: Vec<_> = versions
        .iter()
        .flat_map(|v| std::iter::once(v.ami_id.clone()).chain(v.provenance.base_ami.clone()))
        .collect();
    let images = registry.images(&ids).await?;

    let now = Timestamp::now();
    let mut table = Table::new(vec![
        "VERSION",
        "AMI",
        "LABELS",
        "PUBLISHED",
        "GIT",
        "BASE",
        "IMAGE",
    ]);
    let mut rows_json = Vec::new();
    let mut markdown_rows = Vec::new();
    for record in &versions {
        let image = images.get(&record.ami_id);
        let revoked = image.and_then(|i| i.tags.get(tag::REVOKED)).cloned();
        let base_revoked = record
            .provenance
            .base_ami
            .as_ref()
            .and_then(|b| images.get(b))
            .is_some_and(|b| b.tags.contains_key(tag::REVOKED));
        let state = match (image, &revoked) {
            (None, _) => "missing".to_string(),
            (Some(_), Some(_)) => "revoked".to_string(),
            (Some(_), None) if base_revoked => "base revoked".to_string(),
            (Some(image), None) => image.state.clone(),
        };
        let labels = record.labels.join(",");
        let published = record.published.map_or("-".to_string(), |t| {
            format!("{} ({} ago)", t.rfc3339(), t.age(now))
        });
        let base = match (&record.provenance.base_ami, record.provenance.base_version) {
            (Some(ami), Some(v)) => format!("{ami} (v{v})"),
            (Some(ami), None) => ami.to_string(),
            _ => "-".into(),
        };
        let git = record
            .provenance
            .git_sha
            .as_deref()
            .map_or("-".to_string(), |sha| sha.chars().take(12).collect());
        let state_cell = match state.as_str() {
            "available" => state.clone(),
            "revoked" | "missing" | "base revoked" => ctx.ui.red(&state),
            _ => ctx.ui.yellow(&state),
        };
        table.row(vec![
            record.version.to_string(),
            record.ami_id.to_string(),
            if labels.is_empty() {
                "-".into()
            } else {
                labels.clone()
            },
            published,
            git,
            base,
            state_cell,
        ]);
        markdown_rows.push(vec![
            record.version.to_string(),
            format!("`{}`", record.ami_id),
            labels,
            state.clone(),
        ]);
        rows_json.push(json!({
            "version": record.version,
            "ami_id": record.ami_id,
            "labels": record.labels,
            "published": record.published,
            "provenance": record.provenance,
            "image_state": state,
            "revoked_reason": revoked,
            "base_revoked": base_revoked,
        }));
    }
    Ok(Outcome {
        failure: None,
        text: format!("{parameter} ({region})\n{}", table.render(&ctx.ui)),
        json: json!({
            "parameter": parameter,
            "region": region,
            "role": role,
            "versions": rows_json,
        }),
        step_outputs: Vec::new(),
        summary: Some(format!(
            "**kiln history** `{parameter}`\n\n{}",
            markdown_table(&["version", "AMI", "labels", "image"], &markdown_rows)
        )),
        ..Outcome::default()
    })
}
