//! SIGTERM and SIGINT, watched from cargo-azfunc's first moment to its last,
//! whatever the handler is doing: either one stops cargo-azfunc.

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

/// Set to true when cargo-azfunc is asked to stop (Ctrl-C or SIGTERM): what
/// is serving stops taking work and lets the invocations in flight finish.
pub type Shutdown = watch::Receiver<bool>;

/// Resolves once a stop is asked for (or nobody can ask any more).
pub async fn requested(mut shutdown: Shutdown) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// The two signals that stop cargo-azfunc.
pub struct Signals {
    terminate: Signal,
    interrupt: Signal,
}

impl Signals {
    /// Takes SIGTERM and SIGINT over from their default (which would end
    /// cargo-azfunc at once and leave its children running).
    pub fn watch() -> std::io::Result<Signals> {
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// The name of the next signal to arrive.
    pub async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}
