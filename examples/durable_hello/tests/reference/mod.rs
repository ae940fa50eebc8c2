//! What the differential tests share: the histories recorded with the
//! Python durabletask SDK (`record_histories.py`), the Rust orchestrators
//! each recorded case runs, and the counter's entity batches.

use std::path::Path;
use std::process::Command;

use azure_functions_rocket::durable::proto::{
    EntityBatchRequest, OperationRequest, OrchestratorRequest, OrchestratorResponse,
};
use azure_functions_rocket::durable::{OrchestrationContext, OrchestratorError, run_orchestrator};
use base64::Engine;
use serde_json::{Value, json};

pub fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64 from the recorder")
}

/// Every step of every case, recorded by `python` (a venv's, with the
/// durabletask SDK): `{case, instanceId, request, response, expected}`,
/// request and response as base64 protobuf.
pub fn record(python: &Path) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/record_histories.py");
    let out = Command::new(python)
        .arg(script)
        .output()
        .expect("the recorder runs");
    assert!(
        out.status.success(),
        "the recorder failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the recorder prints JSON")
}

/// A changed `chaining`: its history no longer matches.
async fn chaining_changed(
    context: OrchestrationContext,
    _: Value,
) -> Result<String, OrchestratorError> {
    let _: i64 = context.call_activity("square", &2).await?;
    Ok("changed".to_owned())
}

/// The deterministic helpers, as the recorder's `helpers` uses them.
async fn helpers(context: OrchestrationContext, _: Value) -> Result<Value, OrchestratorError> {
    let first = json!({
        "guids": [context.new_guid(), context.new_guid()],
        "replaying": context.is_replaying(),
        "now": context.current_utc_iso(),
    });
    context.set_custom_status(&first);
    let _: String = context.call_activity("say_hello", "x").await?;
    Ok(json!({
        "first": first, "guid": context.new_guid(), "replaying": context.is_replaying(),
        "now": context.current_utc_iso(),
    }))
}

/// Two waits for one event name, the events raised before either.
async fn buffered_events(
    context: OrchestrationContext,
    _: Value,
) -> Result<Value, OrchestratorError> {
    let _: String = context.call_activity("say_hello", "first").await?;
    let a: Value = context.wait_for_external_event("Signal").await?;
    let b: Value = context.wait_for_external_event("signal").await?;
    Ok(json!([a, b]))
}

/// A timer longer than one link of a chain.
async fn long_timer(context: OrchestrationContext, _: Value) -> Result<String, OrchestratorError> {
    context
        .create_timer(std::time::Duration::from_secs(7 * 24 * 3600 + 5))
        .await?;
    Ok("woke".to_owned())
}

pub fn run_rust(case: &str, request: &OrchestratorRequest) -> OrchestratorResponse {
    use durable_hello::*;
    let name = request
        .past_events
        .iter()
        .chain(&request.new_events)
        .find_map(|event| match &event.event_type {
            Some(azure_functions_rocket::durable::proto::EventType::ExecutionStarted(e)) => {
                Some(e.name.clone())
            }
            _ => None,
        })
        .expect("an executionStarted event");
    if case == "non_determinism" {
        return run_orchestrator(request, &name, &chaining_changed);
    }
    match name.as_str() {
        "chaining" => run_orchestrator(request, &name, &chaining),
        "fan_out_fan_in" => run_orchestrator(request, &name, &fan_out_fan_in),
        "timer_then_activity" => run_orchestrator(request, &name, &timer_then_activity),
        "external_event_timeout" => run_orchestrator(request, &name, &external_event_timeout),
        "retry_catch" => run_orchestrator(request, &name, &retry_catch),
        "retry_policy" => run_orchestrator(request, &name, &retry_policy),
        "continue_as_new" => run_orchestrator(request, &name, &continue_as_new),
        "uncaught_failure" => run_orchestrator(request, &name, &uncaught_failure),
        "sub_orchestration" => run_orchestrator(request, &name, &sub_orchestration),
        "helpers" => run_orchestrator(request, &name, &helpers),
        "long_timer" => run_orchestrator(request, &name, &long_timer),
        "buffered_events" => run_orchestrator(request, &name, &buffered_events),
        other => panic!("no Rust orchestrator {other}"),
    }
}

/// The counter's batches: a fresh counter, failures in the middle of a
/// batch (their changes undone), an empty and a reset state, a missing input.
pub fn entity_batches() -> Vec<EntityBatchRequest> {
    let batch = |state: Option<&str>, operations: &[(&str, Option<&str>)]| EntityBatchRequest {
        instance_id: "@counter@k".to_owned(),
        entity_state: state.map(str::to_owned),
        operations: operations
            .iter()
            .enumerate()
            .map(|(at, (operation, input))| OperationRequest {
                operation: (*operation).to_owned(),
                request_id: format!("r{at}"),
                input: input.map(str::to_owned),
            })
            .collect(),
    };
    vec![
        batch(
            None,
            &[
                ("get", None),
                ("add", Some("2")),
                ("get", None),
                ("add", Some("4")),
                ("get", None),
            ],
        ),
        batch(
            Some("5"),
            &[
                ("add", Some("1")),
                ("add", Some("\"x\"")),
                ("nope", None),
                ("get", None),
                ("reset", None),
                ("get", None),
            ],
        ),
        batch(Some(""), &[("get", None)]),
        batch(Some("4"), &[("reset", None)]),
        batch(Some("3"), &[("add", None), ("add", Some("-3"))]),
    ]
}
