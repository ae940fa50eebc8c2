//! The work-item loop: each step sends the orchestrator its history as the
//! extension does, and turns the actions of its reply into new history
//! (activity invocations, timers on the real clock, sub-orchestrations,
//! events, continue-as-new) until the instance ends.

use std::sync::Arc;

use durable_proto::{
    ActionType, EventSentEvent, EventType, ExecutionStartedEvent, HistoryEvent,
    OrchestrationInstance, OrchestrationStatus, OrchestratorCompletedEvent, OrchestratorRequest,
    OrchestratorResponse, SubOrchestrationInstanceCompletedEvent,
    SubOrchestrationInstanceCreatedEvent, SubOrchestrationInstanceFailedEvent, TaskScheduledEvent,
    TimerCreatedEvent, TimerFiredEvent,
};
use prost::Message;
use serde_json::{Value, json};

use crate::ids::new_guid;
use crate::timers::clock::UtcTime;

use super::{Durable, Execution, RuntimeStatus, event, failure, wait_for};

impl Durable {
    /// Runs a work item for `id` unless one runs or nothing is new.
    pub(super) fn wake(self: &Arc<Self>, id: &str) {
        let order = {
            let mut instances = self.lock();
            let Some(instance) = instances.get_mut(id) else {
                return;
            };
            if instance.busy || instance.inbox.is_empty() {
                return;
            }
            instance.busy = true;
            instance.order
        };
        let durable = self.clone();
        let id = id.to_owned();
        tokio::spawn(async move { durable.work(&id, order).await });
    }

    /// Work items for instance `id` until its inbox is empty; `order`
    /// names the instance it was woken for, so that it leaves alone one
    /// started under the same id after a purge.
    pub(super) async fn work(self: Arc<Self>, id: &str, order: u64) {
        // The orchestrator asked for the history on the step before.
        let mut history_asked = false;
        loop {
            let (name, request) = {
                let mut instances = self.lock();
                let Some(instance) = instances.get_mut(id).filter(|i| i.order == order) else {
                    return;
                };
                if instance.inbox.is_empty() {
                    instance.busy = false;
                    return;
                }
                let request = self.step_request(id, instance, Vec::new());
                instance.inbox.clear();
                (instance.name.clone(), request)
            };
            self.console.info(format!(
                "[durable] {name} {id}: orchestrator step ({} events replayed, {} new)",
                request.past_events.len(),
                request.new_events.len()
            ));
            let result = match self.run_orchestrator(&name, &request).await {
                Ok(response) if response.requires_history && !history_asked => {
                    // As the extension does: the step is abandoned, nothing
                    // of it applied, and sent again with the whole history.
                    self.console.info(format!(
                        "[durable] {name} {id}: the orchestrator asked for the history: \
                         the step is sent again"
                    ));
                    self.step_again(id, order, &request);
                    history_asked = true;
                    continue;
                }
                Ok(response) if response.requires_history => Err(format!(
                    "the orchestrator asked for the history again, though the request \
                     carried all of it ({} past events and an executionStarted)",
                    request.past_events.len()
                )),
                Ok(response) => {
                    custom_status_fits(&response)
                        .map(|()| response)
                        .map_err(|reason| {
                            format!(
                                "Function '{name}' failed with an unhandled exception. {reason}"
                            )
                        })
                }
                Err(reason) => Err(reason),
            };
            history_asked = false;
            match result {
                Ok(response) => self.apply(id, &name, request, response),
                Err(reason) => {
                    let execution = Execution {
                        instance_id: id.to_owned(),
                        execution_id: request.execution_id.unwrap_or_default(),
                    };
                    self.console.error(format!(
                        "[durable] {name} {id}: the orchestrator step failed: {reason}"
                    ));
                    self.finish(
                        &execution,
                        RuntimeStatus::Failed,
                        Some(Value::String(reason).to_string()),
                    );
                }
            }
        }
    }

    /// Puts an abandoned step's new events back at the head of the inbox
    /// (less its `orchestratorStarted`), before any that came meanwhile.
    fn step_again(&self, id: &str, order: u64, request: &OrchestratorRequest) {
        let mut instances = self.lock();
        if let Some(instance) = instances.get_mut(id).filter(|i| i.order == order) {
            let mut events: Vec<HistoryEvent> =
                request.new_events.iter().skip(1).cloned().collect();
            events.append(&mut instance.inbox);
            instance.inbox = events;
        }
    }

    /// One orchestrator invocation, as the extension sends it.
    pub(super) async fn run_orchestrator(
        &self,
        name: &str,
        request: &OrchestratorRequest,
    ) -> Result<OrchestratorResponse, String> {
        let function = self
            .orchestrator(name)
            .ok_or_else(|| format!("no orchestrator function named {name:?}"))?;
        let body = super::invocation::envelope(function, &request.encode_to_vec());
        let reply = self.send(function, &body).await?;
        if !(200..300).contains(&reply.0) {
            return Err(format!("the handler answered {}", reply.0));
        }
        let text = reply
            .1
            .get("ReturnValue")
            .and_then(Value::as_str)
            .ok_or("the reply's ReturnValue is not a base64 string")?;
        let bytes =
            crate::dotnet::base64::decode(text).ok_or("the reply's ReturnValue is not base64")?;
        OrchestratorResponse::decode(bytes.as_slice())
            .map_err(|e| format!("the reply's ReturnValue is not an OrchestratorResponse: {e}"))
    }

