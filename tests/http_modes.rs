//! RustFunction in each of the host's three HTTP modes, end to end through
//! the project's host stand-in (`cargo_azfunc`), which plays each mode as the
//! host does (docs/host-protocol.md, "host -> handler", "handler -> host", "Forwarding mode" and "Newer host options"): the envelope, the
//! caller's request forwarded as it came, and the same with the response
//! streamed back. Callers get the same statuses and bodies in all three.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cargo_azfunc::console::Console;
use cargo_azfunc::handler::Handler;
use cargo_azfunc::handler::client::{HostClient, free_port};
use cargo_azfunc::host::served::ServedApp;
use cargo_azfunc::host::server::Server;
use common::start_binary;

/// The host.json settings of each mode.
const MODES: [(&str, &str); 3] = [
    ("envelope", r#""enableForwardingHttpRequest": false"#),
    ("forwarding", r#""enableForwardingHttpRequest": true"#),
    ("proxying", r#""enableProxyingHttpRequest": true"#),
];

/// The app folder as published, with host.json's `customHandler` taking
/// `setting`, and the route prefix `prefix` when given.
fn app_folder(setting: &str, prefix: Option<&str>) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("a temporary folder");
    let source = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir(root.path().join("RustyFunction")).expect("the function folder");
    std::fs::copy(
        source.join("RustyFunction/function.json"),
        root.path().join("RustyFunction/function.json"),
    )
    .expect("function.json");
    let extensions = prefix.map_or(String::new(), |prefix| {
        format!(r#","extensions": {{"http": {{"routePrefix": "{prefix}"}}}}"#)
    });
    let host = format!(
        r#"{{"version": "2.0", "customHandler": {{"description": {{"defaultExecutablePath": "rusty_function"}}, {setting}}}{extensions}}}"#
    );
    std::fs::write(root.path().join("host.json"), host).expect("host.json");
    root
}

/// The built binary under the host stand-in, serving `root`; the caller's
/// client, and what keeps it all running.
async fn serve(root: &Path) -> (HostClient, Server, Arc<Handler>, Console) {
    let executable = Some(env!("CARGO_BIN_EXE_rusty_function").into());
    let app = ServedApp::start(root, executable)
        .await
        .expect("the app is served");
    (app.caller, app.server, app.handler, app.console)
}

/// A caller's status, media type and body.
type Answer = (u16, String, String);

/// A call (method, path, content type, body) and the status and body the
/// caller must get.
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static [u8],
    u16,
    &'static str,
);

async fn call(
    caller: &HostClient,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Answer {
    let headers = [("Content-Type", content_type)];
    let headers = if content_type.is_empty() {
        &[][..]
    } else {
        &headers[..]
    };
    let reply = caller.request_with(method, path, headers, body, 64).await;
    let media_type = reply
        .content_type
        .as_deref()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    (
        reply.status,
        media_type,
        String::from_utf8_lossy(&reply.body).into_owned(),
    )
}

#[rocket::async_test]
async fn rust_function_answers_alike_in_all_three_modes() {
    const AREA_OF_2: &str = r#"{"radius":2.0,"area":12.566370614359172}"#;
    const JSON: &str = "application/json";
    let cases: [Case; 9] = [
        (
            "POST",
            "/api/RustFunction",
            JSON,
            br#"{"radius": 2}"#,
            200,
            AREA_OF_2,
        ),
        ("GET", "/api/RustFunction?radius=2", "", b"", 200, AREA_OF_2),
        ("GET", "/API/rustfunction?radius=2", "", b"", 200, AREA_OF_2),
        (
            "POST",
            "/api/RustFunction",
            "application/octet-stream",
            br#"{"radius": 2}"#,
            200,
            AREA_OF_2,
        ),
        (
            "POST",
            "/api/RustFunction",
            JSON,
            br#"{"radius": -1}"#,
            400,
            r#"{"error":"radius must not be negative, got -1"}"#,
        ),
        (
            "GET",
            "/api/RustFunction?radius=1&radius=2",
            "",
            b"",
            400,
            r#"{"error":"radius was given more than once (\"1,2\"); give it once"}"#,
        ),
        (
            "GET",
            "/api/RustFunction",
            "",
            b"",
            400,
            r#"{"error":"missing radius: send {\"radius\": 2.5} as the JSON body, or ?radius=2.5"}"#,
        ),
        (
            "PUT",
            "/api/RustFunction",
            JSON,
            br#"{"radius": 2}"#,
            404,
            "",
        ),
        ("GET", "/api/Nothing", "", b"", 404, ""),
    ];
    for (mode, setting) in MODES {
        let root = app_folder(setting, None);
        let (caller, _server, _handler, console) = serve(root.path()).await;
        for (method, path, content_type, body, status, expected) in cases {
            let (got, media_type, text) = call(&caller, method, path, content_type, body).await;
            let case = format!(
                "{mode}: {method} {path} {:?}",
                String::from_utf8_lossy(body)
            );
            assert_eq!(
                (got, text.as_str()),
                (status, expected),
                "{case}\n{:#?}",
                console.lines()
            );
            if !expected.is_empty() {
                assert_eq!(media_type, JSON, "{case}");
            }
        }
        // The host stand-in played the mode: forwarded requests say so.
        let forwarded = console.lines().iter().any(|line| {
            line.text.contains("Executing (forwarded") || line.text.contains("Executing (proxied")
        });
        assert_eq!(
            forwarded,
            mode != "envelope",
            "{mode}: {:#?}",
            console.lines()
        );
    }
}

#[rocket::async_test]
async fn an_empty_route_prefix_serves_the_bare_path_in_each_forwarding_mode() {
    for (mode, setting) in &MODES[1..] {
        let root = app_folder(setting, Some(""));
        let (caller, _server, _handler, _console) = serve(root.path()).await;
        let (status, _, body) = call(&caller, "GET", "/RustFunction?radius=2", "", b"").await;
        assert_eq!(status, 200, "{mode}");
        assert_eq!(
            body, r#"{"radius":2.0,"area":12.566370614359172}"#,
            "{mode}"
        );
    }
}

#[test]
fn a_route_the_handler_cannot_serve_stops_it_at_start_up_with_one_line() {
    let root = app_folder(r#""enableProxyingHttpRequest": true"#, None);
    let function = root.path().join("RustyFunction/function.json");
    let json = std::fs::read_to_string(&function).expect("function.json");
    std::fs::write(
        &function,
        json.replace(
            r#""route": "RustFunction""#,
            r#""route": "area/{unit:regex(^(?=c)cm$)}""#,
        ),
    )
    .expect("a route with a regex constraint");
    let mut handler = start_binary(&[
        ("FUNCTIONS_CUSTOMHANDLER_PORT", &free_port().to_string()),
        (
            "FUNCTIONS_APP_ROOT_PATH",
            root.path().to_str().expect("UTF-8"),
        ),
    ]);
    let status = handler
        .wait_exit(Duration::from_secs(10))
        .expect("exits at once");
    assert_eq!(status.code(), Some(1));
    let (stdout, stderr) = handler.output();
    assert_eq!(stdout, "");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with(r#"rusty_function: RustyFunction/function.json: the route "area/{unit:regex(^(?=c)cm$)}": {unit:regex(^(?=c)cm$)}: the constraint "regex(^(?=c)cm$)": the group construct (?=...) (a lookahead) is not one the regex crate matches as .NET does"#)
            && lines[0].ends_with(r#"with "enableProxyingHttpRequest": true in host.json the handler serves this function at that path itself"#),
        "{stderr}"
    );
}
