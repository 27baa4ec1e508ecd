//! The files a command will write, checked before it changes anything.
//!
//! A pipeline that publishes a version and then cannot write GITHUB_OUTPUT has
//! changed AWS and failed anyway, with a next step that reads nothing. So
//! `lib::run` lists every file the command writes (the GitHub step files, the
//! JUnit report) and checks each can be written before `Context::new`; a write
//! that fails afterwards anyway is a warning (see `report::emit`).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use crate::config::{Settings, VerifySettings};
use crate::error::{Error, Result};

/// A file kiln will write, and which one it is (for the message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub what: &'static str,
    pub path: PathBuf,
}

/// Every file `settings`' command will write: the GitHub step files when set (any
/// command writes both, a failed one its summary), and `--junit`.
pub fn for_command(settings: &Settings) -> Vec<OutputFile> {
    let mut files: Vec<OutputFile> = ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"]
        .into_iter()
        .filter_map(|var| {
            Some(OutputFile {
                what: var,
                path: super::github_file(var)?,
            })
        })
        .collect();
    if let Settings::Verify(VerifySettings::Image(verify)) = settings
        && let Some(path) = &verify.junit
    {
        files.push(OutputFile {
            what: "the JUnit report (--junit)",
            path: path.clone(),
        });
    }
    files
}

/// Checks that each file can be written, without writing or creating any.
pub fn check(files: &[OutputFile]) -> Result<()> {
    for file in files {
        writable(&file.path).map_err(|detail| Error::OutputUnwritable {
            path: file.path.clone(),
            what: file.what.to_string(),
            detail,
        })?;
    }
    Ok(())
}

/// An existing file must open for writing (nothing is written, nothing truncated);
/// a missing one needs an existing directory kiln may create files in.
fn writable(path: &Path) -> std::result::Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err("it is a directory".into()),
        Ok(_) => OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop)
            .map_err(|e| e.to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            match std::fs::metadata(parent) {
                Ok(meta) if meta.is_dir() => {
                    if dir_writable(parent) {
                        Ok(())
                    } else {
                        Err(format!(
                            "the directory {} is not writable",
                            parent.display()
                        ))
                    }
                }
                Ok(_) => Err(format!("{} is not a directory", parent.display())),
                Err(_) => Err(format!("the directory {} does not exist", parent.display())),
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Whether this process may create files in `dir` (access(2), as the shell's `-w`).
fn dir_writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    unsafe { libc::access(path.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: PathBuf) -> OutputFile {
        OutputFile {
            what: "GITHUB_OUTPUT",
            path,
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kiln-files-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_missing_file_in_a_writable_directory_passes_and_is_not_created() {
        let dir = scratch("missing");
        let path = dir.join("out");
        check(&[file(path.clone())]).unwrap();
        assert!(!path.exists(), "the check left a file behind");
    }

    #[test]
    fn an_existing_file_is_left_as_it_was() {
        let dir = scratch("existing");
        let path = dir.join("out");
        std::fs::write(&path, "a=1\n").unwrap();
        check(&[file(path.clone())]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a=1\n");
    }

    #[test]
    fn a_missing_directory_is_refused_naming_the_file() {
        let error = check(&[file("/nonexistent/x".into())]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot write GITHUB_OUTPUT at /nonexistent/x: the directory /nonexistent does not exist"
        );
        assert_eq!(error.exit_code(), crate::error::exit::USAGE);
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = scratch("dir");
        let error = check(&[file(dir.clone())]).unwrap_err();
        assert!(
            error.to_string().ends_with(": it is a directory"),
            "{error}"
        );
    }
}
