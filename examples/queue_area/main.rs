//! A second app on the same crate: a storage-queue function and a timer
//! function, to show the trigger kinds the blog's app does not need.
//!
//! - QueueArea reads a radius from the queue `radii` (`2` or `{"radius": 2}`)
//!   and writes `{"radius": 2.0, "area": 12.566370614359172}` to `areas`;
//! - TimerLog logs a line every five minutes.
//!
//! See README.md, "A queue and a timer", to run it.

// Loaded as a folder module, so that its functions sit beside it, and so
// that tests/queue_area.rs can load the same registry.
#[path = "app.rs"]
mod app;

// The main app's allocator.
#[global_allocator]
static ALLOCATOR: rusty_function::allocator::Allocator = rusty_function::allocator::Allocator;

fn main() -> std::process::ExitCode {
    rusty_function::startup::main(app::registry())
}
