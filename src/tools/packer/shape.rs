//! What a template asks of Packer, read before Packer runs: the builds it makes
//! (kiln bakes one image per role, so a template with several is refused unless
//! `--only` picks one), whether it declares `required_plugins` (Packer ≥ 1.7 and
//! `packer init`), and, for the legacy JSON format, the variables it declares
//! (Packer fails on a `-var` for an undeclared variable, and legacy JSON templates
//! do not read `PKR_VAR_*`).
//!
//! Build names are Packer's: `TYPE.NAME` for an HCL2 source (`NAME` being an
//! inline source block's `name`, if set), prefixed `BUILD.` when the `build`
//! block has a literal `name`; a JSON builder's `name`, else its `type`.

use std::collections::BTreeSet;
use std::path::Path;

use super::template::{Format, Template};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// The builds `packer build` would run, in template order.
    pub builds: Vec<String>,
    /// A `packer { required_plugins { … } }` block is declared.
    pub required_plugins: bool,
    /// Legacy JSON only: the declared variables (`variables`), and those listed
    /// in `sensitive-variables`.
    pub variables: BTreeSet<String>,
    pub sensitive: BTreeSet<String>,
}

impl Shape {
    /// Reads the template's files (variable files are skipped: they declare nothing).
    pub fn read(template: &Template) -> Result<Self> {
        let mut shape = Shape::default();
        for file in &template.files {
            let name = file.to_string_lossy();
            if name.ends_with(".pkrvars.hcl") || name.ends_with(".pkrvars.json") {
                continue;
            }
            let text = std::fs::read_to_string(file).map_err(|e| Error::Io {
                path: file.clone(),
                message: format!("cannot read the template: {e}"),
            })?;
            let unreadable = |problem: String| Error::Io {
                path: file.clone(),
                message: format!("cannot read the template: {problem}"),
            };
            match template.format {
                Format::Json => shape.legacy_json(&text).map_err(unreadable)?,
                Format::Hcl if name.ends_with(".pkr.json") => {
                    shape.hcl_json(&text).map_err(unreadable)?
                }
                Format::Hcl => shape.hcl(&text).map_err(unreadable)?,
            }
        }
        Ok(shape)
    }

    fn legacy_json(&mut self, text: &str) -> std::result::Result<(), String> {
        let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if let Some(variables) = doc.get("variables").and_then(|v| v.as_object()) {
            self.variables.extend(variables.keys().cloned());
        }
        if let Some(names) = doc.get("sensitive-variables").and_then(|v| v.as_array()) {
            self.sensitive
                .extend(names.iter().filter_map(|n| n.as_str().map(String::from)));
        }
        for builder in doc
            .get("builders")
            .and_then(|b| b.as_array())
            .into_iter()
            .flatten()
        {
            let name = builder
                .get("name")
                .or_else(|| builder.get("type"))
                .and_then(|n| n.as_str())
                .unwrap_or("?");
            self.builds.push(name.to_string());
        }
        Ok(())
    }

