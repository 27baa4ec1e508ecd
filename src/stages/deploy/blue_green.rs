//! The blue-green strategy: a new group from the new launch template version,
//! the size of the live one and attached to the same target groups; once all of
//! it is healthy, the old group is detached from the target groups and scaled to
//! zero, and kept (`--keep-old`, for an instant rollback) or deleted. The groups
//! of one service carry `kiln:blue-green=<the --asg name>`; the live one also
//! `kiln:live=true`. The named group itself is never deleted (retired, it stays at
//! zero). Until the switch the new group is held by the teardown guard:
//! a failure or a signal deletes it, and the old group never stopped serving.

use crate::aws::autoscaling::{Group, NewGroup};
use crate::effect::{Change, GroupChange};
use crate::error::Result;
use crate::model::{GroupName, Timestamp};
use crate::poll::Poll;
use crate::provenance::tag;
use crate::teardown::Temporary;

use super::deployment::{Convergence, Deployment};
use super::template::{self, Versions};

const SERVICE: &str = tag::BLUE_GREEN;
const LIVE: &str = tag::LIVE;
const RETIRED: &str = tag::RETIRED;

pub async fn run(d: &Deployment<'_>, named: &Group) -> Result<(Versions, Convergence)> {
    let (ctx, rollout) = (d.ctx, d.rollout);
    let region = d.region();
    let family = family(d).await?;
    let live = serving(&family, named);
    let versions = template::prepare(d, &live).await?;
    let stamp: String = Timestamp::now()
        .rfc3339()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    // Two rollouts within a second (a deploy, then its rollback): the second gets a suffix.
    let taken = |name: &str| family.iter().any(|g| g.name.as_str() == name);
    let base = format!("{}-{stamp}", rollout.group);
    let name = (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|name| !taken(name))
        .map(GroupName::from_aws)
        .expect("an unused name");
    let mut tags = live
        .tags
        .iter()
        .filter(|(k, _)| !k.starts_with(tag::PREFIX) && !k.starts_with("aws:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect::<std::collections::BTreeMap<_, _>>();
    tags.insert(SERVICE.into(), rollout.group.to_string());
    tags.insert(tag::APP.into(), ctx.config.app()?.to_string());
    let spec = NewGroup {
        name: name.clone(),
        template: versions.template.clone(),
        version: versions.new,
        min: live.min,
        max: live.max,
        desired: live.desired,
        subnets: live.subnets.clone(),
        target_groups: live.target_groups.clone(),
        health_check_type: live.health_check_type.clone(),
        health_check_grace: live.health_check_grace,
        tags,
    };
    d.apply(GroupChange::Create {
        region: region.clone(),
        spec,
    })
    .await?;
    if d.only_planning() {
        switch(d, &live, &name).await?;
        return Ok((versions, Convergence::Converged));
    }
    let new = crate::effect::made(versions.new, "the new group's launch template version")?;
    let held = Temporary::NewGroup {
        region: region.clone(),
        group: name.clone(),
    };
    ctx.teardown.hold(held.clone());
    let mut poll = Poll::new(rollout.timeout);
    let mut progress = ctx.ui.progress(format!("waiting for the new group {name}"));
    loop {
        let snap = d.snapshot(&name).await?;
        let healthy = snap.healthy_on(new);
        progress.set_message(format!(
            "waiting for the new group {name}: {healthy}/{} healthy",
            live.desired
        ));
        progress.tick();
        if snap.converged_on(new) {
            break;
        }
        if !poll.next().await {
            let why = super::rolling::timeout_detail(&snap, new, rollout);
            if rollout.rollback_on_failure {
                ctx.teardown.remove(&ctx.effects, &held).await?;
                ctx.ui.note(format!(
                    "deleted the new group {name}; {} kept serving",
                    live.name
                ));
            } else {
                ctx.teardown.keep(&held);
            }
            return Ok((versions, Convergence::NotConverged { why }));
        }
    }
    ctx.teardown.keep(&held);
    switch(d, &live, &name).await?;
    retire_old(d).await?;
    Ok((versions, Convergence::Converged))
}

/// The group of this service that serves now: the one tagged live, else the named one.
pub async fn live(d: &Deployment<'_>, named: &Group) -> Result<Group> {
    Ok(serving(&family(d).await?, named))
}

fn serving(family: &[Group], named: &Group) -> Group {
    family
        .iter()
        .find(|g| g.tags.get(LIVE).is_some_and(|v| v == "true"))
        .cloned()
        .unwrap_or_else(|| named.clone())
}

/// The groups of this service: the live one and the retired ones kept.
async fn family(d: &Deployment<'_>) -> Result<Vec<Group>> {
    let service = d.group().as_str();
    let what = format!("autoscaling:DescribeAutoScalingGroups tagged {SERVICE}={service}");
    d.read(what, |aws| async move {
        aws.autoscaling.groups_tagged(SERVICE, service).await
    })
    .await
}

/// Moves the traffic: the new group is live, the old one detached and at zero.
async fn switch(d: &Deployment<'_>, old: &Group, new: &GroupName) -> Result<()> {
    let region = d.region();
    let tag = |group: &GroupName, key: &str, value: String| -> Change {
        GroupChange::Tag {
            region: region.clone(),
            group: group.clone(),
            key: key.into(),
            value,
        }
        .into()
    };
    for change in [
        tag(new, LIVE, "true".into()),
        GroupChange::DetachTargetGroups {
            region: region.clone(),
            group: old.name.clone(),
            target_groups: old.target_groups.clone(),
        }
        .into(),
        GroupChange::Update {
            region: region.clone(),
            group: old.name.clone(),
            template: None,
            capacity: Some((0, 0, 0)),
        }
        .into(),
        tag(&old.name, SERVICE, d.group().to_string()),
        tag(&old.name, LIVE, "false".into()),
        tag(&old.name, RETIRED, Timestamp::now().rfc3339()),
    ] {
        d.apply(change).await?;
    }
    Ok(())
}

/// Deletes retired groups beyond the newest `keep_old`.
async fn retire_old(d: &Deployment<'_>) -> Result<()> {
    let family = family(d).await?;
    let mut retired: Vec<(String, GroupName)> = family
        .into_iter()
        .filter(|g| g.tags.get(LIVE).is_none_or(|v| v != "true"))
        // The named group stays (at zero when retired): it is what kiln.toml and
        // Terraform name, and it carries the deploy lock's tag.
        .filter(|g| &g.name != d.group())
        .filter_map(|g| Some((g.tags.get(RETIRED)?.clone(), g.name)))
        .collect();
    retired.sort_by(|a, b| b.0.cmp(&a.0));
    for (_, group) in retired.into_iter().skip(d.rollout.keep_old as usize) {
        d.apply(GroupChange::Delete {
            region: d.region().clone(),
            group,
        })
        .await?;
    }
    Ok(())
}
