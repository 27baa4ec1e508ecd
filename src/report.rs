//! Results leave kiln here: human text or JSON on stdout, GitHub step outputs and
//! the step summary, and the one place errors are printed.
//!
//! Stages build an `Outcome` (data); this module decides how it is shown.

pub mod files;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::config::OutputFormat;
use crate::effect::{Changes, PlanEntry};
use crate::error::{Error, Result};
use crate::ui::{Ui, to_stderr};

/// Every name kiln writes to GITHUB_OUTPUT; `action.yml` declares each (GitHub
/// drops outputs a composite action does not declare), which a test checks.
pub const STEP_OUTPUTS: &[&str] = &[
    "ami-id",
    "version",
    "channel",
    "parameter",
    "inputs-hash",
    "baked",
    "passed",
    "asg",
    "launch-template-version",
    "deleted",
    "dry-run",
];

/// What a command produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Human text for stdout: what was found or produced, true in a dry run too
    /// (may be empty).
    pub text: String,
    /// What was changed, in the past tense ("revoked ami-…"): shown after `text`
    /// when the changes were made. A dry run shows its plan in its place.
    pub done: String,
    /// Whether the changes were made or only planned; `lib::run` takes it from
    /// the effect gate, so no stage words a dry run itself.
    pub changes: Changes,
    /// The same result as data, for `--output json`; an object.
    pub json: Value,
    /// `name=value` pairs for GITHUB_OUTPUT.
    pub step_outputs: Vec<(&'static str, String)>,
    /// A short Markdown summary for GITHUB_STEP_SUMMARY.
    pub summary: Option<String>,
    /// The command failed, but only after producing this outcome (failed tests):
    /// the outcome is shown, then this error decides the exit code.
    pub failure: Option<Error>,
}

/// Writes the outcome: stdout in the chosen format, then the GitHub files if set.
pub fn emit(mut outcome: Outcome, format: OutputFormat, plan: &[PlanEntry], ui: &Ui) -> Result<()> {
    let failure = outcome.failure.take();
    let dry_run = outcome.changes == Changes::Planned;
    let mut stdout = String::new();
    match format {
        OutputFormat::Json => {
            let mut value = outcome.json;
            if dry_run && let Value::Object(map) = &mut value {
                map.insert("dry_run".into(), Value::Bool(true));
                map.insert("plan".into(), json!(plan));
            }
            // One document on stdout: a failure after results is part of them.
            if let (Some(error), Value::Object(map)) = (&failure, &mut value) {
                map.insert("error".into(), error_json(error)["error"].take());
            }
            stdout.push_str(&serde_json::to_string_pretty(&value).unwrap_or_default());
            stdout.push('\n');
        }
        OutputFormat::Text => {
            stdout.push_str(&outcome.text);
            if !dry_run {
                stdout.push_str(&outcome.done);
            }
            // An empty plan adds nothing: `$(kiln resolve …)` stays just the AMI id.
            if dry_run && !plan.is_empty() {
                stdout.push_str(&ui.bold("dry run: nothing was changed; the plan:"));
                stdout.push('\n');
                for entry in plan {
                    stdout.push_str(&format!("  {entry}\n"));
                }
            }
        }
    }
    // A reader that quit early (`| head`) gets what it took; the GitHub files
    // are still written, then the exit code says the results were not delivered.
    let delivered = {
        let mut out = std::io::stdout().lock();
        out.write_all(stdout.as_bytes()).and_then(|()| out.flush())
    };
    RESULTS_PRINTED.store(true, Ordering::Relaxed);

    if let Some(path) = github_file("GITHUB_OUTPUT") {
        let mut lines = String::new();
        for (name, value) in &outcome.step_outputs {
            debug_assert!(STEP_OUTPUTS.contains(name), "{name} is not in STEP_OUTPUTS");
            lines.push_str(&format!("{name}={}\n", single_line(value)));
        }
        if dry_run {
            lines.push_str("dry-run=true\n");
        }
        append(&path, "GITHUB_OUTPUT", &lines);
    }
    if let (Some(path), Some(summary)) = (github_file("GITHUB_STEP_SUMMARY"), outcome.summary) {
        let note = if dry_run {
            " (dry run: nothing was changed)"
        } else {
            ""
        };
        append(&path, "GITHUB_STEP_SUMMARY", &format!("{summary}{note}\n"));
    }
    match (failure, delivered) {
        (Some(error), _) => Err(error),
        (None, Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Error::OutputClosed),
        (None, Err(e)) => Err(Error::Io {
            path: "stdout".into(),
            message: format!("cannot write the results: {e}"),
        }),
        (None, Ok(())) => Ok(()),
    }
}

