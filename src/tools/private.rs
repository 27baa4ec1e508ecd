//! Files a tool reads that nobody else may: secret variable values for a legacy
//! JSON Packer template. They live in a directory of their own (mode 0700, in
//! `$TMPDIR`), each file mode 0600, for as long as the tool runs: the guard
//! removes the directory when it is dropped, after the tool exited, on an error
//! and after an interruption (kiln waits for the tool before it returns).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Stands for the private directory in a tool's arguments (`-var-file={private}/…`):
/// shown as is in the plan, replaced by the real path when the tool runs.
pub const PRIVATE_DIR: &str = "{private}";

/// A file to write into the private directory before the tool starts.
#[derive(Clone, Default)]
pub struct PrivateFile {
    pub name: String,
    pub contents: String,
}

impl std::fmt::Debug for PrivateFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateFile")
            .field("name", &self.name)
            .field("contents", &"<redacted>")
            .finish()
    }
}

/// The directory and its files; removed on drop.
#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    /// Creates a new directory only this user can enter, and writes `files` in it.
    pub fn create(files: &[PrivateFile]) -> Result<Self> {
        let base = std::env::temp_dir();
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mut attempt = 0u32;
        let path = loop {
            let path = base.join(format!("kiln-{}-{stamp:08x}-{attempt}", std::process::id()));
            // `create` (not `create_all`): fails if the name exists, so nobody
            // can have prepared it for us.
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => break path,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1
                }
                Err(e) => {
                    return Err(Error::Io {
                        path,
                        message: format!("cannot create a private directory: {e}"),
                    });
                }
            }
        };
        let dir = Self { path };
        for file in files {
            let path = dir.path.join(&file.name);
            let written = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .and_then(|mut out| out.write_all(file.contents.as_bytes()));
            if let Err(e) = written {
                return Err(Error::Io {
                    path,
                    message: format!("cannot write a private file: {e}"),
                });
            }
        }
        Ok(dir)
    }

    #[cfg(test)]
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// `arg` with the [`PRIVATE_DIR`] placeholder replaced by the real path.
    pub fn resolve(&self, arg: &str) -> String {
        arg.replace(PRIVATE_DIR, &self.path.display().to_string())
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            crate::ui::warn(format!(
                "could not remove {} (it holds secret values): {e}; remove it by hand",
                self.path.display()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    #[test]
    fn files_are_private_while_they_exist_and_gone_after() {
        let dir = PrivateDir::create(&[PrivateFile {
            name: "kiln-secrets.json".into(),
            contents: "{\"api_token\": \"x\"}".into(),
        }])
        .unwrap();
        let path = dir.path().to_path_buf();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o700);
        let file = path.join("kiln-secrets.json");
        assert_eq!(mode(&file), 0o600);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "{\"api_token\": \"x\"}"
        );
        assert_eq!(
            dir.resolve("-var-file={private}/kiln-secrets.json"),
            format!("-var-file={}", file.display())
        );
        assert!(
            !format!(
                "{:?}",
                PrivateFile {
                    name: "a".into(),
                    contents: "s3cret".into()
                }
            )
            .contains("s3cret")
        );
        drop(dir);
        assert!(!path.exists());
    }
}
