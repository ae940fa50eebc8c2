//! The instances the management API reads and changes: start, status,
//! list, restart, raise, terminate, suspend, resume and purge.

use std::sync::Arc;

use durable_proto::{
    EventRaisedEvent, EventType, ExecutionResumedEvent, ExecutionStartedEvent,
    ExecutionSuspendedEvent, ExecutionTerminatedEvent, OrchestrationInstance, ParentInstanceInfo,
};
use serde_json::{Value, json};

use crate::ids::new_guid;
use crate::timers::clock::UtcTime;

use super::{
    Durable, Execution, Instance, InstanceQuery, ListPage, Refusal, RuntimeStatus, event, json_of,
};

impl Durable {
    /// Starts orchestrator `name` with `input` (JSON text); its instance id.
    pub fn start(
        self: &Arc<Self>,
        name: &str,
        instance_id: Option<String>,
        input: Option<String>,
        parent: Option<(Execution, i32)>,
    ) -> Result<String, Refusal> {
        let Some(function) = self.orchestrator(name) else {
            return Err((
                400,
                format!("no orchestrator function named {name:?} in this app"),
            ));
        };
        let id = match instance_id.filter(|id| !id.is_empty()) {
            Some(id) => super::ids::check_instance_id(id)?,
            None => new_guid().replace('-', ""),
        };
        let execution_id = new_guid();
        let parent_info = parent.as_ref().map(|(parent, task_id)| ParentInstanceInfo {
            task_scheduled_id: *task_id,
            name: None,
            version: None,
            orchestration_instance: Some(OrchestrationInstance {
                instance_id: parent.instance_id.clone(),
                execution_id: Some(parent.execution_id.clone()),
            }),
        });
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
        self.fits_start(function, &id, &started)?;
        {
            let mut instances = self.lock();
            if instances
                .get(&id)
                .is_some_and(|instance| !instance.status.is_done())
            {
                // The extension's dedupe failure falls to its catch-all: 500.
                return Err((
                    500,
                    format!("an instance with id {id:?} is already running"),
                ));
            }
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

    /// The statuses of the instances `query` wants, oldest first: those
    /// created after `query.after`, at most `query.top`.
    pub fn list(&self, query: &InstanceQuery) -> ListPage {
        let instances = self.lock();
        let mut list: Vec<(&String, &Instance)> = instances
            .iter()
            .filter(|(_, instance)| {
                (query.statuses.is_empty() || query.statuses.contains(&instance.status))
                    && query
                        .created_from
                        .is_none_or(|from| instance.created >= from)
                    && query.created_to.is_none_or(|to| instance.created <= to)
                    && query.after.is_none_or(|after| instance.order > after)
            })
            .collect();
        list.sort_by_key(|(_, instance)| instance.order);
        let top = query.top.unwrap_or(usize::MAX);
        let more_after = (list.len() > top).then(|| list[top - 1].1.order);
        let statuses = list
            .into_iter()
            .take(top)
            .map(|(id, instance)| status_json(id, instance, query.show_input, false))
            .collect();
        ListPage {
            statuses,
            more_after,
        }
    }

    /// Starts instance `id`'s orchestrator again with its input (the
    /// latest, after a continue-as-new, as the extension reads it),
    /// under a new instance id or, when `new_id` is false, under its own
    /// (refused while it still runs); the id started.
    pub fn restart(self: &Arc<Self>, id: &str, new_id: bool) -> Result<String, Refusal> {
        let (name, input) = {
            let instances = self.lock();
            let Some(instance) = instances.get(id) else {
                return Err((400, format!("no instance with id {id:?} to restart")));
            };
            (instance.name.clone(), instance.input.clone())
        };
        self.start(&name, (!new_id).then(|| id.to_owned()), input, None)
    }

    /// Delivers `kind` to a running instance's current execution: 404
    /// unknown, 410 done.
    pub fn deliver(self: &Arc<Self>, id: &str, kind: EventType) -> Result<(), Refusal> {
        self.push(id, None, kind)
    }

    /// Delivers `kind` to `execution` only: 410 once it is over, even when
    /// a later execution runs under the same instance id.
    pub(super) fn deliver_to(
        self: &Arc<Self>,
        execution: &Execution,
        kind: EventType,
    ) -> Result<(), Refusal> {
        let id = &execution.instance_id;
        self.push(id, Some(&execution.execution_id), kind)
            .inspect_err(|(_, reason)| {
                self.console
                    .info(format!("[durable] {id}: a message dropped: {reason}"));
            })
    }

    fn push(
        self: &Arc<Self>,
        id: &str,
        execution_id: Option<&str>,
        kind: EventType,
    ) -> Result<(), Refusal> {
        {
            let mut instances = self.lock();
            let Some(instance) = instances.get_mut(id) else {
                return Err((404, format!("no instance with id {id:?}")));
            };
            if let Some(execution_id) = execution_id
                && execution_id != instance.execution_id
            {
                return Err((
                    410,
                    format!("execution {execution_id} of instance {id:?} is over"),
                ));
            }
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

    /// Whether instance `id` takes events now: 404 unknown, 410 done.
    pub fn takes_events(&self, id: &str) -> Result<(), Refusal> {
        match self.lock().get(id) {
            None => Err((404, format!("no instance with id {id:?}"))),
            Some(instance) if instance.status.is_done() => Err((
                410,
                format!(
                    "instance {id:?} is {} and takes no more events",
                    instance.status.name()
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    pub fn raise(
        self: &Arc<Self>,
        id: &str,
        name: &str,
        data: Option<String>,
    ) -> Result<(), Refusal> {
        let raised = EventType::EventRaised(EventRaisedEvent {
            name: name.to_owned(),
            input: data,
        });
        if let Some(instance) = self.lock().get(id) {
            let what = format!("the data of event {name:?}");
            self.fits_next_step(id, instance, event(-1, raised.clone()), &what)?;
        }
        self.deliver(id, raised)
    }

    /// The reason is kept as raw text, as DTFx keeps it: the status reads
    /// it as JSON when it parses, else as a string.
    pub fn terminate(self: &Arc<Self>, id: &str, reason: Option<String>) -> Result<(), Refusal> {
        let input = reason;
        self.deliver(
            id,
            EventType::ExecutionTerminated(ExecutionTerminatedEvent {
                input,
                recurse: false,
            }),
        )
    }

    pub fn suspend(self: &Arc<Self>, id: &str, reason: Option<String>) -> Result<(), Refusal> {
        let input = reason;
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
        let input = reason;
        self.deliver(
            id,
            EventType::ExecutionResumed(ExecutionResumedEvent { input }),
        )?;
        if let Some(instance) = self.lock().get_mut(id) {
            instance.status = RuntimeStatus::Running;
        }
        Ok(())
    }

    /// Forgets an instance, whatever its status, as the extension's purge
    /// by id does: whether there was one.
    pub fn purge(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }

    /// Forgets the instances created in `[from, to]` whose status is one
    /// of `statuses` (every status when `None`; of those given, only the
    /// terminal ones count): how many.
    pub fn purge_where(
        &self,
        from: UtcTime,
        to: UtcTime,
        statuses: Option<&[RuntimeStatus]>,
    ) -> usize {
        let mut instances = self.lock();
        let before = instances.len();
        instances.retain(|_, instance| {
            let status_matches = statuses.is_none_or(|wanted| {
                instance.status.is_done() && wanted.contains(&instance.status)
            });
            !(status_matches && instance.created >= from && instance.created <= to)
        });
        before - instances.len()
    }
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
