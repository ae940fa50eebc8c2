//! The worker's message handling, driven through the generated tonic
//! server by a scripted peer: each message of the host, concurrency,
//! failures, limits and the ways the worker stops.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use prost::Message;

use rocket::tokio::{self, sync::oneshot, task::JoinHandle};
use worker_proto::status_result::Status;
use worker_proto::streaming_message::Content;
use worker_proto::typed_data::Data;
use worker_proto::*;

use super::super::arguments::WorkerArguments;
use super::super::http_uri::Proxied;
use super::super::session::{self, End};
use super::peer::Peer;
use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse};
use crate::outputs::Outputs;
use crate::registry::{Function, Registry};
use crate::trigger::{QueueMessage, TriggerInput};
use function_app::Binding;

pub(super) fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

pub(super) async fn echo(req: HttpRequest) -> Result<HttpResponse, Error> {
    // Long enough for invocations to overlap.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let size: usize = req.query("size").and_then(|s| s.parse().ok()).unwrap_or(0);
    if size > 0 {
        return Ok(HttpResponse::new(200, "x".repeat(size)));
    }
    if req.query("fail").is_some() {
        return Err(Error::bad_request("fail was asked for"));
    }
    Ok(HttpResponse::new(
        200,
        format!("{}:{}", req.query("n").unwrap_or("-"), req.text()?),
    ))
}

async fn copy(message: QueueMessage) -> Result<Outputs, Error> {
    if message.text == "panic" {
        panic!("asked to panic");
    }
    if message.text == "fail" {
        return Err(Error::bad_request("the message says fail"));
    }
    crate::log::warn(format_args!("copying {}", message.text));
    if message.text == "chatty" {
        crate::log::info("é".repeat(5000));
    }
    Ok(Outputs::new().text("copies", message.text.to_uppercase()))
}

async fn wait(input: TriggerInput) -> Result<(), Error> {
    let millis: u64 = input.json()?;
    tokio::time::sleep(Duration::from_millis(millis)).await;
    crate::log::info(format_args!("waited {millis} ms"));
    Ok(())
}

fn registry() -> Registry {
    Registry::new()
        .with(Function::http("Echo", echo))
        .with(Function::queue("Copy", copy).output(Binding::queue("copies", "copies")))
        .with(Function::trigger("Wait", "waitTrigger", wait))
}

fn arguments(uri: &str, limit: usize) -> WorkerArguments {
    WorkerArguments {
        uri: uri.to_owned(),
        worker_id: "worker-1".to_owned(),
        request_id: "request-1".to_owned(),
        max_message_length: limit,
    }
}

/// A worker connected to a fresh peer, stopped by `stop`.
async fn start(
    limit: usize,
    stop: impl Future<Output = ()> + Send + 'static,
) -> (Peer, JoinHandle<End>) {
    start_with(registry(), limit, None, stop).await
}

