//! A worker's InvocationResponse read as the host reads it
//! (GrpcWorkerChannel.InvokeResponse, docs/native-worker-host.md,
//! "Invocations"): success or the worker's exception, each output binding's
//! TypedData, and for HTTP the RpcHttp made into the caller's response.

use serde_json::{Map, Value, json};
use worker_proto::parameter_binding::RpcData;
use worker_proto::typed_data::Data;
use worker_proto::{InvocationResponse, RpcHttp, TypedData};

use crate::app::{FunctionFolder, TriggerKind};
use crate::dotnet::base64;
use crate::host::envelope::{CallerResponse, Outcome, Output, Verdict, Written};
use crate::host::http_response::caller_response;
use crate::host::warnings::{Rule, Warning};

use crate::worker_host::Answer;
use crate::worker_host::channel::failure_of;

/// The value an output binding got: `$return` is the return value.
fn output_value<'a>(response: &'a InvocationResponse, name: &str) -> Option<&'a TypedData> {
    if name == "$return" {
        return response.return_value.as_ref();
    }
    response
        .output_data
        .iter()
        .find(|binding| binding.name == name)
        .and_then(|binding| match &binding.rpc_data {
            Some(RpcData::Data(data)) => Some(data),
            _ => None,
        })
}

/// What one TypedData writes to a non-HTTP output.
fn written(data: Option<&TypedData>) -> Written {
    match data.and_then(|d| d.data.as_ref()) {
        None => Written::Nothing,
        Some(Data::String(text)) => Written::Text(text.clone()),
        Some(Data::Json(text)) => match serde_json::from_str(text) {
            Ok(value) => Written::Json(value),
            Err(_) => Written::Text(text.clone()),
        },
        Some(Data::Bytes(bytes) | Data::Stream(bytes)) => Written::Bytes(bytes.clone()),
        Some(Data::Int(n)) => Written::Json(json!(n)),
        Some(Data::Double(x)) => Written::Json(json!(x)),
        Some(Data::Http(http)) => Written::Json(http_json(http).0),
        Some(Data::CollectionString(c)) => Written::Json(json!(c.string)),
        Some(Data::CollectionDouble(c)) => Written::Json(json!(c.double)),
        Some(Data::CollectionSint64(c)) => Written::Json(json!(c.sint64)),
        Some(Data::CollectionBytes(c)) => Written::Json(json!(
            c.bytes
                .iter()
                .map(|b| base64::encode(b))
                .collect::<Vec<_>>()
        )),
        Some(other) => Written::Text(format!("{other:?}")),
    }
}

/// RpcHttp as the host's expando (statusCode, headers, body) and the
/// body's bytes when they are not text.
fn http_json(http: &RpcHttp) -> (Value, Option<Vec<u8>>) {
    let mut object = Map::new();
    if !http.status_code.is_empty() {
        object.insert("statusCode".into(), Value::String(http.status_code.clone()));
    }
    object.insert(
        "headers".into(),
        Value::Object(
            http.headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    );
    let mut raw = None;
    let body = match http.body.as_ref().and_then(|b| b.data.as_ref()) {
        None => Value::Null,
        Some(Data::String(text) | Data::Json(text)) => Value::String(text.clone()),
        Some(Data::Bytes(bytes) | Data::Stream(bytes)) => {
            raw = Some(bytes.clone());
            Value::String(String::new())
        }
        Some(Data::Int(n)) => Value::String(n.to_string()),
        Some(Data::Double(x)) => Value::String(x.to_string()),
        Some(other) => Value::String(format!("{other:?}")),
    };
    object.insert("body".into(), body);
    (Value::Object(object), raw)
}

/// The caller's response from an HTTP output's RpcHttp: status, headers
/// and body checked as the host's HttpBinding checks any response object.
fn http_response(
    binding: &crate::app::Binding,
    data: Option<&TypedData>,
    warnings: &mut Vec<Warning>,
) -> CallerResponse {
    let Some(Data::Http(http)) = data.and_then(|d| d.data.as_ref()) else {
        return match data.and_then(|d| d.data.as_ref()) {
            None => CallerResponse {
                status: 200,
                headers: Vec::new(),
                body: Vec::new(),
            },
            // Anything but RpcHttp: its text as the body.
            Some(_) => {
                let value = match written(data) {
                    Written::Text(text) => Value::String(text),
                    Written::Json(value) => value,
                    _ => Value::Null,
                };
                caller_response(binding, &value, warnings)
            }
        };
    };
    let (object, raw) = http_json(http);
    let mut response = caller_response(binding, &object, warnings);
    if let Some(bytes) = raw
        && response.status != 500
    {
        let declared = response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.trim().parse::<usize>().ok());
        if matches!(declared, Some(length) if length != Some(bytes.len())) {
            warnings.push(Warning::new(
                Rule::ContentLength,
                format!(
                    "the response's Content-Length disagrees with its {} bytes",
                    bytes.len()
                ),
            ));
            return CallerResponse::failed();
        }
        response.body = bytes;
    }
    response
}

/// What the host makes of the worker's answer.
pub fn outcome(function: &FunctionFolder, answer: Answer) -> Outcome {
    let response = answer.response;
    let is_http = function.trigger_kind() == TriggerKind::Http;
    let mut outcome = Outcome {
        verdict: Verdict::Succeeded,
        logs: answer.logs,
        logs_kept: true,
        // Shown as they came (Channel::invoke), as the host logs them.
        logs_shown: true,
        response: None,
        outputs: Vec::new(),
        warnings: Vec::new(),
        duration: std::time::Duration::ZERO,
    };
    if let Some(failure) = failure_of(response.result.as_ref()) {
        outcome.verdict = Verdict::Failed(format!("the worker failed the invocation: {failure}"));
        outcome.response = is_http.then(CallerResponse::failed);
        return outcome;
    }
    for binding in function.outputs() {
        let data = output_value(&response, &binding.name);
        let value = if binding.is_kind("http") {
            let caller = http_response(binding, data, &mut outcome.warnings);
            if is_http {
                outcome.response = Some(caller.clone());
            }
            Written::Http(caller)
        } else {
            written(data)
        };
        outcome.outputs.push(Output {
            kind: binding.kind.clone(),
            binding: binding.name.clone(),
            value,
        });
    }
    for binding in &response.output_data {
        if function.output(&binding.name).is_none() {
            outcome.warnings.push(Warning::new(
                Rule::UnknownOutput,
                format!("output {:?} names no output binding", binding.name),
            ));
        }
    }
    if is_http && outcome.response.is_none() {
        outcome.response = Some(CallerResponse {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        });
    }
    outcome
}
