//! The invocation body the host sends (host-protocol.md sections 2 and 6)
//! and what the host makes of the handler's reply (sections 3 and 6).

use serde_json::{Map, Value, json};

use crate::app::{Binding, FunctionFolder, TriggerKind};
use crate::base64;
use crate::client::HttpReply;
use crate::clock::UtcTime;
use crate::dotnet;
use crate::http_response::caller_response;
use crate::ids::new_guid;
use crate::query::{query_last_values, query_values};
use crate::warnings::{Rule, Warning};

// ---------------------------------------------------------------------------
// Host -> handler
// ---------------------------------------------------------------------------

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

/// The body of an HTTP-triggered invocation (section 2). `params` are the
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

    // Metadata (section 2): each top-level property of a JSON body but
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

/// The body of a queue-triggered invocation (section 6): the message text
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
/// string (section 6).
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

/// The body of a timer-triggered invocation (section 6); `status` is
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
/// JSON, anything else as a double-encoded string (section 6).
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

// ---------------------------------------------------------------------------
// Handler -> host
// ---------------------------------------------------------------------------

/// Whether the invocation completed, as the host sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Succeeded,
    /// The host fails the invocation (HTTP callers get an empty 500).
    Failed(String),
    /// The host would wait until the function timeout, then restart the
    /// handler.
    Hangs(String),
}

/// What an HTTP caller gets back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl CallerResponse {
    /// The empty 500 of a failed invocation.
    pub fn failed() -> CallerResponse {
        CallerResponse {
            status: 500,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str())
    }
}

/// What one output binding gets written.
#[derive(Clone, Debug, PartialEq)]
pub enum Written {
    /// Null or absent: the host writes nothing.
    Nothing,
    Text(String),
    Json(Value),
    /// A string the host took for base64.
    Bytes(Vec<u8>),
    /// An HTTP output: the caller's response.
    Http(CallerResponse),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// The binding's `type`, e.g. `queue`.
    pub kind: String,
    /// The binding's `name`, e.g. `$return` or `areas`.
    pub binding: String,
    pub value: Written,
}

/// The most of one output's value a console line shows.
pub const SHOWN_VALUE: usize = 4096;

/// `text`, cut to [`SHOWN_VALUE`] bytes (at a character) with a note of
/// its whole size: a 100 MiB body is not one terminal line.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= SHOWN_VALUE {
        return text.into();
    }
    let mut end = SHOWN_VALUE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all)", &text[..end], text.len()).into()
}

impl std::fmt::Display for Output {
    /// `queue areas <- {"radius":2}`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} <- ", self.kind, self.binding)?;
        match &self.value {
            Written::Nothing => write!(f, "(nothing: null or not set)"),
            Written::Text(text) => write!(f, "{}", shown(text)),
            Written::Json(value) => write!(f, "{}", shown(&value.to_string())),
            Written::Bytes(bytes) => write!(
                f,
                "{} bytes (base64-decoded): {:?}",
                bytes.len(),
                shown(&String::from_utf8_lossy(bytes))
            ),
            Written::Http(response) => write!(
                f,
                "{} {} {}",
                response.status,
                response.content_type().unwrap_or("(no content type)"),
                shown(&String::from_utf8_lossy(&response.body))
            ),
        }
    }
}

/// Everything the host makes of one reply.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub verdict: Verdict,
    pub logs: Vec<String>,
    /// False when the host throws the logs away (a non-2xx reply).
    pub logs_kept: bool,
    /// For an HTTP trigger: what the caller gets.
    pub response: Option<CallerResponse>,
    /// Every output binding, in function.json order (successful replies).
    pub outputs: Vec<Output>,
    pub warnings: Vec<Warning>,
    /// From sending the invocation to reading the reply.
    pub duration: std::time::Duration,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.verdict == Verdict::Succeeded
    }

    /// An invocation the handler did not answer at all.
    pub fn no_reply(function: &FunctionFolder, reason: String) -> Outcome {
        Outcome {
            verdict: Verdict::Failed(reason),
            logs: Vec::new(),
            logs_kept: false,
            response: http_failure(function),
            outputs: Vec::new(),
            warnings: Vec::new(),
            duration: std::time::Duration::ZERO,
        }
    }
}

