//! `kiln bake`'s settings: the role, its Packer template (`--template`, else
//! `[bake]` in kiln.toml), variables and variable files, the base to build on (or
//! none), how old a reused image may be, how strict lineage is, and the wait, each
//! checked before Packer or AWS is asked anything; `--only` (else `[bake.ROLE]
//! only`), the one build of a multi-build template to run.

use std::path::PathBuf;
use std::time::Duration;

use super::{Config, FileReader, parse_count};
use crate::cli::BakeArgs;
use crate::error::{Error, Result, Source};
use crate::model::{ImageRef, Role, Span};

#[derive(Debug, Clone)]
pub struct BakeSettings {
    pub role: Role,
    /// A file or directory that exists.
    pub template: PathBuf,
    /// `--var NAME=VALUE`, in the order given.
    pub vars: Vec<(String, String)>,
    /// `--var-file`, each an existing file.
    pub var_files: Vec<PathBuf>,
    /// For `bake app`: the base reference (`--base`, else `[bake] app_base`, by
    /// default `base`). `None` for a base, and for an app baked with `--base none`.
    pub base: Option<ImageRef>,
    /// `--force`: bake even when an image with the same inputs exists.
    pub force: bool,
    /// `--max-age` (else `[bake] max_age`): an image with the same inputs that is
    /// older than this is baked again.
    pub max_age: Option<Span>,
    /// `--strict-lineage` (or `[bake] strict_lineage`): an app built on another
    /// image than the registry's base fails instead of warning.
    pub strict_lineage: bool,
    /// `--wait`: how long SSM may take to validate each published version.
    pub wait: Duration,
    /// `--only NAME` (else `[bake.ROLE] only`): Packer's `-only`, the one build to run.
    pub only: Option<String>,
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
        Role::App => base(args.base.as_deref(), config)?,
    };
    let max_age = match &args.max_age {
        Some(text) => Some(Span::parse(text, &Source::Flag("--max-age"))?),
        None => config.bake.max_age,
    };
    let only = match &args.only {
        Some(only) => Some(build_name(only, &Source::Flag("--only"))?),
        None => match role {
            Role::Base => config.bake.base_only.clone(),
            Role::App => config.bake.app_only.clone(),
        },
    };
    Ok(BakeSettings {
        only,
        role,
        template,
        vars,
        var_files: args.var_files.clone(),
        base,
        force: args.force,
        max_age,
        strict_lineage: args.strict_lineage || config.bake.strict_lineage,
        wait,
    })
}

/// The base an app is built on: `base`, `base:CHANNEL` or `base:VERSION`, from
/// `--base` or else `[bake] app_base`; `none` (no registry base) is `None`.
fn base(given: Option<&str>, config: &Config) -> Result<Option<ImageRef>> {
    let (text, source) = match (given, &config.bake.app_base) {
        (Some(text), _) => (text, Source::Flag("--base")),
        (None, Some(text)) => (
            text.as_str(),
            Source::File {
                path: config
                    .file
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("kiln.toml")),
                key: "bake.app_base".into(),
            },
        ),
        (None, None) => ("base", Source::Flag("--base")),
    };
    if text == "none" {
        return Ok(None);
    }
    let not_a_base = |value: String, source: Source| Error::InvalidValue {
        source,
        value,
        expected: "a base reference: base, base:CHANNEL or base:VERSION, or none".into(),
    };
    // A malformed reference gets the same message as another role's: what --base takes.
    let reference = match ImageRef::parse(text, &source, &config.channels.all()) {
        Err(Error::InvalidValue { value, source, .. }) => return Err(not_a_base(value, source)),
        other => other?,
    };
    if reference.role != Role::Base {
        return Err(not_a_base(reference.to_string(), source));
    }
    Ok(Some(reference))
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

/// A build name for Packer's `-only` (`amazon-ebs.ubuntu`, `golden.*`): not empty,
/// no spaces, no comma (kiln runs one build).
fn build_name(given: &str, source: &Source) -> Result<String> {
    let bad = given.is_empty() || given.contains(|c: char| c.is_whitespace() || c == ',');
    if bad {
        return Err(Error::InvalidValue {
            source: source.clone(),
            value: given.to_string(),
            expected: "one build name, as Packer names it (e.g. amazon-ebs.ubuntu)".into(),
        });
    }
    Ok(given.to_string())
}

/// `[bake.base]` / `[bake.app]`: `only = "BUILD"`.
pub(super) fn role_table(
    file: &FileReader,
    key: &str,
    value: &toml::Value,
) -> Result<Option<String>> {
    let table = value
        .as_table()
        .ok_or_else(|| file.wrong_type(key, value, "a table with only"))?;
    let mut only = None;
    for (name, value) in table {
        let full = format!("{key}.{name}");
        match name.as_str() {
            "only" => {
                let source = Source::File {
                    path: file.path.to_path_buf(),
                    key: full.clone(),
                };
                only = Some(build_name(file.string(&full, value)?, &source)?);
            }
            _ => return Err(file.unknown_key(&full, &["only"])),
        }
    }
    Ok(only)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_one_build() {
        let source = Source::Flag("--only");
        assert_eq!(
            build_name("amazon-ebs.ubuntu", &source).unwrap(),
            "amazon-ebs.ubuntu"
        );
        assert_eq!(
            build_name("a,b", &source).unwrap_err().to_string(),
            "invalid value `a,b` in --only: expected one build name, as Packer names it (e.g. amazon-ebs.ubuntu)"
        );
        assert!(build_name("", &source).is_err());
    }
}
