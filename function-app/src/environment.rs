//! The variables through which the host (and `cargo azfunc check`) tell the
//! handler what to do (docs/host-protocol.md, "Start-up and readiness").

/// Where the host puts the port the handler listens on, newest name first.
pub const PORT_VARIABLES: [&str; 2] = ["FUNCTIONS_CUSTOMHANDLER_PORT", "FUNCTIONS_HTTPWORKER_PORT"];

/// The app's folder, as the host sets it for the handler.
pub const APP_ROOT_VARIABLE: &str = "FUNCTIONS_APP_ROOT_PATH";

/// Set to `1`, a handler built on azure-functions-rocket checks its
/// registry against the app folder, prints the verdict and exits:
/// `cargo azfunc check` runs the handler so.
pub const CHECK_VARIABLE: &str = "AZURE_FUNCTIONS_ROCKET_CHECK";

/// Set to `1`, a handler built on azure-functions-rocket prints the
/// function.json of every function its registry declares, as one JSON
/// object on stdout, and exits: `cargo azfunc` reads a built app's
/// functions so, without linking it (docs/functions.md, "Functions
/// declared in code").
pub const METADATA_VARIABLE: &str = "AZURE_FUNCTIONS_ROCKET_METADATA";
