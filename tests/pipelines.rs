//! Every `kiln …` command line in the pipelines we ship (the Jenkinsfile and the
//! GitHub workflows) runs against the built binary with `--dry-run`, so no pipeline
//! calls a subcommand or flag that does not exist, or passes a value kiln refuses:
//! the exit code must not be 2 (usage), and stderr must not carry clap's
//! "unexpected argument" or "unrecognized subcommand".
//!
//! No YAML or Groovy parser: a line scan, on purpose, kept to the shapes these files
//! use (a shape it does not know fails the count checks below rather than being
//! skipped):
//! - Jenkinsfile: `sh 'kiln …'` and `sh "kiln …"` on one line, and the lines that
//!   start with `kiln` inside `sh '''…'''` / `sh """…"""`. `$VAR`, `${VAR}` and
//!   `${env.VAR}` expand to the values of the Jenkinsfile's `environment { NAME =
//!   'value' }` blocks, or to the stand-ins in `jenkins_value`; the words are then
//!   split as the shell would (quotes, no globbing).
//! - Workflows: each step with `uses: ./` (the composite action) becomes what
//!   action.yml runs, `kiln --output json COMMAND… ARGS…`: `command:` split at
//!   whitespace; `args:` on one line split at whitespace, as a block (`|`) one
//!   argument per line. `${{ … }}` expressions get plausible values
//!   (`expression_values`); `a || 'b'` runs once with each alternative. A `run:`
//!   line that starts with `kiln ` is checked as a shell command too.
//!
//! Each command runs as a laptop would run it: `--app demo --dry-run`, no AWS
//! credentials (so reads become plan entries) and an endpoint where nothing
//! listens, in a directory that has the repository's packer/, goss/ and ansible/,
//! and examples/kiln.toml as its kiln.toml (whose environments the deploys name).
//!
//! Then the order of the deploys: staging, then production, each by `--env`, with
//! the GitHub environment (its protection rules) or a Jenkins `input` in between.

use std::collections::BTreeMap;
use std::path::Path;

use crate::harness::{kiln_without_aws, root};

/// One command line found in a pipeline file.
#[derive(Debug)]
struct Found {
    /// `Jenkinsfile:117` or `.github/workflows/ami-pipeline.yml:210`.
    origin: String,
    /// The words after `kiln`.
    args: Vec<String>,
    /// Environment the pipeline gives the step (the action's KILN_APP/KILN_REGION,
    /// the Jenkinsfile's environment block).
    env: Vec<(String, String)>,
}

#[test]
fn every_pipeline_command_line_is_one_kiln_accepts() {
    let mut found = jenkins_commands(&root().join("Jenkinsfile"));
    let jenkins = found.len();
    assert!(
        jenkins >= 6,
        "only {jenkins} kiln commands in the Jenkinsfile"
    );
    let mut workflows: Vec<_> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    workflows.sort();
    for workflow in &workflows {
        found.extend(workflow_commands(workflow));
    }
    assert!(
        found.len() - jenkins >= 7,
        "only {} kiln commands in the workflows",
        found.len() - jenkins
    );

    let failures = check(&found);
    assert!(
        failures.is_empty(),
        "pipeline commands kiln does not accept:\n{}",
        failures.join("\n")
    );
}

/// The line number in `origin` (`FILE:LINE`).
fn line_of(found: &Found) -> usize {
    found.origin.rsplit(':').next().unwrap().parse().unwrap()
}

/// The first command that runs `command` with `--env environment`.
fn by_env<'f>(found: &'f [Found], command: &str, environment: &str) -> &'f Found {
    found
        .iter()
        .find(|f| {
            f.args.iter().any(|a| a == command)
                && f.args
                    .windows(2)
                    .any(|w| w[0] == "--env" && w[1] == environment)
        })
        .unwrap_or_else(|| panic!("no `kiln {command} --env {environment}` in {found:#?}"))
}

