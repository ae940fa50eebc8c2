//! The replay executor: runs an orchestrator function over its history
//! (past events, replaying, then new events) and answers with the actions
//! that history does not hold yet, as every durabletask SDK does. The
//! rules and messages follow the Python SDK's executor, so that a history
//! it recorded replays here unchanged.

use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::clock;
use super::errors::{OrchestratorError, TaskError};
use super::proto::{
    ActionType, CompleteOrchestrationAction, EventRaisedEvent, EventType, HistoryEvent,
    OrchestrationStatus, OrchestratorAction, OrchestratorRequest, OrchestratorResponse,
    TaskFailureDetails,
};
use state::{Completion, Kind, Pending, State, fold};

pub(crate) mod entity_message;
pub(crate) mod entity_order;
pub(crate) mod state;

/// An orchestrator's run over one replay: its result's JSON text.
pub(crate) type Run = Pin<Box<dyn Future<Output = Result<Option<String>, OrchestratorError>>>>;

/// Starts an orchestrator on the replay state (for its context) and its
/// input's JSON text.
pub(crate) type Start<'a> = &'a dyn Fn(Rc<RefCell<State>>, Option<String>) -> Run;

/// Runs orchestrator `name` (`start`) over the history in `request`.
pub(crate) fn execute(
    request: &OrchestratorRequest,
    name: &str,
    start: Start<'_>,
) -> OrchestratorResponse {
    if !request.new_events.is_empty() && !holds_execution_started(request) {
        // Without its start the code cannot be replayed; zero actions
        // would leave the orchestration stuck, so the backend is asked
        // for the full history instead.
        return OrchestratorResponse {
            instance_id: request.instance_id.clone(),
            requires_history: true,
            ..OrchestratorResponse::default()
        };
    }
    let mut executor = Executor {
        state: Rc::new(RefCell::new(State::of_request(request))),
        run: None,
        suspended: None,
    };
    let result = executor.replay(request, &Orchestrator { name, start });
    if let Err(error) = result {
        executor.fail(error);
    }
    let mut state = executor.state.borrow_mut();
    let mut actions: Vec<OrchestratorAction> = std::mem::take(&mut state.actions)
        .into_iter()
        .map(|(id, action)| OrchestratorAction {
            id,
            action_type: Some(action),
        })
        .collect();
    if let Some(Completion::ContinuedAsNew { input, save_events }) = state.completion.take() {
        let mut carried: Vec<(u64, String, Option<String>)> = if save_events {
            state
                .received
                .iter()
                .flat_map(|(name, events)| {
                    events
                        .iter()
                        .map(|(order, data)| (*order, name.clone(), data.clone()))
                })
                .collect()
        } else {
            Vec::new()
        };
        carried.sort();
        let id = state.next_id();
        actions.push(OrchestratorAction {
            id,
            action_type: Some(ActionType::CompleteOrchestration(
                CompleteOrchestrationAction {
                    orchestration_status: OrchestrationStatus::ContinuedAsNew as i32,
                    result: input,
                    carryover_events: carried
                        .into_iter()
                        .map(|(_, name, input)| HistoryEvent {
                            event_id: -1,
                            timestamp: Some(clock::timestamp(clock::now())),
                            event_type: Some(EventType::EventRaised(EventRaisedEvent {
                                name,
                                input,
                            })),
                        })
                        .collect(),
                    ..CompleteOrchestrationAction::default()
                },
            )),
        });
    }
    OrchestratorResponse {
        instance_id: request.instance_id.clone(),
        actions,
        custom_status: state.custom_status.clone(),
        completion_token: String::new(),
        requires_history: false,
    }
}

/// Whether the request holds the orchestration's `executionStarted`, in
/// its past or its new events.
fn holds_execution_started(request: &OrchestratorRequest) -> bool {
    request
        .past_events
        .iter()
        .chain(&request.new_events)
        .any(|event| matches!(event.event_type, Some(EventType::ExecutionStarted(_))))
}

/// The orchestrator this function runs.
struct Orchestrator<'a> {
    name: &'a str,
    start: Start<'a>,
}

struct Executor {
    state: Rc<RefCell<State>>,
    run: Option<Run>,
    /// Events held back while the orchestration is suspended.
    suspended: Option<Vec<HistoryEvent>>,
}

