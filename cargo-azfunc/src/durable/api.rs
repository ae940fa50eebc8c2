//! The Durable extension's HTTP management API under
//! `/runtime/webhooks/durabletask`, with the extension's status codes, served
//! from the in-memory instances and entities of [`crate::durable`].

use std::sync::Arc;

use serde_json::{Value, json};

use crate::durable::route_value::route_value;
use crate::durable::{Durable, EntityId, InstanceQuery, RuntimeStatus, page_token};
use crate::timers::clock::UtcTime;

/// The API's path prefix.
pub const PREFIX: &str = "/runtime/webhooks/durabletask";

/// The header that carries a list's next page, both ways.
pub const CONTINUATION: &str = "x-ms-continuation-token";

/// An API answer: status, extra headers, JSON body (or none).
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

fn answer(status: u16, body: Value) -> ApiResponse {
    ApiResponse {
        status,
        headers: Vec::new(),
        body: Some(body),
    }
}

fn refuse(status: u16, message: impl Into<String>) -> ApiResponse {
    answer(status, json!({"message": message.into()}))
}

/// The part of `path` after the prefix, if it is an API path.
pub fn api_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(PREFIX)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

fn query_value(query: &str, name: &str) -> Option<String> {
    crate::query::query_values(query)
        .into_iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// The body as JSON text: `None` when empty, an error when not JSON.
fn json_body(body: &[u8]) -> Result<Option<String>, ApiResponse> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => Ok(Some(value.to_string())),
        Err(e) => Err(refuse(400, format!("the body is not JSON: {e}"))),
    }
}

/// An entity operation's input as JSON text: none for an empty body, the
/// JSON of an `application/json` one (400 when it is not JSON), and any
/// other body as a JSON string, as the extension reads it.
fn operation_input(body: &[u8], content_type: Option<&str>) -> Result<Option<String>, ApiResponse> {
    if body.is_empty() {
        return Ok(None);
    }
    if is_json_media(content_type) {
        return json_body(body);
    }
    Ok(Some(
        Value::String(String::from_utf8_lossy(body).into_owned()).to_string(),
    ))
}

/// Whether the Content-Type's media type is `application/json`, any case.
fn is_json_media(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The URL of the request itself, for a 202's `Location`.
fn request_url(base: &str, rest: &str, query: &str) -> String {
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{base}{PREFIX}{rest}{query}")
}

/// `DELETE .../instances`: purges the instances created from
/// `createdTimeFrom` (required) to `createdTimeTo` (default now) whose
/// status is in `runtimeStatus`; 404 when none was.
fn purge_where(durable: &Durable, query: &str) -> ApiResponse {
    let time = |name: &str| -> Result<Option<UtcTime>, String> {
        query_value(query, name)
            .map(|text| {
                UtcTime::parse_iso(&text)
                    .ok_or_else(|| format!("{name} {text:?} is not an ISO 8601 time"))
            })
            .transpose()
    };
    let from = match time("createdTimeFrom") {
        Ok(Some(from)) => from,
        Ok(None) => return refuse(400, "Please provide value for 'createdTimeFrom' parameter."),
        Err(message) => return refuse(400, message),
    };
    let to = match time("createdTimeTo") {
        Ok(to) => to.unwrap_or_else(UtcTime::now),
        Err(message) => return refuse(400, message),
    };
    let statuses = match query_value(query, "runtimeStatus").map(|list| statuses(&list)) {
        None => None,
        Some(Ok(statuses)) => Some(statuses),
        Some(Err(message)) => return refuse(400, message),
    };
    match durable.purge_where(from, to, statuses.as_deref()) {
        0 => refuse(404, "no instance matched the purge filter"),
        deleted => answer(200, json!({"instancesDeleted": deleted})),
    }
}

/// A comma-separated list of runtime statuses.
fn statuses(list: &str) -> Result<Vec<RuntimeStatus>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            RuntimeStatus::from_name(name).ok_or_else(|| {
                format!("runtimeStatus {name:?} is not Pending, Running, Suspended, Completed, Failed or Terminated")
            })
        })
        .collect()
}

/// The management URLs of instance `id`, as the 202 "check status" body
/// gives them; `base` is `http://host:port`.
pub fn check_status(base: &str, hub: &str, connection: &str, id: &str) -> Value {
    management_urls(&format!("{base}{PREFIX}"), hub, connection, id)
}

