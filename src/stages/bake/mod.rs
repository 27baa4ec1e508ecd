//! `kiln bake base` / `kiln bake app`: a golden image with Packer, published to the
//! registry of every configured region.
//!
//! `bake app` builds on the registry's base (`--base REF`, or none), never on an id
//! passed through a file. Bakes are done once: the inputs hash (template, Ansible
//! tree, variables, and the source image the template resolves to now) is tagged on
//! the image, and an available image with the same hash is published again instead
//! of baked, unless it is older than `--max-age`. An app records as its base only
//! the image Packer really started from, when that is the registry's base (see
//! `lineage`). Nothing is published unless Packer succeeded and reported an AMI for
//! the primary region.

use futures_util::future::join_all;
use serde_json::json;

mod lineage;
mod prepare;
mod regions;
mod source;

use lineage::Lineage;
use regions::{Candidate, Copies, How, RegionResult, publish_new};
use source::Given;

use crate::config::BakeSettings;
use crate::context::Context;
use crate::effect::unknown_offline;
use crate::error::{Error, Result};
use crate::inputs::BakeInputs;
use crate::model::{AmiId, ImageRef, Region, Role, Timestamp, Version};
use crate::provenance::Provenance;
use crate::registry::Registry;
use crate::report::{Outcome, Table};
use crate::tools::packer::template::Template;
use crate::tools::packer::{self, Line};

pub async fn run(ctx: &Context, settings: &BakeSettings) -> Result<Outcome> {
    let BakeSettings {
        role,
        template,
        vars,
        var_files,
        wait,
        ..
    } = settings;
    let (role, wait) = (*role, *wait);

    // A template kiln cannot bake is refused before anything is read or built.
    let (loaded, shape) = prepare::check(settings).await?;
    let region = ctx.region();
    let registry = ctx.registry(&region)?;

    let base = match &settings.base {
        None => None,
        Some(reference) => resolve_base(&registry, reference).await?,
    };
    let registry_base = base.as_ref().map(|(ami, _)| ami.clone());
    let context = context(ctx, &registry, role, registry_base.as_ref(), None);
    // What the template builds on, looked up now: a moved upstream image is a change.
    let given = Given {
        context: &context,
        environment: &ctx.config.ci.packer_vars,
        var_files,
        vars,
    };
    let resolved = lineage::resolve(ctx, &region, &loaded, given, settings.only.as_deref()).await?;
    if let Lineage::Other {
        built_on,
        base,
        version,
    } = lineage::lineage(base.as_ref(), resolved.as_ref())
        && settings.strict_lineage
    {
        return Err(lineage::mismatch(&built_on, &base, version, None));
    }
    let source_ami = resolved.clone().or(registry_base.clone());
    let hash = BakeInputs {
        role,
        source_ami: source_ami.as_ref(),
        template,
        ansible: &ctx.config.bake.ansible,
        vars,
        var_files,
        environment: &ctx.config.ci.packer_vars,
        only: settings.only.as_deref(),
    }
    .hash()?;

    // Bake once: an image with these inputs is published again, not baked again.
    let mut earlier = match settings.force {
        true => None,
        false => unknown_offline(registry.baked_with(role, &hash).await)?.flatten(),
    };
    // OS updates land without any input changing: an old enough image is baked again.
    if let (Some(image), Some(max_age)) = (&earlier, settings.max_age)
        && let Some(age) = lineage::too_old(image.created, Timestamp::now(), max_age)
    {
        ctx.ui.note(format!(
            "{} was baked with these inputs {age} ago, longer ago than the maximum age {max_age} (--max-age, [bake] max_age); baking again",
            image.id
        ));
        earlier = None;
    }
    let mut built_on = resolved;
    let (primary, artifacts) = match earlier {
        Some(image) => {
            ctx.ui.note(format!(
                "inputs unchanged since {} was baked ({hash}); not baking (--force bakes anyway)",
                image.id
            ));
            (Some(Candidate::from(image)), Default::default())
        }
        None => {
            let packer_run = PackerRun {
                template: &loaded,
                shape: &shape,
                context,
                ami_name: ami_name(&registry, role, &hash),
            };
            let baked = bake(ctx, settings, packer_run).await?;
            let artifacts = baked.as_ref().map(|b| b.amis.clone());
            // What Packer really started from beats what kiln expected.
            if let Some(Baked { sources, .. }) = &baked
                && let [source] = sources.as_slice()
            {
                built_on = Some(source.clone());
            }
            let primary = match &artifacts {
                Some(amis) => Some(amis.get(&region).cloned().ok_or_else(|| {
                    Error::BuiltElsewhere {
                        primary: region.to_string(),
                        role: role.to_string(),
                        built: amis
                            .iter()
                            .map(|(r, a)| (r.to_string(), a.to_string()))
                            .collect(),
                    }
                })?),
                None => None,
            };
            let image = primary.map(Candidate::new);
            (image, artifacts.unwrap_or_default())
        }
    };
    let how = if artifacts.is_empty() && primary.is_some() {
        How::Reused
    } else {
        How::Baked
    };
    // Only the base the app was really built on is recorded.
    let (base_ami, base_version) = match lineage::lineage(base.as_ref(), built_on.as_ref()) {
        Lineage::Base(ami, version) => (Some(ami), Some(version)),
        Lineage::None => (None, None),
        Lineage::Other {
            built_on,
            base,
            version,
        } => {
            if settings.strict_lineage {
                let left = primary.as_ref().filter(|_| how == How::Baked);
                return Err(lineage::mismatch(
                    &built_on,
                    &base,
                    version,
                    left.map(|c| &c.id),
                ));
            }
            crate::ui::warn(lineage::warning(&built_on, &base, version));
            (None, None)
        }
    };
    let provenance = Provenance {
        inputs_hash: Some(hash.clone()),
        base_ami,
        base_version,
        ..ctx.config.ci.provenance.clone()
    };

    let mut results = vec![
        publish_new(
            ctx,
            &registry,
            role,
            primary.as_ref(),
            &provenance,
            wait,
            how,
        )
        .await?,
    ];
    let extra: Vec<Region> = ctx.regions().into_iter().skip(1).collect();
    let primary_id = primary.as_ref().map(|i| i.id.clone());
    let copies = Copies {
        role,
        hash: &hash,
        source_region: &region,
        source: primary_id.as_ref(),
        // Only a reused image may reuse earlier copies: a new bake is copied anew.
        reuse_earlier: how == How::Reused,
        provenance: &provenance,
        wait,
    };
    let spreads = extra
        .iter()
        .map(|target| copies.spread(ctx, target, artifacts.get(target)));
    let mut failed = Vec::new();
    for (target, result) in extra.iter().zip(join_all(spreads).await) {
        match result {
            Ok(result) => results.push(result),
            Err(error) => failed.push((target.to_string(), error.to_string())),
        }
    }
    if !failed.is_empty() {
        return Err(Error::Regions {
            published: results.iter().map(|r| r.region.to_string()).collect(),
            failed,
        });
    }
    Ok(outcome(ctx, role, &registry, &hash, &provenance, results))
}

