//! The files a Packer template reads besides itself: provisioner scripts and
//! uploaded files, playbooks, roles and Galaxy files, a builder's user data.
//!
//! They are found by reading the template the way Packer would (HCL2 with hcl-rs,
//! legacy JSON and HCL2's JSON syntax with serde_json), so that the inputs hash
//! covers them and not whatever else lies beside the template. A path that depends
//! on a variable cannot be known before Packer runs: it is left out, with a debug
//! line, never an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl::expr::{Expression, TemplateExpr};

use crate::tools::packer::template::Template;

/// The provisioner and post-processor arguments that name a local file or directory
/// (shell, shell-local and powershell: `script`, `scripts`; file: `source`,
/// `sources`; ansible and ansible-local: the rest).
const PATH_ARGUMENTS: &[&str] = &[
    "script",
    "scripts",
    "source",
    "sources",
    "playbook_file",
    "playbook_files",
    "playbook_dir",
    "playbook_paths",
    "role_paths",
    "roles_path",
    "collections_path",
    "group_vars",
    "host_vars",
    "inventory_file",
    "galaxy_file",
];

/// The builder arguments that name a local file.
const BUILDER_PATH_ARGUMENTS: &[&str] = &["user_data_file"];

/// A file or directory a template reads: as the template writes it, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    pub written: String,
    pub path: PathBuf,
}

/// A path argument's value: a string to resolve, or an expression that is not one
/// (`var.scripts`), shown as written.
type Written = std::result::Result<String, String>;

/// What the template's files read, sorted by how they are written, each path once.
pub fn references(template: &Template) -> Vec<Reference> {
    let root = absolute(template.root());
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut found: BTreeMap<PathBuf, String> = BTreeMap::new();
    for file in &template.files {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        if name.contains(".auto.pkrvars.") {
            continue;
        }
        // An unreadable template file is the hash's error to report.
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let written = match name.ends_with(".pkr.hcl") {
            true => from_hcl(&text),
            false => from_json(&text),
        };
        let written = match written {
            Ok(written) => written,
            Err(problem) => {
                tracing::debug!(
                    "inputs hash: {} does not parse ({problem}); the files it reads are not hashed",
                    file.display()
                );
                continue;
            }
        };
        for item in written {
            if let Some(reference) = resolve(item, &root, &cwd, file) {
                let entry = found
                    .entry(reference.path)
                    .or_insert(reference.written.clone());
                if reference.written < *entry {
                    *entry = reference.written;
                }
            }
        }
    }
    let mut references: Vec<Reference> = found
        .into_iter()
        .map(|(path, written)| Reference { written, path })
        .collect();
    references.sort();
    references
}

/// Where a written path is: `${path.root}` / `{{template_dir}}` are the template's
/// directory, `${path.cwd}` / `{{pwd}}` kiln's (Packer's) working directory. A
/// relative path is looked up beside the template first, then in the working
/// directory, where Packer itself opens it.
fn resolve(written: Written, root: &Path, cwd: &Path, file: &Path) -> Option<Reference> {
    let skip = |what: &str, why: &str| {
        tracing::debug!(
            "inputs hash: not hashing {what} (named in {}): {why}",
            file.display()
        );
    };
    let raw = match written {
        Ok(raw) => raw,
        Err(expression) => {
            skip(&expression, "it depends on a value known only to Packer");
            return None;
        }
    };
    let Some(path) = expand(&raw, root, cwd) else {
        skip(&raw, "it depends on a value known only to Packer");
        return None;
    };
    let candidates = match path.is_absolute() {
        true => vec![path],
        false => vec![root.join(&path), cwd.join(&path)],
    };
    match candidates
        .into_iter()
        .find(|c| c.symlink_metadata().is_ok())
    {
        Some(path) => Some(Reference { written: raw, path }),
        None => {
            skip(&raw, "it does not exist");
            None
        }
    }
}

