//! The stream against a fake worker in this process (a tonic client), for
//! what Microsoft's 2020 Python worker cannot exercise: worker indexing,
//! load collections, WorkerStatus, WorkerTerminate, and a failed init.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::UnboundedReceiverStream;
use worker_proto::function_rpc_client::FunctionRpcClient;
use worker_proto::rpc_log::RpcLogCategory;
use worker_proto::status_result::Status;
use worker_proto::streaming_message::Content;
use worker_proto::{
    FunctionLoadResponse, FunctionLoadResponseCollection, FunctionMetadataResponse,
    InvocationRequest, InvocationResponse, RpcException, RpcFunctionMetadata, RpcLog, StartStream,
    StatusResult, StreamingMessage, WorkerInitResponse, WorkerStatusResponse,
};

use super::channel::{Channel, TERMINATE_GRACE, capability};
use super::server::Listener;
use super::setup::{Setup, initialize};
use crate::app::AppFolder;
use crate::console::Console;

/// How the fake worker behaves.
#[derive(Clone, Default)]
struct Fake {
    capabilities: Vec<&'static str>,
    init_failure: Option<&'static str>,
    default_indexing: bool,
}

fn ok() -> Option<StatusResult> {
    Some(StatusResult {
        status: Status::Success as i32,
        ..StatusResult::default()
    })
}

fn message(content: Content) -> StreamingMessage {
    StreamingMessage {
        request_id: String::new(),
        content: Some(content),
    }
}

/// Connects to `port` as worker `w1` and answers as `fake` says; records
/// the name of each message it receives.
async fn run_fake(port: u16, fake: Fake, seen: Arc<Mutex<Vec<String>>>) {
    let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut client = FunctionRpcClient::new(channel);
    let (out, rx) = mpsc::unbounded_channel();
    let send = |content| {
        let _ = out.send(message(content));
    };
    send(Content::StartStream(StartStream {
        worker_id: "w1".into(),
    }));
    let mut inbound = client
        .event_stream(UnboundedReceiverStream::new(rx))
        .await
        .expect("event stream")
        .into_inner();
    while let Some(Ok(received)) = inbound.next().await {
        let Some(content) = received.content else {
            continue;
        };
        let name = format!("{content:?}");
        seen.lock()
            .expect("seen")
            .push(name.split('(').next().unwrap_or("").to_owned());
        match content {
            Content::WorkerInitRequest(_) => {
                send(Content::WorkerInitResponse(WorkerInitResponse {
                    capabilities: fake
                        .capabilities
                        .iter()
                        .map(|c| ((*c).to_owned(), "true".to_owned()))
                        .collect(),
                    result: match fake.init_failure {
                        None => ok(),
                        Some(why) => Some(StatusResult {
                            status: Status::Failure as i32,
                            exception: Some(RpcException {
                                message: why.into(),
                                ..RpcException::default()
                            }),
                            ..StatusResult::default()
                        }),
                    },
                    ..WorkerInitResponse::default()
                }))
            }
            Content::FunctionsMetadataRequest(_) => {
                let hello = RpcFunctionMetadata {
                    name: "Hello".into(),
                    function_id: "hello-id".into(),
                    raw_bindings: vec![
                        r#"{"type":"httpTrigger","direction":"in","name":"req","route":"hi/{name}","methods":["get"],"authLevel":"anonymous"}"#.into(),
                        r#"{"type":"http","direction":"out","name":"$return"}"#.into(),
                    ],
                    ..RpcFunctionMetadata::default()
                };
                let broken = RpcFunctionMetadata {
                    name: "Broken".into(),
                    function_id: "broken-id".into(),
                    raw_bindings: vec![r#"{"type":"queue","direction":"out"}"#.into()],
                    ..RpcFunctionMetadata::default()
                };
                send(Content::FunctionMetadataResponse(
                    FunctionMetadataResponse {
                        function_metadata_results: vec![hello, broken],
                        result: ok(),
                        use_default_metadata_indexing: fake.default_indexing,
                    },
                ));
            }
            Content::FunctionLoadRequestCollection(collection) => send(
                Content::FunctionLoadResponseCollection(FunctionLoadResponseCollection {
                    function_load_responses: collection
                        .function_load_requests
                        .iter()
                        .map(|r| FunctionLoadResponse {
                            function_id: r.function_id.clone(),
                            result: ok(),
                            ..FunctionLoadResponse::default()
                        })
                        .collect(),
                }),
            ),
            Content::FunctionLoadRequest(request) => {
                send(Content::FunctionLoadResponse(FunctionLoadResponse {
                    function_id: request.function_id,
                    result: ok(),
                    ..FunctionLoadResponse::default()
                }))
            }
            Content::InvocationRequest(request) => {
                // A log for another invocation first: dropped, not misrouted.
                for id in ["someone-else", request.invocation_id.as_str()] {
                    send(Content::RpcLog(RpcLog {
                        invocation_id: id.into(),
                        message: format!("hello from {id}"),
                        level: 2,
                        log_category: RpcLogCategory::User as i32,
                        ..RpcLog::default()
                    }));
                }
                send(Content::InvocationResponse(InvocationResponse {
                    invocation_id: request.invocation_id,
                    result: ok(),
                    ..InvocationResponse::default()
                }));
            }
            Content::WorkerStatusRequest(_) => {
                let _ = out.send(StreamingMessage {
                    request_id: received.request_id,
                    content: Some(Content::WorkerStatusResponse(WorkerStatusResponse {})),
                });
            }
            Content::WorkerTerminate(terminate) => {
                let grace = terminate.grace_period.map(|g| g.seconds).unwrap_or(0);
                seen.lock().expect("seen").push(format!("grace {grace}"));
                return;
            }
            _ => {}
        }
    }
}

fn native_app() -> (tempfile::TempDir, AppFolder) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("host.json"), r#"{"version": "2.0"}"#).expect("host.json");
    std::fs::write(
        dir.path().join("local.settings.json"),
        r#"{"Values": {"FUNCTIONS_WORKER_RUNTIME": "native"}}"#,
    )
    .expect("local.settings.json");
    let app = AppFolder::load(dir.path()).expect("app");
    (dir, app)
}

