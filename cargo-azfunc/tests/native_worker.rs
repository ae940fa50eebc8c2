//! The real `start` and `invoke` with a worker that indexes its own
//! functions, answers status requests, handles WorkerTerminate and can serve
//! HTTP itself (HttpUri): what Microsoft's 2020 Python worker cannot show.
//! The worker is this test binary, started by cargo-azfunc through a
//! worker.config.json whose arguments run only [`fake_worker`] and end with
//! `--`, so that the host's own arguments reach it as test-name filters
//! that match nothing.

use std::path::Path;
use std::time::Duration;

mod support;

use cargo_azfunc::handler::client::{HostClient, free_port};
use serde_json::json;
use support::cli_run::CliRun;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::UnboundedReceiverStream;
use worker_proto::function_rpc_client::FunctionRpcClient;
use worker_proto::rpc_log::RpcLogCategory;
use worker_proto::status_result::Status;
use worker_proto::streaming_message::Content;
use worker_proto::typed_data::Data;
use worker_proto::{
    FunctionLoadResponse, FunctionLoadResponseCollection, FunctionMetadataResponse,
    InvocationResponse, RpcFunctionMetadata, RpcHttp, RpcLog, StartStream, StatusResult,
    StreamingMessage, TypedData, WorkerInitResponse, WorkerStatusResponse,
};

/// How long a start or an invocation through the CLI may take.
const READY_LIMIT: Duration = Duration::from_secs(60);

/// Set in the worker's environment (local.settings.json): `rpc` answers
/// HTTP in RpcHttp, `proxy` serves it on its own HTTP server.
const MODE: &str = "FAKE_WORKER_MODE";

fn ok() -> Option<StatusResult> {
    Some(StatusResult {
        status: Status::Success as i32,
        ..StatusResult::default()
    })
}

/// The value after `name` on the command line.
fn argument(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).cloned()
}

/// A worker's own HTTP server: answers each request with its method, path
/// and `x-ms-invocation-id`.
async fn http_server() -> u16 {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buffer = [0u8; 4096];
                while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&seen).into_owned();
                let mut first = head.lines().next().unwrap_or_default().split(' ');
                let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
                let id = head
                    .lines()
                    .find_map(|l| l.strip_prefix("x-ms-invocation-id: "))
                    .unwrap_or("none");
                let body = format!("Proxied {method} {path} for {id}");
                let reply = format!(
                    "HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    port
}

/// The fake worker; does nothing unless cargo-azfunc started it.
#[test]
#[ignore = "run by cargo-azfunc as a language worker"]
fn fake_worker() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(serve(mode));
}

