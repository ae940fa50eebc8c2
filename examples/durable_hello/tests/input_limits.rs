//! Inputs that can never run are refused where they enter: a start input,
//! an event's data or an operation's input that would make the invocation
//! larger than the handler reads (its `limits.json`, here 64 KiB through
//! `ROCKET_LIMITS`) gets 400 with the limit in the reason, and the largest
//! start input the local host takes runs to completion.

use std::path::Path;
use std::time::{Duration, Instant};

use cargo_azfunc::host::served::ServedApp;
use serde_json::Value;

const API: &str = "/runtime/webhooks/durabletask";

/// The handler's limit in this test.
const LIMIT: usize = 64 * 1024;

async fn serve() -> ServedApp {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let executable = Some(env!("CARGO_BIN_EXE_durable_hello").into());
    let env = vec![("ROCKET_LIMITS".to_owned(), r#"{json="64KiB"}"#.to_owned())];
    ServedApp::start_with_env(root, executable, env)
        .await
        .expect("the example app is served")
}

async fn call(app: &ServedApp, method: &str, path: &str, body: &str) -> (u16, Value) {
    let json = [("Content-Type", "application/json")];
    let reply = app
        .caller
        .request_with(method, path, &json, body.as_bytes(), body.len().max(1))
        .await;
    let value = if reply.body.is_empty() {
        Value::Null
    } else {
        reply.json()
    };
    (reply.status, value)
}

/// A JSON string of `length` bytes, quotes included.
fn json_text(length: usize) -> String {
    format!("\"{}\"", "a".repeat(length - 2))
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

async fn finished(app: &ServedApp, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = call(app, "GET", &format!("{API}/instances/{id}"), "").await;
        if status == 200 {
            return body;
        }
        assert!(Instant::now() < deadline, "{id} never ended: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_largest_start_input_runs_and_one_byte_more_is_refused() {
    let app = serve().await;
    let start = format!("{API}/orchestrators/echo");
    let (status, body) = call(&app, "POST", &start, &json_text(LIMIT)).await;
    assert_eq!(status, 400, "{body}");
    let reason = message(&body);
    assert!(
        reason.contains(&format!("over the {LIMIT} bytes")),
        "{reason}"
    );
    let longest: usize = reason
        .rsplit("the longest input that fits is ")
        .next()
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no longest input in {reason:?}"));
    // base64 takes 4 bytes for 3, so about three quarters of the limit.
    assert!(
        longest > LIMIT * 7 / 10 && longest < LIMIT * 3 / 4,
        "{longest}"
    );

    let (status, body) = call(&app, "POST", &start, &json_text(longest + 1)).await;
    assert_eq!(status, 400, "{body}");

    let input = json_text(longest);
    let (status, body) = call(&app, "POST", &start, &input).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().expect("an id");
    let done = finished(&app, id).await;
    assert_eq!(done["runtimeStatus"], "Completed", "{}", done["output"]);
    assert_eq!(done["output"].to_string(), input);
}

#[tokio::test]
async fn event_data_and_operation_inputs_that_cannot_run_are_refused() {
    let app = serve().await;
    let (status, body) = call(
        &app,
        "POST",
        &format!("{API}/orchestrators/external_event_timeout/waits"),
        "600",
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let raise = format!("{API}/instances/waits/raiseEvent/approval");
    let (status, body) = call(&app, "POST", &raise, &json_text(LIMIT * 3 / 4)).await;
    assert_eq!(status, 400, "{body}");
    let reason = message(&body);
    assert!(
        reason.contains("the data of event \"approval\"")
            && reason.contains(&format!("over the {LIMIT} bytes")),
        "{reason}"
    );
    // Data that fits is delivered as before.
    let data = json_text(LIMIT / 2);
    let (status, body) = call(&app, "POST", &raise, &data).await;
    assert_eq!(status, 202, "{body}");
    let done = finished(&app, "waits").await;
    assert_eq!(done["output"]["approved"].to_string(), data);

    let signal = format!("{API}/entities/counter/big?op=add");
    let (status, body) = call(&app, "POST", &signal, &json_text(LIMIT * 3 / 4)).await;
    assert_eq!(status, 400, "{body}");
    let reason = message(&body);
    assert!(
        reason.contains("the input of operation \"add\"")
            && reason.contains(&format!("over the {LIMIT} bytes")),
        "{reason}"
    );
    let (status, body) = call(&app, "POST", &signal, "5").await;
    assert_eq!(status, 202, "{body}");
}