    /// Records the step and carries out its actions.
    pub(super) fn apply(
        self: &Arc<Self>,
        id: &str,
        name: &str,
        request: OrchestratorRequest,
        response: OrchestratorResponse,
    ) {
        let mut activities = Vec::new();
        let mut timers = Vec::new();
        let mut children = Vec::new();
        let mut events = Vec::new();
        let mut completion = None;
        let execution = Execution {
            instance_id: id.to_owned(),
            execution_id: request.execution_id.clone().unwrap_or_default(),
        };
        {
            let mut instances = self.lock();
            // The step of an execution that ended meanwhile changes nothing.
            let Some(instance) = instances
                .get_mut(id)
                .filter(|i| i.execution_id == execution.execution_id)
            else {
                return;
            };
            instance.history.extend(request.new_events);
            instance.custom_status = response.custom_status.clone();
            instance.updated = UtcTime::now();
            if instance.status == RuntimeStatus::Pending {
                instance.status = RuntimeStatus::Running;
            }
            for action in response.actions {
                let Some(kind) = action.action_type else {
                    continue;
                };
                match kind {
                    ActionType::ScheduleTask(task) => {
                        instance.history.push(event(
                            action.id,
                            EventType::TaskScheduled(TaskScheduledEvent {
                                name: task.name.clone(),
                                version: None,
                                input: task.input.clone(),
                            }),
                        ));
                        activities.push((action.id, task.name, task.input));
                    }
                    ActionType::CreateTimer(timer) => {
                        instance.history.push(event(
                            action.id,
                            EventType::TimerCreated(TimerCreatedEvent {
                                fire_at: timer.fire_at,
                            }),
                        ));
                        timers.push((action.id, timer.fire_at.unwrap_or_default()));
                    }
                    ActionType::CreateSubOrchestration(sub) => {
                        instance.history.push(event(
                            action.id,
                            EventType::SubOrchestrationInstanceCreated(
                                SubOrchestrationInstanceCreatedEvent {
                                    instance_id: sub.instance_id.clone(),
                                    name: sub.name.clone(),
                                    version: None,
                                    input: sub.input.clone(),
                                },
                            ),
                        ));
                        children.push((action.id, sub.name, sub.instance_id, sub.input));
                    }
                    ActionType::SendEvent(send) => {
                        let target = send.instance.map(|i| i.instance_id).unwrap_or_default();
                        // Recorded, so that the next step does not send it again.
                        instance.history.push(event(
                            action.id,
                            EventType::EventSent(EventSentEvent {
                                instance_id: target.clone(),
                                name: send.name.clone(),
                                input: send.data.clone(),
                            }),
                        ));
                        events.push((target, send.name, send.data));
                    }
                    ActionType::CompleteOrchestration(done) => completion = Some(done),
                }
            }
            instance.history.push(event(
                -1,
                EventType::OrchestratorCompleted(OrchestratorCompletedEvent {}),
            ));
        }
        for (task_id, activity, input) in activities {
            self.console.info(format!(
                "[durable] {name} {id}: calls activity {activity} (task {task_id}) with {}",
                input.as_deref().unwrap_or("null")
            ));
            let durable = self.clone();
            let execution = execution.clone();
            tokio::spawn(
                async move { durable.activity(execution, task_id, &activity, input).await },
            );
        }
        for (timer_id, fire_at) in timers {
            let durable = self.clone();
            let execution = execution.clone();
            self.console.info(format!(
                "[durable] {name} {id}: timer {timer_id} set for {}s from now",
                wait_for(fire_at).as_secs()
            ));
            tokio::spawn(async move {
                tokio::time::sleep(wait_for(fire_at)).await;
                let fired = EventType::TimerFired(TimerFiredEvent {
                    fire_at: Some(fire_at),
                    timer_id,
                });
                let _ = durable.deliver_to(&execution, fired);
            });
        }
        for (task_id, child, child_id, input) in children {
            if let Err((_, reason)) = self.start(
                &child,
                Some(child_id),
                input,
                Some((execution.clone(), task_id)),
            ) {
                let failed = EventType::SubOrchestrationInstanceFailed(
                    SubOrchestrationInstanceFailedEvent {
                        task_scheduled_id: task_id,
                        failure_details: Some(failure("SubOrchestrationFailed", reason)),
                    },
                );
                let _ = self.deliver_to(&execution, failed);
            }
        }
        for (target, event_name, data) in events {
            if target.starts_with('@') {
                self.entity_event(
                    id,
                    Some(&execution.execution_id),
                    &target,
                    &event_name,
                    data.as_deref(),
                );
                continue;
            }
            if let Err((_, reason)) = self.raise(&target, &event_name, data) {
                self.console.warning(format!(
                    "[durable] {name} {id}: event {event_name} not sent: {reason}"
                ));
            }
        }
        if let Some(done) = completion {
            let status = OrchestrationStatus::try_from(done.orchestration_status)
                .unwrap_or(OrchestrationStatus::Failed);
            match status {
                OrchestrationStatus::ContinuedAsNew => {
                    self.continue_as_new(&execution, done.result, done.carryover_events)
                }
                OrchestrationStatus::Completed => {
                    self.finish(&execution, RuntimeStatus::Completed, done.result)
                }
                OrchestrationStatus::Terminated => {
                    self.finish(&execution, RuntimeStatus::Terminated, done.result)
                }
                _ => {
                    let details = done.failure_details.map(|details| {
                        json!({"errorType": details.error_type, "errorMessage": details.error_message}).to_string()
                    });
                    self.finish(&execution, RuntimeStatus::Failed, details.or(done.result));
                }
            }
        }
    }

