//! The shell script `kiln verify` sends to its instance, and how its output becomes
//! Goss JSON or a reason the image is broken. Pure functions: no AWS here.
//!
//! SSM returns at most 24,000 characters of a command's output, and Goss's JSON
//! for a real spec is often longer; the script therefore prints it gzipped and
//! base64-encoded after a marker line that also carries Goss's exit code. Anything
//! else (no marker, a payload cut short, Goss's 78) is reported as broken, never as
//! a pass: an empty output is what a command that never ran looks like.

use std::io::Read;

use crate::aws::ssm::Invocation;
use crate::model::Span;

/// What the script prints before the payload.
const MARKER: &str = "kiln-goss-results";
/// The script's exit code when no goss binary is on the image.
const NO_GOSS: i32 = 127;
/// Goss's exit code when the gossfile cannot be loaded or has no tests.
const GOSS_BAD_SPEC: i32 = 78;

/// How Goss is run on the instance.
#[derive(Debug, Clone)]
pub struct GossRun<'a> {
    pub spec: &'a [u8],
    pub vars: Option<&'a [u8]>,
    /// Goss's `--retry-timeout`: keep retrying failing tests this long (0: once).
    pub retry_timeout: Span,
    /// Goss's `--sleep` between retries.
    pub sleep: Span,
}

/// The script for AWS-RunShellScript (POSIX sh). The spec travels inside it, so the
/// instance needs nothing but goss, gzip and base64.
pub fn script(run: &GossRun) -> String {
    let b64 = aws_smithy_types::base64::encode;
    let mut lines = vec![
        "set -u".to_string(),
        "dir=$(mktemp -d /tmp/kiln-verify.XXXXXX) || exit 70".to_string(),
        "trap 'rm -rf \"$dir\"' EXIT".to_string(),
        format!("echo '{}' | base64 -d > \"$dir/goss.yaml\"", b64(run.spec)),
    ];
    let mut goss_args = "--gossfile \"$dir/goss.yaml\"".to_string();
    if let Some(vars) = run.vars {
        lines.push(format!(
            "echo '{}' | base64 -d > \"$dir/vars.yaml\"",
            b64(vars)
        ));
        goss_args.push_str(" --vars \"$dir/vars.yaml\"");
    }
    let mut validate = "validate --format json --no-color".to_string();
    if run.retry_timeout.as_secs() > 0 {
        validate.push_str(&format!(
            " --retry-timeout {}s --sleep {}s",
            run.retry_timeout.as_secs(),
            run.sleep.as_secs().max(1)
        ));
    }
    lines.extend([
        "goss=$(command -v goss || true)".to_string(),
        "[ -z \"$goss\" ] && [ -x /usr/local/bin/goss ] && goss=/usr/local/bin/goss".to_string(),
        format!(
            "if [ -z \"$goss\" ]; then echo 'goss is not installed on this image (not on PATH, not in /usr/local/bin)' >&2; exit {NO_GOSS}; fi"
        ),
        format!("\"$goss\" {goss_args} {validate} > \"$dir/results.json\" 2> \"$dir/stderr\""),
        "rc=$?".to_string(),
        "tail -c 2000 \"$dir/stderr\" >&2".to_string(),
        format!("echo \"{MARKER} exit=$rc encoding=gzip+base64\""),
        "gzip -9c \"$dir/results.json\" | base64 | tr -d '\\n'".to_string(),
        "echo".to_string(),
        "exit $rc".to_string(),
    ]);
    lines.join("\n")
}

/// A one-line description of the script for the plan and logs.
pub fn summary(run: &GossRun, spec_name: &str) -> String {
    let mut text = format!("goss validate --format json of {spec_name}");
    if run.retry_timeout.as_secs() > 0 {
        text.push_str(&format!(
            " --retry-timeout {} --sleep {}",
            run.retry_timeout, run.sleep
        ));
    }
    text
}

/// The Goss JSON the command printed, or why there is none (the image or its
/// infrastructure is broken).
pub fn results(invocation: &Invocation) -> Result<String, String> {
    let stderr = last_lines(&invocation.stderr);
    let with_stderr = |text: String| match &stderr {
        Some(tail) => format!("{text}; its stderr ends with: {tail}"),
        None => text,
    };
    let mut lines = invocation.stdout.lines();
    let header = lines.by_ref().find(|line| line.starts_with(MARKER));
    let Some(header) = header else {
        return Err(with_stderr(match invocation.exit_code {
            NO_GOSS => "goss is not installed on the image".to_string(),
            _ if invocation.stdout.trim().is_empty() => format!(
                "the command printed nothing (SSM status {}, exit code {}): no Goss results",
                invocation.status, invocation.exit_code
            ),
            _ => format!(
                "the command's output holds no Goss results (SSM status {}, exit code {})",
                invocation.status, invocation.exit_code
            ),
        }));
    };
    let goss_exit: Option<i32> = header
        .split_whitespace()
        .find_map(|word| word.strip_prefix("exit="))
        .and_then(|code| code.parse().ok());
    if goss_exit == Some(GOSS_BAD_SPEC) {
        return Err(with_stderr(
            "goss could not load the spec or found no tests in it (exit code 78)".to_string(),
        ));
    }
    let payload = lines.next().unwrap_or("").trim();
    let cut_short = || {
        with_stderr(
            "the Goss results were cut short: SSM returns at most 24,000 characters of output; split the spec into smaller ones".to_string(),
        )
    };
    let compressed = aws_smithy_types::base64::decode(payload).map_err(|_| cut_short())?;
    let mut json = String::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .read_to_string(&mut json)
        .map_err(|_| cut_short())?;
    Ok(json)
}

