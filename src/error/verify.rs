//! What `kiln verify` found: failed tests (exit code 6), or no usable results
//! at all (exit code 7). Either way nothing is promoted.

use super::{BrokenAt, Described, Error, exit, misrouted};

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
        VerifyBroken {
            subject,
            detail,
            stage,
        } => Described::new(
            exit::BROKEN,
            format!("cannot verify {subject}: {detail}"),
            match stage {
                BrokenAt::Instance => {
                    "nothing was promoted; the test never ran: check the [verify] subnet, security groups and instance profile, and that the image boots (--keep-on-failure keeps the instance to look at)"
                }
                BrokenAt::Goss => {
                    "nothing was promoted; check that goss is installed on the image and that the spec loads (`goss validate` on a machine from this image)"
                }
                BrokenAt::Results => {
                    "nothing was promoted; pass the output of `goss validate --format json` (one run, or one per spec) to --results"
                }
            },
        ),
        other => misrouted("verify", other),
    }
}