#[test]
fn the_jenkinsfile_deploys_staging_then_waits_for_input_then_production() {
    let path = root().join("Jenkinsfile");
    let found = jenkins_commands(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let staging = line_of(by_env(&found, "deploy", "staging"));
    let production = line_of(by_env(&found, "deploy", "production"));
    by_env(&found, "rollback", "production");
    assert!(
        staging < production,
        "staging (line {staging}) deploys first"
    );
    let input = (staging..production)
        .find(|&n| lines[n - 1].trim() == "input {")
        .unwrap_or_else(|| panic!("no `input {{` between lines {staging} and {production}"));
    assert!(staging < input && input < production);
    assert!(
        !text.contains("--asg"),
        "the Jenkinsfile names environments, not groups"
    );
}

#[test]
fn the_workflow_deploys_staging_then_production_in_their_github_environments() {
    let path = root().join(".github/workflows/ami-pipeline.yml");
    let found = workflow_commands(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // A job: a key two spaces in under `jobs:`, up to the next such key.
    let jobs_at = lines.iter().position(|l| *l == "jobs:").unwrap();
    let starts: Vec<usize> = (jobs_at + 1..lines.len())
        .filter(|&i| indentation(lines[i]) == 2 && lines[i].trim_end().ends_with(':'))
        .collect();
    let job_of = |line: usize| -> (String, Vec<&str>) {
        let start = *starts.iter().rev().find(|&&s| s < line).unwrap();
        let end = starts
            .iter()
            .find(|&&s| s > start)
            .copied()
            .unwrap_or(lines.len());
        let name = lines[start].trim().trim_end_matches(':').to_string();
        (name, lines[start..end].to_vec())
    };
    let key = |job: &[&str], key: &str| -> Option<String> {
        job.iter()
            .find(|l| indentation(l) == 4 && l.trim_start().starts_with(&format!("{key}:")))
            .map(|l| l.trim_start()[key.len() + 1..].trim().to_string())
    };
    let (staging, staging_job) = job_of(line_of(by_env(&found, "deploy", "staging")));
    let (production, production_job) = job_of(line_of(by_env(&found, "deploy", "production")));
    assert_eq!(key(&staging_job, "environment").as_deref(), Some("staging"));
    assert_eq!(
        key(&production_job, "environment").as_deref(),
        Some("production")
    );
    let needs = key(&production_job, "needs").unwrap_or_default();
    assert!(
        needs
            .split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .any(|n| n == staging),
        "{production} needs {staging}: {needs}"
    );
    let (_, rollback_job) = job_of(line_of(by_env(&found, "rollback", "production")));
    assert_eq!(
        key(&rollback_job, "environment").as_deref(),
        Some("production")
    );
}

#[test]
fn a_mistyped_command_or_flag_in_a_pipeline_is_caught() {
    let dir = crate::harness::scratch_dir("pipelines");
    let jenkinsfile = crate::harness::write(
        &dir,
        "Jenkinsfile",
        "pipeline {\n  environment {\n    KILN_APP = 'shop'\n  }\n  stages {\n    stage('x') {\n      steps {\n        sh 'kiln deploy app:tested --stratgy rolling'\n        sh \"kiln bake app --force\"\n      }\n    }\n  }\n}\n",
    );
    let workflow = crate::harness::write(
        &dir,
        "pipeline.yml",
        "jobs:\n  x:\n    steps:\n      - uses: ./\n        with:\n          command: purge\n          args: --apply\n      - uses: ./\n        with:\n          command: deploy\n          args: --asg web --batch-size lots\n",
    );
    let mut found = jenkins_commands(&jenkinsfile);
    found.extend(workflow_commands(&workflow));
    let failures = check(&found);
    assert_eq!(failures.len(), 3, "{failures:#?}");
    assert!(failures[0].starts_with("Jenkinsfile:8: `kiln deploy app:tested --stratgy rolling` exits 2:\nerror: unexpected argument '--stratgy' found\n"), "{}", failures[0]);
    assert!(failures[1].starts_with(".github/workflows/pipeline.yml:4: `kiln --output json purge --apply` exits 2:\nerror: unrecognized subcommand 'purge'\n"), "{}", failures[1]);
    assert!(failures[2].starts_with(".github/workflows/pipeline.yml:8: `kiln --output json deploy --asg web --batch-size lots` exits 2:\nerror: invalid value `lots` in --batch-size"), "{}", failures[2]);
}

/// Runs each command as a laptop would (see the top of this file); prints each
/// with its exit code, and returns the ones kiln refused as a usage error.
fn check(found: &[Found]) -> Vec<String> {
    let mut failures = Vec::new();
    println!("kiln command lines checked ({}):", found.len());
    for command in found {
        let kiln = kiln_without_aws()
            .without_env("AWS_ACCESS_KEY_ID")
            .without_env("AWS_SECRET_ACCESS_KEY");
        for tree in ["packer", "goss", "ansible"] {
            std::os::unix::fs::symlink(root().join(tree), kiln.dir().join(tree)).unwrap();
        }
        // The repository's kiln.toml is the example's: its [environments] are what
        // the pipelines' `--env staging` and `--env production` name.
        std::fs::copy(
            root().join("examples/kiln.toml"),
            kiln.dir().join("kiln.toml"),
        )
        .unwrap();
        let mut kiln = kiln.args(["--app", "demo", "--dry-run"]);
        for (name, value) in &command.env {
            kiln = kiln.env(name, value);
        }
        let run = kiln.args(&command.args).run();
        let line = format!("kiln {}", command.args.join(" "));
        let first_error = run
            .stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("");
        println!(
            "  {:<45} exit {}  {line}  {first_error}",
            command.origin, run.code
        );
        let clap = ["error: unexpected argument", "unrecognized subcommand"]
            .iter()
            .any(|m| run.stderr.contains(m));
        if run.code == 2 || clap {
            failures.push(format!(
                "{}: `{line}` exits {}:\n{}",
                command.origin, run.code, run.stderr
            ));
        }
    }
    failures
}

// ---- Jenkinsfile ----

fn jenkins_commands(path: &Path) -> Vec<Found> {
    let text = std::fs::read_to_string(path).unwrap();
    let env = jenkins_environment(&text);
    let mut found = Vec::new();
    let mut block: Option<&str> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        let origin = format!("Jenkinsfile:{}", n + 1);
        if let Some(close) = block {
            if trimmed.starts_with(close) {
                block = None;
            } else if trimmed.starts_with("kiln ") {
                found.push(jenkins_found(origin, trimmed, &env));
            }
            continue;
        }
        let Some(rest) = trimmed.strip_prefix("sh ") else {
            continue;
        };
        let rest = rest.trim();
        if let Some(quotes) = ["'''", "\"\"\""].into_iter().find(|q| rest.starts_with(q)) {
            block = Some(quotes);
            continue;
        }
        if !trimmed.contains("kiln") {
            continue;
        }
        let quote = rest.chars().next().unwrap();
        assert!(
            (quote == '\'' || quote == '"') && rest.ends_with(quote),
            "{origin}: an `sh` step this test cannot read: {trimmed}"
        );
        let script = &rest[1..rest.len() - 1];
        assert!(
            script.starts_with("kiln "),
            "{origin}: an `sh` step that runs kiln in a way this test cannot read: {trimmed}"
        );
        found.push(jenkins_found(origin, script, &env));
    }
    found
}

fn jenkins_found(origin: String, script: &str, env: &BTreeMap<String, String>) -> Found {
    let expanded = expand_shell_variables(script, &|name| {
        env.get(name)
            .cloned()
            .or_else(|| jenkins_value(name).map(str::to_string))
            .unwrap_or_else(|| panic!("{origin}: no value for ${name}: add one to jenkins_value"))
    });
    let words = shell_words(&expanded);
    assert_eq!(words[0], "kiln", "{origin}");
    Found {
        origin,
        args: words[1..].to_vec(),
        env: env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

/// `NAME = 'value'` lines of the Jenkinsfile's `environment { … }` blocks.
fn jenkins_environment(text: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if line == "environment {" {
            inside = true;
        } else if inside && line == "}" {
            inside = false;
        } else if inside && let Some((name, value)) = line.split_once(" = ") {
            let value = value.trim().trim_matches('\'').trim_matches('"');
            env.insert(name.trim().to_string(), value.to_string());
        }
    }
    assert!(env.contains_key("KILN_APP"), "{env:?}");
    env
}

/// What Jenkins itself sets in every `sh` step.
fn jenkins_value(name: &str) -> Option<&'static str> {
    Some(match name {
        "BUILD_URL" => "https://jenkins.example.com/job/shop/7/",
        "BUILD_NUMBER" => "7",
        "GIT_COMMIT" => "0123456789abcdef0123456789abcdef01234567",
        "WORKSPACE" => "/var/lib/jenkins/workspace/shop",
        _ => return None,
    })
}

/// `$NAME`, `${NAME}` and `${env.NAME}` replaced, whatever the quotes.
fn expand_shell_variables(text: &str, value: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced.find('}').expect("a closing }");
            let name = &braced[..end];
            (name.strip_prefix("env.").unwrap_or(name), end + 2)
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        out.push_str(&value(name));
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// Shell word splitting: whitespace between words, '…' and "…" quoting, \ escapes.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

// ---- GitHub workflows ----

fn workflow_commands(path: &Path) -> Vec<Found> {
    let name = format!(
        ".github/workflows/{}",
        path.file_name().unwrap().to_string_lossy()
    );
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let origin = format!("{name}:{}", n + 1);
        let content = strip_comment(line.trim_start().trim_start_matches("- "));
        if uses_this_action(line) {
            found.extend(action_step(&lines, n, &origin));
        } else if let Some(script) = content.trim().strip_prefix("run: ")
            && script.starts_with("kiln ")
        {
            found.extend(workflow_shell(script, &origin));
        } else if content.trim().starts_with("kiln ") {
            found.extend(workflow_shell(content.trim(), &origin));
        }
    }
    found
}

/// A `uses: ./` line (quoted or not, with or without a comment).
fn uses_this_action(line: &str) -> bool {
    strip_comment(line.trim_start().trim_start_matches("- "))
        .trim()
        .strip_prefix("uses:")
        .is_some_and(|value| unquote(value) == "./")
}

/// The command lines of the `uses: ./` step whose `uses:` is on line `at`.
fn action_step(lines: &[&str], at: usize, origin: &str) -> Vec<Found> {
    // The step is the list item that holds this line: its `- ` and the lines
    // indented deeper than that dash.
    let dash = (0..=at)
        .rev()
        .find_map(|i| {
            let indent = indentation(lines[i]);
            (lines[i].trim_start().starts_with("- ") && indent < key_indentation(lines[at]))
                .then_some((i, indent))
        })
        .unwrap_or_else(|| panic!("{origin}: no step around `uses: ./`"));
    let end = (dash.0 + 1..lines.len())
        .find(|&i| !lines[i].trim().is_empty() && indentation(lines[i]) <= dash.1)
        .unwrap_or(lines.len());
    let step = &lines[dash.0..end];
    let inputs = step_inputs(step, origin);
    let command = inputs
        .get("command")
        .unwrap_or_else(|| panic!("{origin}: a `uses: ./` step without `command:`"));
    let args = inputs.get("args").cloned().unwrap_or_default();
    let mut found = Vec::new();
    for (command, args) in variants(command, origin).into_iter().flat_map(|c| {
        variants(&args, origin)
            .into_iter()
            .map(move |a| (c.clone(), a))
    }) {
        // What action.yml's run step does with the inputs.
        let mut words = vec!["--output".to_string(), "json".to_string()];
        words.extend(command.split_whitespace().map(str::to_string));
        if args.contains('\n') {
            words.extend(args.lines().filter(|l| !l.is_empty()).map(str::to_string));
        } else {
            words.extend(args.split_whitespace().map(str::to_string));
        }
        let mut env = Vec::new();
        for (input, variable) in [("app", "KILN_APP"), ("region", "KILN_REGION")] {
            if let Some(value) = inputs.get(input) {
                for value in variants(value, origin).into_iter().take(1) {
                    env.push((variable.to_string(), value));
                }
            }
        }
        found.push(Found {
            origin: origin.to_string(),
            args: words,
            env,
        });
    }
    found
}

/// The `with:` inputs of a step: `key: value` lines, and `key: |` / `key: >` blocks.
fn step_inputs(step: &[&str], origin: &str) -> BTreeMap<String, String> {
    let mut inputs = BTreeMap::new();
    let Some(with) = step
        .iter()
        .position(|l| strip_comment(l.trim_start().trim_start_matches("- ")).trim() == "with:")
    else {
        return inputs;
    };
    let with_indent = key_indentation(step[with]);
    let mut i = with + 1;
    while i < step.len() {
        let line = step[i];
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            i += 1;
            continue;
        }
        let indent = indentation(line);
        if indent <= with_indent {
            break;
        }
        let (key, value) = line
            .trim()
            .split_once(':')
            .unwrap_or_else(|| panic!("{origin}: cannot read `{}` under with:", line.trim()));
        let value = strip_comment(value).trim();
        i += 1;
        let value = if let Some(style) = ["|", "|-", ">", ">-"].into_iter().find(|s| *s == value) {
            let mut block = Vec::new();
            while i < step.len() && (step[i].trim().is_empty() || indentation(step[i]) > indent) {
                block.push(step[i].trim());
                i += 1;
            }
            block.join(if style.starts_with('|') { "\n" } else { " " })
        } else {
            unquote(value)
        };
        inputs.insert(key.trim().to_string(), value);
    }
    inputs
}

