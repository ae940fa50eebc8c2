//! The host's front door: HTTP functions at `/{routePrefix}/{route}`, the
//! admin endpoint `POST /admin/functions/{name}` that Core Tools offers for
//! every other trigger, and timers fired on their schedules.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::sleep_until;

use crate::accept_errors::AcceptErrors;
use crate::app::{AppFolder, FunctionFolder, TriggerKind};
use crate::clock::UtcTime;
use crate::console::Console;
use crate::envelope::{
    CallerRequest, CallerResponse, ScheduleStatus, Sys, http_invocation, non_http_invocation,
    timer_invocation,
};
use crate::forwarding;
use crate::handler::Handler;
use crate::ids::new_guid;
use crate::in_flight::{Counted, InFlight};
use crate::invocation::{http_request_for_input, invoke, report};
use crate::limits::{
    BodyError, REQUEST_HEADER_COUNT, REQUEST_HEADERS_LIMIT, ServerLimits, header_lines_size,
    read_capped, size,
};
use crate::request_path::{normalize, to_uri_component};
use crate::routes::{RouteMatch, Router};
use crate::schedule::TimerSchedule;

struct Shared {
    app: AppFolder,
    router: Router,
    handler: Arc<Handler>,
    console: Console,
    durable: Arc<crate::durable::Durable>,
    limits: ServerLimits,
    /// Requests being answered, for a stop that lets them finish.
    in_flight: InFlight,
}

/// A running front door; stops serving when dropped.
pub struct Server {
    port: u16,
    in_flight: InFlight,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Serves `app` on `listener` through `handler`; with `timers`, fires
    /// every timer function on its schedule (a timer whose schedule does
    /// not parse is reported and left out). Fails on a route the app cannot
    /// have.
    pub fn start(
        app: AppFolder,
        handler: Arc<Handler>,
        listener: TcpListener,
        console: Console,
        timers: bool,
    ) -> Result<Server, String> {
        Server::start_with(
            app,
            handler,
            listener,
            console,
            timers,
            ServerLimits::default(),
        )
    }

