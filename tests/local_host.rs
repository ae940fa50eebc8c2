//! This app end to end through the project's host stand-in, `cargo_azfunc`:
//! the built binary started from the app folder as the host starts it, its
//! HTTP function served at the route in `RustyFunction/function.json`, and
//! the answers README promises to callers. Each test runs it both as a
//! custom handler and, built with `--features native`, as the native
//! language worker under the host's gRPC side: the same assertions.

use std::path::Path;
use std::sync::Arc;

use cargo_azfunc::app::AppFolder;
use cargo_azfunc::console::{Console, Level};
use cargo_azfunc::handler::client::{HostClient, HttpReply, free_port};
use cargo_azfunc::handler::{Handler, HandlerOptions};
use cargo_azfunc::host::envelope::{Sys, Verdict, http_invocation};
use cargo_azfunc::host::invocation::{http_request_for_input, invoke, report};
use cargo_azfunc::host::server::Server;
use rocket::tokio::net::TcpListener;
use serde_json::Value;

/// What README promises for a radius of 2, byte for byte.
const AREA_OF_2: &str = r#"{"radius":2.0,"area":12.566370614359172}"#;

/// The repository root (its `host.json`, `local.settings.json` and
/// `RustyFunction/function.json`), with the binary cargo built for the tests.
/// Dropping the handler kills it (`handler.stop()` would wait for Rocket's
/// grace period while the host's pooled connections stay open).
async fn start(console: &Console, road: Road) -> (AppFolder, Arc<Handler>) {
    let mut app =
        AppFolder::load(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the app folder loads");
    if let Road::Native = road {
        app = app.into_native();
    }
    let options = HandlerOptions {
        executable: Some(env!("CARGO_BIN_EXE_rusty_function").into()),
        console: console.clone(),
        ..HandlerOptions::default()
    };
    let handler = Handler::start(&app, options)
        .await
        .expect("the handler starts");
    // A worker declares its functions: from here on they are the ones used.
    handler.adopt_functions(&mut app);
    (app, Arc::new(handler))
}

/// How the host runs the app's binary.
#[derive(Clone, Copy, Debug)]
enum Road {
    CustomHandler,
    #[cfg_attr(not(feature = "native"), allow(dead_code))]
    Native,
}

/// Each test in both modes: `name` as a custom handler, `name_native` as
/// the native worker (with `--features native`).
macro_rules! both_roads {
    ($name:ident, $native:ident, $body:ident) => {
        #[rocket::async_test]
        async fn $name() {
            $body(Road::CustomHandler).await;
        }

        #[cfg(feature = "native")]
        #[rocket::async_test]
        async fn $native() {
            $body(Road::Native).await;
        }
    };
}

both_roads!(
    callers_get_the_area_at_api_rust_function_through_the_host,
    callers_get_the_area_at_api_rust_function_through_the_host_native,
    callers_get_the_area
);
both_roads!(
    invoke_posts_the_input_and_shows_what_the_host_logs,
    invoke_posts_the_input_and_shows_what_the_host_logs_native,
    invoke_with_input
);

/// The worker's functions as the host indexed them: every binding the
/// registry declares, RustyFunction's as its hand-kept function.json says.
#[cfg(feature = "native")]
#[rocket::async_test]
async fn the_host_indexed_every_binding_the_registry_declares() {
    let (_app, handler) = start(&Console::quiet(), Road::Native).await;
    let indexed = handler.indexed_functions().expect("the worker indexed");
    let received: Vec<_> = indexed
        .iter()
        .map(|f| (f.name.clone(), f.bindings.clone()))
        .collect();
    let declared: Vec<_> = rusty_function::registry()
        .function_jsons()
        .map(|(name, json)| (name.to_owned(), json.bindings))
        .collect();
    assert_eq!(received, declared);
    let folder = AppFolder::load(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("loads");
    let kept = folder.function("RustyFunction").expect("RustyFunction");
    assert_eq!(received, [(kept.name.clone(), kept.bindings.clone())]);
}

#[track_caller]
fn assert_json(reply: &HttpReply, status: u16) -> Value {
    assert_eq!(
        reply.status,
        status,
        "{:?}",
        String::from_utf8_lossy(&reply.body)
    );
    let media_type = reply.content_type.as_deref().unwrap_or("");
    assert!(
        media_type.starts_with("application/json"),
        "content type {media_type:?}"
    );
    reply.json()
}

async fn callers_get_the_area(road: Road) {
    let console = Console::quiet();
    let (app, handler) = start(&console, road).await;
    // free_port, not port 0: it never hands out the handler's port.
    let listener = TcpListener::bind(("127.0.0.1", free_port()))
        .await
        .expect("a free port");
    let server =
        Server::start(app, handler.clone(), listener, console.clone(), false).expect("serves");
    let caller = HostClient::new(server.port());

    let posted = caller
        .request_with(
            "POST",
            "/api/RustFunction",
            &[("Content-Type", "application/json")],
            br#"{"radius": 2}"#,
            64,
        )
        .await;
    assert_json(&posted, 200);
    assert_eq!(String::from_utf8_lossy(&posted.body), AREA_OF_2);

    // The host sends binary and multipart bodies base64-encoded; the
    // function must get the caller's bytes back, not the base64 text.
    for content_type in [
        "application/octet-stream",
        "multipart/form-data; boundary=x",
    ] {
        let binary = caller
            .request_with(
                "POST",
                "/api/RustFunction",
                &[("Content-Type", content_type)],
                br#"{"radius": 2}"#,
                64,
            )
            .await;
        assert_json(&binary, 200);
        assert_eq!(
            String::from_utf8_lossy(&binary.body),
            AREA_OF_2,
            "{content_type}"
        );
    }

    let got = caller
        .request("GET", "/api/RustFunction?radius=2", b"")
        .await;
    assert_json(&got, 200);
    assert_eq!(String::from_utf8_lossy(&got.body), AREA_OF_2);

    for (method, path, body) in [
        ("POST", "/api/RustFunction", &br#"{"radius": -1}"#[..]),
        ("POST", "/api/RustFunction", br#"{"radius": "two"}"#),
        ("GET", "/api/RustFunction?radius=abc", b""),
        ("GET", "/api/RustFunction", b""),
    ] {
        let refused = caller.request(method, path, body).await;
        let json = assert_json(&refused, 400);
        let error = json["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("radius") && json.as_object().map(|o| o.len()) == Some(1),
            "{method} {path} {:?}: {json}",
            String::from_utf8_lossy(body)
        );
    }
    // A custom handler's `Logs` are all information; a worker's log
    // records carry their level: the 400s' lines are warnings.
    let unusual: Vec<_> = console
        .lines()
        .into_iter()
        .filter(|line| line.level != Level::Info)
        .collect();
    let expected = match road {
        Road::CustomHandler => 0,
        Road::Native => 4,
    };
    assert!(
        unusual.len() == expected
            && unusual
                .iter()
                .all(|line| line.level == Level::Warning && line.text.contains("status=400")),
        "{:#?}",
        console.lines()
    );
}

/// What `cargo azfunc invoke RustyFunction --data-file` does with
/// `{"radius": 2}`, through the library.
async fn invoke_with_input(road: Road) {
    let console = Console::quiet();
    let (app, handler) = start(&console, road).await;
    let function = app.function("RustyFunction").expect("RustyFunction");
    let (request, params) = http_request_for_input(
        function,
        &app.host.route_prefix,
        "localhost:7071",
        br#"{"radius": 2}"#,
    );
    assert_eq!(request.url, "http://localhost:7071/api/RustFunction");
    let body = http_invocation(function, &request, &params, &Sys::new(function));
    let outcome = invoke(&handler, function, &body, "cli-1").await;
    report(&console, function, "cli-1", &outcome);

    assert_eq!(outcome.verdict, Verdict::Succeeded);
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    let response = outcome.response.expect("an HTTP answer");
    assert_eq!(response.status, 200);
    let media_type = response.content_type().unwrap_or("");
    assert!(
        media_type.starts_with("application/json"),
        "content type {media_type:?}"
    );
    assert_eq!(String::from_utf8_lossy(&response.body), AREA_OF_2);
    // The invocation's lines; a worker's status answer may come among them.
    let printed: Vec<String> = console
        .lines()
        .into_iter()
        .map(|l| l.text)
        .filter(|text| !text.starts_with("[host] worker status"))
        .collect();
    // The host shows a worker's information records without their level.
    let level = match road {
        Road::CustomHandler => "[INFO] ",
        Road::Native => "",
    };
    let expected = [
        format!(r#"[RustyFunction cli-1] {level}RustyFunction invocation="cli-1" radius=2 area=12.566370614359172 status=200"#),
        r#"[RustyFunction cli-1] http $return <- 200 application/json; charset=utf-8 {"radius":2.0,"area":12.566370614359172}"#.to_owned(),
        "[RustyFunction cli-1] Succeeded".to_owned(),
    ];
    assert!(printed.ends_with(&expected), "{printed:#?}");
}
