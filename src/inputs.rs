//! The inputs hash: what a bake depends on, as one digest, so an unchanged bake is
//! found again instead of baked twice.
//!
//! It covers what Packer loads (the template file, or a template directory's
//! `*.pkr.hcl` / `*.pkr.json` and `*.auto.pkrvars.*` files: `Template::load`), the
//! files those templates read (provisioner scripts and files, playbooks and roles,
//! found by `reads`), the Ansible tree, the variables and variable files, the role
//! and the source AMI id (a new base means a new app bake). Nothing else beside the
//! template counts: not a second template, not what Packer or other tools write
//! there (`manifest.json`, `crash.log`, state files). Files are taken in path order
//! with their relative paths, so the digest does not depend on where the checkout
//! lives or on file timestamps.

mod reads;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{AmiId, Role};
use crate::tools::packer::template::Template;

/// Directory entries that never influence a bake.
const IGNORED: &[&str] = &[
    ".git",
    "__pycache__",
    ".terraform",
    "packer_cache",
    ".DS_Store",
];

/// What a bake is made of.
#[derive(Debug, Clone)]
pub struct BakeInputs<'a> {
    pub role: Role,
    pub source_ami: Option<&'a AmiId>,
    /// The template: a file, or a directory of templates.
    pub template: &'a Path,
    /// The Ansible tree the template uses; skipped when it does not exist.
    pub ansible: &'a Path,
    /// `--var NAME=VALUE` pairs, as given.
    pub vars: &'a [(String, String)],
    pub var_files: &'a [PathBuf],
    /// `PKR_VAR_*` variables inherited from the environment (not kiln's own).
    pub environment: &'a [(String, String)],
    /// `--only`: which build of a multi-build template runs (another build is
    /// another image).
    pub only: Option<&'a str>,
}

impl BakeInputs<'_> {
    /// `sha256:` and 64 hex digits.
    pub fn hash(&self) -> Result<String> {
        let mut digest = Sha256::new();
        let mut add = |label: &str, value: &[u8]| {
            digest.update(label.as_bytes());
            digest.update((value.len() as u64).to_be_bytes());
            digest.update(value);
        };
        add("kiln-inputs-v2", b"");
        add("role", self.role.as_str().as_bytes());
        add(
            "source-ami",
            self.source_ami.map_or("", |a| a.as_str()).as_bytes(),
        );
        if let Some(only) = self.only {
            add("only", only.as_bytes());
        }
        let template = Template::load(self.template)?;
        for file in &template.files {
            let name = file.strip_prefix(template.root()).unwrap_or(file);
            add(
                &format!("template:{}", name.to_string_lossy()),
                &read(file)?,
            );
        }
        for reference in reads::references(&template) {
            for (path, content) in tree(&reference.path)? {
                add(&format!("reads:{}:{path}", reference.written), &content);
            }
        }
        if self.ansible.exists() {
            for (path, content) in tree(self.ansible)? {
                add(&format!("ansible:{path}"), &content);
            }
        }
        let mut vars: Vec<&(String, String)> = self.vars.iter().chain(self.environment).collect();
        vars.sort();
        for (name, value) in vars {
            // A secret's value stays out: the hash is stored in a tag, and a digest
            // of a short password can be guessed. Changing only a secret needs --force.
            let value = if crate::tools::looks_secret(name) {
                ""
            } else {
                value.as_str()
            };
            add(&format!("var:{name}"), value.as_bytes());
        }
        for file in self.var_files {
            add("var-file", &read(file)?);
        }
        let hex: String = digest
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(format!("sha256:{hex}"))
    }
}

