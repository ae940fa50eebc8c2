//! The orchestration context: what an orchestrator function calls to
//! schedule work, and the tasks it awaits. Every call takes its action id
//! at once, in call order (as the Python durabletask SDK counts, from 1),
//! so that the ids do not depend on when a task is first awaited.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::clock::{self, Micros};
use super::entity::EntityId;
use super::entity_message::{self, EntityCall};
use super::proto::{
    ActionType, CreateSubOrchestrationAction, CreateTimerAction, OrchestrationInstance,
    ScheduleTaskAction, SendEventAction, TaskFailureDetails,
};

/// How a task ended: the result's JSON text (`None` for no result) or its
/// failure.
pub(crate) type Outcome = Result<Option<String>, TaskError>;

/// A task's outcome once known, with the order in which tasks completed
/// (for `when_any` and `when_all`'s first failure).
#[derive(Default)]
pub(crate) struct Slot {
    pub(crate) outcome: RefCell<Option<(u64, Outcome)>>,
}

/// A task of an orchestration that failed: an activity or sub-orchestration
/// that failed (after its retries), with the failure's details.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskError {
    message: String,
    details: Option<TaskFailureDetails>,
}

impl TaskError {
    /// The message, e.g. `abc: Activity task #1 failed: boom`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The failure's own message, as the activity or sub-orchestration
    /// reported it.
    pub fn cause(&self) -> Option<&str> {
        self.details
            .as_ref()
            .map(|details| details.error_message.as_str())
    }