/// A history that the code no longer matches.
fn non_determinism(message: String) -> OrchestratorError {
    OrchestratorError {
        error_type: "NonDeterminismError".to_owned(),
        message,
        inner: None,
    }
}

fn method(action: &ActionType) -> &'static str {
    match action {
        ActionType::ScheduleTask(_) => "call_activity",
        ActionType::CreateTimer(_) => "create_timer",
        ActionType::CreateSubOrchestration(_) => "call_sub_orchestrator",
        ActionType::SendEvent(_) => "send_event",
        ActionType::CompleteOrchestration(_) => "complete_orchestration",
    }
}

fn action_name(action: &ActionType) -> &str {
    match action {
        ActionType::ScheduleTask(task) => &task.name,
        ActionType::CreateSubOrchestration(sub) => &sub.name,
        ActionType::SendEvent(send) => &send.name,
        _ => "",
    }
}

impl Executor {
    fn replay(
        &mut self,
        request: &OrchestratorRequest,
        lookup: &Orchestrator<'_>,
    ) -> Result<(), OrchestratorError> {
        if request.new_events.is_empty() {
            return Err(OrchestratorError {
                error_type: "OrchestrationStateError".to_owned(),
                message: "The new history event list must have at least one event in it."
                    .to_owned(),
                inner: None,
            });
        }
        self.state.borrow_mut().replaying = true;
        for event in &request.past_events {
            self.process(event, lookup)?;
        }
        self.state.borrow_mut().replaying = false;
        for event in &request.new_events {
            self.process(event, lookup)?;
        }
        Ok(())
    }

    /// The orchestration failed: a completion action with the details.
    fn fail(&mut self, error: OrchestratorError) {
        let mut state = self.state.borrow_mut();
        if state.completion.is_some() {
            return;
        }
        state.completion = Some(Completion::Done);
        let id = state.next_id();
        let details = TaskFailureDetails {
            error_type: error.error_type,
            error_message: error.message,
            stack_trace: None,
            inner_failure: error.inner,
            is_non_retriable: false,
        };
        state.actions.push((
            id,
            ActionType::CompleteOrchestration(CompleteOrchestrationAction {
                orchestration_status: OrchestrationStatus::Failed as i32,
                failure_details: Some(details),
                ..CompleteOrchestrationAction::default()
            }),
        ));
    }

    fn complete(&mut self, result: Option<String>, status: OrchestrationStatus) {
        let mut state = self.state.borrow_mut();
        if state.completion.is_some() {
            return;
        }
        state.completion = Some(Completion::Done);
        let id = state.next_id();
        state.actions.push((
            id,
            ActionType::CompleteOrchestration(CompleteOrchestrationAction {
                orchestration_status: status as i32,
                result,
                ..CompleteOrchestrationAction::default()
            }),
        ));
    }

