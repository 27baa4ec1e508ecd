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
mod tests {
    use super::*;

    const PASS: &str = include_str!("../tests/fixtures/goss/pass.json");
    const FAIL: &str = include_str!("../tests/fixtures/goss/fail.json");
    const RETRIES: &str = include_str!("../tests/fixtures/goss/retries.txt");
    const RETRIES_FAILING: &str = include_str!("../tests/fixtures/goss/retries-still-failing.txt");
    const V03_PASS: &str = include_str!("../tests/fixtures/goss/v03-pass.json");
    const V03_ALL_SKIPPED: &str = include_str!("../tests/fixtures/goss/v03-all-skipped.json");
    const TWO_SPECS: &str = include_str!("../tests/fixtures/goss/two-specs-first-fails.txt");
    const JUNIT: &str = include_str!("../tests/fixtures/goss/junit.xml");

    #[test]
    fn goss_0_3_reports_count_their_skipped_results() {
        let report = parse(V03_PASS).unwrap();
        assert!(report.passed());
        assert_eq!(report.summary.skipped_count, 1);
        assert_eq!(
            console(&report),
            "goss: 3 tests, 0 failed, 1 skipped in 0.0s\n"
        );
    }

    #[test]
    fn a_report_where_every_test_was_skipped_tested_nothing() {
        assert_eq!(
            parse(V03_ALL_SKIPPED).unwrap_err(),
            Unusable::AllSkipped { count: 2 }
        );
        assert_eq!(
            Unusable::AllSkipped { count: 2 }.to_string(),
            "all 2 Goss tests were skipped: nothing was tested"
        );
    }

    #[test]
    fn several_specs_reports_all_count_and_only_retries_replace_one() {
        // Two specs' reports one after the other: the first one's failures stand.
        let report = parse(TWO_SPECS).unwrap();
        assert!(!report.passed());
        assert_eq!(report.summary.test_count, 7);
        assert_eq!(report.failures().count(), 2);
        // A retry of the second spec still replaces only the second.
        let retried = format!("{FAIL}{V03_PASS}Retrying in 1s\n{V03_PASS}");
        let report = parse(&retried).unwrap();
        assert_eq!(report.summary.test_count, 7);
        assert!(!report.passed());
    }

    #[test]
    fn utf16_and_byte_order_marks_are_read_as_text() {
        let utf16le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(PASS.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert!(parse(&text(&utf16le)).unwrap().passed());
        let utf16be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(PASS.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert!(parse(&text(&utf16be)).unwrap().passed());
        let with_bom = [&[0xEF, 0xBB, 0xBF][..], b"nope\n"].concat();
        assert_eq!(
            parse(&text(&with_bom)).unwrap_err(),
            Unusable::NotJson {
                first_line: "nope".into()
            }
        );
    }

    #[test]
    fn junit_xml_is_named_as_such() {
        assert_eq!(parse(JUNIT).unwrap_err(), Unusable::Xml);
        assert_eq!(
            Unusable::Xml.to_string(),
            "goss output is XML (JUnit?), not JSON: run goss with --format json"
        );
    }

    #[test]
    fn all_pass() {
        let report = parse(PASS).unwrap();
        assert!(report.passed());
        assert_eq!(report.results.len(), 4);
        assert_eq!(report.results[3].name(), "app health endpoint");
        assert_eq!(report.results[0].name(), "package/nginx/installed");
        assert_eq!(
            console(&report),
            "goss: 4 tests, 0 failed, 0 skipped in 0.0s\n"
        );
    }

    #[test]
    fn failures_keep_their_multi_line_summary() {
        let report = parse(FAIL).unwrap();
        assert!(!report.passed());
        assert_eq!(report.failures().count(), 2);
        let text = console(&report);
        assert!(text.starts_with("goss: 4 tests, 2 failed, 1 skipped in 0.0s\n  FAIL service/kiln-app/running\n       Service: kiln-app: running:\n       Expected\n"), "{text}");
        let annotations = annotations(&report);
        assert_eq!(
            annotations,
            "::error title=goss service/kiln-app/running::Service: kiln-app: running:%0AExpected%0A    false%0Ato equal%0A    true\n\
             ::error title=goss app health endpoint::Http: http://127.0.0.1/health: status:%0AExpected%0A    502%0Ato equal%0A    200\n"
        );
    }

    #[test]
    fn with_retries_the_last_document_decides() {
        assert!(parse(RETRIES).unwrap().passed());
        assert!(!parse(RETRIES_FAILING).unwrap().passed());
        // A last attempt cut off mid-print is unknown, not the earlier pass.
        let cut = format!("{PASS}Retrying in 1s\n{}", &FAIL[..FAIL.len() / 2]);
        assert!(matches!(parse(&cut).unwrap_err(), Unusable::NotJson { .. }));
    }

    #[test]
    fn unusable_output_is_never_a_pass() {
        assert_eq!(parse("").unwrap_err(), Unusable::Empty);
        assert_eq!(parse(" \n\n").unwrap_err(), Unusable::Empty);
        assert_eq!(
            parse("bash: line 1: goss: command not found\n").unwrap_err(),
            Unusable::NotJson {
                first_line: "bash: line 1: goss: command not found".into()
            }
        );
        assert!(matches!(
            parse("{\"results\": \"none\"}").unwrap_err(),
            Unusable::WrongShape { .. }
        ));
        assert_eq!(
            parse("{\"results\": [], \"summary\": {\"test-count\": 0, \"failed-count\": 0}}")
                .unwrap_err(),
            Unusable::NoTests
        );
        // A truncated document (the command timed out mid-print) is not JSON.
        assert!(matches!(
            parse(&PASS[..PASS.len() / 2]).unwrap_err(),
            Unusable::NotJson { .. }
        ));
    }

    #[test]
    fn junit_reads_back_with_the_right_counts() {
        let report = parse(FAIL).unwrap();
        let xml = junit(&report, "kiln verify shop app:3");
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(suite.attribute("name"), Some("kiln verify shop app:3"));
        assert_eq!(suite.attribute("tests"), Some("4"));
        assert_eq!(suite.attribute("failures"), Some("2"));
        assert_eq!(suite.attribute("skipped"), Some("1"));
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 4);
        assert_eq!(cases[2].attribute("name"), Some("app health endpoint"));
        let failure = cases[2]
            .children()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        let body = failure.text().unwrap();
        assert!(body.starts_with("expected: 200\nactual: 502\n"), "{body}");
        assert_eq!(
            cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name("skipped")))
                .count(),
            1
        );
    }

    #[test]
    fn broken_results_are_an_errored_junit_testcase() {
        let xml = junit_broken("kiln verify shop <app:3>", "goss printed nothing");
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(suite.attribute("name"), Some("kiln verify shop <app:3>"));
        assert_eq!(suite.attribute("errors"), Some("1"));
        let error = doc.descendants().find(|n| n.has_tag_name("error")).unwrap();
        assert_eq!(error.attribute("message"), Some("goss printed nothing"));
    }

    #[test]
    fn markdown_lists_failures() {
        let text = markdown(&parse(FAIL).unwrap(), "`ami-12345678` (app:3)");
        assert!(text.starts_with("**kiln verify** `ami-12345678` (app:3): FAILED: 4 tests, 2 failed, 1 skipped\n\n| failed test | summary |\n"), "{text}");
    }
}
