//! Replies checked before they reach the caller, as the host treats them
//! (docs/host-protocol.md, "handler -> host"): what the host cannot send gets its answer
//! (an empty 500) and a warning, never a broken connection; and nothing the
//! handler sends reaches the terminal as control characters.

mod support;

use std::path::Path;
use std::time::Duration;

use local_host::client::{HostClient, HttpReply, free_port};
use local_host::limits::ServerLimits;
use local_host::process::Process;
use serde_json::{Value, json};
use support::{Serving, fake_app};

const BIN: &str = env!("CARGO_BIN_EXE_local-host");

async fn serve() -> Serving {
    support::serve(fake_app(), false, ServerLimits::default()).await
}

impl Serving {
    /// The caller's response when the handler answers `envelope` with
    /// `content_type`.
    async fn answer(&self, content_type: &str, envelope: Value) -> HttpReply {
        let wanted = json!({"content_type": content_type, "envelope": envelope});
        self.caller
            .try_request_with(
                "POST",
                "/api/Reply",
                &[("Content-Type", "application/json")],
                wanted.to_string().as_bytes(),
                4096,
            )
            .await
            .expect("the caller gets a whole response")
    }

    async fn returns(&self, return_value: Value) -> HttpReply {
        self.answer(
            "application/json",
            json!({"Outputs": {}, "Logs": [], "ReturnValue": return_value}),
        )
        .await
    }
}

#[tokio::test]
async fn a_wrong_content_length_gets_500_and_a_warning_not_a_broken_connection() {
    let running = serve().await;
    for declared in ["3", "50", "many"] {
        let reply = running
            .returns(json!({"statusCode": 200, "headers": {"Content-Length": declared}, "body": "hello"}))
            .await;
        assert_eq!((reply.status, reply.body.len()), (500, 0), "{declared}");
    }
    assert!(running.console.contains(
        "[content-length] ReturnValue.headers says Content-Length: 3, but the body is 5 bytes"
    ));
    let right = running
        .returns(json!({"headers": {"Content-Length": "5"}, "body": "hello"}))
        .await;
    assert_eq!(
        (right.status, right.body.as_slice()),
        (200, b"hello".as_slice())
    );
}

#[tokio::test]
async fn statuses_the_host_cannot_send_get_500_and_a_warning() {
    let running = serve().await;
    for status in [
        json!(101),
        json!("99999"),
        json!(99),
        json!(4_294_967_296_i64),
    ] {
        let reply = running
            .returns(json!({"statusCode": status, "body": "x"}))
            .await;
        assert_eq!((reply.status, reply.body.len()), (500, 0), "{status}");
    }
    assert!(
        running
            .console
            .contains("[bad-status] ReturnValue has the status 101")
    );
    assert!(
        running
            .console
            .contains("[bad-status] ReturnValue has the status 99999")
    );
    // statusCode: null blocks status: 200.
    let blocked = running
        .returns(json!({"statusCode": null, "status": 404, "body": "x"}))
        .await;
    assert_eq!(blocked.status, 200);
    let numeric_string = running
        .returns(json!({"statusCode": "201", "body": "x"}))
        .await;
    assert_eq!(numeric_string.status, 201);
}

#[tokio::test]
async fn header_values_must_be_strings_the_host_can_send() {
    let running = serve().await;
    let null = running
        .returns(json!({"headers": {"X-Null": null}, "body": "x"}))
        .await;
    assert_eq!((null.status, null.body.len()), (500, 0));
    assert!(
        running
            .console
            .contains("[null-header] ReturnValue.headers[\"X-Null\"] is null")
    );
    let split = running
        .returns(json!({"headers": {"X-A": "a\r\nX-Forged: b"}, "body": "x"}))
        .await;
    assert_eq!(split.status, 500);
    assert!(split.headers.get("x-forged").is_none());
    assert!(running.console.contains("[bad-header]"));
    let boolean = running
        .returns(json!({"headers": {"X-Flag": true}, "body": "x"}))
        .await;
    assert_eq!(
        boolean.headers.get("x-flag").map(|v| v.as_bytes()),
        Some(b"True".as_slice())
    );
}

#[tokio::test]
async fn text_json_replies_and_objects_without_body() {
    let running = serve().await;
    let reply = running
        .answer(
            "text/json",
            json!({"ReturnValue": {"body": "fine", "statusCode": 202}}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.body.as_slice()),
        (202, b"fine".as_slice())
    );
    let object = running.returns(json!({"ok": true, "n": 2})).await;
    assert_eq!(object.status, 200);
    assert_eq!(
        String::from_utf8_lossy(&object.body),
        "{\n  \"n\": 2,\n  \"ok\": True\n}"
    );
    let array = running.returns(json!([1, "two"])).await;
    assert_eq!(
        String::from_utf8_lossy(&array.body),
        "[\n  1,\n  \"two\"\n]"
    );
}

#[tokio::test]
async fn nothing_the_handler_sends_reaches_the_terminal_as_control_characters() {
    let dir = fake_app();
    let port = free_port();
    let port_text = port.to_string();
    let app = dir.path().to_str().expect("UTF-8").to_owned();
    let mut local_host = Process::start_with_args(
        Path::new(BIN),
        &["start", "--app", &app, "--port", &port_text],
        &[],
    )
    .expect("local-host");
    let caller = HostClient::new(port);
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving");
    let attack = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\r\n[Echo 0] Succeeded";
    let wanted = json!({
        "print": attack,
        "envelope": {
            "Logs": [attack],
            "ReturnValue": {"statusCode": 500, "body": attack},
        },
    });
    let reply = caller
        .request_with(
            "POST",
            "/api/Reply?x=%1b%5b2J",
            &[("Content-Type", "application/json")],
            wanted.to_string().as_bytes(),
            4096,
        )
        .await;
    assert_eq!(reply.status, 500);
    local_host.terminate().expect("SIGTERM");
    local_host.wait_exit(Duration::from_secs(10));
    let mut all = Vec::new();
    if let Some(mut out) = local_host.child.stdout.take() {
        std::io::Read::read_to_end(&mut out, &mut all).expect("stdout");
    }
    if let Some(mut err) = local_host.child.stderr.take() {
        std::io::Read::read_to_end(&mut err, &mut all).expect("stderr");
    }
    let text = String::from_utf8_lossy(&all);
    for forbidden in ['\u{1b}', '\u{7}', '\u{9b}', '\r'] {
        assert!(
            !text.contains(forbidden),
            "{forbidden:?} reached the terminal:\n{text}"
        );
    }
    // Its Logs entry and the body of the response it returned: shown
    // escaped, on one line each.
    let shown = "\\x1b[2J\\x1b]0;pwned\\x07\\u{9b}31m\\r\\n[Echo 0] Succeeded";
    assert_eq!(text.matches(shown).count(), 2, "{text}");
    // Its stdout and stderr: lines of their own, as the host reads them,
    // each escaped and marked as the handler's.
    assert_eq!(
        text.matches("[handler] \\x1b[2J\\x1b]0;pwned\\x07\\u{9b}31m\n")
            .count(),
        2,
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("[Echo 0] Succeeded")),
        "{text}"
    );
}
