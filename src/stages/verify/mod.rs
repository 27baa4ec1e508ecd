//! `kiln verify`: the gate between a baked image and the tested channel.
//!
//! An image passes when its Goss results have no failed test; then its registry
//! version is promoted to the tested channel. Failed tests (exit 6) and unusable
//! results (exit 7: goss missing, a bad spec, empty or cut-short output, an
//! instance or SSM agent that never came up) promote nothing.
//!
//! The results come from a throwaway instance (`instance`: launch, SSM Run
//! Command, teardown) or from a file produced elsewhere (`--results`); both feed
//! the same gate (`evaluate`). `--cleanup` removes what crashed runs left.

mod cleanup;
mod instance;
mod remote;

use serde_json::json;

use crate::config::{Goss, ImageVerify, VerifySettings};
use crate::context::Context;
use crate::effect::unknown_offline;
use crate::error::{BrokenAt, Error, Result};
use crate::goss;
use crate::model::{ImageRef, InstanceId, ParameterName};
use crate::registry::{Entry, Registry};
use crate::report::Outcome;

/// The image under test, as the registry knows it.
struct Target {
    reference: ImageRef,
    parameter: ParameterName,
    /// `None` only in a dry run that cannot read AWS.
    entry: Option<Entry>,
    /// How messages name it: `ami-… (app:7)`.
    subject: String,
}

pub async fn run(ctx: &Context, settings: &VerifySettings) -> Result<Outcome> {
    let verify = match settings {
        VerifySettings::Cleanup => return cleanup::run(ctx).await,
        VerifySettings::Image(verify) => verify,
    };
    let reference = verify.reference.clone();
    let registry = ctx.registry(&ctx.region())?;
    let entry = unknown_offline(registry.resolve_usable(&reference).await)?;
    let target = Target {
        parameter: registry.parameter(reference.role),
        subject: match &entry {
            Some(entry) => format!("{} ({}:{})", entry.ami_id, reference.role, entry.version),
            None => reference.to_string(),
        },
        reference,
        entry,
    };

    let settings = match &verify.goss {
        Goss::Results(output) => {
            let results = goss_results(output).map_err(|why| (BrokenAt::Results, why));
            return evaluate(ctx, verify, &registry, &target, results, None).await;
        }
        Goss::Instance(settings) => settings,
    };
    let Some(ran) = instance::run_goss(ctx, settings, &target).await? else {
        // A dry run: the plan holds the launch, the command and the teardown.
        return Ok(Outcome {
            json: json!({
                "reference": target.reference.to_string(),
                "parameter": target.parameter,
                "ami_id": target.entry.as_ref().map(|e| e.ami_id.clone()),
            }),
            ..Outcome::default()
        });
    };
    let results = ran
        .results
        .clone()
        .and_then(|output| goss_results(&output).map_err(|why| (BrokenAt::Goss, why)));
    let outcome = evaluate(
        ctx,
        verify,
        &registry,
        &target,
        results,
        Some(&ran.instance),
    )
    .await;
    let failed = match &outcome {
        Ok(outcome) => outcome.failure.is_some(),
        Err(Error::VerifyBroken { .. }) => true,
        Err(_) => false,
    };
    if failed && settings.keep_on_failure {
        instance::keep(ctx, &ran);
    } else if ctx.teardown.remove(&ctx.effects, &ran.held).await.is_ok() {
        ctx.ui.note(format!("terminated {}", ran.held));
    }
    outcome
}

/// Goss's output as a report, or why it is unusable.
fn goss_results(output: &str) -> Result<goss::Report, String> {
    goss::parse(output).map_err(|unusable| unusable.to_string())
}

/// The gate: reports in every format, then the promotion on a pass.
async fn evaluate(
    ctx: &Context,
    verify: &ImageVerify,
    registry: &Registry,
    target: &Target,
    results: Result<goss::Report, (BrokenAt, String)>,
    instance: Option<&InstanceId>,
) -> Result<Outcome> {
    let Target {
        reference,
        subject,
        entry,
        parameter,
    } = target;
    let suite = format!("kiln verify {} {subject}", registry.app());
    let report = match results {
        Ok(report) => report,
        Err((stage, detail)) => {
            // CI test reporters show a broken image too, not just a missing report.
            if let Some(path) = &verify.junit {
                write_junit(path, &goss::junit_broken(&suite, &detail));
            }
            return Err(Error::VerifyBroken {
                subject: subject.clone(),
                detail,
                stage,
            });
        }
    };
    if let Some(path) = &verify.junit {
        write_junit(path, &goss::junit(&report, &suite));
    }
    if ctx.config.ci.github_actions {
        let annotations = goss::annotations(&report);
        if !annotations.is_empty() {
            crate::ui::to_stderr(annotations.trim_end());
        }
    }

    let tested = &ctx.config.channels.tested;
    let passed = report.passed();
    let mut promoted = false;
    if passed && !verify.no_promote {
        let version = entry.as_ref().map(|e| e.version);
        let current = match entry {
            Some(_) => registry.channel_version(reference.role, tested).await?,
            None => None,
        };
        if version.is_some() && current == version {
            ctx.ui.note(format!("{tested} is already on {subject}"));
        } else {
            promoted = ctx
                .effects
                .apply(registry.promote(reference.role, version, tested))
                .await?
                .done();
            if promoted {
                ctx.ui.note(format!("promoted {subject} to {tested}"));
            }
        }
    }

    let summary = &report.summary;
    let failure = (!passed).then(|| Error::TestsFailed {
        subject: subject.clone(),
        failed: summary.failed_count.max(report.failures().count() as u64),
        total: summary.test_count,
    });
    let mut step_outputs = vec![("passed", passed.to_string())];
    if let Some(entry) = entry {
        step_outputs.push(("ami-id", entry.ami_id.to_string()));
        step_outputs.push(("version", entry.version.to_string()));
    }
    if promoted {
        step_outputs.push(("channel", tested.to_string()));
    }
    Ok(Outcome {
        text: goss::console(&report),
        json: json!({
            "reference": reference.to_string(),
            "parameter": parameter,
            "ami_id": entry.as_ref().map(|e| e.ami_id.clone()),
            "version": entry.as_ref().map(|e| e.version),
            "instance_id": instance,
            "passed": passed,
            "tests": summary.test_count,
            "failed": summary.failed_count,
            "skipped": summary.skipped_count,
            "duration_seconds": report.seconds(),
            "failures": report.failures().map(|f| json!({"name": f.name(), "summary": f.summary_line})).collect::<Vec<_>>(),
            "promoted_to": promoted.then(|| tested.to_string()),
        }),
        step_outputs,
        summary: Some(goss::markdown(&report, &format!("`{subject}`"))),
        failure,
        ..Outcome::default()
    })
}

/// Writes the JUnit report. `lib::run` checked the path before any change; a
/// failure now is a warning, so the exit code stays the tests' verdict.
fn write_junit(path: &std::path::Path, xml: &str) {
    if let Err(e) = std::fs::write(path, xml) {
        crate::ui::warn(format!(
            "could not write the JUnit report at {}: {e}",
            path.display()
        ));
    }
}

#[cfg(test)]
mod tests;
