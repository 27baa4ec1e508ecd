//! Which files a Packer template is, read the way Packer reads them.
//!
//! `packer build FILE` loads that one file: HCL2 when it ends in `.pkr.hcl` or
//! `.pkr.json`, the legacy JSON format otherwise. `packer build DIR` loads every
//! `*.pkr.hcl` and `*.pkr.json` in the directory (not below it), and the variable
//! files `*.auto.pkrvars.hcl` / `*.auto.pkrvars.json` beside them. Nothing else in
//! the directory is part of the template: not a second template in another format,
//! not what Packer or other tools write there (`manifest.json`, `crash.log`, state).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// How Packer reads the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// HCL2 (`.pkr.hcl`, or `.pkr.json`: HCL2 in JSON syntax).
    Hcl,
    /// The legacy JSON format (`builders`, `provisioners`, `variables`).
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// What kiln passes to `packer build`.
    pub path: PathBuf,
    pub format: Format,
    /// The files Packer loads, in path order: the template files, then the
    /// automatically loaded variable files.
    pub files: Vec<PathBuf>,
}

impl Template {
    /// The template at `path` (a file or a directory of templates).
    pub fn load(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return Self::directory(path);
        }
        let name = file_name(path);
        let format = if name.ends_with(".pkr.hcl") || name.ends_with(".pkr.json") {
            Format::Hcl
        } else {
            Format::Json
        };
        Ok(Self {
            path: path.to_path_buf(),
            format,
            files: vec![path.to_path_buf()],
        })
    }

    fn directory(dir: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::Io {
            path: dir.to_path_buf(),
            message: format!("cannot read the template directory: {e}"),
        })?;
        let mut templates = Vec::new();
        let mut variables = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_file() {
                continue;
            }
            let name = file_name(&path);
            if name.ends_with(".auto.pkrvars.hcl") || name.ends_with(".auto.pkrvars.json") {
                variables.push(path);
            } else if name.ends_with(".pkr.hcl") || name.ends_with(".pkr.json") {
                templates.push(path);
            }
        }
        templates.sort();
        variables.sort();
        templates.extend(variables);
        Ok(Self {
            path: dir.to_path_buf(),
            format: Format::Hcl,
            files: templates,
        })
    }

    /// The directory the template's relative paths start from (Packer's
    /// `path.root`): the directory itself, or the file's directory.
    pub fn root(&self) -> &Path {
        if self.path.is_dir() {
            &self.path
        } else {
            self.path.parent().unwrap_or(Path::new("."))
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, files: &[&str]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kiln-template-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for file in files {
            std::fs::write(dir.join(file), "x").unwrap();
        }
        dir
    }

    #[test]
    fn a_directory_is_its_templates_and_auto_variable_files_only() {
        let dir = scratch(
            "dir",
            &[
                "sources.pkr.hcl",
                "build.pkr.hcl",
                "variables.pkr.json",
                "prod.auto.pkrvars.hcl",
                "manifest.json",
                "crash.log",
                "terraform.tfstate",
                "legacy.json",
                "dev.pkrvars.hcl",
            ],
        );
        let template = Template::load(&dir).unwrap();
        let names: Vec<String> = template.files.iter().map(|p| file_name(p)).collect();
        assert_eq!(
            names,
            [
                "build.pkr.hcl",
                "sources.pkr.hcl",
                "variables.pkr.json",
                "prod.auto.pkrvars.hcl"
            ]
        );
        assert_eq!(template.format, Format::Hcl);
        assert_eq!(template.root(), dir.as_path());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_is_itself_in_the_format_its_name_says() {
        let dir = scratch("file", &["app.pkr.hcl", "app-arm.pkr.hcl", "legacy.json"]);
        let hcl = Template::load(&dir.join("app.pkr.hcl")).unwrap();
        assert_eq!((hcl.format, hcl.files.len()), (Format::Hcl, 1));
        let json = Template::load(&dir.join("legacy.json")).unwrap();
        assert_eq!(json.format, Format::Json);
        assert_eq!(json.files, vec![dir.join("legacy.json")]);
        assert_eq!(json.root(), dir.as_path());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
