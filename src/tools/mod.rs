//! The only place kiln starts other programs: `packer build` for a bake and
//! `terraform apply` for `deploy --via terraform` (both through `Effects::run_tool`).
//!
//! A tool runs in its own process group, so a Ctrl-C at the terminal reaches kiln
//! only; kiln forwards SIGINT or SIGTERM once and waits for the tool to exit, so
//! Packer can remove its temporary instance, key pair and security group. Output
//! is streamed line by line to the caller, and the last lines are kept for errors.
//! Files a tool must read but nobody else may (a JSON template's secret variables)
//! are written for the run only (`private`). `output` runs a tool that only
//! answers a question (`packer version`, read once per run).
//! Here too: a command as it may be shown (`ToolCommand`'s secrets redacted, in
//! text and JSON), which variable names look secret, and `interrupted`, the wait
//! for SIGINT or SIGTERM while no tool runs. Packer's command line and output
//! parser are pure functions in `packer`; Terraform's command is built by
//! `stages::deploy::terraform`.

pub mod packer;
mod private;

pub use private::{PRIVATE_DIR, PrivateFile};

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

/// What a secret value is shown as.
const REDACTED: &str = "<redacted>";

/// Secret values this long are redacted wherever they occur, shorter ones only as
/// whole tokens.
const REDACT_ANYWHERE: usize = 4;

