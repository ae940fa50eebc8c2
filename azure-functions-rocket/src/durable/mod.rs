//! Durable Functions: orchestrator, activity and entity functions, served
//! through the Durable extension's protocol for custom handlers (an
//! orchestrator gets its history as protobuf and answers with actions; an
//! entity gets its state and a batch of operations).

mod client;
mod clock;
mod context;
mod entity;
mod entity_message;
mod functions;
mod replay;

/// The protobuf messages of the protocol.
pub use durable_proto as proto;

mod wire;

pub use client::{DurableClient, InstanceStatus};
pub use context::{
    Awaitable, DurableTask, OrchestrationContext, OrchestratorError, RetryPolicy, TaskError,
    when_all, when_any,
};
pub use entity::{
    EntityContext, EntityId, decode_entity_request, encode_entity_result, run_entity,
};
pub use wire::{decode_request, encode_response, run_orchestrator};
