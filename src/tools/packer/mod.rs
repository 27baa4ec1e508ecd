//! Packer's side of a bake, as pure functions: the command line kiln runs and the
//! parser of `packer build -machine-readable` output.
//!
//! Machine-readable lines are `TIMESTAMP,TARGET,TYPE,DATA...`. Commas inside data
//! are written `%!(PACKER_COMMA)` and newlines `\n`, so a plain split on ',' is exact.
//! An AMI artifact is `…,artifact,N,id,REGION:AMI[%!(PACKER_COMMA)REGION:AMI…]`; a
//! manifest post-processor repeats the same id as a second artifact.

pub mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{ToolCommand, looks_secret};
use crate::model::{AmiId, Region};

/// The `packer build` command line. kiln's context goes in as `PKR_VAR_kiln_*`
/// environment variables, which Packer ignores when a template does not declare
/// them (a `-var` for an undeclared name is an error); the user's `--var` and
/// `--var-file` are passed through. Values of secret-looking variables are marked
/// so they are never shown.
pub fn build_command(
    template: &Path,
    context: &[(&str, String)],
    vars: &[(String, String)],
    var_files: &[PathBuf],
) -> ToolCommand {
    let mut args = vec!["build".to_string(), "-machine-readable".to_string()];
    for file in var_files {
        args.push(format!("-var-file={}", file.display()));
    }
    let mut env = vec![("CHECKPOINT_DISABLE".to_string(), "1".to_string())];
    env.extend(
        context
            .iter()
            .map(|(name, value)| (format!("PKR_VAR_{name}"), value.clone())),
    );
    for (name, value) in vars {
        if looks_secret(name) {
            // Not on the command line, where `ps` shows it to every user of the machine.
            env.push((format!("PKR_VAR_{name}"), value.clone()));
        } else {
            args.push("-var".to_string());
            args.push(format!("{name}={value}"));
        }
    }
    args.push(template.display().to_string());
    let secrets = vars
        .iter()
        .filter(|(name, value)| looks_secret(name) && !value.is_empty())
        .map(|(_, value)| value.clone())
        .collect();
    ToolCommand {
        program: "packer".into(),
        args,
        env,
        dir: None,
        secrets,
    }
}

/// One parsed line of machine-readable output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Something Packer shows a person (`ui,say|message|error`), unescaped.
    Ui { error: bool, message: String },
    /// One field of an artifact: `artifact,INDEX,KEY,VALUE`.
    Artifact {
        target: String,
        index: u32,
        key: String,
        value: String,
    },
    /// Anything else (`ui` machine lines kiln does not use, `artifact-count`, …).
    Other,
}

/// Undoes Packer's escaping of commas and newlines.
pub fn unescape(text: &str) -> String {
    text.replace("%!(PACKER_COMMA)", ",")
        .replace("\\n", "\n")
        .replace("\\r", "")
}

/// Parses one line; `None` for lines that are not machine-readable (Packer prints a
/// few plain lines, e.g. when it fails before starting).
pub fn parse_line(line: &str) -> Option<Line> {
    let mut fields = line.trim_end_matches(['\r', '\n']).splitn(4, ',');
    let timestamp = fields.next()?;
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let target = fields.next()?.to_string();
    let kind = fields.next()?;
    let data = fields.next().unwrap_or("");
    Some(match kind {
        "ui" => {
            let (level, message) = data.split_once(',').unwrap_or((data, ""));
            match level {
                "say" | "message" | "error" => Line::Ui {
                    error: level == "error",
                    message: unescape(message),
                },
                _ => Line::Other,
            }
        }
        "artifact" => {
            let mut parts = data.splitn(3, ',');
            let index = parts.next().and_then(|i| i.parse().ok());
            let key = parts.next();
            match (index, key) {
                (Some(index), Some(key)) => Line::Artifact {
                    target,
                    index,
                    key: key.to_string(),
                    value: parts.next().unwrap_or("").to_string(),
                },
                _ => Line::Other,
            }
        }
        _ => Line::Other,
    })
}