    /// [`Server::start`] with other limits than the defaults.
    pub fn start_with(
        app: AppFolder,
        handler: Arc<Handler>,
        listener: TcpListener,
        console: Console,
        timers: bool,
        limits: ServerLimits,
    ) -> Result<Server, String> {
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .map_err(|e| format!("cannot read the listening address: {e}"))?;
        let router = Router::new(&app)?;
        // Schedules are read only when timers fire (as the host reads only
        // the functions it runs); a bad one stops that timer, not the app.
        let mut schedules = Vec::new();
        if timers {
            for function in app
                .functions
                .iter()
                .filter(|f| f.trigger_kind() == TriggerKind::Timer)
            {
                let expression = function.trigger().schedule.clone().unwrap_or_default();
                match TimerSchedule::parse(&expression, &app.settings.values) {
                    Ok(schedule) => schedules.push((function.clone(), schedule)),
                    Err(e) => console.error(format!(
                        "[host] {}: {e}: this timer does not fire; the other functions run",
                        function.name
                    )),
                }
            }
        }
        let durable = Arc::new(crate::durable::Durable::new(
            app.clone(),
            handler.clone(),
            console.clone(),
        ));
        let shared = Arc::new(Shared {
            app,
            router,
            handler,
            console,
            durable,
            limits,
            in_flight: InFlight::default(),
        });
        let (stop, stop_rx) = oneshot::channel();
        let mut tasks = vec![tokio::spawn(accept_loop(listener, shared.clone(), stop_rx))];
        for (function, schedule) in schedules {
            tasks.push(tokio::spawn(fire_timer(shared.clone(), function, schedule)));
        }
        Ok(Server {
            port,
            in_flight: shared.in_flight.clone(),
            stop: Some(stop),
            tasks,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops accepting connections and firing timers.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    /// Stops accepting connections and firing timers, then waits until the
    /// requests being answered have been answered in full, at most `limit`;
    /// whether they all were.
    pub async fn drain(mut self, limit: Duration) -> bool {
        self.stop_now();
        self.in_flight.drained(limit).await
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// The public URLs of the app's functions, for the start-up banner.
pub fn describe_functions(app: &AppFolder, port: u16) -> Vec<String> {
    let router = Router::new(app).ok();
    app.functions
        .iter()
        .map(|function| {
            let route = router
                .as_ref()
                .and_then(|r| r.routes.iter().find(|route| route.function == function.name).map(|route| (r, route)));
            match (function.trigger_kind(), route) {
                (TriggerKind::Http, Some((router, route))) => {
                    let methods = if route.methods.is_empty() {
                        "all methods".to_owned()
                    } else {
                        route.methods.join(",").to_ascii_uppercase()
                    };
                    format!(
                        "{}: [{methods}] http://localhost:{port}{}",
                        function.name,
                        router.public_path(route)
                    )
                }
                _ => format!(
                    "{}: {} (POST http://localhost:{port}/admin/functions/{} with {{\"input\": \"...\"}})",
                    function.name,
                    function.trigger().kind,
                    function.name
                ),
            }
        })
        .collect()
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: oneshot::Receiver<()>) {
    let mut errors = AcceptErrors::default();
    loop {
        let over_at = errors.over_at();
        let accepted = tokio::select! {
            // A failed accept waiting when the episode's end is due too
            // keeps the episode going.
            biased;
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
            _ = sleep_until(over_at.unwrap_or_else(std::time::Instant::now).into()), if over_at.is_some() => {
                shared.console.info(errors.over());
                continue;
            }
        };
        let (stream, peer) = match accepted {
            Ok(connection) => connection,
            Err(e) => {
                let (said, pause) = errors.failed(&e);
                if let Some(said) = said {
                    shared.console.error(said);
                }
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = &mut stop => return,
                }
                continue;
            }
        };
        errors.accepted(std::time::Instant::now());
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let head_timeout = shared.limits.head_timeout;
            let service = service_fn(move |request| {
                let shared = shared.clone();
                async move {
                    let entered = shared.in_flight.enter();
                    let response = serve(&shared, request, peer).await;
                    Ok::<_, Infallible>(response.map(|body| Counted::new(body, entered)))
                }
            });
            // The head timeout covers an idle keep-alive connection too:
            // hyper starts it whenever it waits for a request head.
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(head_timeout)
                // More header lines get 431 from hyper, as from Kestrel.
                .max_headers(REQUEST_HEADER_COUNT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.into())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// A caller's request to a function the host forwards it to goes as it
/// is (forwarding and proxying modes); everything else as [`route`] says.
async fn serve(
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
    if crate::durable_api::api_path(&path).is_some() {
        return durable_api(shared, request).await;
    }
    if path == "/" {
        return text(
            StatusCode::OK,
            "local-host is running: a local stand-in for the Azure Functions host\n",
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

/// The Durable extension's management API.
async fn durable_api(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let base = format!("http://{}", authority(&request));
    let (parts, body) = match read_body(shared, request).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    let path = parts.uri.path();
    let rest = crate::durable_api::api_path(path).unwrap_or_default();
    let query = parts.uri.query().unwrap_or_default();
    let continuation = parts
        .headers
        .get(crate::durable_api::CONTINUATION)
        .and_then(|token| token.to_str().ok());
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|value| value.to_str().ok());
    let request = crate::durable_api::ApiRequest {
        method: parts.method.as_str(),
        rest,
        query,
        body: &body,
        content_type,
        continuation,
    };
    let answer = crate::durable_api::serve(&shared.durable, &request, &base);
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
fn admin_function(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    let rest = lower.strip_prefix("/admin/functions/")?;
    let start = path.len() - rest.len();
    let name = path[start..].trim_matches('/');
    (!name.is_empty() && !name.contains('/')).then(|| name.to_owned())
}

fn authority(request: &Request<Incoming>) -> String {
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
async fn read_body(
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
        url: format!("http://{authority}{path_and_query}"),
        headers,
        body: (!body.is_empty()).then_some(body),
    };
    respond(shared, function, &caller, &params).await
}

async fn respond(
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
    let origin = crate::durable_api::origin(&caller.url);
    crate::durable_api::add_client_bindings(&shared.app, function, &mut body, origin);
    let outcome = invoke(&shared.handler, function, &body, &invocation_id).await;
    report(&shared.console, function, &invocation_id, &outcome);
    to_response(outcome.response.unwrap_or_else(CallerResponse::failed))
}

fn to_response(answer: CallerResponse) -> Response<Full<Bytes>> {
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

/// Core Tools' way to run any function by hand: 202 at once, the
/// invocation in the background.
async fn admin(
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
            let (caller, params) = http_request_for_input(
                &function,
                &shared.app.host.route_prefix,
                &authority,
                input.as_bytes(),
            );
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

async fn fire_timer(shared: Arc<Shared>, function: FunctionFolder, schedule: TimerSchedule) {
    let mut last: Option<UtcTime> = None;
    if function.trigger().run_on_startup() {
        // As the timer's listener starts, before the first occurrence: not
        // past due, and no schedule status yet. It counts as the last run.
        let now = UtcTime::now();
        run_timer(&shared, &function, None, "runOnStartup".into()).await;
        last = Some(now);
    }
    loop {
        let Some(next) = schedule.next_after(UtcTime::now()) else {
            shared.console.warning(format!(
                "[host] {}: its schedule never fires",
                function.name
            ));
            return;
        };
        match &schedule {
            TimerSchedule::Cron(_) => tokio::time::sleep(next.until()).await,
            // A TimeSpan counts from now, to the sub-second.
            TimerSchedule::Every(every) => tokio::time::sleep(*every).await,
        }
        let status = last.and_then(|last| {
            schedule.next_after(next).map(|following| ScheduleStatus {
                last,
                next: following,
                last_updated: next,
            })
        });
        run_timer(&shared, &function, status, format!("due {}", next.iso())).await;
        last = Some(next);
    }
}

/// One timer invocation; `why` says what fired it.
async fn run_timer(
    shared: &Shared,
    function: &FunctionFolder,
    status: Option<ScheduleStatus>,
    why: String,
) {
    let invocation_id = new_guid();
    shared.console.info(format!(
        "[{} {invocation_id}] Executing (timer, {why})",
        function.name
    ));
    let body = timer_invocation(function, status, false, &Sys::new(function));
    let outcome = invoke(&shared.handler, function, &body, &invocation_id).await;
    report(&shared.console, function, &invocation_id, &outcome);
}
