//! `kiln status` per environment: what its channel labels in each region, and what
//! each of its groups actually runs — the launch template version the group
//! launches and that version's AMI, and its instances by the version they were
//! launched from — set against what the deploy ledger says kiln put there.
//!
//! Drift is called out as notes, because that is what an on-call person looks
//! for: a mixed fleet (instances on several versions, e.g. after an interrupted
//! deploy), a group or instance on a revoked image, a group changed outside kiln
//! (its version is not the one the newest deploy that touched it left, or no
//! deploy touched it), and a group that is missing.
//!
//! Reads per group (the groups of a region at once): one DescribeAutoScalingGroups,
//! one DescribeLaunchTemplateVersions per distinct version, one DescribeImages; per
//! environment one ledger read (in the primary region) and one GetParameter per
//! region for the channel.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::aws::autoscaling::Group;
use crate::aws::ec2::TemplateVersion;
use crate::config::Environment;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::ledger::{self, RanAt};
use crate::model::{
    AmiId, GroupName, ImageRef, InstanceId, LaunchTemplateId, Region, Role, Selector, Timestamp,
    Version,
};
use crate::provenance::tag;
use crate::registry::Registry;

/// One environment: its channel and its groups.
#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentStatus {
    pub environment: String,
    pub channel: String,
    /// The role the channel is read for: the one the newest deploy rolled out.
    pub role: Role,
    /// What the channel labels, per region.
    pub labelled: Vec<Labelled>,
    pub groups: Vec<GroupStatus>,
}

/// The channel's version and AMI in one region (`None`: it labels nothing there).
#[derive(Debug, Clone, Serialize)]
pub struct Labelled {
    pub region: Region,
    pub version: Option<Version>,
    pub ami_id: Option<AmiId>,
}

/// What one group runs, and what is wrong with it.
#[derive(Debug, Clone, Serialize)]
pub struct GroupStatus {
    pub region: Region,
    pub group: GroupName,
    pub missing: bool,
    pub template: Option<LaunchTemplateId>,
    /// The version the group is set to, as set (`4`, `$Latest`).
    pub version: Option<String>,
    /// That version's number.
    pub launches: Option<i64>,
    /// The AMI in that version.
    pub ami_id: Option<AmiId>,
    /// The instances, by the launch template version they came from.
    pub instances: Vec<InstanceSet>,
    /// What the ledger says the group runs (`None`: no deploy touched it).
    pub ledger: Option<RanAt>,
    pub mixed: bool,
    pub revoked: bool,
    pub changed_outside_kiln: bool,
    pub notes: Vec<String>,
}

/// Instances of a group launched from one launch template version.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceSet {
    /// The version as the group reports it (`None`: not from a launch template).
    pub version: Option<String>,
    pub ami_id: Option<AmiId>,
    pub revoked: bool,
    pub instances: Vec<InstanceId>,
}

/// Every environment kiln knows of, in kiln.toml's order, then `[deploy] asg`.
pub async fn environments(ctx: &Context) -> Result<Vec<EnvironmentStatus>> {
    let primary = ctx.region();
    let mut statuses = Vec::new();
    for env in ctx.config.status_environments() {
        statuses.push(environment(ctx, &primary, &env).await?);
    }
    Ok(statuses)
}

async fn environment(
    ctx: &Context,
    primary: &Region,
    env: &Environment,
) -> Result<EnvironmentStatus> {
    let records = ctx.registry(primary)?.ledger(&env.name).await?;
    let role = records.first().map_or(Role::App, |(_, r)| r.role);
    let ran = ledger::ran_at(&records, Timestamp::now());
    let regions = if env.regions.is_empty() {
        vec![primary.clone()]
    } else {
        env.regions.clone()
    };
    let mut labelled = Vec::new();
    let mut groups = Vec::new();
    for region in &regions {
        let registry = ctx.registry(region)?;
        let reference = ImageRef {
            role,
            selector: Selector::Channel(env.channel.clone()),
        };
        let on_channel = match registry.resolve(&reference).await {
            Ok(entry) => Some(entry),
            Err(Error::ChannelEmpty { .. } | Error::ParameterNotFound { .. }) => None,
            Err(error) => return Err(error),
        };
        labelled.push(Labelled {
            region: region.clone(),
            version: on_channel.as_ref().map(|e| e.version),
            ami_id: on_channel.as_ref().map(|e| e.ami_id.clone()),
        });
        // The groups of a region are read at once.
        let read = futures_util::future::try_join_all(env.groups.iter().map(|name| {
            let recorded = ran
                .iter()
                .find(|r| &r.region == region && &r.group == name)
                .cloned();
            group(ctx, &registry, name, recorded)
        }))
        .await?;
        for mut status in read {
            if let (Some(channel_ami), Some(ami), false) = (
                on_channel.as_ref().map(|e| &e.ami_id),
                &status.ami_id,
                status.missing,
            ) && channel_ami != ami
            {
                status.notes.push(format!(
                    "launches {ami}, not the channel {} ({role} v{})",
                    env.channel,
                    on_channel.as_ref().map_or(0, |e| e.version.0)
                ));
            }
            groups.push(status);
        }
    }
    Ok(EnvironmentStatus {
        environment: env.name.clone(),
        channel: env.channel.to_string(),
        role,
        labelled,
        groups,
    })
}