/// The extension's management URLs of instance `id` under the API's
/// `base`: each names the task hub and the connection in its query, and
/// terminate, rewind, suspend and resume take a `reason`.
fn management_urls(base: &str, hub: &str, connection: &str, id: &str) -> Value {
    let at = format!("{base}/instances/{}", url_encode(id));
    let suffix = format!(
        "taskHub={}&connection={}",
        url_encode(hub),
        url_encode(connection)
    );
    json!({
        "id": id,
        "statusQueryGetUri": format!("{at}?{suffix}"),
        "sendEventPostUri": format!("{at}/raiseEvent/{{eventName}}?{suffix}"),
        "terminatePostUri": format!("{at}/terminate?reason={{text}}&{suffix}"),
        "rewindPostUri": format!("{at}/rewind?reason={{text}}&{suffix}"),
        "purgeHistoryDeleteUri": format!("{at}?{suffix}"),
        "restartPostUri": format!("{at}/restart?{suffix}"),
        "suspendPostUri": format!("{at}/suspend?reason={{text}}&{suffix}"),
        "resumePostUri": format!("{at}/resume?reason={{text}}&{suffix}"),
    })
}

/// One API request: its method, the path after the prefix, the raw
/// query, the body and its content type, and the list's continuation
/// token if one was sent.
pub struct ApiRequest<'a> {
    pub method: &'a str,
    pub rest: &'a str,
    pub query: &'a str,
    pub body: &'a [u8],
    pub content_type: Option<&'a str>,
    pub continuation: Option<&'a str>,
}

/// Serves one API request; `base` is `http://host:port`.
pub fn serve(durable: &Arc<Durable>, request: &ApiRequest<'_>, base: &str) -> ApiResponse {
    let (method, rest, query, body) = (request.method, request.rest, request.query, request.body);
    // Route values as the extension matches them: escaped, `%2F` kept.
    let values: Result<Vec<String>, String> =
        rest.trim_matches('/').split('/').map(route_value).collect();
    let values = match values {
        Ok(values) => values,
        Err(message) => return refuse(400, message),
    };
    let segments: Vec<&str> = values.iter().map(String::as_str).collect();
    match (method, segments.as_slice()) {
        ("POST", ["orchestrators", name, more @ ..]) if more.len() <= 1 => {
            let input = match json_body(body) {
                Ok(input) => input,
                Err(refusal) => return refusal,
            };
            let instance_id = more.first().map(|id| (*id).to_owned());
            started(base, durable, durable.start(name, instance_id, input, None))
        }
        ("GET", ["instances"]) => match list_query(query, request.continuation) {
            Ok(wanted) => list(durable, &wanted),
            Err(message) => refuse(400, message),
        },
        ("DELETE", ["instances"]) => purge_where(durable, query),
        ("GET", ["instances", id]) => {
            let (show_input, show_history) = match (
                flag(query, "showInput", true),
                flag(query, "showHistory", false),
            ) {
                (Ok(input), Ok(history)) => (input, history),
                (Err(message), _) | (_, Err(message)) => return refuse(400, message),
            };
            match durable.status(id, show_input, show_history) {
                None => refuse(404, format!("no instance with id {id:?}")),
                Some((status, body)) if status.is_done() => answer(200, body),
                // Still running: the async 202 pattern, polled again here.
                Some((_, body)) => ApiResponse {
                    status: 202,
                    headers: vec![
                        ("Location".to_owned(), request_url(base, rest, query)),
                        ("Retry-After".to_owned(), "5".to_owned()),
                    ],
                    body: Some(body),
                },
            }
        }
        ("POST", ["instances", id, "restart"]) => {
            match flag(query, "restartWithNewInstanceId", true) {
                Ok(new_id) => started(base, durable, durable.restart(id, new_id)),
                Err(message) => refuse(400, message),
            }
        }
        ("DELETE", ["instances", id]) => {
            if durable.purge(id) {
                answer(200, json!({"instancesDeleted": 1}))
            } else {
                refuse(404, format!("no instance with id {id:?}"))
            }
        }
        ("POST", ["instances", id, "raiseEvent", event]) => {
            // Unknown (404) and finished (410) come before the body's checks.
            if let Err(refusal) = durable.takes_events(id) {
                return refuse(refusal.0, refusal.1);
            }
            if !is_json_media(request.content_type) {
                return refuse(400, "only application/json request content is supported");
            }
            let data = match json_body(body) {
                Ok(data) => data,
                Err(refusal) => return refusal,
            };
            accepted(durable.raise(id, event, data))
        }
        (
            "POST",
            [
                "instances",
                id,
                action @ ("terminate" | "suspend" | "resume"),
            ],
        ) => {
            let reason = query_value(query, "reason");
            accepted(match *action {
                "terminate" => durable.terminate(id, reason),
                "suspend" => durable.suspend(id, reason),
                _ => durable.resume(id, reason),
            })
        }
        ("POST" | "DELETE", ["entities", name, key]) => {
            let entity = EntityId::new(name, key);
            // DELETE is the operation `delete`, as the extension reads it.
            let operation = if method == "DELETE" {
                "delete".to_owned()
            } else {
                query_value(query, "op").unwrap_or_default()
            };
            let input = match operation_input(body, request.content_type) {
                Ok(input) => input,
                Err(refusal) => return refusal,
            };
            accepted(durable.signal_entity(&entity, &operation, input))
        }
        ("GET", ["entities", name, key]) => {
            // `$` stands for the empty key.
            let key = if *key == "$" { "" } else { key };
            let entity = EntityId::new(name, key);
            match durable.entity_state(&entity) {
                Some(state) => answer(
                    200,
                    serde_json::from_str(&state).unwrap_or(Value::String(state)),
                ),
                None => refuse(404, format!("entity {entity} has no state")),
            }
        }
        _ => refuse(
            404,
            format!("{method} {PREFIX}{rest}: no such management API call"),
        ),
    }
}