/// The base an app is built on: its AMI and registry version.
async fn resolve_base(
    registry: &Registry,
    reference: &ImageRef,
) -> Result<Option<(AmiId, Version)>> {
    let entry = unknown_offline(registry.resolve(reference).await)?;
    Ok(entry.map(|e| (e.ami_id, e.version)))
}

/// kiln's context for the template (`PKR_VAR_kiln_*`); `ami_name` only for the
/// build itself, as it changes with every run.
fn context(
    ctx: &Context,
    registry: &Registry,
    role: Role,
    source_ami: Option<&AmiId>,
    ami_name: Option<String>,
) -> Vec<(&'static str, String)> {
    let ci = ctx.config.ci.provenance.clone();
    let mut context = vec![
        ("kiln_app", registry.app().to_string()),
        ("kiln_role", role.to_string()),
        ("kiln_region", registry.region().to_string()),
        (
            "kiln_source_ami",
            source_ami.map(AmiId::to_string).unwrap_or_default(),
        ),
    ];
    if let Some(name) = ami_name {
        context.push(("kiln_ami_name", name));
    }
    context.push(("kiln_git_sha", ci.git_sha.unwrap_or_default()));
    context.push(("kiln_build_url", ci.build_url.unwrap_or_default()));
    if let Some(endpoint) = ctx.endpoint() {
        context.push(("kiln_ec2_endpoint", endpoint.to_string()));
    }
    context
}

/// What one `packer build` is given: the checked template and kiln's context.
struct PackerRun<'a> {
    template: &'a Template,
    shape: &'a packer::shape::Shape,
    context: Vec<(&'static str, String)>,
    ami_name: String,
}

/// What a Packer run made, and the source images it said it found.
struct Baked {
    amis: std::collections::BTreeMap<Region, AmiId>,
    sources: Vec<AmiId>,
}