/// Set once `emit` has written the results to stdout: an error after them is
/// already part of them, and `fail` prints no second JSON document.
static RESULTS_PRINTED: AtomicBool = AtomicBool::new(false);

/// A failed command, as a pipeline reads it: the error on stderr (`print_error`),
/// with `--output json` an error object on stdout, and a step summary saying why.
pub fn fail(error: &Error, command: &str, format: OutputFormat) {
    print_error(error, command);
    if format == OutputFormat::Json
        && !RESULTS_PRINTED.load(Ordering::Relaxed)
        && !matches!(error, Error::OutputClosed)
    {
        let text = serde_json::to_string_pretty(&error_json(error)).unwrap_or_default();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}").and_then(|()| out.flush());
    }
    // Not when the summary is the file found unwritable: that says it already.
    if let Some(path) = github_file("GITHUB_STEP_SUMMARY")
        && !matches!(error, Error::OutputUnwritable { path: bad, .. } if *bad == path)
    {
        append(
            &path,
            "GITHUB_STEP_SUMMARY",
            &failure_summary(error, command),
        );
    }
}

/// `{"error": {"message", "help", "exit_code"}}`.
fn error_json(error: &Error) -> Value {
    json!({"error": {
        "message": error.to_string(),
        "help": error.help(),
        "exit_code": error.exit_code(),
    }})
}

/// The step summary of a failed command.
fn failure_summary(error: &Error, command: &str) -> String {
    let mut text = format!("### kiln {command} failed\n\n{error}\n");
    if let Some(help) = error.help() {
        text.push_str(&format!("\nhelp: {help}\n"));
    }
    text
}

/// Prints an error and its help once, on stderr. In GitHub Actions it is also an
/// `::error` annotation (titled `kiln COMMAND`), so the failure shows on the run's
/// page and not only deep in its log.
pub fn print_error(error: &Error, command: &str) {
    to_stderr(format_args!("error: {error}"));
    let help = error.help();
    if let Some(help) = &help {
        to_stderr(format_args!("  help: {help}"));
    }
    if in_github_actions() {
        let message = match help {
            Some(help) => format!("{error}\nhelp: {help}"),
            None => error.to_string(),
        };
        to_stderr(error_annotation(&format!("kiln {command}"), &message));
    }
}

/// Running as a GitHub Actions step.
pub fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// A GitHub Actions `::error` workflow command.
pub fn error_annotation(title: &str, message: &str) -> String {
    annotation("error", title, message)
}

/// A GitHub Actions workflow command of `level` (`error`, `warning`). GitHub requires
/// `%`, CR and LF escaped in the message, and also `:` and `,` in a property such as the title.
pub fn annotation(level: &str, title: &str, message: &str) -> String {
    let data = |text: &str| {
        text.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let title = data(title).replace(':', "%3A").replace(',', "%2C");
    format!("::{level} title={title}::{}", data(message))
}

pub(crate) fn github_file(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Step output values must not span lines; kiln's never should, but never break the file.
fn single_line(value: &str) -> String {
    value.replace(['\n', '\r'], " ")
}

/// Appends to a GitHub file. It was checked before any change (`files`): failing
/// now changes nothing about what the command did, so it is a warning only.
fn append(path: &PathBuf, what: &str, text: &str) {
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        crate::ui::warn(format!("could not write {what} at {}: {e}", path.display()));
    }
}

/// An aligned text table: columns separated by two spaces, header in bold.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: Vec<&'static str>) -> Self {
        Self {
            headers,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self, ui: &Ui) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let line = |cells: Vec<String>, paint: &dyn Fn(&str) -> String| {
            let last = cells.len().saturating_sub(1);
            let mut out = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let padded = if i == last {
                    cell.clone()
                } else {
                    format!("{cell:<width$}  ", width = widths[i])
                };
                out.push_str(&paint(&padded));
            }
            out.trim_end().to_string() + "\n"
        };
        let mut out = line(self.headers.iter().map(|h| h.to_string()).collect(), &|s| {
            ui.bold(s)
        });
        for row in &self.rows {
            out.push_str(&line(row.clone(), &|s| s.to_string()));
        }
        out
    }
}

