//! The only place kiln starts other programs (Packer now; Ansible and others later).
//!
//! A tool runs in its own process group, so a Ctrl-C at the terminal reaches kiln
//! only; kiln forwards SIGINT or SIGTERM once and waits for the tool to exit, so
//! Packer can remove its temporary instance, key pair and security group. Output
//! is streamed line by line to the caller, and the last lines are kept for errors.
//! Building command lines and parsing output are pure functions in the submodules.

pub mod packer;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::signal::unix::{SignalKind, signal};

use crate::error::{Error, Result};

/// How many of a tool's last lines an error shows.
const TAIL_LINES: usize = 15;

/// A program to run: what the plan shows and what `run` executes.
#[derive(Debug, Clone, Default)]
pub struct ToolCommand {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub dir: Option<PathBuf>,
    /// Values that must never be shown: in the plan, in logs, in error tails.
    pub secrets: Vec<String>,
}

impl ToolCommand {
    /// `text` with every secret value replaced by `<redacted>`.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in self.secrets.iter().filter(|s| !s.is_empty()) {
            text = text.replace(secret.as_str(), "<redacted>");
        }
        text
    }

    fn shown_env(&self) -> Vec<String> {
        self.env
            .iter()
            .map(|(k, v)| self.redact(&format!("{k}={v}")))
            .collect()
    }

    fn shown_args(&self) -> Vec<String> {
        self.args.iter().map(|a| self.redact(a)).collect()
    }
}

impl Serialize for ToolCommand {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("ToolCommand", 4)?;
        out.serialize_field("program", &self.program)?;
        out.serialize_field("args", &self.shown_args())?;
        out.serialize_field("env", &self.shown_env())?;
        out.serialize_field("dir", &self.dir)?;
        out.end()
    }
}

/// Whether a variable name looks like it holds a secret.
pub fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "secret",
        "password",
        "passwd",
        "token",
        "credential",
        "private_key",
        "api_key",
        "apikey",
        "access_key",
    ]
    .iter()
    .any(|word| lower.contains(word))
}

impl std::fmt::Display for ToolCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut words: Vec<String> = self.shown_env().iter().map(|w| shell_word(w)).collect();
        words.push(shell_word(&self.program));
        words.extend(self.shown_args().iter().map(|a| shell_word(a)));
        write!(f, "{}", words.join(" "))
    }
}

/// Quotes a word for display the way a shell would need it.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// How a tool run ended.
#[derive(Debug)]
pub struct Finished {
    /// The exit code; `None` when a signal ended the tool.
    pub code: Option<i32>,
    /// The signal kiln received and forwarded, if any.
    pub interrupted: Option<&'static str>,
    /// The last lines the tool printed (after `on_line`'s rewriting).
    pub tail: Vec<String>,
}

/// Runs a tool, calling `on_line` with each line of its stdout and stderr (merged,
/// in arrival order per stream); what `on_line` returns is kept for the tail, unless
/// it is empty. SIGINT and SIGTERM received meanwhile are forwarded
/// once; kiln then waits for the tool to finish its cleanup.
pub async fn run(
    command: &ToolCommand,
    mut on_line: impl FnMut(&str) -> String,
) -> Result<Finished> {
    let mut process = Command::new(&command.program);
    process
        .args(&command.args)
        .envs(command.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(false);
    if let Some(dir) = &command.dir {
        process.current_dir(dir);
    }
    let mut child = process.spawn().map_err(|e| Error::ToolMissing {
        tool: command.program.clone(),
        detail: e.to_string(),
    })?;
    let pid = child.id();
    let stdout = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let stderr = BufReader::new(child.stderr.take().expect("stderr is piped")).lines();
    let (mut stdout, mut stderr) = (stdout, stderr);
    let (mut out_open, mut err_open) = (true, true);
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    let mut interrupted = None;
    let mut exited = None;
    let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL_LINES);
    let keep = |line: String, tail: &mut VecDeque<String>| {
        if line.is_empty() {
            return;
        }
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    };
    while out_open || err_open {
        tokio::select! {
            status = child.wait(), if exited.is_none() => {
                exited = Some(status);
                // The tool is gone; whatever it left in its process group (a
                // provisioner's `sleep`) would hold the pipes open: end it.
                kill_group(pid);
            },
            line = stdout.next_line(), if out_open => match line {
                Ok(Some(line)) => keep(on_line(&line), &mut tail),
                _ => out_open = false,
            },
            line = stderr.next_line(), if err_open => match line {
                Ok(Some(line)) => keep(on_line(&line), &mut tail),
                _ => err_open = false,
            },
            Some(()) = recv(&mut interrupt), if interrupted.is_none() => {
                interrupted = Some("SIGINT");
                forward(pid, libc::SIGINT);
            },
            Some(()) = recv(&mut terminate), if interrupted.is_none() => {
                interrupted = Some("SIGTERM");
                forward(pid, libc::SIGTERM);
            },
        }
    }
    let status = match exited {
        Some(status) => status,
        None => child.wait().await,
    }
    .map_err(|e| Error::ToolMissing {
        tool: command.program.clone(),
        detail: e.to_string(),
    })?;
    Ok(Finished {
        code: status.code(),
        interrupted,
        tail: tail.into(),
    })
}

async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}

fn forward(pid: Option<u32>, signal: libc::c_int) {
    if let Some(pid) = pid {
        // SAFETY: kill(2) on the tool kiln spawned.
        unsafe {
            libc::kill(pid as libc::pid_t, signal);
        }
    }
}

/// Ends what is left of a finished tool's process group (it leads its own group).
fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid {
        // SAFETY: kill(2) on the process group kiln created for the tool.
        unsafe {
            libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_never_shown() {
        let command = ToolCommand {
            program: "packer".into(),
            args: vec!["build".into(), "-var".into(), "db_password=hunter2".into()],
            env: vec![
                ("PKR_VAR_kiln_app".into(), "shop".into()),
                ("PKR_VAR_api_token".into(), "s3cr3t-token".into()),
            ],
            dir: None,
            secrets: vec!["hunter2".into(), "s3cr3t-token".into()],
        };
        assert_eq!(
            command.to_string(),
            "PKR_VAR_kiln_app=shop 'PKR_VAR_api_token=<redacted>' packer build -var 'db_password=<redacted>'"
        );
        let json = serde_json::to_string(&command).unwrap();
        assert!(
            !json.contains("hunter2") && !json.contains("s3cr3t"),
            "{json}"
        );
        assert_eq!(command.redact("pw is hunter2."), "pw is <redacted>.");
        assert!(looks_secret("DB_PASSWORD"));
        assert!(!looks_secret("kiln_app"));
    }
}
