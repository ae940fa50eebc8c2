//! An HTTP output's value made into the caller's response, as the host
//! does it (docs/host-protocol.md, "handler -> host"; HttpBinding, ScriptObjectResult):
//! the response object's status, headers and body, and the replies the
//! host cannot send as they are, which get the host's answer (an empty 500)
//! and a warning instead of reaching the caller, or hyper, unchecked.

use serde_json::{Map, Value};

use crate::app::Binding;
use crate::base64;
use crate::dotnet;
use crate::envelope::CallerResponse;
use crate::warnings::{Rule, Warning};

/// The caller's response from the value of `binding` (`$return` takes
/// `ReturnValue`; a named output its `Outputs` entry).
pub fn caller_response(
    binding: &Binding,
    value: &Value,
    warnings: &mut Vec<Warning>,
) -> CallerResponse {
    let is_return = binding.name == "$return";
    let source = if is_return {
        "ReturnValue".to_owned()
    } else {
        format!("Outputs[\"{}\"]", binding.name)
    };
    match value {
        Value::String(text) => {
            // The custom handler's output conversion decodes base64 first.
            if let Some(bytes) = base64::decode(text) {
                warnings.push(Warning::new(
                    Rule::Base64String,
                    format!("{source} is the string {text:?}"),
                ));
                return plain(200, bytes);
            }
            // Then HttpBinding parses a string that holds a JSON object or
            // array, and goes on with that.
            match serde_json::from_str::<Value>(text) {
                Ok(parsed @ (Value::Object(_) | Value::Array(_))) => {
                    caller_response(binding, &parsed, warnings)
                }
                _ => plain(200, text.clone().into_bytes()),
            }
        }
        Value::Object(object) if field(object, "body").is_some() || !is_return => {
            match response_object(object, is_return, &source) {
                Ok(response) => response,
                Err(warning) => {
                    warnings.push(warning);
                    CallerResponse::failed()
                }
            }
        }
        // An object without body, or an array: indented JSON, .NET style.
        Value::Object(_) | Value::Array(_) => plain(200, dotnet::indented(value).into_bytes()),
        Value::Null => CallerResponse {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        },
        other => plain(200, other.to_string().into_bytes()),
    }
}

fn plain(status: u16, body: Vec<u8>) -> CallerResponse {
    CallerResponse {
        status,
        headers: vec![(
            "Content-Type".to_owned(),
            "text/plain; charset=utf-8".to_owned(),
        )],
        body,
    }
}

/// A field of an object, any case (the host's ExpandoObject look-ups).
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn refused(rule: Rule, detail: String) -> Warning {
    Warning::new(rule, detail)
}

/// An object with `body` (or any object in a named output): status,
/// headers and body, each checked as Kestrel would take it.
fn response_object(
    object: &Map<String, Value>,
    is_return: bool,
    source: &str,
) -> Result<CallerResponse, Warning> {
    // `statusCode` present, even null, is the only status looked at; a
    // named output never reads `status`.
    let status = match (field(object, "statusCode"), is_return) {
        (Some(value), _) => status_of(value, source, "statusCode")?,
        (None, true) => match field(object, "status") {
            Some(value) => status_of(value, source, "status")?,
            None => None,
        },
        (None, false) => None,
    }
    .unwrap_or(200);

    let body = match field(object, "body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(structured) if !is_return => serde_json::to_string_pretty(structured)
            .unwrap_or_default()
            .into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    };

    if !(200..=999).contains(&status) {
        return Err(refused(
            Rule::BadStatus,
            format!("{source} has the status {status}"),
        ));
    }
    if matches!(status, 204 | 205 | 304) && !body.is_empty() {
        return Err(refused(
            Rule::BadStatus,
            format!(
                "{source} has the status {status} and a body of {} bytes",
                body.len()
            ),
        ));
    }

    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(Value::Object(given)) = field(object, "headers") {
        for (name, value) in given {
            // ScriptObjectResult: header.Value.ToString().
            let text = dotnet::to_string(value).ok_or_else(|| {
                refused(
                    Rule::NullHeader,
                    format!("{source}.headers[\"{name}\"] is null"),
                )
            })?;
            if !is_token(name) || !is_field_value(&text) {
                return Err(refused(
                    Rule::BadHeader,
                    format!(
                        "{source}.headers has {name:?}: {text:?}, which is not a valid HTTP header"
                    ),
                ));
            }
            // The response's headers are case-insensitive: the first
            // spelling wins, a later one is left out.
            if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                continue;
            }
            headers.push((name.clone(), text));
        }
    }

    if let Some((_, declared)) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        let agrees = declared.trim().parse::<u64>().ok() == Some(body.len() as u64);
        if !agrees {
            return Err(refused(
                Rule::ContentLength,
                format!(
                    "{source}.headers says Content-Length: {declared}, but the body is {} bytes",
                    body.len()
                ),
            ));
        }
    }

    match headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        Some((_, value)) => {
            let lower = value.to_ascii_lowercase();
            let media = lower.split(';').next().unwrap_or("").trim().to_owned();
            if media == "application/json" && !lower.contains("charset") {
                value.push_str("; charset=utf-8");
            }
        }
        None => headers.push((
            "Content-Type".to_owned(),
            "text/plain; charset=utf-8".to_owned(),
        )),
    }
    Ok(CallerResponse {
        status: status as u16,
        headers,
        body,
    })
}

