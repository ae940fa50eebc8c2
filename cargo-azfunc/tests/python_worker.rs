//! cargo-azfunc as the Functions host's gRPC side, proven against
//! Microsoft's own Python worker (PyPI `azure-functions-worker` 1.1.9, its
//! venv made under the target folder on first use): the real `start` and
//! `invoke` load and invoke the app in python_worker/app (HTTP, queue with
//! an output binding through Azurite, timer), route each log to its
//! invocation, restart a worker that dies, refuse one that fails to
//! initialise, and leave no worker behind when they stop.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cargo_azfunc::handler::client::{HostClient, free_port};
use cargo_azfunc::storage::Account;
use serde_json::{Value, json};
use support::cli_run::CliRun;
use tempfile::TempDir;
use test_tools::AzuriteServer;

/// The worker with its gRPC front end, and what it runs on today: the
/// worker's own pins (grpcio 1.33) have no wheel for current Python. Its
/// 2020 generated protos build map fields only under protobuf 3.x's
/// pure-Python runtime (4.x and later refuse them: the worker then never
/// answers WorkerInitRequest), hence protobuf 3.20.3.
const PACKAGES: &[&str] = &[
    "--no-deps",
    "azure-functions-worker==1.1.9",
    "grpcio==1.85.4",
    "typing-extensions==4.16.0",
    "protobuf==3.20.3",
    "azure-functions==1.26.0",
    "werkzeug==3.1.9",
    "markupsafe==3.0.4",
];

/// The first start imports grpc and the worker; later ones are quick.
const READY_LIMIT: Duration = Duration::from_secs(120);

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python_worker")
}

fn python() -> PathBuf {
    test_tools::python_venv("python-worker-venv", PACKAGES)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy fixture file");
        }
    }
}

/// The Python app in a fresh folder, run by the worker whose entry script
/// is `script` (worker.py, or fail_init.py), with `values` added to its
/// settings.
fn python_app(script: &str, values: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&fixture().join("app"), dir.path());
    copy_tree(&fixture().join("worker"), &dir.path().join("worker"));
    let config = json!({"description": {
        "language": "python",
        "extensions": [".py"],
        "defaultExecutablePath": python(),
        "defaultWorkerPath": script,
    }});
    std::fs::write(
        dir.path().join("worker/worker.config.json"),
        config.to_string(),
    )
    .expect("write worker.config.json");
    let mut settings = json!({
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "languageWorkers__python__workerDirectory": "worker",
        "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION": "python",
    });
    for (name, value) in values {
        settings[*name] = Value::String((*value).to_owned());
    }
    std::fs::write(
        dir.path().join("local.settings.json"),
        json!({"IsEncrypted": false, "Values": settings}).to_string(),
    )
    .expect("write local.settings.json");
    dir
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// Each line of the invocation `id` of `function`, tag left off.
fn invocation_lines(output: &str, function: &str, id: &str) -> Vec<String> {
    let tag = format!("[{function} {id}] ");
    output
        .lines()
        .filter_map(|line| line.split_once(&tag).map(|(_, rest)| rest.to_owned()))
        .collect()
}

