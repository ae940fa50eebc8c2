//! What the host makes of the handler's reply (docs/host-protocol.md sections
//! 3 and 6).

use serde_json::{Map, Value};

use crate::app::{Binding, FunctionFolder, TriggerKind};
use crate::dotnet::base64;
use crate::handler::client::HttpReply;
use crate::host::http_response::caller_response;
use crate::host::warnings::{Rule, Warning};

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
    /// The logs were shown as they came, before the answer (a language
    /// worker's RpcLogs): [`report`](crate::host::invocation::report)
    /// does not show them again.
    pub logs_shown: bool,
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
            logs_shown: false,
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
/// does (docs/host-protocol.md, "handler -> host" and "Non-HTTP triggers
/// and output bindings").
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
        logs_shown: false,
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

/// A non-HTTP output's value (docs/host-protocol.md, "Non-HTTP triggers
/// and output bindings").
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
