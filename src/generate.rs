//! `kiln completions SHELL` and `kiln man`: shell completion scripts and a man page,
//! generated from the clap definitions in `cli.rs`, so they never drift from the
//! flags kiln really takes.
//!
//! Both run before any configuration is read: they need no app, no kiln.toml and no
//! AWS (a package build or a dotfiles script runs them on a bare machine).

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, Command};
use crate::error::{Error, Result};

/// Prints the completion script or the man page when `command` asks for one;
/// `None` for every other command.
pub fn run(command: &Command) -> Option<Result<()>> {
    let mut out = Vec::new();
    match command {
        Command::Completions(args) => completions(args.shell, &mut out),
        Command::Man(_) => man(&mut out).expect("writing to memory cannot fail"),
        _ => return None,
    }
    let mut stdout = io::stdout().lock();
    Some(match stdout.write_all(&out).and_then(|()| stdout.flush()) {
        // `kiln man | head`: the reader had enough.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Io {
            path: "stdout".into(),
            message: e.to_string(),
        }),
        Ok(()) => Ok(()),
    })
}

/// The completion script for `shell`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "kiln", out);
}

/// One man page, kiln(1): the synopsis, the global options, then a section per
/// command with its own synopsis, description and options, then the exit codes.
///
/// clap_mangen renders a page per command (kiln-bake(1), …); one page is what
/// `kiln man > kiln.1` or `kiln man | man -l -` needs, so the commands' pages are
/// rendered without their title and folded in as subsections.
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let globals: Vec<clap::Id> = cli
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().clone())
        .collect();
    let mut roff = Vec::new();
    let page = clap_mangen::Man::new(cli.clone()).title("KILN");
    page.render_title(&mut roff)?;
    page.render_name_section(&mut roff)?;
    page.render_synopsis_section(&mut roff)?;
    page.render_description_section(&mut roff)?;
    page.render_options_section(&mut roff)?;

    writeln!(roff, ".SH COMMANDS")?;
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        // Global options are described once, above.
        let sub = sub.clone().mut_args(|arg| {
            if globals.contains(arg.get_id()) {
                arg.hide(true)
            } else {
                arg
            }
        });
        writeln!(roff, ".SS \"kiln {}\"", sub.get_name())?;
        let page = clap_mangen::Man::new(sub.clone());
        let mut body = Vec::new();
        page.render_synopsis_section(&mut body)?;
        page.render_description_section(&mut body)?;
        page.render_options_section(&mut body)?;
        if sub.get_after_help().is_some() {
            page.render_extra_section(&mut body)?;
        }
        roff.extend(fold_sections(&String::from_utf8_lossy(&body)).into_bytes());
    }

    if cli.get_after_help().is_some() {
        // The exit codes (cli.rs's after_help).
        writeln!(roff, ".SH \"EXIT STATUS\"")?;
        let mut text = Vec::new();
        page.render_extra_section(&mut text)?;
        roff.extend(fold_sections(&String::from_utf8_lossy(&text)).into_bytes());
    }
    page.render_version_section(&mut roff)?;
    out.write_all(one_preamble(&String::from_utf8_lossy(&roff)).as_bytes())
}

/// Every rendered piece starts with the same two lines that define the `Aq`
/// (apostrophe) string; the page needs them once, right after its `.TH` title.
fn one_preamble(roff: &str) -> String {
    const PREAMBLE: [&str; 2] = [".ie \\n(.g .ds Aq \\(aq", ".el .ds Aq '"];
    let mut page = String::new();
    for line in roff.lines().filter(|line| !PREAMBLE.contains(line)) {
        page.push_str(line);
        page.push('\n');
        if line.starts_with(".TH ") {
            for preamble in PREAMBLE {
                page.push_str(preamble);
                page.push('\n');
            }
        }
    }
    page
}

/// A command's page inside kiln(1): its `.SH` headings become plain paragraphs
/// (SYNOPSIS, DESCRIPTION and EXTRA go; OPTIONS and the like stay as bold labels).
fn fold_sections(roff: &str) -> String {
    let mut folded = String::new();
    for line in roff.lines() {
        match line.strip_prefix(".SH ") {
            Some("SYNOPSIS" | "DESCRIPTION" | "EXTRA") => folded.push_str(".PP\n"),
            Some(heading) => {
                let heading = heading.trim_matches('"');
                folded.push_str(&format!(".PP\n\\fB{heading}\\fR\n"));
            }
            None => {
                folded.push_str(line);
                folded.push('\n');
            }
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn man_page() -> String {
        let mut out = Vec::new();
        man(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_man_page_is_one_page_with_a_section_per_command() {
        let page = man_page();
        assert!(page.starts_with(".TH KILN 1 "), "{page}");
        assert_eq!(page.matches(".TH ").count(), 1, "{page}");
        assert_eq!(page.matches(".ds Aq").count(), 2, "{page}");
        for name in ["bake", "verify", "deploy", "rollback", "completions", "man"] {
            assert!(page.contains(&format!(".SS \"kiln {name}\"\n")), "{name}");
        }
        // Global options once (the synopsis, their heading), not per command.
        assert_eq!(page.matches("\\-\\-dry\\-run").count(), 2, "{page}");
        assert!(page.contains("\n.SH \"GLOBAL OPTIONS\"\n"), "{page}");
        assert!(page.contains(".SH \"EXIT STATUS\"\n"), "{page}");
    }

    #[test]
    fn a_command_keeps_its_own_options_and_headings() {
        let page = man_page();
        let deploy = &page[page.find(".SS \"kiln deploy\"").unwrap()..];
        let deploy = &deploy[..deploy[1..].find(".SS ").unwrap()];
        assert!(deploy.contains("\\-\\-strategy"), "{deploy}");
        assert!(deploy.contains("\\fBROLLOUT\\fR"), "{deploy}");
        assert!(!deploy.contains(".SH"), "{deploy}");
    }
}
