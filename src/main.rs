//! The `kiln` binary: parse the command line, set up logging, run, exit.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = kiln::cli::Cli::parse();
    kiln::ui::init_logging(cli.global.verbose);
    match kiln::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            kiln::report::print_error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}
