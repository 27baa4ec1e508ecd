//! What a person at a terminal sees besides results: colour, progress, notes, logs.
//!
//! Colour only when stdout is a terminal and NO_COLOR is unset; spinners only when
//! stderr is a terminal, plain periodic lines otherwise (CI logs). Under Jenkins
//! (`JENKINS_URL` set) neither, even on a terminal: its console is a log, where
//! carriage-return progress and colour codes are noise. Logs go to stderr through
//! tracing; stdout carries only results.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Clone, Copy)]
pub struct Ui {
    color: bool,
    interactive: bool,
    /// Running as a GitHub Actions step: long output goes into collapsible groups.
    github: bool,
}

/// The one way kiln writes to stderr. A closed stderr (`2>&1 | head -1`, a log
/// shipper that died) drops the text instead of panicking: the run goes on to
/// its end and its teardown, whatever became of the reader.
pub fn to_stderr(text: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// How often a non-interactive wait prints a line.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(10);

impl Ui {
    pub fn detect() -> Self {
        Self::from_env(
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
            &|name| std::env::var(name).ok(),
        )
    }

    /// `detect`, given whether stdout and stderr are terminals and the environment.
    fn from_env(stdout_tty: bool, stderr_tty: bool, var: &dyn Fn(&str) -> Option<String>) -> Self {
        let no_color = var("NO_COLOR").is_some_and(|v| !v.is_empty());
        let plain = plain_console(var);
        Self {
            color: stdout_tty && !no_color && !plain,
            interactive: stderr_tty && !plain,
            github: var("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
        }
    }

    /// A message for the person running kiln, on stderr.
    pub fn note(&self, message: impl AsRef<str>) {
        to_stderr(format_args!("kiln: {}", message.as_ref()));
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }

    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// A spinner with a message and the elapsed time, on an interactive stderr only.
    fn spinner(&self, message: &str) -> Option<ProgressBar> {
        self.interactive.then(|| {
            let bar = ProgressBar::new_spinner().with_message(message.to_string());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        })
    }

    /// Progress for a wait of unknown length.
    pub fn progress(&self, message: String) -> Progress {
        let bar = self.spinner(&message);
        Progress {
            bar,
            message,
            started: Instant::now(),
            last_line: None,
        }
    }
}

impl Ui {
    /// Streams a tool's output to stderr as `TOOL | [ELAPSED] line`: under a spinner
    /// on a terminal, inside a `::group::` in GitHub Actions.
    pub fn stream(&self, tool: &str, title: &str) -> Stream {
        if self.github {
            to_stderr(format_args!("::group::{title}"));
        }
        let bar = self.spinner(title);
        Stream {
            tool: tool.to_string(),
            started: Instant::now(),
            bar,
            github: self.github,
        }
    }
}

pub struct Stream {
    tool: String,
    started: Instant,
    bar: Option<ProgressBar>,
    github: bool,
}

impl Stream {
    pub fn line(&self, text: &str) {
        let line = format!(
            "{} | [{:>4}s] {text}",
            self.tool,
            self.started.elapsed().as_secs()
        );
        match &self.bar {
            Some(bar) => bar.println(line),
            None => to_stderr(line),
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.github {
            to_stderr("::endgroup::");
        }
    }
}

pub struct Progress {
    bar: Option<ProgressBar>,
    message: String,
    started: Instant,
    last_line: Option<Instant>,
}

impl Progress {
    /// Changes what the progress says (on the next tick for plain lines).
    pub fn set_message(&mut self, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.clone());
        }
        self.message = message;
    }

    /// Called on every poll; prints a plain line at most every 10 seconds.
    pub fn tick(&mut self) {
        if self.bar.is_some() {
            return;
        }
        let due = self
            .last_line
            .is_none_or(|at| at.elapsed() >= PLAIN_PROGRESS_EVERY);
        if due {
            to_stderr(format_args!(
                "kiln: {} ({}s)",
                self.message,
                self.started.elapsed().as_secs()
            ));
            self.last_line = Some(Instant::now());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The one way kiln warns: something did not happen, and the run goes on (a
/// GitHub deployment record, an EC2 deprecation). On stderr as `warning: …`; in
/// GitHub Actions also a `::warning` annotation, so it shows on the run's page
/// and not only deep in its log. A free function: the effect gate warns too, and
/// has no `Ui`.
pub fn warn(message: impl AsRef<str>) {
    let message = message.as_ref();
    to_stderr(format_args!("warning: {message}"));
    if crate::report::in_github_actions() {
        to_stderr(warning_annotation(message));
    }
}

/// A warning as a GitHub Actions workflow command, escaped by the encoder errors use.
fn warning_annotation(message: &str) -> String {
    crate::report::annotation("warning", "kiln", message)
}

/// A console that is a log even on a terminal: Jenkins, or TERM=dumb.
fn plain_console(var: &dyn Fn(&str) -> Option<String>) -> bool {
    var("JENKINS_URL").is_some_and(|v| !v.is_empty()) || var("TERM").is_some_and(|t| t == "dumb")
}

/// Logs on stderr: warnings by default, more with -v/-vv/-vvv; RUST_LOG overrides.
pub fn init_logging(verbosity: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbosity {
        0 => "kiln=warn,error",
        1 => "kiln=info,warn",
        2 => "kiln=debug,info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && !plain_console(&|name| std::env::var(name).ok()),
        )
        .with_target(verbosity >= 2)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ui(stdout_tty: bool, stderr_tty: bool, env: &[(&str, &str)]) -> Ui {
        Ui::from_env(stdout_tty, stderr_tty, &|name| {
            env.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn a_terminal_gets_colour_and_spinners() {
        let ui = ui(true, true, &[("TERM", "xterm-256color")]);
        assert!(ui.color && ui.interactive);
        assert_eq!(ui.bold("x"), "\x1b[1mx\x1b[0m");
    }

    #[test]
    fn pipes_get_plain_text() {
        let ui = ui(false, false, &[("TERM", "xterm-256color")]);
        assert!(!ui.color && !ui.interactive);
        assert_eq!(ui.bold("x"), "x");
    }

    #[test]
    fn jenkins_gets_plain_text_even_on_a_terminal() {
        let ui = ui(true, true, &[("JENKINS_URL", "https://ci.example.com/")]);
        assert!(!ui.color && !ui.interactive && !ui.github);
        assert!(ui.progress("waiting".into()).bar.is_none());
    }

    #[test]
    fn no_color_and_dumb_terminals() {
        let no_color = ui(true, true, &[("NO_COLOR", "1")]);
        assert!(!no_color.color && no_color.interactive);
        let dumb = ui(true, true, &[("TERM", "dumb")]);
        assert!(!dumb.color && !dumb.interactive);
        let empty_jenkins = ui(true, true, &[("JENKINS_URL", "")]);
        assert!(empty_jenkins.color && empty_jenkins.interactive);
    }

    #[test]
    fn a_warning_annotation_is_escaped_as_github_requires() {
        assert_eq!(
            warning_annotation("GitHub deployment of acme/shop not updated: 100% down\nretry"),
            "::warning title=kiln::GitHub deployment of acme/shop not updated: 100%25 down%0Aretry"
        );
    }

    #[test]
    fn github_actions_is_recognised() {
        assert!(ui(false, false, &[("GITHUB_ACTIONS", "true")]).github);
        assert!(!ui(false, false, &[("GITHUB_ACTIONS", "false")]).github);
    }
}