async fn started(
    fake: Fake,
) -> (
    Channel,
    Result<super::Functions, String>,
    Arc<Mutex<Vec<String>>>,
    Console,
) {
    let (_dir, app) = native_app();
    let listener = Listener::start().await.expect("listener");
    let seen = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn(run_fake(listener.port, fake, seen.clone()));
    let stream = listener.next().await.expect("a stream");
    let console = Console::quiet();
    let mut channel = Channel::new(stream, console.clone());
    let setup = Setup {
        host_version: "4.1037.0.0",
        worker_id: "w1",
        worker_directory: &app.root,
        app: &app,
        worker_indexing: true,
        limit: Duration::from_secs(10),
        console: &console,
    };
    let functions = initialize(&mut channel, &setup).await;
    (channel, functions, seen, console)
}

fn seen_names(seen: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    seen.lock().expect("seen").clone()
}

#[tokio::test]
async fn worker_indexing_collections_status_and_terminate() {
    let fake = Fake {
        capabilities: vec![
            capability::SUPPORTS_LOAD_RESPONSE_COLLECTION,
            capability::WORKER_STATUS,
            capability::HANDLES_WORKER_TERMINATE_MESSAGE,
        ],
        ..Fake::default()
    };
    let (channel, functions, seen, console) = started(fake).await;
    let functions = functions.expect("initialised");
    // The functions come from the worker; the broken one is left out, said.
    let indexed = functions.indexed.expect("worker indexing");
    assert_eq!(indexed.len(), 1);
    assert_eq!(indexed[0].name, "Hello");
    assert_eq!(indexed[0].trigger().route.as_deref(), Some("hi/{name}"));
    assert_eq!(
        functions.loaded.get("Hello").map(|l| l.id.as_str()),
        Some("hello-id")
    );
    assert!(console.contains("function \"Broken\" from the worker is left out"));
    assert_eq!(
        seen_names(&seen),
        vec![
            "WorkerInitRequest",
            "FunctionsMetadataRequest",
            "FunctionLoadRequestCollection"
        ]
    );

    let answer = channel
        .invoke(
            InvocationRequest {
                invocation_id: "i1".into(),
                function_id: "hello-id".into(),
                ..InvocationRequest::default()
            },
            "[Hello i1]".into(),
        )
        .await
        .expect("answered");
    assert_eq!(answer.response.invocation_id, "i1");
    assert_eq!(answer.logs, vec!["hello from i1".to_owned()]);
    assert!(console.contains("[Hello i1] hello from i1"));
    assert!(!console.contains("hello from someone-else"));

    assert!(
        channel
            .status(Duration::from_secs(5))
            .await
            .expect("status")
            .is_some()
    );
    assert!(channel.terminate());
    tokio::time::timeout(Duration::from_secs(5), channel.ended())
        .await
        .expect("the worker ended its stream after WorkerTerminate");
    let names = seen_names(&seen);
    assert_eq!(
        &names[3..],
        &[
            "InvocationRequest",
            "WorkerStatusRequest",
            "WorkerTerminate",
            &format!("grace {}", TERMINATE_GRACE.as_secs())
        ]
    );
    // Invocations after the end fail at once.
    let late = channel
        .invoke(InvocationRequest::default(), String::new())
        .await;
    assert!(late.is_err());
}

#[tokio::test]
async fn without_capabilities_each_function_loads_alone_and_nothing_else_is_sent() {
    let (channel, functions, seen, _) = started(Fake::default()).await;
    assert!(functions.expect("initialised").indexed.is_some());
    assert_eq!(
        seen_names(&seen),
        vec![
            "WorkerInitRequest",
            "FunctionsMetadataRequest",
            "FunctionLoadRequest"
        ]
    );
    // No WorkerStatus, no WorkerTerminate to a worker that did not ask.
    assert_eq!(channel.status(Duration::from_secs(1)).await, Ok(None));
    assert!(!channel.terminate());
    channel.end();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(seen_names(&seen).len(), 3);
}

#[tokio::test]
async fn default_indexing_reads_function_json_and_a_failed_init_is_refused() {
    let fake = Fake {
        default_indexing: true,
        ..Fake::default()
    };
    let (_, functions, seen, console) = started(fake).await;
    assert!(functions.expect("initialised").indexed.is_none());
    assert!(console.contains("the functions come from function.json"));
    assert_eq!(
        seen_names(&seen),
        vec!["WorkerInitRequest", "FunctionsMetadataRequest"]
    );

    let fake = Fake {
        init_failure: Some("no runtime"),
        ..Fake::default()
    };
    let (_, functions, seen, _) = started(fake).await;
    assert_eq!(
        functions.map(|_| ()),
        Err("the worker failed to initialize: no runtime".to_owned())
    );
    assert_eq!(seen_names(&seen), vec!["WorkerInitRequest"]);
}
