//! Azurite's blob and queue services running for one test, on free ports,
//! with their data in a fresh folder; killed when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// Azurite's well-known development account and key (public, the same in
// every Azurite; `UseDevelopmentStorage=true` names them).
const DEV_ACCOUNT: &str = "devstoreaccount1";
const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite.
pub struct AzuriteServer {
    child: Child,
    data: PathBuf,
    /// Its blob service's port.
    pub blob_port: u16,
    /// Its queue service's port.
    pub queue_port: u16,
    /// A connection string for both services.
    pub connection: String,
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}

fn listening(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

impl AzuriteServer {
    /// Starts Azurite (installed by [`crate::azurite`] on first use) and
    /// waits until both services listen; fails the test after 60 s.
    pub fn start() -> AzuriteServer {
        let (blob_port, queue_port, table_port) = (free_port(), free_port(), free_port());
        let data =
            std::env::temp_dir().join(format!("azurite-{}-{queue_port}", std::process::id()));
        std::fs::create_dir_all(&data).expect("Azurite's data folder");
        let child = Command::new(crate::azurite())
            .args(["--silent", "--disableTelemetry", "--skipApiVersionCheck"])
            .arg("--location")
            .arg(&data)
            .args(["--blobPort", &blob_port.to_string()])
            .args(["--queuePort", &queue_port.to_string()])
            .args(["--tablePort", &table_port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Azurite starts");
        let server = AzuriteServer {
            child,
            data,
            blob_port,
            queue_port,
            connection: format!(
                "DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};QueueEndpoint=http://127.0.0.1:{queue_port}/{DEV_ACCOUNT};BlobEndpoint=http://127.0.0.1:{blob_port}/{DEV_ACCOUNT}"
            ),
        };
        let started = Instant::now();
        while !(listening(queue_port) && listening(blob_port)) {
            // Dropping `server` on this panic kills Azurite.
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "Azurite did not listen on {queue_port} and {blob_port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

impl Drop for AzuriteServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