/// The 202 "check status" answer for an instance just started.
fn started(base: &str, durable: &Durable, result: Result<String, (u16, String)>) -> ApiResponse {
    match result {
        Ok(id) => {
            let urls = check_status(base, durable.hub_name(), durable.connection_name(), &id);
            let location = urls["statusQueryGetUri"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            ApiResponse {
                status: 202,
                headers: vec![
                    ("Location".to_owned(), location),
                    ("Retry-After".to_owned(), "10".to_owned()),
                ],
                body: Some(urls),
            }
        }
        Err((status, message)) => refuse(status, message),
    }
}

/// A `true`/`false` query parameter (any case), `default` when absent.
fn flag(query: &str, name: &str, default: bool) -> Result<bool, String> {
    match query_value(query, name) {
        None => Ok(default),
        Some(value) if value.eq_ignore_ascii_case("true") => Ok(true),
        Some(value) if value.eq_ignore_ascii_case("false") => Ok(false),
        Some(value) => Err(format!("{name} must be true or false, not {value:?}")),
    }
}

/// A list call's filters (`runtimeStatus` as a comma-separated list,
/// `createdTimeFrom`, `createdTimeTo`, `showInput`) and its page (`top`,
/// and the continuation token of the page before).
fn list_query(query: &str, continuation: Option<&str>) -> Result<InstanceQuery, String> {
    let mut wanted = InstanceQuery {
        show_input: flag(query, "showInput", true)?,
        ..InstanceQuery::default()
    };
    if let Some(list) = query_value(query, "runtimeStatus") {
        wanted.statuses = statuses(&list)?;
    }
    let time = |name: &str| -> Result<Option<UtcTime>, String> {
        query_value(query, name)
            .map(|text| {
                UtcTime::parse_iso(&text)
                    .ok_or_else(|| format!("{name} {text:?} is not an ISO 8601 time"))
            })
            .transpose()
    };
    wanted.created_from = time("createdTimeFrom")?;
    wanted.created_to = time("createdTimeTo")?;
    wanted.top = query_value(query, "top")
        .map(|text| {
            text.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("top {text:?} is not a whole number above 0"))
        })
        .transpose()?;
    wanted.after = continuation.map(page_token::decode).transpose()?;
    Ok(wanted)
}

/// One page of the instances `wanted` wants, with the token of the next
/// page in [`CONTINUATION`] when there is one.
fn list(durable: &Durable, wanted: &InstanceQuery) -> ApiResponse {
    let page = durable.list(wanted);
    let mut response = answer(200, Value::Array(page.statuses));
    if let Some(last) = page.more_after {
        response
            .headers
            .push((CONTINUATION.to_owned(), page_token::encode(last)));
    }
    response
}

fn accepted(result: Result<(), (u16, String)>) -> ApiResponse {
    match result {
        Ok(()) => ApiResponse {
            status: 202,
            headers: Vec::new(),
            body: None,
        },
        Err((status, message)) => refuse(status, message),
    }
}