/// A worker for `registry`, proxied to or not.
pub(super) async fn start_with(
    registry: Registry,
    limit: usize,
    proxied: Option<Proxied>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> (Peer, JoinHandle<End>) {
    let peer = Peer::start().await;
    let worker = tokio::spawn(session::connect_and_serve(
        registry,
        arguments(&peer.uri, limit),
        proxied,
        stop,
    ));
    (peer, worker)
}

/// The functions the worker indexed: ids and trigger binding names.
pub(super) struct Loaded {
    pub(super) ids: HashMap<String, String>,
    pub(super) triggers: HashMap<String, String>,
}

impl Loaded {
    pub(super) fn call(&self, function: &str, id: &str, value: Data) -> Content {
        call(&self.ids[function], id, &self.triggers[function], value)
    }

    pub(super) fn http(
        &self,
        function: &str,
        id: &str,
        query: &[(&str, &str)],
        body: &str,
    ) -> Content {
        http_call(
            &self.ids[function],
            id,
            &self.triggers[function],
            query,
            body,
        )
    }
}

/// StartStream, init, indexing and loading, as the host does them.
async fn handshake(peer: &mut Peer) -> Loaded {
    handshake_of(peer, &["Echo", "Copy", "Wait"], None).await
}

/// The same for the functions `expected`, checking the `HttpUri`
/// advertised.
pub(super) async fn handshake_of(
    peer: &mut Peer,
    expected: &[&str],
    http_uri: Option<&str>,
) -> Loaded {
    let Some(Content::StartStream(start)) = peer.next().await.content else {
        panic!("the worker starts with StartStream");
    };
    assert_eq!(start.worker_id, "worker-1");
    peer.send(Content::WorkerInitRequest(WorkerInitRequest {
        function_app_directory: "/home/site/wwwroot".into(),
        ..WorkerInitRequest::default()
    }))
    .await;
    let Some(Content::WorkerInitResponse(init)) = peer.next().await.content else {
        panic!("WorkerInitResponse expected");
    };
    assert_eq!(init.result.map(|r| r.status), Some(Status::Success as i32));
    assert_eq!(init.capabilities["WorkerStatus"], "true");
    assert_eq!(
        init.capabilities.get("HttpUri").map(String::as_str),
        http_uri
    );
    peer.send(Content::FunctionsMetadataRequest(
        FunctionsMetadataRequest {
            function_app_directory: "/home/site/wwwroot".into(),
        },
    ))
    .await;
    let Some(Content::FunctionMetadataResponse(index)) = peer.next().await.content else {
        panic!("FunctionMetadataResponse expected");
    };
    assert!(!index.use_default_metadata_indexing);
    let names: Vec<&str> = index
        .function_metadata_results
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, expected);
    for metadata in &index.function_metadata_results {
        assert_eq!(metadata.directory, "/home/site/wwwroot");
        for raw in &metadata.raw_bindings {
            let binding: serde_json::Value =
                serde_json::from_str(raw).expect("raw bindings are JSON");
            assert!(
                binding["type"].is_string() && binding["name"].is_string(),
                "{raw}"
            );
        }
    }
    let requests = index
        .function_metadata_results
        .iter()
        // As the host loads them (`GetFunctionLoadRequest`): the name, the
        // directory and each binding's info, no raw bindings.
        .map(|metadata| FunctionLoadRequest {
            function_id: metadata.function_id.clone(),
            metadata: Some(RpcFunctionMetadata {
                name: metadata.name.clone(),
                directory: metadata.directory.clone(),
                bindings: metadata.bindings.clone(),
                ..RpcFunctionMetadata::default()
            }),
            managed_dependency_enabled: false,
        })
        .collect();
    peer.send(Content::FunctionLoadRequestCollection(
        FunctionLoadRequestCollection {
            function_load_requests: requests,
        },
    ))
    .await;
    let Some(Content::FunctionLoadResponseCollection(loaded)) = peer.next().await.content else {
        panic!("FunctionLoadResponseCollection expected");
    };
    assert_eq!(loaded.function_load_responses.len(), expected.len());
    assert!(
        loaded
            .function_load_responses
            .iter()
            .all(|r| r.result.as_ref().map(|r| r.status) == Some(Status::Success as i32))
    );
    let mut loaded = Loaded {
        ids: HashMap::new(),
        triggers: HashMap::new(),
    };
    for metadata in index.function_metadata_results {
        let trigger = metadata
            .raw_bindings
            .iter()
            .filter_map(|raw| serde_json::from_str::<serde_json::Value>(raw).ok())
            .find(|binding| {
                binding["direction"] == "in"
                    && binding["type"]
                        .as_str()
                        .is_some_and(|t| t.ends_with("Trigger"))
            })
            .and_then(|binding| binding["name"].as_str().map(str::to_owned))
            .expect("a trigger binding");
        loaded.triggers.insert(metadata.name.clone(), trigger);
        loaded.ids.insert(metadata.name, metadata.function_id);
    }
    loaded
}

fn data(data: Data) -> Option<parameter_binding::RpcData> {
    Some(parameter_binding::RpcData::Data(TypedData {
        data: Some(data),
    }))
}