/// The AMI of each region in the artifacts' `id` fields. Repeats (a manifest
/// post-processor) collapse; two different AMIs for one region are an error, as are
/// ids that are not `REGION:AMI`.
pub fn amis(lines: &[Line]) -> Result<BTreeMap<Region, AmiId>, String> {
    let mut found: BTreeMap<Region, AmiId> = BTreeMap::new();
    for line in lines {
        let Line::Artifact { key, value, .. } = line else {
            continue;
        };
        if key != "id" {
            continue;
        }
        for pair in value.split("%!(PACKER_COMMA)").filter(|p| !p.is_empty()) {
            let Some((region, ami)) = pair.split_once(':') else {
                if pair.starts_with("ami-") {
                    return Err(format!("artifact id `{pair}` is not REGION:AMI"));
                }
                // Not an image (the null builder's `Null`, a file path, …).
                continue;
            };
            let source = crate::error::Source::Argument("artifact id");
            let region = Region::parse(region, &source).map_err(|e| e.to_string())?;
            let ami = AmiId::parse(ami, &source).map_err(|e| e.to_string())?;
            match found.get(&region) {
                Some(existing) if existing != &ami => {
                    return Err(format!(
                        "Packer reported two AMIs for {region}: {existing} and {ami}"
                    ));
                }
                _ => {
                    found.insert(region, ami);
                }
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(text: &str) -> Vec<Line> {
        text.lines().filter_map(parse_line).collect()
    }

    fn region(name: &str) -> Region {
        Region::from_aws(name)
    }

    // Lines as Packer 1.6.6 prints them against the emulator (trimmed of the build's
    // middle); the artifact lines are copied from real runs.
    const SINGLE: &str = "\
1795444879,,ui,say,==> amazon-ebs.web: Creating AMI kiln-shop-base-20261123 from instance i-1
1795444880,amazon-ebs.web,artifact-count,1
1795444880,amazon-ebs.web,artifact,0,builder-id,mitchellh.amazonebs
1795444880,amazon-ebs.web,artifact,0,id,us-east-1:ami-69636236bd55116cb
1795444880,amazon-ebs.web,artifact,0,string,AMIs were created:\\nus-east-1: ami-69636236bd55116cb\\n
1795444880,amazon-ebs.web,artifact,0,files-count,0
1795444880,amazon-ebs.web,artifact,0,end
1795444880,,ui,say,--> amazon-ebs.web: AMIs were created:\\nus-east-1: ami-69636236bd55116cb\\n
";

    #[test]
    fn the_command_line_passes_context_by_environment_and_user_vars_through() {
        let command = build_command(
            Path::new("packer/app.pkr.hcl"),
            &[("kiln_app", "shop".to_string())],
            &[
                ("size".into(), "t3.small".into()),
                ("db_password".into(), "hunter2".into()),
            ],
            &[PathBuf::from("prod.pkrvars.hcl")],
        );
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
    }

    #[test]
    fn one_region() {
        let lines = parse_all(SINGLE);
        assert_eq!(
            amis(&lines).unwrap(),
            BTreeMap::from([(
                region("us-east-1"),
                AmiId::from_aws("ami-69636236bd55116cb")
            )])
        );
        assert_eq!(
            lines[0],
            Line::Ui {
                error: false,
                message:
                    "==> amazon-ebs.web: Creating AMI kiln-shop-base-20261123 from instance i-1"
                        .into()
            }
        );
        assert!(
            matches!(&lines[7], Line::Ui { message, .. } if message.contains("created:\nus-east-1"))
        );
    }

    #[test]
    fn several_regions_joined_by_packer_comma() {
        let text = "1795444880,amazon-ebs.web,artifact,0,id,eu-west-1:ami-0aaaaaaaaaaaaaaaa%!(PACKER_COMMA)us-east-1:ami-0bbbbbbbbbbbbbbbb\n";
        let found = amis(&parse_all(text)).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[&region("eu-west-1")].as_str(),
            "ami-0aaaaaaaaaaaaaaaa"
        );
        assert_eq!(
            found[&region("us-east-1")].as_str(),
            "ami-0bbbbbbbbbbbbbbbb"
        );
    }

    #[test]
    fn a_manifest_post_processor_repeats_the_id() {
        let text = "\
1795444880,amazon-ebs.web,artifact-count,2
1795444880,amazon-ebs.web,artifact,0,id,us-east-1:ami-69636236bd55116cb
1795444880,amazon-ebs.web,artifact,1,builder-id,packer.post-processor.manifest
1795444880,amazon-ebs.web,artifact,1,id,us-east-1:ami-69636236bd55116cb
";
        let found = amis(&parse_all(text)).unwrap();
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn an_error_is_a_ui_error_line_and_yields_no_ami() {
        let text = "\
1795444870,,ui,error,Build 'amazon-ebs.web' errored after 1 second 2 milliseconds: Error querying AMI: InvalidAMIID.NotFound%!(PACKER_COMMA) no such image
1795444870,,ui,error,\\n==> Some builds didn't complete successfully and had errors:
";
        let lines = parse_all(text);
        assert_eq!(
            lines[0],
            Line::Ui {
                error: true,
                message: "Build 'amazon-ebs.web' errored after 1 second 2 milliseconds: Error querying AMI: InvalidAMIID.NotFound, no such image".into()
            }
        );
        assert!(amis(&lines).unwrap().is_empty());
    }

    #[test]
    fn no_artifact_and_plain_lines() {
        assert_eq!(parse_line("Error: Failed to parse file"), None);
        assert_eq!(parse_line(""), None);
        assert_eq!(
            parse_line("1795444880,,ui,say,"),
            Some(Line::Ui {
                error: false,
                message: String::new()
            })
        );
        assert!(
            amis(&parse_all("1795444880,amazon-ebs.web,artifact-count,0\n"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn artifacts_of_other_builders_are_not_amis() {
        let null = "\
1795450166,null.none,artifact-count,1
1795450166,null.none,artifact,0,builder-id,fnoeding.null
1795450166,null.none,artifact,0,id,Null
1795450166,null.none,artifact,0,string,Did not export anything. This is the null builder
";
        assert!(amis(&parse_all(null)).unwrap().is_empty());
    }

    #[test]
    fn malformed_and_conflicting_ids_are_errors() {
        let bad = amis(&parse_all("1,b,artifact,0,id,ami-12345678\n")).unwrap_err();
        assert_eq!(bad, "artifact id `ami-12345678` is not REGION:AMI");
        let twice =
            "1,b,artifact,0,id,us-east-1:ami-11111111\n1,b,artifact,1,id,us-east-1:ami-22222222\n";
        assert_eq!(
            amis(&parse_all(twice)).unwrap_err(),
            "Packer reported two AMIs for us-east-1: ami-11111111 and ami-22222222"
        );
    }
}
