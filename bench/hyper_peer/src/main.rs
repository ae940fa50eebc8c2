//! The benchmark's bare hyper server: the product's own function layer
//! (`azure_functions_rocket::harness::invoke` on the app's registry), its
//! serde types and its global allocator, served by hyper's HTTP/1 connection loop
//! and nothing else.
//! What the product spends beyond this is the cost of its web framework.
//!
//! - `GET /` answers 200 with an empty body (the host's readiness probe);
//! - `POST /RustyFunction` (the host's call) and `POST /RustFunction` (a
//!   direct call) answer the function's envelope as `application/json`;
//! - anything else is 404 with an empty body.
//!
//! It listens on 127.0.0.1 at `FUNCTIONS_CUSTOMHANDLER_PORT` (default 8080).

use std::convert::Infallible;
use std::sync::OnceLock;
use std::net::Ipv4Addr;
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

// The library brings the product's global allocator (its default
// `mimalloc` feature).
use azure_functions_rocket::Registry;
use azure_functions_rocket::harness::{self, DirectCall};

/// The product's default `limits.json`.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

const INVOCATION_ID: &str = "x-azure-functions-invocationid";

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        // The blog app's folder, where its function.json files name the
        // bindings its registry lines leave out.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        harness::in_app_folder(rusty_function::registry(), &root)
            .unwrap_or_else(|problems| panic!("the app folder disagrees: {problems:?}"))
    })
}

async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let function = match (&parts.method, parts.uri.path()) {
        (&Method::GET, "/") => return Ok(Response::new(Full::default())),
        (&Method::POST, path) => registry().find(&path[1..]),
        _ => None,
    };
    let Some(function) = function else {
        return Ok(empty(StatusCode::NOT_FOUND));
    };
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(empty(StatusCode::PAYLOAD_TOO_LARGE)),
    };
    let invocation_id = parts
        .headers
        .get(INVOCATION_ID)
        .and_then(|value| value.to_str().ok());
    // A direct call's request, as the product's route builds it.
    let direct = |body| DirectCall {
        method: parts.method.to_string(),
        url: parts.uri.to_string(),
        query: parts
            .uri
            .query()
            .map(|query| form_urlencoded::parse(query.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
            .collect(),
        body,
    };
    let answer = harness::invoke(function, &body, direct, invocation_id).await;
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::default());
    *response.status_mut() = status;
    response
}

/// The same runtime rule as the product (`rusty_function::startup`): a
/// current-thread runtime when there is one CPU to run on, else tokio's
/// multi-thread one with a worker per CPU.
fn main() -> ExitCode {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut builder = if cpus <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(cpus);
        builder
    };
    match builder.enable_all().build() {
        Ok(runtime) => runtime.block_on(serve()),
        Err(error) => {
            eprintln!("hyper_peer: cannot start the runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> ExitCode {
    let port = match std::env::var("FUNCTIONS_CUSTOMHANDLER_PORT") {
        Err(_) => 8080,
        Ok(value) => match value.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => {
                eprintln!("hyper_peer: FUNCTIONS_CUSTOMHANDLER_PORT={value:?} is not a port");
                return ExitCode::FAILURE;
            }
        },
    };
    let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("hyper_peer: cannot listen on 127.0.0.1:{port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                eprintln!("hyper_peer: accept: {error}");
                continue;
            }
        };
        // As Rocket does.
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(handle))
                .await;
        });
    }
}
