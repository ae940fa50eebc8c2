//! The Durable extension's part, played in memory: each orchestration
//! instance's history and status,
//! the work-item loop that sends the orchestrator its history and turns its
//! actions into new history (activity invocations, timers on the real
//! clock, sub-orchestrations, events, continue-as-new), and the instances
//! the management API reads and changes. Entities are in [`entities`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use durable_proto::{
    ActionType, EventRaisedEvent, EventSentEvent, EventType, ExecutionResumedEvent,
    ExecutionStartedEvent, ExecutionSuspendedEvent, ExecutionTerminatedEvent, HistoryEvent,
    OrchestrationInstance, OrchestrationStatus, OrchestratorCompletedEvent, OrchestratorRequest,
    OrchestratorResponse, OrchestratorStartedEvent, ParentInstanceInfo,
    SubOrchestrationInstanceCompletedEvent, SubOrchestrationInstanceCreatedEvent,
    SubOrchestrationInstanceFailedEvent, TaskCompletedEvent, TaskFailedEvent, TaskFailureDetails,
    TaskScheduledEvent, TimerCreatedEvent, TimerFiredEvent, Timestamp,
};
use prost::Message;
use serde_json::{Value, json};

use crate::app::{AppFolder, FunctionFolder};
use crate::clock::UtcTime;
use crate::console::Console;
use crate::handler::Handler;
use crate::ids::new_guid;

mod entities;
pub use entities::EntityId;

/// Invocations are sent in one piece up to this size.
const PIECE: usize = 16 * 1024;

/// Where an instance stands, as the management API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeStatus {
    Pending,
    Running,
    Suspended,
    Completed,
    Failed,
    Terminated,
}

impl RuntimeStatus {
    pub fn name(self) -> &'static str {
        match self {
            RuntimeStatus::Pending => "Pending",
            RuntimeStatus::Running => "Running",
            RuntimeStatus::Suspended => "Suspended",
            RuntimeStatus::Completed => "Completed",
            RuntimeStatus::Failed => "Failed",
            RuntimeStatus::Terminated => "Terminated",
        }
    }

    /// The status called `name`, in any case.
    pub fn from_name(name: &str) -> Option<RuntimeStatus> {
        [
            RuntimeStatus::Pending,
            RuntimeStatus::Running,
            RuntimeStatus::Suspended,
            RuntimeStatus::Completed,
            RuntimeStatus::Failed,
            RuntimeStatus::Terminated,
        ]
        .into_iter()
        .find(|status| status.name().eq_ignore_ascii_case(name))
    }

    pub fn is_done(self) -> bool {
        matches!(
            self,
            RuntimeStatus::Completed | RuntimeStatus::Failed | RuntimeStatus::Terminated
        )
    }
}

/// Which instances a list call wants, and how it shows them.
#[derive(Clone, Debug, Default)]
pub struct InstanceQuery {
    /// Only these statuses; every status when empty.
    pub statuses: Vec<RuntimeStatus>,
    /// Created at or after this.
    pub created_from: Option<UtcTime>,
    /// Created at or before this.
    pub created_to: Option<UtcTime>,
    pub show_input: bool,
}

/// One orchestration instance.
struct Instance {
    name: String,
    execution_id: String,
    status: RuntimeStatus,
    input: Option<String>,
    output: Option<String>,
    custom_status: Option<String>,
    created: UtcTime,
    /// Its place among the instances created, for lists in creation order
    /// (`created` has whole seconds only).
    order: u64,
    updated: UtcTime,
    history: Vec<HistoryEvent>,
    /// Events for the next work item.
    inbox: Vec<HistoryEvent>,
    /// A work item is running for it.
    busy: bool,
    /// The parent's instance id and the task id it waits under.
    parent: Option<(String, i32)>,
}

/// A management API refusal: the status code and why.
pub type Refusal = (u16, String);

/// The in-memory Durable extension of one local host.
pub struct Durable {
    app: AppFolder,
    handler: Arc<Handler>,
    console: Console,
    instances: Mutex<HashMap<String, Instance>>,
    entities: Mutex<entities::Entities>,
    created: std::sync::atomic::AtomicU64,
}

fn now_timestamp() -> Timestamp {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(since.subsec_nanos()).unwrap_or(0),
    }
}

fn event(event_id: i32, kind: EventType) -> HistoryEvent {
    HistoryEvent {
        event_id,
        timestamp: Some(now_timestamp()),
        event_type: Some(kind),
    }
}

