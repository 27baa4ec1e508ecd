//! A deploy's plan when a dry run cannot read AWS: nothing about the group is
//! known, so the plan lists the changes every deploy of this strategy makes, with
//! what is not known left out (null in JSON, described in the text) instead of
//! made up. The reads are in the plan already, recorded by the reader.

use serde_json::json;

use crate::effect::{GroupChange, ParameterChange, StackChange, TemplateChange, TemplatePin};
use crate::error::Result;
use crate::model::{Channel, Strategy};
use crate::provenance::tag;
use crate::report::Outcome;

use super::deployment::Deployment;

/// `promote`: the channel moves at the end (once per fleet, after its last group).
pub async fn plan(d: &Deployment<'_>, channel: &Channel, promote: bool) -> Result<Outcome> {
    let (region, group) = (d.region().clone(), d.group().clone());
    let lock = super::lock::name(d)?;
    d.apply(ParameterChange::TakeLock {
        region: region.clone(),
        name: lock.clone(),
        holder: format!("this run, deploying {}", d.subject()),
    })
    .await?;
    if d.rollout.strategy != Strategy::BlueGreen
        && d.rollout.via_terraform.is_none()
        && d.rollout.via_cloudformation.is_none()
    {
        d.apply(TemplateChange::CreateVersion {
            region: region.clone(),
            template: None,
            source_version: None,
            source: None,
            ami_id: d.image().cloned(),
            description: format!("kiln {} {}", d.command.as_str(), d.subject()),
        })
        .await?;
    }
    // A stack makes the version: the plan shows its update (the parameters kept
    // are the stack's, not known here).
    if let Some(stack) = &d.rollout.via_cloudformation
        && d.rollout.strategy != Strategy::BlueGreen
    {
        d.apply(StackChange::UpdateImage {
            region: region.clone(),
            stack: stack.name.clone(),
            parameter: stack.parameter.clone(),
            ami_id: d.image().cloned(),
            keep: Vec::new(),
        })
        .await?;
    }
    // An instance refresh's or a new group's spec needs the group's settings, so
    // those strategies' own steps are not planned here.
    if d.rollout.strategy != Strategy::BlueGreen {
        d.apply(GroupChange::Update {
            region: region.clone(),
            group: group.clone(),
            template: Some(TemplatePin {
                id: None,
                version: None,
            }),
            capacity: None,
        })
        .await?;
        d.apply(GroupChange::MarkRollout {
            region: region.clone(),
            group: group.clone(),
            version: None,
            previous: None,
        })
        .await?;
    }
    if d.rollout.strategy == Strategy::Rolling {
        d.apply(GroupChange::ReplaceInstance {
            region: region.clone(),
            instance: None,
            decrement: false,
        })
        .await?;
    }
    if promote {
        let version = d.entry.as_ref().map(|e| e.version);
        d.apply(d.registry.promote(d.reference.role, version, channel))
            .await?;
    }
    d.apply(GroupChange::Untag {
        region: region.clone(),
        group,
        key: tag::DEPLOY_LOCK.into(),
    })
    .await?;
    d.apply(ParameterChange::ReleaseLock { region, name: lock })
        .await?;
    Ok(Outcome {
        json: json!({
            "command": d.command.as_str(),
            "asg": d.group(),
            "strategy": d.rollout.strategy,
            "reference": d.reference.to_string(),
            "ami_id": d.image(),
            "launch_template_version": null,
        }),
        ..Outcome::default()
    })
}
