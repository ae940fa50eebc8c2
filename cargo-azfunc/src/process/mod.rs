//! The processes cargo azfunc starts and the signals that stop it: every
//! child in its own process group ([`children`]), SIGTERM and SIGINT
//! ([`signals`]), `--build` ([`cargo_build`]), a run to its end within a
//! limit ([`limited`]), and a plain child process for tests ([`Process`]).

pub mod cargo_build;
pub mod children;
pub mod limited;
pub mod signals;
mod unsupervised;

pub use unsupervised::Process;