fn http_call(
    function_id: &str,
    id: &str,
    binding: &str,
    query: &[(&str, &str)],
    body: &str,
) -> Content {
    let http = RpcHttp {
        method: "POST".into(),
        url: "http://localhost/api/Echo".into(),
        query: query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: Some(Box::new(TypedData {
            data: Some(Data::Bytes(body.as_bytes().to_vec())),
        })),
        ..RpcHttp::default()
    };
    Content::InvocationRequest(InvocationRequest {
        invocation_id: id.into(),
        function_id: function_id.into(),
        input_data: vec![ParameterBinding {
            name: binding.into(),
            rpc_data: data(Data::Http(Box::new(http))),
        }],
        ..InvocationRequest::default()
    })
}

fn call(function_id: &str, id: &str, binding: &str, value: Data) -> Content {
    Content::InvocationRequest(InvocationRequest {
        invocation_id: id.into(),
        function_id: function_id.into(),
        input_data: vec![ParameterBinding {
            name: binding.into(),
            rpc_data: data(value),
        }],
        ..InvocationRequest::default()
    })
}

/// The next invocation response, the log records before it gathered.
pub(super) async fn response(peer: &mut Peer) -> (InvocationResponse, Vec<RpcLog>) {
    let mut logs = Vec::new();
    loop {
        match peer.next().await.content {
            Some(Content::RpcLog(log)) => logs.push(log),
            Some(Content::InvocationResponse(response)) => return (response, logs),
            other => panic!("an invocation's messages expected, got {other:?}"),
        }
    }
}

pub(super) fn status_of(response: &InvocationResponse) -> i32 {
    response.result.as_ref().map_or(-1, |r| r.status)
}

fn http_body(response: &InvocationResponse) -> (String, Vec<u8>) {
    let Some(Data::Http(http)) = response.return_value.as_ref().and_then(|v| v.data.clone()) else {
        panic!("an HTTP return value expected: {response:?}");
    };
    let Some(Data::Bytes(body)) = http.body.and_then(|b| b.data) else {
        panic!("a body of bytes expected");
    };
    (http.status_code, body)
}

