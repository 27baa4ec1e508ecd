//! Waiting for AWS to get somewhere: one poll loop with a deadline, so every wait
//! in kiln backs off the same way and gives up on time.
//!
//! The first check is immediate, then every 1 s, 2 s, 4 s, and every 5 s after
//! that: quick when the emulator or AWS is quick, and a handful of calls a minute
//! for a long wait.

use std::time::{Duration, Instant};

use crate::model::Span;

const FIRST: Duration = Duration::from_secs(1);
const LONGEST: Duration = Duration::from_secs(5);

pub struct Poll {
    deadline: Instant,
    next: Duration,
}

impl Poll {
    pub fn new(timeout: Span) -> Self {
        Self {
            deadline: Instant::now() + timeout.std(),
            next: FIRST,
        }
    }

    /// Sleeps until the next check; `false` when the deadline has passed (then it
    /// does not sleep). The last sleep is cut to end at the deadline, so one more
    /// check happens right at it.
    pub async fn next(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        tokio::time::sleep(self.next.min(self.deadline - now)).await;
        self.next = (self.next * 2).min(LONGEST);
        true
    }
}
