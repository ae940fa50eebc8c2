//! A second app on the library: an HTTP, a storage-queue and a timer
//! function, to show the trigger kinds the blog's app does not need.
//!
//! - Area is the blog's RustFunction under another name: `GET
//!   /api/area?radius=2` or `POST /api/area` with `{"radius": 2}` answers
//!   `{"radius": 2.0, "area": 12.566370614359172}`, a bad radius 400 with
//!   `{"error": "..."}`. The function is the blog app's own
//!   (`rusty_function::rust_function::area`), registered here again.
//! - QueueArea reads a radius from the queue `radii` (`2` or `{"radius": 2}`)
//!   and writes `{"radius": 2.0, "area": 12.566370614359172}` to `areas`;
//! - TimerLog logs a line every five minutes.
//!
//! README.md, "The local loop", runs it on Azurite.

pub mod queue_area;
pub mod timer_log;

use azure_functions_rocket::{AuthLevel, Binding, Function, Registry};

/// The storage connection of both queues.
const STORAGE: &str = "AzureWebJobsStorage";

/// Every function of the app, declared whole: the hand-kept folders
/// beside Cargo.toml say the same.
pub fn registry() -> Registry {
    Registry::new()
        .with(
            Function::http("Area", rusty_function::rust_function::area)
                .route("area")
                .methods(["get", "post"])
                .auth_level(AuthLevel::Anonymous),
        )
        .with(
            Function::queue("QueueArea", queue_area::area)
                .queue_name("radii")
                .connection(STORAGE)
                .output(Binding::queue("areas", "areas").connection(STORAGE)),
        )
        .with(Function::timer("TimerLog", timer_log::tick).schedule("0 */5 * * * *"))
}