    pub(crate) fn new(message: String, details: Option<TaskFailureDetails>) -> TaskError {
        TaskError { message, details }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An orchestrator's failure: it completes the orchestration as FAILED with
/// these details. `?` builds one from a [`TaskError`], a library
/// [`crate::Error`] or any other error.
#[derive(Debug, Clone, PartialEq)]
pub struct OrchestratorError {
    pub(crate) error_type: String,
    pub(crate) message: String,
    pub(crate) inner: Option<Box<TaskFailureDetails>>,
}

impl OrchestratorError {
    /// A failure with this message.
    pub fn new(message: impl fmt::Display) -> OrchestratorError {
        OrchestratorError {
            error_type: "OrchestratorError".to_owned(),
            message: message.to_string(),
            inner: None,
        }
    }

    /// The message the failure details will carry.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for OrchestratorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<TaskError> for OrchestratorError {
    fn from(error: TaskError) -> OrchestratorError {
        OrchestratorError {
            error_type: "TaskFailedError".to_owned(),
            message: error.message,
            inner: error.details.map(Box::new),
        }
    }
}

impl From<crate::Error> for OrchestratorError {
    fn from(error: crate::Error) -> OrchestratorError {
        OrchestratorError::new(error.message())
    }
}

impl<E: std::error::Error> From<E> for OrchestratorError {
    fn from(error: E) -> OrchestratorError {
        OrchestratorError::new(error)
    }
}

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

/// A retried task's state between attempts.
#[derive(Clone)]
pub(crate) struct Retry {
    pub(crate) id: i32,
    pub(crate) action: ActionType,
    pub(crate) policy: RetryPolicy,
    pub(crate) attempts: u32,
    pub(crate) started: Micros,
}

/// What a pending task id stands for.
pub(crate) enum Kind {
    /// An activity or sub-orchestration without a retry policy.
    Call { sub_orchestration: bool },
    /// One with a retry policy.
    Retried(Box<Retry>),
    /// A durable timer.
    Timer,
    /// The wait before a retry.
    RetryTimer(Box<Retry>),
}

pub(crate) struct Pending {
    pub(crate) slot: Rc<Slot>,
    pub(crate) kind: Kind,
    /// For a timer beyond [`MAX_TIMER`]: when it is really due.
    pub(crate) due: Option<Micros>,
}

/// The longest single timer, as the Python SDK chunks them by default
/// (storage backends cap a timer's delay); a longer one is a chain.
pub(crate) const MAX_TIMER: Micros = 3 * 24 * 3600 * 1_000_000;

/// How the orchestration ended, once it has.
pub(crate) enum Completion {
    /// Completed, failed or terminated: the action is among the others.
    Done,
    /// Continued as new with this input (JSON), carrying buffered events.
    ContinuedAsNew {
        input: Option<String>,
        save_events: bool,
    },
}

/// The replay state shared by the context and the executor.
pub(crate) struct State {
    pub(crate) instance_id: String,
    pub(crate) now: Micros,
    pub(crate) replaying: bool,
    pub(crate) sequence: i32,
    /// Actions not yet confirmed by history, in the order taken.
    pub(crate) actions: Vec<(i32, ActionType)>,
    pub(crate) tasks: HashMap<i32, Pending>,
    /// Raised events nobody waited for yet, by case-folded name, with the
    /// order they arrived in.
    pub(crate) received: HashMap<String, VecDeque<(u64, Option<String>)>>,
    pub(crate) received_count: u64,
    pub(crate) waiting: HashMap<String, VecDeque<Rc<Slot>>>,
    /// Entity calls waiting for their response, by case-folded request id.
    pub(crate) entity_calls: HashMap<String, EntityCall>,
    pub(crate) custom_status: Option<String>,
    pub(crate) completion: Option<Completion>,
    pub(crate) guid_count: u64,
    pub(crate) completed_count: u64,
}

impl State {
    pub(crate) fn new(instance_id: String) -> State {
        State {
            instance_id,
            now: 0,
            replaying: true,
            sequence: 0,
            actions: Vec::new(),
            tasks: HashMap::new(),
            received: HashMap::new(),
            received_count: 0,
            waiting: HashMap::new(),
            entity_calls: HashMap::new(),
            custom_status: None,
            completion: None,
            guid_count: 0,
            completed_count: 0,
        }
    }

    pub(crate) fn next_id(&mut self) -> i32 {
        self.sequence += 1;
        self.sequence
    }

    /// Settles `slot` with `outcome`, once.
    pub(crate) fn settle(&mut self, slot: &Slot, outcome: Outcome) {
        let mut current = slot.outcome.borrow_mut();
        if current.is_none() {
            self.completed_count += 1;
            *current = Some((self.completed_count, outcome));
        }
    }

    /// Schedules a timer firing at `fire_at` under a new id: the first link
    /// of a chain when it is further than [`MAX_TIMER`] from `from`.
    pub(crate) fn timer(
        &mut self,
        from: Micros,
        fire_at: Micros,
        slot: Rc<Slot>,
        kind: Kind,
    ) -> i32 {
        let id = self.next_id();
        let (next, due) = if from.saturating_add(MAX_TIMER) < fire_at {
            (from + MAX_TIMER, Some(fire_at))
        } else {
            (fire_at, None)
        };
        let action = ActionType::CreateTimer(CreateTimerAction {
            fire_at: Some(clock::timestamp(next)),
        });
        self.actions.push((id, action));
        self.tasks.insert(id, Pending { slot, kind, due });
        id
    }
}

/// The handle an orchestrator function gets: it schedules activities,
/// sub-orchestrations, timers and waits, each replayed from history.
///
/// Only what it offers may decide the orchestration's course: the code
/// runs again from the start on every step, and must take the same path.
#[derive(Clone)]
pub struct OrchestrationContext {
    pub(crate) state: Rc<RefCell<State>>,
}

/// JSON text of `value`, `None` for JSON `null` (no payload at all, as the
/// other SDKs send it).
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Option<String>, TaskError> {
    match serde_json::to_string(value) {
        Ok(text) if text == "null" => Ok(None),
        Ok(text) => Ok(Some(text)),
        Err(error) => Err(TaskError::new(
            format!("the input is not JSON: {error}"),
            None,
        )),
    }
}

impl OrchestrationContext {
    /// The orchestration's instance id.
    pub fn instance_id(&self) -> String {
        self.state.borrow().instance_id.clone()
    }

    /// Whether the code is replaying history (skip side effects such as
    /// logs then).
    pub fn is_replaying(&self) -> bool {
        self.state.borrow().replaying
    }

    /// The orchestration's clock: the time its current step started, the
    /// same on every replay.
    pub fn current_utc_datetime(&self) -> SystemTime {
        let now = self.state.borrow().now;
        match u64::try_from(now) {
            Ok(micros) => UNIX_EPOCH + Duration::from_micros(micros),
            Err(_) => UNIX_EPOCH - Duration::from_micros(now.unsigned_abs()),
        }
    }

    /// The orchestration's clock as ISO-8601 text with microseconds, e.g.
    /// `2026-11-30T20:00:00.000000Z`.
    pub fn current_utc_iso(&self) -> String {
        clock::iso(self.state.borrow().now)
    }

    /// A GUID that is the same on every replay: a UUID v5 of the instance
    /// id, the clock and a counter, as the Python SDK derives it.
    pub fn new_guid(&self) -> String {
        let mut state = self.state.borrow_mut();
        let name = format!(
            "{}_{}_{}",
            state.instance_id,
            clock::iso(state.now),
            state.guid_count
        );
        state.guid_count += 1;
        let namespace = uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            b"9e952958-5e33-4daf-827f-2fa12937b875",
        );
        uuid::Uuid::new_v5(&namespace, name.as_bytes()).to_string()
    }

    /// Sets the custom status the management API reports.
    pub fn set_custom_status<T: Serialize + ?Sized>(&self, status: &T) {
        let encoded = encode(status).ok().flatten();
        self.state.borrow_mut().custom_status = encoded;
    }

    /// Calls activity `name` with `input`.
    pub fn call_activity<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        name: &str,
        input: &I,
    ) -> DurableTask<O> {
        self.call(name, input, None, None)
    }

