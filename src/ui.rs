//! What a person at a terminal sees besides results: colour, progress, notes, logs.
//!
//! Colour only when stdout is a terminal and NO_COLOR is unset; spinners only when
//! stderr is a terminal, plain periodic lines otherwise (CI logs). Logs go to stderr
//! through tracing; stdout carries only results.

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

/// How often a non-interactive wait prints a line.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(10);

impl Ui {
    pub fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        Self {
            color: std::io::stdout().is_terminal() && !no_color && !dumb,
            interactive: std::io::stderr().is_terminal() && !dumb,
            github: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
        }
    }

    /// A message for the person running kiln, on stderr.
    pub fn note(&self, message: impl AsRef<str>) {
        eprintln!("kiln: {}", message.as_ref());
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
            eprintln!("::group::{title}");
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
            None => eprintln!("{line}"),
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.github {
            eprintln!("::endgroup::");
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
            eprintln!(
                "kiln: {} ({}s)",
                self.message,
                self.started.elapsed().as_secs()
            );
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
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_target(verbosity >= 2)
        .try_init();
}
