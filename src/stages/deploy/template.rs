//! The launch template version a deploy rolls out: a new numbered version with
//! the image pinned and every other setting of the version the group runs now.
//! A re-run after an interruption finds the version it made (same image, made by
//! kiln from the group's previous version) and continues with it.
//!
//! A group with a mixed instances policy is versioned the same way: its template
//! is the policy's, and `aws::autoscaling` sets the version inside the policy. A
//! group on a launch configuration is refused before anything changes.

use crate::aws::autoscaling::Group;
use crate::aws::ec2::TemplateVersion;
use crate::effect::{Applied, GroupChange, TemplateChange, TemplatePin};
use crate::error::{Error, Result};
use crate::model::LaunchTemplateId;
use crate::provenance::tag;

use super::deployment::Deployment;

/// The version to roll out and the one to go back to on failure.
#[derive(Debug, Clone)]
pub struct Versions {
    pub template: LaunchTemplateId,
    /// The version rolled out; `None` when a dry run only planned making it.
    pub new: Option<i64>,
    pub previous: i64,
    /// Whether this run created `new` (else it existed: a resumed deploy).
    pub created: bool,
    /// The group's mixed instances policy, when it launches through one.
    pub mixed: Option<aws_sdk_autoscaling::types::MixedInstancesPolicy>,
}

/// How a finished rollout reads: "runs", or for `--strategy none` "launches"
/// and what the instances still run.
pub fn wording(strategy: crate::model::Strategy, group: &Group) -> (&'static str, String) {
    if strategy != crate::model::Strategy::None {
        return ("runs", String::new());
    }
    let count = group.instances.len();
    let instances = match count {
        1 => "its 1 instance keeps".to_string(),
        n => format!("its {n} instances keep"),
    };
    (
        "launches",
        format!(
            "; {instances} running the image they started with until scale-in or a later instance refresh replaces them"
        ),
    )
}

/// Refuses a group kiln cannot version (a launch configuration, no template), or
/// a mixed group blue-green would strip of its policy, before the lock or any
/// other change.
pub fn check_launches_from_template(d: &Deployment<'_>, group: &Group) -> Result<()> {
    if group.mixed.is_some() && d.rollout.strategy == crate::model::Strategy::BlueGreen {
        return Err(Error::BlueGreenMixedGroup {
            group: group.name.to_string(),
        });
    }
    if group.template.is_some() {
        return Ok(());
    }
    Err(match &group.launch_configuration {
        Some(configuration) => Error::GroupOnLaunchConfiguration {
            group: group.name.to_string(),
            configuration: configuration.clone(),
            region: d.region().to_string(),
        },
        None => Error::GroupWithoutTemplate {
            group: group.name.to_string(),
        },
    })
}

/// The group's launch template and the version it is set to now.
pub async fn current(d: &Deployment<'_>, group: &Group) -> Result<TemplateVersion> {
    check_launches_from_template(d, group)?;
    let without = || Error::GroupWithoutTemplate {
        group: group.name.to_string(),
    };
    let (template, set) = group.template.clone().ok_or_else(without)?;
    let what = format!("ec2:DescribeLaunchTemplateVersions {template} version {set}");
    d.read(what, |aws| async move {
        aws.ec2.template_version(&template, &set).await
    })
    .await?
    .ok_or_else(without)
}

pub async fn prepare(d: &Deployment<'_>, group: &Group) -> Result<Versions> {
    let current = current(d, group).await?;
    let template = current.template.clone();
    // A rollback to an exact version: nothing to make.
    if let Some(pin) = &d.pin {
        if pin.template != template {
            return Err(Error::NothingToRollBack {
                detail: format!(
                    "{} now launches from launch template {template}, not {} as before the deploy; nothing was changed",
                    group.name, pin.template
                ),
            });
        }
        return Ok(Versions {
            template,
            new: Some(pin.version),
            previous: current.number,
            created: false,
            mixed: group.mixed.clone(),
        });
    }
    // Resuming: the group runs the version kiln rolled out for this image, and the
    // group's tags say where a failure goes back to.
    let marked = |key: &str| group.tags.get(key).and_then(|v| v.parse::<i64>().ok());
    if d.image().is_some()
        && current.image.as_ref() == d.image()
        && marked(tag::ROLLOUT_VERSION) == Some(current.number)
        && let Some(previous) = marked(tag::ROLLBACK_VERSION)
    {
        d.ctx.ui.note(format!(
            "{} is already set to {template} version {} with this image: continuing that rollout",
            group.name, current.number
        ));
        return Ok(Versions {
            template,
            new: Some(current.number),
            previous,
            created: false,
            mixed: group.mixed.clone(),
        });
    }
    let previous = current.number;
    // For people reading the console; kiln resumes from the group's tags.
    let description = format!("kiln deploy {} (previous version {previous})", d.subject());
    let created = d
        .apply(TemplateChange::CreateVersion {
            region: d.region().clone(),
            template: Some(template.clone()),
            source_version: Some(previous),
            // Read once above; the change carries it instead of reading it again.
            source: Some(Box::new(current)),
            ami_id: d.image().cloned(),
            description,
        })
        .await?;
    let new = match created {
        Applied::TemplateVersion(number) => Some(number),
        _ => None,
    };
    Ok(Versions {
        template,
        new,
        previous,
        created: true,
        mixed: group.mixed.clone(),
    })
}

/// Points the group at the new version and records the rollout on the group, so
/// an interrupted deploy can be continued.
pub async fn point_new(d: &Deployment<'_>, versions: &Versions) -> Result<()> {
    point(d, &versions.template, versions.new).await?;
    if versions.created {
        d.apply(GroupChange::MarkRollout {
            region: d.region().clone(),
            group: d.group().clone(),
            version: versions.new,
            previous: Some(versions.previous),
        })
        .await?;
    }
    Ok(())
}

/// Points the group at `version` of its template (`None`: the version a dry run
/// planned to make).
pub async fn point(
    d: &Deployment<'_>,
    template: &LaunchTemplateId,
    version: Option<i64>,
) -> Result<()> {
    d.apply(GroupChange::Update {
        region: d.region().clone(),
        group: d.group().clone(),
        template: Some(TemplatePin {
            id: Some(template.clone()),
            version,
        }),
        capacity: None,
    })
    .await?;
    Ok(())
}
