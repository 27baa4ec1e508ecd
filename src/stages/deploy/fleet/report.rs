//! What a fleet's deploy or rollback reports: a line per group, then the channel
//! (one line, as before, for a single group), the JSON and the step outputs; and
//! the plan of a dry run that cannot read AWS.

use serde_json::json;

use super::{Changed, Member, Run};
use crate::effect::ParameterChange;
use crate::error::Result;
use crate::ledger::DeployRecord;
use crate::report::Outcome;

use super::super::deployment::Deployment;

pub(super) fn groups_named(members: &[Member<'_, '_>]) -> String {
    members
        .iter()
        .map(|m| m.d.group().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Without AWS access: each group's planned changes, then the channel's once.
pub(super) async fn offline(
    run: &Run<'_>,
    deployments: &[Deployment<'_>],
    promote: bool,
) -> Result<Outcome> {
    let first = &deployments[0];
    let ledger = first
        .ctx
        .registry(&first.ctx.region())?
        .ledger_parameter(&run.fleet.environment);
    let record = |event: &str| ParameterChange::Record {
        region: first.ctx.region(),
        name: ledger.clone(),
        event: event.into(),
        value: String::new(),
    };
    first
        .apply(record("in progress: what each group runs before"))
        .await?;
    let mut groups = Vec::new();
    for (index, d) in deployments.iter().enumerate() {
        let last = index + 1 == deployments.len();
        let outcome = super::super::offline::plan(d, &run.fleet.channel, promote && last).await?;
        groups.push(outcome.json);
    }
    first
        .apply(record("how it ended, what each group runs after"))
        .await?;
    let mut json = groups.first().cloned().unwrap_or_default();
    if let serde_json::Value::Object(map) = &mut json {
        map.insert("environment".into(), json!(run.fleet.environment));
        map.insert("groups".into(), json!(groups));
    }
    Ok(Outcome {
        json,
        ..Outcome::default()
    })
}

/// The report of a fleet that converged: a line per group, then the channel.
pub(super) fn report(
    run: &Run<'_>,
    members: &[Member<'_, '_>],
    changed: &[Changed],
    record: &DeployRecord,
) -> Outcome {
    let first = members[0].d;
    let (command, channel) = (run.command.as_str(), &run.fleet.channel);
    let promoted = record.channels.iter().any(|m| m.after.is_some()) && first.entry.is_some();
    let mut done = String::new();
    let mut summary = format!("### kiln {command}\n\n");
    let mut groups = Vec::new();
    let single = members.len() == 1;
    // A single group's line ends with what it keeps running, after the channel.
    let mut kept_last = String::new();
    for (member, changed) in members.iter().zip(changed) {
        let d = member.d;
        let versions = &changed.versions;
        let new = versions
            .new
            .map_or("(the new version)".to_string(), |v| v.to_string());
        let subject = d.subject();
        // `--strategy none`: the group launches the image; its instances are not replaced.
        let (runs, mut kept) = super::super::template::wording(d.rollout.strategy, &member.group);
        if single {
            kept_last = std::mem::take(&mut kept);
        }
        done.push_str(&format!(
            "{command}: {} {runs} {subject} (launch template {} version {new}){kept}",
            d.group(),
            versions.template
        ));
        if !single {
            done.push('\n');
        }
        summary.push_str(&format!(
            "`{}` {runs} `{subject}` (launch template `{}` version {new}, {} strategy){kept}",
            d.group(),
            versions.template,
            d.rollout.strategy
        ));
        if !single {
            summary.push('\n');
        }
        groups.push(json!({
            "region": d.region(),
            "asg": d.group(),
            "ami_id": changed.after.ami_id,
            "launch_template": versions.template,
            "launch_template_version": versions.new,
            "previous_launch_template_version": versions.previous,
            "resumed": !versions.created && d.pin.is_none(),
        }));
    }
    let moved = match (&first.entry, promoted) {
        (Some(entry), true) => format!("{channel} -> {}:{}", first.reference.role, entry.version),
        _ => String::new(),
    };
    if single {
        if !moved.is_empty() {
            done.push_str(&format!("; {moved}"));
        }
        done.push_str(&format!("{kept_last}\n"));
    } else if !moved.is_empty() {
        done.push_str(&format!("{command}: {moved}\n"));
    }
    match (promoted, single) {
        (true, true) => summary.push_str(&format!("; `{channel}` moved to it{kept_last}\n")),
        (true, false) => summary.push_str(&format!("\n`{channel}` moved to it\n")),
        (false, true) => summary.push_str(&format!("{kept_last}\n")),
        (false, false) => {}
    }
    let versions = &changed[0].versions;
    let mut step_outputs = vec![("asg", first.group().to_string())];
    if let Some(new) = versions.new {
        step_outputs.push(("launch-template-version", new.to_string()));
    }
    if let Some(entry) = &first.entry {
        step_outputs.push(("ami-id", entry.ami_id.to_string()));
        step_outputs.push(("version", entry.version.to_string()));
    }
    if promoted {
        step_outputs.push(("channel", channel.to_string()));
    }
    Outcome {
        summary: Some(summary),
        done,
        json: json!({
            "command": command,
            "environment": run.fleet.environment,
            "asg": first.group(),
            "strategy": first.rollout.strategy,
            "reference": first.reference.to_string(),
            "ami_id": changed[0].after.ami_id,
            "version": first.entry.as_ref().map(|e| e.version),
            "launch_template": versions.template,
            "launch_template_version": versions.new,
            "previous_launch_template_version": versions.previous,
            "resumed": !versions.created && first.pin.is_none(),
            "promoted_to": promoted.then(|| channel.to_string()),
            "groups": groups,
            "deploy_id": record.id,
            "undoes": record.undoes,
        }),
        step_outputs,
        ..Outcome::default()
    }
}
