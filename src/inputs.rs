//! The inputs hash: what a bake depends on, as one digest, so an unchanged bake is
//! found again instead of baked twice.
//!
//! It covers the template files, the Ansible tree, the variables and variable files,
//! the role and the source AMI id (a new base means a new app bake). Files are taken
//! in path order with their relative paths, so the digest does not depend on where
//! the checkout lives or on file timestamps.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{AmiId, Role};

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
        add("kiln-inputs-v1", b"");
        add("role", self.role.as_str().as_bytes());
        add(
            "source-ami",
            self.source_ami.map_or("", |a| a.as_str()).as_bytes(),
        );
        // A template file is hashed with its directory: the scripts and files it
        // reads through path.root live beside it.
        let template_dir = match self.template.is_file() {
            true => self
                .template
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
            false => self.template,
        };
        for (path, content) in tree(template_dir)? {
            add(&format!("template:{path}"), &content);
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

    struct Tree(PathBuf);

    impl Tree {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("kiln-inputs-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("packer")).unwrap();
            std::fs::create_dir_all(dir.join("ansible/roles/base")).unwrap();
            std::fs::write(dir.join("packer/base.pkr.hcl"), "source {}").unwrap();
            std::fs::write(dir.join("ansible/roles/base/main.yml"), "- hosts: all").unwrap();
            Self(dir)
        }

        fn hash(&self, source: Option<&AmiId>, vars: &[(String, String)]) -> String {
            BakeInputs {
                role: Role::App,
                source_ami: source,
                template: &self.0.join("packer"),
                ansible: &self.0.join("ansible"),
                vars,
                var_files: &[],
                environment: &[],
            }
            .hash()
            .unwrap()
        }

        fn hash_file_template(&self) -> String {
            BakeInputs {
                role: Role::Base,
                source_ami: None,
                template: &self.0.join("packer/base.pkr.hcl"),
                ansible: &self.0.join("ansible"),
                vars: &[],
                var_files: &[],
                environment: &[],
            }
            .hash()
            .unwrap()
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn the_hash_changes_with_each_input_and_only_then() {
        let tree = Tree::new("changes");
        let base1 = AmiId::from_aws("ami-11111111");
        let base2 = AmiId::from_aws("ami-22222222");
        let first = tree.hash(Some(&base1), &[]);
        assert!(first.starts_with("sha256:") && first.len() == 71, "{first}");
        assert_eq!(tree.hash(Some(&base1), &[]), first, "stable");
        assert_ne!(tree.hash(Some(&base2), &[]), first, "source AMI");
        assert_ne!(
            tree.hash(Some(&base1), &[("size".into(), "2".into())]),
            first,
            "variables"
        );
        std::fs::write(tree.0.join("ansible/roles/base/main.yml"), "- hosts: web").unwrap();
        let changed = tree.hash(Some(&base1), &[]);
        assert_ne!(changed, first, "ansible file");
        std::fs::write(tree.0.join("ansible/x.retry"), "noise").unwrap();
        assert_eq!(
            tree.hash(Some(&base1), &[]),
            changed,
            "retry files are ignored"
        );
    }

    #[test]
    fn a_template_file_is_hashed_with_its_directory() {
        let tree = Tree::new("siblings");
        let before = tree.hash_file_template();
        std::fs::write(tree.0.join("packer/setup.sh"), "echo hi").unwrap();
        assert_ne!(
            tree.hash_file_template(),
            before,
            "a script beside the template counts"
        );
    }

    #[test]
    fn secret_values_stay_out_of_the_hash_and_links_are_not_followed() {
        let tree = Tree::new("secrets");
        let a = tree.hash(None, &[("db_password".into(), "one".into())]);
        let b = tree.hash(None, &[("db_password".into(), "two".into())]);
        assert_eq!(a, b);
        std::os::unix::fs::symlink(&tree.0, tree.0.join("ansible/loop")).unwrap();
        let _ = tree.hash(None, &[]); // terminates
    }

    #[test]
    fn variable_order_does_not_matter() {
        let tree = Tree::new("order");
        let a = [
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ];
        let b = [a[1].clone(), a[0].clone()];
        assert_eq!(tree.hash(None, &a), tree.hash(None, &b));
    }
}
