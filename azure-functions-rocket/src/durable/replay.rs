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
use super::context::{
    Completion, Kind, OrchestrationContext, OrchestratorError, Pending, State, TaskError, fold,
};
use super::entity_message;
use super::proto::{
    ActionType, CompleteOrchestrationAction, EventRaisedEvent, EventType, HistoryEvent,
    OrchestrationStatus, OrchestratorAction, OrchestratorRequest, OrchestratorResponse,
    TaskFailureDetails,
};

/// An orchestrator's run over one replay: its result's JSON text.
pub(crate) type Run = Pin<Box<dyn Future<Output = Result<Option<String>, OrchestratorError>>>>;

/// Starts an orchestrator on a context and its input's JSON text.
pub(crate) type Start<'a> = &'a dyn Fn(OrchestrationContext, Option<String>) -> Run;

/// Runs orchestrator `name` (`start`) over the history in `request`.
pub(crate) fn execute(
    request: &OrchestratorRequest,
    name: &str,
    start: Start<'_>,
) -> OrchestratorResponse {
    let mut executor = Executor {
        state: Rc::new(RefCell::new(State::new(request.instance_id.clone()))),
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
    }
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
                let context = OrchestrationContext {
                    state: self.state.clone(),
                };
                self.run = Some((lookup.start)(context, input));
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
            let delay = retry.policy.next_delay(retry.attempts, retry.started);
            if let Some(delay) = delay {
                retry.attempts += 1;
                let mut state = self.state.borrow_mut();
                let now = state.now;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::durable::proto::{
        ExecutionStartedEvent, OrchestratorStartedEvent, TimerFiredEvent, Timestamp,
    };
    use crate::durable::wire::run_orchestrator;

    fn history(more: Vec<EventType>) -> OrchestratorRequest {
        let mut events = vec![
            EventType::OrchestratorStarted(OrchestratorStartedEvent {}),
            EventType::ExecutionStarted(ExecutionStartedEvent {
                name: "o".to_owned(),
                ..ExecutionStartedEvent::default()
            }),
        ];
        events.extend(more);
        OrchestratorRequest {
            instance_id: "i".to_owned(),
            new_events: events
                .into_iter()
                .map(|kind| HistoryEvent {
                    event_id: -1,
                    timestamp: Some(Timestamp {
                        seconds: 1,
                        nanos: 0,
                    }),
                    event_type: Some(kind),
                })
                .collect(),
            ..OrchestratorRequest::default()
        }
    }

    fn completion(response: &OrchestratorResponse) -> &CompleteOrchestrationAction {
        match response
            .actions
            .last()
            .and_then(|action| action.action_type.as_ref())
        {
            Some(ActionType::CompleteOrchestration(done)) => done,
            other => panic!("no completion: {other:?}"),
        }
    }

    async fn panics(_: OrchestrationContext, _: ()) -> Result<(), OrchestratorError> {
        panic!("boom")
    }

    async fn waits(context: OrchestrationContext, _: ()) -> Result<(), OrchestratorError> {
        context
            .create_timer(std::time::Duration::from_secs(1))
            .await?;
        Ok(())
    }

    #[test]
    fn a_panicking_orchestrator_fails_its_orchestration() {
        let response = run_orchestrator(&history(Vec::new()), "o", &panics);
        let done = completion(&response);
        assert_eq!(
            done.orchestration_status,
            OrchestrationStatus::Failed as i32
        );
        let details = done.failure_details.as_ref().unwrap();
        assert_eq!(details.error_message, "the orchestrator panicked");
    }

    #[test]
    fn a_timer_fired_for_no_timer_is_ignored() {
        let stray = EventType::TimerFired(TimerFiredEvent {
            fire_at: None,
            timer_id: 42,
        });
        let response = run_orchestrator(&history(vec![stray]), "o", &waits);
        assert_eq!(response.actions.len(), 1, "{response:?}");
        assert!(matches!(
            response.actions[0].action_type,
            Some(ActionType::CreateTimer(_))
        ));
    }

    async fn calls_counter(context: OrchestrationContext, _: ()) -> Result<i64, OrchestratorError> {
        let counter = crate::durable::EntityId::new("Counter", "a");
        context.signal_entity(&counter, "add", &1);
        Ok(context.call_entity(&counter, "get", &()).await?)
    }

    /// The first step's actions: the signal, then the call.
    fn entity_requests(response: &OrchestratorResponse) -> Vec<serde_json::Value> {
        response
            .actions
            .iter()
            .filter_map(|action| match &action.action_type {
                Some(ActionType::SendEvent(send)) => {
                    let target = send.instance.as_ref().map(|i| i.instance_id.as_str());
                    assert_eq!(target, Some("@counter@a"));
                    assert_eq!(send.name, "op");
                    serde_json::from_str(send.data.as_deref().unwrap_or_default()).ok()
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn an_entity_call_is_an_op_event_answered_by_its_request_id() {
        use crate::durable::proto::{EventRaisedEvent, EventSentEvent};
        let first = run_orchestrator(&history(Vec::new()), "o", &calls_counter);
        let requests = entity_requests(&first);
        assert_eq!(requests.len(), 2, "{first:?}");
        assert_eq!(requests[0]["signal"], serde_json::json!(true));
        assert_eq!(requests[0]["input"], serde_json::json!("1"));
        assert_eq!(requests[1]["op"], serde_json::json!("get"));
        assert_eq!(requests[1]["parent"], serde_json::json!("i"));
        assert!(requests[1].get("signal").is_none() && requests[1].get("input").is_none());
        let request_id = requests[1]["id"].as_str().unwrap().to_owned();
        assert_ne!(request_id, requests[0]["id"].as_str().unwrap());

        let sent = |id: i32| HistoryEvent {
            event_id: id,
            timestamp: None,
            event_type: Some(EventType::EventSent(EventSentEvent {
                instance_id: "@counter@a".to_owned(),
                name: "op".to_owned(),
                input: None,
            })),
        };
        let answer = |response: &str| {
            let mut request = history(Vec::new());
            request.past_events = std::mem::take(&mut request.new_events);
            request.past_events.extend([sent(1), sent(2)]);
            request.new_events = vec![HistoryEvent {
                event_id: -1,
                timestamp: None,
                event_type: Some(EventType::EventRaised(EventRaisedEvent {
                    name: request_id.to_uppercase(),
                    input: Some(response.to_owned()),
                })),
            }];
            run_orchestrator(&request, "o", &calls_counter)
        };
        let done = answer(r#"{"result":"7"}"#);
        assert_eq!(done.actions.len(), 1, "no request is sent again: {done:?}");
        assert_eq!(completion(&done).result.as_deref(), Some("7"));

        let failed =
            answer(r#"{"result":null,"failureDetails":{"ErrorType":"E","ErrorMessage":"no"}}"#);
        let done = completion(&failed);
        assert_eq!(
            done.orchestration_status,
            OrchestrationStatus::Failed as i32
        );
        let details = done.failure_details.as_ref().unwrap();
        assert_eq!(
            details.error_message,
            "Operation 'get' of entity '@counter@a' failed: no"
        );
    }
}
