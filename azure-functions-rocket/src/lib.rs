//! Azure Functions custom handlers in Rust, on Rocket.
//!
//! A function is a plain async function from its trigger's input to
//! `Result<_, Error>`. An app declares its functions once, in a
//! [`Registry`], and hands it to [`run`]: that serves them as the Functions
//! host expects (the port it gives, the envelope it sends, the reply it
//! reads), checks each function's folder and `function.json` against its
//! declaration at start-up, and stops cleanly on SIGTERM. A registry line
//! declares everything the host needs: the function's name, its trigger
//! and settings, its other [`Binding`]s; [`Function::function_json`] is
//! the function.json the host reads, which `cargo azfunc` writes for you.
//!
//! ```no_run
//! use azure_functions_rocket::{AuthLevel, Error, Function, HttpRequest, HttpResponse, Registry};
//!
//! async fn hello(req: HttpRequest) -> Result<HttpResponse, Error> {
//!     let name = req.query("name").unwrap_or("world");
//!     HttpResponse::json(&serde_json::json!({ "hello": name }))
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let hello = Function::http("Hello", hello)
//!         .methods(["get"])
//!         .auth_level(AuthLevel::Anonymous);
//!     azure_functions_rocket::run(Registry::new().with(hello))
//! }
//! ```
//!
//! - Inputs: [`HttpRequest`], [`TimerInfo`], [`QueueMessage`], and
//!   [`TriggerInput`] for any other trigger.
//! - Replies: an [`HttpResponse`], [`Outputs`] for `out` bindings, both,
//!   or `()`; see [`IntoReply`].
//! - Failures: [`Error`], which `?` builds from any error type.
//! - The invocation's log, which the host shows with the function's own
//!   records: [`log`]. With the `tracing` feature, `tracing` events inside
//!   a function are lines of it too, and each invocation runs in a span
//!   whose parent is the caller's W3C trace context; the `otel` feature
//!   exports the spans over OTLP (docs/functions.md, "Logs and traces").
//! - Tests: [`app`] gives the app as a Rocket instance, for Rocket's
//!   local client.
//! - The host's modes: by default every invocation arrives in the host's
//!   envelope; with `enableForwardingHttpRequest` or
//!   `enableProxyingHttpRequest` in host.json, [`run`] serves each HTTP
//!   function at its public path instead, and [`Function::routes`] lets
//!   a Rocket route of the app's own be one.
//! - Durable Functions: [`durable`], with [`Function::orchestrator`],
//!   [`Function::activity`], [`Function::entity`] and
//!   [`Function::http_with_client`].
#![deny(missing_docs)]

mod adapter;
mod allocator;
mod bindings;
mod config;
pub mod durable;
mod envelope;
mod error;
#[cfg(feature = "tracing")]
mod events;
// Running a function without the server, for the benchmarks and the
// fuzzer: not for apps.
#[doc(hidden)]
pub mod harness;
mod http;
pub mod log;
#[cfg(feature = "otel")]
mod otel;
mod outputs;
mod registry;
mod server;
pub mod text;
mod trace;
#[cfg(feature = "tracing")]
mod trace_context;
mod trigger;
mod worker;

pub use error::{Error, Result};
pub use function_app::{AuthLevel, Binding, Direction, FunctionJson};
pub use http::{HttpRequest, HttpResponse};
pub use outputs::{IntoReply, Output, Outputs};
pub use registry::{Function, Registry};
pub use server::{app, run};
// The check-only and metadata switches, for the CLI's and the tests' use.
#[doc(hidden)]
pub use server::{CHECK_VARIABLE, METADATA_VARIABLE};
pub use trigger::{QueueMessage, TimerInfo, TriggerInput};

/// The Rocket this library serves with, for apps that test with its local
/// client or mount routes of their own.
pub use rocket;

/// The `tracing` this library records: its events inside a function
/// become lines of the invocation's log ([`log`]).
#[cfg(feature = "tracing")]
pub use tracing;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: allocator::Allocator = allocator::Allocator;
