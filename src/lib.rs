//! rusty_function: an Azure Functions custom handler in Rust, on Rocket.
//!
//! - [`protocol`]: the custom-handler envelope types the host speaks;
//! - [`invocation`]: a function's HTTP input, from the host or a direct call;
//! - [`circle`]: the domain, which knows nothing of HTTP;
//! - [`rust_function`]: the function RustFunction, gluing the two;
//! - [`routes`]: the HTTP surface; [`config`] and [`startup`]: running it.

pub mod circle;
pub mod config;
pub mod invocation;
pub mod protocol;
pub mod routes;
pub mod rust_function;
pub mod startup;
pub mod text;
