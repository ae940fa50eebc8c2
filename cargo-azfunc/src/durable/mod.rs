//! The Durable extension's part, played in memory: each orchestration
//! instance's history and status ([`Durable`]), the work-item loop that
//! sends the orchestrator its history and turns its actions into new
//! history (`orchestration`), activity invocations (`activities`), the
//! instances the management API reads and changes (`instances`, served
//! by [`api`]), and entities (`entities`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use durable_proto::{EventType, HistoryEvent, TaskFailureDetails, Timestamp};
use serde_json::{Value, json};

use crate::app::{AppFolder, FunctionFolder};
use crate::console::Console;
use crate::handler::Handler;
use crate::ids::new_guid;
use crate::timers::clock::UtcTime;

mod activities;
pub mod api;
mod entities;
mod ids;
mod instances;
mod invocation;
mod message_sorter;
mod orchestration;
mod page_token;
mod route_value;
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
    /// Only instances created after the one in this place (a
    /// continuation token's).
    pub after: Option<u64>,
    /// At most this many.
    pub top: Option<usize>,
}

/// One page of a list: the instances' statuses, and the place of the last
/// one when more are left.
pub struct ListPage {
    pub statuses: Vec<Value>,
    pub more_after: Option<u64>,
}

/// One orchestration instance.
pub(super) struct Instance {
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
    /// The parent's execution and the task id it waits under.
    parent: Option<(Execution, i32)>,
}

/// One execution of an instance: a message for it (a timer fired, an
/// activity's or a sub-orchestration's result, an entity's response) is
/// dropped once that execution is over, as DTFx drops a message whose
/// execution id is not the instance's current one. An instance id alone
/// would let an old run's timer complete a task of a new run under the
/// same id (after terminate, purge, restart or continue-as-new).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    pub instance_id: String,
    pub execution_id: String,
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

pub(super) fn now_timestamp() -> Timestamp {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(since.subsec_nanos()).unwrap_or(0),
    }
}

pub(super) fn event(event_id: i32, kind: EventType) -> HistoryEvent {
    HistoryEvent {
        event_id,
        timestamp: Some(now_timestamp()),
        event_type: Some(kind),
    }
}

/// `text` as JSON, or as a JSON string when it is not JSON.
pub(super) fn json_of(text: Option<&str>) -> Value {
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

    /// The task hub's name, as the management URLs give it.
    pub fn hub_name(&self) -> &str {
        &self.app.host.hub_name
    }

    /// The storage connection the management URLs name: host.json's, else
    /// `Storage`, as the extension's `GetDefaultConnectionName`.
    pub fn connection_name(&self) -> &str {
        &self.app.host.connection_name
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

    /// Sends an invocation; the reply's status and JSON envelope. An
    /// invocation past functionTimeout fails and restarts the handler, as
    /// any other invocation does.
    pub(super) async fn send(
        &self,
        function: &FunctionFolder,
        body: &Value,
    ) -> Result<(u16, Value), String> {
        let invocation_id = new_guid();
        let (client, pid) = match self.handler.ready().await? {
            (crate::handler::Link::Http(client), pid) => (*client, pid),
            (crate::handler::Link::Worker(worker), _) => {
                let answer = crate::handler::worker_invocation::send(
                    &self.handler,
                    &worker,
                    function,
                    body,
                    &invocation_id,
                )
                .await?;
                return Ok(crate::worker_host::answer::envelope(&answer));
            }
        };
        let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let sent = client.try_invoke(&function.name, &bytes, &invocation_id, PIECE);
        let reply = crate::handler::within_function_timeout(&self.handler, pid, function, sent)
            .await?
            .map_err(|failure| failure.to_string())?;
        let envelope = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        Ok((reply.status, envelope))
    }
}

pub(super) fn failure(error_type: &str, message: String) -> TaskFailureDetails {
    TaskFailureDetails {
        error_type: error_type.to_owned(),
        error_message: message,
        ..TaskFailureDetails::default()
    }
}

pub(super) fn sys(name: &str) -> Value {
    json!({"MethodName": name, "UtcNow": UtcTime::now().iso(), "RandGuid": new_guid()})
}

/// How long until `at`, zero when past.
pub(super) fn wait_for(at: Timestamp) -> Duration {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let at = Duration::new(
        u64::try_from(at.seconds).unwrap_or(0),
        u32::try_from(at.nanos).unwrap_or(0),
    );
    at.saturating_sub(since)
}
