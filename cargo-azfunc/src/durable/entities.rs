//! Durable entities, played as the extension does: each entity's state in
//! memory under `@name@key`, the operations sent to it (by orchestrations'
//! `op` events and by the management API) queued in arrival order and
//! delivered to its entity function in batches, one batch at a time per
//! entity, and each call's result sent back to the calling orchestration
//! as an event named with the request's id.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, MutexGuard};

use durable_proto::{
    EntityBatchRequest, EntityBatchResult, EventRaisedEvent, EventType, OperationActionType,
    OperationRequest, OperationResultType,
};
use prost::Message;
use serde_json::{Value, json};

use super::message_sorter::{Label, MessageSorter, window_of_minutes};
use super::{Durable, Execution, Refusal};
use crate::app::FunctionFolder;
use crate::ids::new_guid;

/// The most operations sent in one batch.
const BATCH: usize = 100;

/// The event name of every request to an entity.
const REQUEST_EVENT: &str = "op";

pub use durable_proto::EntityId;

/// One operation waiting for its entity.
#[derive(Debug, Clone)]
struct Request {
    operation: String,
    /// The input's JSON text.
    input: Option<String>,
    id: String,
    /// The orchestration waiting for the result; `None` for a signal.
    reply_to: Option<ReplyTo>,
}

/// Where a call's response goes: an instance and, when known, the
/// execution that made the call (the response is dropped once it is over).
#[derive(Debug, Clone)]
struct ReplyTo {
    instance_id: String,
    execution_id: Option<String>,
}

/// One entity's state (JSON text; `None`: it does not exist) and queue.
pub(super) struct Entity {
    state: Option<String>,
    queue: VecDeque<Request>,
    /// A batch is running for it.
    busy: bool,
    /// Orders and deduplicates the requests of orchestrations.
    sorter: MessageSorter<Request>,
}

pub(super) type Entities = HashMap<EntityId, Entity>;

impl Durable {
    /// A new entity, its sorter on host.json's reorder window.
    fn new_entity(&self) -> Entity {
        Entity {
            state: None,
            queue: VecDeque::new(),
            busy: false,
            sorter: MessageSorter::new(window_of_minutes(
                self.app.host.entity_message_reorder_window_minutes,
            )),
        }
    }

    fn entities(&self) -> MutexGuard<'_, Entities> {
        // As for instances: nothing is left half-changed under the lock.
        self.entities
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The entity function `name`, any case.
    fn entity_function(&self, name: &str) -> Option<&FunctionFolder> {
        self.app
            .function(name)
            .filter(|function| function.trigger().is_kind("entityTrigger"))
    }

    /// Signals `operation` with `input` (JSON text) to `entity`, as the
    /// management API does: 400 when the app has no such entity function
    /// or the key holds `/`, `\\`, `?`, `#` or a control character.
    pub fn signal_entity(
        self: &Arc<Self>,
        entity: &EntityId,
        operation: &str,
        input: Option<String>,
    ) -> Result<(), Refusal> {
        if entity.key().chars().any(super::ids::is_invalid_char) {
            return Err((
                400,
                "entity keys must not contain /, \\, #, ? or control characters".to_owned(),
            ));
        }
        let Some(function) = self.entity_function(entity.name()) else {
            return Err((
                400,
                format!("no entity function named {:?} in this app", entity.name()),
            ));
        };
        let request = Request {
            operation: operation.to_owned(),
            input,
            id: new_guid(),
            reply_to: None,
        };
        // Alone in a batch with the entity's state, it must fit.
        let alone = batch_request(entity, self.entity_state(entity), &[&request]);
        let what = format!("the input of operation {operation:?}");
        self.fits(function, alone.encoded_len(), &what)?;
        self.enqueue(entity, request);
        Ok(())
    }

    /// The entity's state (JSON text), if it has one.
    pub fn entity_state(&self, entity: &EntityId) -> Option<String> {
        self.entities()
            .get(entity)
            .and_then(|entity| entity.state.clone())
    }