/// The text with each `${{ … }}` replaced by a plausible value; an expression with
/// `||` alternatives gives one variant per alternative.
fn variants(text: &str, origin: &str) -> Vec<String> {
    let Some(start) = text.find("${{") else {
        return vec![text.to_string()];
    };
    let end = start + text[start..].find("}}").expect("a closing }}");
    let expression = text[start + 3..end].trim();
    let mut out = Vec::new();
    for alternative in expression.split("||").map(str::trim) {
        let value = if alternative.starts_with('\'') {
            alternative.trim_matches('\'').to_string()
        } else {
            expression_value(alternative).unwrap_or_else(|| {
                panic!(
                    "{origin}: no plausible value for `{alternative}`: add one to expression_value"
                )
            })
        };
        for rest in variants(&text[end + 2..], origin) {
            out.push(format!("{}{value}{rest}", &text[..start]));
        }
    }
    out
}

/// Plausible values of the expressions the workflows use.
fn expression_value(expression: &str) -> Option<String> {
    let value = match expression {
        "vars.KILN_APP" => "demo",
        "vars.AWS_REGION" => "eu-west-1",
        "vars.KILN_ASG" => "demo-asg",
        "github.sha" => "0123456789abcdef0123456789abcdef01234567",
        "github.run_id" => "42",
        "github.ref_name" => "main",
        e if e.starts_with("needs.") && e.ends_with(".outputs.version") => "7",
        e if e.starts_with("needs.") && e.ends_with(".outputs.ami-id") => "ami-0123456789abcdef0",
        e if e.starts_with("steps.") && e.ends_with(".outputs.version") => "7",
        e if e.starts_with("steps.") && e.ends_with(".outputs.ami-id") => "ami-0123456789abcdef0",
        _ => return None,
    };
    Some(value.to_string())
}

