//! The Functions host's part: the front door (accept loop, routing, the
//! admin endpoint, timers), the envelope, forwarding, the handler process,
//! invocations and where their logs go.

pub mod accept_errors;
pub mod admin;
pub mod client;
pub mod console;
pub mod cors;
pub mod envelope;
pub mod forwarding;
pub mod handler;
pub mod http_response;
pub mod in_flight;
pub mod invocation;
pub mod limits;
pub mod query;
pub mod request_path;
pub mod restarts;
pub mod routing;
pub mod served;
pub mod server;
pub mod timers;
pub mod warnings;
