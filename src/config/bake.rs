//! `kiln bake`'s settings: the role, its Packer template (`--template`, else
//! `[bake]` in kiln.toml), variables and variable files, the base to build on and
//! the wait, each checked before Packer or AWS is asked anything.

use std::path::PathBuf;
use std::time::Duration;

use super::{Config, parse_count};
use crate::cli::BakeArgs;
use crate::error::{Error, Result, Source};
use crate::model::{ImageRef, Role};

#[derive(Debug, Clone)]
pub struct BakeSettings {
    pub role: Role,
    /// A file or directory that exists.
    pub template: PathBuf,
    /// `--var NAME=VALUE`, in the order given.
    pub vars: Vec<(String, String)>,
    /// `--var-file`, each an existing file.
    pub var_files: Vec<PathBuf>,
    /// For `bake app`: the base reference (`--base`, by default `base`). `None` for a base.
    pub base: Option<ImageRef>,
    /// `--force`: bake even when an image with the same inputs exists.
    pub force: bool,
    /// `--wait`: how long SSM may take to validate each published version.
    pub wait: Duration,
}

pub(super) fn bake(args: &BakeArgs, config: &Config) -> Result<BakeSettings> {
    let role = Role::parse(&args.role, &Source::Argument("ROLE"))?;
    let template = args.template.clone().unwrap_or_else(|| match role {
        Role::Base => config.bake.base_template.clone(),
        Role::App => config.bake.app_template.clone(),
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
    let wait = Duration::from_secs(parse_count(&args.wait, "--wait", "a number of seconds")?);
    let base = match role {
        Role::Base => None,
        Role::App => Some(base(args.base.as_deref(), config)?),
    };
    Ok(BakeSettings {
        role,
        template,
        vars,
        var_files: args.var_files.clone(),
        base,
        force: args.force,
        wait,
    })
}

/// The base an app is built on: `base`, `base:CHANNEL` or `base:VERSION`.
fn base(given: Option<&str>, config: &Config) -> Result<ImageRef> {
    let source = Source::Flag("--base");
    let reference = ImageRef::parse(given.unwrap_or("base"), &source, &config.channels.all())?;
    if reference.role != Role::Base {
        return Err(Error::InvalidValue {
            source,
            value: reference.to_string(),
            expected: "a base reference: base, base:CHANNEL or base:VERSION".into(),
        });
    }
    Ok(reference)
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
