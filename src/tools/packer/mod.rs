//! Packer's side of a bake, as pure functions: the command lines kiln runs
//! (`command`), what a template asks of Packer (`shape`), the parser of
//! `packer build -machine-readable` output and the reading of its errors.
//!
//! Machine-readable lines are `TIMESTAMP,TARGET,TYPE,DATA...`. Commas inside data
//! are written `%!(PACKER_COMMA)` and newlines `\n`, so a plain split on ',' is exact.
//! An AMI artifact is `…,artifact,N,id,REGION:AMI[%!(PACKER_COMMA)REGION:AMI…]`; a
//! manifest post-processor repeats the same id as a second artifact.

pub mod command;
pub mod shape;
pub mod template;

use std::collections::BTreeMap;

pub use command::{Build, Version, build_command, init_command, version_command};

use crate::model::{AmiId, Region};

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

/// A build that failed because its AMI name is taken: the name and the image
/// holding it, when Packer's message says them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTaken {
    pub name: Option<String>,
    pub existing: Option<String>,
}

/// Reads an error line of Packer's: amazon-ebs's own check before building
/// (`AMI Name: 'NAME' is used by an existing AMI: ami-…`), or EC2 refusing
/// CreateImage (`InvalidAMIName.Duplicate: AMI name NAME is already in use by AMI ami-…`).
pub fn name_taken(message: &str) -> Option<NameTaken> {
    if let Some((_, rest)) = message.split_once("AMI Name: '")
        && let Some((name, rest)) = rest.split_once("' is used by an existing AMI")
    {
        let existing = rest
            .trim_start_matches(':')
            .split_whitespace()
            .next()
            .filter(|w| w.starts_with("ami-"))
            .map(String::from);
        return Some(NameTaken {
            name: Some(name.to_string()),
            existing,
        });
    }
    let (_, rest) = message.split_once("InvalidAMIName.Duplicate")?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let after = |key: &str| {
        words
            .windows(2)
            .find(|w| w[0] == key)
            .map(|w| w[1].trim_end_matches(['.', ',']).to_string())
    };
    let existing = words
        .iter()
        .map(|w| w.trim_end_matches(['.', ',', ')']))
        .find(|w| w.starts_with("ami-"))
        .map(String::from);
    Some(NameTaken {
        name: after("name"),
        existing,
    })
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
    fn a_taken_ami_name_is_recognised() {
        // Packer 1.6.6's amazon-ebs, before it starts an instance.
        let prevalidate = "Build 'amazon-ebs.app' errored after 12 milliseconds: Error: AMI Name: 'shop-web' is used by an existing AMI: ami-0f1e2d3c4b5a69788";
        assert_eq!(
            name_taken(prevalidate),
            Some(NameTaken {
                name: Some("shop-web".into()),
                existing: Some("ami-0f1e2d3c4b5a69788".into())
            })
        );
        // EC2's answer to CreateImage, as AWS words it.
        let create = "Error creating AMI: InvalidAMIName.Duplicate: AMI name shop-web is already in use by AMI ami-0f1e2d3c4b5a69788\n\tstatus code: 400";
        assert_eq!(
            name_taken(&unescape(create)),
            Some(NameTaken {
                name: Some("shop-web".into()),
                existing: Some("ami-0f1e2d3c4b5a69788".into())
            })
        );
        assert_eq!(
            name_taken("Error creating AMI: InvalidAMIName.Duplicate"),
            Some(NameTaken {
                name: None,
                existing: None
            })
        );
        assert_eq!(
            name_taken("Error querying AMI: InvalidAMIID.NotFound"),
            None
        );
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
