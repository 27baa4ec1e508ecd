//! `kiln verify --cleanup`: terminates verify instances that crashed runs left
//! behind. Found by their tags (`kiln:purpose=verify`, the app); only those past
//! their `kiln:expires` time, so a run in progress elsewhere is never touched.

use serde_json::json;

use crate::context::Context;
use crate::effect::InstanceChange;
use crate::error::Result;
use crate::model::{InstanceId, Timestamp};
use crate::provenance::tag;
use crate::report::{Outcome, Table};

pub async fn run(ctx: &Context) -> Result<Outcome> {
    let region = ctx.region();
    let app = ctx.config.app()?;
    let found = ctx
        .reader()
        .read(
            &region,
            format!(
                "ec2:DescribeInstances tagged {}=verify {}={app} in {region}",
                tag::PURPOSE,
                tag::APP
            ),
            |aws| async move {
                aws.ec2
                    .live_instances_tagged(&[(tag::PURPOSE, "verify"), (tag::APP, app.as_str())])
                    .await
            },
        )
        .await?;
    let now = Timestamp::now();
    let mut expired: Vec<InstanceId> = Vec::new();
    let mut table = Table::new(vec!["INSTANCE", "STATE", "RUN", "EXPIRES", "ACTION"]);
    let mut rows = Vec::new();
    for instance in &found {
        let expires = instance
            .tags
            .get(tag::EXPIRES)
            .and_then(|t| Timestamp::parse_iso(t));
        // No readable expiry: kiln did not tag it so; treat it as expired.
        let due = expires.is_none_or(|at| at <= now);
        if due {
            expired.push(instance.id.clone());
        }
        let action = if due {
            "terminate"
        } else {
            "keep (still within its lifetime)"
        };
        let expires = expires.map_or("-".to_string(), |t| t.rfc3339());
        let run = instance.tags.get(tag::RUN_ID).cloned().unwrap_or_default();
        table.row(vec![
            instance.id.to_string(),
            instance.state.clone(),
            run.clone(),
            expires.clone(),
            action.to_string(),
        ]);
        rows.push(json!({
            "instance_id": instance.id,
            "state": instance.state,
            "run_id": run,
            "expires": expires,
            "terminate": due,
        }));
    }
    let mut done = false;
    if !expired.is_empty() {
        done = ctx
            .effects
            .apply(InstanceChange::Terminate {
                region: region.clone(),
                instances: expired.clone(),
            })
            .await?
            .done();
    }
    let text = if found.is_empty() {
        format!("no verify instances of {app} in {region}\n")
    } else {
        format!(
            "{}{} of {} verify instance(s) of {app} in {region} {}\n",
            table.render(&ctx.ui),
            expired.len(),
            found.len(),
            if done { "terminated" } else { "to terminate" }
        )
    };
    Ok(Outcome {
        text,
        json: json!({
            "region": region,
            "instances": rows,
            "terminated": if done { expired.clone() } else { Vec::new() },
        }),
        ..Outcome::default()
    })
}
