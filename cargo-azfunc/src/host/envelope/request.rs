//! The invocation body the host sends the handler (docs/host-protocol.md,
//! "host -> handler" and "Non-HTTP triggers and output bindings").

use serde_json::{Map, Value, json};

use crate::app::{FunctionFolder, TriggerKind};
use crate::dotnet;
use crate::dotnet::base64;
use crate::ids::new_guid;
use crate::query::{query_last_values, query_values};
use crate::timers::clock::UtcTime;

/// A caller's HTTP request as the host received it.
#[derive(Clone, Debug, Default)]
pub struct CallerRequest {
    pub method: String,
    /// The caller's full URL with the raw query string, e.g.
    /// `http://localhost:7071/api/Area?radius=2`.
    pub url: String,
    /// In the caller's order; a repeated header appears repeatedly.
    pub headers: Vec<(String, String)>,
    /// `None` when the caller sent no body.
    pub body: Option<Vec<u8>>,
}

impl CallerRequest {
    /// The raw query string, without `?`.
    pub fn query_string(&self) -> &str {
        let without_fragment = self.url.split('#').next().unwrap_or("");
        without_fragment.split_once('?').map_or("", |(_, q)| q)
    }

    /// The first value of a header, any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The `sys` binding data of every invocation.
#[derive(Clone, Debug)]
pub struct Sys {
    pub method_name: String,
    pub utc_now: UtcTime,
    pub rand_guid: String,
}

impl Sys {
    pub fn new(function: &FunctionFolder) -> Sys {
        Sys {
            method_name: function.name.clone(),
            utc_now: UtcTime::now(),
            rand_guid: new_guid(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "MethodName": self.method_name,
            "UtcNow": self.utc_now.iso(),
            "RandGuid": self.rand_guid,
        })
    }
}

/// How the host puts a scalar into `Metadata` and non-HTTP `Data`: strings,
/// numbers and bools JSON-encoded twice (`"\"Atlas\""`, `"1"`); objects and
/// arrays as real JSON.
pub fn double_encode(value: &Value) -> Value {
    match value {
        Value::Object(_) | Value::Array(_) | Value::Null => value.clone(),
        scalar => Value::String(scalar.to_string()),
    }
}

fn double_encode_str(text: &str) -> Value {
    double_encode(&Value::String(text.to_owned()))
}

/// `content-type` -> `Content-Type`: hyper lowercases header names, ASP.NET
/// shows the usual spelling.
pub fn canonical_header_name(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => {
                    first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                }
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Header values grouped by name (any case), in first-seen order.
fn grouped_headers(request: &CallerRequest) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in &request.headers {
        let name = canonical_header_name(name);
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value.clone()),
            None => groups.push((name, vec![value.clone()])),
        }
    }
    groups
}

/// Bodies the host passes as base64 rather than text.
fn is_binary_content(content_type: Option<&str>) -> bool {
    let media = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media == "application/octet-stream" || media.starts_with("multipart/")
}

fn anonymous_identity() -> Value {
    json!({
        "AuthenticationType": null,
        "IsAuthenticated": false,
        "Actor": null,
        "BootstrapContext": null,
        "Claims": [],
        "Label": null,
        "Name": null,
        "NameClaimType": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "RoleClaimType": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
    })
}

/// The body of an HTTP-triggered invocation (docs/host-protocol.md, "host -> handler"). `params` are the
/// route values (`None`: an optional parameter the URL left out).
pub fn http_invocation(
    function: &FunctionFolder,
    request: &CallerRequest,
    params: &[(String, Option<String>)],
    sys: &Sys,
) -> Value {
    let query = query_values(request.query_string());
    let headers = grouped_headers(request);
    let mut req = Map::new();
    req.insert("Url".into(), Value::String(request.url.clone()));
    req.insert(
        "Method".into(),
        Value::String(request.method.to_ascii_uppercase()),
    );
    let query_json: Map<String, Value> = query
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    req.insert("Query".into(), Value::Object(query_json));
    req.insert(
        "Headers".into(),
        Value::Object(
            headers
                .iter()
                .map(|(name, values)| (name.clone(), json!(values)))
                .collect(),
        ),
    );
    req.insert(
        "Params".into(),
        Value::Object(
            params
                .iter()
                .map(|(name, value)| (name.clone(), json!(value)))
                .collect(),
        ),
    );
    req.insert("Identities".into(), json!([anonymous_identity()]));
    let body = request.body.as_deref().filter(|b| !b.is_empty());
    if let Some(body) = body {
        let text = if is_binary_content(request.header("content-type")) {
            base64::encode(body)
        } else {
            String::from_utf8_lossy(body).into_owned()
        };
        req.insert("Body".into(), Value::String(text));
    }

    // Metadata (docs/host-protocol.md, "host -> handler"): each top-level property of a JSON body but
    // arrays, a scalar turned to .NET text first (`2` -> "\"2\"", `true`
    // -> "\"True\""), an object kept as JSON; each query value, the last
    // of a repeated key winning, `code` left out; each route value; then
    // Query (last values), Headers and sys.
    let mut metadata = Map::new();
    if let Some(Ok(Value::Object(fields))) = body.map(serde_json::from_slice::<Value>) {
        for (name, value) in fields {
            match value {
                Value::Array(_) | Value::Null => {}
                Value::Object(_) => {
                    metadata.insert(name, value);
                }
                scalar => {
                    if let Some(text) = dotnet::to_string(&scalar) {
                        metadata.insert(name, double_encode_str(&text));
                    }
                }
            }
        }
    }
    let last_values = query_last_values(request.query_string());
    for (name, value) in &last_values {
        if !name.eq_ignore_ascii_case("code") {
            metadata.insert(name.clone(), double_encode_str(value));
        }
    }
    for (name, value) in params {
        if let Some(value) = value {
            metadata.insert(name.clone(), double_encode_str(value));
        }
    }
    metadata.insert(
        "Query".into(),
        Value::Object(
            last_values
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        ),
    );
    metadata.insert(
        "Headers".into(),
        Value::Object(
            headers
                .iter()
                .map(|(name, values)| (name.clone(), Value::String(values.join(","))))
                .collect(),
        ),
    );
    metadata.insert("sys".into(), sys.to_json());

    let mut data = Map::new();
    data.insert(function.trigger().name.clone(), Value::Object(req));
    json!({"Data": data, "Metadata": metadata})
}

