//! The example's durable functions invoked as the host invokes them: the
//! envelope the Durable extension's custom-handler protocol sends, through
//! the library's own function layer; and the start-up check of its
//! function folders.

use std::path::Path;
use std::process::Command;
use std::sync::LazyLock;

use azure_functions_rocket::durable::proto::{
    self, ActionType, EntityBatchRequest, EntityBatchResult, EventType, ExecutionStartedEvent,
    HistoryEvent, OperationRequest, OperationResultType, OrchestrationStatus,
    OrchestratorEntityParameters, OrchestratorRequest, OrchestratorResponse,
    OrchestratorStartedEvent, Timestamp,
};
use azure_functions_rocket::harness::{self, DirectCall, invoke};
use azure_functions_rocket::{CHECK_VARIABLE, Function, Registry, rocket};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use prost::Message;
use serde_json::{Value, json};

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    harness::in_app_folder(
        durable_hello::registry(),
        Path::new(env!("CARGO_MANIFEST_DIR")),
    )
    .expect("the example's registry and folders agree")
});

/// One function of the example, as it declares it.
fn function(name: &str) -> &'static Function {
    REGISTRY.find(name).expect("a registered function")
}

async fn call(function: &Function, envelope: Value) -> (u16, Value) {
    let body = envelope.to_string();
    let answer = invoke(
        function,
        body.as_bytes(),
        |body| DirectCall {
            body,
            ..DirectCall::default()
        },
        Some("id-1"),
    )
    .await;
    let reply = serde_json::from_slice(&answer.body).expect("a JSON reply");
    (answer.status, reply)
}

fn started(name: &str, input: Option<&str>) -> OrchestratorRequest {
    let at = |seconds| Timestamp { seconds, nanos: 0 };
    OrchestratorRequest {
        instance_id: "abc".to_owned(),
        execution_id: None,
        entity_parameters: None,
        past_events: Vec::new(),
        new_events: vec![
            HistoryEvent {
                event_id: -1,
                timestamp: Some(at(1_800_000_000)),
                event_type: Some(EventType::OrchestratorStarted(OrchestratorStartedEvent {})),
            },
            HistoryEvent {
                event_id: -1,
                timestamp: Some(at(1_800_000_000)),
                event_type: Some(EventType::ExecutionStarted(ExecutionStartedEvent {
                    name: name.to_owned(),
                    input: input.map(str::to_owned),
                    ..ExecutionStartedEvent::default()
                })),
            },
        ],
    }
}

/// The binding value as the host sends it: base64 inside two JSON strings.
fn host_value(request: &OrchestratorRequest) -> Value {
    let text = BASE64.encode(request.encode_to_vec());
    Value::String(serde_json::to_string(&text).unwrap())
}

fn response(reply: &Value) -> OrchestratorResponse {
    let text = reply["ReturnValue"].as_str().expect("a base64 ReturnValue");
    OrchestratorResponse::decode(BASE64.decode(text).expect("base64").as_slice())
        .expect("an OrchestratorResponse")
}

