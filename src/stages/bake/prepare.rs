//! What a bake checks and does before `packer build`: a template that makes
//! several builds is refused unless `--only` picks one (kiln publishes one image
//! per role, and Packer would build them all before kiln could say so), and a
//! template that declares `required_plugins` gets `packer init`, or, with a
//! Packer older than 1.7 (which can read neither), is refused before anything
//! is built.

use std::path::Path;

use crate::config::BakeSettings;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::tools::packer::{self, Line, shape::Shape, template::Template};

/// The template and what it asks of Packer, once it is fit to build: checked
/// before anything is read or built, and before a reuse is even considered.
pub(super) async fn check(settings: &BakeSettings) -> Result<(Template, Shape)> {
    let template = Template::load(&settings.template)?;
    let shape = Shape::read(&template)?;
    refuse_several(&settings.template, settings, &shape)?;
    if shape.required_plugins {
        let version = crate::tools::packer_version().await?;
        if !version.has_init() {
            return Err(Error::PackerTooOld {
                installed: version.text,
            });
        }
    }
    Ok((template, shape))
}

/// Right before `packer build`: the plugins a template requires.
pub(super) async fn plugins(ctx: &Context, template: &Template, shape: &Shape) -> Result<()> {
    if shape.required_plugins {
        init(ctx, template).await?;
    }
    Ok(())
}

fn refuse_several(path: &Path, settings: &BakeSettings, shape: &Shape) -> Result<()> {
    if settings.only.is_none() && shape.builds.len() > 1 {
        return Err(Error::SeveralBuilds {
            template: path.to_path_buf(),
            role: settings.role.to_string(),
            builds: shape.builds.clone(),
        });
    }
    Ok(())
}

/// `packer init`: installs the plugins the template requires (a change, so a
/// dry run shows it in the plan instead).
async fn init(ctx: &Context, template: &Template) -> Result<()> {
    let command = packer::init_command(template);
    let stream = ctx.ui.stream(
        "packer",
        &format!("packer init {}", template.path.display()),
    );
    let finished = ctx
        .effects
        .run_tool(command, |raw| {
            let line = match packer::parse_line(raw) {
                Some(Line::Ui { message, .. }) => message,
                Some(_) => return String::new(),
                None => raw.to_string(),
            };
            stream.line(&line);
            line
        })
        .await?;
    drop(stream);
    match finished {
        Some(finished) if finished.interrupted.is_some() => Err(Error::Interrupted {
            signal: finished.interrupted.unwrap_or("SIGINT").to_string(),
            what: "packer init was installing plugins (nothing was built or published)".into(),
        }),
        Some(finished) if finished.code != Some(0) => Err(Error::ToolFailed {
            tool: "packer".into(),
            code: finished.code,
            tail: finished.tail,
        }),
        _ => Ok(()),
    }
}
