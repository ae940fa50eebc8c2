//! A panic in one invocation fails that invocation alone: the others, on
//! the same connections and at the same moment, get their answers, and the
//! handler keeps serving. (The release profile keeps unwinding on for this.)

mod common;

use std::panic;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use azure_functions_rocket::{
    Binding, Error, Function, HttpRequest, HttpResponse, Outputs, Registry,
};
use cargo_azfunc::app::AppFolder;
use cargo_azfunc::handler::client::HostClient;
use cargo_azfunc::host::envelope::{
    QueueMessage, Sys, Verdict, Written, queue_invocation, read_reply,
};
use common::spawn_rocket;
use serde_json::json;

/// What the test-only route panics with, so that the panic hook can keep
/// these expected panics out of the test output.
const PANIC_MESSAGE: &str = "test-only panic inside an invocation";

/// A test-only function that panics midway, after an await, as a bug in a
/// real function would.
async fn panicking(_: HttpRequest) -> Result<HttpResponse, Error> {
    rocket::tokio::task::yield_now().await;
    panic!("{PANIC_MESSAGE}");
}

#[rocket::async_test]
async fn a_panicking_invocation_does_not_take_others_down() {
    let default_hook = Arc::new(panic::take_hook());
    let hook = default_hook.clone();
    let expected_panics = Arc::new(AtomicUsize::new(0));
    let counted = expected_panics.clone();
    panic::set_hook(Box::new(move |info| {
        if info.payload_as_str() == Some(PANIC_MESSAGE) {
            counted.fetch_add(1, Ordering::Relaxed);
        } else {
            hook(info);
        }
    }));

    let registry = rusty_function::registry().with(Function::http("Panicking", panicking));
    let app = spawn_rocket(azure_functions_rocket::app(registry)).await;
    let host = HostClient::new(app.port);

    let calls: Vec<_> = (0..200)
        .map(|i| {
            let host = host.clone();
            rocket::tokio::spawn(async move {
                if i % 2 == 0 {
                    let reply = host.invoke("Panicking", b"{}", &format!("p-{i}"), 1).await;
                    (i, reply)
                } else {
                    let envelope = json!({
                        "Data": {"req": {"Body": format!(r#"{{"radius": {i}}}"#)}},
                        "Metadata": {},
                    });
                    let envelope = serde_json::to_vec(&envelope).unwrap();
                    let reply = host
                        .invoke("RustyFunction", &envelope, &format!("n-{i}"), 5)
                        .await;
                    (i, reply)
                }
            })
        })
        .collect();

    for call in calls {
        let (i, reply) = call.await.expect("the client task finishes");
        if i % 2 == 0 {
            // The layer turns the panic into a 500 inside the envelope.
            assert_eq!(
                reply.caller(),
                (500, json!({"error": "the function failed unexpectedly"})),
                "{i}"
            );
            assert_eq!(
                reply.logs(),
                [format!(
                    r#"[ERROR] Panicking invocation="p-{i}" status=500 error="the function failed unexpectedly""#
                )]
            );
        } else {
            let radius = f64::from(i);
            assert_eq!(
                reply.caller(),
                (
                    200,
                    json!({"radius": radius, "area": std::f64::consts::PI * radius * radius})
                ),
                "{i}"
            );
        }
    }
    assert_eq!(expected_panics.load(Ordering::Relaxed), 100);

    // Still serving, on the pooled connections and on a new one.
    let reply = host
        .invoke(
            "RustyFunction",
            br#"{"Data":{"req":{"Body":"{\"radius\":1}"}},"Metadata":{}}"#,
            "after",
            8,
        )
        .await;
    assert_eq!(reply.caller().0, 200);
    let fresh = HostClient::new(app.port);
    assert_eq!(fresh.request("GET", "/", b"").await.status, 200);

    drop(app);
    let _ = panic::take_hook();
    panic::set_hook(Box::new(move |info| default_hook(info)));
}

async fn panics(_: azure_functions_rocket::QueueMessage) -> Result<Outputs, Error> {
    panic!("a bug in a queue function")
}

#[rocket::async_test]
async fn a_panicking_queue_function_fails_its_invocation_for_the_host() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/queue_area");
    let app = AppFolder::load(&root).expect("the example app loads");
    let function = app.function("QueueArea").expect("QueueArea");
    let registry = Registry::new().with(
        Function::queue("QueueArea", panics)
            .queue_name("radii")
            .output(Binding::queue("areas", "areas")),
    );
    let served = spawn_rocket(azure_functions_rocket::app(registry)).await;
    let client = HostClient::new(served.port);
    let body = queue_invocation(function, &QueueMessage::new("2"), &Sys::new(function));
    let bytes = serde_json::to_vec(&body).expect("JSON");
    let reply = client.invoke("QueueArea", &bytes, "p-1", 64).await;
    assert_eq!(reply.status, 500);
    let outcome = read_reply(function, &reply);
    assert!(
        matches!(outcome.verdict, Verdict::Failed(_)),
        "{:?}",
        outcome.verdict
    );
    assert!(outcome.outputs.iter().all(|o| o.value == Written::Nothing));
}
