//! The goss module's tests: real report shapes (0.3, 0.4, retries, several specs, encodings).

use super::*;

const PASS: &str = include_str!("../../tests/fixtures/goss/pass.json");
const FAIL: &str = include_str!("../../tests/fixtures/goss/fail.json");
const RETRIES: &str = include_str!("../../tests/fixtures/goss/retries.txt");
const RETRIES_FAILING: &str = include_str!("../../tests/fixtures/goss/retries-still-failing.txt");
const V03_PASS: &str = include_str!("../../tests/fixtures/goss/v03-pass.json");
const V03_ALL_SKIPPED: &str = include_str!("../../tests/fixtures/goss/v03-all-skipped.json");
const TWO_SPECS: &str = include_str!("../../tests/fixtures/goss/two-specs-first-fails.txt");
const JUNIT: &str = include_str!("../../tests/fixtures/goss/junit.xml");

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
