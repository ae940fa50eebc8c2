//! A local stand-in for the Azure Functions host, for custom handlers: it
//! starts the handler as the host does, serves its HTTP functions, invokes
//! the others, and shows what the host would make of every reply. Each
//! module follows one part of `docs/host-protocol.md`.

pub mod accept_errors;
pub mod app;
pub mod base64;
pub mod cargo_build;
pub mod check;
pub mod children;
pub mod client;
pub mod clock;
pub mod console;
pub mod cors;
pub mod dotnet;
pub mod durable;
pub mod durable_api;
pub mod envelope;
pub mod forwarding;
pub mod handler;
pub mod http_response;
pub mod ids;
pub mod in_flight;
pub mod invocation;
pub mod limits;
pub mod ncrontab;
pub mod process;
pub mod query;
pub mod queue_feed;
pub mod request_path;
pub mod restarts;
pub mod routes;
pub mod scaffold;
pub mod schedule;
pub mod served;
pub mod server;
pub mod signals;
pub mod storage;
pub mod terminal;
pub mod warnings;
pub mod watch;
