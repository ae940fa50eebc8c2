//! SIGTERM and SIGINT, watched from local-host's first moment to its last,
//! whatever the handler is doing: either one stops local-host.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// The two signals that stop local-host.
pub struct Signals {
    terminate: Signal,
    interrupt: Signal,
}

impl Signals {
    /// Takes SIGTERM and SIGINT over from their default (which would end
    /// local-host at once and leave its children running).
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