#[rocket::async_test]
async fn an_orchestrator_answers_200_with_its_actions_in_base64() {
    let chaining = function("chaining");
    let request = started("chaining", Some(r#"["Lima"]"#));
    let (status, reply) = call(
        chaining,
        json!({"Data": {"context": host_value(&request)}, "Metadata": {}}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let response = response(&reply);
    assert_eq!(response.instance_id, "abc");
    assert_eq!(response.actions.len(), 1);
    match &response.actions[0].action_type {
        Some(ActionType::ScheduleTask(task)) => {
            assert_eq!(
                (task.name.as_str(), task.input.as_deref()),
                ("say_hello", Some("\"Lima\""))
            );
        }
        other => panic!("not a scheduled task: {other:?}"),
    }
}

#[rocket::async_test]
async fn bad_orchestrator_input_gets_a_clear_error_and_no_panic() {
    let chaining = function("chaining");
    for (value, message) in [
        (json!("\"%%%not base64\""), "not base64"),
        (
            json!(BASE64.encode([0xff, 0xff, 0xff])),
            "not an OrchestratorRequest",
        ),
    ] {
        let (status, reply) = call(
            chaining,
            json!({"Data": {"context": value}, "Metadata": {}}),
        )
        .await;
        assert_eq!(status, 400, "{reply}");
        assert!(reply["Logs"].to_string().contains(message), "{reply}");
    }
    let (status, reply) = call(chaining, json!({"Data": {}, "Metadata": {}})).await;
    assert_eq!(status, 400);
    assert!(reply["Logs"].to_string().contains("Data has no"), "{reply}");
    // Another orchestrator's history, or an input of the wrong type: the
    // orchestration fails with the reason.
    for (request, message) in [
        (
            started("fan_out_fan_in", None),
            "A 'fan_out_fan_in' orchestrator was not registered.",
        ),
        (
            started("chaining", Some("42")),
            "the orchestration's input 42 is not of the expected type",
        ),
    ] {
        let (status, reply) = call(
            chaining,
            json!({"Data": {"context": host_value(&request)}, "Metadata": {}}),
        )
        .await;
        assert_eq!(status, 200);
        let response = response(&reply);
        let Some(ActionType::CompleteOrchestration(done)) = &response.actions[0].action_type else {
            panic!("no completion: {response:?}");
        };
        assert_eq!(
            done.orchestration_status,
            OrchestrationStatus::Failed as i32
        );
        let details = done.failure_details.as_ref().expect("failure details");
        assert!(details.error_message.starts_with(message), "{details:?}");
    }
    // No new event: the SDKs refuse such a request.
    let mut empty = started("chaining", None);
    empty.past_events = std::mem::take(&mut empty.new_events);
    let (_, reply) = call(
        chaining,
        json!({"Data": {"context": host_value(&empty)}, "Metadata": {}}),
    )
    .await;
    let response = response(&reply);
    let Some(ActionType::CompleteOrchestration(done)) = &response.actions[0].action_type else {
        panic!("no completion: {response:?}");
    };
    assert!(
        done.failure_details
            .as_ref()
            .unwrap()
            .error_message
            .contains("at least one event")
    );
}

#[rocket::async_test]
async fn a_request_without_its_history_is_answered_with_requires_history() {
    let chaining = function("chaining");
    // An extended session's request: the new events only, no start.
    let mut request = started("chaining", None);
    request.new_events.truncate(1);
    let (status, reply) = call(
        chaining,
        json!({"Data": {"context": host_value(&request)}, "Metadata": {}}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let text = reply["ReturnValue"].as_str().expect("a base64 ReturnValue");
    // Field 1 the instance id, field 7 (varint key 0x38) true, no actions.
    let bytes = BASE64.decode(text).expect("base64");
    assert_eq!(bytes, [0x0a, 3, b'a', b'b', b'c', 0x38, 1]);
    assert!(response(&reply).requires_history);
}

#[rocket::async_test]
async fn an_activity_reads_metadata_data_and_returns_its_json() {
    let cases = [
        ("say_hello", json!("\"Tokyo\""), json!("Hello, Tokyo!")),
        ("square", json!("3"), json!(9)),
        ("square", json!(3), json!(9)),
        ("increment", json!("\"41\""), json!(42)),
    ];
    for (name, data, expected) in cases {
        let envelope = json!({"Data": {}, "Metadata": {"data": data, "instanceId": "\"abc\"", "sys": {"MethodName": name}}});
        let (status, reply) = call(function(name), envelope).await;
        assert_eq!(status, 200, "{name}: {reply}");
        assert_eq!(reply["ReturnValue"], expected, "{name}");
    }
}

#[rocket::async_test]
async fn a_failed_activity_is_a_non_2xx_reply_with_the_reason() {
    let envelope = json!({"Data": {}, "Metadata": {"data": "0"}});
    let (status, reply) = call(function("flaky"), envelope).await;
    assert_eq!(status, 500);
    assert!(
        reply["Logs"].to_string().contains("flaky fails for 0"),
        "{reply}"
    );
    let envelope = json!({"Data": {}, "Metadata": {"data": "\"seven\""}});
    let (status, reply) = call(function("square"), envelope).await;
    assert_eq!(status, 400);
    assert!(
        reply["Logs"]
            .to_string()
            .contains("not of the expected type"),
        "{reply}"
    );
}

/// An entity batch as the host sends it: base64 inside two JSON strings.
fn entity_value(request: &EntityBatchRequest) -> Value {
    let text = BASE64.encode(request.encode_to_vec());
    Value::String(serde_json::to_string(&text).unwrap())
}

#[rocket::async_test]
async fn an_entity_answers_200_with_its_batch_result_in_base64() {
    let request = EntityBatchRequest {
        instance_id: "@counter@k".to_owned(),
        entity_state: Some("2".to_owned()),
        operations: [("add", Some("3")), ("add", Some("\"x\"")), ("get", None)]
            .into_iter()
            .map(|(operation, input)| OperationRequest {
                operation: operation.to_owned(),
                request_id: format!("r-{operation}"),
                input: input.map(str::to_owned),
            })
            .collect(),
    };
    let (status, reply) = call(
        function("counter"),
        json!({"Data": {"context": entity_value(&request)}, "Metadata": {}}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let text = reply["ReturnValue"].as_str().expect("a base64 ReturnValue");
    let result = EntityBatchResult::decode(BASE64.decode(text).expect("base64").as_slice())
        .expect("an EntityBatchResult");
    assert_eq!(result.entity_state.as_deref(), Some("5"));
    assert_eq!(result.results.len(), 3);
    assert!(matches!(
        result.results[1].result_type,
        Some(OperationResultType::Failure(_))
    ));
    let Some(OperationResultType::Success(get)) = &result.results[2].result_type else {
        panic!("get failed: {result:?}");
    };
    assert_eq!(get.result.as_deref(), Some("5"));
}

#[rocket::async_test]
async fn bad_entity_input_gets_a_clear_error_and_no_panic() {
    let counter = function("counter");
    let other = EntityBatchRequest {
        instance_id: "@other@k".to_owned(),
        ..EntityBatchRequest::default()
    };
    for (value, message) in [
        (json!("\"%%%not base64\""), "not base64"),
        (
            json!(BASE64.encode([0xff, 0xff, 0xff])),
            "not an EntityBatchRequest",
        ),
        (entity_value(&other), "not an entity of counter"),
        (
            entity_value(&EntityBatchRequest::default()),
            "is not @<entity name>@<key>",
        ),
    ] {
        let (status, reply) =
            call(counter, json!({"Data": {"context": value}, "Metadata": {}})).await;
        assert_eq!(status, 400, "{reply}");
        assert!(reply["Logs"].to_string().contains(message), "{reply}");
    }
    let (status, reply) = call(counter, json!({"Data": {}, "Metadata": {}})).await;
    assert_eq!(status, 400);
    assert!(reply["Logs"].to_string().contains("Data has no"), "{reply}");
}

#[test]
fn the_function_folders_pass_the_start_up_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_durable_hello"))
        .current_dir(root)
        .env(CHECK_VARIABLE, "1")
        .env("FUNCTIONS_APP_ROOT_PATH", root)
        .output()
        .expect("the example runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The entity requests of `counter_order`'s first step, as the extension
/// on the Azure Storage backend asks for them (a 30-minute reorder window
/// in `entityParameters`): each labelled for DTFx's message sorter.
#[rocket::async_test]
async fn entity_requests_are_labelled_when_the_host_sends_a_reorder_window() {
    let mut request = started("counter_order", Some(r#"{"key": "k"}"#));
    request.execution_id = Some("exec-1".to_owned());
    request.entity_parameters = Some(OrchestratorEntityParameters {
        entity_message_reorder_window: Some(proto::Duration {
            seconds: 1800,
            nanos: 0,
        }),
    });
    let (status, reply) = call(
        function("counter_order"),
        json!({"Data": {"context": host_value(&request)}, "Metadata": {}}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let messages: Vec<Value> = response(&reply)
        .actions
        .iter()
        .filter_map(|action| match &action.action_type {
            Some(ActionType::SendEvent(send)) => send
                .data
                .as_deref()
                .and_then(|data| serde_json::from_str(data).ok()),
            _ => None,
        })
        .collect();
    assert_eq!(messages.len(), 4, "a signal and three calls: {messages:?}");
    // 1_800_000_000 s after the epoch, then one tick more per request.
    let stamps: Vec<&str> = messages
        .iter()
        .map(|m| m["Timestamp"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        stamps,
        [
            "2027-01-15T08:00:00.0000000Z",
            "2027-01-15T08:00:00.0000001Z",
            "2027-01-15T08:00:00.0000002Z",
            "2027-01-15T08:00:00.0000003Z"
        ]
    );
    assert_eq!(messages[0]["Predecessor"], "0001-01-01T00:00:00");
    for pair in messages.windows(2) {
        assert_eq!(pair[1]["Predecessor"], pair[0]["Timestamp"]);
    }
    assert!(messages.iter().all(|m| m["parentExecution"] == "exec-1"));
}