/// `raw` with Packer's path variables replaced; `None` when something else is
/// interpolated (a variable, a local, a function).
fn expand(raw: &str, root: &Path, cwd: &Path) -> Option<PathBuf> {
    let (root, cwd) = (root.to_string_lossy(), cwd.to_string_lossy());
    let mut text = raw.trim().to_string();
    for (pattern, value) in [
        ("${path.root}", &root),
        ("{{template_dir}}", &root),
        ("{{ template_dir }}", &root),
        ("${path.cwd}", &cwd),
        ("{{pwd}}", &cwd),
        ("{{ pwd }}", &cwd),
    ] {
        text = text.replace(pattern, value);
    }
    let interpolated = ["${", "%{", "{{"].iter().any(|p| text.contains(p));
    (!interpolated && !text.is_empty()).then(|| PathBuf::from(text))
}

fn absolute(path: &Path) -> PathBuf {
    let path = match path.as_os_str().is_empty() {
        true => Path::new("."),
        false => path,
    };
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The path arguments of an HCL2 template's provisioner, post-processor and
/// source blocks.
fn from_hcl(text: &str) -> std::result::Result<Vec<Written>, String> {
    let body = hcl::parse(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    hcl_blocks(&body, &mut out);
    Ok(out)
}

fn hcl_blocks(body: &hcl::Body, out: &mut Vec<Written>) {
    for block in body.blocks() {
        let arguments = match block.identifier() {
            "provisioner" | "post-processor" => PATH_ARGUMENTS,
            "source" => BUILDER_PATH_ARGUMENTS,
            _ => &[],
        };
        // A file provisioner that downloads reads `source` on the machine.
        let download = block.body().attributes().any(|a| {
            a.key() == "direction" && matches!(a.expr(), Expression::String(s) if s == "download")
        });
        for attribute in block.body().attributes() {
            let key = attribute.key();
            if arguments.contains(&key) && !(download && key.starts_with("source")) {
                hcl_strings(attribute.expr(), out);
            }
        }
        hcl_blocks(block.body(), out);
    }
}

fn hcl_strings(expression: &Expression, out: &mut Vec<Written>) {
    match expression {
        Expression::String(s) => out.push(Ok(s.clone())),
        Expression::TemplateExpr(template) => out.push(Ok(match template.as_ref() {
            TemplateExpr::QuotedString(s) => s.clone(),
            TemplateExpr::Heredoc(heredoc) => heredoc.template.clone(),
        })),
        Expression::Array(items) => items.iter().for_each(|i| hcl_strings(i, out)),
        other => out.push(Err(other.to_string())),
    }
}

/// The path arguments of a legacy JSON template (`builders`, `provisioners`,
/// `post-processors`) or of HCL2 in JSON syntax (`source`, `provisioner`,
/// `post-processor` objects).
fn from_json(text: &str) -> std::result::Result<Vec<Written>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    json_walk(&value, &[], &mut out);
    Ok(out)
}

fn json_walk(value: &serde_json::Value, arguments: &[&str], out: &mut Vec<Written>) {
    use serde_json::Value;
    match value {
        Value::Array(items) => items.iter().for_each(|i| json_walk(i, arguments, out)),
        Value::Object(map) => {
            let download = map.get("direction").and_then(Value::as_str) == Some("download");
            for (key, value) in map {
                if arguments.contains(&key.as_str())
                    && !(download && key.starts_with("source"))
                    && !value.is_object()
                {
                    json_strings(value, out);
                    continue;
                }
                let inner = match key.as_str() {
                    "provisioners" | "provisioner" | "post-processors" | "post-processor" => {
                        PATH_ARGUMENTS
                    }
                    "builders" | "source" if arguments.is_empty() => BUILDER_PATH_ARGUMENTS,
                    _ => arguments,
                };
                json_walk(value, inner, out);
            }
        }
        _ => {}
    }
}

fn json_strings(value: &serde_json::Value, out: &mut Vec<Written>) {
    match value {
        serde_json::Value::String(s) => out.push(Ok(s.clone())),
        serde_json::Value::Array(items) => items.iter().for_each(|i| json_strings(i, out)),
        other => out.push(Err(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(found: Vec<Written>) -> Vec<String> {
        found
            .into_iter()
            .map(|w| w.unwrap_or_else(|e| format!("({e})")))
            .collect()
    }

    #[test]
    fn hcl_path_arguments_are_found_in_provisioners_post_processors_and_sources() {
        let found = from_hcl(
            r#"
source "amazon-ebs" "web" {
  user_data_file = "${path.root}/cloud-init.yml"
  ami_name       = "web"
}
build {
  sources = ["source.amazon-ebs.web"]
  provisioner "shell" {
    scripts         = ["${path.root}/scripts/a.sh", "scripts/b.sh"]
    execute_command = "sudo {{ .Path }}"
  }
  provisioner "file" {
    source      = "files/"
    destination = "/tmp"
  }
  provisioner "file" {
    source      = "/var/log/cloud-init.log"
    destination = "logs/"
    direction   = "download"
  }
  provisioner "ansible-local" {
    playbook_file = var.playbook
    role_paths    = ["../ansible/roles/web"]
  }
  post-processors {
    post-processor "shell-local" {
      script = "${var.dir}/done.sh"
    }
  }
}"#,
        )
        .unwrap();
        assert_eq!(
            strings(found),
            [
                "${path.root}/cloud-init.yml",
                "${path.root}/scripts/a.sh",
                "scripts/b.sh",
                "files/",
                "(var.playbook)",
                "../ansible/roles/web",
                "${var.dir}/done.sh",
            ]
        );
    }

    #[test]
    fn json_path_arguments_are_found_in_legacy_and_hcl_json_templates() {
        let legacy = from_json(
            r#"{
  "variables": {"source": "not a path"},
  "builders": [{"type": "amazon-ebs", "user_data_file": "{{template_dir}}/ud.sh"}],
  "provisioners": [
    {"type": "shell", "script": "{{template_dir}}/scripts/setup.sh"},
    {"type": "ansible-local", "playbook_file": "site.yml", "playbook_dir": "../ansible"},
    {"type": "file", "source": "/tmp/report", "destination": "r", "direction": "download"}
  ],
  "post-processors": [[{"type": "shell-local", "scripts": ["{{user `dir`}}/x.sh"]}]]
}"#,
        )
        .unwrap();
        assert_eq!(
            strings(legacy),
            [
                "{{template_dir}}/ud.sh",
                "{{template_dir}}/scripts/setup.sh",
                "site.yml",
                "../ansible",
                "{{user `dir`}}/x.sh",
            ]
        );
        let hcl_json = from_json(
            r#"{"build": [{"sources": ["source.amazon-ebs.web"],
  "provisioner": [{"shell": {"script": "${path.root}/setup.sh"}}]}]}"#,
        )
        .unwrap();
        assert_eq!(strings(hcl_json), ["${path.root}/setup.sh"]);
    }

    #[test]
    fn only_packer_path_variables_are_expanded() {
        let (root, cwd) = (Path::new("/repo/packer"), Path::new("/repo"));
        let expand = |raw| expand(raw, root, cwd);
        assert_eq!(
            expand("${path.root}/s.sh"),
            Some("/repo/packer/s.sh".into())
        );
        assert_eq!(
            expand("{{ template_dir }}/s.sh"),
            Some("/repo/packer/s.sh".into())
        );
        assert_eq!(expand("{{pwd}}/s.sh"), Some("/repo/s.sh".into()));
        assert_eq!(expand("scripts/s.sh"), Some("scripts/s.sh".into()));
        assert_eq!(expand("${var.dir}/s.sh"), None);
        assert_eq!(expand("{{user `dir`}}/s.sh"), None);
        assert_eq!(expand(""), None);
    }
}
