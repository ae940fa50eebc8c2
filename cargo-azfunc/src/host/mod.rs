//! The Functions host's part: the front door (accept loop, routing, the
//! admin endpoint, timers), the envelope, forwarding, and invocations and
//! what the host makes of their replies.

pub mod accept_errors;
pub mod admin;
pub mod certificate_file;
pub mod envelope;
pub mod forwarding;
pub mod http_response;
pub mod in_flight;
pub mod invocation;
pub mod request_path;
pub mod routes;
pub mod routing;
pub mod served;
pub mod server;
pub mod timers;
pub mod tls;
pub mod warnings;
pub mod worker_invocation;
pub mod worker_proxy;
pub mod worker_reply;
#[cfg(test)]
mod worker_tests;
