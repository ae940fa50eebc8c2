//! What a caller's request reaches: CORS around everything, then a
//! forwarded function, the admin endpoint, the Durable API or an HTTP
//! function in the envelope, as the host's routing decides.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::admin::{admin, admin_function, durable_api};
use super::server::Shared;
use crate::app::FunctionFolder;
use crate::host::envelope::{CallerRequest, CallerResponse, Sys, http_invocation};
use crate::host::forwarding;
use crate::host::invocation::{invoke, report};
use crate::host::request_path::{normalize, to_uri_component};
use crate::host::routes::RouteMatch;
use crate::ids::new_guid;
use crate::limits::{BodyError, REQUEST_HEADERS_LIMIT, header_lines_size, read_capped, size};

pub(super) fn text(status: StatusCode, body: impl Into<String>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.into())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

pub(super) fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// A caller's request to a function the host forwards it to goes as it
/// is (forwarding and proxying modes); everything else as [`route`] says.
pub(super) async fn serve(
    shared: &Arc<Shared>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<forwarding::Body> {
    // Kestrel refuses the request before any middleware sees it.
    let headers = header_lines_size(request.headers());
    if headers > REQUEST_HEADERS_LIMIT {
        shared.console.warning(format!(
            "[host] {} {}: the request's headers take {headers} bytes, more than Kestrel's {}: answered 431",
            request.method(),
            request.uri().path(),
            size(REQUEST_HEADERS_LIMIT)
        ));
        let mut answer = empty(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        answer.headers_mut().insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
        return forwarding::whole(answer);
    }
    let Some(cors) = &shared.app.cors else {
        return serve_function(shared, request, peer).await;
    };
    // CORS wraps everything, as the middleware runs before routing.
    if let Some(headers) = cors.preflight(request.method().as_str(), request.headers()) {
        let mut answer = empty(StatusCode::NO_CONTENT);
        *answer.headers_mut() = headers;
        return forwarding::whole(answer);
    }
    let origin = request.headers().get(hyper::header::ORIGIN).cloned();
    let mut response = serve_function(shared, request, peer).await;
    cors.decorate(origin.as_ref(), response.headers_mut());
    response
}

async fn serve_function(
    shared: &Arc<Shared>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<forwarding::Body> {
    let path = request.uri().path();
    if path != "/"
        && admin_function(path).is_none()
        && let Some(function) = forwarding::target(&shared.app, &shared.router, &request)
    {
        let streaming = shared.app.host.mode == function_app::HttpMode::Proxying;
        return forwarding::forward(
            &shared.handler,
            &shared.console,
            function,
            request,
            streaming,
        )
        .await;
    }
    forwarding::whole(route(shared, request, peer).await)
}

async fn route(
    shared: &Arc<Shared>,
    request: Request<Incoming>,
    _peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let method = request.method().as_str().to_owned();
    // The path as Kestrel hands it to routing: decoded (but %2F), dot
    // segments removed; a NUL or invalid UTF-8 is a bad request.
    let path = match normalize(request.uri().path()) {
        Ok(path) => path,
        Err(bad) => {
            shared
                .console
                .warning(format!("[host] {method}: {bad}: answered 400"));
            return empty(StatusCode::BAD_REQUEST);
        }
    };
    if let Some(name) = admin_function(&path) {
        if method != "POST" {
            return empty(StatusCode::METHOD_NOT_ALLOWED);
        }
        return admin(shared, name, request).await;
    }
    if crate::durable::api::api_path(&path).is_some() {
        return durable_api(shared, request).await;
    }
    if path == "/" {
        return text(
            StatusCode::OK,
            "cargo-azfunc is running: a local stand-in for the Azure Functions host\n",
        );
    }
    match shared.router.find_path(&method, &path) {
        RouteMatch::Found { function, params } => match shared.app.function(&function) {
            Some(function) => http_function(shared, function, params, &path, request).await,
            None => empty(StatusCode::NOT_FOUND),
        },
        RouteMatch::MethodNotAllowed => {
            shared.console.warning(format!("[host] {method} {path}: the route exists, but its function.json `methods` leave out {method}; the host answers 404"));
            empty(StatusCode::NOT_FOUND)
        }
        RouteMatch::NotFound => empty(StatusCode::NOT_FOUND),
    }
}

pub(super) fn authority(request: &Request<Incoming>) -> String {
    request
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned()
}

/// The caller's body, at most `limits.caller_body` bytes, none of it
/// stalling longer than `limits.body_stall_timeout`; else the answer to
/// send (413 as the host's Kestrel sends it, 408, or 400), which closes the
/// connection.
pub(super) async fn read_body(
    shared: &Shared,
    request: Request<Incoming>,
) -> Result<(hyper::http::request::Parts, Vec<u8>), Response<Full<Bytes>>> {
    let (parts, body) = request.into_parts();
    let limits = &shared.limits;
    match read_capped(body, limits.caller_body, Some(limits.body_stall_timeout)).await {
        Ok(bytes) => Ok((parts, bytes)),
        Err(error) => {
            let status = match error {
                BodyError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                BodyError::Stalled(_) => StatusCode::REQUEST_TIMEOUT,
                BodyError::Broken(_) => StatusCode::BAD_REQUEST,
            };
            shared.console.warning(format!(
                "[host] {} {}: {error}: answered {}",
                parts.method,
                parts.uri,
                status.as_u16()
            ));
            let mut response = empty(status);
            response.headers_mut().insert(
                hyper::header::CONNECTION,
                hyper::header::HeaderValue::from_static("close"),
            );
            Err(response)
        }
    }
}

async fn http_function(
    shared: &Shared,
    function: &FunctionFolder,
    params: Vec<(String, Option<String>)>,
    path: &str,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let authority = authority(&request);
    let (parts, body) = match read_body(shared, request).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    // The URL the host shows: its normalized path, the raw query.
    let query = parts.uri.query().map_or(String::new(), |q| format!("?{q}"));
    let path_and_query = format!("{}{query}", to_uri_component(path));
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let caller = CallerRequest {
        method: parts.method.as_str().to_owned(),
        url: format!("{}://{authority}{path_and_query}", shared.scheme),
        headers,
        body: (!body.is_empty()).then_some(body),
    };
    respond(shared, function, &caller, &params).await
}

pub(super) async fn respond(
    shared: &Shared,
    function: &FunctionFolder,
    caller: &CallerRequest,
    params: &[(String, Option<String>)],
) -> Response<Full<Bytes>> {
    let invocation_id = new_guid();
    shared.console.info(format!(
        "[{} {invocation_id}] Executing ({} {})",
        function.name, caller.method, caller.url
    ));
    let mut body = http_invocation(function, caller, params, &Sys::new(function));
    let origin = crate::durable::api::origin(&caller.url);
    crate::durable::api::add_client_bindings(&shared.app, function, &mut body, origin);
    let outcome = invoke(&shared.handler, function, &body, &invocation_id).await;
    report(&shared.console, function, &invocation_id, &outcome);
    to_response(outcome.response.unwrap_or_else(CallerResponse::failed))
}

pub(super) fn to_response(answer: CallerResponse) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
