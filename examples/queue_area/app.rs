//! The app's functions: one module and one registry line each, and a
//! folder with its function.json beside this file.

pub mod queue_area;
pub mod timer_log;

use rusty_function::registry::{Function, Registry};

pub fn registry() -> Registry {
    Registry::new()
        .with(Function::queue("QueueArea", "message", queue_area::area).output("areas"))
        .with(Function::timer("TimerLog", "timer", timer_log::tick))
}