fn http_failure(function: &FunctionFolder) -> Option<CallerResponse> {
    (function.trigger_kind() == TriggerKind::Http).then(CallerResponse::failed)
}

/// A top-level envelope field, any case.
fn top_level<'a>(envelope: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    envelope
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn logs_of(envelope: &Map<String, Value>) -> Vec<String> {
    match top_level(envelope, "Logs") {
        Some(Value::Array(lines)) => lines
            .iter()
            .map(|line| match line {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn media_type(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Reads the handler's reply to an invocation of `function` as the host
/// does (sections 3 and 6).
pub fn read_reply(function: &FunctionFolder, reply: &HttpReply) -> Outcome {
    let is_http = function.trigger_kind() == TriggerKind::Http;
    let parsed: Option<Map<String, Value>> = match reply.try_json() {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    let mut outcome = Outcome {
        verdict: Verdict::Succeeded,
        logs: parsed.as_ref().map(logs_of).unwrap_or_default(),
        logs_kept: true,
        response: None,
        outputs: Vec::new(),
        warnings: Vec::new(),
        duration: std::time::Duration::ZERO,
    };
    let trimmed = String::from_utf8_lossy(&reply.body).trim().to_owned();
    if reply.status == 204 {
        return hangs(outcome, "the handler answered 204 No Content".into());
    }
    if !(200..300).contains(&reply.status) {
        let reason = format!("the handler answered {}", reply.status);
        if is_http {
            outcome
                .warnings
                .push(Warning::new(Rule::HttpNon2xx, reason.clone()));
        }
        outcome.logs_kept = false;
        return failed(
            outcome,
            function,
            format!("{reason}: the host fails the invocation"),
        );
    }
    // The host reads a reply as JSON when its content type says so:
    // application/json or text/json.
    if !matches!(
        media_type(reply.content_type.as_deref()).as_str(),
        "application/json" | "text/json"
    ) {
        let detail = format!(
            "the reply's content type is {}",
            reply.content_type.as_deref().unwrap_or("missing")
        );
        outcome
            .warnings
            .push(Warning::new(Rule::NotJson, detail.clone()));
        return failed(outcome, function, detail);
    }
    if trimmed.is_empty() || trimmed == "null" {
        let detail = if trimmed.is_empty() {
            "the reply's body is empty"
        } else {
            "the reply's body is null"
        };
        return hangs(outcome, detail.into());
    }
    let Some(envelope) = parsed else {
        let detail = match reply.try_json() {
            Err(e) => format!("the reply is not valid JSON ({e})"),
            Ok(_) => "the reply is JSON but not an object".to_owned(),
        };
        outcome
            .warnings
            .push(Warning::new(Rule::InvalidJson, detail.clone()));
        return failed(outcome, function, detail);
    };

    let outputs = match top_level(&envelope, "Outputs") {
        Some(Value::Object(outputs)) => outputs.clone(),
        _ => Map::new(),
    };
    let return_value = top_level(&envelope, "ReturnValue")
        .cloned()
        .unwrap_or(Value::Null);
    check_output_names(function, &outputs, &mut outcome.warnings);

    for binding in function.outputs() {
        let value = if binding.name == "$return" {
            &return_value
        } else {
            outputs.get(&binding.name).unwrap_or(&Value::Null)
        };
        let written = if binding.is_kind("http") {
            let response = caller_response(binding, value, &mut outcome.warnings);
            if is_http {
                outcome.response = Some(response.clone());
            }
            Written::Http(response)
        } else {
            written_value(binding, value, &mut outcome.warnings)
        };
        outcome.outputs.push(Output {
            kind: binding.kind.clone(),
            binding: binding.name.clone(),
            value: written,
        });
    }
    if is_http && outcome.response.is_none() {
        // No http output binding: the caller gets an empty success.
        outcome.response = Some(CallerResponse {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        });
    }
    outcome
}

fn failed(mut outcome: Outcome, function: &FunctionFolder, reason: String) -> Outcome {
    outcome.verdict = Verdict::Failed(reason);
    outcome.response = http_failure(function);
    outcome
}

fn hangs(mut outcome: Outcome, detail: String) -> Outcome {
    outcome
        .warnings
        .push(Warning::new(Rule::EmptyReply, detail.clone()));
    outcome.verdict = Verdict::Hangs(format!(
        "{detail}: the real host would wait until the function timeout, then kill and restart the handler"
    ));
    outcome
}

fn check_output_names(
    function: &FunctionFolder,
    outputs: &Map<String, Value>,
    warnings: &mut Vec<Warning>,
) {
    for key in outputs.keys() {
        if key == "$return" {
            warnings.push(Warning::new(
                Rule::ReturnInOutputs,
                "Outputs[\"$return\"] is set".to_owned(),
            ));
            continue;
        }
        if function.output(key).is_some() {
            continue;
        }
        match function
            .outputs()
            .find(|b| b.name.eq_ignore_ascii_case(key))
        {
            Some(binding) => warnings.push(Warning::new(
                Rule::OutputCase,
                format!(
                    "Outputs[\"{key}\"] differs in case from the binding \"{}\"",
                    binding.name
                ),
            )),
            None => warnings.push(Warning::new(
                Rule::UnknownOutput,
                format!("Outputs[\"{key}\"] names no output binding"),
            )),
        }
    }
}

fn describe_source(binding: &Binding) -> String {
    if binding.name == "$return" {
        "ReturnValue".to_owned()
    } else {
        format!("Outputs[\"{}\"]", binding.name)
    }
}

/// A non-HTTP output's value (section 6).
fn written_value(binding: &Binding, value: &Value, warnings: &mut Vec<Warning>) -> Written {
    match value {
        Value::Null => Written::Nothing,
        Value::String(text) => match base64::decode(text) {
            Some(bytes) if !binding.is_binary() => {
                warnings.push(Warning::new(
                    Rule::Base64String,
                    format!("{} is the string {text:?}", describe_source(binding)),
                ));
                Written::Bytes(bytes)
            }
            _ => Written::Text(text.clone()),
        },
        other => Written::Json(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Direction, FunctionFolder};

    pub(crate) fn binding(kind: &str, direction: Direction, name: &str) -> Binding {
        serde_json::from_value(json!({
            "type": kind,
            "direction": match direction { Direction::In => "in", Direction::Out => "out", Direction::InOut => "inout" },
            "name": name,
        }))
        .expect("binding")
    }

    pub(crate) fn http_function() -> FunctionFolder {
        FunctionFolder {
            name: "Area".into(),
            bindings: vec![
                binding("httpTrigger", Direction::In, "req"),
                binding("http", Direction::Out, "$return"),
            ],
        }
    }

    pub(crate) fn queue_function() -> FunctionFolder {
        FunctionFolder {
            name: "Areas".into(),
            bindings: vec![
                binding("queueTrigger", Direction::In, "item"),
                binding("queue", Direction::Out, "areas"),
            ],
        }
    }

    fn sys() -> Sys {
        Sys {
            method_name: "Area".into(),
            utc_now: UtcTime { unix: 0 },
            rand_guid: "g".into(),
        }
    }

    pub(crate) fn reply(status: u16, content_type: Option<&str>, body: &str) -> HttpReply {
        HttpReply {
            status,
            content_type: content_type.map(str::to_owned),
            headers: Default::default(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn http_request_envelope() {
        let request = CallerRequest {
            method: "post".into(),
            url: "http://localhost:7071/api/Area/7?a=1&a=2&name=At%20las".into(),
            headers: vec![
                ("accept".into(), "*/*".into()),
                ("x-many".into(), "one".into()),
                ("X-Many".into(), "two".into()),
                ("content-type".into(), "application/json".into()),
            ],
            body: Some(br#"{"radius":2,"label":"r","nested":{"x":1}}"#.to_vec()),
        };
        let params = vec![
            ("id".to_owned(), Some("7".to_owned())),
            ("opt".to_owned(), None),
        ];
        let body = http_invocation(&http_function(), &request, &params, &sys());
        assert_eq!(body.as_object().map(|o| o.len()), Some(2));
        let req = &body["Data"]["req"];
        assert_eq!(
            req["Url"],
            "http://localhost:7071/api/Area/7?a=1&a=2&name=At%20las"
        );
        assert_eq!(req["Method"], "POST");
        assert_eq!(req["Query"], json!({"a": "1,2", "name": "At las"}));
        assert_eq!(req["Headers"]["Accept"], json!(["*/*"]));
        assert_eq!(req["Headers"]["X-Many"], json!(["one", "two"]));
        assert_eq!(req["Params"], json!({"id": "7", "opt": null}));
        assert_eq!(req["Identities"][0]["IsAuthenticated"], false);
        assert_eq!(req["Body"], r#"{"radius":2,"label":"r","nested":{"x":1}}"#);
        let meta = &body["Metadata"];
        // The last of a repeated query value, double-encoded.
        assert_eq!(meta["a"], "\"2\"");
        assert_eq!(meta["name"], "\"At las\"");
        assert_eq!(meta["id"], "\"7\"");
        // A JSON body's number turned to text, then double-encoded.
        assert_eq!(meta["radius"], "\"2\"");
        assert_eq!(meta["label"], "\"r\"");
        // Objects are kept as JSON.
        assert_eq!(meta["nested"], json!({"x": 1}));
        assert!(meta.get("opt").is_none());
        assert_eq!(meta["Query"], json!({"a": "2", "name": "At las"}));
        assert_eq!(meta["Headers"]["X-Many"], "one,two");
        assert_eq!(
            meta["sys"],
            json!({"MethodName": "Area", "UtcNow": "1970-01-01T00:00:00Z", "RandGuid": "g"})
        );
    }

    #[test]
    fn metadata_as_the_host_builds_it() {
        let request = CallerRequest {
            method: "POST".into(),
            url: "http://localhost:7071/api/Area?code=secret&x=1&X=2&list=a&list=b".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(
                br#"{"n":2,"f":2.5,"big":1e20,"yes":true,"no":false,"s":"t","arr":[1],"nil":null,"obj":{"deep":{"z":true}}}"#
                    .to_vec(),
            ),
        };
        let body = http_invocation(&http_function(), &request, &[], &sys());
        let meta = &body["Metadata"];
        assert_eq!(meta["n"], "\"2\"");
        assert_eq!(meta["f"], "\"2.5\"");
        assert_eq!(meta["big"], "\"1E+20\"");
        assert_eq!(meta["yes"], "\"True\"");
        assert_eq!(meta["no"], "\"False\"");
        assert_eq!(meta["s"], "\"t\"");
        assert!(meta.get("arr").is_none());
        assert_eq!(meta["obj"], json!({"deep": {"z": true}}));
        // The key `code` is left out at the top; the last value wins.
        assert!(meta.get("code").is_none());
        assert_eq!(meta["x"], "\"2\"");
        assert_eq!(meta["list"], "\"b\"");
        assert_eq!(
            meta["Query"],
            json!({"code": "secret", "x": "2", "list": "b"})
        );
        // Data keeps the comma-joined values.
        assert_eq!(
            body["Data"]["req"]["Query"],
            json!({"code": "secret", "x": "1,2", "list": "a,b"})
        );
    }

    #[test]
    fn http_body_only_when_sent_and_binary_as_base64() {
        let mut request = CallerRequest {
            method: "GET".into(),
            url: "http://localhost:7071/api/Area".into(),
            ..CallerRequest::default()
        };
        let body = http_invocation(&http_function(), &request, &[], &sys());
        assert!(body["Data"]["req"].get("Body").is_none());
        assert_eq!(body["Data"]["req"]["Query"], json!({}));
        assert_eq!(body["Data"]["req"]["Params"], json!({}));
        request.headers = vec![("Content-Type".into(), "application/octet-stream".into())];
        request.body = Some(vec![0, 255, 1]);
        let body = http_invocation(&http_function(), &request, &[], &sys());
        assert_eq!(body["Data"]["req"]["Body"], "AP8B");
        request.headers = vec![(
            "Content-Type".into(),
            "multipart/form-data; boundary=x".into(),
        )];
        request.body = Some(b"hi".to_vec());
        let body = http_invocation(&http_function(), &request, &[], &sys());
        assert_eq!(body["Data"]["req"]["Body"], "aGk=");
    }

    #[test]
    fn queue_envelope_double_encodes_the_text() {
        let message = QueueMessage::new(r#"{"a":1}"#);
        let body = queue_invocation(&queue_function(), &message, &sys());
        let wire = serde_json::to_string(&body["Data"]).expect("json");
        assert_eq!(wire, r#"{"item":"\"{\\\"a\\\":1}\""}"#);
        let meta = &body["Metadata"];
        assert_eq!(meta["DequeueCount"], "1");
        assert_eq!(meta["Id"], format!("\"{}\"", message.id));
        assert_eq!(meta["PopReceipt"], format!("\"{}\"", message.pop_receipt));
        assert_eq!(meta["InsertionTime"], message.insertion_time.iso());
        assert!(meta.get("QueueTrigger").is_none());
        assert_eq!(meta["sys"]["MethodName"], "Area");
        let hello = queue_invocation(&queue_function(), &QueueMessage::new("hello"), &sys());
        assert_eq!(hello["Data"]["item"], "\"hello\"");
    }

    #[test]
    fn a_binary_trigger_gets_its_bytes_as_one_plain_base64_string() {
        let mut function = queue_function();
        function.bindings[0].data_type = Some("binary".into());
        let body = queue_invocation(&function, &QueueMessage::new("hi"), &sys());
        assert_eq!(body["Data"]["item"], "aGk=");
        function.bindings[0].kind = "blobTrigger".into();
        let body = other_invocation(&function, r#"{"a":1}"#, &sys());
        assert_eq!(body["Data"]["item"], base64::encode(br#"{"a":1}"#));
    }

    #[test]
    fn timer_and_other_envelopes() {
        let mut timer = queue_function();
        timer.bindings = vec![binding("timerTrigger", Direction::In, "timer")];
        let body = timer_invocation(&timer, None, false, &sys());
        assert_eq!(
            body["Data"]["timer"],
            json!({"Schedule": {"AdjustForDST": true}, "ScheduleStatus": null, "IsPastDue": false})
        );
        assert_eq!(body["Metadata"].as_object().map(|m| m.len()), Some(1));
        let status = ScheduleStatus {
            last: UtcTime { unix: 0 },
            next: UtcTime { unix: 300 },
            last_updated: UtcTime { unix: 0 },
        };
        let body = timer_invocation(&timer, Some(status), false, &sys());
        assert_eq!(
            body["Data"]["timer"]["ScheduleStatus"]["Next"],
            "1970-01-01T00:05:00Z"
        );

        let mut other = queue_function();
        other.bindings = vec![binding("blobTrigger", Direction::In, "blob")];
        assert_eq!(
            other_invocation(&other, r#"{"x":1}"#, &sys())["Data"]["blob"],
            json!({"x": 1})
        );
        assert_eq!(
            other_invocation(&other, "hi", &sys())["Data"]["blob"],
            "\"hi\""
        );
        assert_eq!(
            other_invocation(&other, "3", &sys())["Data"]["blob"],
            "\"3\""
        );
    }

    #[test]
    fn http_return_value_with_body() {
        let outcome = read_reply(
            &http_function(),
            &reply(
                200,
                Some("application/json"),
                r#"{"Outputs":{},"Logs":["one"],"ReturnValue":{"statusCode":"201","headers":{"Content-Type":"application/json"},"body":"{\"a\":1}"}}"#,
            ),
        );
        assert!(outcome.succeeded());
        assert_eq!(outcome.logs, ["one"]);
        assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
        let response = outcome.response.expect("response");
        assert_eq!(response.status, 201);
        assert_eq!(
            response.content_type(),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(response.body, br#"{"a":1}"#);
    }

    #[test]
    fn http_return_value_shapes() {
        let read = |body: &str| {
            read_reply(
                &http_function(),
                &reply(200, Some("application/json; charset=utf-8"), body),
            )
            .response
            .expect("response")
        };
        let r = read(r#"{"returnvalue":{"status":404,"body":"gone"}}"#);
        assert_eq!((r.status, r.body.as_slice()), (404, b"gone".as_slice()));
        assert_eq!(r.content_type(), Some("text/plain; charset=utf-8"));
        let r = read(r#"{"ReturnValue":{"radius":2}}"#);
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, b"{\n  \"radius\": 2\n}".as_slice())
        );
        assert_eq!(r.content_type(), Some("text/plain; charset=utf-8"));
        let r = read(r#"{"ReturnValue":"test"}"#);
        assert_eq!(r.body, vec![0xb5, 0xeb, 0x2d]);
        let r = read(r#"{"ReturnValue":"hello"}"#);
        assert_eq!(r.body, b"hello");
    }

    #[test]
    fn named_http_output_ignores_status_and_pretty_prints() {
        let mut function = http_function();
        function.bindings[1].name = "res".into();
        let outcome = read_reply(
            &function,
            &reply(
                200,
                Some("application/json"),
                r#"{"Outputs":{"res":{"status":404,"body":{"a":1}}}}"#,
            ),
        );
        let response = outcome.response.expect("response");
        assert_eq!(response.status, 200);
        assert_eq!(String::from_utf8_lossy(&response.body), "{\n  \"a\": 1\n}");
        let outcome = read_reply(
            &function,
            &reply(
                200,
                Some("application/json"),
                r#"{"Outputs":{"res":{"statusCode":404,"body":"x"}}}"#,
            ),
        );
        assert_eq!(outcome.response.map(|r| r.status), Some(404));
    }

    #[test]
    fn queue_outputs() {
        let read = |body: &str| {
            read_reply(
                &queue_function(),
                &reply(200, Some("application/json"), body),
            )
        };
        let outcome = read(r#"{"Outputs":{"areas":{"radius":2}},"Logs":[]}"#);
        assert!(outcome.succeeded());
        assert!(outcome.response.is_none());
        assert_eq!(
            outcome.outputs[0].value,
            Written::Json(json!({"radius": 2}))
        );
        assert_eq!(
            outcome.outputs[0].to_string(),
            r#"queue areas <- {"radius":2}"#
        );
        assert_eq!(
            read(r#"{"Outputs":{"areas":null}}"#).outputs[0].value,
            Written::Nothing
        );
        assert_eq!(read(r#"{"Outputs":{}}"#).outputs[0].value, Written::Nothing);
        assert_eq!(
            read(r#"{"Outputs":{"areas":"hello world"}}"#).outputs[0].value,
            Written::Text("hello world".into())
        );
        assert_eq!(
            read(r#"{"Outputs":{"areas":"abcd"}}"#).outputs[0].value,
            Written::Bytes(vec![0x69, 0xb7, 0x1d])
        );
        let mut binary = queue_function();
        binary.bindings[1].data_type = Some("binary".into());
        let outcome = read_reply(
            &binary,
            &reply(
                200,
                Some("application/json"),
                r#"{"Outputs":{"areas":"abcd"}}"#,
            ),
        );
        assert_eq!(outcome.outputs[0].value, Written::Text("abcd".into()));
        assert!(outcome.warnings.is_empty());
    }

    #[test]
    fn failures_and_hangs() {
        let outcome = read_reply(
            &queue_function(),
            &reply(500, Some("application/json"), r#"{"Logs":["boom"]}"#),
        );
        assert!(matches!(outcome.verdict, Verdict::Failed(_)));
        assert!(!outcome.logs_kept);
        assert_eq!(outcome.logs, ["boom"]);
        assert!(outcome.outputs.is_empty());
        let outcome = read_reply(&http_function(), &reply(200, Some("application/json"), ""));
        assert!(matches!(outcome.verdict, Verdict::Hangs(_)));
        let outcome = read_reply(
            &http_function(),
            &reply(200, Some("application/json"), "[1]"),
        );
        assert!(matches!(outcome.verdict, Verdict::Failed(_)));
        assert_eq!(outcome.response, Some(CallerResponse::failed()));
    }

    #[test]
    fn long_values_are_shown_cut() {
        let long = "é".repeat(SHOWN_VALUE);
        let output = Output {
            kind: "queue".into(),
            binding: "q".into(),
            value: Written::Text(long.clone()),
        };
        let line = output.to_string();
        assert!(line.len() < SHOWN_VALUE + 64, "{}", line.len());
        assert!(line.ends_with(&format!("... ({} bytes in all)", long.len())));
        let short = Output {
            value: Written::Text("x".repeat(SHOWN_VALUE)),
            ..output
        };
        assert!(!short.to_string().contains("bytes in all"));
    }

    #[test]
    fn header_helpers() {
        assert_eq!(
            canonical_header_name("x-azure-functions-invocationid"),
            "X-Azure-Functions-Invocationid"
        );
        assert_eq!(double_encode(&json!(1)), json!("1"));
        assert_eq!(double_encode(&json!(true)), json!("true"));
    }
}
