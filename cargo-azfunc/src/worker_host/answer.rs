//! A worker's answer as a custom handler's reply envelope (Outputs,
//! ReturnValue, Logs), for the Durable stand-in, which reads envelopes.

use serde_json::{Map, Value, json};
use worker_proto::TypedData;
use worker_proto::parameter_binding::RpcData;
use worker_proto::typed_data::Data;

use crate::dotnet::base64;

use super::Answer;
use super::channel::failure_of;

/// A value as the envelope holds it: bytes as base64, as a handler
/// writes them.
fn json_of(data: Option<&TypedData>) -> Value {
    match data.and_then(|d| d.data.as_ref()) {
        None => Value::Null,
        Some(Data::String(text)) => Value::String(text.clone()),
        Some(Data::Json(text)) => {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
        }
        Some(Data::Bytes(bytes) | Data::Stream(bytes)) => Value::String(base64::encode(bytes)),
        Some(Data::Int(n)) => json!(n),
        Some(Data::Double(x)) => json!(x),
        Some(Data::CollectionString(c)) => json!(c.string),
        Some(Data::CollectionDouble(c)) => json!(c.double),
        Some(Data::CollectionSint64(c)) => json!(c.sint64),
        Some(_) => Value::Null,
    }
}

/// The status and envelope a custom handler would have answered.
pub fn envelope(answer: &Answer) -> (u16, Value) {
    let response = &answer.response;
    if failure_of(response.result.as_ref()).is_some() {
        return (500, Value::Null);
    }
    let outputs: Map<String, Value> = response
        .output_data
        .iter()
        .map(|binding| {
            let data = match &binding.rpc_data {
                Some(RpcData::Data(data)) => Some(data),
                _ => None,
            };
            (binding.name.clone(), json_of(data))
        })
        .collect();
    (
        200,
        json!({
            "Outputs": outputs,
            "ReturnValue": json_of(response.return_value.as_ref()),
            "Logs": answer.logs,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use worker_proto::status_result::Status;
    use worker_proto::{InvocationResponse, ParameterBinding, StatusResult};

    fn answer(result: Status) -> Answer {
        Answer {
            response: InvocationResponse {
                output_data: vec![ParameterBinding {
                    name: "out".into(),
                    rpc_data: Some(RpcData::Data(TypedData {
                        data: Some(Data::Bytes(vec![1, 2])),
                    })),
                }],
                return_value: Some(TypedData {
                    data: Some(Data::Json(r#"{"done": true}"#.into())),
                }),
                result: Some(StatusResult {
                    status: result as i32,
                    ..StatusResult::default()
                }),
                ..InvocationResponse::default()
            },
            logs: vec!["a log".into()],
        }
    }

    #[test]
    fn the_durable_stand_in_reads_an_envelope() {
        assert_eq!(
            envelope(&answer(Status::Success)),
            (
                200,
                json!({"Outputs": {"out": "AQI="}, "ReturnValue": {"done": true}, "Logs": ["a log"]})
            )
        );
        assert_eq!(envelope(&answer(Status::Failure)), (500, Value::Null));
    }
}
