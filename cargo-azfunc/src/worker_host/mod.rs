//! The Functions host's gRPC side (docs/native-worker-host.md): an app run
//! as a language worker is started with the host's arguments, connects to
//! the host's `FunctionRpc.EventStream`, and is initialised, indexed,
//! loaded, invoked, restarted and stopped as the host does it. Invocations
//! come from the same invocation bodies as a custom handler's, converted.

mod channel;
pub mod config;
mod invoke;
mod launch;
mod proxy;
pub mod reply;
pub mod request;
mod server;
mod setup;
mod supervisor;

pub use channel::{Answer, Channel, TERMINATE_GRACE, capability};
pub use config::WorkerConfig;
pub use invoke::{invoke, send};
pub use launch::Launch;
pub use setup::{Functions, Loaded, folder_of};
pub(crate) use supervisor::{Supervision, supervise};

use crate::app::FunctionFolder;

/// A worker ready for invocations.
pub struct Worker {
    pub channel: Channel,
    pub functions: Functions,
    pub pid: u32,
}

impl Worker {
    /// The loaded function called `name` (any case).
    pub fn loaded(&self, name: &str) -> Option<&Loaded> {
        self.functions.loaded.get(name).or_else(|| {
            self.functions
                .loaded
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, loaded)| loaded)
        })
    }

    /// With worker indexing, the functions the worker declared.
    pub fn indexed(&self) -> Option<&[FunctionFolder]> {
        self.functions.indexed.as_deref()
    }
}

#[cfg(test)]
mod stream_tests;
#[cfg(test)]
mod tests;
