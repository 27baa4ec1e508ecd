//! `kiln prune`: deletes an app's old images and their snapshots, never one that
//! is in use. `plan` decides (pure); `references` reads what refers to images;
//! this file runs it per region, prints the plan, and with `--apply` carries it
//! out: deregister with bounded concurrency, then the snapshots no remaining image
//! uses. A failure on one image is reported and the rest go on.

mod plan;
mod references;

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;
use serde_json::json;

use crate::config::PruneSettings;
use crate::context::Context;
use crate::effect::ImageChange;
use crate::error::{Error, Result};
use crate::model::{AmiId, Region, Timestamp};
use crate::provenance::tag;
use crate::report::{Outcome, Table};
use plan::{Candidate, Decision, Rules};

/// How many deletions run at once: enough to be quick, few enough not to be
/// throttled (the SDK's adaptive retry absorbs the rest).
const CONCURRENCY: usize = 8;

/// What happened to one region's deletions.
#[derive(Default)]
struct Done {
    images: Vec<AmiId>,
    snapshots: Vec<(String, i32)>,
    failed: Vec<(String, String)>,
    /// The deletions were only planned (a dry run with --apply).
    planned: bool,
}

pub async fn run(ctx: &Context, settings: &PruneSettings) -> Result<Outcome> {
    let app = ctx.config.app()?.clone();
    let rules = Rules {
        keep: settings.keep,
        min_age: settings.min_age,
        now: Timestamp::now(),
    };
    let mut table = Table::new(vec!["REGION", "ROLE", "AMI", "AGE", "DECISION", "REASONS"]);
    let mut images_json = Vec::new();
    let mut done = Done::default();
    let mut planned = 0usize;
    let mut planned_gib = 0i64;
    let mut total = 0usize;
    for region in ctx.regions() {
        let own = ctx
            .reader()
            .read(
                &region,
                format!("ec2:DescribeImages owners=self in {region}"),
                |aws| async move { aws.ec2.own_images().await },
            )
            .await?;
        let mut users: BTreeMap<String, BTreeSet<AmiId>> = BTreeMap::new();
        for image in &own {
            for (snapshot, _) in &image.snapshots {
                users
                    .entry(snapshot.clone())
                    .or_default()
                    .insert(image.id.clone());
            }
        }
        let candidates: Vec<Candidate> = own
            .iter()
            .filter(|i| i.tags.get(tag::APP).map(String::as_str) == Some(app.as_str()))
            .map(|i| Candidate {
                id: i.id.clone(),
                role: i
                    .tags
                    .get(tag::ROLE)
                    .cloned()
                    .unwrap_or_else(|| format!("(no {})", tag::ROLE)),
                created: i.created,
                base: i
                    .tags
                    .get(tag::BASE_AMI)
                    .map(|b| AmiId::from_aws(b.clone())),
                snapshots: i.snapshots.clone(),
            })
            .collect();
        let registry = ctx.registry(&region)?;
        let found = references::read(ctx, &registry, &region, settings.keep_versions).await?;
        let decided = plan::plan(&candidates, &found, rules);
        total += decided.len();
        for (image, decision) in &decided {
            let age = image.created.map_or("-".into(), |c| c.age(rules.now));
            let verdict = if decision.deletes() { "delete" } else { "keep" };
            table.row(vec![
                region.to_string(),
                image.role.clone(),
                image.id.to_string(),
                age,
                verdict.to_string(),
                decision.reasons().join("; "),
            ]);
            images_json.push(json!({
                "region": region,
                "role": image.role,
                "ami_id": image.id,
                "created": image.created,
                "decision": verdict,
                "reasons": decision.reasons(),
                "snapshots": image.snapshots.iter().map(|(s, _)| s).collect::<Vec<_>>(),
            }));
            if decision.deletes() {
                planned += 1;
                planned_gib += image.snapshots.iter().map(|(_, g)| *g as i64).sum::<i64>();
            }
        }
        if settings.apply {
            delete(ctx, &region, &decided, &users, &mut done).await;
        }
    }
    outcome(
        ctx,
        settings,
        table,
        images_json,
        done,
        (planned, planned_gib, total),
    )
}

