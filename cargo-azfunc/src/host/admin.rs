//! The host's own endpoints beside the app's functions: Core Tools' admin
//! endpoint `POST /admin/functions/{name}`, which runs any function by
//! hand, and the Durable extension's management API, read from HTTP here
//! and answered by [`crate::durable::api`].

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;

use super::routing::{authority, empty, read_body, respond, text, to_response};
use super::server::Shared;
use crate::app::TriggerKind;
use crate::host::envelope::{CallerResponse, Sys, non_http_invocation};
use crate::host::invocation::{http_request_for_input, invoke, report};
use crate::ids::new_guid;

/// The Durable extension's management API.
pub(super) async fn durable_api(
    shared: &Shared,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let base = format!("{}://{}", shared.scheme, authority(&request));
    let (parts, body) = match read_body(shared, request).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    let path = parts.uri.path();
    let rest = crate::durable::api::api_path(path).unwrap_or_default();
    let query = parts.uri.query().unwrap_or_default();
    let continuation = parts
        .headers
        .get(crate::durable::api::CONTINUATION)
        .and_then(|token| token.to_str().ok());
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|value| value.to_str().ok());
    let request = crate::durable::api::ApiRequest {
        method: parts.method.as_str(),
        rest,
        query,
        body: &body,
        content_type,
        continuation,
    };
    let answer = crate::durable::api::serve(&shared.durable, &request, &base);
    let mut headers = answer.headers;
    let body = match answer.body {
        Some(body) => {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
            body.to_string().into_bytes()
        }
        None => Vec::new(),
    };
    to_response(CallerResponse {
        status: answer.status,
        headers,
        body,
    })
}

/// `/admin/functions/{name}` -> `name`, from the normalized (decoded)
/// path, so `Qu%65ue` names Queue.
pub(super) fn admin_function(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    let rest = lower.strip_prefix("/admin/functions/")?;
    let start = path.len() - rest.len();
    let name = path[start..].trim_matches('/');
    (!name.is_empty() && !name.contains('/')).then(|| name.to_owned())
}

/// Core Tools' way to run any function by hand: 202 at once, the
/// invocation in the background.
pub(super) async fn admin(
    shared: &Arc<Shared>,
    name: String,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let Some(function) = shared.app.function(&name).cloned() else {
        return text(StatusCode::NOT_FOUND, format!("no function named {name}\n"));
    };
    let authority = authority(&request);
    let body = match read_body(shared, request).await {
        Ok((_, body)) => body,
        Err(answer) => return answer,
    };
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        String::new()
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(fields)) => match fields.get("input") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            },
            _ => {
                return text(
                    StatusCode::BAD_REQUEST,
                    "the body must be a JSON object like {\"input\": \"...\"}\n",
                );
            }
        }
    };
    let shared = shared.clone();
    tokio::spawn(async move {
        if function.trigger_kind() == TriggerKind::Http {
            let (mut caller, params) = http_request_for_input(
                &function,
                &shared.app.host.route_prefix,
                &authority,
                input.as_bytes(),
            );
            if let Some(rest) = caller.url.strip_prefix("http://") {
                caller.url = format!("{}://{rest}", shared.scheme);
            }
            let _ = respond(&shared, &function, &caller, &params).await;
        } else {
            let invocation_id = new_guid();
            shared.console.info(format!(
                "[{} {invocation_id}] Executing (admin)",
                function.name
            ));
            let body = non_http_invocation(&function, &input, &Sys::new(&function));
            let outcome = invoke(&shared.handler, &function, &body, &invocation_id).await;
            report(&shared.console, &function, &invocation_id, &outcome);
        }
    });
    empty(StatusCode::ACCEPTED)
}
