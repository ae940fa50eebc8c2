//! The orchestration context: what an orchestrator function calls to
//! schedule work, and the tasks it awaits.

use std::cell::RefCell;
use std::collections::VecDeque;
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
use super::errors::TaskError;
use super::proto::{
    ActionType, CreateSubOrchestrationAction, OrchestrationInstance, ScheduleTaskAction,
    SendEventAction,
};
use super::replay::entity_message::{self, EntityCall};
use super::replay::state::{Completion, Kind, Pending, Retry, Slot, State, encode, fold};
use super::retry::RetryPolicy;

/// The handle an orchestrator function gets: it schedules activities,
/// sub-orchestrations, timers and waits, each replayed from history.
///
/// Only what it offers may decide the orchestration's course: the code
/// runs again from the start on every step, and must take the same path.
#[derive(Clone)]
pub struct OrchestrationContext {
    pub(crate) state: Rc<RefCell<State>>,
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

    /// A request to `entity`, labelled at this step's time for its order.
    fn entity_request(
        &self,
        entity: &EntityId,
        operation: &str,
        signal: bool,
        input: Option<String>,
        request_id: &str,
    ) -> String {
        let mut state = self.state.borrow_mut();
        let now = state.now;
        let label = state.entity_order.label(&entity.to_string(), now);
        let sender = entity_message::Sender {
            instance_id: &state.instance_id,
            execution_id: state.execution_id.as_deref(),
            label,
        };
        entity_message::request(operation, signal, input, request_id, &sender)
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
        let message = self.entity_request(entity, operation, false, input, &request_id);
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
        let message = self.entity_request(
            entity,
            operation,
            true,
            encode(input).ok().flatten(),
            &request_id,
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
