//! `kiln history --deploys`: the deploy ledger of each environment (see `ledger`),
//! newest first: who deployed what to which groups, from which commit, and how it
//! ended; with `--at TIME`, what every group ran at that time. One read per
//! environment (the parameter's history), in the primary region.

use serde_json::json;

use crate::config::DeploysSettings;
use crate::context::Context;
use crate::error::Result;
use crate::ledger::{self, DeployRecord};
use crate::report::{Outcome, Table, markdown_table};

pub async fn run(ctx: &Context, settings: &DeploysSettings) -> Result<Outcome> {
    let region = ctx.region();
    let registry = ctx.registry(&region)?;
    let mut ledgers = Vec::new();
    for environment in &settings.environments {
        let mut records = registry.ledger(environment).await?;
        if let Some(limit) = settings.limit {
            records.truncate(limit);
        }
        ledgers.push((environment.clone(), records));
    }
    match settings.at {
        Some(at) => {
            let mut table = Table::new(vec![
                "ENVIRONMENT",
                "REGION",
                "GROUP",
                "LAUNCH TEMPLATE",
                "AMI",
                "STATE",
                "DEPLOY",
                "WHO",
            ]);
            let mut groups = Vec::new();
            for (environment, records) in &ledgers {
                for ran in ledger::ran_at(records, at) {
                    let (template, ami) = match &ran.launch {
                        Some(launch) => (
                            format!("{} version {}", launch.template, launch.version),
                            launch
                                .ami_id
                                .as_ref()
                                .map_or("-".to_string(), |a| a.to_string()),
                        ),
                        None => ("(a mix)".to_string(), "(a mix)".to_string()),
                    };
                    table.row(vec![
                        environment.clone(),
                        ran.region.to_string(),
                        ran.group.to_string(),
                        template,
                        ami,
                        ran.state.clone(),
                        ran.record.clone(),
                        ran.who.clone(),
                    ]);
                    groups.push(json!({ "environment": environment, "ran": ran }));
                }
            }
            let text = if groups.is_empty() {
                format!(
                    "no deploy recorded in {} by {}\n",
                    settings.environments.join(", "),
                    at.rfc3339()
                )
            } else {
                table.render(&ctx.ui)
            };
            Ok(Outcome {
                text,
                json: json!({ "at": at, "groups": groups }),
                ..Outcome::default()
            })
        }
        None => Ok(listing(ctx, &registry, &ledgers)),
    }
}

/// Every record, newest first per environment.
fn listing(
    ctx: &Context,
    registry: &crate::registry::Registry,
    ledgers: &[(String, Vec<(crate::model::Version, DeployRecord)>)],
) -> Outcome {
    let mut table = Table::new(vec![
        "STARTED",
        "ENVIRONMENT",
        "COMMAND",
        "OUTCOME",
        "IMAGE",
        "GROUPS",
        "WHO",
        "COMMIT",
    ]);
    let mut rows = Vec::new();
    let mut json_ledgers = Vec::new();
    for (environment, records) in ledgers {
        for (_, record) in records {
            let image = match (&record.version, &record.ami_id) {
                (Some(version), Some(ami)) => format!("{ami} ({}:{version})", record.role),
                (None, Some(ami)) => ami.to_string(),
                _ => record.reference.clone(),
            };
            let groups = record
                .groups
                .iter()
                .map(|g| {
                    let after = g
                        .after
                        .as_ref()
                        .map_or("?".to_string(), |a| a.version.to_string());
                    format!("{} {}->{after}", g.group, g.before.version)
                })
                .collect::<Vec<_>>()
                .join(", ");
            let commit = record
                .commit
                .as_deref()
                .map_or("-".to_string(), |c| c.chars().take(12).collect());
            let row = vec![
                record.started.rfc3339(),
                environment.clone(),
                record.command.clone(),
                record.outcome.as_str().to_string(),
                image,
                groups,
                record.who.clone(),
                commit,
            ];
            table.row(row.clone());
            rows.push(row);
        }
        json_ledgers.push(json!({
            "environment": environment,
            "parameter": registry.ledger_parameter(environment),
            "records": records.iter().map(|(_, r)| r).collect::<Vec<_>>(),
        }));
    }
    let text = if rows.is_empty() {
        "no deploys recorded\n".to_string()
    } else {
        table.render(&ctx.ui)
    };
    Outcome {
        text,
        json: json!({ "environments": json_ledgers }),
        summary: Some(format!(
            "**kiln history --deploys**\n\n{}",
            markdown_table(
                &[
                    "started",
                    "environment",
                    "command",
                    "outcome",
                    "image",
                    "groups",
                    "who",
                    "commit"
                ],
                &rows
            )
        )),
        ..Outcome::default()
    }
}