/// Runs Packer; the AMI of each region it reports, or `None` in a dry run.
async fn bake(ctx: &Context, settings: &BakeSettings, run: PackerRun<'_>) -> Result<Option<Baked>> {
    let PackerRun {
        template,
        shape,
        mut context,
        ami_name,
    } = run;
    prepare::plugins(ctx, template, shape).await?;
    context.insert(4, ("kiln_ami_name", ami_name));
    let command = packer::build_command(&packer::Build {
        template,
        shape,
        context: &context,
        vars: &settings.vars,
        var_files: &settings.var_files,
        only: settings.only.as_deref(),
    });
    let stream = ctx.ui.stream(
        "packer",
        &format!("packer build {}", template.path.display()),
    );
    let mut artifacts = Vec::new();
    let mut name_taken = None;
    let mut sources: Vec<AmiId> = Vec::new();
    let finished = ctx
        .effects
        .run_tool(command.clone(), |raw| match packer::parse_line(raw) {
            Some(Line::Ui { message, error }) => {
                if let Some(ami) = lineage::found_image(&message)
                    && !sources.contains(&ami)
                {
                    sources.push(ami);
                }
                let message = command.redact(&message);
                if error && name_taken.is_none() {
                    name_taken = packer::name_taken(&message);
                }
                for line in message.lines() {
                    stream.line(line);
                }
                message
            }
            Some(artifact @ Line::Artifact { .. }) => {
                artifacts.push(artifact);
                String::new()
            }
            Some(Line::Other) => String::new(),
            None => {
                let line = command.redact(raw);
                stream.line(&line);
                line
            }
        })
        .await?;
    drop(stream);
    let Some(finished) = finished else {
        return Ok(None);
    };
    if let Some(signal) = finished.interrupted {
        return Err(Error::Interrupted {
            signal: signal.to_string(),
            what: "packer was building (it was stopped and cleaned up; nothing was published)"
                .into(),
        });
    }
    if finished.code != Some(0) {
        if let Some(taken) = name_taken {
            return Err(Error::AmiNameTaken {
                name: taken.name,
                existing: taken.existing,
                tail: finished.tail,
            });
        }
        return Err(Error::ToolFailed {
            tool: "packer".into(),
            code: finished.code,
            tail: finished.tail,
        });
    }
    let amis = packer::amis(&artifacts).map_err(|problem| Error::BadArtifact { problem })?;
    if amis.is_empty() {
        return Err(Error::NoArtifact {
            tail: finished.tail,
        });
    }
    Ok(Some(Baked { amis, sources }))
}

/// A unique, sortable AMI name: app, role, UTC time to the millisecond and the
/// start of the inputs hash (`shop-app-20261123T160954.123Z-eb9ee6fee7b1`).
pub(super) fn ami_name(registry: &Registry, role: Role, hash: &str) -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_millis())
        .unwrap_or(0);
    let seconds: String = Timestamp::now()
        .rfc3339()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let time = format!("{}.{millis:03}Z", seconds.trim_end_matches('Z'));
    let short: String = hash
        .trim_start_matches("sha256:")
        .chars()
        .take(12)
        .collect();
    format!("{}-{role}-{time}-{short}", registry.app())
}

fn outcome(
    ctx: &Context,
    role: Role,
    registry: &Registry,
    hash: &str,
    provenance: &Provenance,
    results: Vec<RegionResult>,
) -> Outcome {
    let primary = &results[0];
    let mut table = Table::new(vec!["REGION", "AMI", "VERSION", "HOW"]);
    for result in &results {
        table.row(vec![
            result.region.to_string(),
            result.ami_id.as_ref().map_or("-".into(), |a| a.to_string()),
            result.version.map_or("-".into(), |v| v.to_string()),
            result.how.as_str().to_string()
                + if result.published {
                    ""
                } else {
                    " (already published)"
                },
        ]);
    }
    let mut step_outputs = vec![
        ("inputs-hash", hash.to_string()),
        ("baked", (primary.how == How::Baked).to_string()),
    ];
    if let Some(ami) = &primary.ami_id {
        step_outputs.push(("ami-id", ami.to_string()));
    }
    if let Some(version) = primary.version {
        step_outputs.push(("version", version.to_string()));
    }
    Outcome {
        done: table.render(&ctx.ui),
        json: json!({
            "role": role,
            "parameter": registry.parameter(role),
            "inputs_hash": hash,
            "baked": primary.how == How::Baked,
            "source_ami": provenance.base_ami,
            "base_version": provenance.base_version,
            "regions": results,
        }),
        summary: Some(format!(
            "**kiln bake {role}**: `{}` version {} in {} ({})",
            primary
                .ami_id
                .as_ref()
                .map_or("(dry run)".into(), |a| a.to_string()),
            primary.version.map_or("-".into(), |v| v.to_string()),
            primary.region,
            primary.how.as_str()
        )),
        step_outputs,
        ..Outcome::default()
    }
}
