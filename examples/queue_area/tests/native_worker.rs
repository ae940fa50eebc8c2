//! The example app as the native language worker under cargo-azfunc's
//! gRPC host (docs/native-worker-host.md), both sides real: what the host
//! indexed, many invocations at once, an unknown function, the end of the
//! stream from either side. Built with `--features native`.
#![cfg(feature = "native")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_functions_rocket::rocket;
use cargo_azfunc::app::AppFolder;
use cargo_azfunc::handler::{Handler, HandlerOptions, HandlerState, Link};
use cargo_azfunc::host::envelope::{CallerRequest, Sys, Verdict, http_invocation};
use cargo_azfunc::host::invocation::invoke;
use cargo_azfunc::worker_host::Worker;
use function_app::Metadata;
use rocket::futures::future::join_all;
use worker_proto::InvocationRequest;
use worker_proto::status_result::Status;

fn app_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

async fn start() -> (AppFolder, Handler) {
    let mut app = AppFolder::load(&app_root())
        .expect("the example app loads")
        .into_native();
    let options = HandlerOptions {
        executable: Some(env!("CARGO_BIN_EXE_queue_area").into()),
        restart_delay: Duration::from_millis(100),
        ..HandlerOptions::default()
    };
    let handler = Handler::start(&app, options)
        .await
        .expect("the worker starts");
    handler.adopt_functions(&mut app);
    (app, handler)
}

async fn ready_worker(handler: &Handler) -> (Arc<Worker>, u32) {
    match handler.ready().await.expect("ready") {
        (Link::Worker(worker), pid) => (worker, pid),
        (Link::Http(_), _) => panic!("the app runs as a custom handler, not as a worker"),
    }
}

/// Whether process `pid` is gone (or a zombie not yet reaped).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

