//! Goss results: parsing `goss validate --format json` output, and the reports a
//! person or a CI system reads (console, JUnit XML, Markdown, GitHub annotations).
//!
//! With `--retry-timeout`, Goss prints a whole JSON document per attempt with
//! "Retrying in …" lines between: the last attempt is the verdict. Documents with
//! no such line between them are the reports of several specs (a loop over
//! `goss -g SPEC validate -f json`): each counts, and all must pass. Output that is
//! empty, not JSON, JSON of another shape, or a report in which every test was
//! skipped means the image or its infrastructure is broken; it is never a pass.
//! Both Goss 0.3 (no `skipped-count`) and 0.4 reports are read, in UTF-8 (with or
//! without a byte-order mark) or UTF-16 (a PowerShell redirection).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why output is not a usable Goss report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    Empty,
    NotJson {
        first_line: String,
    },
    /// XML: most likely Goss's JUnit output (`--format junit`), not its JSON.
    Xml,
    WrongShape {
        detail: String,
    },
    NoTests,
    /// Every test was skipped: nothing was tested.
    AllSkipped {
        count: usize,
    },
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Empty => write!(f, "goss printed nothing"),
            Unusable::NotJson { first_line } => {
                write!(f, "goss output is not JSON (it starts with `{first_line}`)")
            }
            Unusable::WrongShape { detail } => {
                write!(f, "goss output is JSON but not a Goss report: {detail}")
            }
            Unusable::Xml => write!(
                f,
                "goss output is XML (JUnit?), not JSON: run goss with --format json"
            ),
            Unusable::NoTests => write!(f, "the Goss spec has no tests"),
            Unusable::AllSkipped { count } => {
                write!(f, "all {count} Goss tests were skipped: nothing was tested")
            }
        }
    }
}

/// One Goss test result.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TestResult {
    #[serde(default)]
    pub title: Option<String>,
    pub resource_type: String,
    pub resource_id: String,
    pub property: String,
    /// 0 pass, 1 fail, 2 skip.
    pub result: u8,
    #[serde(default)]
    pub skipped: bool,
    pub successful: bool,
    pub summary_line: String,
    #[serde(default)]
    pub duration: u64,
    #[serde(default)]
    pub err: Option<Value>,
    #[serde(default)]
    pub matcher_result: Option<MatcherResult>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MatcherResult {
    #[serde(default)]
    pub actual: Value,
    #[serde(default)]
    pub expected: Value,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Summary {
    pub test_count: u64,
    pub failed_count: u64,
    #[serde(default)]
    pub skipped_count: u64,
    /// Nanoseconds.
    #[serde(default)]
    pub total_duration: u64,
}

/// A whole Goss report.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Report {
    pub results: Vec<TestResult>,
    pub summary: Summary,
}

impl TestResult {
    pub fn failed(&self) -> bool {
        self.result == 1
    }

    pub fn is_skipped(&self) -> bool {
        self.result == 2 || self.skipped
    }

    /// The title when set, else `resource-type/resource-id/property`.
    pub fn name(&self) -> String {
        match self.title.as_deref().filter(|t| !t.is_empty()) {
            Some(title) => title.to_string(),
            None => format!(
                "{}/{}/{}",
                self.resource_type, self.resource_id, self.property
            ),
        }
    }
}

impl Report {
    pub fn passed(&self) -> bool {
        self.summary.failed_count == 0 && !self.results.iter().any(TestResult::failed)
    }

    pub fn failures(&self) -> impl Iterator<Item = &TestResult> {
        self.results.iter().filter(|r| r.failed())
    }

    pub fn seconds(&self) -> f64 {
        self.summary.total_duration as f64 / 1e9
    }
}

/// Goss's output as text: UTF-8 with or without a byte-order mark, or UTF-16 with
/// one (PowerShell's `>` writes UTF-16LE). Bytes that are none of these are kept as
/// well as they can be, so the message shows what the file starts with.
pub fn text(bytes: &[u8]) -> String {
    let utf16 = |bytes: &[u8], unit: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The verdict in `output`: the last attempt of each spec's report, all specs
/// together.
pub fn parse(output: &str) -> Result<Report, Unusable> {
    let text = output.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err(Unusable::Empty);
    }
    if text.starts_with('<') {
        return Err(Unusable::Xml);
    }
    let first_line =
        |from: &str| -> String { from.lines().next().unwrap_or("").chars().take(80).collect() };
    // Each document starts at the beginning of a line. A "Retrying" line between
    // two documents makes the second replace the first (a later attempt of the
    // same spec); otherwise the second is another spec's report.
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| text[i..].starts_with('{'))
        .collect();
    if starts.is_empty() {
        return Err(Unusable::NotJson {
            first_line: first_line(text),
        });
    }
    let mut reports: Vec<Report> = Vec::new();
    let mut end = 0;
    for start in starts {
        if start < end {
            continue; // inside the document just read
        }
        let between = &text[end..start];
        let mut documents = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        // A document that does not parse (cut off by a timeout, not Goss's) leaves
        // the verdict unknown: an earlier attempt never stands in for it.
        let value = match documents.next() {
            Some(Ok(value)) => value,
            _ => {
                return Err(Unusable::NotJson {
                    first_line: first_line(&text[start..]),
                });
            }
        };
        end = start + documents.byte_offset();
        let mut report =
            serde_json::from_value::<Report>(value).map_err(|e| Unusable::WrongShape {
                detail: e.to_string(),
            })?;
        // Goss 0.3 reports no skipped-count: count the skipped results.
        let skipped = report.results.iter().filter(|r| r.is_skipped()).count() as u64;
        report.summary.skipped_count = report.summary.skipped_count.max(skipped);
        if between.contains("Retrying") {
            reports.pop();
        }
        reports.push(report);
    }
    let report = combined(reports);
    if report.summary.test_count == 0 && report.results.is_empty() {
        return Err(Unusable::NoTests);
    }
    if !report.results.is_empty() && report.results.iter().all(TestResult::is_skipped) {
        return Err(Unusable::AllSkipped {
            count: report.results.len(),
        });
    }
    Ok(report)
}

