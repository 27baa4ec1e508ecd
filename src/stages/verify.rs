//! `kiln verify`: the gate between a baked image and the tested channel.
//!
//! An image passes when its Goss results have no failed test; then its registry
//! version is promoted to the tested channel. Failed tests (exit 6) and unusable
//! results (exit 7: empty, not JSON, not a Goss report, no tests) promote nothing.
//! This session evaluates results produced elsewhere (`--results FILE`); the run on
//! a throwaway instance comes next and feeds the same gate.

use serde_json::json;

use crate::cli::VerifyArgs;
use crate::context::Context;
use crate::error::{Error, Result, Source};
use crate::goss;
use crate::model::ImageRef;
use crate::report::Outcome;

pub async fn run(ctx: &Context, args: &VerifyArgs) -> Result<Outcome> {
    let channels = ctx.config.channels.all();
    let reference = ImageRef::parse(
        args.reference.as_deref().unwrap_or("app"),
        &Source::Argument("REF"),
        &channels,
    )?;
    let output = std::fs::read_to_string(&args.results).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::InputMissing {
            path: args.results.clone(),
            what: "Goss results file",
            flag: "--results",
        },
        _ => Error::Io {
            path: args.results.clone(),
            message: format!("cannot read the Goss results: {e}"),
        },
    })?;
    let region = ctx.region();
    let registry = ctx.registry(&region)?;
    let parameter = registry.parameter(reference.role);
    let entry = ctx.resolve_usable(&registry, &reference).await?;
    let subject = match &entry {
        Some(entry) => format!("{} ({}:{})", entry.ami_id, reference.role, entry.version),
        None => reference.to_string(),
    };
    let suite = format!("kiln verify {} {subject}", registry.app());
    let report = match goss::parse(&output) {
        Ok(report) => report,
        Err(unusable) => {
            // CI test reporters show a broken image too, not just a missing report.
            if let Some(path) = &args.junit {
                write_junit(path, &goss::junit_broken(&suite, &unusable.to_string()))?;
            }
            return Err(Error::VerifyBroken {
                subject,
                detail: unusable.to_string(),
            });
        }
    };
    if let Some(path) = &args.junit {
        write_junit(path, &goss::junit(&report, &suite))?;
    }
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        eprint!("{}", goss::annotations(&report));
    }

    let tested = &ctx.config.channels.tested;
    let passed = report.passed();
    let mut promoted = false;
    if passed && !args.no_promote {
        let version = entry.as_ref().map(|e| e.version);
        let current = match &entry {
            Some(_) => registry.channel_version(reference.role, tested).await?,
            None => None,
        };
        if version.is_some() && current == version {
            ctx.ui.note(format!("{tested} is already on {subject}"));
        } else {
            ctx.effects
                .apply(registry.promote(reference.role, version, tested))
                .await?;
            promoted = !ctx.effects.dry_run();
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
    if let Some(entry) = &entry {
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
    })
}

fn write_junit(path: &std::path::Path, xml: &str) -> Result<()> {
    std::fs::write(path, xml).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        message: format!("cannot write the JUnit report: {e}"),
    })
}
