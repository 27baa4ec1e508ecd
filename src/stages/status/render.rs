//! How `kiln status` shows environments: one heading per environment (what its
//! channel labels), then a table of its groups with their drift notes in yellow;
//! and the same as Markdown for the step summary.

use super::fleet::{EnvironmentStatus, GroupStatus};
use crate::context::Context;
use crate::report::{Table, markdown_table};

/// `environment production: channel production = app v3 (ami-…) in eu-west-1`.
fn heading(environment: &EnvironmentStatus) -> String {
    let labelled: Vec<String> = environment
        .labelled
        .iter()
        .map(|l| match (&l.version, &l.ami_id) {
            (Some(version), Some(ami)) => {
                format!("{} v{version} ({ami}) in {}", environment.role, l.region)
            }
            _ => format!("nothing in {}", l.region),
        })
        .collect();
    format!(
        "environment {}: channel {} = {}",
        environment.environment,
        environment.channel,
        labelled.join(", ")
    )
}

/// The cells of a group: launch template and version, AMI, instances by version, notes.
fn cells(group: &GroupStatus) -> [String; 4] {
    let template = match (&group.template, &group.version, group.launches) {
        (Some(t), Some(set), Some(n)) if set == &n.to_string() => format!("{t} v{n}"),
        (Some(t), Some(set), Some(n)) => format!("{t} {set} (v{n})"),
        (Some(t), Some(set), None) => format!("{t} {set} (no such version)"),
        _ => "-".into(),
    };
    let ami = group
        .ami_id
        .as_ref()
        .map_or("-".to_string(), |a| a.to_string());
    let instances = if group.instances.is_empty() {
        "none".to_string()
    } else {
        group
            .instances
            .iter()
            .map(|s| {
                format!(
                    "{} on v{}",
                    s.instances.len(),
                    s.version.as_deref().unwrap_or("?")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    [template, ami, instances, group.notes.join("; ")]
}

pub fn text(ctx: &Context, environment: &EnvironmentStatus) -> String {
    let mut table = Table::new(vec![
        "GROUP",
        "REGION",
        "LAUNCH TEMPLATE",
        "AMI",
        "INSTANCES",
        "NOTE",
    ]);
    for group in &environment.groups {
        let [template, ami, instances, note] = cells(group);
        table.row(vec![
            group.group.to_string(),
            group.region.to_string(),
            template,
            ami,
            instances,
            if note.is_empty() {
                note
            } else {
                ctx.ui.yellow(&note)
            },
        ]);
    }
    format!("{}\n{}", heading(environment), table.render(&ctx.ui))
}

pub fn markdown(environment: &EnvironmentStatus) -> String {
    let rows: Vec<Vec<String>> = environment
        .groups
        .iter()
        .map(|group| {
            let [template, ami, instances, note] = cells(group);
            vec![
                group.group.to_string(),
                group.region.to_string(),
                template,
                format!("`{ami}`"),
                instances,
                note,
            ]
        })
        .collect();
    format!(
        "\n\n{}\n\n{}",
        heading(environment),
        markdown_table(
            &[
                "group",
                "region",
                "launch template",
                "AMI",
                "instances",
                "note"
            ],
            &rows
        )
    )
}
