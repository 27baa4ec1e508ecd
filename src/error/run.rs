//! The run as a whole: stopped by a signal (exit code 130), something it created
//! left behind (exit code 3), a file it could not read or write (exit code 1).

use super::{Described, Error, exit, misrouted};

pub(super) fn describe(error: &Error) -> Described {
    use Error::*;
    match error {
        // The message names the file and what the system said about it.
        Io { path, message } => {
            Described::without_help(exit::FAILED, format!("{}: {message}", path.display()))
        }
        // `lib::run` turns it into the plan; it is never printed as an error.
        Offline => {
            Described::without_help(exit::OK, "a dry run without AWS access cannot read AWS")
        }
        OutputClosed => Described::new(
            exit::OUTPUT_CLOSED,
            "stdout was closed before kiln wrote its results",
            "the command itself ran to its end (its changes were made, and what it held was removed); send its output to a file rather than to a reader that quits early",
        ),
        Internal { detail } => Described::new(
            exit::FAILED,
            format!("internal error: {detail}"),
            "this is a bug in kiln: please report it with the command line and this message",
        ),
        Interrupted { signal, what } => Described::new(
            exit::INTERRUPTED,
            format!("interrupted by {signal} while {what}"),
            "nothing was published or promoted, and what kiln had started was removed; run the command again",
        ),
        CleanupFailed {
            left,
            detail,
            after,
        } => {
            let what: Vec<&str> = left.iter().map(|l| l.what.as_str()).collect();
            let mut message = format!("could not remove {}: {detail}", what.join(", "));
            if let Some(cause) = after {
                message.push_str(&format!(" (after: {cause})"));
            }
            // Each thing left says how a person removes it.
            let by_hand: Vec<&str> = left.iter().map(|l| l.by_hand.as_str()).collect();
            Described::new(exit::CLEANUP, message, by_hand.join("; "))
        }
        other => misrouted("run", other),
    }
}
