//! The launch template version a deploy rolls out: a new numbered version with
//! the image pinned and every other setting of the version the group runs now.
//! A re-run after an interruption finds the version it made (same image, made by
//! kiln from the group's previous version) and continues with it.

use crate::aws::autoscaling::Group;
use crate::aws::launch_templates::TemplateVersion;
use crate::context::Context;
use crate::effect::{Applied, Change, RolloutChange};
use crate::error::{Error, Result};
use crate::model::{AmiId, LaunchTemplateId};

use crate::config::Rollout;

/// The version to roll out and the one to go back to on failure.
#[derive(Debug, Clone)]
pub struct Versions {
    pub template: LaunchTemplateId,
    /// 0 in a dry run: the version that would be created.
    pub new: i64,
    pub previous: i64,
    /// Whether this run created `new` (else it existed: a resumed deploy).
    pub created: bool,
}

const PREVIOUS_MARK: &str = "previous version ";

/// The group's launch template and the version it is set to now.
pub async fn current(ctx: &Context, rollout: &Rollout, group: &Group) -> Result<TemplateVersion> {
    let without = || Error::GroupWithoutTemplate {
        group: group.name.to_string(),
    };
    let (template, set) = group.template.clone().ok_or_else(without)?;
    ctx.aws_ec2(&rollout.region)
        .template_version(&template, &set)
        .await?
        .ok_or_else(without)
}

pub async fn prepare(
    ctx: &Context,
    rollout: &Rollout,
    group: &Group,
    image: Option<&AmiId>,
    what: &str,
) -> Result<Versions> {
    let current = current(ctx, rollout, group).await?;
    let template = current.template.clone();
    // Resuming: the group already points at a version kiln made for this image.
    if image.is_some() && current.image.as_ref() == image {
        let previous = current
            .description
            .as_deref()
            .and_then(|d| d.split(PREVIOUS_MARK).nth(1))
            .and_then(|rest| rest.trim_end_matches(')').parse().ok());
        if let Some(previous) = previous {
            ctx.ui.note(format!(
                "{} is already set to {template} version {} with this image: continuing that rollout",
                group.name, current.number
            ));
            return Ok(Versions {
                template,
                new: current.number,
                previous,
                created: false,
            });
        }
    }
    let description = format!("kiln deploy {what} ({PREVIOUS_MARK}{})", current.number);
    let created = ctx
        .effects
        .apply(Change::Rollout(RolloutChange::CreateTemplateVersion {
            region: rollout.region.clone(),
            template: template.clone(),
            source_version: current.number,
            ami_id: image.cloned(),
            description,
        }))
        .await?;
    let new = match created {
        Applied::TemplateVersion(number) => number,
        _ => 0,
    };
    Ok(Versions {
        template,
        new,
        previous: current.number,
        created: true,
    })
}

/// Points the group at `version` of its template.
pub async fn point(
    ctx: &Context,
    rollout: &Rollout,
    template: &LaunchTemplateId,
    version: i64,
) -> Result<()> {
    ctx.effects
        .apply(Change::Rollout(RolloutChange::UpdateGroup {
            region: rollout.region.clone(),
            group: rollout.group.clone(),
            template: Some((template.clone(), version)),
            capacity: None,
        }))
        .await?;
    Ok(())
}
