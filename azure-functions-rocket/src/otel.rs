//! The OpenTelemetry exporter (feature `otel`): every invocation's span,
//! child of the host's trace context, with the spans and events inside
//! it, sent over OTLP http/protobuf where the standard `OTEL_*` variables
//! say, and flushed before the invocation's answer leaves, as a serverless
//! instance may be frozen right after (docs/functions.md, "Logs and
//! traces").

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, RetryPolicy, SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

use crate::events;
use crate::trace_context::TraceParent;

/// How long one export may take; OTEL_EXPORTER_OTLP_TIMEOUT is read by
/// the exporter itself, this bounds each socket operation.
const IO_LIMIT: Duration = Duration::from_secs(10);

/// Replies larger than this are refused: an OTLP reply is small.
const REPLY_LIMIT: usize = 4 * 1024 * 1024;

/// The tracer provider, or `None` when the variables turn export off or
/// ask for what this exporter cannot do (said once on stderr).
fn provider() -> Option<&'static SdkTracerProvider> {
    static PROVIDER: OnceLock<Option<SdkTracerProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| match build() {
            Ok(provider) => provider,
            Err(reason) => {
                eprintln!("[WARN] category=\"azure_functions_rocket::otel\" message={reason:?}");
                None
            }
        })
        .as_ref()
}

fn build() -> Result<Option<SdkTracerProvider>, String> {
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    if variable("OTEL_SDK_DISABLED").is_some_and(|value| value.eq_ignore_ascii_case("true")) {
        return Ok(None);
    }
    let protocol = variable("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .or_else(|| variable("OTEL_EXPORTER_OTLP_PROTOCOL"));
    if let Some(protocol) = protocol.filter(|protocol| protocol != "http/protobuf") {
        return Err(format!(
            "OTEL_EXPORTER_OTLP_PROTOCOL is {protocol:?}: this exporter sends http/protobuf only, so no spans are sent"
        ));
    }
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_http_client(Client)
        // One attempt: the invocation waits for its flush, and a collector
        // that is down would otherwise add the retries' back-off to each.
        .with_retry_policy(RetryPolicy::disabled())
        .build()
        .map_err(|error| format!("no spans are sent: {error}"))?;
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, as the SDK reads them.
    let resource = Resource::builder().build();
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    ))
}

/// The process's subscriber with the exporter: the invocation log's lines
/// ([`events::write`]) and, unless export is off, the spans.
pub(crate) fn subscriber() -> Box<dyn Subscriber + Send + Sync> {
    let Some(provider) = provider() else {
        return Box::new(events::Lines);
    };
    let spans =
        tracing_opentelemetry::layer().with_tracer(provider.tracer("azure-functions-rocket"));
    Box::new(
        tracing_subscriber::registry()
            .with(events::filter())
            .with(LinesLayer)
            .with(spans),
    )
}

/// [`events::write`] as a layer beside the exporter's.
struct LinesLayer;

impl<S: Subscriber> Layer<S> for LinesLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        events::write(event);
    }
}

/// Makes `parent` (with `tracestate`, already checked) the remote parent
/// of `span`, and the host's `attributes` attributes of it.
pub(crate) fn follow<'a>(
    span: &tracing::Span,
    parent: Option<&TraceParent>,
    tracestate: &str,
    attributes: impl IntoIterator<Item = (&'a str, &'a str)>,
) {
    if let Some(parent) = parent {
        let state = tracestate.parse::<TraceState>().unwrap_or_default();
        let context = SpanContext::new(
            TraceId::from_bytes(parent.trace_id),
            SpanId::from_bytes(parent.parent_id),
            TraceFlags::new(parent.flags),
            true,
            state,
        );
        // Fails only for a span already started, which this one is not.
        let _ = span.set_parent(Context::new().with_remote_span_context(context));
    }
    for (key, value) in attributes {
        span.set_attribute(key.to_owned(), value.to_owned());
    }
}

/// Sends every finished span now, off the async workers. A failure is
/// said on stderr once, and again only after an export that worked.
pub(crate) async fn flush() {
    static FAILING: AtomicBool = AtomicBool::new(false);
    let Some(provider) = provider() else {
        return;
    };
    let flushed = rocket::tokio::task::spawn_blocking(move || provider.force_flush()).await;
    match flushed {
        Ok(Ok(())) => FAILING.store(false, Ordering::Relaxed),
        Ok(Err(error)) => {
            if !FAILING.swap(true, Ordering::Relaxed) {
                let reason = format!("spans not sent: {error}");
                eprintln!("[WARN] category=\"azure_functions_rocket::otel\" message={reason:?}");
            }
        }
        Err(_) => {}
    }
}

/// A blocking HTTP/1.1 client for plain `http://` collectors (an agent or
/// collector beside the app), the lightest that works: the SDK's batch
/// processor calls it on a thread of its own, never on the async workers.
#[derive(Debug)]
struct Client;

#[async_trait::async_trait]
impl HttpClient for Client {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        send(&request)
    }
}

fn send(request: &Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
    let uri = request.uri();
    if uri.scheme_str() != Some("http") {
        return Err(format!(
            "the OTLP endpoint {uri} is not http://: this exporter sends to a collector over plain HTTP"
        )
        .into());
    }
    let host = uri.host().ok_or("the OTLP endpoint names no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let mut last = None;
    let mut stream = None;
    for address in (host.trim_matches(['[', ']']), port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&address, IO_LIMIT) {
            Ok(connected) => {
                stream = Some(connected);
                break;
            }
            Err(error) => last = Some(error),
        }
    }
    let mut stream = match (stream, last) {
        (Some(stream), _) => stream,
        (None, Some(error)) => return Err(error.into()),
        (None, None) => return Err(format!("{host} has no address").into()),
    };
    stream.set_read_timeout(Some(IO_LIMIT))?;
    stream.set_write_timeout(Some(IO_LIMIT))?;
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        request.method(),
        uri.authority().map_or(host, |authority| authority.as_str()),
        request.body().len()
    );
    for (name, value) in request.headers() {
        if let Ok(value) = value.to_str() {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(request.body())?;
    let mut reply = Vec::new();
    stream
        .take(REPLY_LIMIT as u64 + 1)
        .read_to_end(&mut reply)?;
    if reply.len() > REPLY_LIMIT {
        return Err(format!("the collector's reply is over {REPLY_LIMIT} bytes").into());
    }
    parse_reply(reply).ok_or_else(|| "the collector's reply is not HTTP".into())
}

/// The status and body of a whole HTTP/1.1 reply, read to its close.
fn parse_reply(raw: Vec<u8>) -> Option<Response<Bytes>> {
    let end = raw.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut length = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.eq_ignore_ascii_case("transfer-encoding") {
            // A collector's replies are small and length-delimited; a
            // chunked one is read as empty, which the exporter accepts.
            length = Some(0);
        } else if name.eq_ignore_ascii_case("content-length") && length.is_none() {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let rest = &raw[end + 4..];
    let body = match length {
        Some(length) => rest.get(..length)?.to_vec(),
        None => rest.to_vec(),
    };
    Response::builder()
        .status(status)
        .body(Bytes::from(body))
        .ok()
}
