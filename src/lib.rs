//! rusty_function: Azure Functions custom handlers in Rust, on Rocket.
//!
//! A function is a plain async Rust function from its trigger's input
//! ([`http::HttpRequest`], [`trigger::TimerInfo`], [`trigger::QueueMessage`],
//! [`trigger::TriggerInput`]) to `Result<_, error::Error>`, declared once in
//! a [`registry::Registry`]. The layer ([`adapter`]) hides the host's
//! envelope ([`envelope`]): it reads the input, runs the function with its
//! own [`log`] and with panics caught, and writes the reply, outputs
//! ([`outputs`]) included.
//!
//! - [`functions`]: this app's functions; [`circle`]: their domain;
//! - [`routes`]: the HTTP surface; [`config`] and [`startup`]: running it.

pub mod adapter;
pub mod allocator;
pub mod circle;
pub mod config;
pub mod envelope;
pub mod error;
pub mod functions;
pub mod http;
pub mod log;
pub mod outputs;
pub mod registry;
pub mod routes;
pub mod startup;
pub mod text;
pub mod trigger;