/// The last few lines of a command's stderr, joined for a one-line message.
fn last_lines(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(3)..];
    (!tail.is_empty()).then(|| tail.join(" | "))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;

    /// What the script prints for `json` and `exit`, as the instance would.
    pub(crate) fn printed(json: &str, exit: i32) -> String {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(json.as_bytes()).unwrap();
        let payload = aws_smithy_types::base64::encode(encoder.finish().unwrap());
        format!("{MARKER} exit={exit} encoding=gzip+base64\n{payload}\n")
    }

    pub(crate) fn finished(stdout: &str, stderr: &str, exit: i32) -> Invocation {
        Invocation {
            status: if exit == 0 { "Success" } else { "Failed" }.into(),
            exit_code: exit,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    const REPORT: &str = r#"{"results":[],"summary":{"failed-count":0,"test-count":1}}"#;

    #[test]
    fn results_come_back_whole() {
        let invocation = finished(&printed(REPORT, 0), "", 0);
        assert_eq!(results(&invocation).unwrap(), REPORT);
    }

    #[test]
    fn failed_tests_still_carry_results() {
        let invocation = finished(&printed(REPORT, 1), "", 1);
        assert_eq!(results(&invocation).unwrap(), REPORT);
    }

    #[test]
    fn empty_output_is_broken_never_a_pass() {
        let invocation = Invocation {
            status: "Success".into(),
            exit_code: 0,
            stdout: String::new(),
            stderr: String::new(),
        };
        assert_eq!(
            results(&invocation).unwrap_err(),
            "the command printed nothing (SSM status Success, exit code 0): no Goss results"
        );
    }

    #[test]
    fn missing_goss_and_bad_specs_are_named() {
        let missing = finished(
            "",
            "goss is not installed on this image (not on PATH, not in /usr/local/bin)\n",
            127,
        );
        assert_eq!(
            results(&missing).unwrap_err(),
            "goss is not installed on the image; its stderr ends with: goss is not installed on this image (not on PATH, not in /usr/local/bin)"
        );
        let bad = finished(&printed("", 78), "Error: found 0 tests\n", 78);
        assert_eq!(
            results(&bad).unwrap_err(),
            "goss could not load the spec or found no tests in it (exit code 78); its stderr ends with: Error: found 0 tests"
        );
    }

    #[test]
    fn truncated_output_says_why() {
        let whole = printed(&"x".repeat(100_000), 0);
        let invocation = finished(&whole[..whole.len() / 2], "", 0);
        assert!(
            results(&invocation)
                .unwrap_err()
                .starts_with("the Goss results were cut short")
        );
    }

    /// The script runs under a real POSIX shell with a stand-in `goss` on PATH that
    /// records its arguments and prints a report: what kiln decodes is that report.
    #[test]
    fn the_script_runs_goss_on_the_spec_and_prints_decodable_results() {
        let bin = std::env::temp_dir().join(format!("kiln-remote-test-{}", std::process::id()));
        std::fs::create_dir_all(&bin).unwrap();
        let goss = bin.join("goss");
        std::fs::write(
            &goss,
            format!(
                "#!/bin/sh\necho \"$@\" > '{args}'\ncat \"$2\" > '{spec}'\necho '{REPORT}'\nexit 1\n",
                args = bin.join("args").display(),
                spec = bin.join("spec").display(),
            ),
        )
        .unwrap();
        std::fs::set_permissions(&goss, std::fs::Permissions::from_mode(0o755)).unwrap();
        let run = GossRun {
            spec: b"package:\n  nginx:\n    installed: true\n",
            vars: None,
            retry_timeout: Span::secs(60),
            sleep: Span::secs(5),
        };
        let output = Command::new("sh")
            .arg("-c")
            .arg(script(&run))
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .output()
            .unwrap();
        let invocation = finished(
            &String::from_utf8_lossy(&output.stdout),
            &String::from_utf8_lossy(&output.stderr),
            output.status.code().unwrap(),
        );
        assert_eq!(invocation.exit_code, 1, "goss's exit code is the script's");
        assert_eq!(results(&invocation).unwrap().trim(), REPORT);
        let args = std::fs::read_to_string(bin.join("args")).unwrap();
        assert!(
            args.ends_with("validate --format json --no-color --retry-timeout 60s --sleep 5s\n"),
            "{args}"
        );
        assert_eq!(std::fs::read(bin.join("spec")).unwrap(), run.spec);
        std::fs::remove_dir_all(&bin).unwrap();
    }
}
