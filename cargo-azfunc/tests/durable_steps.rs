//! The local host's orchestrator steps against a scripted orchestrator
//! (support/fake_handler.py's `Orch`): what it does with the answers a
//! real worker may give.

mod support;

use std::path::Path;
use std::time::Duration;

use cargo_azfunc::dotnet::base64;
use cargo_azfunc::limits::ServerLimits;
use durable_proto::{
    ActionType, CompleteOrchestrationAction, EventType, OrchestrationStatus, OrchestratorAction,
    OrchestratorRequest, OrchestratorResponse,
};
use prost::Message;
use serde_json::Value;
use support::{Serving, eventually, fake_app, serve, write_file};

const API: &str = "/runtime/webhooks/durabletask";

/// An answer that asks for the history, as the library gives when a
/// request has no `executionStarted`.
fn asks_for_history() -> OrchestratorResponse {
    OrchestratorResponse {
        requires_history: true,
        ..OrchestratorResponse::default()
    }
}

fn completes(result: &str) -> OrchestratorResponse {
    OrchestratorResponse {
        actions: vec![OrchestratorAction {
            id: 1,
            action_type: Some(ActionType::CompleteOrchestration(
                CompleteOrchestrationAction {
                    orchestration_status: OrchestrationStatus::Completed as i32,
                    result: Some(result.to_owned()),
                    ..CompleteOrchestrationAction::default()
                },
            )),
        }],
        ..OrchestratorResponse::default()
    }
}

/// The fake app with an orchestrator `Orch` answering `replies` in turn.
async fn scripted(replies: &[OrchestratorResponse]) -> Serving {
    let dir = fake_app();
    let root = dir.path();
    write_file(
        root,
        "Orch/function.json",
        r#"{"bindings":[{"type":"orchestrationTrigger","direction":"in","name":"context"}]}"#,
    );
    let lines: Vec<String> = replies
        .iter()
        .map(|reply| base64::encode(&reply.encode_to_vec()))
        .collect();
    write_file(root, "replies.txt", &lines.join("\n"));
    let settings = serde_json::json!({"IsEncrypted": false, "Values": {
        "FUNCTIONS_WORKER_RUNTIME": "custom",
        "FAKE_ORCH_LOG": root.join("requests.txt"),
        "FAKE_ORCH_REPLIES": root.join("replies.txt"),
    }});
    write_file(root, "local.settings.json", &settings.to_string());
    serve(dir, false, ServerLimits::default()).await
}

/// The requests the orchestrator got, in order.
fn requests(root: &Path) -> Vec<OrchestratorRequest> {
    let log = std::fs::read_to_string(root.join("requests.txt")).unwrap_or_default();
    log.lines()
        .map(|line| {
            let bytes = base64::decode(line).expect("base64");
            OrchestratorRequest::decode(bytes.as_slice()).expect("an OrchestratorRequest")
        })
        .collect()
}

async fn call(serving: &Serving, method: &str, path: &str) -> (u16, Value) {
    let reply = serving
        .caller
        .request_with(method, path, &[], b"\"in\"", 4)
        .await;
    (reply.status, reply.json())
}

/// The instance's status once it has ended.
async fn ended(serving: &Serving, id: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let (status, body) = call(serving, "GET", &format!("{API}/instances/{id}")).await;
        if status == 200 {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} never ended: {last}");
}

fn kinds(request: &OrchestratorRequest) -> Vec<&'static str> {
    request
        .past_events
        .iter()
        .chain(&request.new_events)
        .map(|event| match &event.event_type {
            Some(EventType::OrchestratorStarted(_)) => "orchestratorStarted",
            Some(EventType::ExecutionStarted(_)) => "executionStarted",
            _ => "other",
        })
        .collect()
}

#[tokio::test]
async fn a_step_whose_answer_asks_for_the_history_is_sent_again_with_it() {
    let serving = scripted(&[asks_for_history(), completes("\"done\"")]).await;
    let (status, body) = call(&serving, "POST", &format!("{API}/orchestrators/Orch")).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().expect("an id").to_owned();
    let done = ended(&serving, &id).await;
    assert_eq!(done["runtimeStatus"], "Completed", "{done}");
    assert_eq!(done["output"], "done");
    // The same step twice, nothing of the first answer applied: the second
    // request carries the start and the input again, and no history of
    // the abandoned step.
    let sent = requests(serving.dir.path());
    assert_eq!(sent.len(), 2);
    for request in &sent {
        assert_eq!(request.instance_id, id);
        assert!(request.past_events.is_empty());
        assert_eq!(kinds(request), ["orchestratorStarted", "executionStarted"]);
    }
    assert_eq!(sent[0].new_events[1], sent[1].new_events[1]);
    assert!(
        eventually(Duration::from_secs(1), || serving
            .console
            .lines()
            .iter()
            .any(|line| line.text.contains("asked for the history")))
        .await
    );
}

#[tokio::test]
async fn an_orchestrator_that_asks_again_with_the_whole_history_fails_with_the_reason() {
    let serving = scripted(&[asks_for_history()]).await;
    let (status, body) = call(&serving, "POST", &format!("{API}/orchestrators/Orch")).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().expect("an id").to_owned();
    let done = ended(&serving, &id).await;
    assert_eq!(done["runtimeStatus"], "Failed", "{done}");
    let output = done["output"].as_str().unwrap_or_default();
    assert!(output.contains("asked for the history again"), "{output}");
    assert_eq!(requests(serving.dir.path()).len(), 2);
}

/// Waits, with a custom status of `units` UTF-16 units (a JSON string of
/// `é`, one unit each).
fn sets_status(units: usize) -> OrchestratorResponse {
    OrchestratorResponse {
        custom_status: Some(format!("\"{}\"", "é".repeat(units - 2))),
        ..OrchestratorResponse::default()
    }
}

#[tokio::test]
async fn a_custom_status_over_the_extensions_16_kb_fails_the_orchestration() {
    // 8,703 units are 17,406 bytes of UTF-16: 16 KB counted in whole KB.
    for (units, fits) in [(8703, true), (8704, false)] {
        let serving = scripted(&[sets_status(units)]).await;
        let (status, body) = call(&serving, "POST", &format!("{API}/orchestrators/Orch")).await;
        assert_eq!(status, 202, "{body}");
        let id = body["id"].as_str().expect("an id").to_owned();
        if fits {
            // Shown while it waits: the answer was applied.
            let mut seen = Value::Null;
            for _ in 0..200 {
                let (_, body) = call(&serving, "GET", &format!("{API}/instances/{id}")).await;
                seen = body["customStatus"].clone();
                if seen.is_string() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(seen.as_str().map(|s| s.chars().count()), Some(units - 2));
            continue;
        }
        let done = ended(&serving, &id).await;
        assert_eq!(done["runtimeStatus"], "Failed", "{units}");
        let output = done["output"].as_str().unwrap_or_default();
        assert!(
            output.contains(
                "Function 'Orch' failed with an unhandled exception. CustomStatus is too large: \
                 limit = 16 KB (UTF-16), actual = 17 KB."
            ),
            "{output}"
        );
        assert_eq!(done["customStatus"], Value::Null);
    }
}
