//! The invocation body the CLI builds for every trigger (Data and
//! Metadata, docs/host-protocol.md) made into the InvocationRequest the
//! host sends a worker, as its GrpcMessageConversionExtensions and
//! ScriptInvocationContextExtensions convert each value
//! (docs/native-worker-host.md, "Invocations").

use std::collections::HashMap;

use serde_json::{Map, Value};
use worker_proto::typed_data::Data;
use worker_proto::{InvocationRequest, ParameterBinding, RpcHttp, RpcTraceContext, TypedData};

use crate::app::{FunctionFolder, TriggerKind};
use crate::dotnet::base64;

use super::channel::{Channel, capability};

/// What the worker advertised that changes the request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Shape {
    pub raw_body_bytes: bool,
    pub body_only: bool,
    pub trigger_metadata_removed: bool,
    pub http_uri: bool,
    pub route_parameters: bool,
}

impl Shape {
    pub fn of(channel: &Channel) -> Shape {
        Shape {
            raw_body_bytes: channel.has(capability::RAW_HTTP_BODY_BYTES),
            body_only: channel.has(capability::RPC_HTTP_BODY_ONLY),
            trigger_metadata_removed: channel.has(capability::RPC_HTTP_TRIGGER_METADATA_REMOVED),
            http_uri: channel.has(capability::HTTP_URI),
            route_parameters: channel.has(capability::REQUIRES_ROUTE_PARAMETERS),
        }
    }
}

fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name)
}

fn typed(data: Data) -> TypedData {
    TypedData { data: Some(data) }
}

/// A value of the body as the host holds it before conversion: a
/// double-encoded string is the string; a JSON object, array or number
/// is JSON; other text (dates) is a JSON string, as the host serialises a
/// DateTimeOffset.
pub fn typed_value(value: &Value) -> TypedData {
    match value {
        Value::Null => TypedData::default(),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::String(inner)) => typed(Data::String(inner)),
            Ok(_) => typed(Data::Json(text.clone())),
            Err(_) => typed(Data::Json(value.to_string())),
        },
        other => typed(Data::Json(other.to_string())),
    }
}

/// The InvocationRequest for `body` (the envelope's `Data` and
/// `Metadata`).
pub fn invocation_request(
    function: &FunctionFolder,
    function_id: &str,
    invocation_id: &str,
    body: &Value,
    shape: Shape,
) -> InvocationRequest {
    let empty = Map::new();
    let data = body
        .get("Data")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let metadata = body
        .get("Metadata")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let trigger = function.trigger();
    let mut input_data = Vec::new();
    let mut trigger_metadata = HashMap::new();
    let mut trace_parent = None;
    for (name, value) in data {
        let is_trigger = *name == trigger.name;
        let typed = if is_trigger && function.trigger_kind() == TriggerKind::Http {
            let request = value.as_object().unwrap_or(&empty);
            trace_parent = header_value(request, "traceparent");
            let http = rpc_http(request, shape);
            if !shape.trigger_metadata_removed {
                // Without the capability the request is also in the
                // trigger metadata, under its name and `$request`.
                let full = rpc_http(
                    request,
                    Shape {
                        http_uri: false,
                        ..shape
                    },
                );
                trigger_metadata.insert(name.clone(), full.clone());
                trigger_metadata.insert("$request".to_owned(), full);
            }
            http
        } else if is_trigger && trigger.is_binary() {
            match value.as_str().and_then(base64::decode) {
                Some(bytes) => typed(Data::Bytes(bytes)),
                None => typed_value(value),
            }
        } else {
            typed_value(value)
        };
        input_data.push(ParameterBinding {
            name: name.clone(),
            rpc_data: Some(worker_proto::parameter_binding::RpcData::Data(typed)),
        });
    }
    for (name, value) in metadata {
        // The system binding data is not sent (ShouldSkipBindingData).
        if name.eq_ignore_ascii_case("sys") || value.is_null() {
            continue;
        }
        trigger_metadata.insert(name.clone(), typed_value(value));
    }
    InvocationRequest {
        invocation_id: invocation_id.to_owned(),
        function_id: function_id.to_owned(),
        input_data,
        trigger_metadata,
        trace_context: Some(RpcTraceContext {
            trace_parent: trace_parent.unwrap_or_else(|| new_trace_parent(invocation_id)),
            trace_state: String::new(),
            attributes: HashMap::new(),
        }),
        retry_context: None,
    }
}