async fn serve(mode: String) {
    let uri = argument("--functions-uri").expect("--functions-uri");
    let worker_id = argument("--functions-worker-id").expect("--functions-worker-id");
    let http_uri = if mode == "proxy" {
        Some(format!("http://127.0.0.1:{}/", http_server().await))
    } else {
        None
    };
    let channel = tonic::transport::Channel::from_shared(uri)
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut client = FunctionRpcClient::new(channel);
    let (out, rx) = mpsc::unbounded_channel();
    let send = |request_id: String, content| {
        let _ = out.send(StreamingMessage {
            request_id,
            content: Some(content),
        });
    };
    send(
        String::new(),
        Content::StartStream(StartStream { worker_id }),
    );
    let mut inbound = client
        .event_stream(UnboundedReceiverStream::new(rx))
        .await
        .expect("event stream")
        .into_inner();
    while let Some(Ok(message)) = inbound.next().await {
        let id = message.request_id;
        match message.content {
            Some(Content::WorkerInitRequest(_)) => {
                let mut capabilities: std::collections::HashMap<String, String> = [
                    "WorkerStatus",
                    "SupportsLoadResponseCollection",
                    "HandlesWorkerTerminateMessage",
                    "RpcHttpBodyOnly",
                    "RawHttpBodyBytes",
                ]
                .iter()
                .map(|c| ((*c).to_owned(), "true".to_owned()))
                .collect();
                if let Some(uri) = &http_uri {
                    capabilities.insert("HttpUri".into(), uri.clone());
                }
                send(
                    id,
                    Content::WorkerInitResponse(WorkerInitResponse {
                        capabilities,
                        result: ok(),
                        ..WorkerInitResponse::default()
                    }),
                );
            }
            Some(Content::FunctionsMetadataRequest(_)) => {
                let hello = RpcFunctionMetadata {
                    name: "Hello".into(),
                    function_id: "hello".into(),
                    raw_bindings: vec![
                        json!({"type": "httpTrigger", "direction": "in", "name": "req", "route": "hello/{name}", "methods": ["get", "post"], "authLevel": "anonymous"}).to_string(),
                        json!({"type": "http", "direction": "out", "name": "$return"}).to_string(),
                    ],
                    ..RpcFunctionMetadata::default()
                };
                send(
                    id,
                    Content::FunctionMetadataResponse(FunctionMetadataResponse {
                        function_metadata_results: vec![hello],
                        result: ok(),
                        use_default_metadata_indexing: false,
                    }),
                );
            }
            Some(Content::FunctionLoadRequestCollection(collection)) => send(
                id,
                Content::FunctionLoadResponseCollection(FunctionLoadResponseCollection {
                    function_load_responses: collection
                        .function_load_requests
                        .into_iter()
                        .map(|r| FunctionLoadResponse {
                            function_id: r.function_id,
                            result: ok(),
                            ..FunctionLoadResponse::default()
                        })
                        .collect(),
                }),
            ),
            Some(Content::InvocationRequest(request)) => {
                send(
                    id.clone(),
                    Content::RpcLog(RpcLog {
                        invocation_id: request.invocation_id.clone(),
                        message: "hello log".into(),
                        level: 2,
                        log_category: RpcLogCategory::User as i32,
                        ..RpcLog::default()
                    }),
                );
                let http = request.input_data.first().and_then(|b| match &b.rpc_data {
                    Some(worker_proto::parameter_binding::RpcData::Data(TypedData {
                        data: Some(Data::Http(http)),
                    })) => Some(http.clone()),
                    _ => None,
                });
                let return_value = match (&http_uri, http) {
                    (None, Some(http)) => {
                        let mut reply = RpcHttp {
                            status_code: "200".into(),
                            body: Some(Box::new(TypedData {
                                data: Some(Data::String(format!(
                                    "Hello, {} via {}",
                                    http.params.get("name").cloned().unwrap_or_default(),
                                    http.method
                                ))),
                            })),
                            ..RpcHttp::default()
                        };
                        reply.headers.insert("x-worker".into(), "fake".into());
                        Some(TypedData {
                            data: Some(Data::Http(Box::new(reply))),
                        })
                    }
                    _ => None,
                };
                send(
                    id,
                    Content::InvocationResponse(InvocationResponse {
                        invocation_id: request.invocation_id,
                        return_value,
                        result: ok(),
                        ..InvocationResponse::default()
                    }),
                );
            }
            Some(Content::WorkerStatusRequest(_)) => {
                send(id, Content::WorkerStatusResponse(WorkerStatusResponse {}))
            }
            Some(Content::WorkerTerminate(terminate)) => {
                let grace = terminate.grace_period.map(|g| g.seconds).unwrap_or(0);
                println!("fake worker: terminated with a grace period of {grace} s");
                std::process::exit(0);
            }
            _ => {}
        }
    }
}

