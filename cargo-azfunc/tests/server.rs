//! The front door: HTTP functions translated both ways, the admin endpoint
//! and timers (docs/host-protocol.md: "host -> handler",
//! "handler -> host", "Non-HTTP triggers and output bindings").

mod support;

use std::time::Duration;

use cargo_azfunc::limits::ServerLimits;
use serde_json::json;
use support::{Serving, eventually, fake_app};

async fn serve(timers: bool) -> Serving {
    serve_app(fake_app(), timers).await
}

async fn serve_app(dir: tempfile::TempDir, timers: bool) -> Serving {
    support::serve(dir, timers, ServerLimits::default()).await
}

#[tokio::test]
async fn an_http_call_becomes_the_hosts_envelope_and_back() {
    let running = serve(false).await;
    let reply = running
        .caller
        .request_with(
            "POST",
            "/API/echo/7?a=1&a=2",
            &[
                ("Content-Type", "application/json"),
                ("X-Many", "one"),
                ("X-Many", "two"),
            ],
            br#"{"radius":2}"#,
            1024,
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.content_type.as_deref(),
        Some("application/json; charset=utf-8")
    );
    let seen = reply.json();
    assert_eq!(seen["path"], "/Echo");
    let envelope = &seen["envelope"];
    let req = &envelope["Data"]["req"];
    let port = running.caller.port();
    assert_eq!(
        req["Url"],
        format!("http://127.0.0.1:{port}/API/echo/7?a=1&a=2")
    );
    assert_eq!(req["Method"], "POST");
    assert_eq!(req["Query"], json!({"a": "1,2"}));
    assert_eq!(req["Params"], json!({"id": "7"}));
    assert_eq!(req["Headers"]["X-Many"], json!(["one", "two"]));
    assert_eq!(req["Body"], r#"{"radius":2}"#);
    // docs/host-protocol.md, "host -> handler": a JSON body's number as .NET text,
    // double-encoded; the last of a repeated query value.
    assert_eq!(envelope["Metadata"]["radius"], "\"2\"");
    assert_eq!(envelope["Metadata"]["a"], "\"2\"");
    assert_eq!(envelope["Metadata"]["Query"], json!({"a": "2"}));
    assert_eq!(envelope["Metadata"]["id"], "\"7\"");
    assert_eq!(envelope["Metadata"]["sys"]["MethodName"], "Echo");
    assert!(running.console.contains("[Echo "));
    assert!(running.console.contains("] echo"));
}

#[tokio::test]
async fn surprising_replies_reach_the_caller_as_the_host_sends_them() {
    let running = serve(false).await;
    let failed = running.caller.request("POST", "/api/Fail", b"{}").await;
    assert_eq!((failed.status, failed.body.len()), (500, 0));
    assert!(
        running
            .console
            .contains("[http-non-2xx] the handler answered 500")
    );
    assert!(running.console.contains("(log the host discards) lost"));
    assert!(
        eventually(Duration::from_secs(2), || running
            .console
            .contains("[handler] Fail failed on purpose"))
        .await
    );

    let text = running.caller.request("GET", "/api/Text", b"").await;
    assert_eq!((text.status, text.body.len()), (500, 0));
    assert!(
        running
            .console
            .contains("[not-json] the reply's content type is text/plain")
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_get_404() {
    let running = serve(false).await;
    assert_eq!(
        running.caller.request("GET", "/api/Nope", b"").await.status,
        404
    );
    assert_eq!(
        running.caller.request("GET", "/Echo", b"").await.status,
        404
    );
    assert_eq!(
        running.caller.request("PUT", "/api/echo", b"").await.status,
        404
    );
    assert!(running.console.contains("leave out PUT"));
    assert_eq!(running.caller.request("GET", "/", b"").await.status, 200);
}

#[tokio::test]
async fn the_admin_endpoint_invokes_a_queue_function() {
    let running = serve(false).await;
    let reply = running
        .caller
        .request(
            "POST",
            "/admin/functions/queue",
            br#"{"input": "{\"radius\":2}"}"#,
        )
        .await;
    assert_eq!(reply.status, 202);
    let console = &running.console;
    assert!(eventually(Duration::from_secs(5), || console.contains("] Succeeded")).await);
    // The message arrived double-encoded, the output is shown, and the
    // wrongly-cased output key is warned about.
    assert!(
        console.contains(r#"] queued "{\"radius\":2}""#),
        "{:?}",
        console.lines()
    );
    assert!(console.contains(r#"] queue areas <- {"radius":2}"#));
    assert!(
        console
            .contains(r#"[output-case] Outputs["Areas"] differs in case from the binding "areas""#)
    );

    let bad = running
        .caller
        .request("POST", "/admin/functions/Queue", b"not json")
        .await;
    assert_eq!(bad.status, 400);
    let unknown = running
        .caller
        .request("POST", "/admin/functions/Nope", b"{}")
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn timers_fire_on_their_schedule() {
    let running = serve(true).await;
    let console = &running.console;
    // "* * * * * *" fires every second.
    assert!(
        eventually(Duration::from_secs(4), || console.contains("] Tick ran")).await,
        "{:?}",
        console.lines()
    );
    assert!(console.contains("Executing (timer, due "));
    assert!(running.handler.pid().is_some());
}

#[tokio::test]
async fn invocations_after_the_handler_is_gone_fail_clearly() {
    let running = serve(false).await;
    running.handler.stop().await;
    let reply = running.caller.request("POST", "/api/echo", b"").await;
    assert_eq!(reply.status, 500);
    assert!(
        running
            .console
            .contains("Failed: the handler is not running: the handler was stopped")
    );
}

#[tokio::test]
async fn forwarding_mode_passes_requests_and_responses_through() {
    let dir = fake_app();
    support::write_file(
        dir.path(),
        "host.json",
        r#"{"customHandler":{"description":{"defaultExecutablePath":"handler.py"},"enableForwardingHttpRequest":true}}"#,
    );
    support::write_file(
        dir.path(),
        "Echo/function.json",
        r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","route":"echo/{id?}"},{"type":"http","direction":"out","name":"$return"},{"type":"queue","direction":"out","name":"copies","queueName":"copies"}]}"#,
    );
    let running = serve_app(dir, false).await;
    let reply = running.caller.request("POST", "/API/fail?x=1", b"{}").await;
    // The fake handler answers an unknown path with a bare envelope: the
    // caller gets it verbatim, no translation, at the caller's own path.
    assert_eq!(reply.status, 200, "{:?}", running.console.lines());
    assert_eq!(
        reply.json(),
        json!({"Outputs": {}, "Logs": ["API/fail?x=1 ran"]})
    );
    // A repeated key arrives once, its values comma-joined, re-encoded.
    let reply = running
        .caller
        .request("POST", "/api/fail?x=1&y=a+b&X=2", b"{}")
        .await;
    assert_eq!(reply.json()["Logs"], json!(["api/fail?x=1,2&y=a%20b ran"]));
    // The path the host forwards is Kestrel's: decoded, dot segments
    // removed (encoded dots too), then re-encoded.
    for (sent, forwarded) in [
        ("/api/x/../fail?x=1", "api/fail?x=1"),
        ("/api/x/%2E%2e/./fail", "api/fail"),
        ("/api/a%20b/../fail", "api/fail"),
        ("/api/fail/x/..", "api/fail/"),
    ] {
        let reply = running.caller.request("POST", sent, b"{}").await;
        assert_eq!(reply.status, 200, "{sent}: {:?}", running.console.lines());
        assert_eq!(
            reply.json()["Logs"],
            json!([format!("{forwarded} ran")]),
            "{sent}"
        );
    }
    // Only HTTP functions have public paths; the queue function is not one.
    let reply = running.caller.request("POST", "/api/Queue", b"{}").await;
    assert_eq!(reply.status, 404);
    // An HTTP function with more bindings than one trigger and one http
    // output keeps the envelope.
    let reply = running.caller.request("GET", "/api/echo/7", b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["envelope"]["Data"]["req"]["Params"]["id"], "7");
}

/// Behind `start --watch --useHttps`'s public port, which serves TLS
/// itself: a build's front door speaks plain HTTP, yet the URLs it hands
/// the handler say https, as the caller used.
#[tokio::test]
async fn a_front_door_behind_tls_hands_out_https_urls() {
    use cargo_azfunc::app::AppFolder;
    use cargo_azfunc::handler::client::{HostClient, free_port};
    use cargo_azfunc::handler::{Handler, HandlerOptions};
    use cargo_azfunc::host::server::Server;

    let dir = fake_app();
    let app = AppFolder::load(dir.path()).expect("the fake app");
    let handler = std::sync::Arc::new(
        Handler::start(&app, HandlerOptions::default())
            .await
            .expect("the handler starts"),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", free_port()))
        .await
        .expect("a port");
    let console = cargo_azfunc::console::Console::quiet();
    let server =
        Server::start_behind_tls(app, handler.clone(), listener, console, false).expect("serving");
    let port = server.port();
    let reply = HostClient::new(port)
        .request("GET", "/api/echo/1", b"")
        .await;
    assert_eq!(reply.status, 200);
    let seen = reply.json();
    assert_eq!(
        seen["envelope"]["Data"]["req"]["Url"],
        format!("https://127.0.0.1:{port}/api/echo/1")
    );
    server.shutdown();
    handler.stop().await;
}