    fn hcl(&mut self, text: &str) -> std::result::Result<(), String> {
        let body = hcl::parse(text).map_err(|e| e.to_string())?;
        for block in body.blocks() {
            match block.identifier() {
                "packer" => {
                    self.required_plugins |= block
                        .body()
                        .blocks()
                        .any(|b| b.identifier() == "required_plugins")
                }
                "build" => {
                    let prefix = literal(block.body(), "name");
                    for attribute in block.body().attributes() {
                        if attribute.key() != "sources" {
                            continue;
                        }
                        if let hcl::Expression::Array(items) = attribute.expr() {
                            for item in items {
                                if let hcl::Expression::String(source) = item {
                                    self.push_source(prefix.as_deref(), source, None);
                                }
                            }
                        }
                    }
                    for inline in block.body().blocks() {
                        if inline.identifier() != "source" {
                            continue;
                        }
                        if let Some(label) = inline.labels().first() {
                            let name = literal(inline.body(), "name");
                            self.push_source(prefix.as_deref(), label.as_str(), name.as_deref());
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// HCL2 in JSON syntax: `{"packer": {"required_plugins": …}, "build": {"sources": […]}}`
    /// (blocks may also be arrays of objects).
    fn hcl_json(&mut self, text: &str) -> std::result::Result<(), String> {
        let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let each = |value: Option<&serde_json::Value>| -> Vec<serde_json::Value> {
            match value {
                Some(serde_json::Value::Array(items)) => items.clone(),
                Some(other) => vec![other.clone()],
                None => Vec::new(),
            }
        };
        for packer in each(doc.get("packer")) {
            self.required_plugins |= packer.get("required_plugins").is_some();
        }
        for build in each(doc.get("build")) {
            let prefix = build.get("name").and_then(|n| n.as_str()).map(String::from);
            for source in each(build.get("sources")) {
                if let Some(source) = source.as_str() {
                    self.push_source(prefix.as_deref(), source, None);
                }
            }
        }
        Ok(())
    }

    /// `source.TYPE.NAME` (or `TYPE.NAME`), renamed by an inline block's `name`.
    fn push_source(&mut self, prefix: Option<&str>, source: &str, rename: Option<&str>) {
        let source = source.strip_prefix("source.").unwrap_or(source);
        let name = match (rename, source.split_once('.')) {
            (Some(rename), Some((kind, _))) => format!("{kind}.{rename}"),
            _ => source.to_string(),
        };
        self.builds.push(match prefix {
            Some(prefix) => format!("{prefix}.{name}"),
            None => name,
        });
    }
}

/// A body's attribute when it is a plain string.
fn literal(body: &hcl::Body, key: &str) -> Option<String> {
    body.attributes()
        .find(|a| a.key() == key)
        .and_then(|a| match a.expr() {
            hcl::Expression::String(text) => Some(text.clone()),
            _ => None,
        })
}

/// For tests and callers that have only a path.
pub fn read(path: &Path) -> Result<Shape> {
    Shape::read(&Template::load(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kiln-shape-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in files {
            std::fs::write(dir.join(file), text).unwrap();
        }
        dir
    }

    #[test]
    fn hcl_builds_plugins_and_split_files() {
        let dir = scratch(
            "hcl",
            &[
                (
                    "plugins.pkr.hcl",
                    "packer {\n  required_plugins {\n    amazon = {\n      version = \">= 1.2.8\"\n      source  = \"github.com/hashicorp/amazon\"\n    }\n  }\n}\n",
                ),
                (
                    "sources.pkr.hcl",
                    "source \"amazon-ebs\" \"jammy\" {\n  region = var.region\n}\nsource \"amazon-ebs\" \"noble\" {\n  region = var.region\n}\n",
                ),
                (
                    "build.pkr.hcl",
                    "build {\n  name    = \"golden\"\n  sources = [\n    \"source.amazon-ebs.jammy\",\n    \"source.amazon-ebs.noble\",\n  ]\n  source \"source.amazon-ebs.jammy\" {\n    name = \"jammy-arm\"\n  }\n  provisioner \"shell\" {\n    inline = [\"true\"]\n  }\n}\n",
                ),
                ("prod.auto.pkrvars.hcl", "region = \"us-east-1\"\n"),
            ],
        );
        let shape = read(&dir).unwrap();
        assert!(shape.required_plugins);
        assert_eq!(
            shape.builds,
            [
                "golden.amazon-ebs.jammy",
                "golden.amazon-ebs.noble",
                "golden.amazon-ebs.jammy-arm"
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unnamed_build_and_no_plugins() {
        let dir = scratch(
            "one",
            &[(
                "app.pkr.hcl",
                "build {\n  source \"source.amazon-ebs.ubuntu\" {\n    name = \"base\"\n  }\n}\n",
            )],
        );
        let shape = read(&dir.join("app.pkr.hcl")).unwrap();
        assert_eq!(shape.builds, ["amazon-ebs.base"]);
        assert!(!shape.required_plugins);
        assert!(shape.variables.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn legacy_json_variables_and_builders() {
        let dir = scratch(
            "json",
            &[(
                "web.json",
                r#"{
  "variables": {"aws_region": "us-east-1", "db_password": "", "kiln_ami_name": ""},
  "sensitive-variables": ["db_password"],
  "builders": [
    {"type": "amazon-ebs", "region": "{{user `aws_region`}}"},
    {"type": "amazon-ebs", "name": "web-arm", "region": "{{user `aws_region`}}"}
  ]
}"#,
            )],
        );
        let shape = read(&dir.join("web.json")).unwrap();
        assert_eq!(shape.builds, ["amazon-ebs", "web-arm"]);
        assert_eq!(
            shape.variables.iter().collect::<Vec<_>>(),
            ["aws_region", "db_password", "kiln_ami_name"]
        );
        assert!(shape.sensitive.contains("db_password"));
        assert!(!shape.required_plugins);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hcl_in_json_syntax() {
        let dir = scratch(
            "pkrjson",
            &[(
                "x.pkr.json",
                r#"{"packer": {"required_plugins": {"amazon": {"source": "github.com/hashicorp/amazon", "version": "~> 1"}}},
                   "build": {"sources": ["source.amazon-ebs.a", "source.amazon-ebs.b"]}}"#,
            )],
        );
        let shape = read(&dir).unwrap();
        assert!(shape.required_plugins);
        assert_eq!(shape.builds, ["amazon-ebs.a", "amazon-ebs.b"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
