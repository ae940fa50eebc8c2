//! The blog's app: RustFunction, the area of a circle, as an Azure
//! Functions custom handler built on `azure-functions-rocket`.
//!
//! - [`rust_function`]: the function; [`circle`]: its domain.

pub mod circle;
pub mod rust_function;

use azure_functions_rocket::{AuthLevel, Function, Registry};

/// Every function of the app, each with everything the host reads in its
/// function.json: RustyFunction is the folder, `/api/RustFunction` its
/// public path, which direct callers may use as its name too.
pub fn registry() -> Registry {
    Registry::new().with(
        Function::http("RustyFunction", rust_function::area)
            .route("RustFunction")
            .methods(["get", "post"])
            .auth_level(AuthLevel::Anonymous),
    )
}
