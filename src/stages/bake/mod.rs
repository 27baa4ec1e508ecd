//! `kiln bake base` / `kiln bake app`: a golden image with Packer, published to the
//! registry of every configured region.
//!
//! `bake app` builds on the registry's base (`--base REF`), never on an id passed
//! through a file. Bakes are done once: the inputs hash (template, Ansible tree,
//! variables, source AMI) is tagged on the image, and an available image with the
//! same hash is published again instead of baked. Nothing is published unless
//! Packer succeeded and reported an AMI for the primary region.

use std::path::PathBuf;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

mod regions;

use regions::{Copies, How, RegionResult, publish_new};

use crate::aws::ec2::Image;
use crate::cli::BakeArgs;
use crate::context::Context;
use crate::error::{Error, Result, Source};
use crate::inputs::BakeInputs;
use crate::model::{AmiId, ImageRef, Region, Role, Timestamp, Version};
use crate::provenance::Provenance;
use crate::registry::Registry;
use crate::report::{Outcome, Table};
use crate::tools::packer::{self, Line};

pub async fn run(ctx: &Context, args: &BakeArgs) -> Result<Outcome> {
    let role = Role::parse(&args.role, &Source::Argument("ROLE"))?;
    let template = args.template.clone().unwrap_or_else(|| match role {
        Role::Base => ctx.config.bake.base_template.clone(),
        Role::App => ctx.config.bake.app_template.clone(),
    });
    if !template.exists() {
        return Err(Error::TemplateNotFound {
            path: template,
            role: role.to_string(),
        });
    }
    let vars = parse_vars(&args.vars)?;
    for file in &args.var_files {
        if !file.is_file() {
            return Err(Error::InputMissing {
                path: file.clone(),
                what: "variable file",
                flag: "--var-file",
            });
        }
    }
    let wait = Duration::from_secs(super::parse_count(
        &args.wait,
        "--wait",
        "a number of seconds",
    )?);
    let region = ctx.region();
    let registry = ctx.registry(&region)?;

    let base = match role {
        Role::Base => None,
        Role::App => resolve_base(ctx, &registry, args.base.as_deref()).await?,
    };
    let source_ami = base.as_ref().map(|(ami, _)| ami.clone());
    let hash = BakeInputs {
        role,
        source_ami: source_ami.as_ref(),
        template: &template,
        ansible: &ctx.config.bake.ansible,
        vars: &vars,
        var_files: &args.var_files,
        environment: &inherited_packer_vars(),
    }
    .hash()?;
    let provenance = Provenance {
        inputs_hash: Some(hash.clone()),
        base_ami: source_ami.clone(),
        base_version: base.as_ref().map(|(_, v)| *v),
        ..Provenance::from_ci(&|name| std::env::var(name).ok())
    };

    // Bake once: an image with these inputs is published again, not baked again.
    let earlier = match args.force {
        true => None,
        false => ctx
            .effects
            .read(
                format!(
                    "ec2:DescribeImages tagged {}={hash} in {region}",
                    crate::provenance::tag::INPUTS_HASH
                ),
                registry.baked_with(role, &hash),
            )
            .await?
            .flatten(),
    };
    let (primary, artifacts) =
        match earlier {
            Some(image) => {
                ctx.ui.note(format!(
                "inputs unchanged since {} was baked ({hash}); not baking (--force bakes anyway)",
                image.id
            ));
                (Some(image), Default::default())
            }
            None => {
                let artifacts = bake(
                    ctx,
                    &registry,
                    role,
                    &template,
                    &vars,
                    &args.var_files,
                    &source_ami,
                    &hash,
                )
                .await?;
                let primary =
                    match &artifacts {
                        Some(amis) => Some(amis.get(&region).cloned().ok_or_else(|| {
                            Error::BadArtifact {
                                problem: format!(
                                    "Packer built in {} but not in the primary region {region}",
                                    amis.keys()
                                        .map(Region::to_string)
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            }
                        })?),
                        None => None,
                    };
                let image = primary.map(|id| Image {
                    id,
                    name: None,
                    state: "available".into(),
                    created: None,
                    tags: Default::default(),
                    snapshots: Vec::new(),
                });
                (image, artifacts.unwrap_or_default())
            }
        };
    let how = if artifacts.is_empty() && primary.is_some() {
        How::Reused
    } else {
        How::Baked
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
    ctx: &Context,
    registry: &Registry,
    given: Option<&str>,
) -> Result<Option<(AmiId, Version)>> {
    let source = Source::Flag("--base");
    let reference = ImageRef::parse(given.unwrap_or("base"), &source, &ctx.config.channels.all())?;
    if reference.role != Role::Base {
        return Err(Error::InvalidValue {
            source,
            value: reference.to_string(),
            expected: "a base reference: base, base:CHANNEL or base:VERSION".into(),
        });
    }
    let what = format!(
        "ssm:GetParameter {reference} of {}",
        registry.parameter(Role::Base)
    );
    let entry = ctx.effects.read(what, registry.resolve(&reference)).await?;
    Ok(entry.map(|e| (e.ami_id, e.version)))
}

/// Runs Packer; the AMI of each region it reports, or `None` in a dry run.
#[allow(clippy::too_many_arguments)]
async fn bake(
    ctx: &Context,
    registry: &Registry,
    role: Role,
    template: &std::path::Path,
    vars: &[(String, String)],
    var_files: &[PathBuf],
    source_ami: &Option<AmiId>,
    hash: &str,
) -> Result<Option<std::collections::BTreeMap<Region, AmiId>>> {
    let ci = Provenance::from_ci(&|name| std::env::var(name).ok());
    let mut context = vec![
        ("kiln_app", registry.app().to_string()),
        ("kiln_role", role.to_string()),
        ("kiln_region", registry.region().to_string()),
        (
            "kiln_source_ami",
            source_ami
                .as_ref()
                .map(AmiId::to_string)
                .unwrap_or_default(),
        ),
        ("kiln_ami_name", ami_name(registry, role, hash)),
        ("kiln_git_sha", ci.git_sha.unwrap_or_default()),
        ("kiln_build_url", ci.build_url.unwrap_or_default()),
    ];
    if let Some(endpoint) = ctx.endpoint() {
        context.push(("kiln_ec2_endpoint", endpoint.to_string()));
    }
    let command = packer::build_command(template, &context, vars, var_files);
    let stream = ctx
        .ui
        .stream("packer", &format!("packer build {}", template.display()));
    let mut artifacts = Vec::new();
    let finished = ctx
        .effects
        .run_tool(command.clone(), |raw| match packer::parse_line(raw) {
            Some(Line::Ui { message, .. }) => {
                let message = command.redact(&message);
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
    Ok(Some(amis))
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

/// `PKR_VAR_*` variables kiln inherits (they change the build, so they are inputs);
/// kiln's own `PKR_VAR_kiln_*` are set by kiln and left out.
fn inherited_packer_vars() -> Vec<(String, String)> {
    std::env::vars()
        .filter_map(|(name, value)| {
            let var = name.strip_prefix("PKR_VAR_")?;
            (!var.starts_with("kiln_")).then(|| (var.to_string(), value))
        })
        .collect()
}

/// `--var NAME=VALUE` pairs.
fn parse_vars(given: &[String]) -> Result<Vec<(String, String)>> {
    given
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
            _ => Err(Error::InvalidValue {
                source: Source::Flag("--var"),
                value: pair.clone(),
                expected: "NAME=VALUE".into(),
            }),
        })
        .collect()
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
    let text = if ctx.effects.dry_run() {
        String::new()
    } else {
        table.render(&ctx.ui)
    };
    Outcome {
        failure: None,
        text,
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
    }
}