/// A Markdown table, for step summaries.
pub fn markdown_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        headers.join(" | "),
        "---|".repeat(headers.len())
    );
    for row in rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_declares_every_output_kiln_writes() {
        let action = include_str!("../action.yml");
        let outputs = &action[action.find("\noutputs:").expect("an outputs block")..];
        let outputs = &outputs[..outputs.find("\nruns:").unwrap_or(outputs.len())];
        for name in STEP_OUTPUTS {
            assert!(
                outputs.contains(&format!("\n  {name}:\n")),
                "action.yml does not declare the output {name}"
            );
            assert!(
                outputs.contains(&format!("steps.run.outputs.{name} }}}}")),
                "action.yml's {name} does not read the run step's output"
            );
        }
    }

    #[test]
    fn tables_align_columns() {
        let mut table = Table::new(vec!["VERSION", "AMI"]);
        table.row(vec!["3".into(), "ami-12345678".into()]);
        table.row(vec!["12".into(), "ami-87654321".into()]);
        let ui = Ui::detect();
        let text = table.render(&ui);
        let plain: String = text.replace("\x1b[1m", "").replace("\x1b[0m", "");
        assert_eq!(
            plain,
            "VERSION  AMI\n3        ami-12345678\n12       ami-87654321\n"
        );
    }

    #[test]
    fn annotations_escape_what_github_requires() {
        assert_eq!(
            error_annotation("kiln deploy: a, b", "100% done\r\nnext line\n"),
            "::error title=kiln deploy%3A a%2C b::100%25 done%0D%0Anext line%0A"
        );
        assert_eq!(
            error_annotation("kiln", "`app:7` is revoked"),
            "::error title=kiln::`app:7` is revoked"
        );
    }

    #[test]
    fn a_failure_is_an_error_object_and_a_summary_section() {
        let error = Error::NoApp;
        assert_eq!(
            error_json(&error),
            json!({"error": {
                "message": "no app name given",
                "help": "pass --app NAME, set KILN_APP, or add `app = \"NAME\"` to kiln.toml",
                "exit_code": 2,
            }})
        );
        assert_eq!(
            failure_summary(&error, "publish"),
            "### kiln publish failed\n\nno app name given\n\nhelp: pass --app NAME, set KILN_APP, or add `app = \"NAME\"` to kiln.toml\n"
        );
        // Without help, no help line and `null` in the object.
        let error = Error::Io {
            path: "x".into(),
            message: "gone".into(),
        };
        assert_eq!(error_json(&error)["error"]["help"], Value::Null);
        assert_eq!(
            failure_summary(&error, "verify"),
            "### kiln verify failed\n\nx: gone\n"
        );
    }

    #[test]
    fn a_github_file_that_cannot_be_written_afterwards_is_no_error() {
        // Checked before the changes (`files`); gone since: a warning, nothing returned.
        append(
            &PathBuf::from("/nonexistent/kiln/github-output"),
            "GITHUB_OUTPUT",
            "version=3\n",
        );
    }

    #[test]
    fn markdown_tables_have_a_separator_row() {
        let text = markdown_table(&["a", "b"], &[vec!["1".into(), "2".into()]]);
        assert_eq!(text, "| a | b |\n|---|---|\n| 1 | 2 |\n");
    }
}
