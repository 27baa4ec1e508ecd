//! What `kiln verify` found: failed tests (exit code 6), or no usable results
//! at all (exit code 7). Either way nothing is promoted.

use super::{Described, Error, exit, misrouted};

pub(super) fn describe(error: &Error) -> Described {
    use Error::*;
    match error {
        TestsFailed {
            subject,
            failed,
            total,
        } => Described::new(
            exit::TESTS_FAILED,
            format!("{failed} of {total} Goss tests failed on {subject}"),
            "nothing was promoted; the failures are listed above (and in the JUnit report with --junit)",
        ),
        VerifyBroken { subject, detail } => Described::new(
            exit::BROKEN,
            format!("cannot verify {subject}: {detail}"),
            "nothing was promoted; check that goss is installed on the image and that the spec loads (`goss validate` on a machine from this image)",
        ),
        other => misrouted("verify", other),
    }
}