#[test]
fn every_message_of_a_session_is_answered() {
    block_on(async {
        let (mut peer, worker) = start(usize::MAX, std::future::pending()).await;
        let ids = handshake(&mut peer).await;
        peer.send_with_id(
            "status-7",
            Content::WorkerStatusRequest(WorkerStatusRequest {}),
        )
        .await;
        let status = peer.next().await;
        assert_eq!(status.request_id, "status-7");
        assert!(matches!(
            status.content,
            Some(Content::WorkerStatusResponse(_))
        ));
        // A queue message: its output, and the log line before the response.
        peer.send(ids.call("Copy", "inv-1", Data::String("hello".into())))
            .await;
        let (copied, logs) = response(&mut peer).await;
        assert_eq!(copied.invocation_id, "inv-1");
        assert_eq!(status_of(&copied), Status::Success as i32);
        assert_eq!(copied.output_data.len(), 1);
        assert_eq!(copied.output_data[0].name, "copies");
        assert_eq!(
            copied.output_data[0].rpc_data,
            data(Data::String("HELLO".into()))
        );
        let warning = logs
            .iter()
            .find(|log| log.message.contains("copying hello"))
            .expect("the warning");
        assert_eq!(warning.invocation_id, "inv-1");
        assert_eq!(warning.level, rpc_log::Level::Warning as i32);
        assert_eq!(warning.log_category, rpc_log::RpcLogCategory::User as i32);
        // A non-HTTP failure fails the invocation with the reason.
        peer.send(ids.call("Copy", "inv-2", Data::String("fail".into())))
            .await;
        let (failed, _) = response(&mut peer).await;
        assert_eq!(status_of(&failed), Status::Failure as i32);
        let message = failed
            .result
            .and_then(|r| r.exception)
            .map(|e| e.message)
            .unwrap_or_default();
        assert_eq!(message, "the message says fail");
        // An HTTP failure is the caller's answer.
        peer.send(ids.http("Echo", "inv-3", &[("fail", "1")], ""))
            .await;
        let (refused, _) = response(&mut peer).await;
        assert_eq!(status_of(&refused), Status::Success as i32);
        let (code, body) = http_body(&refused);
        assert_eq!(code, "400");
        assert_eq!(body, br#"{"error":"fail was asked for"}"#);
        // An unknown function id fails, and the worker goes on.
        peer.send(call(
            "no-such-id",
            "inv-4",
            "input",
            Data::String("x".into()),
        ))
        .await;
        let (unknown, _) = response(&mut peer).await;
        assert_eq!(status_of(&unknown), Status::Failure as i32);
        assert!(format!("{unknown:?}").contains("no-such-id"));
        peer.send(ids.http("Echo", "inv-5", &[("n", "5")], "body"))
            .await;
        let (echoed, _) = response(&mut peer).await;
        assert_eq!(http_body(&echoed), ("200".to_owned(), b"5:body".to_vec()));
        // An unknown function in a load fails that load only.
        peer.send(Content::FunctionLoadRequest(FunctionLoadRequest {
            function_id: "other".into(),
            metadata: Some(RpcFunctionMetadata {
                name: "Nope".into(),
                ..RpcFunctionMetadata::default()
            }),
            managed_dependency_enabled: false,
        }))
        .await;
        let Some(Content::FunctionLoadResponse(load)) = peer.next().await.content else {
            panic!("FunctionLoadResponse expected");
        };
        assert_eq!(load.function_id, "other");
        assert_eq!(load.result.map(|r| r.status), Some(Status::Failure as i32));
        // The host ends the stream: the worker exits, cleanly.
        peer.close();
        let end = tokio::time::timeout(Duration::from_secs(10), worker).await;
        assert_eq!(
            end.expect("the worker exits").expect("no panic"),
            End::Clean
        );
    });
}

#[test]
fn a_hundred_concurrent_invocations_each_get_their_own_answer() {
    block_on(async {
        let (mut peer, worker) = start(usize::MAX, std::future::pending()).await;
        let ids = handshake(&mut peer).await;
        let started = std::time::Instant::now();
        for n in 0..100 {
            let n = n.to_string();
            peer.send(ids.http("Echo", &format!("inv-{n}"), &[("n", &n)], &format!("b{n}")))
                .await;
        }
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100 {
            let (answer, _) = response(&mut peer).await;
            let n = answer
                .invocation_id
                .strip_prefix("inv-")
                .expect("our id")
                .to_owned();
            assert_eq!(http_body(&answer).1, format!("{n}:b{n}").into_bytes());
            assert!(seen.insert(n), "one answer per invocation");
        }
        assert_eq!(seen.len(), 100);
        // Each sleeps 20 ms: one after another would take 2 s.
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        peer.close();
        assert_eq!(worker.await.expect("no panic"), End::Clean);
    });
}

#[test]
fn a_panic_fails_only_its_invocation() {
    block_on(async {
        let (mut peer, worker) = start(usize::MAX, std::future::pending()).await;
        let ids = handshake(&mut peer).await;
        peer.send(ids.call("Copy", "boom", Data::String("panic".into())))
            .await;
        let (boom, _) = response(&mut peer).await;
        assert_eq!(boom.invocation_id, "boom");
        assert_eq!(status_of(&boom), Status::Failure as i32);
        peer.send(ids.call("Copy", "after", Data::String("ok".into())))
            .await;
        let (after, _) = response(&mut peer).await;
        assert_eq!(status_of(&after), Status::Success as i32);
        peer.close();
        assert_eq!(worker.await.expect("no panic"), End::Clean);
    });
}

#[test]
fn an_oversized_response_fails_naming_the_limit_and_the_stream_goes_on() {
    block_on(async {
        let limit = 4096;
        let (mut peer, worker) = start(limit, std::future::pending()).await;
        let ids = handshake(&mut peer).await;
        peer.send(ids.http("Echo", "big", &[("size", "5000")], ""))
            .await;
        let (big, _) = response(&mut peer).await;
        assert_eq!(status_of(&big), Status::Failure as i32);
        let message = big
            .result
            .and_then(|r| r.exception)
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(
            message.contains("over the gRPC message limit of 4096 bytes"),
            "{message}"
        );
        // A log line over the limit is cut to fit, and says so.
        peer.send(ids.call("Copy", "chatty", Data::String("chatty".into())))
            .await;
        let (chatty, logs) = response(&mut peer).await;
        assert_eq!(status_of(&chatty), Status::Success as i32);
        let cut = logs
            .iter()
            .find(|log| log.message.contains("éé"))
            .expect("the long line, cut");
        assert!(
            cut.message
                .ends_with("[cut to fit the gRPC message limit of 4096 bytes]")
        );
        assert!(cut.encoded_len() < limit, "{}", cut.encoded_len());
        // Just under the limit still goes through whole.
        peer.send(ids.http("Echo", "fits", &[("size", "3900")], ""))
            .await;
        let (fits, _) = response(&mut peer).await;
        assert_eq!(http_body(&fits).1.len(), 3900);
        peer.close();
        assert_eq!(worker.await.expect("no panic"), End::Clean);
    });
}

#[test]
fn worker_terminate_lets_an_invocation_in_flight_finish() {
    block_on(async {
        let (mut peer, worker) = start(usize::MAX, std::future::pending()).await;
        let ids = handshake(&mut peer).await;
        peer.send(ids.call("Wait", "slow", Data::Json("300".into())))
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        peer.send(Content::WorkerTerminate(WorkerTerminate {
            grace_period: Some(worker_proto::Duration {
                seconds: 5,
                nanos: 0,
            }),
        }))
        .await;
        let (slow, logs) = response(&mut peer).await;
        assert_eq!(slow.invocation_id, "slow");
        assert_eq!(status_of(&slow), Status::Success as i32);
        assert!(logs.iter().any(|log| log.message.contains("waited 300 ms")));
        let end = tokio::time::timeout(Duration::from_secs(10), worker).await;
        assert_eq!(
            end.expect("the worker exits").expect("no panic"),
            End::Clean
        );
    });
}

#[test]
fn the_grace_period_bounds_the_wait() {
    block_on(async {
        let (stop, stopped) = oneshot::channel::<()>();
        let (mut peer, worker) = start(usize::MAX, async move {
            let _ = stopped.await;
        })
        .await;
        let ids = handshake(&mut peer).await;
        peer.send(ids.call("Wait", "endless", Data::Json("60000".into())))
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        peer.send(Content::WorkerTerminate(WorkerTerminate {
            grace_period: Some(worker_proto::Duration {
                seconds: 0,
                nanos: 200_000_000,
            }),
        }))
        .await;
        let started = std::time::Instant::now();
        let end = tokio::time::timeout(Duration::from_secs(10), worker).await;
        assert_eq!(
            end.expect("the worker exits").expect("no panic"),
            End::CutOff(1)
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(stop);
    });
}

#[test]
fn sigterm_waits_for_invocations_in_flight() {
    block_on(async {
        let (stop, stopped) = oneshot::channel::<()>();
        let (mut peer, worker) = start(usize::MAX, async move {
            let _ = stopped.await;
        })
        .await;
        let ids = handshake(&mut peer).await;
        peer.send(ids.call("Wait", "slow", Data::Json("200".into())))
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.send(()).expect("the worker listens");
        let (slow, _) = response(&mut peer).await;
        assert_eq!(status_of(&slow), Status::Success as i32);
        let end = tokio::time::timeout(Duration::from_secs(10), worker).await;
        assert_eq!(
            end.expect("the worker exits").expect("no panic"),
            End::Clean
        );
    });
}

#[test]
fn a_cancelled_invocation_is_answered_cancelled() {
    block_on(async {
        let (mut peer, worker) = start(usize::MAX, std::future::pending()).await;
        let ids = handshake(&mut peer).await;
        peer.send(ids.call("Wait", "long", Data::Json("60000".into())))
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        peer.send(Content::InvocationCancel(InvocationCancel {
            invocation_id: "long".into(),
            grace_period: None,
        }))
        .await;
        let (long, _) = response(&mut peer).await;
        assert_eq!(long.invocation_id, "long");
        assert_eq!(status_of(&long), Status::Cancelled as i32);
        peer.close();
        assert_eq!(worker.await.expect("no panic"), End::Clean);
    });
}

#[test]
fn the_environment_reload_applies_the_hosts_settings() {
    block_on(async {
        let (mut peer, worker) = start(usize::MAX, std::future::pending()).await;
        let _ = handshake(&mut peer).await;
        // The whole current environment plus one: nothing else changes
        // for the tests running beside this one.
        let mut environment: HashMap<String, String> = std::env::vars().collect();
        environment.insert("NATIVE_WORKER_RELOAD_TEST".into(), "specialised".into());
        peer.send(Content::FunctionEnvironmentReloadRequest(
            FunctionEnvironmentReloadRequest {
                environment_variables: environment,
                function_app_directory: String::new(),
            },
        ))
        .await;
        let Some(Content::FunctionEnvironmentReloadResponse(reload)) = peer.next().await.content
        else {
            panic!("FunctionEnvironmentReloadResponse expected");
        };
        assert_eq!(
            reload.result.map(|r| r.status),
            Some(Status::Success as i32)
        );
        assert_eq!(
            std::env::var("NATIVE_WORKER_RELOAD_TEST").as_deref(),
            Ok("specialised")
        );
        peer.send(Content::FunctionEnvironmentReloadRequest(
            FunctionEnvironmentReloadRequest {
                environment_variables: HashMap::from([("A=B".into(), "x".into())]),
                function_app_directory: String::new(),
            },
        ))
        .await;
        let Some(Content::FunctionEnvironmentReloadResponse(refused)) = peer.next().await.content
        else {
            panic!("FunctionEnvironmentReloadResponse expected");
        };
        assert_eq!(
            refused.result.map(|r| r.status),
            Some(Status::Failure as i32)
        );
        peer.close();
        assert_eq!(worker.await.expect("no panic"), End::Clean);
    });
}

#[test]
fn a_registry_the_host_would_refuse_fails_the_indexing_with_the_reasons() {
    block_on(async {
        let registry = Registry::new()
            .with(Function::http("Echo", echo))
            .with(Function::http("Echo", echo));
        let (mut peer, worker) =
            start_with(registry, usize::MAX, None, std::future::pending()).await;
        let Some(Content::StartStream(_)) = peer.next().await.content else {
            panic!("StartStream expected");
        };
        peer.send(Content::FunctionsMetadataRequest(
            FunctionsMetadataRequest::default(),
        ))
        .await;
        let Some(Content::FunctionMetadataResponse(index)) = peer.next().await.content else {
            panic!("FunctionMetadataResponse expected");
        };
        assert!(index.function_metadata_results.is_empty());
        let result = index.result.expect("a result");
        assert_eq!(result.status, Status::Failure as i32);
        let message = result.exception.map(|e| e.message).unwrap_or_default();
        assert!(
            message.contains("more than one function: Echo"),
            "{message}"
        );
        peer.close();
        assert_eq!(worker.await.expect("no panic"), End::Clean);
    });
}

#[test]
fn a_function_the_host_indexed_from_function_json_reads_its_binding_names() {
    block_on(async {
        let (mut peer, worker) = start(usize::MAX, std::future::pending()).await;
        let _ = handshake(&mut peer).await;
        let info = |kind: &str, direction: binding_info::Direction| BindingInfo {
            r#type: kind.into(),
            direction: direction as i32,
            ..BindingInfo::default()
        };
        // A hand-kept Copy/function.json that names the trigger "msg".
        peer.send(Content::FunctionLoadRequest(FunctionLoadRequest {
            function_id: "host-copy".into(),
            metadata: Some(RpcFunctionMetadata {
                name: "Copy".into(),
                bindings: HashMap::from([
                    (
                        "msg".into(),
                        info("queueTrigger", binding_info::Direction::In),
                    ),
                    ("copies".into(), info("queue", binding_info::Direction::Out)),
                ]),
                ..RpcFunctionMetadata::default()
            }),
            managed_dependency_enabled: false,
        }))
        .await;
        let Some(Content::FunctionLoadResponse(load)) = peer.next().await.content else {
            panic!("FunctionLoadResponse expected");
        };
        assert_eq!(load.result.map(|r| r.status), Some(Status::Success as i32));
        peer.send(call(
            "host-copy",
            "inv-h",
            "msg",
            Data::String("named".into()),
        ))
        .await;
        let (copied, _) = response(&mut peer).await;
        assert_eq!(status_of(&copied), Status::Success as i32);
        assert_eq!(
            copied.output_data[0].rpc_data,
            data(Data::String("NAMED".into()))
        );
        peer.close();
        assert_eq!(worker.await.expect("no panic"), End::Clean);
    });
}