    /// An orchestration's event `name` to `target`, an entity: a request
    /// message (`op`, `signal`, `input`, `id`, `parent`).
    pub(super) fn entity_event(
        self: &Arc<Self>,
        from: &str,
        from_execution: Option<&str>,
        target: &str,
        name: &str,
        data: Option<&str>,
    ) {
        let warn = |reason: String| {
            self.console.warning(format!(
                "[durable] {from}: event {name} to entity {target} dropped: {reason}"
            ));
        };
        let Some(entity) = EntityId::parse(target) else {
            return warn("not an entity id (@name@key)".to_owned());
        };
        // Scheduled requests (`op@<time>`) are run at once.
        if !name.starts_with(REQUEST_EVENT) {
            return warn("only operation requests (op) are supported".to_owned());
        }
        let message = data.and_then(|text| serde_json::from_str::<Value>(text).ok());
        let field = |key: &str| {
            message
                .as_ref()
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let (Some(operation), Some(id)) = (field("op"), field("id")) else {
            return warn(format!(
                "not a request message with op and id: {}",
                data.unwrap_or("nothing")
            ));
        };
        let label = message.as_ref().and_then(Label::of_message);
        let signal = message
            .as_ref()
            .and_then(|m| m.get("signal"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let request = Request {
            operation,
            input: field("input"),
            id,
            reply_to: (!signal).then(|| {
                let instance_id = field("parent").unwrap_or_else(|| from.to_owned());
                // The caller's own execution, or the one the message names.
                let execution_id = field("parentExecution").or_else(|| {
                    (instance_id == from)
                        .then(|| from_execution.map(str::to_owned))
                        .flatten()
                });
                ReplyTo {
                    instance_id,
                    execution_id,
                }
            }),
        };
        if self.entity_function(entity.name()).is_none() {
            let reason = format!("no entity function named {:?} in this app", entity.name());
            self.respond(
                &entity,
                &request,
                &failure("EntityFunctionNotFound", &reason),
            );
            return warn(reason);
        }
        self.enqueue_in_order(&entity, label, request);
    }

    /// Queues `request` as DTFx's entity dispatcher does: through the
    /// entity's message sorter, which may hold it back for its
    /// predecessor or drop it as a duplicate.
    fn enqueue_in_order(
        self: &Arc<Self>,
        entity: &EntityId,
        label: Option<Label>,
        request: Request,
    ) {
        let (id, operation) = (request.id.clone(), request.operation.clone());
        let (delivered, held) = {
            let mut entities = self.entities();
            let state = entities
                .entry(entity.clone())
                .or_insert_with(|| self.new_entity());
            let waiting = state.sorter.waiting();
            let delivered = state.sorter.receive_in_order(label, request);
            let held = state.sorter.waiting() > waiting;
            (delivered, held)
        };
        if delivered.is_empty() {
            self.console.warning(if held {
                format!("[durable] entity {entity}: request {id} ({operation}) waits for an earlier one")
            } else {
                format!(
                    "[durable] entity {entity}: request {id} ({operation}) dropped as a duplicate (its Timestamp is not after the last one delivered)"
                )
            });
        }
        for request in delivered {
            self.enqueue(entity, request);
        }
    }

    fn enqueue(self: &Arc<Self>, entity: &EntityId, request: Request) {
        let start = {
            let mut entities = self.entities();
            let state = entities
                .entry(entity.clone())
                .or_insert_with(|| self.new_entity());
            state.queue.push_back(request);
            !std::mem::replace(&mut state.busy, true)
        };
        if start {
            let durable = self.clone();
            let entity = entity.clone();
            tokio::spawn(async move { durable.run_entity(entity).await });
        }
    }

    /// Batches for `entity` until its queue is empty.
    async fn run_entity(self: Arc<Self>, entity: EntityId) {
        loop {
            let (state, batch) = {
                let mut entities = self.entities();
                let Some(current) = entities.get_mut(&entity) else {
                    return;
                };
                if current.queue.is_empty() {
                    current.busy = false;
                    if current.state.is_none() && current.sorter.is_empty() {
                        entities.remove(&entity);
                    }
                    return;
                }
                let take = self.batch_length(&entity, current);
                let batch: Vec<Request> = current.queue.drain(..take).collect();
                (current.state.clone(), batch)
            };
            let names: Vec<&str> = batch.iter().map(|r| r.operation.as_str()).collect();
            self.console.info(format!(
                "[durable] entity {entity}: {} operation(s): {}",
                batch.len(),
                names.join(", ")
            ));
            let request = batch_request(&entity, state, &batch.iter().collect::<Vec<_>>());
            match self.invoke_entity(&entity, &request).await {
                Ok(result) => self.apply_batch(&entity, batch, result),
                Err(reason) => {
                    // The state stays as it was; every caller learns why.
                    self.console.error(format!(
                        "[durable] entity {entity}: the batch failed: {reason}"
                    ));
                    let response = failure("FunctionInvocationFailed", &reason);
                    for request in &batch {
                        self.respond(&entity, request, &response);
                    }
                }
            }
        }
    }

    /// Records the batch's state and results, sends the calls' responses
    /// and the entity's own messages, and queues again the operations
    /// the function left unanswered.
    fn apply_batch(
        self: &Arc<Self>,
        entity: &EntityId,
        batch: Vec<Request>,
        result: EntityBatchResult,
    ) {
        if result.results.is_empty() && !batch.is_empty() {
            // Queued again, they would loop for ever: they fail instead,
            // and the state stays as it was.
            let reason = "the entity function answered none of the operations";
            self.console
                .error(format!("[durable] entity {entity}: {reason}"));
            let response = failure("EntityResultMissing", reason);
            for request in &batch {
                self.respond(entity, request, &response);
            }
            return;
        }
        let answered = result.results.len().min(batch.len());
        {
            let mut entities = self.entities();
            let current = entities
                .entry(entity.clone())
                .or_insert_with(|| self.new_entity());
            current.state = result.entity_state.clone();
            for request in batch[answered..].iter().rev() {
                current.queue.push_front(request.clone());
            }
        }
        for (request, outcome) in batch.iter().zip(&result.results) {
            let response = match &outcome.result_type {
                Some(OperationResultType::Success(success)) => json!({"result": success.result}),
                Some(OperationResultType::Failure(failed)) => {
                    let details = failed.failure_details.clone().unwrap_or_default();
                    self.console.warning(format!(
                        "[durable] entity {entity}: operation {} failed: {}",
                        request.operation, details.error_message
                    ));
                    failure(&details.error_type, &details.error_message)
                }
                None => failure("EntityResultMissing", "the operation's result is empty"),
            };
            self.respond(entity, request, &response);
        }
        for action in result.actions {
            match action.operation_action_type {
                Some(OperationActionType::SendSignal(signal)) => {
                    let message = json!({"op": signal.name, "signal": true, "input": signal.input, "id": new_guid()});
                    let text = message.to_string();
                    self.entity_event(
                        &entity.to_string(),
                        None,
                        &signal.instance_id,
                        REQUEST_EVENT,
                        Some(&text),
                    );
                }
                Some(OperationActionType::StartNewOrchestration(start)) => {
                    let id = Some(start.instance_id).filter(|id| !id.is_empty());
                    if let Err((_, reason)) = self.start(&start.name, id, start.input, None) {
                        self.console.warning(format!(
                            "[durable] entity {entity}: orchestration {} not started: {reason}",
                            start.name
                        ));
                    }
                }
                None => {}
            }
        }
    }

    /// Sends a call's response to the orchestration waiting for it.
    fn respond(self: &Arc<Self>, entity: &EntityId, request: &Request, response: &Value) {
        let Some(parent) = &request.reply_to else {
            return;
        };
        let kind = EventType::EventRaised(EventRaisedEvent {
            name: request.id.clone(),
            input: Some(response.to_string()),
        });
        let delivered = match &parent.execution_id {
            Some(execution_id) => self.deliver_to(
                &Execution {
                    instance_id: parent.instance_id.clone(),
                    execution_id: execution_id.clone(),
                },
                kind,
            ),
            None => self.deliver(&parent.instance_id, kind),
        };
        let parent = &parent.instance_id;
        if let Err((_, reason)) = delivered {
            self.console.warning(format!(
                "[durable] entity {entity}: the response to {parent} was not delivered: {reason}"
            ));
        }
    }

    /// How many of the requests waiting for `entity` go in its next batch:
    /// at most [`BATCH`], and no more than fit in one invocation the
    /// handler reads (one always goes, and fails alone if it must).
    fn batch_length(&self, entity: &EntityId, current: &Entity) -> usize {
        let most = current.queue.len().min(BATCH);
        let Some(function) = self.entity_function(entity.name()) else {
            return most;
        };
        let mut request = batch_request(entity, current.state.clone(), &[]);
        let mut take = 0;
        for waiting in current.queue.iter().take(most) {
            request.operations.push(operation_request(waiting));
            if take > 0 && self.fits(function, request.encoded_len(), "").is_err() {
                break;
            }
            take += 1;
        }
        take
    }

    /// One entity invocation, as the extension sends it.
    async fn invoke_entity(
        &self,
        entity: &EntityId,
        request: &EntityBatchRequest,
    ) -> Result<EntityBatchResult, String> {
        let function = self
            .entity_function(entity.name())
            .ok_or_else(|| format!("no entity function named {:?}", entity.name()))?;
        let body = super::invocation::envelope(function, &request.encode_to_vec());
        let (status, envelope) = self.send(function, &body).await?;
        if !(200..300).contains(&status) {
            return Err(format!(
                "the handler answered {status} (its reason is on the handler's stderr)"
            ));
        }
        let text = envelope
            .get("ReturnValue")
            .and_then(Value::as_str)
            .ok_or("the reply's ReturnValue is not a base64 string")?;
        let bytes =
            crate::dotnet::base64::decode(text).ok_or("the reply's ReturnValue is not base64")?;
        EntityBatchResult::decode(bytes.as_slice())
            .map_err(|e| format!("the reply's ReturnValue is not an EntityBatchResult: {e}"))
    }
}

/// The batch of `requests` for `entity` in `state`.
fn batch_request(
    entity: &EntityId,
    state: Option<String>,
    requests: &[&Request],
) -> EntityBatchRequest {
    EntityBatchRequest {
        instance_id: entity.to_string(),
        entity_state: state,
        operations: requests.iter().map(|r| operation_request(r)).collect(),
    }
}

fn operation_request(request: &Request) -> OperationRequest {
    OperationRequest {
        operation: request.operation.clone(),
        request_id: request.id.clone(),
        input: request.input.clone(),
    }
}

/// A failed operation's response message: the framework's failure details
/// with their .NET property names (docs/durable.md, "Orchestrations
/// calling entities").
fn failure(error_type: &str, message: &str) -> Value {
    json!({
        "result": Value::Null,
        "failureDetails": {
            "ErrorType": error_type,
            "ErrorMessage": message,
            "StackTrace": Value::Null,
            "InnerFailure": Value::Null,
            "IsNonRetriable": false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_ids_read_and_print_as_the_extension_spells_them() {
        let id = EntityId::parse("@Counter@a@b").unwrap();
        assert_eq!(id, EntityId::new("counter", "a@b"));
        assert_eq!(id.to_string(), "@counter@a@b");
        assert_eq!(
            EntityId::parse("@counter@"),
            Some(EntityId::new("counter", ""))
        );
        for bad in ["counter@a", "@counter", "@@a", ""] {
            assert_eq!(EntityId::parse(bad), None, "{bad}");
        }
    }
}
