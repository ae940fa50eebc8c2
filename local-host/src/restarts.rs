//! The host's restart rules for the handler (docs/host-protocol.md, "Start-up and readiness";
//! HttpFunctionInvocationDispatcher): exit 0 is never restarted, exit 200
//! is an intentional restart that is not counted, and any other exit or a
//! readiness timeout is a failure. Failures are counted until a gap of 30
//! minutes without one clears the count; the third stops the host.
//! local-host waits a moment before each restart, so a handler that exits
//! at once cannot make it spin.

use std::time::{Duration, Instant};

/// The failure that stops the host.
pub const FAILURE_LIMIT: usize = 3;

/// A failure this long after the previous one starts a new count.
pub const QUIET_PERIOD: Duration = Duration::from_secs(30 * 60);

/// The pause before every restart.
pub const RESTART_DELAY: Duration = Duration::from_secs(1);

/// The exit code with which a handler asks to be restarted.
pub const RESTART_CODE: i32 = 200;

/// What the host does after the handler ended, or was not ready in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Exit 0: not restarted; every later invocation fails.
    GiveUp,
    /// Restart; `counted` is `Some(n)` for the n-th counted failure.
    Restart { counted: Option<usize> },
    /// The third failure: the host stops.
    StopHost,
}

/// The failures counted so far.
#[derive(Clone, Debug, Default)]
pub struct Failures {
    count: usize,
    last: Option<Instant>,
}

impl Failures {
    /// Counts a failure at `now`; a failure more than [`QUIET_PERIOD`]
    /// after the last one starts the count again (the host clears its
    /// error stack then).
    pub fn record(&mut self, now: Instant) -> usize {
        if self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) > QUIET_PERIOD)
        {
            self.count = 0;
        }
        self.count += 1;
        self.last = Some(now);
        self.count
    }

    /// What follows an exit with `code` (`None`: killed by a signal) at
    /// `now`.
    pub fn after_exit(&mut self, code: Option<i32>, now: Instant) -> Next {
        match code {
            Some(0) => Next::GiveUp,
            Some(RESTART_CODE) => Next::Restart { counted: None },
            _ => self.after_failure(now),
        }
    }

    /// What follows a counted failure (a bad exit, a readiness timeout).
    pub fn after_failure(&mut self, now: Instant) -> Next {
        let count = self.record(now);
        if count >= FAILURE_LIMIT {
            Next::StopHost
        } else {
            Next::Restart {
                counted: Some(count),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_0_gives_up_and_200_restarts_uncounted() {
        let mut failures = Failures::default();
        let now = Instant::now();
        assert_eq!(failures.after_exit(Some(0), now), Next::GiveUp);
        for _ in 0..10 {
            assert_eq!(
                failures.after_exit(Some(200), now),
                Next::Restart { counted: None }
            );
        }
        assert_eq!(failures.count, 0);
    }

    #[test]
    fn the_third_failure_stops_the_host() {
        let mut failures = Failures::default();
        let now = Instant::now();
        assert_eq!(
            failures.after_exit(Some(1), now),
            Next::Restart { counted: Some(1) }
        );
        // A readiness timeout counts as a failure too; so does a signal.
        assert_eq!(
            failures.after_failure(now),
            Next::Restart { counted: Some(2) }
        );
        assert_eq!(failures.after_exit(None, now), Next::StopHost);
    }

    #[test]
    fn the_count_clears_only_after_a_30_minute_gap() {
        let mut failures = Failures::default();
        let start = Instant::now();
        // Two failures 29 minutes apart, then a third 29 minutes later:
        // 58 minutes in all, but never a 30-minute gap.
        let minutes = |m: u64| start + Duration::from_secs(m * 60);
        assert_eq!(failures.record(minutes(0)), 1);
        assert_eq!(failures.record(minutes(29)), 2);
        assert_eq!(failures.after_failure(minutes(58)), Next::StopHost);

        let mut failures = Failures::default();
        assert_eq!(failures.record(minutes(0)), 1);
        assert_eq!(failures.record(minutes(10)), 2);
        // Exactly 30 minutes is not more than 30 minutes.
        assert_eq!(failures.record(minutes(40)), 3);
        let mut failures = Failures::default();
        assert_eq!(failures.record(minutes(0)), 1);
        assert_eq!(failures.record(minutes(10)), 2);
        assert_eq!(
            failures.after_failure(minutes(40) + Duration::from_secs(1)),
            Next::Restart { counted: Some(1) }
        );
    }
}
