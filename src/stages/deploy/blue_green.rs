//! The blue-green strategy: a new group from the new launch template version,
//! the size of the live one and attached to the same target groups; once all of
//! it is healthy, the old group is detached from the target groups and scaled to
//! zero, and kept (`--keep-old`, for an instant rollback) or deleted. The groups
//! of one service carry `kiln:blue-green=<the --asg name>`; the live one also
//! `kiln:live=true`. Until the switch the new group is held by the teardown guard:
//! a failure or a signal deletes it, and the old group never stopped serving.

use crate::aws::autoscaling::{Group, NewGroup};
use crate::context::Context;
use crate::effect::{Change, RolloutChange};
use crate::error::Result;
use crate::model::{AmiId, GroupName, Timestamp};
use crate::poll::Poll;
use crate::teardown::Temporary;

use super::template::{self, Versions};
use super::watch::snapshot;
use crate::config::Rollout;

const SERVICE: &str = "kiln:blue-green";
const LIVE: &str = "kiln:live";
const RETIRED: &str = "kiln:retired";

pub async fn run(
    ctx: &Context,
    rollout: &Rollout,
    named: &Group,
    image: Option<&AmiId>,
    what: &str,
) -> Result<(Versions, Result<(), String>)> {
    let region = &rollout.region;
    let autoscaling = ctx.aws_autoscaling(region);
    let family = autoscaling
        .groups_tagged(SERVICE, rollout.group.as_str())
        .await?;
    let live = family
        .iter()
        .find(|g| g.tags.get(LIVE).is_some_and(|v| v == "true"))
        .cloned()
        .unwrap_or_else(|| named.clone());
    let versions = template::prepare(ctx, rollout, &live, image, what).await?;
    let stamp: String = Timestamp::now()
        .rfc3339()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let name = GroupName::from_aws(format!("{}-{stamp}", rollout.group));
    let mut tags = live
        .tags
        .iter()
        .filter(|(k, _)| !k.starts_with("kiln:") && !k.starts_with("aws:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect::<std::collections::BTreeMap<_, _>>();
    tags.insert(SERVICE.into(), rollout.group.to_string());
    tags.insert("kiln:app".into(), ctx.config.app()?.to_string());
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
    ctx.effects
        .apply(Change::Rollout(RolloutChange::CreateGroup {
            region: region.clone(),
            spec,
        }))
        .await?;
    if ctx.effects.dry_run() {
        switch(ctx, rollout, &live, &name).await?;
        return Ok((versions, Ok(())));
    }
    let held = Temporary::NewGroup {
        region: region.clone(),
        group: name.clone(),
    };
    ctx.teardown.hold(held.clone());
    let mut poll = Poll::new(rollout.timeout);
    let mut progress = ctx.ui.progress(format!("waiting for the new group {name}"));
    loop {
        let snap = snapshot(ctx, region, &name).await?;
        let healthy = snap.healthy_on(versions.new);
        progress.set_message(format!(
            "waiting for the new group {name}: {healthy}/{} healthy",
            live.desired
        ));
        progress.tick();
        if snap.converged_on(versions.new) {
            break;
        }
        if !poll.next().await {
            let why = super::rolling::timeout_detail(&snap, versions.new, rollout);
            if rollout.rollback_on_failure {
                ctx.teardown.remove(&ctx.effects, &held).await?;
                ctx.ui.note(format!(
                    "deleted the new group {name}; {} kept serving",
                    live.name
                ));
            } else {
                ctx.teardown.keep(&held);
            }
            return Ok((versions, Err(why)));
        }
    }
    ctx.teardown.keep(&held);
    switch(ctx, rollout, &live, &name).await?;
    retire_old(ctx, rollout).await?;
    Ok((versions, Ok(())))
}

/// Moves the traffic: the new group is live, the old one detached and at zero.
async fn switch(ctx: &Context, rollout: &Rollout, old: &Group, new: &GroupName) -> Result<()> {
    let region = &rollout.region;
    let tag = |group: &GroupName, key: &str, value: String| {
        Change::Rollout(RolloutChange::TagGroup {
            region: region.clone(),
            group: group.clone(),
            key: key.into(),
            value,
        })
    };
    for change in [
        tag(new, LIVE, "true".into()),
        Change::Rollout(RolloutChange::DetachTargetGroups {
            region: region.clone(),
            group: old.name.clone(),
            target_groups: old.target_groups.clone(),
        }),
        Change::Rollout(RolloutChange::UpdateGroup {
            region: region.clone(),
            group: old.name.clone(),
            template: None,
            capacity: Some((0, 0, 0)),
        }),
        tag(&old.name, SERVICE, rollout.group.to_string()),
        tag(&old.name, LIVE, "false".into()),
        tag(&old.name, RETIRED, Timestamp::now().rfc3339()),
    ] {
        ctx.effects.apply(change).await?;
    }
    Ok(())
}

/// Deletes retired groups beyond the newest `keep_old`.
async fn retire_old(ctx: &Context, rollout: &Rollout) -> Result<()> {
    let family = ctx
        .aws_autoscaling(&rollout.region)
        .groups_tagged(SERVICE, rollout.group.as_str())
        .await?;
    let mut retired: Vec<(String, GroupName)> = family
        .into_iter()
        .filter(|g| g.tags.get(LIVE).is_none_or(|v| v != "true"))
        .filter_map(|g| Some((g.tags.get(RETIRED)?.clone(), g.name)))
        .collect();
    retired.sort_by(|a, b| b.0.cmp(&a.0));
    for (_, group) in retired.into_iter().skip(rollout.keep_old as usize) {
        ctx.effects
            .apply(Change::Rollout(RolloutChange::DeleteGroup {
                region: rollout.region.clone(),
                group,
            }))
            .await?;
    }
    Ok(())
}
