//! The retry policy of an activity or sub-orchestration call.

use std::time::Duration;

use super::clock::{self, Micros};

/// When a failed activity or sub-orchestration is tried again: after
/// `first_retry_interval`, each wait `backoff_coefficient` times the one
/// before, at most `max_retry_interval`, `max_number_of_attempts` in all.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// The wait before the second attempt.
    pub first_retry_interval: Duration,
    /// Attempts in all, the first included (at least 1).
    pub max_number_of_attempts: u32,
    /// The factor from one wait to the next (at least 1.0).
    pub backoff_coefficient: f64,
    /// The longest wait, if any.
    pub max_retry_interval: Option<Duration>,
    /// No retry starts later than this after the first attempt, if set.
    pub retry_timeout: Option<Duration>,
}

impl RetryPolicy {
    /// `max_number_of_attempts` attempts, `first_retry_interval` apart.
    pub fn new(first_retry_interval: Duration, max_number_of_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            first_retry_interval,
            max_number_of_attempts,
            backoff_coefficient: 1.0,
            max_retry_interval: None,
            retry_timeout: None,
        }
    }

    /// The same with this backoff coefficient.
    pub fn with_backoff(mut self, backoff_coefficient: f64) -> RetryPolicy {
        self.backoff_coefficient = backoff_coefficient;
        self
    }

    /// The same with this longest wait.
    pub fn with_max_interval(mut self, max_retry_interval: Duration) -> RetryPolicy {
        self.max_retry_interval = Some(max_retry_interval);
        self
    }

    /// The wait before the next attempt after `attempts` attempts, or
    /// `None` when none is left. The timeout is on the wall clock, as in the
    /// other durabletask SDKs.
    pub(crate) fn next_delay(&self, attempts: u32, started: Micros) -> Option<Micros> {
        if attempts >= self.max_number_of_attempts {
            return None;
        }
        if let Some(timeout) = self.retry_timeout {
            let expires = started.saturating_add(clock::micros_of(timeout));
            if clock::now() >= expires {
                return None;
            }
        }
        let exponent = i32::try_from(attempts.saturating_sub(1)).unwrap_or(i32::MAX);
        let mut seconds = self.backoff_coefficient.max(1.0).powi(exponent)
            * self.first_retry_interval.as_secs_f64();
        if let Some(max) = self.max_retry_interval {
            seconds = seconds.min(max.as_secs_f64());
        }
        Some(clock::micros_of_seconds(seconds))
    }
}
