//! The Rust executor against the Python durabletask SDK's own: for each
//! history that `record_histories.py` records with the SDK (the reference
//! orchestrations in Python, run by a small in-memory backend), the Rust
//! orchestrators of this example must produce the same actions, ids,
//! payloads, custom status and completion. The same bytes also show that
//! the library's protobuf messages read the SDK's generated ones.

mod reference;

use std::path::{Path, PathBuf};
use std::process::Command;

use azure_functions_rocket::durable::proto::{
    ActionType, OrchestratorAction, OrchestratorRequest, OrchestratorResponse, TaskFailureDetails,
};
use azure_functions_rocket::durable::{decode_request, encode_response, run_orchestrator};
use base64::Engine;
use prost::Message;
use reference::{b64, entity_batches, record, run_rust};
use serde_json::{Value, json};

/// The pinned SDK version the histories are recorded with.
const SDK: &str = "durabletask==1.12.0";

/// A venv with the SDK under the target folder, made by the first test
/// that needs it while the others wait.
fn python() -> PathBuf {
    test_tools::python_venv("durable-venv", &[SDK])
}

/// Rust-made responses as the SDK's generated classes read them.
fn normalized_by_python(responses: &[String]) -> Vec<Value> {
    use std::io::Write;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/record_histories.py");
    let mut child = Command::new(python())
        .arg(script)
        .arg("--normalize")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the normalizer runs");
    let input = serde_json::to_vec(responses).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().expect("the normalizer ends");
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).expect("JSON from the normalizer")
}

fn payload(text: &Option<String>) -> Value {
    match text.as_deref() {
        None | Some("") => Value::Null,
        Some(text) => serde_json::from_str(text).expect("a JSON payload"),
    }
}

fn failure(details: Option<&TaskFailureDetails>) -> Value {
    match details {
        None => Value::Null,
        Some(details) => json!({
            "type": details.error_type.rsplit('.').next().unwrap_or_default(),
            "message": details.error_message,
            "inner": failure(details.inner_failure.as_deref()),
        }),
    }
}

/// The same normal form as the recorder's `normalize`.
fn normalize(response: &OrchestratorResponse) -> Value {
    let actions: Vec<Value> = response.actions.iter().map(action).collect();
    json!({
        "actions": actions,
        "customStatus": payload(&response.custom_status),
        "requiresHistory": response.requires_history,
    })
}

fn action(action: &OrchestratorAction) -> Value {
    let id = action.id;
    match action.action_type.as_ref().expect("an action kind") {
        ActionType::ScheduleTask(task) => json!({
            "id": id, "kind": "scheduleTask", "name": task.name, "input": payload(&task.input)
        }),
        ActionType::CreateSubOrchestration(sub) => json!({
            "id": id, "kind": "createSubOrchestration", "name": sub.name,
            "instanceId": sub.instance_id, "input": payload(&sub.input)
        }),
        ActionType::CreateTimer(timer) => {
            let at = timer.fire_at.expect("fireAt");
            json!({"id": id, "kind": "createTimer",
                   "fireAt": at.seconds * 1_000_000 + i64::from(at.nanos / 1000)})
        }
        ActionType::SendEvent(send) => json!({
            "id": id, "kind": "sendEvent",
            "instanceId": send.instance.as_ref().map(|i| i.instance_id.clone()).unwrap_or_default(),
            "name": send.name, "data": payload(&send.data)
        }),
        ActionType::CompleteOrchestration(done) => {
            let carryover: Vec<Value> = done
                .carryover_events
                .iter()
                .filter_map(|event| match &event.event_type {
                    Some(azure_functions_rocket::durable::proto::EventType::EventRaised(e)) => {
                        Some(json!([e.name, payload(&e.input)]))
                    }
                    _ => None,
                })
                .collect();
            json!({
                "id": id, "kind": "completeOrchestration", "status": done.orchestration_status,
                "result": payload(&done.result), "failure": failure(done.failure_details.as_ref()),
                "carryover": carryover
            })
        }
    }
}