/// `text` as JSON, or as a JSON string when it is not JSON.
fn json_of(text: Option<&str>) -> Value {
    match text {
        None => Value::Null,
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())),
    }
}

impl Durable {
    pub fn new(app: AppFolder, handler: Arc<Handler>, console: Console) -> Durable {
        Durable {
            app,
            handler,
            console,
            instances: Mutex::new(HashMap::new()),
            entities: Mutex::new(HashMap::new()),
            created: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Instance>> {
        // Nothing is left half-changed under the lock: a panic elsewhere
        // does not make the map unusable.
        self.instances
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The orchestrator function `name`, any case.
    fn orchestrator(&self, name: &str) -> Option<&FunctionFolder> {
        self.app
            .function(name)
            .filter(|function| function.trigger().is_kind("orchestrationTrigger"))
    }

    /// Starts orchestrator `name` with `input` (JSON text); its instance id.
    pub fn start(
        self: &Arc<Self>,
        name: &str,
        instance_id: Option<String>,
        input: Option<String>,
        parent: Option<(String, i32)>,
    ) -> Result<String, Refusal> {
        let Some(function) = self.orchestrator(name) else {
            return Err((
                404,
                format!("no orchestrator function named {name:?} in this app"),
            ));
        };
        let id = instance_id.unwrap_or_else(|| new_guid().replace('-', ""));
        {
            let mut instances = self.lock();
            if instances
                .get(&id)
                .is_some_and(|instance| !instance.status.is_done())
            {
                return Err((
                    409,
                    format!("an instance with id {id:?} is already running"),
                ));
            }
            let parent_info = parent
                .as_ref()
                .map(|(parent_id, task_id)| ParentInstanceInfo {
                    task_scheduled_id: *task_id,
                    name: None,
                    version: None,
                    orchestration_instance: Some(OrchestrationInstance {
                        instance_id: parent_id.clone(),
                        execution_id: None,
                    }),
                });
            let execution_id = new_guid();
            let started = event(
                -1,
                EventType::ExecutionStarted(ExecutionStartedEvent {
                    name: function.name.clone(),
                    input: input.clone(),
                    orchestration_instance: Some(OrchestrationInstance {
                        instance_id: id.clone(),
                        execution_id: Some(execution_id.clone()),
                    }),
                    parent_instance: parent_info,
                    ..ExecutionStartedEvent::default()
                }),
            );
            instances.insert(
                id.clone(),
                Instance {
                    name: function.name.clone(),
                    execution_id,
                    status: RuntimeStatus::Pending,
                    input,
                    output: None,
                    custom_status: None,
                    created: UtcTime::now(),
                    order: self
                        .created
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                    updated: UtcTime::now(),
                    history: Vec::new(),
                    inbox: vec![started],
                    busy: false,
                    parent,
                },
            );
        }
        self.console.info(format!("[durable] {name} {id}: started"));
        self.wake(&id);
        Ok(id)
    }

    /// The instance's status as the management API shows it.
    pub fn status(
        &self,
        id: &str,
        show_input: bool,
        show_history: bool,
    ) -> Option<(RuntimeStatus, Value)> {
        let instances = self.lock();
        let instance = instances.get(id)?;
        Some((
            instance.status,
            status_json(id, instance, show_input, show_history),
        ))
    }

    /// The status of every instance `query` wants, oldest first.
    pub fn list(&self, query: &InstanceQuery) -> Vec<Value> {
        let instances = self.lock();
        let mut list: Vec<(&String, &Instance)> = instances
            .iter()
            .filter(|(_, instance)| {
                (query.statuses.is_empty() || query.statuses.contains(&instance.status))
                    && query
                        .created_from
                        .is_none_or(|from| instance.created >= from)
                    && query.created_to.is_none_or(|to| instance.created <= to)
            })
            .collect();
        list.sort_by_key(|(_, instance)| instance.order);
        list.into_iter()
            .map(|(id, instance)| status_json(id, instance, query.show_input, false))
            .collect()
    }

    /// Starts instance `id`'s orchestrator again with its input (the
    /// latest, after a continue-as-new, as the extension reads it),
    /// under a new instance id or, when `new_id` is false, under its own
    /// (refused while it still runs); the id started.
    pub fn restart(self: &Arc<Self>, id: &str, new_id: bool) -> Result<String, Refusal> {
        let (name, input) = {
            let instances = self.lock();
            let Some(instance) = instances.get(id) else {
                return Err((404, format!("no instance with id {id:?}")));
            };
            (instance.name.clone(), instance.input.clone())
        };
        self.start(&name, (!new_id).then(|| id.to_owned()), input, None)
    }

    /// Delivers `kind` to a running instance: 404 unknown, 410 done.
    pub fn deliver(self: &Arc<Self>, id: &str, kind: EventType) -> Result<(), Refusal> {
        {
            let mut instances = self.lock();
            let Some(instance) = instances.get_mut(id) else {
                return Err((404, format!("no instance with id {id:?}")));
            };
            if instance.status.is_done() {
                return Err((
                    410,
                    format!(
                        "instance {id:?} is {} and takes no more events",
                        instance.status.name()
                    ),
                ));
            }
            instance.inbox.push(event(-1, kind));
        }
        self.wake(id);
        Ok(())
    }

    pub fn raise(
        self: &Arc<Self>,
        id: &str,
        name: &str,
        data: Option<String>,
    ) -> Result<(), Refusal> {
        self.deliver(
            id,
            EventType::EventRaised(EventRaisedEvent {
                name: name.to_owned(),
                input: data,
            }),
        )
    }

    pub fn terminate(self: &Arc<Self>, id: &str, reason: Option<String>) -> Result<(), Refusal> {
        let input = reason.map(|reason| Value::String(reason).to_string());
        self.deliver(
            id,
            EventType::ExecutionTerminated(ExecutionTerminatedEvent {
                input,
                recurse: false,
            }),
        )
    }

    pub fn suspend(self: &Arc<Self>, id: &str, reason: Option<String>) -> Result<(), Refusal> {
        let input = reason.map(|reason| Value::String(reason).to_string());
        self.deliver(
            id,
            EventType::ExecutionSuspended(ExecutionSuspendedEvent { input }),
        )?;
        if let Some(instance) = self.lock().get_mut(id) {
            instance.status = RuntimeStatus::Suspended;
        }
        Ok(())
    }

    pub fn resume(self: &Arc<Self>, id: &str, reason: Option<String>) -> Result<(), Refusal> {
        let input = reason.map(|reason| Value::String(reason).to_string());
        self.deliver(
            id,
            EventType::ExecutionResumed(ExecutionResumedEvent { input }),
        )?;
        if let Some(instance) = self.lock().get_mut(id) {
            instance.status = RuntimeStatus::Running;
        }
        Ok(())
    }

    /// Forgets an instance: whether there was one.
    pub fn purge(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }

    /// Runs a work item for `id` unless one runs or nothing is new.
    fn wake(self: &Arc<Self>, id: &str) {
        {
            let mut instances = self.lock();
            let Some(instance) = instances.get_mut(id) else {
                return;
            };
            if instance.busy || instance.inbox.is_empty() {
                return;
            }
            instance.busy = true;
        }
        let durable = self.clone();
        let id = id.to_owned();
        tokio::spawn(async move { durable.work(&id).await });
    }

    /// Work items for `id` until its inbox is empty.
    async fn work(self: Arc<Self>, id: &str) {
        loop {
            let (name, request) = {
                let mut instances = self.lock();
                let Some(instance) = instances.get_mut(id) else {
                    return;
                };
                if instance.inbox.is_empty() {
                    instance.busy = false;
                    return;
                }
                let mut new_events = vec![event(
                    -1,
                    EventType::OrchestratorStarted(OrchestratorStartedEvent {}),
                )];
                new_events.append(&mut instance.inbox);
                let request = OrchestratorRequest {
                    instance_id: id.to_owned(),
                    execution_id: Some(instance.execution_id.clone()),
                    past_events: instance.history.clone(),
                    new_events,
                };
                (instance.name.clone(), request)
            };
            self.console.info(format!(
                "[durable] {name} {id}: orchestrator step ({} events replayed, {} new)",
                request.past_events.len(),
                request.new_events.len()
            ));
            match self.run_orchestrator(&name, &request).await {
                Ok(response) => self.apply(id, &name, request, response),
                Err(reason) => {
                    self.console.error(format!(
                        "[durable] {name} {id}: the orchestrator step failed: {reason}"
                    ));
                    self.finish(
                        id,
                        RuntimeStatus::Failed,
                        Some(Value::String(reason).to_string()),
                    );
                }
            }
        }
    }

    /// One orchestrator invocation, as the extension sends it.
    async fn run_orchestrator(
        &self,
        name: &str,
        request: &OrchestratorRequest,
    ) -> Result<OrchestratorResponse, String> {
        let function = self
            .orchestrator(name)
            .ok_or_else(|| format!("no orchestrator function named {name:?}"))?;
        let encoded = crate::base64::encode(&request.encode_to_vec());
        // The host's double encoding: a JSON string of the base64 text.
        let value = Value::String(Value::String(encoded).to_string());
        let body = json!({
            "Data": {function.trigger().name.clone(): value},
            "Metadata": {"sys": sys(name)},
        });
        let reply = self.send(function, &body).await?;
        if !(200..300).contains(&reply.0) {
            return Err(format!("the handler answered {}", reply.0));
        }
        let text = reply
            .1
            .get("ReturnValue")
            .and_then(Value::as_str)
            .ok_or("the reply's ReturnValue is not a base64 string")?;
        let bytes = crate::base64::decode(text).ok_or("the reply's ReturnValue is not base64")?;
        OrchestratorResponse::decode(bytes.as_slice())
            .map_err(|e| format!("the reply's ReturnValue is not an OrchestratorResponse: {e}"))
    }

    /// Sends an invocation; the reply's status and JSON envelope. An
    /// invocation past functionTimeout fails and restarts the handler, as
    /// any other invocation does.
    async fn send(&self, function: &FunctionFolder, body: &Value) -> Result<(u16, Value), String> {
        let (client, pid) = self.handler.ready().await?;
        let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let invocation_id = new_guid();
        let sent = client.try_invoke(&function.name, &bytes, &invocation_id, PIECE);
        let reply = crate::invocation::within_function_timeout(&self.handler, pid, function, sent)
            .await?
            .map_err(|failure| failure.to_string())?;
        let envelope = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        Ok((reply.status, envelope))
    }

    /// Records the step and carries out its actions.
    fn apply(
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
        {
            let mut instances = self.lock();
            let Some(instance) = instances.get_mut(id) else {
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
            let id = id.to_owned();
            tokio::spawn(async move { durable.activity(&id, task_id, &activity, input).await });
        }
        for (timer_id, fire_at) in timers {
            let durable = self.clone();
            let id = id.to_owned();
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
                let _ = durable.deliver(&id, fired);
            });
        }
        for (task_id, child, child_id, input) in children {
            if let Err((_, reason)) = self.start(
                &child,
                Some(child_id),
                input,
                Some((id.to_owned(), task_id)),
            ) {
                let failed = EventType::SubOrchestrationInstanceFailed(
                    SubOrchestrationInstanceFailedEvent {
                        task_scheduled_id: task_id,
                        failure_details: Some(failure("SubOrchestrationFailed", reason)),
                    },
                );
                let _ = self.deliver(id, failed);
            }
        }
        for (target, event_name, data) in events {
            if target.starts_with('@') {
                self.entity_event(id, &target, &event_name, data.as_deref());
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
                    self.continue_as_new(id, done.result, done.carryover_events)
                }
                OrchestrationStatus::Completed => {
                    self.finish(id, RuntimeStatus::Completed, done.result)
                }
                OrchestrationStatus::Terminated => {
                    self.finish(id, RuntimeStatus::Terminated, done.result)
                }
                _ => {
                    let details = done.failure_details.map(|details| {
                        json!({"errorType": details.error_type, "errorMessage": details.error_message}).to_string()
                    });
                    self.finish(id, RuntimeStatus::Failed, details.or(done.result));
                }
            }
        }
    }

    fn continue_as_new(
        self: &Arc<Self>,
        id: &str,
        input: Option<String>,
        carried: Vec<HistoryEvent>,
    ) {
        let mut instances = self.lock();
        let Some(instance) = instances.get_mut(id) else {
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
        // Events raised meanwhile wait in the inbox already: after the start.
        instance.inbox.insert(0, started);
        for (offset, carried) in carried.into_iter().enumerate() {
            instance.inbox.insert(1 + offset, carried);
        }
    }

    /// The instance ended; its parent, if any, learns of it.
    fn finish(self: &Arc<Self>, id: &str, status: RuntimeStatus, output: Option<String>) {
        let parent = {
            let mut instances = self.lock();
            let Some(instance) = instances.get_mut(id) else {
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
        let _ = self.deliver(&parent, kind);
    }

    /// One activity invocation; its result goes to the instance's inbox.
    async fn activity(self: Arc<Self>, id: &str, task_id: i32, name: &str, input: Option<String>) {
        let outcome = match self
            .app
            .function(name)
            .filter(|function| function.trigger().is_kind("activityTrigger"))
        {
            None => Err(format!("no activity function named {name:?}")),
            Some(function) => {
                let input = input.unwrap_or_else(|| "null".to_owned());
                let data = Value::String(input);
                let body = json!({
                    "Data": {function.trigger().name.clone(): data.clone()},
                    "Metadata": {"data": data, "instanceId": Value::String(id.to_owned()).to_string(), "sys": sys(name)},
                });
                match self.send(function, &body).await {
                    Ok((200..=299, envelope)) => {
                        let value = envelope.get("ReturnValue").cloned().unwrap_or(Value::Null);
                        Ok((!value.is_null()).then(|| value.to_string()))
                    }
                    Ok((status, _)) => Err(format!(
                        "Function '{name}' failed: the handler answered {status} (its reason is on the handler's stderr)"
                    )),
                    Err(reason) => Err(format!("Function '{name}' failed: {reason}")),
                }
            }
        };
        let kind = match outcome {
            Ok(result) => {
                self.console.info(format!(
                    "[durable] activity {name} (task {task_id} of {id}) returned {}",
                    result.as_deref().unwrap_or("null")
                ));
                EventType::TaskCompleted(TaskCompletedEvent {
                    task_scheduled_id: task_id,
                    result,
                })
            }
            Err(reason) => {
                self.console.warning(format!(
                    "[durable] activity {name} (task {task_id} of {id}) failed: {reason}"
                ));
                EventType::TaskFailed(TaskFailedEvent {
                    task_scheduled_id: task_id,
                    failure_details: Some(failure("FunctionFailedException", reason)),
                })
            }
        };
        let _ = self.deliver(id, kind);
    }
}

fn failure(error_type: &str, message: String) -> TaskFailureDetails {
    TaskFailureDetails {
        error_type: error_type.to_owned(),
        error_message: message,
        ..TaskFailureDetails::default()
    }
}

fn sys(name: &str) -> Value {
    json!({"MethodName": name, "UtcNow": UtcTime::now().iso(), "RandGuid": new_guid()})
}

/// How long until `at`, zero when past.
fn wait_for(at: Timestamp) -> Duration {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let at = Duration::new(
        u64::try_from(at.seconds).unwrap_or(0),
        u32::try_from(at.nanos).unwrap_or(0),
    );
    at.saturating_sub(since)
}

fn status_json(id: &str, instance: &Instance, show_input: bool, show_history: bool) -> Value {
    let input = if show_input {
        json_of(instance.input.as_deref())
    } else {
        Value::Null
    };
    let mut status = json!({
        "name": instance.name,
        "instanceId": id,
        "runtimeStatus": instance.status.name(),
        "input": input,
        "customStatus": json_of(instance.custom_status.as_deref()),
        "output": json_of(instance.output.as_deref()),
        "createdTime": instance.created.iso(),
        "lastUpdatedTime": instance.updated.iso(),
    });
    if show_history {
        status["historyEvents"] = Value::Array(
            instance
                .history
                .iter()
                .filter_map(|event| event.event_type.as_ref().map(event_name))
                .map(|name| json!({"EventType": name}))
                .collect(),
        );
    }
    status
}

fn event_name(kind: &EventType) -> &'static str {
    match kind {
        EventType::ExecutionStarted(_) => "ExecutionStarted",
        EventType::ExecutionCompleted(_) => "ExecutionCompleted",
        EventType::ExecutionTerminated(_) => "ExecutionTerminated",
        EventType::TaskScheduled(_) => "TaskScheduled",
        EventType::TaskCompleted(_) => "TaskCompleted",
        EventType::TaskFailed(_) => "TaskFailed",
        EventType::SubOrchestrationInstanceCreated(_) => "SubOrchestrationInstanceCreated",
        EventType::SubOrchestrationInstanceCompleted(_) => "SubOrchestrationInstanceCompleted",
        EventType::SubOrchestrationInstanceFailed(_) => "SubOrchestrationInstanceFailed",
        EventType::TimerCreated(_) => "TimerCreated",
        EventType::TimerFired(_) => "TimerFired",
        EventType::OrchestratorStarted(_) => "OrchestratorStarted",
        EventType::OrchestratorCompleted(_) => "OrchestratorCompleted",
        EventType::EventSent(_) => "EventSent",
        EventType::EventRaised(_) => "EventRaised",
        EventType::GenericEvent(_) => "GenericEvent",
        EventType::ContinueAsNew(_) => "ContinueAsNew",
        EventType::ExecutionSuspended(_) => "ExecutionSuspended",
        EventType::ExecutionResumed(_) => "ExecutionResumed",
    }
}