    /// Calls activity `name` with `input`, trying again on failure as
    /// `policy` says; the retries keep the first call's id.
    pub fn call_activity_with_retry<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        name: &str,
        input: &I,
        policy: RetryPolicy,
    ) -> DurableTask<O> {
        self.call(name, input, Some(policy), None)
    }

    /// Starts orchestrator `name` as a sub-orchestration with `input`,
    /// under `instance_id` or else `<this id>:<action id as 4 hex digits>`.
    pub fn call_sub_orchestrator<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        name: &str,
        input: &I,
        instance_id: Option<&str>,
    ) -> DurableTask<O> {
        self.call(name, input, None, Some(instance_id))
    }

    fn call<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        name: &str,
        input: &I,
        policy: Option<RetryPolicy>,
        sub_orchestration: Option<Option<&str>>,
    ) -> DurableTask<O> {
        let slot = Rc::new(Slot::default());
        let mut state = self.state.borrow_mut();
        let id = state.next_id();
        let input = match encode(input) {
            Ok(input) => input,
            Err(error) => {
                state.settle(&slot, Err(error));
                return DurableTask::new(slot);
            }
        };
        let action = match sub_orchestration {
            None => ActionType::ScheduleTask(ScheduleTaskAction {
                name: name.to_owned(),
                version: None,
                input,
            }),
            Some(instance_id) => {
                let instance_id = instance_id
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{}:{id:04x}", state.instance_id));
                ActionType::CreateSubOrchestration(CreateSubOrchestrationAction {
                    instance_id,
                    name: name.to_owned(),
                    version: None,
                    input,
                })
            }
        };
        let kind = match policy {
            None => Kind::Call {
                sub_orchestration: sub_orchestration.is_some(),
            },
            Some(policy) => Kind::Retried(Box::new(Retry {
                id,
                action: action.clone(),
                policy,
                attempts: 1,
                started: state.now,
            })),
        };
        state.actions.push((id, action));
        state.tasks.insert(
            id,
            Pending {
                slot: slot.clone(),
                kind,
                due: None,
            },
        );
        DurableTask::new(slot)
    }

    /// A durable timer that fires `after` this long on the orchestration's
    /// clock.
    pub fn create_timer(&self, after: Duration) -> DurableTask<()> {
        let now = self.state.borrow().now;
        self.timer_at(now.saturating_add(clock::micros_of(after)))
    }

    /// A durable timer that fires at `at`.
    pub fn create_timer_at(&self, at: SystemTime) -> DurableTask<()> {
        self.timer_at(clock::micros_of_time(at))
    }

    fn timer_at(&self, fire_at: Micros) -> DurableTask<()> {
        let slot = Rc::new(Slot::default());
        let mut state = self.state.borrow_mut();
        let now = state.now;
        state.timer(now, fire_at, slot.clone(), Kind::Timer);
        DurableTask::new(slot)
    }

    /// Waits for the external event `name` (case-insensitive); events
    /// raised before anyone waits are kept, first in first out.
    pub fn wait_for_external_event<O: DeserializeOwned>(&self, name: &str) -> DurableTask<O> {
        self.wait_for(name, None)
    }

    /// A wait for event `name`; for an entity call, its response message
    /// becomes the call's result or failure.
    fn wait_for<O: DeserializeOwned>(
        &self,
        name: &str,
        call: Option<EntityCall>,
    ) -> DurableTask<O> {
        let slot = Rc::new(Slot::default());
        let key = fold(name);
        let mut state = self.state.borrow_mut();
        let buffered = state.received.get_mut(&key).and_then(VecDeque::pop_front);
        if state.received.get(&key).is_some_and(VecDeque::is_empty) {
            state.received.remove(&key);
        }
        match (buffered, call) {
            (Some((_, data)), None) => state.settle(&slot, Ok(data)),
            (Some((_, data)), Some(call)) => {
                state.settle(&slot, entity_message::outcome(&call, data.as_deref()))
            }
            (None, call) => {
                if let Some(call) = call {
                    state.entity_calls.insert(key.clone(), call);
                }
                state
                    .waiting
                    .entry(key)
                    .or_default()
                    .push_back(slot.clone())
            }
        }
        DurableTask::new(slot)
    }

    /// Raises event `name` with `data` on another orchestration instance.
    pub fn send_event<T: Serialize + ?Sized>(&self, instance_id: &str, name: &str, data: &T) {
        self.send_event_text(instance_id, name, encode(data).ok().flatten());
    }

    fn send_event_text(&self, instance_id: &str, name: &str, data: Option<String>) {
        let mut state = self.state.borrow_mut();
        let id = state.next_id();
        let action = ActionType::SendEvent(SendEventAction {
            instance: Some(OrchestrationInstance {
                instance_id: instance_id.to_owned(),
                execution_id: None,
            }),
            name: name.to_owned(),
            data,
        });
        state.actions.push((id, action));
    }

    /// Calls `operation` on `entity` with `input`: the operation's result,
    /// or its failure as a [`TaskError`]. The request goes out as event
    /// `op` to the entity; its id is a [`OrchestrationContext::new_guid`].
    pub fn call_entity<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        entity: &EntityId,
        operation: &str,
        input: &I,
    ) -> DurableTask<O> {
        let input = match encode(input) {
            Ok(input) => input,
            Err(error) => {
                let slot = Rc::new(Slot::default());
                self.state.borrow_mut().settle(&slot, Err(error));
                return DurableTask::new(slot);
            }
        };
        let request_id = self.new_guid();
        let message =
            entity_message::request(operation, false, input, &request_id, &self.instance_id());
        self.send_event_text(
            &entity.to_string(),
            entity_message::REQUEST_EVENT,
            Some(message),
        );
        let call = EntityCall {
            entity: entity.to_string(),
            operation: operation.to_owned(),
        };
        self.wait_for(&request_id, Some(call))
    }

    /// Signals `operation` on `entity` with `input`, without waiting: the
    /// entity runs it later. An input that is not JSON is sent as none.
    pub fn signal_entity<I: Serialize + ?Sized>(
        &self,
        entity: &EntityId,
        operation: &str,
        input: &I,
    ) {
        let request_id = self.new_guid();
        let message = entity_message::request(
            operation,
            true,
            encode(input).ok().flatten(),
            &request_id,
            &self.instance_id(),
        );
        self.send_event_text(
            &entity.to_string(),
            entity_message::REQUEST_EVENT,
            Some(message),
        );
    }

    /// Ends this execution and starts the orchestration again with
    /// `input` and a fresh history; events raised meanwhile and not yet
    /// received are dropped. Return from the orchestrator after calling it.
    pub fn continue_as_new<T: Serialize + ?Sized>(&self, input: &T) {
        self.continue_as_new_with(input, false);
    }

    /// As [`OrchestrationContext::continue_as_new`], keeping the events not
    /// yet received for the next execution.
    pub fn continue_as_new_keeping_events<T: Serialize + ?Sized>(&self, input: &T) {
        self.continue_as_new_with(input, true);
    }

    fn continue_as_new_with<T: Serialize + ?Sized>(&self, input: &T, save_events: bool) {
        let mut state = self.state.borrow_mut();
        if state.completion.is_none() {
            state.completion = Some(Completion::ContinuedAsNew {
                input: encode(input).ok().flatten(),
                save_events,
            });
        }
    }
}

