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
    /// If set, a failure seen this long or longer after the first call, on
    /// the orchestration's clock, is not retried.
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

    /// The same with this retry timeout.
    pub fn with_timeout(mut self, retry_timeout: Duration) -> RetryPolicy {
        self.retry_timeout = Some(retry_timeout);
        self
    }

    /// The wait before the next attempt after `attempts` attempts, or
    /// `None` when none is left. `started` and `now` are orchestration
    /// times (the first call's step and the failure's step), never the
    /// wall clock, so that a replay takes the path the first run took.
    pub(crate) fn next_delay(&self, attempts: u32, started: Micros, now: Micros) -> Option<Micros> {
        if attempts >= self.max_number_of_attempts {
            return None;
        }
        if let Some(timeout) = self.retry_timeout {
            let expires = started.saturating_add(clock::micros_of(timeout));
            if now >= expires {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::durable::proto::{
        ActionType, EventType, ExecutionStartedEvent, HistoryEvent, OrchestratorCompletedEvent,
        OrchestratorRequest, OrchestratorResponse, OrchestratorStartedEvent, TaskFailedEvent,
        TaskFailureDetails, TaskScheduledEvent, TimerCreatedEvent, TimerFiredEvent,
    };
    use crate::durable::{OrchestrationContext, OrchestratorError, run_orchestrator};

    const SECOND: Micros = 1_000_000;
    const HOUR: Micros = 3600 * SECOND;

    #[test]
    fn the_timeout_is_measured_from_the_first_call_to_the_failure() {
        let policy =
            RetryPolicy::new(Duration::from_secs(5), 10).with_timeout(Duration::from_secs(3600));
        let started = 1_000 * SECOND;
        assert_eq!(
            policy.next_delay(1, started, started + HOUR - 1),
            Some(5 * SECOND)
        );
        assert_eq!(policy.next_delay(1, started, started + HOUR), None);
        assert_eq!(policy.next_delay(10, started, started), None);
    }

    async fn retries(context: OrchestrationContext, _: ()) -> Result<String, OrchestratorError> {
        let policy =
            RetryPolicy::new(Duration::from_secs(5), 10).with_timeout(Duration::from_secs(3600));
        Ok(context
            .call_activity_with_retry("flaky", &0, policy)
            .await?)
    }

    fn event(id: i32, at: Option<Micros>, kind: EventType) -> HistoryEvent {
        HistoryEvent {
            event_id: id,
            timestamp: at.map(clock::timestamp),
            event_type: Some(kind),
        }
    }

    fn step_start(at: Micros) -> HistoryEvent {
        event(
            -1,
            Some(at),
            EventType::OrchestratorStarted(OrchestratorStartedEvent {}),
        )
    }

    fn step_end() -> HistoryEvent {
        event(
            -1,
            None,
            EventType::OrchestratorCompleted(OrchestratorCompletedEvent {}),
        )
    }

    fn failed(at: Micros) -> HistoryEvent {
        event(
            -1,
            Some(at),
            EventType::TaskFailed(TaskFailedEvent {
                task_scheduled_id: 1,
                failure_details: Some(TaskFailureDetails {
                    error_type: "E".to_owned(),
                    error_message: "flaky fails for 0".to_owned(),
                    ..TaskFailureDetails::default()
                }),
            }),
        )
    }

    fn scheduled() -> HistoryEvent {
        event(
            1,
            None,
            EventType::TaskScheduled(TaskScheduledEvent {
                name: "flaky".to_owned(),
                ..TaskScheduledEvent::default()
            }),
        )
    }

    /// The requests of the orchestration's four steps, its clock starting
    /// at `t0`: the call; its failure a second later (a retry timer); the
    /// timer (the retry); the retry's failure two hours after the first
    /// call, beyond the one-hour timeout.
    fn steps(t0: Micros) -> Vec<OrchestratorRequest> {
        let retry_at = t0 + 6 * SECOND;
        let started = EventType::ExecutionStarted(ExecutionStartedEvent {
            name: "retries".to_owned(),
            ..ExecutionStartedEvent::default()
        });
        let news = [
            vec![step_start(t0), event(-1, Some(t0), started)],
            vec![step_start(t0 + SECOND), failed(t0 + SECOND)],
            vec![
                step_start(retry_at),
                event(
                    -1,
                    Some(retry_at),
                    EventType::TimerFired(TimerFiredEvent {
                        fire_at: Some(clock::timestamp(retry_at)),
                        timer_id: 2,
                    }),
                ),
            ],
            vec![step_start(t0 + 2 * HOUR), failed(t0 + 2 * HOUR)],
        ];
        // What the backend records of each step's actions.
        let recorded = [
            vec![scheduled()],
            vec![event(
                2,
                None,
                EventType::TimerCreated(TimerCreatedEvent {
                    fire_at: Some(clock::timestamp(retry_at)),
                }),
            )],
            vec![scheduled()],
        ];
        let mut past = Vec::new();
        let mut requests = Vec::new();
        for (at, new) in news.into_iter().enumerate() {
            requests.push(OrchestratorRequest {
                instance_id: "i".to_owned(),
                past_events: past.clone(),
                new_events: new.clone(),
                ..OrchestratorRequest::default()
            });
            past.extend(new);
            if let Some(actions) = recorded.get(at) {
                past.extend(actions.iter().cloned());
            }
            past.push(step_end());
        }
        requests
    }

    /// A step's actions, times relative to `t0`.
    fn shape(response: &OrchestratorResponse, t0: Micros) -> Vec<String> {
        response
            .actions
            .iter()
            .map(|action| match action.action_type.as_ref() {
                Some(ActionType::ScheduleTask(task)) => {
                    format!("{} schedule {}", action.id, task.name)
                }
                Some(ActionType::CreateTimer(timer)) => {
                    let at = timer
                        .fire_at
                        .as_ref()
                        .map(clock::of_timestamp)
                        .unwrap_or_default();
                    format!("{} timer +{}s", action.id, (at - t0) / SECOND)
                }
                Some(ActionType::CompleteOrchestration(done)) => format!(
                    "{} complete {} {}",
                    action.id,
                    done.orchestration_status,
                    done.failure_details
                        .as_ref()
                        .map(|details| details.error_message.as_str())
                        .unwrap_or_default()
                ),
                other => format!("{} {other:?}", action.id),
            })
            .collect()
    }

    fn run(t0: Micros) -> Vec<Vec<String>> {
        steps(t0)
            .iter()
            .map(|request| shape(&run_orchestrator(request, "retries", &retries), t0))
            .collect()
    }

    #[test]
    fn a_replay_long_after_the_timeout_takes_the_first_runs_path() {
        let failed = "i: Activity task #1 failed: flaky fails for 0";
        let expected = vec![
            vec!["1 schedule flaky".to_owned()],
            vec!["2 timer +6s".to_owned()],
            vec!["1 schedule flaky".to_owned()],
            vec![format!("3 complete 3 {failed}")],
        ];
        // As it happens: each step just as the wall clock reaches it.
        let first = run(clock::now() - SECOND);
        assert_eq!(first, expected);
        // Replayed a month later, long past the timeout on the wall clock.
        let later = run(clock::now() - 30 * 24 * HOUR);
        assert_eq!(later, first);
    }
}