    /// Runs the orchestrator code on until it waits for a task not done.
    fn resume(&mut self) -> Result<(), OrchestratorError> {
        let Some(run) = self.run.as_mut() else {
            return Ok(());
        };
        let mut context = Context::from_waker(Waker::noop());
        // A panic fails the orchestration as any other failure of its code,
        // instead of failing the invocation, which the host would retry.
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| run.as_mut().poll(&mut context)));
        let Ok(polled) = polled else {
            self.run = None;
            return Err(OrchestratorError::new("the orchestrator panicked"));
        };
        match polled {
            Poll::Pending => Ok(()),
            Poll::Ready(result) => {
                self.run = None;
                let output = result?;
                self.complete(output, OrchestrationStatus::Completed);
                Ok(())
            }
        }
    }

    /// Confirms by history the action `id` taken again by the code.
    fn confirm(
        &mut self,
        id: i32,
        expected: &'static str,
        name: Option<&str>,
    ) -> Result<(), OrchestratorError> {
        let mut state = self.state.borrow_mut();
        let Some(position) = state.actions.iter().position(|(at, _)| *at == id) else {
            return Err(non_determinism(format!(
                "A previous execution called {expected} with ID={id}, but the current execution doesn't have this action with this ID. This problem occurs when either the orchestration has non-deterministic logic or if the code was changed after an instance of this orchestration already started running."
            )));
        };
        let (_, action) = state.actions.remove(position);
        if method(&action) != expected {
            return Err(non_determinism(format!(
                "Failed to restore orchestration state due to a history mismatch: A previous execution called {expected} with ID={id}, but the current execution is instead trying to call {} as part of rebuilding it's history. This kind of mismatch can happen if an orchestration has non-deterministic logic or if the code was changed after an instance of this orchestration already started running.",
                method(&action)
            )));
        }
        if let Some(name) = name {
            let actual = action_name(&action);
            let differs = if expected == "send_event" {
                fold(actual) != fold(name)
            } else {
                actual != name
            };
            if differs {
                return Err(non_determinism(format!(
                    "Failed to restore orchestration state due to a history mismatch: A previous execution called {expected} with name='{name}' and sequence number {id}, but the current execution is instead trying to call {actual} as part of rebuilding it's history. This kind of mismatch can happen if an orchestration has non-deterministic logic or if the code was changed after an instance of this orchestration already started running."
                )));
            }
        }
        Ok(())
    }

    fn process(
        &mut self,
        event: &HistoryEvent,
        lookup: &Orchestrator<'_>,
    ) -> Result<(), OrchestratorError> {
        let Some(kind) = &event.event_type else {
            return Ok(());
        };
        if let Some(held) = self.suspended.as_mut()
            && !matches!(
                kind,
                EventType::ExecutionResumed(_) | EventType::ExecutionTerminated(_)
            )
        {
            held.push(event.clone());
            return Ok(());
        }
        match kind {
            EventType::OrchestratorStarted(_) => {
                if let Some(timestamp) = &event.timestamp {
                    self.state.borrow_mut().now = clock::of_timestamp(timestamp);
                }
            }
            EventType::ExecutionStarted(started) => {
                if !started.name.eq_ignore_ascii_case(lookup.name) {
                    return Err(OrchestratorError {
                        error_type: "OrchestratorNotRegisteredError".to_owned(),
                        message: format!("A '{}' orchestrator was not registered.", started.name),
                        inner: None,
                    });
                }
                let input = started.input.clone().filter(|input| !input.is_empty());
                self.run = Some((lookup.start)(self.state.clone(), input));
                self.resume()?;
            }
            EventType::TimerCreated(_) => self.confirm(event.event_id, "create_timer", None)?,
            EventType::TaskScheduled(scheduled) => {
                self.confirm(event.event_id, "call_activity", Some(&scheduled.name))?
            }
            EventType::SubOrchestrationInstanceCreated(created) => {
                self.confirm(event.event_id, "call_sub_orchestrator", Some(&created.name))?
            }
            EventType::EventSent(sent) => {
                self.confirm(event.event_id, "send_event", Some(&sent.name))?
            }
            EventType::TimerFired(fired) => {
                let pending = self.state.borrow_mut().tasks.remove(&fired.timer_id);
                let Some(Pending { slot, kind, due }) = pending else {
                    return Ok(());
                };
                if self.state.borrow().completion.is_some() {
                    return Ok(());
                }
                let fired_at = fired.fire_at.as_ref().map(clock::of_timestamp);
                if let (Some(due), Some(fired_at)) = (due, fired_at)
                    && fired_at < due
                {
                    // The next link of a long timer's chain.
                    self.state.borrow_mut().timer(fired_at, due, slot, kind);
                    return Ok(());
                }
                match kind {
                    Kind::Timer => {
                        self.state.borrow_mut().settle(&slot, Ok(None));
                        self.resume()?;
                    }
                    Kind::RetryTimer(retry) => {
                        // The retry goes out under the first call's id.
                        let mut state = self.state.borrow_mut();
                        state.actions.push((retry.id, retry.action.clone()));
                        let id = retry.id;
                        state.tasks.insert(
                            id,
                            Pending {
                                slot,
                                kind: Kind::Retried(retry),
                                due: None,
                            },
                        );
                    }
                    other => {
                        // Not a timer: the history is not this code's.
                        self.state.borrow_mut().tasks.insert(
                            fired.timer_id,
                            Pending {
                                slot,
                                kind: other,
                                due,
                            },
                        );
                    }
                }
            }
            EventType::TaskCompleted(done) => {
                self.settle(done.task_scheduled_id, Ok(done.result.clone()))?
            }
            EventType::SubOrchestrationInstanceCompleted(done) => {
                self.settle(done.task_scheduled_id, Ok(done.result.clone()))?
            }
            EventType::TaskFailed(failed) => {
                self.failed(failed.task_scheduled_id, failed.failure_details.clone())?
            }
            EventType::SubOrchestrationInstanceFailed(failed) => {
                self.failed(failed.task_scheduled_id, failed.failure_details.clone())?
            }
            EventType::EventRaised(raised) => {
                let key = fold(&raised.name);
                let mut state = self.state.borrow_mut();
                let waiter = if state.completion.is_none() {
                    let waiter = state
                        .waiting
                        .get_mut(&key)
                        .and_then(|list| list.pop_front());
                    if state.waiting.get(&key).is_some_and(|list| list.is_empty()) {
                        state.waiting.remove(&key);
                    }
                    waiter
                } else {
                    None
                };
                match waiter {
                    Some(slot) => {
                        let data = raised.input.clone().filter(|input| !input.is_empty());
                        let outcome = match state.entity_calls.remove(&key) {
                            Some(call) => entity_message::outcome(&call, data.as_deref()),
                            None => Ok(data),
                        };
                        state.settle(&slot, outcome);
                        drop(state);
                        self.resume()?;
                    }
                    None => {
                        let order = state.received_count;
                        state.received_count += 1;
                        let data = raised.input.clone().filter(|input| !input.is_empty());
                        state
                            .received
                            .entry(key)
                            .or_default()
                            .push_back((order, data));
                    }
                }
            }
            EventType::ExecutionSuspended(_) => self.suspended = Some(Vec::new()),
            EventType::ExecutionResumed(_) => {
                if let Some(held) = self.suspended.take() {
                    for event in &held {
                        self.process(event, lookup)?;
                    }
                }
            }
            EventType::ExecutionTerminated(terminated) => {
                let output = terminated.input.clone().filter(|input| !input.is_empty());
                self.complete(output, OrchestrationStatus::Terminated);
            }
            EventType::OrchestratorCompleted(_)
            | EventType::ExecutionCompleted(_)
            | EventType::GenericEvent(_)
            | EventType::ContinueAsNew(_) => {}
        }
        Ok(())
    }

    /// A task's result arrived.
    fn settle(
        &mut self,
        id: i32,
        outcome: Result<Option<String>, TaskError>,
    ) -> Result<(), OrchestratorError> {
        let pending = self.state.borrow_mut().tasks.remove(&id);
        let Some(Pending { slot, .. }) = pending else {
            return Ok(());
        };
        self.state.borrow_mut().settle(&slot, outcome);
        self.resume()
    }

    /// A task failed: retried if its policy says so, else its failure
    /// reaches the code.
    fn failed(
        &mut self,
        id: i32,
        details: Option<TaskFailureDetails>,
    ) -> Result<(), OrchestratorError> {
        let pending = self.state.borrow_mut().tasks.remove(&id);
        let Some(Pending { slot, kind, .. }) = pending else {
            return Ok(());
        };
        let cause = details
            .as_ref()
            .map(|details| details.error_message.clone())
            .unwrap_or_default();
        let (sub_orchestration, retry) = match kind {
            Kind::Call { sub_orchestration } => (sub_orchestration, None),
            Kind::Retried(retry) => (
                matches!(retry.action, ActionType::CreateSubOrchestration(_)),
                Some(retry),
            ),
            Kind::Timer | Kind::RetryTimer(_) => (false, None),
        };
        if let Some(mut retry) = retry {
            let now = self.state.borrow().now;
            let delay = retry.policy.next_delay(retry.attempts, retry.started, now);
            if let Some(delay) = delay {
                retry.attempts += 1;
                let mut state = self.state.borrow_mut();
                state.timer(
                    now,
                    now.saturating_add(delay),
                    slot,
                    Kind::RetryTimer(retry),
                );
                return Ok(());
            }
        }
        let message = if sub_orchestration {
            format!("Sub-orchestration task #{id} failed: {cause}")
        } else {
            let instance = self.state.borrow().instance_id.clone();
            format!("{instance}: Activity task #{id} failed: {cause}")
        };
        self.state
            .borrow_mut()
            .settle(&slot, Err(TaskError::new(message, details)));
        self.resume()
    }
}