/// Event names match case-insensitively.
pub(crate) fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// A scheduled activity, sub-orchestration, timer or event wait: await it
/// for its result.
pub struct DurableTask<T> {
    slot: Rc<Slot>,
    kind: PhantomData<fn() -> T>,
}

impl<T> DurableTask<T> {
    fn new(slot: Rc<Slot>) -> DurableTask<T> {
        DurableTask {
            slot,
            kind: PhantomData,
        }
    }

    /// Whether it has completed (or failed).
    pub fn is_complete(&self) -> bool {
        self.slot.outcome.borrow().is_some()
    }

    /// When it completed among the orchestration's tasks, if it has.
    fn completed_at(&self) -> Option<u64> {
        self.slot.outcome.borrow().as_ref().map(|(order, _)| *order)
    }
}

impl<T: DeserializeOwned> DurableTask<T> {
    fn take(&self) -> Option<Result<T, TaskError>> {
        let outcome = self.slot.outcome.borrow();
        let (_, outcome) = outcome.as_ref()?;
        Some(match outcome {
            Err(error) => Err(error.clone()),
            Ok(text) => {
                let text = text.as_deref().unwrap_or("null");
                serde_json::from_str(text).map_err(|error| {
                    TaskError::new(
                        format!("the task's result {text} is not of the expected type: {error}"),
                        None,
                    )
                })
            }
        })
    }
}

