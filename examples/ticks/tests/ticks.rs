//! The example app `examples/ticks`, run as the host runs it in each mode
//! that forwards callers' requests: its built binary started by the host
//! stand-in (`cargo-azfunc`), which forwards (whole) or proxies (streamed)
//! callers' requests to it, as the host does.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cargo_azfunc::console::Console;
use cargo_azfunc::handler::Handler;
use cargo_azfunc::handler::client::{HostClient, free_port};
use cargo_azfunc::host::served::ServedApp;
use cargo_azfunc::host::server::Server;
use cargo_azfunc::process::Process;
use http_body_util::BodyExt;

/// The example's folder with host.json's `customHandler` flag `setting`.
fn app_folder(setting: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("a temporary folder");
    let source = Path::new(env!("CARGO_MANIFEST_DIR"));
    for function in ["Hello", "Ticks"] {
        std::fs::create_dir(root.path().join(function)).expect("a function folder");
        let file = format!("{function}/function.json");
        std::fs::copy(source.join(&file), root.path().join(&file)).expect("function.json");
    }
    let host = std::fs::read_to_string(source.join("host.json")).expect("host.json");
    let host = host.replace(r#""enableProxyingHttpRequest": true"#, setting);
    std::fs::write(root.path().join("host.json"), host).expect("host.json");
    root
}

async fn serve(root: &Path) -> (HostClient, Server, Arc<Handler>, Console) {
    let executable = Some(env!("CARGO_BIN_EXE_ticks").into());
    let app = ServedApp::start(root, executable)
        .await
        .expect("the app is served");
    (app.caller, app.server, app.handler, app.console)
}

/// The pieces of a response body as they arrive, each with when.
async fn pieces(caller: &HostClient, path: &str) -> (u16, Vec<(Duration, String)>) {
    let started = Instant::now();
    let response = caller
        .open(
            "GET",
            path,
            &[],
            cargo_azfunc::handler::client::Chunked::empty(),
        )
        .await
        .expect("a response");
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut pieces = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("the body goes on").into_data() {
            pieces.push((
                started.elapsed(),
                String::from_utf8_lossy(&data).into_owned(),
            ));
        }
    }
    (status, pieces)
}

/// The events' text, without Rocket's heartbeat comments (`:`).
fn events(pieces: &[(Duration, String)]) -> String {
    let text: String = pieces.iter().map(|(_, piece)| piece.as_str()).collect();
    text.replace(":\n", "")
}

#[rocket::async_test]
async fn proxying_streams_the_apps_own_route_piece_by_piece() {
    let root = app_folder(r#""enableProxyingHttpRequest": true"#);
    let (caller, _server, _handler, console) = serve(root.path()).await;
    let (status, pieces) = pieces(&caller, "/api/ticks?count=4").await;
    assert_eq!(status, 200, "{:#?}", console.lines());
    let text = events(&pieces);
    assert_eq!(
        text,
        "data:tick 1\n\ndata:tick 2\n\ndata:tick 3\n\ndata:tick 4\n\n"
    );
    // The first event reached the caller while the route was still
    // sending: 600 ms of pauses came after it.
    let (first, last) = (pieces[0].0, pieces[pieces.len() - 1].0);
    assert!(pieces.len() >= 4, "{pieces:?}");
    assert!(last - first >= Duration::from_millis(500), "{pieces:?}");

    // The registry's function is served at its public path, in any case.
    let hello = caller.request("GET", "/API/Hello/Atlas", b"").await;
    assert_eq!(
        (hello.status, hello.body.as_slice()),
        (200, &b"hello, Atlas"[..])
    );
    assert_eq!(
        hello.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
    let hello = caller.request("GET", "/api/hello", b"").await;
    assert_eq!(hello.body, b"hello, world");
}

#[rocket::async_test]
async fn forwarding_passes_the_whole_stream_back_at_once() {
    let root = app_folder(r#""enableForwardingHttpRequest": true"#);
    let (caller, _server, _handler, console) = serve(root.path()).await;
    let (status, pieces) = pieces(&caller, "/api/ticks?count=3").await;
    assert_eq!(status, 200, "{:#?}", console.lines());
    let text = events(&pieces);
    assert_eq!(text, "data:tick 1\n\ndata:tick 2\n\ndata:tick 3\n\n");
    assert_eq!(
        pieces.len(),
        1,
        "the host reads a forwarded reply whole: {pieces:?}"
    );
    let hello = caller.request("GET", "/api/hello/you", b"").await;
    assert_eq!(hello.body, b"hello, you");
}

/// As the native language worker, the worker serves HTTP itself
/// (`HttpUri`) and the host proxies callers to it: the app's own streaming
/// route is reached (read whole by cargo-azfunc, docs/native-worker-host.md),
/// and the host indexed every binding the registry declares.
#[cfg(feature = "native")]
#[rocket::async_test]
async fn as_a_native_worker_the_apps_own_route_is_reached_over_http_uri() {
    use cargo_azfunc::host::served::Road;
    let root = app_folder(r#""enableProxyingHttpRequest": true"#);
    let executable = Some(env!("CARGO_BIN_EXE_ticks").into());
    let app = ServedApp::start_on(root.path(), executable, false, Road::Native)
        .await
        .expect("the app is served");
    let indexed = app.handler.indexed_functions().expect("the worker indexed");
    let received: Vec<_> = indexed
        .iter()
        .map(|f| (f.name.clone(), f.bindings.clone()))
        .collect();
    let declared: Vec<_> = ticks::registry()
        .function_jsons()
        .map(|(name, json)| (name.to_owned(), json.bindings))
        .collect();
    assert_eq!(received, declared);

    let (status, pieces) = pieces(&app.caller, "/api/ticks?count=3").await;
    assert_eq!(status, 200, "{:#?}", app.console.lines());
    assert_eq!(
        events(&pieces),
        "data:tick 1\n\ndata:tick 2\n\ndata:tick 3\n\n"
    );
    let hello = app.caller.request("GET", "/API/Hello/Atlas", b"").await;
    assert_eq!(
        (hello.status, hello.body.as_slice()),
        (200, &b"hello, Atlas"[..])
    );
}

#[test]
fn envelope_mode_cannot_serve_a_route_of_the_apps_own_and_says_so() {
    let root = app_folder(r#""enableProxyingHttpRequest": false"#);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ticks"))
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", free_port().to_string())
        .env("FUNCTIONS_APP_ROOT_PATH", root.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut handler = Process { child };
    let status = handler
        .wait_exit(Duration::from_secs(10))
        .expect("exits at once");
    assert_eq!(status.code(), Some(1));
    let (_, stderr) = handler.output();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[0],
        r#"ticks: Ticks/function.json: "Ticks" is served by its own Rocket routes, which the host calls only with "enableForwardingHttpRequest": true or "enableProxyingHttpRequest": true under "customHandler" in host.json; host.json has neither enableForwardingHttpRequest nor enableProxyingHttpRequest"#,
        "{stderr}"
    );
    assert_eq!(lines.len(), 2, "{stderr}");
}