/// Several specs' reports as one: their results, and their counts added up.
fn combined(mut reports: Vec<Report>) -> Report {
    let mut first = reports.remove(0);
    for report in reports {
        first.results.extend(report.results);
        first.summary.test_count += report.summary.test_count;
        first.summary.failed_count += report.summary.failed_count;
        first.summary.skipped_count += report.summary.skipped_count;
        first.summary.total_duration += report.summary.total_duration;
    }
    first
}

/// The console summary: counts, duration and each failure with its summary line.
pub fn console(report: &Report) -> String {
    let s = &report.summary;
    let mut out = format!(
        "goss: {} tests, {} failed, {} skipped in {:.1}s\n",
        s.test_count,
        s.failed_count,
        s.skipped_count,
        report.seconds()
    );
    for failure in report.failures() {
        out.push_str(&format!("  FAIL {}\n", failure.name()));
        for line in failure.summary_line.lines() {
            out.push_str(&format!("       {line}\n"));
        }
    }
    out
}

/// JUnit XML: one testcase per Goss result; failures carry expected and actual,
/// skips are `<skipped/>`. Jenkins' `junit` step and GitHub test reporters read it.
pub fn junit(report: &Report, suite: &str) -> String {
    let s = &report.summary;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n",
        report.results.len(),
        report.failures().count(),
        report.results.iter().filter(|r| r.is_skipped()).count(),
        report.seconds()
    ));
    out.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n",
        xml(suite),
        report.results.len(),
        report.failures().count(),
        report.results.iter().filter(|r| r.is_skipped()).count(),
        s.total_duration as f64 / 1e9
    ));
    for result in &report.results {
        out.push_str(&format!(
            "    <testcase classname=\"goss.{}\" name=\"{}\" time=\"{:.3}\"",
            xml(&result.resource_type),
            xml(&result.name()),
            result.duration as f64 / 1e9
        ));
        if result.failed() {
            let (expected, actual) = match &result.matcher_result {
                Some(m) => (m.expected.to_string(), m.actual.to_string()),
                None => ("?".into(), "?".into()),
            };
            out.push_str(&format!(
                ">\n      <failure message=\"{}\">expected: {}\nactual: {}\n{}</failure>\n    </testcase>\n",
                xml(result.summary_line.lines().next().unwrap_or("")),
                xml(&expected),
                xml(&actual),
                xml(&result.summary_line)
            ));
        } else if result.is_skipped() {
            out.push_str(">\n      <skipped/>\n    </testcase>\n");
        } else {
            out.push_str("/>\n");
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// JUnit XML for results that could not be used: one errored testcase saying why.
pub fn junit_broken(suite: &str, why: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"1\" failures=\"0\" errors=\"1\">\n  <testsuite name=\"{}\" tests=\"1\" failures=\"0\" errors=\"1\">\n    <testcase classname=\"goss\" name=\"goss results\">\n      <error message=\"{}\"/>\n    </testcase>\n  </testsuite>\n</testsuites>\n",
        xml(suite),
        xml(why)
    )
}

/// A Markdown summary for GITHUB_STEP_SUMMARY.
pub fn markdown(report: &Report, subject: &str) -> String {
    let s = &report.summary;
    let verdict = if report.passed() { "passed" } else { "FAILED" };
    let mut out = format!(
        "**kiln verify** {subject}: {verdict}: {} tests, {} failed, {} skipped\n",
        s.test_count, s.failed_count, s.skipped_count
    );
    let rows: Vec<Vec<String>> = report
        .failures()
        .map(|f| {
            vec![
                f.name(),
                f.summary_line.replace('\n', " ").replace('|', "\\|"),
            ]
        })
        .collect();
    if !rows.is_empty() {
        out.push('\n');
        out.push_str(&crate::report::markdown_table(
            &["failed test", "summary"],
            &rows,
        ));
    }
    out
}

/// `::error` annotations for GitHub Actions, one per failure, titled `goss NAME`
/// (escaped by `report::error_annotation`, the one encoder of annotations).
pub fn annotations(report: &Report) -> String {
    report
        .failures()
        .map(|f| {
            let title = format!("goss {}", f.name());
            format!(
                "{}\n",
                crate::report::error_annotation(&title, &f.summary_line)
            )
        })
        .collect()
}

fn xml(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests;
