//! The Packer command lines kiln runs, as pure functions: `packer build`,
//! `packer init` and `packer version` (with the parser of its answer).
//!
//! kiln's context reaches an HCL2 template as `PKR_VAR_kiln_*` environment
//! variables, which Packer ignores when the template does not declare them. A
//! legacy JSON template reads no `PKR_VAR_*`: it gets `-var NAME=VALUE` for each
//! variable it declares (an undeclared `-var` fails the build), and secret values
//! go in a JSON `-var-file` that `tools::run` writes, mode 0600, into a private
//! directory for the run only; they never appear on the command line, where `ps`
//! shows them to every user of the machine.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::shape::Shape;
use super::template::{Format, Template};
use crate::tools::{PRIVATE_DIR, PrivateFile, ToolCommand, looks_secret};

/// The name of the variable file holding a JSON template's secret values.
pub const SECRETS_FILE: &str = "kiln-secrets.json";

/// What a bake hands Packer.
#[derive(Debug, Clone, Copy)]
pub struct Build<'a> {
    pub template: &'a Template,
    pub shape: &'a Shape,
    /// kiln's `kiln_*` variables.
    pub context: &'a [(&'a str, String)],
    /// The user's `--var`, in order.
    pub vars: &'a [(String, String)],
    pub var_files: &'a [PathBuf],
    /// `--only`: the one build to run.
    pub only: Option<&'a str>,
}

/// The `packer build` command line.
pub fn build_command(build: &Build) -> ToolCommand {
    let Build {
        template,
        shape,
        context,
        vars,
        var_files,
        only,
    } = *build;
    let secret = |name: &str| looks_secret(name) || shape.sensitive.contains(name);
    let mut args = vec!["build".to_string(), "-machine-readable".to_string()];
    for file in var_files {
        args.push(format!("-var-file={}", file.display()));
    }
    if let Some(only) = only {
        args.push(format!("-only={only}"));
    }
    let mut env = vec![("CHECKPOINT_DISABLE".to_string(), "1".to_string())];
    let mut plain: Vec<(String, String)> = Vec::new();
    let mut hidden: BTreeMap<String, String> = BTreeMap::new();
    match template.format {
        Format::Hcl => {
            env.extend(
                context
                    .iter()
                    .map(|(name, value)| (format!("PKR_VAR_{name}"), value.clone())),
            );
            for (name, value) in vars {
                if secret(name) {
                    env.push((format!("PKR_VAR_{name}"), value.clone()));
                } else {
                    plain.push((name.clone(), value.clone()));
                }
            }
        }
        Format::Json => {
            let declared = context
                .iter()
                .filter(|(name, _)| shape.variables.contains(*name))
                .map(|(name, value)| (name.to_string(), value.clone()));
            for (name, value) in declared.chain(vars.iter().cloned()) {
                if secret(&name) {
                    hidden.insert(name, value);
                } else {
                    plain.push((name, value));
                }
            }
        }
    }
    let mut private_files = Vec::new();
    if !hidden.is_empty() {
        args.push(format!("-var-file={PRIVATE_DIR}/{SECRETS_FILE}"));
        private_files.push(PrivateFile {
            name: SECRETS_FILE.to_string(),
            contents: serde_json::to_string_pretty(&hidden).expect("strings serialize"),
        });
    }
    for (name, value) in plain {
        args.push("-var".to_string());
        args.push(format!("{name}={value}"));
    }
    args.push(template.path.display().to_string());
    let secrets = vars
        .iter()
        .filter(|(name, value)| secret(name) && !value.is_empty())
        .map(|(_, value)| value.clone())
        .collect();
    ToolCommand {
        program: "packer".into(),
        args,
        env,
        dir: None,
        secrets,
        private_files,
    }
}

/// `packer init TEMPLATE`: installs the plugins a template requires (Packer ≥ 1.7).
pub fn init_command(template: &Template) -> ToolCommand {
    ToolCommand {
        program: "packer".into(),
        args: vec!["init".into(), template.path.display().to_string()],
        env: vec![("CHECKPOINT_DISABLE".into(), "1".into())],
        ..ToolCommand::default()
    }
}

/// `packer version`.
pub fn version_command() -> ToolCommand {
    ToolCommand {
        program: "packer".into(),
        args: vec!["version".into()],
        env: vec![("CHECKPOINT_DISABLE".into(), "1".into())],
        ..ToolCommand::default()
    }
}

/// An installed Packer's version, as `packer version` says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// As printed, without the `v` (`1.6.6`, `1.11.0-dev`).
    pub text: String,
}

impl Version {
    /// Parses `Packer v1.6.6` (the first line; later lines say whether it is
    /// out of date), also `1.10.0` alone and suffixes such as `-dev`.
    pub fn parse(output: &str) -> Option<Self> {
        let word = output
            .split_whitespace()
            .map(|w| w.strip_prefix('v').unwrap_or(w))
            .find(|w| w.starts_with(|c: char| c.is_ascii_digit()) && w.contains('.'))?;
        let mut numbers = word
            .split(|c: char| !c.is_ascii_digit())
            .map(|n| n.parse::<u32>());
        let major = numbers.next()?.ok()?;
        let minor = numbers.next()?.ok()?;
        let patch = numbers.next().and_then(|n| n.ok()).unwrap_or(0);
        Some(Self {
            major,
            minor,
            patch,
            text: word.to_string(),
        })
    }