/// Gives every `durableClient` input binding of `function` its value in
/// the invocation `envelope`, as the extension does for a custom handler:
/// the management API's base URL on this host (`origin`, e.g.
/// `http://127.0.0.1:7071`), inside a JSON string.
pub fn add_client_bindings(
    app: &crate::app::AppFolder,
    function: &crate::app::FunctionFolder,
    envelope: &mut Value,
    origin: &str,
) {
    let clients = function
        .bindings
        .iter()
        .filter(|binding| binding.is_kind("durableClient"));
    for binding in clients {
        let value = client_binding_value(&app.host.hub_name, &app.host.connection_name, origin);
        if let Some(data) = envelope.get_mut("Data").and_then(Value::as_object_mut) {
            data.insert(binding.name.clone(), Value::String(value.to_string()));
        }
    }
}

/// The `durableClient` binding's value as the extension writes it for a
/// custom handler (the out-of-process payload, not the gRPC one): every
/// key present, `null` where it has no value. The instance id in
/// `managementUrls` is the placeholder `INSTANCEID`; `connectionName` stays
/// `null` in this payload; `rpcBaseUrl` is `null` because this host has no
/// local RPC endpoint. The management URLs name the task hub and the
/// connection, as the extension's check-status URLs do.
pub fn client_binding_value(hub: &str, connection: &str, origin: &str) -> Value {
    let base = format!("{origin}{PREFIX}");
    let creation = format!("{base}/orchestrators/{{functionName}}[/{{instanceId}}]");
    json!({
        "taskHubName": hub,
        "connectionName": Value::Null,
        "creationUrls": {
            "createNewInstancePostUri": format!("{creation}?"),
            "createAndWaitOnNewInstancePostUri":
                format!("{creation}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&"),
        },
        "managementUrls": management_urls(&base, hub, connection, "INSTANCEID"),
        "baseUrl": base,
        "requiredQueryStringParameters": "",
        "rpcBaseUrl": Value::Null,
    })
}

/// .NET's `WebUtility.UrlEncode`, with which the extension puts the
/// instance id, the task hub and the connection into its management URLs:
/// letters, digits and `-_.!*()` as they are, a space as `+`, every other
/// byte of the UTF-8 as `%XX`.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!*()".contains(&byte) {
            out.push(char::from(byte));
        } else if byte == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `scheme://authority` of `url`.
pub fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    match url[after_scheme..].find('/') {
        Some(at) => &url[..after_scheme + at],
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operations_input_is_read_by_its_content_type() {
        let json = Some("application/json; charset=utf-8");
        assert_eq!(operation_input(b"", json).ok(), Some(None));
        assert_eq!(
            operation_input(b" 5 ", json).ok(),
            Some(Some("5".to_owned()))
        );
        let refusal = operation_input(b"{", json).expect_err("refused");
        assert_eq!(refusal.status, 400);
        assert_eq!(
            operation_input(b"{", Some("text/plain")).ok(),
            Some(Some("\"{\"".to_owned()))
        );
        assert_eq!(
            operation_input(b"7", None).ok(),
            Some(Some("\"7\"".to_owned()))
        );
    }
    #[test]
    fn the_client_binding_has_the_extensions_keys_and_urls() {
        let value = client_binding_value("My Hub", "Storage", "http://127.0.0.1:7071");
        assert_eq!(url_encode("a%20b~é+"), "a%2520b%7E%C3%A9%2B");
        let keys: Vec<&str> = value
            .as_object()
            .map(|map| map.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut expected = vec![
            "taskHubName",
            "connectionName",
            "creationUrls",
            "managementUrls",
            "baseUrl",
            "requiredQueryStringParameters",
            "rpcBaseUrl",
        ];
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(value["connectionName"], Value::Null);
        assert_eq!(value["rpcBaseUrl"], Value::Null);
        assert_eq!(value["taskHubName"], "My Hub");
        let base = "http://127.0.0.1:7071/runtime/webhooks/durabletask";
        assert_eq!(value["baseUrl"], base);
        assert_eq!(
            value["managementUrls"]["statusQueryGetUri"],
            format!("{base}/instances/INSTANCEID?taskHub=My+Hub&connection=Storage")
        );
        assert_eq!(
            value["managementUrls"]["terminatePostUri"],
            format!(
                "{base}/instances/INSTANCEID/terminate?reason={{text}}&taskHub=My+Hub&connection=Storage"
            )
        );
        // host.json's storage connection, and an id as WebUtility.UrlEncode
        // writes it.
        let named = management_urls(base, "Hub", "My Store", "a%20b");
        assert_eq!(
            named["statusQueryGetUri"],
            format!("{base}/instances/a%2520b?taskHub=Hub&connection=My+Store")
        );
        assert_eq!(
            value["creationUrls"]["createNewInstancePostUri"],
            format!("{base}/orchestrators/{{functionName}}[/{{instanceId}}]?")
        );
    }
}