/// A W3C traceparent for an invocation that came with none: the host's
/// activity for it starts a new trace.
fn new_trace_parent(invocation_id: &str) -> String {
    let trace: String = invocation_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    let span: String = crate::ids::new_guid()
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(16)
        .collect();
    format!("00-{trace:0<32.32}-{span:0<16.16}-01")
}

fn header_value(request: &Map<String, Value>, name: &str) -> Option<String> {
    let headers = field(request, "Headers")?.as_object()?;
    let (_, values) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
    match values {
        Value::Array(values) => values.first().and_then(Value::as_str).map(str::to_owned),
        Value::String(value) => Some(value.clone()),
        _ => None,
    }
}

/// The caller's request (the envelope's `req` object) as RpcHttp: headers
/// lower-cased, query values non-empty, route values set, the body per
/// the worker's capabilities. A worker that serves HTTP itself (HttpUri)
/// gets an empty one, with route values if it asked for them.
pub fn rpc_http(request: &Map<String, Value>, shape: Shape) -> TypedData {
    let mut http = RpcHttp::default();
    let params = || -> HashMap<String, String> {
        field(request, "Params")
            .and_then(Value::as_object)
            .map(|params| {
                params
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    };
    if shape.http_uri {
        if shape.route_parameters {
            http.params = params();
        }
        return typed(Data::Http(Box::new(http)));
    }
    http.method = field(request, "Method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    http.url = field(request, "Url")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut content_type = None;
    if let Some(headers) = field(request, "Headers").and_then(Value::as_object) {
        for (name, values) in headers {
            // StringValues.ToString(): repeated values joined by commas.
            let joined = match values {
                Value::Array(values) => values
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
                Value::String(value) => value.clone(),
                _ => continue,
            };
            let name = name.to_ascii_lowercase();
            if name == "content-type" {
                content_type = Some(joined.clone());
            }
            http.headers.insert(name, joined);
        }
    }
    if let Some(query) = field(request, "Query").and_then(Value::as_object) {
        for (name, value) in query {
            if let Some(value) = value.as_str().filter(|v| !v.is_empty()) {
                http.query.insert(name.clone(), value.to_owned());
            }
        }
    }
    http.params = params();
    let media = content_type
        .as_deref()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let binary = media == "application/octet-stream" || media.starts_with("multipart/");
    let bytes = field(request, "Body").and_then(Value::as_str).map(|text| {
        if binary {
            base64::decode(text).unwrap_or_else(|| text.as_bytes().to_vec())
        } else {
            text.as_bytes().to_vec()
        }
    });
    if let Some(bytes) = bytes.filter(|b| !b.is_empty()) {
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        if shape.body_only {
            http.body = Some(Box::new(if binary || shape.raw_body_bytes {
                typed(Data::Bytes(bytes.clone()))
            } else {
                typed(Data::String(text()))
            }));
        } else {
            let body = if media == "application/json" {
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(parsed) => typed(Data::Json(parsed.to_string())),
                    Err(_) => typed(Data::String(text())),
                }
            } else if binary {
                typed(Data::Bytes(bytes.clone()))
            } else {
                typed(Data::String(text()))
            };
            http.body = Some(Box::new(body));
            http.raw_body = Some(Box::new(if shape.raw_body_bytes {
                typed(Data::Bytes(bytes.clone()))
            } else {
                typed(Data::String(text()))
            }));
        }
    }
    typed(Data::Http(Box::new(http)))
}
