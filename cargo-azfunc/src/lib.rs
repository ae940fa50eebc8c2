//! `cargo azfunc`'s library: a local stand-in for the Azure Functions host,
//! for custom handlers. It starts the handler as the host does, serves its
//! HTTP functions, invokes the others, and shows what the host would make of
//! every reply; it is also the host stand-in the tests of every crate in the
//! workspace share. Each module follows one part of `docs/host-protocol.md`.
//!
//! - [`host`]: the Functions host's part: the front door, routing, the admin
//!   endpoint, the envelope, forwarding and invocations.
//! - [`handler`]: the handler process as the host runs it, and the client
//!   the host talks to it with; [`console`], where everything is logged;
//!   [`limits`], how much is taken from anyone.
//! - [`durable`]: the Durable extension's part: orchestrations, entities and
//!   the management API.
//! - [`storage`]: Azure Storage (Azurite) and the queue trigger's feed.
//! - [`timers`]: timer schedules, NCRONTAB and the clock.
//! - [`process`]: the processes it starts, signals and `--build`.
//! - [`generate`]: the function folders written from a built handler's
//!   registry.
//! - [`watch`], [`scaffold`]: `start --watch`, and `new app` / `new function`.

pub mod app;
pub mod check;
pub mod console;
pub mod cors;
pub mod dotnet;
pub mod durable;
pub mod generate;
pub mod handler;
pub mod host;
pub mod ids;
pub mod limits;
pub mod process;
pub mod query;
pub mod scaffold;
pub mod storage;
pub mod terminal;
pub mod timers;
pub mod watch;
pub mod worker_host;