/// The id of the one invocation of `function` whose lines include `text`.
fn invocation_with(output: &str, function: &str, text: &str) -> String {
    let prefix = format!("[{function} ");
    let ids: Vec<String> = output
        .lines()
        .filter(|line| line.contains(text))
        .filter_map(|line| line.split_once(&prefix))
        .filter_map(|(_, rest)| rest.split(']').next().map(str::to_owned))
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "one invocation of {function} says {text:?}:\n{output}"
    );
    ids[0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn start_serves_http_queue_and_timer_through_microsofts_python_worker() {
    let azurite = AzuriteServer::start();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    let dir = python_app("worker.py", &[("AzureWebJobsStorage", &azurite.connection)]);
    let port = free_port();
    let port_text = port.to_string();
    let app = dir.path().to_str().expect("UTF-8");
    let mut run = CliRun::start(&["start", "--app", app, "--port", &port_text, "--timers"]);
    run.wait_for("cargo-azfunc is serving", READY_LIMIT).await;
    let output = run.output();
    assert!(
        output.contains("[host] worker initialized; capabilities: RawHttpBodyBytes, RpcHttpBodyOnly, RpcHttpTriggerMetadataRemoved, TypedDataCollection"),
        "{output}"
    );
    assert_eq!(
        output
            .matches("Successfully processed FunctionLoadRequest")
            .count(),
        6,
        "{output}"
    );
    let caller = HostClient::new(port);

    // Query, route value and a header in; status, header and JSON out.
    let reply = caller
        .request_with(
            "GET",
            "/api/area/circle?radius=3",
            &[("X-Agent", "tests")],
            b"",
            1,
        )
        .await;
    assert_eq!(reply.status, 201, "{}", run.output());
    assert_eq!(
        reply.headers.get("x-shape").and_then(|v| v.to_str().ok()),
        Some("circle")
    );
    let body = reply.json();
    assert_eq!(body["shape"], "circle");
    assert_eq!(body["method"], "GET");
    assert_eq!(body["agent"], "tests");
    let area = body["area"].as_f64().expect("area");
    assert!((area - std::f64::consts::PI * 9.0).abs() < 1e-9, "{body}");

    // A JSON body read by the function.
    let reply = caller
        .request_with(
            "POST",
            "/api/area/disc",
            &[("Content-Type", "application/json")],
            br#"{"radius": 0.5}"#,
            4,
        )
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.json()["method"], "POST");
    assert!(
        (reply.json()["area"].as_f64().expect("area") - std::f64::consts::PI / 4.0).abs() < 1e-9
    );

    // The worker's exception fails the invocation: an empty 500, the
    // exception in the reason, the log before it still routed.
    let reply = caller.request("GET", "/api/Boom", b"").await;
    assert_eq!((reply.status, reply.body.len()), (500, 0));

    // A queue message through Azurite, its output written back there.
    account
        .put_message("sides", &base64_text("7"))
        .await
        .expect("put");
    let squares = wait_for_messages(&account, "squares", &run).await;
    assert_eq!(squares, vec!["49".to_owned()]);

    // Timers fire on their schedule (every 2 s).
    run.wait_for("tick, past due: False", Duration::from_secs(30))
        .await;

    // A worker that dies mid-invocation: that invocation fails, the worker
    // is restarted as the host restarts it, and serves again.
    let reply = caller.request("GET", "/api/Die", b"").await;
    assert_eq!(reply.status, 500);
    run.wait_for(
        "the worker exited with code 3 (error 1 of 3)",
        Duration::from_secs(10),
    )
    .await;
    let started = Instant::now();
    let reply = loop {
        let reply = caller
            .request("GET", "/api/area/circle?radius=1", b"")
            .await;
        if reply.status == 201 || started.elapsed() > READY_LIMIT {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(reply.status, 201, "{}", run.output());

    let output = run.output();
    // Each user log went to its own invocation, with its level.
    let circle = invocation_with(&output, "Area", "Warning: radius 3.0");
    let first = invocation_lines(&output, "Area", &circle);
    assert!(first.contains(&"area of a circle".to_owned()), "{first:?}");
    assert!(
        first.iter().any(|l| l.starts_with("Succeeded")),
        "{first:?}"
    );
    assert!(!first.iter().any(|l| l.contains("0.5")), "{first:?}");
    let disc = invocation_with(&output, "Area", "area of a disc");
    assert!(invocation_lines(&output, "Area", &disc).contains(&"Warning: radius 0.5".to_owned()));
    let boom = invocation_with(&output, "Boom", "Error: about to fail");
    let failed = invocation_lines(&output, "Boom", &boom);
    assert!(
        failed.iter().any(|l| l.starts_with("Failed")
            && l.contains("the worker failed the invocation: ValueError: no area for that")),
        "{failed:?}"
    );
    let square = invocation_with(&output, "Squares", "square of 7, dequeued 1 times");
    assert!(
        invocation_lines(&output, "Squares", &square).contains(&"queue squares <- 49".to_owned())
    );
    let die = output
        .lines()
        .find(|l| l.contains("[Die ") && l.contains("Failed"))
        .unwrap_or_default();
    assert!(
        die.contains("the worker's stream ended before it answered the invocation"),
        "{output}"
    );

    // The stop ends every worker it started.
    let pids = worker_pids(&run);
    assert_eq!(pids.len(), 2, "{output}");
    assert!(!alive(pids[0]), "the dead worker was reaped");
    assert!(alive(pids[1]));
    run.process.terminate().expect("SIGTERM");
    assert_eq!(run.finish(Duration::from_secs(30)), Some(0));
    assert!(
        !alive(pids[1]),
        "the worker outlived cargo-azfunc:\n{}",
        run.output()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn invoke_runs_one_function_and_leaves_no_worker_behind() {
    let dir = python_app("worker.py", &[]);
    let app = dir.path().to_str().expect("UTF-8");
    let mut run = CliRun::start(&["invoke", "Squares", "--app", app, "--data", "12"]);
    assert_eq!(run.finish(READY_LIMIT), Some(0), "{}", run.output());
    let output = run.output();
    let id = invocation_with(&output, "Squares", "square of 12, dequeued 1 times");
    let lines = invocation_lines(&output, "Squares", &id);
    assert!(
        lines.contains(&"queue squares <- 144".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("Succeeded")),
        "{lines:?}"
    );
    // The 2020 worker handles no WorkerTerminate, and does not exit when
    // the host ends its stream: it is stopped by signal.
    let pids = worker_pids(&run);
    assert_eq!(pids.len(), 1, "{output}");
    assert!(
        output.contains(&format!(
            "stopping the worker (pid {}) with SIGTERM",
            pids[0]
        )),
        "{output}"
    );
    for pid in pids {
        assert!(!alive(pid), "worker {pid} outlived invoke");
    }

    let mut run = CliRun::start(&["invoke", "Area", "--app", app, "--data", r#"{"radius": 2}"#]);
    assert_eq!(run.finish(READY_LIMIT), Some(0), "{}", run.output());
    assert!(run.output().contains(r#"http $return <- 201 application/json; charset=utf-8 {"shape": null, "area": 12.566370614359172, "method": "POST", "agent": null}"#), "{}", run.output());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invocation_past_the_function_timeout_fails_and_restarts_the_worker() {
    let dir = python_app("worker.py", &[]);
    std::fs::write(
        dir.path().join("host.json"),
        r#"{"version": "2.0", "functionTimeout": "00:00:02"}"#,
    )
    .expect("host.json");
    let app = dir.path().to_str().expect("UTF-8");
    let started = Instant::now();
    let mut run = CliRun::start(&["invoke", "Slow", "--app", app, "--data", ""]);
    assert_eq!(run.finish(READY_LIMIT), Some(1), "{}", run.output());
    let output = run.output();
    let id = invocation_with(&output, "Slow", "sleeping past the function timeout");
    let lines = invocation_lines(&output, "Slow", &id);
    assert!(
        lines.iter().any(|l| l.starts_with("Failed")
            && l.ends_with("Timeout value of 00:00:02 was exceeded by function: Functions.Slow")),
        "{output}"
    );
    assert!(output.contains("restarting the worker (pid"), "{output}");
    // Well before the function's own 30 s.
    assert!(started.elapsed() < Duration::from_secs(25), "{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_that_fails_to_initialise_is_refused_clearly() {
    let dir = python_app("fail_init.py", &[]);
    let app = dir.path().to_str().expect("UTF-8");
    let mut run = CliRun::start(&["invoke", "Area", "--app", app, "--data", "{}"]);
    assert_eq!(run.finish(READY_LIMIT), Some(1), "{}", run.output());
    let output = run.output();
    assert!(
        output.contains("the worker failed to initialize: no runtime for this app, its 3rd error within 30 minutes"),
        "{output}"
    );
    assert_eq!(output.matches("Worker ID: ").count(), 3, "{output}");
    assert!(!output.contains("FunctionLoadRequest"), "{output}");
}

fn base64_text(text: &str) -> String {
    cargo_azfunc::dotnet::base64::encode(text.as_bytes())
}

/// Polls `queue` until it holds a message; their texts.
async fn wait_for_messages(account: &Account, queue: &str, run: &CliRun) -> Vec<String> {
    let started = Instant::now();
    loop {
        let messages = account.peek_messages(queue).await.expect("peek");
        if !messages.is_empty() {
            return messages
                .iter()
                .map(|m| {
                    let bytes = cargo_azfunc::dotnet::base64::decode(&m.text).expect("base64");
                    String::from_utf8_lossy(&bytes).into_owned()
                })
                .collect();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing on {queue}:\n{}",
            run.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The pid of every worker that got ready.
fn worker_pids(run: &CliRun) -> Vec<u32> {
    run.output()
        .lines()
        .filter_map(|line| line.split("worker ready (pid ").nth(1))
        .filter_map(|rest| rest.split(',').next()?.parse().ok())
        .collect()
}