async fn wait_gone(pid: u32, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if gone(pid) {
            return Some(started.elapsed());
        }
        rocket::tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[rocket::async_test]
async fn the_host_indexed_every_binding_the_registry_declares() {
    let (_app, handler) = start().await;
    let indexed = handler.indexed_functions().expect("the worker indexed");
    let received: Vec<_> = indexed
        .iter()
        .map(|f| (f.name.clone(), f.bindings.clone()))
        .collect();
    let declared: Vec<_> = Metadata::from_functions(queue_area::registry().function_jsons())
        .functions
        .into_iter()
        .map(|f| (f.name, f.function.bindings))
        .collect();
    assert_eq!(received.len(), 3);
    assert_eq!(received, declared);
    handler.stop().await;
}

/// 100 invocations at once, each with its own radius: each answer is its
/// own area, its log line its own invocation's.
#[rocket::async_test]
async fn a_hundred_concurrent_invocations_each_get_their_own_answer() {
    let (app, handler) = start().await;
    let function = app.function("Area").expect("Area");
    let sys = Sys::new(function);
    let calls = (1..=100).map(|radius| {
        let request = CallerRequest {
            method: "GET".into(),
            url: format!("http://localhost:7071/api/area?radius={radius}"),
            headers: Vec::new(),
            body: None,
        };
        let body = http_invocation(function, &request, &[], &sys);
        let (handler, id) = (&handler, format!("c-{radius}"));
        async move {
            (
                radius,
                id.clone(),
                invoke(handler, function, &body, &id).await,
            )
        }
    });
    for (radius, id, outcome) in join_all(calls).await {
        assert_eq!(outcome.verdict, Verdict::Succeeded, "{id}");
        let response = outcome.response.expect("a response");
        let got: serde_json::Value = serde_json::from_slice(&response.body).expect("JSON");
        let radius = f64::from(radius);
        assert_eq!(
            got,
            serde_json::json!({"radius": radius, "area": std::f64::consts::PI * radius * radius}),
            "{id}"
        );
        assert!(
            !outcome.logs.is_empty()
                && outcome
                    .logs
                    .iter()
                    .all(|l| l.contains(&format!("\"{id}\""))),
            "{id}: {:?}",
            outcome.logs
        );
    }
    handler.stop().await;
}

#[rocket::async_test]
async fn an_unknown_function_fails_its_invocation_and_the_worker_goes_on() {
    let (app, handler) = start().await;
    let (worker, pid) = ready_worker(&handler).await;
    let request = InvocationRequest {
        invocation_id: "unknown-1".into(),
        function_id: "no-such-function".into(),
        ..InvocationRequest::default()
    };
    let answer = worker
        .channel
        .invoke(request, "[Function unknown]".into())
        .await
        .expect("an answer");
    let result = answer.response.result.expect("a result");
    assert_eq!(result.status, Status::Failure as i32);
    let message = result.exception.map(|e| e.message).unwrap_or_default();
    assert!(message.contains("no-such-function"), "{message}");
    // The same process answers the next invocation.
    let function = app.function("Area").expect("Area");
    let request = CallerRequest {
        method: "GET".into(),
        url: "http://localhost:7071/api/area?radius=2".into(),
        headers: Vec::new(),
        body: None,
    };
    let body = http_invocation(function, &request, &[], &Sys::new(function));
    let outcome = invoke(&handler, function, &body, "after").await;
    assert_eq!(outcome.verdict, Verdict::Succeeded);
    assert_eq!(outcome.response.map(|r| r.status), Some(200));
    assert_eq!(ready_worker(&handler).await.1, pid);
    handler.stop().await;
}

/// The host ends its side of the stream: the worker exits (and, as after
/// any worker error, the host starts another).
#[rocket::async_test]
async fn the_worker_exits_when_the_host_ends_the_stream() {
    let (_app, handler) = start().await;
    let (worker, pid) = ready_worker(&handler).await;
    worker.channel.end();
    assert!(
        wait_gone(pid, Duration::from_secs(5)).await.is_some(),
        "worker {pid} still runs after the host ended the stream"
    );
    handler.stop().await;
}

/// WorkerTerminate right behind 20 invocations: every one of them is
/// answered before the worker exits.
#[rocket::async_test]
async fn worker_terminate_lets_the_invocations_in_flight_finish() {
    let (app, handler) = start().await;
    let (worker, pid) = ready_worker(&handler).await;
    let function = app.function("Area").expect("Area");
    let sys = Sys::new(function);
    let calls = (1..=20).map(|radius| {
        let request = CallerRequest {
            method: "GET".into(),
            url: format!("http://localhost:7071/api/area?radius={radius}"),
            headers: Vec::new(),
            body: None,
        };
        let body = http_invocation(function, &request, &[], &sys);
        let (handler, id) = (&handler, format!("t-{radius}"));
        async move { invoke(handler, function, &body, &id).await }
    });
    // join_all sends every invocation on its first poll, before the
    // terminate is sent on the same ordered stream.
    let (outcomes, sent) =
        rocket::futures::future::join(join_all(calls), async { worker.channel.terminate() }).await;
    assert!(sent, "the worker handles WorkerTerminate");
    for outcome in outcomes {
        assert_eq!(outcome.verdict, Verdict::Succeeded);
        assert_eq!(outcome.response.map(|r| r.status), Some(200));
    }
    assert!(wait_gone(pid, Duration::from_secs(5)).await.is_some());
    handler.stop().await;
}

/// Stopping: WorkerTerminate, the worker ends its side of the stream, and
/// the host then ends its own at once, as the host's service does, so the
/// worker need not wait out its flush limit (1 s) before it exits.
#[rocket::async_test]
async fn stopping_the_host_ends_the_worker_without_its_flush_wait() {
    let (_app, handler) = start().await;
    let (_worker, pid) = ready_worker(&handler).await;
    let started = Instant::now();
    handler.stop().await;
    let took = started.elapsed();
    assert!(gone(pid), "worker {pid} still runs");
    assert!(took < Duration::from_millis(900), "took {took:?}");
    assert!(matches!(handler.state(), HandlerState::Stopped { .. }));
}

/// The host names the worker by what it sent: runtime `rust` with the
/// compiler's version, and the library's version.
#[rocket::async_test]
async fn the_host_names_the_worker_by_its_runtime_and_versions() {
    let (_app, handler) = start().await;
    let lines = handler.console.lines();
    let named = lines
        .iter()
        .find_map(|l| l.text.strip_prefix("[host] worker initialized (rust "))
        .and_then(|rest| rest.split_once(')'))
        .map(|(inside, _)| inside.to_owned())
        .unwrap_or_default();
    let (compiler, library) = named.split_once(", worker ").unwrap_or_default();
    let is_version = |text: &str| {
        text.split('.').count() == 3 && text.split('.').all(|part| part.parse::<u32>().is_ok())
    };
    assert!(is_version(compiler) && is_version(library), "{lines:#?}");
    handler.stop().await;
}
