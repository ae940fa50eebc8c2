//! Running a function without the server, for benchmarks and fuzzers that
//! put the library's own function layer behind another HTTP stack: the
//! same input reading, panic catching, logging and envelope as the
//! Rocket routes, minus Rocket.
//!
//! ```
//! use azure_functions_rocket::harness::{DirectCall, invoke};
//! use azure_functions_rocket::{Error, Function, HttpRequest, HttpResponse};
//!
//! async fn echo(req: HttpRequest) -> Result<HttpResponse, Error> {
//!     Ok(HttpResponse::new(200, req.text()?))
//! }
//!
//! let function = Function::http("Echo", echo);
//! let runtime = rocket::tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let body = br#"{"Data": {"req": {"Body": "hi"}}, "Metadata": {}}"#;
//! let answer = runtime.block_on(invoke(&function, body, |body| DirectCall { body, ..DirectCall::default() }, Some("id-1")));
//! assert_eq!(answer.status, 200);
//! let envelope: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
//! assert_eq!(envelope["ReturnValue"]["body"], "hi");
//! ```

use std::path::Path;

pub use crate::adapter::{Answer, invoke};
use crate::registry::Registry;
pub use crate::trigger::DirectCall;
use function_app::AppFolder;

/// `registry` checked against the app folder at `root` and following it
/// as [`crate::run`] does: the binding names its lines leave out read from
/// the function.json files. Every disagreement, one line each, otherwise.
pub fn in_app_folder(mut registry: Registry, root: &Path) -> Result<Registry, Vec<String>> {
    let app = AppFolder::read(root).map_err(|problem| vec![problem])?;
    registry.follow(&app);
    let mut problems = registry.declaration_problems();
    problems.extend(registry.mismatches(&app));
    if problems.is_empty() {
        Ok(registry)
    } else {
        Err(problems)
    }
}
