//! The app's functions: one module and one registry line each, and a
//! folder with its function.json at the app root.

pub mod rust_function;

use crate::registry::{Function, Registry};

/// Every function of the app, as the host and direct callers name them.
pub fn registry() -> Registry {
    Registry::new()
        .with(Function::http("RustyFunction", "req", rust_function::area).alias("RustFunction"))
}
