//! The blog's app: RustFunction, the area of a circle, as an Azure
//! Functions custom handler built on `azure-functions-rocket`.
//!
//! - [`rust_function`]: the function; [`circle`]: its domain.

pub mod circle;
pub mod rust_function;

use azure_functions_rocket::{Function, Registry};

/// Every function of the app, as the host and direct callers name them.
pub fn registry() -> Registry {
    Registry::new().with(Function::http("RustyFunction", rust_function::area).alias("RustFunction"))
}