/// A storage queue message as the host dequeues it.
#[derive(Clone, Debug)]
pub struct QueueMessage {
    pub text: String,
    pub id: String,
    pub pop_receipt: String,
    pub dequeue_count: u32,
    pub insertion_time: UtcTime,
    pub expiration_time: UtcTime,
    pub next_visible_time: UtcTime,
}

impl QueueMessage {
    /// A message inserted now, dequeued for the first time.
    pub fn new(text: &str) -> QueueMessage {
        let now = UtcTime::now();
        QueueMessage {
            text: text.to_owned(),
            id: new_guid(),
            pop_receipt: new_guid(),
            dequeue_count: 1,
            insertion_time: now,
            // Storage queues keep a message 7 days; a dequeued one is hidden
            // for the 10-minute visibility timeout.
            expiration_time: now.plus_seconds(7 * 24 * 3600),
            next_visible_time: now.plus_seconds(600),
        }
    }
}

/// The body of a queue-triggered invocation (docs/host-protocol.md,
/// "Non-HTTP triggers and output bindings"): the message text
/// double-encoded, the message's properties in Metadata.
pub fn queue_invocation(function: &FunctionFolder, message: &QueueMessage, sys: &Sys) -> Value {
    let mut data = Map::new();
    data.insert(
        function.trigger().name.clone(),
        trigger_text(function, &message.text),
    );
    json!({
        "Data": data,
        "Metadata": {
            "DequeueCount": double_encode(&json!(message.dequeue_count)),
            "Id": double_encode_str(&message.id),
            "PopReceipt": double_encode_str(&message.pop_receipt),
            "ExpirationTime": message.expiration_time.iso(),
            "InsertionTime": message.insertion_time.iso(),
            "NextVisibleTime": message.next_visible_time.iso(),
            "sys": sys.to_json(),
        }
    })
}

/// A trigger's text as the host sends it: encoded twice, or for a
/// trigger declared `"dataType": "binary"` its bytes as one plain base64
/// string (docs/host-protocol.md, "Non-HTTP triggers and output bindings").
fn trigger_text(function: &FunctionFolder, text: &str) -> Value {
    if function.trigger().is_binary() {
        Value::String(base64::encode(text.as_bytes()))
    } else {
        double_encode_str(text)
    }
}

/// What the host's schedule monitor knows about a timer.
#[derive(Clone, Copy, Debug)]
pub struct ScheduleStatus {
    pub last: UtcTime,
    pub next: UtcTime,
    pub last_updated: UtcTime,
}

/// The body of a timer-triggered invocation (docs/host-protocol.md,
/// "Non-HTTP triggers and output bindings"); `status` is
/// `None` on a first run.
pub fn timer_invocation(
    function: &FunctionFolder,
    status: Option<ScheduleStatus>,
    is_past_due: bool,
    sys: &Sys,
) -> Value {
    let status = status.map_or(Value::Null, |s| {
        json!({"Last": s.last.iso(), "Next": s.next.iso(), "LastUpdated": s.last_updated.iso()})
    });
    let mut data = Map::new();
    data.insert(
        function.trigger().name.clone(),
        json!({"Schedule": {"AdjustForDST": true}, "ScheduleStatus": status, "IsPastDue": is_past_due}),
    );
    json!({"Data": data, "Metadata": {"sys": sys.to_json()}})
}

/// The body for any other trigger: a JSON object or array input as real
/// JSON, anything else as a double-encoded string (docs/host-protocol.md,
/// "Non-HTTP triggers and output bindings").
pub fn other_invocation(function: &FunctionFolder, input: &str, sys: &Sys) -> Value {
    let value = match serde_json::from_str::<Value>(input) {
        _ if function.trigger().is_binary() => trigger_text(function, input),
        Ok(value @ (Value::Object(_) | Value::Array(_))) => value,
        _ => double_encode_str(input),
    };
    let mut data = Map::new();
    data.insert(function.trigger().name.clone(), value);
    json!({"Data": data, "Metadata": {"sys": sys.to_json()}})
}

/// The body for a non-HTTP trigger fed `input` by hand (the admin endpoint
/// or `invoke --data-file`): a queue message's text, ignored for a timer.
pub fn non_http_invocation(function: &FunctionFolder, input: &str, sys: &Sys) -> Value {
    match function.trigger_kind() {
        TriggerKind::Queue => queue_invocation(function, &QueueMessage::new(input), sys),
        TriggerKind::Timer => timer_invocation(function, None, false, sys),
        TriggerKind::Http | TriggerKind::Other => other_invocation(function, input, sys),
    }
}