/// Deregisters the images to delete, then deletes the snapshots no image that
/// stays uses. Failures are collected, not returned: the rest go on.
async fn delete(
    ctx: &Context,
    region: &Region,
    decided: &[(Candidate, Decision)],
    users: &BTreeMap<String, BTreeSet<AmiId>>,
    done: &mut Done,
) {
    let doomed: Vec<&Candidate> = decided
        .iter()
        .filter(|(_, d)| d.deletes())
        .map(|(c, _)| c)
        .collect();
    let deregistered: Vec<(&Candidate, Result<bool>)> = futures_util::stream::iter(doomed)
        .map(|image| async move {
            let change = ImageChange::Deregister {
                region: region.clone(),
                ami_id: image.id.clone(),
            };
            (image, ctx.effects.apply(change).await.map(|a| a.done()))
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut gone: BTreeSet<AmiId> = BTreeSet::new();
    let mut snapshots: BTreeMap<String, i32> = BTreeMap::new();
    for (image, result) in deregistered {
        match result {
            // Planned or done, its snapshots are freed the same way.
            Ok(deleted) => {
                gone.insert(image.id.clone());
                if deleted {
                    done.images.push(image.id.clone());
                } else {
                    done.planned = true;
                }
                snapshots.extend(image.snapshots.iter().cloned());
            }
            Err(error) => done.failed.push((image.id.to_string(), error.to_string())),
        }
    }
    let free: Vec<(String, i32)> = snapshots
        .into_iter()
        .filter(|(snapshot, _)| users.get(snapshot).is_none_or(|u| u.is_subset(&gone)))
        .collect();
    let deleted: Vec<((String, i32), Result<bool>)> = futures_util::stream::iter(free)
        .map(|(snapshot, size)| async move {
            let change = ImageChange::DeleteSnapshot {
                region: region.clone(),
                snapshot: snapshot.clone(),
            };
            (
                (snapshot, size),
                ctx.effects.apply(change).await.map(|a| a.done()),
            )
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for ((snapshot, size), result) in deleted {
        match result {
            Ok(false) => done.planned = true,
            Ok(true) => done.snapshots.push((snapshot, size)),
            Err(error) => done.failed.push((snapshot, error.to_string())),
        }
    }
}

fn outcome(
    ctx: &Context,
    settings: &PruneSettings,
    table: Table,
    images: Vec<serde_json::Value>,
    mut done: Done,
    (planned, planned_gib, total): (usize, i64, usize),
) -> Result<Outcome> {
    let applied = settings.apply && !done.planned;
    done.images.sort();
    done.snapshots.sort();
    let gib: i64 = done.snapshots.iter().map(|(_, g)| *g as i64).sum();
    let shown_gib = if applied { gib } else { planned_gib };
    let saving = shown_gib as f64 * settings.price_per_gib;
    let mut text = table.render(&ctx.ui);
    let summary_line = if applied {
        format!(
            "deleted {} of {total} images and {} snapshots: {gib} GiB freed, about ${saving:.2} a month saved",
            done.images.len(),
            done.snapshots.len()
        )
    } else {
        format!(
            "would delete {planned} of {total} images ({planned_gib} GiB of snapshots, about ${saving:.2} a month){}",
            if settings.apply {
                ""
            } else {
                "; run with --apply to delete them"
            }
        )
    };
    text.push_str(&summary_line);
    text.push('\n');
    let failure = (!done.failed.is_empty()).then(|| Error::PruneIncomplete {
        failed: done.failed.clone(),
    });
    Ok(Outcome {
        summary: Some(format!("### kiln prune\n\n{summary_line}\n")),
        json: json!({
            "applied": applied,
            "images": images,
            "deleted": done.images,
            "deleted_snapshots": done.snapshots.iter().map(|(s, _)| s).collect::<Vec<_>>(),
            "failed": done.failed.iter().map(|(what, error)| json!({"what": what, "error": error})).collect::<Vec<_>>(),
            "gib_freed": if applied { gib } else { 0 },
            "planned_gib": planned_gib,
            "monthly_saving": (saving * 100.0).round() / 100.0,
        }),
        text,
        step_outputs: vec![("deleted", done.images.len().to_string())],
        failure,
        ..Outcome::default()
    })
}
