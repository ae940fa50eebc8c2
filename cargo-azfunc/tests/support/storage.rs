//! Azurite's queue and blob services on free ports, with their data in a
//! fresh folder; stopped when dropped.

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cargo_azfunc::handler::client::free_port;
use cargo_azfunc::process::Process;
use cargo_azfunc::storage::{DEV_ACCOUNT, DEV_KEY};
use tempfile::TempDir;

pub struct Azurite {
    _process: Process,
    _data: TempDir,
    /// A connection string for both services.
    pub connection: String,
}

fn listening(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

impl Azurite {
    pub fn start() -> Azurite {
        let bin = test_tools::azurite();
        let data = tempfile::tempdir().expect("temp dir");
        let (blob, queue, table) = (free_port(), free_port(), free_port());
        let child = Command::new(&bin)
            .args(["--silent", "--disableTelemetry", "--skipApiVersionCheck"])
            .arg("--location")
            .arg(data.path())
            .args(["--blobPort", &blob.to_string()])
            .args(["--queuePort", &queue.to_string()])
            .args(["--tablePort", &table.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Azurite starts");
        let process = Process::from_child(child);
        let started = Instant::now();
        while !(listening(queue) && listening(blob)) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "Azurite did not listen on {queue} and {blob} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Azurite {
            _process: process,
            _data: data,
            connection: format!(
                "DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};QueueEndpoint=http://127.0.0.1:{queue}/{DEV_ACCOUNT};BlobEndpoint=http://127.0.0.1:{blob}/{DEV_ACCOUNT}"
            ),
        }
    }
}
