//! What the front door does when it cannot accept a connection (EMFILE: out
//! of descriptors): it pauses, longer each time, so that the listener,
//! still ready with the waiting connection, does not make it spin; and it
//! says so once per episode of running out, not once per failed accept.
//!
//! An episode ends when connections have been accepted for [`QUIET`]
//! without a failure in between. While descriptors are scarce, each one
//! freed lets one accept through before the next fails; those are still the
//! same episode.

use std::time::{Duration, Instant};

/// The first pause after a failed accept; it doubles up to [`PAUSE_MAX`].
pub const PAUSE: Duration = Duration::from_millis(10);
pub const PAUSE_MAX: Duration = Duration::from_secs(1);

/// How long accepts must succeed, with none failing, for an episode to be
/// over: longer than the longest pause, so that an accept let through
/// between two failures never ends it.
pub const QUIET: Duration = Duration::from_secs(2);

/// The state of the accept loop across failed accepts.
#[derive(Debug)]
pub struct AcceptErrors {
    /// Failed accepts in the current episode; 0 outside one.
    failed: u64,
    /// The next pause.
    pause: Duration,
    /// The first accept since the last failure, in an episode.
    accepting_since: Option<Instant>,
}

impl Default for AcceptErrors {
    fn default() -> AcceptErrors {
        AcceptErrors {
            failed: 0,
            pause: PAUSE,
            accepting_since: None,
        }
    }
}

impl AcceptErrors {
    /// An accept failed with `error`: the line to say (on the first failure
    /// of an episode only) and how long to pause before the next accept.
    pub fn failed(&mut self, error: &std::io::Error) -> (Option<String>, Duration) {
        let said = (self.failed == 0).then(|| {
            format!(
                "[host] cannot accept a connection: {error}; retrying with growing pauses (up to {} s), quiet until it accepts again",
                PAUSE_MAX.as_secs()
            )
        });
        self.failed += 1;
        self.accepting_since = None;
        let pause = self.pause;
        self.pause = (self.pause * 2).min(PAUSE_MAX);
        (said, pause)
    }

    /// A connection was accepted at `now`: a freed descriptor is used at
    /// once, so the pauses start short again.
    pub fn accepted(&mut self, now: Instant) {
        if self.failed > 0 && self.accepting_since.is_none() {
            self.accepting_since = Some(now);
        }
        self.pause = PAUSE;
    }

    /// When the episode is over if no accept fails before; `None` outside
    /// an episode or while accepts fail.
    pub fn over_at(&self) -> Option<Instant> {
        self.accepting_since.map(|since| since + QUIET)
    }

    /// The episode is over (at [`AcceptErrors::over_at`]): the line to say.
    pub fn over(&mut self) -> String {
        let said = format!(
            "[host] accepting connections again, after {} failed attempt(s)",
            self.failed
        );
        *self = AcceptErrors::default();
        said
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emfile() -> std::io::Error {
        std::io::Error::from_raw_os_error(libc::EMFILE)
    }

    #[test]
    fn one_line_when_it_runs_out_and_one_when_it_is_over() {
        let mut errors = AcceptErrors::default();
        let start = Instant::now();
        let (said, pause) = errors.failed(&emfile());
        let said = said.expect("the first failure is said");
        assert!(
            said.starts_with("[host] cannot accept a connection: "),
            "{said}"
        );
        assert!(said.contains("(os error 24)"), "{said}");
        assert_eq!(pause, PAUSE);
        assert_eq!(errors.over_at(), None);
        // Descriptors freed one at a time: accepts between failures.
        for round in 1..5u32 {
            let (said, _) = errors.failed(&emfile());
            assert_eq!(said, None);
            errors.accepted(start + PAUSE_MAX * round);
            assert_eq!(errors.over_at(), Some(start + PAUSE_MAX * round + QUIET));
        }
        let (said, _) = errors.failed(&emfile());
        assert_eq!(said, None);
        assert_eq!(errors.over_at(), None);
        // Then accepts only: the episode is over QUIET after the first.
        let first = start + PAUSE_MAX * 10;
        errors.accepted(first);
        errors.accepted(first + QUIET / 2);
        assert_eq!(errors.over_at(), Some(first + QUIET));
        assert_eq!(
            errors.over(),
            "[host] accepting connections again, after 6 failed attempt(s)"
        );
        assert_eq!(errors.over_at(), None);
        // A later shortage is a new episode, said again.
        assert!(errors.failed(&emfile()).0.is_some());
    }

    #[test]
    fn pauses_double_up_to_the_longest_and_start_short_after_an_accept() {
        let mut errors = AcceptErrors::default();
        let pauses: Vec<Duration> = (0..10).map(|_| errors.failed(&emfile()).1).collect();
        assert_eq!(pauses[0], PAUSE);
        assert_eq!(pauses[1], PAUSE * 2);
        assert!(pauses.windows(2).all(|p| p[1] >= p[0]));
        assert_eq!(pauses[9], PAUSE_MAX);
        errors.accepted(Instant::now());
        assert_eq!(errors.failed(&emfile()).1, PAUSE);
    }

    #[test]
    fn accepts_outside_an_episode_say_nothing() {
        let mut errors = AcceptErrors::default();
        errors.accepted(Instant::now());
        assert_eq!(errors.over_at(), None);
    }
}
