//! Forwarding and proxying modes (docs/host-protocol.md "Forwarding mode" and "Newer host options"): for
//! an HTTP function with exactly one httpTrigger and one http output, the
//! caller's request goes to the handler as it came (method, path with the
//! route prefix as routing saw it, query, headers, body) plus the host's two headers, and the
//! handler's response goes back unchanged: whole in forwarding mode,
//! streamed as it arrives in proxying mode. Every other function keeps the
//! envelope.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use crate::app::{AppFolder, FunctionFolder};
use crate::console::Console;
use crate::handler::Handler;
use crate::handler::client::{Chunked, HOST_VERSION};
use crate::handler::within_function_timeout;
use crate::host::request_path::{normalize, to_uri_component};
use crate::host::routes::{RouteMatch, Router};
use crate::ids::new_guid;
use crate::limits::{
    BODY_STALL_TIMEOUT, BodyError, CALLER_BODY_LIMIT, REPLY_LIMIT, read_capped, size,
};
use crate::query::forwarded_query;

/// A response body: whole, or the handler's own as it streams in.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// A whole body as a [`Body`].
pub fn whole(response: Response<Full<Bytes>>) -> Response<Body> {
    response.map(|body| body.map_err(|never| match never {}).boxed())
}

/// Headers that belong to one connection, not to the message.
const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "upgrade",
    "host",
];

/// The function `request` goes to as it is, if the app's mode forwards
/// and the route belongs to a function that takes forwarded requests.
pub fn target<'a>(
    app: &'a AppFolder,
    router: &Router,
    request: &Request<Incoming>,
) -> Option<&'a FunctionFolder> {
    // host.json's `customHandler` section is for custom handlers only: a
    // language worker's HTTP goes in its invocations, or to its own HTTP
    // server once it advertised `HttpUri` (docs/native-worker-host.md,
    // "Invocations").
    if !app.host.mode.forwards() || app.worker.is_some() {
        return None;
    }
    let RouteMatch::Found { function, .. } =
        router.find(request.method().as_str(), request.uri().path())
    else {
        return None;
    };
    app.function(&function)
        .filter(|function| function_app::takes_forwarded_requests(&function.bindings))
}

/// Sends the caller's `request` to the handler as it came and gives its
/// response back: read whole, or streamed when `streaming` (proxying).
pub async fn forward(
    handler: &Handler,
    console: &Console,
    function: &FunctionFolder,
    request: Request<Incoming>,
    streaming: bool,
) -> Response<Body> {
    let invocation_id = new_guid();
    let tag = format!("[{} {invocation_id}]", function.name);
    let failed = |reason: String| {
        console.error(format!("{tag} Failed: {reason}"));
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        whole(response)
    };
    let (client, pid) = match handler.ready().await {
        Ok((crate::handler::Link::Http(client), pid)) => (*client, pid),
        Ok((crate::handler::Link::Worker(_), _)) => {
            return failed(
                "the app runs as a language worker: the host forwards no requests to it".into(),
            );
        }
        Err(reason) => return failed(format!("the handler is not running: {reason}")),
    };
    let (parts, body) = request.into_parts();
    // The host forwards the path routing saw (Kestrel's), written back
    // into a URL, not the caller's raw one.
    let path = match normalize(parts.uri.path()) {
        Ok(path) => to_uri_component(&path),
        Err(bad) => {
            console.warning(format!("{tag} {bad}: answered 400"));
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            return whole(response);
        }
    };
    let query = parts.uri.query().map(forwarded_query).unwrap_or_default();
    let path_and_query = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    let mode = if streaming { "proxied" } else { "forwarded" };
    console.info(format!(
        "{tag} Executing ({mode} {} {path_and_query})",
        parts.method
    ));
    // The same caps as in envelope mode: the host refuses callers' bodies
    // over 100 MiB with 413.
    let body = match read_capped(body, CALLER_BODY_LIMIT, Some(BODY_STALL_TIMEOUT)).await {
        Ok(body) => Bytes::from(body),
        Err(BodyError::TooLarge(limit)) => {
            console.warning(format!(
                "{tag} the caller's body is larger than {}: answered 413",
                size(limit)
            ));
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            return whole(response);
        }
        Err(e) => return failed(format!("cannot read the caller's body: {e}")),
    };
    let mut headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    headers.push(("X-Azure-Functions-HostVersion".into(), HOST_VERSION.into()));
    headers.push((
        "X-Azure-Functions-InvocationId".into(),
        invocation_id.clone(),
    ));
    let sent = client.open(
        parts.method.as_str(),
        &path_and_query,
        &headers,
        Chunked::new(&body, body.len().max(1)),
    );
    // functionTimeout holds here as in envelope mode, up to the response
    // head; a streamed body is the caller's to wait for.
    let sent = match within_function_timeout(handler, pid, function, sent).await {
        Ok(sent) => sent,
        Err(reason) => return failed(reason),
    };
    let reply = match sent {
        Ok(reply) => reply,
        Err(failure) => return failed(failure.to_string()),
    };
    let (mut parts, body) = reply.into_parts();
    for hop in HOP_BY_HOP {
        parts.headers.remove(hop);
    }
    if streaming {
        // The host keeps the invocation id on a proxied response.
        if let Ok(id) = hyper::header::HeaderValue::from_str(&invocation_id) {
            parts.headers.insert("x-azure-functions-invocationid", id);
        }
        console.info(format!(
            "{tag} Succeeded (the handler answered {}; streaming it)",
            parts.status.as_u16()
        ));
        return Response::from_parts(parts, body.boxed());
    }
    match read_capped(body, REPLY_LIMIT, None).await {
        Ok(body) => {
            console.info(format!(
                "{tag} Succeeded (the handler answered {})",
                parts.status.as_u16()
            ));
            whole(Response::from_parts(parts, Full::new(Bytes::from(body))))
        }
        Err(BodyError::TooLarge(limit)) => {
            console.warning(format!(
                "{tag} [reply-too-large] the handler's reply is larger than {}",
                size(limit)
            ));
            failed(format!(
                "the handler's reply is larger than {}",
                size(limit)
            ))
        }
        Err(e) => failed(format!(
            "the handler's {} reply broke off: {e}",
            parts.status.as_u16()
        )),
    }
}
