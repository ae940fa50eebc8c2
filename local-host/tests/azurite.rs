//! Queue-triggered functions fed from a real storage queue: Azurite, started
//! here on free ports, with `examples/queue_area` built by `start --build`
//! (and the fake handler for the blob output). Azurite comes from
//! `<workspace>/target/azurite` (`.ci/run` installs it there); without it
//! these tests fail and say how to install it.

mod support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use local_host::base64;
use local_host::client::free_port;
use local_host::process::Process;
use local_host::storage::{Account, DEV_ACCOUNT, DEV_KEY};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_local-host");

/// A cold build of queue_area and its dependencies can take minutes.
const BUILD_LIMIT: Duration = Duration::from_secs(900);

fn workspace() -> PathBuf {
    std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).expect("workspace")
}

struct Azurite {
    _process: Process,
    _data: TempDir,
    connection: String,
}

fn listening(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Azurite's queue and blob services on free ports, with their data in a
/// fresh folder.
fn azurite() -> Azurite {
    let bin = workspace().join("target/azurite/node_modules/.bin/azurite");
    assert!(
        bin.is_file(),
        "Azurite is missing: no {}. Install it with `npm install --prefix target/azurite azurite@3.35.0` in the workspace (.ci/run does)",
        bin.display()
    );
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

/// `local-host start` on `app` with storage at `connection`; its output
/// goes to a file, shown when a test fails.
struct Host {
    _process: Process,
    log: PathBuf,
    _logs: TempDir,
}

impl Host {
    fn start(app: &Path, connection: &str, build: bool) -> Host {
        let logs = tempfile::tempdir().expect("temp dir");
        let log = logs.path().join("local-host.log");
        let file = std::fs::File::create(&log).expect("log file");
        let port = free_port().to_string();
        let mut args = vec![
            "start",
            "--app",
            app.to_str().expect("UTF-8"),
            "--port",
            &port,
        ];
        if build {
            args.push("--build");
        }
        let child = Command::new(BIN)
            .args(&args)
            .env("AzureWebJobsStorage", connection)
            .env("CARGO_TARGET_DIR", workspace().join("target/scaffold"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("local-host starts");
        Host {
            _process: Process::from_child(child),
            log,
            _logs: logs,
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn base64_text(text: &str) -> String {
    base64::encode(text.as_bytes())
}

fn decoded(text: &str) -> String {
    String::from_utf8_lossy(&base64::decode(text).expect("base64 message")).into_owned()
}

/// Polls `queue` until it holds `count` messages (peeked, so they stay).
async fn wait_for_messages(
    account: &Account,
    queue: &str,
    count: usize,
    limit: Duration,
    host: &Host,
) -> Vec<String> {
    let started = Instant::now();
    loop {
        let messages = account.peek_messages(queue).await.expect("peek");
        if messages.len() >= count {
            return messages.iter().map(|m| decoded(&m.text)).collect();
        }
        assert!(
            started.elapsed() < limit,
            "{queue} has {} of {count} messages after {limit:?}; local-host said:\n{}",
            messages.len(),
            host.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_area_reads_radii_and_writes_areas_and_poisons_a_bad_message() {
    let azurite = azurite();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    // On the queue before the host starts: fed at its first poll.
    account
        .put_message("radii", &base64_text("2"))
        .await
        .expect("put 2");
    account
        .put_message("radii", &base64_text("not a radius"))
        .await
        .expect("put poison");
    let app = workspace().join("examples/queue_area");
    let host = Host::start(&app, &azurite.connection, true);

    let areas = wait_for_messages(&account, "areas", 1, BUILD_LIMIT, &host).await;
    let area: serde_json::Value = serde_json::from_str(&areas[0]).expect("an area as JSON");
    assert_eq!(area["radius"], 2.0);
    let expected = std::f64::consts::PI * 4.0;
    assert!(
        (area["area"].as_f64().unwrap_or(0.0) - expected).abs() < 1e-9,
        "{area}"
    );

    let poisoned =
        wait_for_messages(&account, "radii-poison", 1, Duration::from_secs(60), &host).await;
    assert_eq!(poisoned, vec!["not a radius".to_owned()]);
    // Nothing lost and nothing left: one message out, one in the poison
    // queue, none on radii.
    assert!(
        account
            .peek_messages("radii")
            .await
            .expect("peek")
            .is_empty()
    );
    assert_eq!(account.peek_messages("areas").await.expect("peek").len(), 1);

    // Five attempts, with the dequeue count the function saw going up.
    let output = host.output();
    let attempts: Vec<u32> = output
        .lines()
        .filter(|l| l.contains("Executing (queue radii") && !l.contains("Succeeded"))
        .filter_map(|l| {
            l.split("dequeue count ")
                .nth(1)
                .and_then(|n| n.trim_end_matches(')').parse().ok())
        })
        .collect();
    let mut poison_attempts = attempts.clone();
    poison_attempts.retain(|n| *n > 1);
    assert_eq!(poison_attempts, vec![2, 3, 4, 5], "{output}");
    assert!(
        output.contains("failed 5 times: moved to radii-poison"),
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blob_output_is_written_to_azurite() {
    let azurite = azurite();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    let dir = support::fake_app();
    // The fake handler's Queue function answers `areas` with {"radius": 2}.
    support::write_file(
        dir.path(),
        "Queue/function.json",
        r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"item","queueName":"shapes","connection":"AzureWebJobsStorage"},{"type":"blob","direction":"out","name":"areas","path":"results/{queueTrigger}-{DequeueCount}.json","connection":"AzureWebJobsStorage"}]}"#,
    );
    support::write_file(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler.py"},"enableForwardingHttpRequest":false},"extensions":{"queues":{"maxPollingInterval":"00:00:01"}}}"#,
    );
    let host = Host::start(dir.path(), &azurite.connection, false);
    account
        .put_message("shapes", &base64_text("circle"))
        .await
        .expect("put");
    let started = Instant::now();
    let blob = loop {
        if let Some(blob) = account
            .get_blob("results/circle-1.json")
            .await
            .expect("read blob")
        {
            break blob;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no blob results/circle-1.json; local-host said:\n{}",
            host.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let value: serde_json::Value = serde_json::from_slice(&blob).expect("JSON blob");
    assert_eq!(value, serde_json::json!({"radius": 2}));
    assert!(
        account
            .peek_messages("shapes")
            .await
            .expect("peek")
            .is_empty()
    );
}
