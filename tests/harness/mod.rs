//! Runs the real `kiln` binary in a hermetic environment against the emulator.

pub mod emulator;
pub mod faults;
pub mod groups;
pub mod images;
pub mod instances;
pub mod proxy;
pub mod stacks;
pub mod terraform;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use emulator::{REGION, emulator, free_port, root, scratch_dir, unique_app, write};

/// What one kiln run left behind.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit code 0, showing stderr otherwise.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "kiln failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts a failure with this exit code and exactly this stderr.
    #[track_caller]
    pub fn fails(&self, code: i32, stderr: &str) {
        assert_eq!(
            (self.code, self.stderr.as_str()),
            (code, stderr),
            "stdout:\n{}",
            self.stdout
        );
        assert!(
            self.stdout.is_empty(),
            "a failed run printed results: {}",
            self.stdout
        );
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A kiln command line being built.
pub struct Kiln {
    command: Command,
    dir: PathBuf,
}

/// kiln against the emulator, with test credentials and nothing from this machine's
/// own AWS setup (no profile files, no instance metadata).
pub fn kiln() -> Kiln {
    let endpoint = emulator::emulator().endpoint.clone();
    Kiln::hermetic(&endpoint)
}

/// kiln with an endpoint where nothing listens: for runs that must fail before any
/// AWS call, so that a stray call fails loudly instead of reaching anything.
pub fn kiln_without_aws() -> Kiln {
    Kiln::hermetic(&format!("http://127.0.0.1:{}", free_port()))
}

/// kiln against another endpoint (the fault proxy in front of the emulator).
pub fn kiln_via(endpoint: &str) -> Kiln {
    Kiln::hermetic(endpoint)
}

impl Kiln {
    fn hermetic(endpoint: &str) -> Self {
        let dir = scratch_dir("run");
        let mut command = Command::new(env!("CARGO_BIN_EXE_kiln"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &dir)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .current_dir(&dir);
        Self { command, dir }
    }

    pub fn args<S: AsRef<std::ffi::OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.command.args(args);
        self
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    pub fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    pub fn without_env(mut self, name: &str) -> Self {
        self.command.env_remove(name);
        self
    }

    /// The working directory of the run (where kiln looks for kiln.toml).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts kiln without waiting (for tests that signal it).
    pub fn spawn(mut self) -> std::process::Child {
        self.command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the kiln binary starts")
    }

    pub fn run(mut self) -> Run {
        let output = self.command.output().expect("the kiln binary runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// A Packer template directory for the emulator: tests/packer/emulator.pkr.hcl
/// with tests/packer/NAME.pkr.hcl, copied to a scratch directory of its own so a
/// test may change it.
pub fn packer_template(name: &str) -> PathBuf {
    let dir = scratch_dir(&format!("packer-{name}"));
    for file in ["emulator.pkr.hcl".to_string(), format!("{name}.pkr.hcl")] {
        std::fs::copy(root().join("tests/packer").join(&file), dir.join(&file)).unwrap();
    }
    dir
}

/// Runs kiln against the emulator and asserts it succeeded.
#[track_caller]
pub fn kiln_ok<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Run {
    kiln().args(args).run().ok()
}

/// Three images of an app published as versions 1, 2 and 3 of its `app` role.
pub fn app_with_three_versions(purpose: &str) -> (String, Vec<String>) {
    let app = unique_app(purpose);
    let amis: Vec<String> = (1..=3)
        .map(|n| emulator().create_image(&format!("{app}-v{n}"), &[]))
        .collect();
    for ami in &amis {
        kiln()
            .args(["--app", &app, "publish", "app", ami])
            .run()
            .ok();
    }
    (app, amis)
}
