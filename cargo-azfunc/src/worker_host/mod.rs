//! The Functions host's gRPC side, below the host (docs/native-worker-host.md):
//! which apps run as language workers and how they start, the host's
//! gRPC server, one worker's stream (start-up, indexing, loading,
//! invocations routed by id, status, terminate), and invocation bodies
//! converted to InvocationRequests. The process's supervision is the
//! handler's (`handler::worker_supervisor`), the outcome the host's.

pub mod answer;
pub mod channel;
pub mod launch;
pub mod request;
pub mod server;
pub mod setup;

pub use channel::{Answer, Channel, TERMINATE_GRACE, capability};
pub use launch::Launch;
pub use setup::{Functions, Loaded, folder_of};

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
