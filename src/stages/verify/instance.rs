//! The throwaway instance: launched from the image, watched until it runs and its
//! SSM agent is online, sent the Goss script, and held by the teardown guard from
//! the moment AWS returns its id until it is terminated.
//!
//! Everything that goes wrong before Goss reports (the instance stops, the agent
//! never registers, the command times out) is the image's or the infrastructure's
//! fault, reported as "broken" (exit 7), never as failed tests.

use std::collections::BTreeMap;

use super::{Target, remote};
use crate::aws::ec2::LaunchSpec;
use crate::aws::ssm::{Invocation, Sent};
use crate::config::InstanceSettings as Settings;
use crate::context::Context;
use crate::effect::{Applied, InstanceChange};
use crate::error::{BrokenAt, Result};
use crate::model::{AmiId, InstanceId, Region, RunId, Span, Timestamp};
use crate::poll::Poll;
use crate::provenance::tag;
use crate::teardown::Temporary;

/// A finished run on an instance that is still held for teardown.
pub struct Ran {
    pub instance: InstanceId,
    pub region: Region,
    pub held: Temporary,
    /// Goss's JSON, or why there is none.
    /// Goss's output, or why there is none and where it broke.
    pub results: Result<String, (BrokenAt, String)>,
    expires: Timestamp,
}

/// Launches the instance, runs Goss on it and returns its output; `None` in a dry
/// run, whose plan then holds the launch, the command and the teardown.
pub async fn run_goss(ctx: &Context, settings: &Settings, target: &Target) -> Result<Option<Ran>> {
    let region = ctx.region();
    let app = ctx.config.app()?;
    let run_id = RunId::new();
    let expires = Timestamp(Timestamp::now().0 + settings.lifetime.as_secs() as i64);
    let ami_id = target.entry.as_ref().map_or_else(
        || AmiId::from_aws(format!("(the AMI {} resolves to)", target.reference)),
        |entry| entry.ami_id.clone(),
    );
    let tags = BTreeMap::from([
        (
            "Name".to_string(),
            format!("kiln-verify-{app}-{}", target.reference.role),
        ),
        (tag::PURPOSE.to_string(), "verify".to_string()),
        (tag::APP.to_string(), app.to_string()),
        (tag::RUN_ID.to_string(), run_id.to_string()),
        (tag::EXPIRES.to_string(), expires.rfc3339()),
        (tag::AMI.to_string(), ami_id.to_string()),
    ]);
    let spec = LaunchSpec {
        ami_id,
        instance_type: settings.instance_type.clone(),
        subnet: settings.subnet.clone(),
        security_groups: settings.security_groups.clone(),
        instance_profile: settings.instance_profile.clone(),
        tags,
        // With shutdown behaviour "terminate", the instance removes itself at the
        // end of its lifetime even if kiln and every cleanup are gone.
        user_data: format!(
            "#!/bin/sh\nshutdown -P +{} 'kiln verify: lifetime reached'\n",
            settings.lifetime.as_secs().div_ceil(60)
        ),
        client_token: run_id,
    };
    let goss = remote::GossRun {
        spec: &settings.spec,
        vars: settings.vars.as_deref(),
        retry_timeout: settings.retry_timeout,
        sleep: settings.sleep,
    };
    let script = remote::script(&goss);
    let summary = remote::summary(&goss, &settings.spec_path.display().to_string());

    let launched = ctx
        .effects
        .apply(InstanceChange::Launch {
            region: region.clone(),
            spec,
        })
        .await?;
    let Applied::Instance(instance) = launched else {
        for change in [
            InstanceChange::SendCommand {
                region: region.clone(),
                instance: None,
                summary,
                script,
                timeout: settings.command_timeout,
            },
            InstanceChange::Terminate {
                region,
                instances: Vec::new(),
            },
        ] {
            ctx.effects.apply(change).await?;
        }
        return Ok(None);
    };
    let held = Temporary::VerifyInstance {
        region: region.clone(),
        id: instance.clone(),
    };
    ctx.teardown.hold(held.clone());
    ctx.ui.note(format!(
        "launched {instance} ({}) from {} in {region}; it shuts down by {} at the latest",
        settings.instance_type,
        target.subject,
        expires.rfc3339()
    ));
    let results = match boot(ctx, settings, &region, &instance).await? {
        Err(broken) => Err((BrokenAt::Instance, broken)),
        Ok(()) => match command(ctx, settings, &region, &instance, summary, script).await? {
            Err(broken) => Err((BrokenAt::Instance, broken)),
            Ok(invocation) => remote::results(&invocation).map_err(|why| (BrokenAt::Goss, why)),
        },
    };
    Ok(Some(Ran {
        instance,
        region,
        held,
        results,
        expires,
    }))
}