impl<T: DeserializeOwned> Future for DurableTask<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        match self.take() {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }
}

/// Waits for all `tasks`: their results in order, or the failure that
/// came first once all have ended.
pub async fn when_all<T: DeserializeOwned>(
    tasks: Vec<DurableTask<T>>,
) -> Result<Vec<T>, TaskError> {
    std::future::poll_fn(|_| {
        if tasks.iter().all(DurableTask::is_complete) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    let first_failure = tasks
        .iter()
        .filter(|task| matches!(task.take(), Some(Err(_))))
        .min_by_key(|task| task.completed_at());
    if let Some(Some(Err(error))) = first_failure.map(DurableTask::take) {
        return Err(error);
    }
    let mut results = Vec::with_capacity(tasks.len());
    for task in &tasks {
        if let Some(result) = task.take() {
            results.push(result?);
        }
    }
    Ok(results)
}

/// Something [`when_any`] can wait for: any [`DurableTask`].
pub trait Awaitable {
    /// When it completed among the orchestration's tasks, if it has.
    fn completed_at(&self) -> Option<u64>;
}

impl<T> Awaitable for DurableTask<T> {
    fn completed_at(&self) -> Option<u64> {
        DurableTask::completed_at(self)
    }
}

/// Waits for the first of `tasks` to end: its index. The others go on;
/// await the winner for its result.
pub async fn when_any(tasks: &[&dyn Awaitable]) -> usize {
    std::future::poll_fn(|_| {
        // In list order, as the Python SDK picks among tasks already done;
        // later, each step completes at most one task.
        match tasks.iter().position(|task| task.completed_at().is_some()) {
            Some(index) => Poll::Ready(index),
            None => Poll::Pending,
        }
    })
    .await
}