#[test]
fn the_rust_executor_replays_python_sdk_histories_exactly() {
    let steps = record(&python());
    let mut cases: Vec<String> = Vec::new();
    let mut rust_responses: Vec<(String, String, Value)> = Vec::new();
    for step in &steps {
        let case = step["case"].as_str().expect("case");
        let request_text = step["request"].as_str().expect("request");
        // The host sends it inside two JSON strings.
        let wrapped = serde_json::to_string(&serde_json::to_string(request_text).unwrap()).unwrap();
        let request = decode_request(&wrapped).expect("the SDK's request decodes");
        assert_eq!(request.instance_id, step["instanceId"], "{case}");
        // Re-encoded, the request is the SDK's bytes again, less the fields
        // this library leaves out; decoding both must agree.
        let again = OrchestratorRequest::decode(request.encode_to_vec().as_slice()).unwrap();
        assert_eq!(again, request, "{case}");

        let python =
            OrchestratorResponse::decode(b64(step["response"].as_str().unwrap()).as_slice())
                .expect("the SDK's response decodes");
        assert_eq!(
            normalize(&python),
            step["expected"],
            "{case}: the messages read differently"
        );

        let rust = run_rust(case, &request);
        let rust_wire = encode_response(&rust);
        rust_responses.push((case.to_owned(), rust_wire.clone(), step["expected"].clone()));
        let rust = OrchestratorResponse::decode(b64(&rust_wire).as_slice()).unwrap();
        assert_eq!(
            normalize(&rust),
            step["expected"],
            "{case}: the Rust executor differs from the Python SDK's on step {}",
            request.past_events.len()
        );
        if !cases.iter().any(|seen| seen == case) {
            cases.push(case.to_owned());
        }
    }
    let expected = [
        "chaining",
        "chaining_cities",
        "fan_out_fan_in",
        "timer_then_activity",
        "external_event_timeout",
        "external_event_timeout_timeout",
        "retry_catch",
        "retry_policy",
        "continue_as_new",
        "uncaught_failure",
        "sub_orchestration",
        "terminate",
        "helpers",
        "long_timer",
        "suspend_resume",
        "buffered_events",
        "non_determinism",
    ];
    assert_eq!(cases, expected);
    // And the Python SDK's classes read the Rust executor's bytes the same.
    let mut wire: Vec<String> = rust_responses
        .iter()
        .map(|(_, wire, _)| wire.clone())
        .collect();
    // A step without its history (an extended session's request) asks
    // for it, in the field the SDK's classes read as `requiresHistory`.
    let mut no_start = decode_request(steps[1]["request"].as_str().unwrap()).unwrap();
    no_start.past_events.clear();
    let asks = run_orchestrator(&no_start, "chaining", &durable_hello::chaining);
    wire.push(encode_response(&asks));
    let mut read = normalized_by_python(&wire);
    assert_eq!(
        read.pop(),
        Some(json!({"actions": [], "customStatus": null, "requiresHistory": true}))
    );
    assert_eq!(read.len(), rust_responses.len());
    for ((case, _, expected), read) in rust_responses.iter().zip(&read) {
        assert_eq!(
            read, expected,
            "{case}: Python reads the Rust response differently"
        );
    }
    let failed = steps
        .iter()
        .find(|s| s["case"] == "non_determinism")
        .unwrap();
    let message = failed["expected"]["actions"][0]["failure"]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("history mismatch"), "{message}");
    // The caught failure is recorded by the activity's own message, as the
    // reference does, not by the message that wraps it.
    let caught = steps.iter().rfind(|s| s["case"] == "retry_catch").unwrap();
    assert_eq!(
        caught["expected"]["customStatus"],
        json!({"firstError": "flaky fails for 0"})
    );
}

/// The example's counter against the same counter in Python, run by the
/// SDK's entity executor on the same batches: the same results (failures
/// compared by kind only, their messages are each language's) and the
/// same state after each batch.
#[test]
fn entity_batches_match_the_sdks_entity_executor() {
    use azure_functions_rocket::durable::proto::{EntityBatchResult, OperationResultType};
    use azure_functions_rocket::durable::run_entity;
    use std::io::Write;

    let batches = entity_batches();
    let normal = |result: &EntityBatchResult| {
        let results: Vec<Value> = result
            .results
            .iter()
            .map(|result| match &result.result_type {
                Some(OperationResultType::Success(success)) => {
                    json!({"ok": payload(&success.result)})
                }
                Some(OperationResultType::Failure(_)) => json!("failed"),
                None => json!("none"),
            })
            .collect();
        json!({"results": results, "state": payload(&result.entity_state)})
    };
    let runtime = rocket::tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let ours: Vec<Value> = batches
        .iter()
        .map(|request| {
            let result = runtime.block_on(run_entity(request, "counter", &durable_hello::counter));
            normal(&result.unwrap())
        })
        .collect();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/entity_batches.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the entity runner runs");
    let requests: Vec<String> = batches
        .iter()
        .map(|request| base64::engine::general_purpose::STANDARD.encode(request.encode_to_vec()))
        .collect();
    let input = serde_json::to_vec(&requests).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().expect("the entity runner ends");
    assert!(out.status.success(), "the entity runner failed");
    let results: Vec<String> = serde_json::from_slice(&out.stdout).expect("JSON from the runner");
    let theirs: Vec<Value> = results
        .iter()
        .map(|text| {
            normal(&EntityBatchResult::decode(b64(text).as_slice()).expect("a batch result"))
        })
        .collect();
    assert_eq!(ours.len(), theirs.len());
    for (at, (ours, theirs)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(ours, theirs, "batch {at}");
    }
    // The cases do what they are for.
    assert_eq!(theirs[0]["state"], json!(6));
    assert_eq!(theirs[1]["results"][1], json!("failed"));
    assert_eq!(theirs[1]["state"], Value::Null);
}