/// `text` with each occurrence of `token` that stands alone (no letter or digit
/// right before or after it) replaced by `<redacted>`.
fn redact_token(text: &str, token: &str) -> String {
    let alone = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut from) = (0, 0);
    while let Some(found) = text[from..].find(token) {
        let (start, end) = (from + found, from + found + token.len());
        if alone(text[..start].chars().next_back()) && alone(text[end..].chars().next()) {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            (copied, from) = (end, end);
        } else {
            // The next possible start, on a character boundary.
            from = start + text[start..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// A program to run: what the plan shows and what `run` executes.
#[derive(Debug, Clone, Default)]
pub struct ToolCommand {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub dir: Option<PathBuf>,
    /// Values that must never be shown: in the plan, in logs, in error tails.
    pub secrets: Vec<String>,
    /// Written into a private directory for the run (see [`PRIVATE_DIR`]).
    pub private_files: Vec<PrivateFile>,
}

impl ToolCommand {
    /// `text` with every secret value replaced by `<redacted>`. A value of at least
    /// `REDACT_ANYWHERE` characters is replaced wherever it occurs; a shorter one
    /// only as a whole token (between non-alphanumeric characters), so that a
    /// one-letter secret does not turn every word that contains it unreadable.
    pub fn redact(&self, text: &str) -> String {
        // Longest first: a secret that contains another must not leak its rest.
        let mut secrets: Vec<&String> = self.secrets.iter().filter(|s| !s.is_empty()).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut text = text.to_string();
        for secret in secrets {
            text = match secret.chars().count() >= REDACT_ANYWHERE {
                true => text.replace(secret.as_str(), REDACTED),
                false => redact_token(&text, secret),
            };
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
    // Listen before the tool exists, so no signal falls between spawn and select.
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    let _running = Running::start();
    // Dropped when `run` returns, whichever way: the secrets are gone with the tool.
    let private = match command.private_files.is_empty() {
        true => None,
        false => Some(private::PrivateDir::create(&command.private_files)?),
    };
    let args: Vec<String> = match &private {
        Some(dir) => command.args.iter().map(|a| dir.resolve(a)).collect(),
        None => command.args.clone(),
    };
    let mut process = Command::new(&command.program);
    process
        .args(&args)
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
    // Lines as bytes: a tool may print anything (Ansible relays remote output), and
    // one non-UTF-8 line must not stop kiln from reading the rest.
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped")).split(b'\n');
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr is piped")).split(b'\n');
    let (mut out_open, mut err_open) = (true, true);
    let mut interrupted = None;
    let mut exited = None;
    let mut drain_until = None;
    let mut tail: VecDeque<String> = VecDeque::with_capacity(TAIL_LINES);
    let mut keep = |segment: Vec<u8>, tail: &mut VecDeque<String>| {
        let text = String::from_utf8_lossy(&segment);
        let line = on_line(text.trim_end_matches('\r'));
        if line.is_empty() {
            return;
        }
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    };
    while out_open || err_open || exited.is_none() {
        let drained = async {
            match drain_until {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            status = child.wait(), if exited.is_none() => {
                exited = Some(status);
                // The tool is gone; whatever it left in its process group (a
                // provisioner's `sleep`) would hold the pipes open: end it, and
                // read what is left for a few seconds at most.
                kill_group(pid, libc::SIGKILL);
                drain_until = Some(tokio::time::Instant::now() + DRAIN);
            },
            segment = stdout.next_segment(), if out_open => match segment {
                Ok(Some(segment)) => keep(segment, &mut tail),
                _ => out_open = false,
            },
            segment = stderr.next_segment(), if err_open => match segment {
                Ok(Some(segment)) => keep(segment, &mut tail),
                _ => err_open = false,
            },
            Some(()) = recv(&mut interrupt), if exited.is_none() => {
                interrupted = interrupted.or(Some("SIGINT"));
                stop(pid, libc::SIGINT);
            },
            Some(()) = recv(&mut terminate), if exited.is_none() => {
                interrupted = interrupted.or(Some("SIGTERM"));
                stop(pid, libc::SIGTERM);
            },
            () = drained => break,
        }
    }
    let status = exited
        .expect("the loop ends only after the tool exited")
        .map_err(|e| Error::ToolFailed {
            tool: command.program.clone(),
            code: None,
            tail: vec![format!("kiln lost track of the process: {e}")],
        })?;
    Ok(Finished {
        code: status.code(),
        interrupted,
        tail: tail.into(),
    })
}

/// Runs a tool that only answers (no change, so it runs in a dry run too) and
/// returns its exit code and standard output.
pub async fn output(command: &ToolCommand) -> Result<(Option<i32>, String)> {
    let output = Command::new(&command.program)
        .args(&command.args)
        .envs(command.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| Error::ToolMissing {
            tool: command.program.clone(),
            detail: e.to_string(),
        })?;
    Ok((
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    ))
}

/// The installed Packer's version, asked once per run.
pub async fn packer_version() -> Result<packer::Version> {
    static KNOWN: std::sync::OnceLock<packer::Version> = std::sync::OnceLock::new();
    if let Some(version) = KNOWN.get() {
        return Ok(version.clone());
    }
    let command = packer::version_command();
    let (code, text) = output(&command).await?;
    let version = packer::Version::parse(&text)
        .filter(|_| code == Some(0))
        .ok_or_else(|| Error::ToolFailed {
            tool: "packer".into(),
            code,
            tail: vec![format!("`packer version` said: {}", text.trim())],
        })?;
    Ok(KNOWN.get_or_init(|| version).clone())
}

/// How long kiln reads a tool's pipes after the tool exited.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// First signal: forwarded, so the tool cleans up. A second one: the tool's whole
/// process group is killed (a cleanup that hangs must not hold CI forever).
fn stop(pid: Option<u32>, signal: libc::c_int) {
    static FORWARDED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if FORWARDED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        kill_group(pid, libc::SIGKILL);
    } else {
        forward(pid, signal);
    }
}

/// Whether a tool is running now: while one is, signals are the tool runner's to
/// handle; otherwise `interrupted` ends the stage and kiln removes what it created.
static RUNNING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

struct Running;

impl Running {
    fn start() -> Self {
        RUNNING.store(true, std::sync::atomic::Ordering::SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Waits for SIGINT or SIGTERM received while no tool runs (a wait for a copy,
/// an SSM poll) and returns its name. While a tool runs, its signals are `run`'s:
/// forwarded to the tool, which cleans up and ends the stage by itself.
pub async fn interrupted() -> &'static str {
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    loop {
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        };
        if !RUNNING.load(std::sync::atomic::Ordering::SeqCst) {
            return name;
        }
    }
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

/// Signals what is left of a tool's process group (the tool leads its own group).
fn kill_group(pid: Option<u32>, signal: libc::c_int) {
    if let Some(pid) = pid {
        // SAFETY: kill(2) on the process group kiln created for the tool.
        unsafe {
            libc::kill(-(pid as libc::pid_t), signal);
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
            private_files: Vec::new(),
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

    #[test]
    fn short_secrets_are_redacted_only_as_whole_tokens() {
        let command = ToolCommand {
            secrets: vec!["x".into(), "ab1".into(), "pass".into()],
            ..Default::default()
        };
        assert_eq!(
            command.redact("==> amazon-ebs.web: Exporting x to /tmp/xfer (ab1, tab1, ab12)"),
            "==> amazon-ebs.web: Exporting <redacted> to /tmp/xfer (<redacted>, tab1, ab12)"
        );
        assert_eq!(command.redact("x"), "<redacted>");
        assert_eq!(command.redact("token=x;"), "token=<redacted>;");
        assert_eq!(command.redact("xx x-x"), "xx <redacted>-<redacted>");
        assert_eq!(
            command.redact("bypassed, passwd: pass"),
            "by<redacted>ed, <redacted>wd: <redacted>",
            "four characters and more: wherever they occur"
        );
        assert_eq!(
            command.redact("éxé x"),
            "éxé <redacted>",
            "letters beyond ASCII"
        );
        let variable = ToolCommand {
            env: vec![("PKR_VAR_db_password".into(), "x".into())],
            program: "packer".into(),
            secrets: vec!["x".into()],
            ..Default::default()
        };
        assert_eq!(
            variable.to_string(),
            "'PKR_VAR_db_password=<redacted>' packer"
        );
    }
}