/// An app run by the fake worker in `mode`.
fn fake_app(mode: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("host.json"), r#"{"version": "2.0"}"#).expect("host.json");
    let settings = json!({"IsEncrypted": false, "Values": {
        "FUNCTIONS_WORKER_RUNTIME": "fake",
        "languageWorkers__fake__workerDirectory": "worker",
        MODE: mode,
    }});
    std::fs::write(root.join("local.settings.json"), settings.to_string()).expect("settings");
    std::fs::create_dir(root.join("worker")).expect("worker folder");
    let config = json!({"description": {
        "language": "fake",
        "extensions": [],
        "defaultExecutablePath": std::env::current_exe().expect("this test binary"),
        "arguments": ["fake_worker", "--exact", "--ignored", "--nocapture", "--"],
        "workerIndexing": "true",
    }});
    std::fs::write(root.join("worker/worker.config.json"), config.to_string())
        .expect("worker.config.json");
    dir
}

fn path(dir: &Path) -> &str {
    dir.to_str().expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread")]
async fn start_serves_the_functions_a_worker_declares_and_terminates_it() {
    let dir = fake_app("rpc");
    let port = free_port();
    let port_text = port.to_string();
    let mut run = CliRun::start(&["start", "--app", path(dir.path()), "--port", &port_text]);
    run.wait_for("cargo-azfunc is serving", READY_LIMIT).await;
    run.wait_for("[host] worker status: answered in", READY_LIMIT)
        .await;
    let output = run.output();
    assert!(
        output.contains(&format!(
            "Hello: [GET,POST] http://localhost:{port}/api/hello/{{name}}"
        )),
        "{output}"
    );
    let caller = HostClient::new(port);
    let reply = caller.request("GET", "/api/hello/ada", b"").await;
    assert_eq!(reply.status, 200, "{}", run.output());
    assert_eq!(
        reply.headers.get("x-worker").and_then(|v| v.to_str().ok()),
        Some("fake")
    );
    assert_eq!(String::from_utf8_lossy(&reply.body), "Hello, ada via GET");
    // Not a route the worker declared.
    assert_eq!(caller.request("GET", "/api/other", b"").await.status, 404);
    run.wait_for("] hello log", READY_LIMIT).await;

    run.process.terminate().expect("SIGTERM");
    assert_eq!(
        run.process
            .wait_exit(Duration::from_secs(30))
            .and_then(|s| s.code()),
        Some(0)
    );
    let output = run.output();
    assert!(
        output.contains("fake worker: terminated with a grace period of 5 s"),
        "{output}"
    );
    assert!(output.contains("exited after WorkerTerminate"), "{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn http_goes_to_a_workers_own_server_with_the_invocation_id() {
    let dir = fake_app("proxy");
    let port = free_port();
    let port_text = port.to_string();
    let mut run = CliRun::start(&["start", "--app", path(dir.path()), "--port", &port_text]);
    run.wait_for("cargo-azfunc is serving", READY_LIMIT).await;
    let reply = HostClient::new(port)
        .request("POST", "/api/hello/bob?x=1", b"body")
        .await;
    assert_eq!(reply.status, 202, "{}", run.output());
    let body = String::from_utf8_lossy(&reply.body).into_owned();
    let id = body
        .strip_prefix("Proxied POST /api/hello/bob?x=1 for ")
        .unwrap_or_else(|| panic!("{body}"));
    // The id the worker's server got is the invocation's.
    run.wait_for(&format!("[Hello {id}] hello log"), READY_LIMIT)
        .await;
    run.process.terminate().expect("SIGTERM");
    assert!(run.process.wait_exit(Duration::from_secs(30)).is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn invoke_finds_a_function_the_worker_declares() {
    let dir = fake_app("rpc");
    let mut run = CliRun::start(&["invoke", "hello", "--app", path(dir.path()), "--data", ""]);
    let status = run.finish(READY_LIMIT);
    let output = run.output();
    assert_eq!(status, Some(0), "{output}");
    assert!(
        output.contains("http $return <- 200 text/plain; charset=utf-8 Hello,  via POST"),
        "{output}"
    );
    let mut run = CliRun::start(&["invoke", "Nope", "--app", path(dir.path()), "--data", ""]);
    assert_eq!(run.finish(READY_LIMIT), Some(1));
    assert!(
        run.output().contains("no function named \"Nope\""),
        "{}",
        run.output()
    );
}