    /// Whether this Packer reads `required_plugins` and has `packer init` (1.7+).
    pub fn has_init(&self) -> bool {
        (self.major, self.minor) >= (1, 7)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn hcl() -> Template {
        Template {
            path: PathBuf::from("packer/app.pkr.hcl"),
            format: Format::Hcl,
            files: vec![PathBuf::from("packer/app.pkr.hcl")],
        }
    }

    fn json() -> Template {
        Template {
            path: PathBuf::from("packer/web.json"),
            format: Format::Json,
            files: vec![PathBuf::from("packer/web.json")],
        }
    }

    #[test]
    fn hcl_gets_the_context_by_environment_and_user_vars_through() {
        let command = build_command(&Build {
            template: &hcl(),
            shape: &Shape::default(),
            context: &[("kiln_app", "shop".to_string())],
            vars: &[
                ("size".into(), "t3.small".into()),
                ("db_password".into(), "hunter2".into()),
            ],
            var_files: &[PathBuf::from("prod.pkrvars.hcl")],
            only: None,
        });
        assert_eq!(
            command.to_string(),
            "CHECKPOINT_DISABLE=1 PKR_VAR_kiln_app=shop 'PKR_VAR_db_password=<redacted>' packer build -machine-readable -var-file=prod.pkrvars.hcl -var size=t3.small packer/app.pkr.hcl"
        );
        assert!(
            command
                .env
                .contains(&("PKR_VAR_db_password".into(), "hunter2".into())),
            "the real value reaches Packer, through the environment"
        );
        assert!(!command.args.iter().any(|a| a.contains("hunter2")));
        assert!(command.private_files.is_empty());
    }

    #[test]
    fn json_gets_declared_context_as_var_and_secrets_in_a_private_var_file() {
        let shape = Shape {
            builds: vec!["amazon-ebs".into()],
            variables: [
                "kiln_ami_name",
                "kiln_source_ami",
                "api_token",
                "vault_addr",
            ]
            .map(String::from)
            .into(),
            sensitive: ["vault_addr".to_string()].into(),
            ..Shape::default()
        };
        let command = build_command(&Build {
            template: &json(),
            shape: &shape,
            context: &[
                ("kiln_app", "shop".to_string()),
                ("kiln_ami_name", "shop-app-1".to_string()),
                ("kiln_source_ami", "ami-0abc".to_string()),
            ],
            vars: &[
                ("api_token".into(), "tok-s3cret".into()),
                ("vault_addr".into(), "https://vault.internal".into()),
                ("size".into(), "small".into()),
            ],
            var_files: &[],
            only: Some("amazon-ebs"),
        });
        assert_eq!(
            command.to_string(),
            "CHECKPOINT_DISABLE=1 packer build -machine-readable -only=amazon-ebs '-var-file={private}/kiln-secrets.json' -var kiln_ami_name=shop-app-1 -var kiln_source_ami=ami-0abc -var size=small packer/web.json"
        );
        assert_eq!(command.private_files.len(), 1);
        let file = &command.private_files[0];
        assert_eq!(file.name, "kiln-secrets.json");
        let values: BTreeMap<String, String> = serde_json::from_str(&file.contents).unwrap();
        assert_eq!(
            values,
            BTreeMap::from([
                ("api_token".into(), "tok-s3cret".into()),
                ("vault_addr".into(), "https://vault.internal".into()),
            ])
        );
        let argv = command.args.join(" ");
        assert!(!argv.contains("s3cret") && !argv.contains("vault.internal"));
        assert!(!command.env.iter().any(|(k, _)| k.starts_with("PKR_VAR_")));
        assert_eq!(command.redact("token tok-s3cret"), "token <redacted>");
    }

    #[test]
    fn json_without_secrets_has_no_var_file() {
        let shape = Shape {
            variables: ["kiln_region".to_string()].into(),
            ..Shape::default()
        };
        let command = build_command(&Build {
            template: &json(),
            shape: &shape,
            context: &[
                ("kiln_app", "shop".to_string()),
                ("kiln_region", "eu-west-1".to_string()),
            ],
            vars: &[],
            var_files: &[],
            only: None,
        });
        assert_eq!(
            command.args,
            [
                "build",
                "-machine-readable",
                "-var",
                "kiln_region=eu-west-1",
                "packer/web.json"
            ]
        );
        assert!(command.private_files.is_empty());
    }

    #[test]
    fn init_and_version_command_lines() {
        let template = Template::load(Path::new("packer/base.pkr.hcl")).unwrap();
        assert_eq!(
            init_command(&template).to_string(),
            "CHECKPOINT_DISABLE=1 packer init packer/base.pkr.hcl"
        );
        assert_eq!(
            version_command().to_string(),
            "CHECKPOINT_DISABLE=1 packer version"
        );
    }

    #[test]
    fn versions_parse_and_compare() {
        let debian = Version::parse("Packer v1.6.6\n").unwrap();
        assert_eq!((debian.major, debian.minor, debian.patch), (1, 6, 6));
        assert_eq!(debian.text, "1.6.6");
        assert!(!debian.has_init());
        let newer = Version::parse(
            "Packer v1.11.2\n\nYour version of Packer is out of date! The latest version\nis 1.12.0.",
        )
        .unwrap();
        assert_eq!(newer.text, "1.11.2");
        assert!(newer.has_init(), "1.11 > 1.7 (numbers, not text)");
        assert!(Version::parse("Packer v1.7.0-dev").unwrap().has_init());
        assert!(Version::parse("1.7").unwrap().has_init());
        assert!(Version::parse("Packer v2.0.0").unwrap().has_init());
        assert!(!Version::parse("Packer v0.12.3").unwrap().has_init());
        assert_eq!(Version::parse("command not found"), None);
        assert_eq!(Version::parse(""), None);
    }
}
