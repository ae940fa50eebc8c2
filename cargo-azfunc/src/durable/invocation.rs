//! The invocations of orchestrator and entity functions: a protobuf
//! message as base64 inside two JSON strings, as the host sends it, and
//! their size before they are made. A message whose invocation would be
//! larger than the handler reads (its `limits.json`) is refused where it
//! enters, with the limit in the reason, not accepted and then failed
//! (docs/durable.md, "The management API").

use durable_proto::{
    EventType, HistoryEvent, OrchestratorEntityParameters, OrchestratorRequest,
    OrchestratorStartedEvent, Timestamp,
};
use prost::Message;
use serde_json::{Value, json};

use crate::app::FunctionFolder;

use super::{Durable, Instance, Refusal, event, sys};

/// The invocation of `function` carrying `message`.
pub(super) fn envelope(function: &FunctionFolder, message: &[u8]) -> Value {
    let encoded = crate::dotnet::base64::encode(message);
    // The host's double encoding: a JSON string of the base64 text.
    with_value(function, Value::String(Value::String(encoded).to_string()))
}

fn with_value(function: &FunctionFolder, value: Value) -> Value {
    json!({
        "Data": {function.trigger().name.clone(): value},
        "Metadata": {"sys": sys(&function.name)},
    })
}

/// The bytes of [`envelope`] for a message of `length` bytes, without
/// making it: base64 needs no escaping, so only its length counts.
pub(super) fn envelope_size(function: &FunctionFolder, length: usize) -> usize {
    let empty = Value::String(Value::String(String::new()).to_string());
    let rest = serde_json::to_vec(&with_value(function, empty)).map_or(0, |bytes| bytes.len());
    rest + length.div_ceil(3) * 4
}

/// `event` with the widest timestamp of its second (a varint of five
/// bytes for the nanoseconds), so that a size counted with it is never
/// below that of the event as it will be sent.
fn widest(mut event: HistoryEvent) -> HistoryEvent {
    let seconds = event.timestamp.map_or(0, |at| at.seconds);
    event.timestamp = Some(Timestamp {
        seconds,
        nanos: 999_999_999,
    });
    event
}

impl Durable {
    /// What every step's request says of entities: host.json's reorder
    /// window.
    pub(super) fn entity_parameters(&self) -> OrchestratorEntityParameters {
        let minutes = i64::from(self.app.host.entity_message_reorder_window_minutes);
        OrchestratorEntityParameters {
            entity_message_reorder_window: Some(prost_types::Duration {
                seconds: minutes * 60,
                nanos: 0,
            }),
        }
    }

    /// The request of `instance`'s next step, with `more` events after the
    /// ones waiting in its inbox.
    pub(super) fn step_request(
        &self,
        id: &str,
        instance: &Instance,
        more: Vec<HistoryEvent>,
    ) -> OrchestratorRequest {
        let mut new_events = vec![event(
            -1,
            EventType::OrchestratorStarted(OrchestratorStartedEvent {}),
        )];
        new_events.extend(instance.inbox.iter().cloned());
        new_events.extend(more);
        OrchestratorRequest {
            instance_id: id.to_owned(),
            execution_id: Some(instance.execution_id.clone()),
            past_events: instance.history.clone(),
            new_events,
            entity_parameters: Some(self.entity_parameters()),
        }
    }

    /// Refuses the start of `function` as instance `id` when its first
    /// step's invocation would be larger than the handler reads; the
    /// reason names the longest input that fits.
    pub(super) fn fits_start(
        &self,
        function: &FunctionFolder,
        id: &str,
        started: &HistoryEvent,
    ) -> Result<(), Refusal> {
        let execution_id = match &started.event_type {
            Some(EventType::ExecutionStarted(started)) => started
                .orchestration_instance
                .as_ref()
                .and_then(|instance| instance.execution_id.clone()),
            _ => None,
        };
        let length = |started: HistoryEvent| {
            OrchestratorRequest {
                instance_id: id.to_owned(),
                execution_id: execution_id.clone(),
                past_events: Vec::new(),
                new_events: vec![
                    widest(event(
                        -1,
                        EventType::OrchestratorStarted(OrchestratorStartedEvent {}),
                    )),
                    widest(started),
                ],
                entity_parameters: Some(self.entity_parameters()),
            }
            .encoded_len()
        };
        let with_input = |n: usize| {
            let mut started = started.clone();
            if let Some(EventType::ExecutionStarted(event)) = &mut started.event_type {
                event.input = Some("x".repeat(n));
            }
            length(started)
        };
        self.fits(function, length(started.clone()), "the input")
            .map_err(|(status, reason)| {
                // The size grows with the input: the longest that fits, by
                // halving.
                let limit = self.handler.json_limit();
                let (mut fits, mut over) = (0, limit);
                while over - fits > 1 {
                    let middle = fits + (over - fits) / 2;
                    if envelope_size(function, with_input(middle)) <= limit {
                        fits = middle;
                    } else {
                        over = middle;
                    }
                }
                (
                    status,
                    format!("{reason}; the longest input that fits is {fits} bytes of JSON"),
                )
            })
    }

    /// Refuses `more`, about to join `instance`'s next step, when that
    /// step's invocation would be larger than the handler reads. `what`
    /// names it in the reason.
    pub(super) fn fits_next_step(
        &self,
        id: &str,
        instance: &Instance,
        more: HistoryEvent,
        what: &str,
    ) -> Result<(), Refusal> {
        let Some(function) = self.orchestrator(&instance.name) else {
            return Ok(());
        };
        let mut request = self.step_request(id, instance, vec![more]);
        for new in &mut request.new_events {
            *new = widest(new.clone());
        }
        self.fits(function, request.encoded_len(), what)
    }

    /// Refuses a message of `length` bytes for `function` when its
    /// invocation would be larger than the handler reads.
    pub(super) fn fits(
        &self,
        function: &FunctionFolder,
        length: usize,
        what: &str,
    ) -> Result<(), Refusal> {
        let size = envelope_size(function, length);
        let limit = self.handler.json_limit();
        if size <= limit {
            return Ok(());
        }
        Err((
            400,
            format!(
                "{what} would make the invocation of {} {size} bytes, over the {limit} bytes \
                 the handler reads (its limits.json: ROCKET_LIMITS)",
                function.name
            ),
        ))
    }
}
