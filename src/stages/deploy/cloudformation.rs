//! `kiln deploy --via cloudformation`: CloudFormation owns the launch template,
//! kiln owns the rollout. kiln updates the stack with the AMI id in one parameter
//! (`--stack-parameter`, default `AmiId`), the stack's own template
//! (UsePreviousTemplate) and every other parameter as it is (UsePreviousValue);
//! waits for UPDATE_COMPLETE; then takes the template's newest version, which must
//! pin that AMI, and rolls the group out to it exactly as for a plain deploy.
//!
//! A failed update is CloudFormation's to roll back: kiln waits for the rollback
//! to end and names the resource that failed (DescribeStackEvents); the group is
//! not touched. "No updates are to be performed" means the stack already passes
//! that AMI: the group is rolled out to the version it made then.

use crate::aws::autoscaling::Group;
use crate::aws::cloudformation::{Stack, missing_parameter};
use crate::config::CloudFormationStack;
use crate::effect::{Applied, StackChange};
use crate::error::{Error, Result};
use crate::poll::Poll;

use super::deployment::Deployment;
use super::template::Versions;

pub async fn apply(
    d: &Deployment<'_>,
    group: &Group,
    stack: &CloudFormationStack,
) -> Result<Versions> {
    let image = d.image();
    let current = super::template::current(d, group).await?;
    let (template, previous) = (current.template, current.number);
    let found = read_stack(d, stack).await?;
    if let Some(missing) = missing_parameter(&found, &stack.parameter) {
        return Err(missing);
    }
    if found.in_progress() {
        return Err(Error::StackBusy {
            stack: stack.name.clone(),
            status: found.status,
            waited: None,
        });
    }
    let applied = d
        .apply(StackChange::UpdateImage {
            region: d.region().clone(),
            stack: stack.name.clone(),
            parameter: stack.parameter.clone(),
            ami_id: image.cloned(),
            keep: found.parameters.iter().map(|(k, _)| k.clone()).collect(),
        })
        .await?;
    let versions = |new| Versions {
        template: template.clone(),
        new,
        previous,
        created: true,
        mixed: group.mixed.clone(),
    };
    match applied {
        // A dry run: the plan shows the update; the version it would make is unknown.
        Applied::Planned => return Ok(versions(None)),
        Applied::Unchanged => d.ctx.ui.note(format!(
            "stack {}: nothing to change ({} already is that image)",
            stack.name, stack.parameter
        )),
        _ => wait(d, stack).await?,
    }
    let what = format!("ec2:DescribeLaunchTemplateVersions {template} version $Latest");
    let latest = d
        .read(what, |aws| {
            let template = &template;
            async move { aws.ec2.template_version(template, "$Latest").await }
        })
        .await?;
    match latest {
        Some(version) if version.image.as_ref() == image => Ok(versions(Some(version.number))),
        other => Err(Error::StackDidNotPin {
            stack: stack.name.clone(),
            parameter: stack.parameter.clone(),
            template: template.to_string(),
            ami: image.map_or_else(String::new, |a| a.to_string()),
            newest: other.map_or("none".to_string(), |v| {
                format!(
                    "version {} with {}",
                    v.number,
                    v.image.map_or("no image".to_string(), |i| i.to_string())
                )
            }),
        }),
    }
}

/// The stack as it is now; a missing one is an error naming it.
async fn read_stack(d: &Deployment<'_>, stack: &CloudFormationStack) -> Result<Stack> {
    let name = &stack.name;
    d.read(
        format!("cloudformation:DescribeStacks {name}"),
        |aws| async move { aws.cloudformation.stack(name).await },
    )
    .await?
    .ok_or_else(|| Error::StackMissing {
        stack: name.clone(),
        region: d.region().to_string(),
    })
}

/// Until the update ends: UPDATE_COMPLETE goes on; an update rolled back (or
/// failing to) is an error naming the resources that failed.
async fn wait(d: &Deployment<'_>, stack: &CloudFormationStack) -> Result<()> {
    let mut progress = d
        .ctx
        .ui
        .progress(format!("waiting for stack {} to update", stack.name));
    let mut poll = Poll::new(d.rollout.timeout);
    loop {
        let now = read_stack(d, stack).await?;
        progress.set_message(format!("stack {}: {}", stack.name, now.status));
        if !now.in_progress() {
            if now.status == "UPDATE_COMPLETE" {
                return Ok(());
            }
            let name = &stack.name;
            let failed = d
                .read(
                    format!("cloudformation:DescribeStackEvents {name}"),
                    |aws| async move { aws.cloudformation.failures(name).await },
                )
                .await?;
            return Err(Error::StackUpdateFailed {
                stack: stack.name.clone(),
                status: now.status,
                failures: failed
                    .into_iter()
                    .map(|f| format!("{} ({}): {}", f.resource, f.status, f.reason))
                    .collect(),
            });
        }
        if !poll.next().await {
            return Err(Error::StackBusy {
                stack: stack.name.clone(),
                status: now.status,
                waited: Some(d.rollout.timeout.to_string()),
            });
        }
    }
}

#[cfg(test)]
mod tests;