/// Waits until the instance runs and its SSM agent is online; `Err` says why it
/// never got there.
async fn boot(
    ctx: &Context,
    settings: &Settings,
    region: &Region,
    instance: &InstanceId,
) -> Result<Result<(), String>> {
    let reader = ctx.reader();
    let timeout = settings.boot_timeout;
    let mut poll = Poll::new(timeout);
    let mut progress = ctx.ui.progress(format!(
        "waiting for {instance} to run and its SSM agent to come online"
    ));
    let mut state = String::from("pending");
    loop {
        progress.tick();
        if state != "running" {
            let what = format!("ec2:DescribeInstances {instance}");
            let now = reader
                .read(region, what, |aws| async move {
                    aws.ec2.instance_state(instance).await
                })
                .await?;
            match now {
                Some(now) if now.name == "running" || now.name == "pending" => state = now.name,
                Some(now) => {
                    let reason = now.reason.map(|r| format!(": {r}")).unwrap_or_default();
                    return Ok(Err(format!(
                        "instance {instance} never ran: it is {}{reason}",
                        now.name
                    )));
                }
                None => return Ok(Err(format!("instance {instance} disappeared"))),
            }
        }
        if state == "running"
            && reader
                .read(
                    region,
                    format!("ssm:DescribeInstanceInformation {instance}"),
                    |aws| async move { aws.ssm.agent_online(instance).await },
                )
                .await?
        {
            return Ok(Ok(()));
        }
        if !poll.next().await {
            return Ok(Err(if state == "running" {
                format!(
                    "the SSM agent on {instance} did not come online within {timeout}: the image needs the SSM agent, the instance profile needs AmazonSSMManagedInstanceCore, and the subnet a route to SSM (NAT or VPC endpoints)"
                )
            } else {
                format!("instance {instance} was still {state} after {timeout}")
            }));
        }
    }
}

/// Sends the Goss script and waits for it to finish; `Err` when it never did.
async fn command(
    ctx: &Context,
    settings: &Settings,
    region: &Region,
    instance: &InstanceId,
    summary: String,
    script: String,
) -> Result<Result<Invocation, String>> {
    let timeout = settings.command_timeout;
    // SSM lists an agent as online a moment before it accepts commands for it.
    let mut registering = Poll::new(Span::secs(60));
    let command = loop {
        let sent = ctx
            .effects
            .apply(InstanceChange::SendCommand {
                region: region.clone(),
                instance: Some(instance.clone()),
                summary: summary.clone(),
                script: script.clone(),
                timeout,
            })
            .await?;
        match sent {
            Applied::Sent(Sent::Command(id)) => break id,
            _ if registering.next().await => continue,
            _ => {
                return Ok(Err(format!(
                    "SSM did not accept a command for {instance}: its agent is not registered"
                )));
            }
        }
    };
    // SSM ends the command at its execution timeout; kiln waits a little longer for
    // SSM to say so.
    let mut poll = Poll::new(Span::secs(timeout.as_secs() + 30));
    let mut progress = ctx
        .ui
        .progress(format!("running goss on {instance} (command {command})"));
    loop {
        progress.tick();
        let invocation = ctx
            .reader()
            .read(
                region,
                format!("ssm:GetCommandInvocation {command} on {instance}"),
                |aws| {
                    let command = &command;
                    async move { aws.ssm.invocation(command, instance).await }
                },
            )
            .await?;
        if invocation.finished() {
            return Ok(Ok(invocation));
        }
        if !poll.next().await {
            return Ok(Err(format!(
                "the Goss command {command} did not finish within {timeout} (SSM status {})",
                invocation.status
            )));
        }
    }
}

/// `--keep-on-failure`: the instance outlives the run; say how to reach it.
pub fn keep(ctx: &Context, ran: &Ran) {
    ctx.teardown.keep(&ran.held);
    ctx.ui.note(format!(
        "kept {} for inspection (--keep-on-failure); it shuts itself down by {}.\n  connect:   aws ssm start-session --target {} --region {}\n  remove it: aws ec2 terminate-instances --instance-ids {} --region {}",
        ran.instance,
        ran.expires.rfc3339(),
        ran.instance,
        ran.region,
        ran.instance,
        ran.region
    ));
}