fn workflow_shell(script: &str, origin: &str) -> Vec<Found> {
    variants(script, origin)
        .into_iter()
        .map(|script| {
            let words = shell_words(&script);
            Found {
                origin: origin.to_string(),
                args: words[1..].to_vec(),
                env: Vec::new(),
            }
        })
        .collect()
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Where the key of a line starts (after a `- ` list marker).
fn key_indentation(line: &str) -> usize {
    let trimmed = line.trim_start();
    indentation(line) + trimmed.len() - trimmed.trim_start_matches("- ").len()
}

/// The line without a YAML comment (` #` outside quotes; none of ours has quotes around one).
fn strip_comment(line: &str) -> &str {
    match line.find(" #") {
        Some(at) => &line[..at],
        None if line.trim_start().starts_with('#') => "",
        None => line,
    }
}

fn unquote(value: &str) -> String {
    let value = value.trim();
    for quote in ['\'', '"'] {
        if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            return value[1..value.len() - 1].to_string();
        }
    }
    value.to_string()
}

#[test]
fn the_line_scan_reads_what_the_pipelines_write() {
    assert_eq!(
        shell_words(r#"kiln deploy app:tested --asg "shop staging" --x 'a b' c\ d"#),
        [
            "kiln",
            "deploy",
            "app:tested",
            "--asg",
            "shop staging",
            "--x",
            "a b",
            "c d"
        ]
    );
    let env = |name: &str| format!("<{name}>");
    assert_eq!(
        expand_shell_variables("--asg \"$KILN_ASG\" ${BUILD_URL} ${env.X}/y", &env),
        "--asg \"<KILN_ASG>\" <BUILD_URL> <X>/y"
    );
    assert_eq!(
        variants(
            "app:${{ needs.deploy-staging.outputs.version || 'tested' }} --asg ${{ vars.KILN_ASG }}",
            "test"
        ),
        ["app:7 --asg demo-asg", "app:tested --asg demo-asg"]
    );
    let step = [
        "      - id: kiln",
        "        uses: ./ # the action",
        "        with:",
        "          command: verify",
        "          args: |",
        "            app:3",
        "            --junit",
        "            verify report.xml",
        "          app: \"shop\"",
        "      - name: next",
    ];
    let found = action_step(&step, 1, "test");
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].args,
        [
            "--output",
            "json",
            "verify",
            "app:3",
            "--junit",
            "verify report.xml"
        ]
    );
    assert_eq!(found[0].env, [("KILN_APP".to_string(), "shop".to_string())]);
}
