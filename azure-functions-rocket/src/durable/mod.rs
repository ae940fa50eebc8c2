//! Durable Functions: orchestrator, activity and entity functions, served
//! through the Durable extension's protocol for custom handlers (an
//! orchestrator gets its history as protobuf and answers with actions; an
//! entity gets its state and a batch of operations).
//!
//! Laid out as the durabletask SDKs are, imports going one way, top to
//! bottom:
//! - the registry's side: `functions` (the `Function` constructors);
//! - running one function's code: `orchestrator_run`, `entity_batch`;
//! - what authors use: `orchestration` (the context and its tasks),
//!   `entity`, `client` (its calls in `management_call`), `errors`,
//!   `retry`;
//! - the replay engine: `replay` (the executor, its `state`, the
//!   `entity_message`s of entity calls);
//! - at the bottom: `wire` (the protobuf in and out) and `clock`.

mod client;
mod clock;
mod entity;
mod entity_batch;
mod errors;
mod functions;
mod management_call;
mod orchestration;
mod orchestrator_run;
mod replay;
mod retry;
mod wire;

/// The protobuf messages of the protocol.
#[doc(hidden)]
pub use durable_proto as proto;

pub use client::{DurableClient, InstanceStatus};
pub use entity::{EntityContext, EntityId};
pub use errors::{OrchestratorError, TaskError};
pub use orchestration::{Awaitable, DurableTask, OrchestrationContext, when_all, when_any};
pub use retry::RetryPolicy;

// Running a function's code without the host, for the differential tests
// against the Python SDK and for benchmarks.
#[doc(hidden)]
pub use entity_batch::run_entity;
#[doc(hidden)]
pub use orchestrator_run::run_orchestrator;
#[doc(hidden)]
pub use wire::{decode_entity_request, decode_request, encode_entity_result, encode_response};
