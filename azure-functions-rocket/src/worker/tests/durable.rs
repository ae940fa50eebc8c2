//! Durable Functions in native mode: the triggers arrive as `TypedData`
//! (orchestrations and entities as the same base64 protobuf as in the
//! custom-handler envelope, activities as JSON) and the `durableClient`
//! input beside an HTTP request.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use prost::Message;
use worker_proto::status_result::Status;
use worker_proto::typed_data::Data;
use worker_proto::*;

use super::super::invocation;
use super::stream::block_on;
use crate::durable::proto::{
    ActionType, EventType, ExecutionStartedEvent, HistoryEvent, OrchestratorRequest,
    OrchestratorResponse, OrchestratorStartedEvent, Timestamp,
};
use crate::durable::{DurableClient, OrchestrationContext, OrchestratorError};
use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse};
use crate::registry::Function;

fn binding(name: &str, data: Data) -> ParameterBinding {
    ParameterBinding {
        name: name.to_owned(),
        rpc_data: Some(parameter_binding::RpcData::Data(TypedData {
            data: Some(data),
        })),
    }
}

fn invoke(function: &Function, inputs: Vec<ParameterBinding>) -> invocation::Answer {
    let request = InvocationRequest {
        invocation_id: "inv-d".into(),
        function_id: "f".into(),
        input_data: inputs,
        ..InvocationRequest::default()
    };
    block_on(invocation::run(function, &request))
}

/// The name of `function`'s binding of type `kind`.
fn name_of(function: &Function, kind: &str) -> String {
    function
        .function_json()
        .bindings
        .into_iter()
        .find(|b| b.is_kind(kind))
        .map(|b| b.name)
        .expect("the binding is declared")
}

async fn hello(_: OrchestrationContext, name: Option<String>) -> Result<String, OrchestratorError> {
    Ok(format!("Hello {}!", name.unwrap_or_default()))
}

#[test]
fn an_orchestration_request_as_typed_data_string_is_answered_in_base64() {
    let function = Function::orchestrator("Hello", hello);
    let request = OrchestratorRequest {
        instance_id: "i-1".into(),
        new_events: [
            EventType::OrchestratorStarted(OrchestratorStartedEvent {}),
            EventType::ExecutionStarted(ExecutionStartedEvent {
                name: "Hello".into(),
                input: Some("\"Tokyo\"".into()),
                ..ExecutionStartedEvent::default()
            }),
        ]
        .into_iter()
        .map(|kind| HistoryEvent {
            event_id: -1,
            timestamp: Some(Timestamp {
                seconds: 1,
                nanos: 0,
            }),
            event_type: Some(kind),
        })
        .collect(),
        ..OrchestratorRequest::default()
    };
    let trigger = name_of(&function, "orchestrationTrigger");
    let answer = invoke(
        &function,
        vec![binding(
            &trigger,
            Data::String(BASE64.encode(request.encode_to_vec())),
        )],
    );
    assert_eq!(
        answer.response.result.as_ref().map(|r| r.status),
        Some(Status::Success as i32)
    );
    let Some(Data::String(text)) = answer.response.return_value.and_then(|v| v.data) else {
        panic!("a string return value expected");
    };
    let response = OrchestratorResponse::decode(BASE64.decode(text).expect("base64").as_slice())
        .expect("an OrchestratorResponse");
    let Some(ActionType::CompleteOrchestration(done)) =
        response.actions.last().and_then(|a| a.action_type.clone())
    else {
        panic!("the orchestration completes");
    };
    assert_eq!(done.result.as_deref(), Some("\"Hello Tokyo!\""));
    // Not base64: the invocation fails with the reason.
    let answer = invoke(
        &function,
        vec![binding(&trigger, Data::String("%%".into()))],
    );
    assert_eq!(
        answer.response.result.as_ref().map(|r| r.status),
        Some(Status::Failure as i32)
    );
    let message = answer
        .response
        .result
        .and_then(|r| r.exception)
        .map(|e| e.message);
    assert!(message.unwrap_or_default().contains("not base64"));
}

#[test]
fn an_activity_reads_its_json_input_and_returns_json() {
    let function = Function::activity("Square", |n: i64| async move { Ok::<_, Error>(n * n) });
    let trigger = name_of(&function, "activityTrigger");
    let answer = invoke(&function, vec![binding(&trigger, Data::Json("7".into()))]);
    assert_eq!(
        answer.response.result.as_ref().map(|r| r.status),
        Some(Status::Success as i32)
    );
    assert_eq!(
        answer.response.return_value.and_then(|v| v.data),
        Some(Data::Json("49".into()))
    );
}

async fn start(_: HttpRequest, client: DurableClient) -> Result<HttpResponse, Error> {
    Ok(client.check_status_response("abc"))
}

#[test]
fn an_http_function_gets_its_durable_client_input() {
    let function = Function::http_with_client("Start", start);
    let client = serde_json::json!({
        "taskHubName": "hub",
        "baseUrl": "http://localhost:7071/runtime/webhooks/durabletask",
        "requiredQueryStringParameters": "code=k",
    })
    .to_string();
    let request = RpcHttp {
        method: "POST".into(),
        url: "http://localhost:7071/api/Start".into(),
        body: Some(Box::new(TypedData {
            data: Some(Data::Bytes(b"{}".to_vec())),
        })),
        ..RpcHttp::default()
    };
    let answer = invoke(
        &function,
        vec![
            binding(
                &name_of(&function, "httpTrigger"),
                Data::Http(Box::new(request)),
            ),
            binding(&name_of(&function, "durableClient"), Data::String(client)),
        ],
    );
    let Some(Data::Http(http)) = answer.response.return_value.and_then(|v| v.data) else {
        panic!("an HTTP return value expected");
    };
    assert_eq!(http.status_code, "202");
    let location = http
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("location"))
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    assert!(
        location.starts_with(
            "http://localhost:7071/runtime/webhooks/durabletask/instances/abc?taskHub=hub"
        ),
        "{location}"
    );
}