/// One group as it is, with its notes.
async fn group(
    ctx: &Context,
    registry: &Registry,
    name: &GroupName,
    recorded: Option<RanAt>,
) -> Result<GroupStatus> {
    let region = registry.region().clone();
    let wanted = name.clone();
    let found = ctx
        .reader()
        .read(
            &region,
            format!("autoscaling:DescribeAutoScalingGroups {name} in {region}"),
            |aws| async move { aws.autoscaling.group(&wanted).await },
        )
        .await?;
    let mut status = GroupStatus {
        region: region.clone(),
        group: name.clone(),
        missing: found.is_none(),
        template: None,
        version: None,
        launches: None,
        ami_id: None,
        instances: Vec::new(),
        ledger: recorded,
        mixed: false,
        revoked: false,
        changed_outside_kiln: false,
        notes: Vec::new(),
    };
    let Some(found) = found else {
        status.notes.push(format!(
            "group missing: no Auto Scaling group {name} in {region}"
        ));
        return Ok(status);
    };
    let Some((template, set_to)) = found.template.clone() else {
        status
            .notes
            .push("no launch template (a launch configuration or a mixed-instances policy)".into());
        return Ok(status);
    };
    let versions = template_versions(ctx, &region, &template, &found, &set_to).await?;
    let launched = versions.get(&set_to);
    status.template = Some(template.clone());
    status.version = Some(set_to.clone());
    status.launches = launched.map(|v| v.number);
    status.ami_id = launched.and_then(|v| v.image.clone());

    let mut sets: BTreeMap<Option<String>, Vec<InstanceId>> = BTreeMap::new();
    for instance in &found.instances {
        sets.entry(instance.version.clone())
            .or_default()
            .push(instance.id.clone());
    }
    let ami_of = |version: &Option<String>| {
        version
            .as_ref()
            .and_then(|v| versions.get(v))
            .and_then(|v| v.image.clone())
    };
    let mut ids: Vec<AmiId> = sets.keys().filter_map(ami_of).collect();
    ids.extend(status.ami_id.clone());
    let images = registry.images(&ids).await?;
    let revoked = |ami: &Option<AmiId>| {
        ami.as_ref()
            .and_then(|a| images.get(a))
            .and_then(|i| i.tags.get(tag::REVOKED))
            .cloned()
    };
    status.instances = sets
        .into_iter()
        .map(|(version, instances)| {
            let ami_id = ami_of(&version);
            InstanceSet {
                revoked: revoked(&ami_id).is_some(),
                version,
                ami_id,
                instances,
            }
        })
        .collect();
    let group_revoked = revoked(&status.ami_id);
    notes(&mut status, group_revoked);
    Ok(status)
}

/// The versions the group and its instances name, by the string they name them with.
async fn template_versions(
    ctx: &Context,
    region: &Region,
    template: &LaunchTemplateId,
    group: &Group,
    set_to: &str,
) -> Result<HashMap<String, TemplateVersion>> {
    let mut wanted: Vec<String> = vec![set_to.to_string()];
    wanted.extend(group.instances.iter().filter_map(|i| i.version.clone()));
    wanted.sort();
    wanted.dedup();
    let mut versions = HashMap::new();
    for version in wanted {
        let (id, asked) = (template.clone(), version.clone());
        let found = ctx
            .reader()
            .read(
                region,
                format!("ec2:DescribeLaunchTemplateVersions {template} {version} in {region}"),
                |aws| async move { aws.ec2.template_version(&id, &asked).await },
            )
            .await?;
        if let Some(found) = found {
            versions.insert(version, found);
        }
    }
    Ok(versions)
}

/// The drift notes of a group that exists and launches from a template.
fn notes(status: &mut GroupStatus, group_revoked: Option<String>) {
    let launches = status.launches.map(|n| n.to_string());
    let number = |set: &InstanceSet| set.version.clone().unwrap_or_else(|| "none".into());
    if let Some(reason) = &group_revoked {
        status.revoked = true;
        let ami = status.ami_id.as_ref().map_or("-".into(), |a| a.to_string());
        status
            .notes
            .push(format!("launches revoked image {ami}: {reason}"));
    }
    for set in status.instances.iter().filter(|s| s.revoked) {
        status.revoked = true;
        let ami = set.ami_id.as_ref().map_or("-".into(), |a| a.to_string());
        status.notes.push(format!(
            "{} on revoked image {ami}",
            count(set.instances.len())
        ));
    }
    if status.instances.len() > 1 {
        status.mixed = true;
        let parts: Vec<String> = status
            .instances
            .iter()
            .map(|s| format!("{} on version {}", s.instances.len(), number(s)))
            .collect();
        status
            .notes
            .push(format!("mixed fleet: {}", parts.join(", ")));
    } else if let Some(set) = status.instances.first()
        && set.version != launches
        && set.version.as_deref() != status.version.as_deref()
    {
        status.notes.push(format!(
            "{} still on version {}; the group launches {}",
            count(set.instances.len()),
            number(set),
            launches.as_deref().unwrap_or("-")
        ));
    }
    match &status.ledger {
        None => {
            status.changed_outside_kiln = true;
            status
                .notes
                .push("changed outside kiln: no deploy in the ledger touched it".into());
        }
        Some(RanAt {
            launch: Some(launch),
            state,
            who,
            ..
        }) => {
            let same = status.template.as_ref() == Some(&launch.template)
                && status.launches == Some(launch.version);
            if !same {
                status.changed_outside_kiln = true;
                status.notes.push(format!(
                    "changed outside kiln: the ledger has launch template version {} ({state} by {who}), the group launches {}",
                    launch.version,
                    launches.as_deref().unwrap_or("-")
                ));
            }
        }
        // A deploy that has not ended, or ended failed without saying where the
        // group was left: what runs is what the instances above say.
        Some(RanAt {
            launch: None,
            state,
            record,
            who,
            ..
        }) => status.notes.push(format!(
            "deploy {record} by {who} did not finish (running, interrupted or failed): {state}"
        )),
    }
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 instance".into()
    } else {
        format!("{n} instances")
    }
}

#[cfg(test)]
mod tests;
