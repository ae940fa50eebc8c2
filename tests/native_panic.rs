//! A panic in one invocation of the native worker fails that invocation
//! alone, under cargo-azfunc's gRPC host: the worker is this test binary,
//! started through a worker.config.json whose arguments run only
//! [`worker_with_a_panicking_function`] and end with `--`, so that the
//! host's own arguments reach it as test-name filters that match nothing.
#![cfg(feature = "native")]

use std::path::Path;

use azure_functions_rocket::{Error, Function, HttpRequest, HttpResponse};
use cargo_azfunc::host::served::ServedApp;
use rocket::futures::future::join_all;
use serde_json::json;

/// Set in the worker's environment (local.settings.json).
const WORKER: &str = "PANIC_TEST_WORKER";

async fn panicking(_: HttpRequest) -> Result<HttpResponse, Error> {
    rocket::tokio::task::yield_now().await;
    panic!("test-only panic inside an invocation");
}

/// The worker: the blog's registry and a function that panics midway.
#[test]
#[ignore = "run by cargo-azfunc as a language worker"]
fn worker_with_a_panicking_function() {
    if std::env::var_os(WORKER).is_none() {
        return;
    }
    let registry = rusty_function::registry().with(Function::http("Panicking", panicking));
    let _ = azure_functions_rocket::run(registry);
}

fn write(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
    std::fs::write(path, text).expect("written");
}

#[rocket::async_test]
async fn a_panic_fails_only_its_invocation_and_the_worker_serves_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let exe = std::env::current_exe().expect("the test binary");
    write(root, "host.json", r#"{"version": "2.0"}"#);
    write(
        root,
        "local.settings.json",
        &json!({"IsEncrypted": false, "Values": {
            "FUNCTIONS_WORKER_RUNTIME": "rustpanic",
            "languageWorkers__rustpanic__workerDirectory": "worker",
            WORKER: "1",
        }})
        .to_string(),
    );
    write(
        root,
        "worker/worker.config.json",
        &json!({"description": {
            "language": "rustpanic",
            "defaultExecutablePath": exe,
            "arguments": ["worker_with_a_panicking_function", "--exact", "--ignored", "--nocapture", "--"],
            "workerIndexing": "true",
        }})
        .to_string(),
    );
    let app = ServedApp::start(root, None).await.expect("served");
    let (_, pid) = app.handler.ready().await.expect("ready");
    let calls = (0..100).map(|i| {
        let caller = app.caller.clone();
        async move {
            if i % 2 == 0 {
                (i, caller.request("GET", "/api/Panicking", b"").await)
            } else {
                let path = format!("/api/RustFunction?radius={i}");
                (i, caller.request("GET", &path, b"").await)
            }
        }
    });
    for (i, reply) in join_all(calls).await {
        if i % 2 == 0 {
            // The host's empty 500 for a failed invocation.
            assert_eq!((reply.status, reply.body.len()), (500, 0), "{i}");
        } else {
            let radius = f64::from(i);
            assert_eq!(reply.status, 200, "{i}");
            assert_eq!(
                reply.json(),
                json!({"radius": radius, "area": std::f64::consts::PI * radius * radius}),
                "{i}"
            );
        }
    }
    let failures = app
        .console
        .lines()
        .into_iter()
        .filter(|l| l.text.contains("the function failed unexpectedly"))
        .count();
    assert!(failures >= 50, "{:#?}", app.console.lines());
    // The same worker process answers on.
    let after = app
        .caller
        .request("GET", "/api/RustFunction?radius=1", b"")
        .await;
    assert_eq!(after.status, 200);
    assert_eq!(app.handler.ready().await.expect("ready").1, pid);
}