/// Every file under `root` (or `root` itself) as (relative path, content), sorted.
fn tree(root: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    if root.is_file() {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![(name, read(root)?)]);
    }
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| io_error(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if IGNORED.contains(&name.as_str())
                || name.ends_with(".retry")
                || name.starts_with(".venv")
            {
                continue;
            }
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| io_error(&path, e))?;
            if kind.is_symlink() {
                // Not followed (a link loop must not hang kiln): its target counts.
                let target = std::fs::read_link(&path).map_err(|e| io_error(&path, e))?;
                let relative = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned();
                files.push((relative, target.to_string_lossy().into_owned().into_bytes()));
            } else if kind.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((relative, read(&path)?));
            }
        }
    }
    files.sort();
    Ok(files)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, error: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        message: format!("cannot read bake input: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = r#"
source "amazon-ebs" "app" {
  ami_name   = var.kiln_ami_name
  source_ami = var.kiln_source_ami
}
build {
  sources = ["source.amazon-ebs.app"]
  provisioner "file" {
    source      = "${path.root}/files/"
    destination = "/tmp/files"
  }
  provisioner "shell" {
    scripts = ["${path.root}/scripts/app.sh"]
  }
  provisioner "ansible-local" {
    playbook_file = "../ansible/site.yml"
    role_paths    = ["${var.roles}/web"]
  }
  post-processor "manifest" {
    output = "${path.root}/manifest.json"
  }
}
"#;

    const LEGACY: &str = r#"{
  "variables": {"region": "us-east-1"},
  "builders": [{"type": "amazon-ebs", "ami_name": "legacy {{timestamp}}"}],
  "provisioners": [
    {"type": "shell", "script": "{{template_dir}}/scripts/legacy.sh"},
    {"type": "shell", "scripts": ["{{user `extra`}}/more.sh"]}
  ]
}"#;

    /// A repository: packer/ with file templates side by side (base, app, app-arm,
    /// a legacy JSON one) and their scripts, web/ a template directory, ansible/.
    struct Tree(PathBuf);

    impl Tree {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("kiln-inputs-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let tree = Self(dir);
            tree.write("packer/base.pkr.hcl", "build { sources = [] }");
            tree.write("packer/app.pkr.hcl", APP);
            tree.write("packer/app-arm.pkr.hcl", APP);
            tree.write("packer/legacy.json", LEGACY);
            tree.write("packer/scripts/app.sh", "apt-get install -y nginx");
            tree.write("packer/scripts/legacy.sh", "yum install -y httpd");
            tree.write("packer/scripts/unused.sh", "echo unused");
            tree.write("packer/files/nginx.conf", "server {}");
            tree.write("web/sources.pkr.hcl", "source \"amazon-ebs\" \"web\" {}");
            tree.write(
                "web/build.pkr.hcl",
                "build {\n  provisioner \"shell\" {\n    script = \"${path.root}/scripts/web.sh\"\n  }\n}",
            );
            tree.write("web/prod.auto.pkrvars.hcl", "size = \"large\"");
            tree.write("web/scripts/web.sh", "echo web");
            tree.write("ansible/site.yml", "- hosts: all");
            tree.write("ansible/roles/base/main.yml", "- hosts: all");
            tree
        }

        fn write(&self, path: &str, text: &str) {
            let path = self.0.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }

        fn hash_with(
            &self,
            template: &str,
            source: Option<&AmiId>,
            vars: &[(String, String)],
            var_files: &[PathBuf],
        ) -> String {
            BakeInputs {
                role: Role::App,
                source_ami: source,
                template: &self.0.join(template),
                ansible: &self.0.join("ansible"),
                vars,
                var_files,
                environment: &[],
                only: None,
            }
            .hash()
            .unwrap()
        }

        fn hash(&self, template: &str) -> String {
            self.hash_with(template, None, &[], &[])
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn each_build_of_a_multi_build_template_is_its_own_bake() {
        let tree = Tree::new("only");
        let hash = |only| {
            BakeInputs {
                role: Role::Base,
                source_ami: None,
                template: &tree.0.join("packer/app.pkr.hcl"),
                ansible: &tree.0.join("ansible"),
                vars: &[],
                var_files: &[],
                environment: &[],
                only,
            }
            .hash()
            .unwrap()
        };
        assert_ne!(
            hash(Some("amazon-ebs.amd64")),
            hash(Some("amazon-ebs.arm64"))
        );
        assert_ne!(hash(Some("amazon-ebs.amd64")), hash(None));
        assert_eq!(
            hash(Some("amazon-ebs.amd64")),
            hash(Some("amazon-ebs.amd64"))
        );
    }

    #[test]
    fn the_hash_changes_with_each_input_and_only_then() {
        let tree = Tree::new("changes");
        let base1 = AmiId::from_aws("ami-11111111");
        let base2 = AmiId::from_aws("ami-22222222");
        let hash = |source, vars: &[(String, String)]| {
            tree.hash_with("packer/app.pkr.hcl", Some(source), vars, &[])
        };
        let first = hash(&base1, &[]);
        assert!(first.starts_with("sha256:") && first.len() == 71, "{first}");
        assert_eq!(hash(&base1, &[]), first, "stable");
        assert_ne!(hash(&base2, &[]), first, "source AMI");
        assert_ne!(
            hash(&base1, &[("size".into(), "2".into())]),
            first,
            "variables"
        );
        tree.write("ansible/roles/base/main.yml", "- hosts: web");
        let changed = hash(&base1, &[]);
        assert_ne!(changed, first, "ansible file");
        tree.write("ansible/x.retry", "noise");
        assert_eq!(hash(&base1, &[]), changed, "retry files are ignored");
        tree.write("vars.pkrvars.hcl", "size = 1");
        let files = [tree.0.join("vars.pkrvars.hcl")];
        let with_file = tree.hash_with("packer/app.pkr.hcl", Some(&base1), &[], &files);
        assert_ne!(with_file, changed, "a --var-file");
        tree.write("vars.pkrvars.hcl", "size = 2");
        assert_ne!(
            tree.hash_with("packer/app.pkr.hcl", Some(&base1), &[], &files),
            with_file,
            "its content"
        );
    }

    #[test]
    fn a_template_file_is_itself_not_the_templates_beside_it() {
        let tree = Tree::new("siblings");
        let app = tree.hash("packer/app.pkr.hcl");
        assert_ne!(
            tree.hash("packer/app-arm.pkr.hcl"),
            app,
            "a second template with the same text is another bake"
        );
        tree.write("packer/app-arm.pkr.hcl", &format!("{APP}\n# arm64\n"));
        tree.write("packer/base.pkr.hcl", "build { sources = [\"x\"] }");
        assert_eq!(
            tree.hash("packer/app.pkr.hcl"),
            app,
            "editing base.pkr.hcl or app-arm.pkr.hcl"
        );
        tree.write("packer/app.pkr.hcl", &format!("{APP}\n# a change\n"));
        assert_ne!(tree.hash("packer/app.pkr.hcl"), app, "editing app.pkr.hcl");
    }

    #[test]
    fn what_packer_and_other_tools_write_beside_a_template_does_not_count() {
        let tree = Tree::new("written");
        let (file, dir) = (tree.hash("packer/app.pkr.hcl"), tree.hash("web"));
        for folder in ["packer", "web"] {
            tree.write(&format!("{folder}/manifest.json"), r#"{"builds": []}"#);
            tree.write(&format!("{folder}/terraform.tfstate"), "{}");
            tree.write(&format!("{folder}/crash.log"), "panic");
            tree.write(&format!("{folder}/packer_cache/ubuntu.iso"), "iso");
            tree.write(&format!("{folder}/packer-manifest.json"), "{}");
        }
        tree.write("web/old.json", LEGACY);
        tree.write("web/dev.pkrvars.hcl", "size = \"small\"");
        assert_eq!(tree.hash("packer/app.pkr.hcl"), file, "a template file");
        assert_eq!(tree.hash("web"), dir, "a template directory");
    }

    #[test]
    fn the_files_a_template_reads_count_and_no_others() {
        let tree = Tree::new("reads");
        let first = tree.hash("packer/app.pkr.hcl");
        tree.write("packer/scripts/unused.sh", "echo still unused");
        assert_eq!(tree.hash("packer/app.pkr.hcl"), first, "an unused script");
        tree.write("packer/scripts/app.sh", "apt-get install -y nginx=1.24");
        let script = tree.hash("packer/app.pkr.hcl");
        assert_ne!(script, first, "a provisioner script");
        tree.write("packer/files/site.conf", "server {}");
        let files = tree.hash("packer/app.pkr.hcl");
        assert_ne!(files, script, "a file in an uploaded directory");
        tree.write("ansible/site.yml", "- hosts: web");
        assert_ne!(tree.hash("packer/app.pkr.hcl"), files, "the playbook");

        let dir = tree.hash("web");
        tree.write("web/scripts/web.sh", "echo web v2");
        let web = tree.hash("web");
        assert_ne!(web, dir, "a directory template's script");
        tree.write("web/prod.auto.pkrvars.hcl", "size = \"xlarge\"");
        assert_ne!(tree.hash("web"), web, "an automatic variable file");
    }

    #[test]
    fn a_json_template_reads_its_scripts_too() {
        let tree = Tree::new("json");
        let first = tree.hash("packer/legacy.json");
        tree.write("packer/scripts/app.sh", "not this one");
        assert_eq!(tree.hash("packer/legacy.json"), first);
        tree.write("packer/scripts/legacy.sh", "yum install -y httpd-2.4");
        assert_ne!(tree.hash("packer/legacy.json"), first);
    }

    #[test]
    fn paths_that_use_variables_or_do_not_exist_are_skipped() {
        let tree = Tree::new("skipped");
        tree.write(
            "packer/vars.pkr.hcl",
            "build {\n  provisioner \"shell\" {\n    script = var.script\n  }\n  provisioner \"shell\" {\n    scripts = [\"${local.dir}/a.sh\", \"missing.sh\"]\n  }\n}",
        );
        let first = tree.hash("packer/vars.pkr.hcl");
        tree.write("packer/not-parsed.pkr.hcl", "build {");
        assert_eq!(tree.hash("packer/vars.pkr.hcl"), first);
        let _ = tree.hash("packer/not-parsed.pkr.hcl"); // Packer reports the syntax
    }

    #[test]
    fn secret_values_stay_out_of_the_hash_and_links_are_not_followed() {
        let tree = Tree::new("secrets");
        let hash = |vars: &[(String, String)]| tree.hash_with("web", None, vars, &[]);
        let a = hash(&[("db_password".into(), "one".into())]);
        let b = hash(&[("db_password".into(), "two".into())]);
        assert_eq!(a, b);
        std::os::unix::fs::symlink(&tree.0, tree.0.join("ansible/loop")).unwrap();
        std::os::unix::fs::symlink(&tree.0, tree.0.join("packer/files/loop")).unwrap();
        let _ = tree.hash("packer/app.pkr.hcl"); // terminates
    }

    #[test]
    fn variable_order_does_not_matter() {
        let tree = Tree::new("order");
        let a = [
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ];
        let b = [a[1].clone(), a[0].clone()];
        assert_eq!(
            tree.hash_with("web", None, &a, &[]),
            tree.hash_with("web", None, &b, &[])
        );
    }
}
