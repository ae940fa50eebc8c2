//! The files of an Azure Functions app as the Functions host reads them:
//! host.json, each function folder's function.json, Core Tools'
//! local.settings.json, and the HTTP route templates of function.json
//! matched as the host's routing matches them (docs/function-app.md).
//!
//! The handler library and the CLI both read an app through this crate,
//! so that the stand-in routes a request exactly as the handler it tests.

mod app_folder;
pub mod environment;
mod function_json;
mod host_json;
mod json;
mod local_settings;
mod metadata;
mod queue_name;
pub mod route;
pub mod timespan;

pub use app_folder::AppFolder;
pub use function_json::{
    AuthLevel, Binding, Direction, FunctionJson, binding_problems, takes_forwarded_requests,
};
pub use host_json::{DEFAULT_FUNCTION_TIMEOUT, HostJson, HttpMode, MIN_FUNCTION_TIMEOUT};
pub use json::property;
pub use local_settings::LocalSettings;
pub use metadata::{FunctionMetadata, Metadata, metadata_text};
pub use queue_name::{
    normalize_queue_name, queue_binding_problem, queue_name_problem, resolve_setting,
};
pub use route::RouteTemplate;