/// The status a `statusCode`/`status` value gives (HttpBinding's
/// TryParseStatusCode): an integer, or a string holding one; anything else
/// (null, a fraction, text) leaves the default 200. An integer past
/// `int` fails the response, as Convert.ToInt32 throws.
fn status_of(value: &Value, source: &str, key: &str) -> Result<Option<i64>, Warning> {
    match value {
        Value::Number(number) => {
            if let Some(n) = number.as_i64() {
                if i32::try_from(n).is_ok() {
                    return Ok(Some(n));
                }
            } else if number.as_u64().is_none() {
                // A fraction is a double: not a status at all.
                return Ok(None);
            }
            Err(refused(
                Rule::BadStatus,
                format!("{source}.{key} is {number}, past the range of an int"),
            ))
        }
        Value::String(text) => Ok(text.trim().parse::<i32>().ok().map(i64::from)),
        _ => Ok(None),
    }
}

/// An HTTP token (RFC 9110): what a header name may be.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Kestrel sends ASCII header values only, without control characters
/// (tab aside).
fn is_field_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn binding(name: &str) -> Binding {
        serde_json::from_value(json!({"type": "http", "direction": "out", "name": name}))
            .expect("binding")
    }

    /// The response and the rules warned about.
    fn answer(value: Value) -> (CallerResponse, Vec<Rule>) {
        let mut warnings = Vec::new();
        let response = caller_response(&binding("$return"), &value, &mut warnings);
        (response, warnings.iter().map(|w| w.rule).collect())
    }

    #[test]
    fn statuses_as_the_host_parses_them() {
        let status = |value: Value| answer(json!({"body": "x", "statusCode": value})).0.status;
        assert_eq!(status(json!(201)), 201);
        assert_eq!(status(json!(" 202 ")), 202);
        assert_eq!(status(json!("abc")), 200);
        assert_eq!(status(json!(201.5)), 200);
        assert_eq!(status(json!(true)), 200);
        // statusCode: null blocks status.
        let blocked = answer(json!({"body": "x", "statusCode": null, "status": 404}));
        assert_eq!(blocked.0.status, 200);
        assert_eq!(answer(json!({"body": "x", "status": "404"})).0.status, 404);
    }

    #[test]
    fn statuses_the_host_cannot_send_get_500_and_a_warning() {
        for bad in [
            json!(101),
            json!("101"),
            json!(99),
            json!("99999"),
            json!(-5),
            json!(4_294_967_296_i64),
        ] {
            let (response, rules) = answer(json!({"body": "x", "statusCode": bad}));
            assert_eq!(response, CallerResponse::failed(), "{bad}");
            assert_eq!(rules, [Rule::BadStatus], "{bad}");
        }
        let (response, rules) = answer(json!({"body": "not empty", "statusCode": 204}));
        assert_eq!((response.status, rules), (500, vec![Rule::BadStatus]));
        assert_eq!(answer(json!({"body": "", "statusCode": 204})).0.status, 204);
        assert_eq!(answer(json!({"body": "", "statusCode": 999})).0.status, 999);
    }

    #[test]
    fn headers_the_host_refuses() {
        let (response, rules) = answer(json!({"body": "x", "headers": {"X-A": null}}));
        assert_eq!((response.status, rules), (500, vec![Rule::NullHeader]));
        for bad in [
            json!({"X-A": "one\r\nX-Forged: two"}),
            json!({"X-A": "caf\u{e9}"}),
            json!({"Bad Name": "x"}),
            json!({"": "x"}),
        ] {
            let (response, rules) = answer(json!({"body": "x", "headers": bad}));
            assert_eq!(
                (response.status, rules),
                (500, vec![Rule::BadHeader]),
                "{bad}"
            );
        }
        let (response, rules) =
            answer(json!({"body": "hello", "headers": {"Content-Length": "3"}}));
        assert_eq!((response.status, rules), (500, vec![Rule::ContentLength]));
        let (response, rules) =
            answer(json!({"body": "hello", "headers": {"Content-Length": "many"}}));
        assert_eq!((response.status, rules), (500, vec![Rule::ContentLength]));
        let (response, rules) =
            answer(json!({"body": "hello", "headers": {"Content-Length": "5"}}));
        assert_eq!((response.status, rules.len()), (200, 0));
    }

    #[test]
    fn header_values_as_dotnet_writes_them() {
        let (response, _) = answer(json!({"body": "x", "headers": {
            "X-Bool": true, "X-Number": 5, "X-Object": {"a": 1}, "x-bool": "second"
        }}));
        let get = |name: &str| {
            response
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("X-Bool"), Some("True"));
        assert_eq!(get("X-Number"), Some("5"));
        assert_eq!(get("X-Object"), Some("System.Dynamic.ExpandoObject"));
        assert_eq!(get("x-bool"), None, "the first spelling wins");
    }

    #[test]
    fn objects_without_body_and_arrays_are_indented_json() {
        let (response, rules) = answer(json!({"radius": 2, "ok": true, "tags": ["a"], "none": {}}));
        assert!(rules.is_empty());
        assert_eq!(response.status, 200);
        // (serde_json's maps keep names sorted, not in the reply's order.)
        assert_eq!(
            String::from_utf8_lossy(&response.body),
            "{\n  \"none\": {},\n  \"ok\": True,\n  \"radius\": 2,\n  \"tags\": [\n    \"a\"\n  ]\n}"
        );
        let (response, _) = answer(json!([1, false]));
        assert_eq!(
            String::from_utf8_lossy(&response.body),
            "[\n  1,\n  False\n]"
        );
        // A string that holds JSON is parsed first.
        let (response, _) = answer(json!("{\"statusCode\": 201, \"body\": \"made\"}"));
        assert_eq!(
            (response.status, response.body.as_slice()),
            (201, b"made".as_slice())
        );
        let (response, _) = answer(json!("[true]"));
        assert_eq!(String::from_utf8_lossy(&response.body), "[\n  True\n]");
    }
}