    pub(super) fn continue_as_new(
        self: &Arc<Self>,
        execution: &Execution,
        input: Option<String>,
        carried: Vec<HistoryEvent>,
    ) {
        let id = execution.instance_id.as_str();
        let mut instances = self.lock();
        let Some(instance) = current(&mut instances, execution) else {
            return;
        };
        self.console.info(format!(
            "[durable] {} {id}: continues as new with {}",
            instance.name,
            input.as_deref().unwrap_or("null")
        ));
        instance.execution_id = new_guid();
        instance.history.clear();
        instance.input = input.clone();
        let started = event(
            -1,
            EventType::ExecutionStarted(ExecutionStartedEvent {
                name: instance.name.clone(),
                input,
                orchestration_instance: Some(OrchestrationInstance {
                    instance_id: id.to_owned(),
                    execution_id: Some(instance.execution_id.clone()),
                }),
                ..ExecutionStartedEvent::default()
            }),
        );
        // What the old execution's tasks still send is dropped; events
        // raised meanwhile wait in the inbox already: after the start.
        instance.inbox.retain(|event| {
            matches!(
                event.event_type,
                Some(
                    EventType::EventRaised(_)
                        | EventType::ExecutionTerminated(_)
                        | EventType::ExecutionSuspended(_)
                        | EventType::ExecutionResumed(_)
                )
            )
        });
        instance.inbox.insert(0, started);
        for (offset, carried) in carried.into_iter().enumerate() {
            instance.inbox.insert(1 + offset, carried);
        }
    }

    /// The instance ended; its parent, if any, learns of it.
    pub(super) fn finish(
        self: &Arc<Self>,
        execution: &Execution,
        status: RuntimeStatus,
        output: Option<String>,
    ) {
        let id = execution.instance_id.as_str();
        let parent = {
            let mut instances = self.lock();
            let Some(instance) = current(&mut instances, execution) else {
                return;
            };
            instance.status = status;
            instance.output = output.clone();
            instance.updated = UtcTime::now();
            instance.inbox.clear();
            self.console.info(format!(
                "[durable] {} {id}: {} with {}",
                instance.name,
                status.name(),
                output.as_deref().unwrap_or("null")
            ));
            instance.parent.clone()
        };
        let Some((parent, task_id)) = parent else {
            return;
        };
        let kind = if status == RuntimeStatus::Completed {
            EventType::SubOrchestrationInstanceCompleted(SubOrchestrationInstanceCompletedEvent {
                task_scheduled_id: task_id,
                result: output,
            })
        } else {
            EventType::SubOrchestrationInstanceFailed(SubOrchestrationInstanceFailedEvent {
                task_scheduled_id: task_id,
                failure_details: Some(failure(
                    "SubOrchestrationFailed",
                    format!("sub-orchestration {id} {}", status.name()),
                )),
            })
        };
        let _ = self.deliver_to(&parent, kind);
    }
}

/// The instance `execution` belongs to, while that execution is its current one.
fn current<'a>(
    instances: &'a mut std::collections::HashMap<String, super::Instance>,
    execution: &Execution,
) -> Option<&'a mut super::Instance> {
    instances
        .get_mut(&execution.instance_id)
        .filter(|instance| instance.execution_id == execution.execution_id)
}

/// The extension's limit on a custom status out of process: 16 KB of
/// UTF-16, counted in whole KB rounded down, so that 17 KB less one byte
/// still passes (docs/durable.md, "The management API").
const CUSTOM_STATUS_KB: usize = 16;

/// Refuses a response whose custom status is over [`CUSTOM_STATUS_KB`],
/// with the extension's reason; the step then fails the orchestration.
fn custom_status_fits(response: &OrchestratorResponse) -> Result<(), String> {
    let Some(status) = &response.custom_status else {
        return Ok(());
    };
    let kb = status.encode_utf16().count() * 2 / 1024;
    if kb > CUSTOM_STATUS_KB {
        return Err(format!(
            "CustomStatus is too large: limit = {CUSTOM_STATUS_KB} KB (UTF-16), actual = {kb} KB."
        ));
    }
    Ok(())
}
