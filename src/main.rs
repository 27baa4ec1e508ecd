//! The `kiln` binary: parse the command line, set up logging, run, exit.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match kiln::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // A pipeline with a mistyped flag: in GitHub Actions, an annotation too.
            if error.use_stderr() && kiln::report::in_github_actions() {
                let text = error.render().to_string();
                let first = text.lines().next().unwrap_or_default();
                let message = first.strip_prefix("error: ").unwrap_or(first);
                kiln::ui::to_stderr(text.trim_end());
                kiln::ui::to_stderr(kiln::report::error_annotation("kiln", message));
                return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
            }
            error.exit()
        }
    };
    kiln::ui::init_logging(cli.global.verbose);
    let command = cli.command.name();
    let format = kiln::config::requested_output(&cli.global, &kiln::config::Env::process());
    match kiln::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            kiln::report::fail(&error, command, format);
            ExitCode::from(error.exit_code())
        }
    }
}
