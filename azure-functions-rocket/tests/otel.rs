//! The `otel` exporter against a real OTLP/HTTP receiver: a small server
//! here takes `POST /v1/traces` and decodes the protobuf with messages
//! written from OTLP's trace.proto (field numbers as the specification
//! gives them), independently of the exporter's own encoder.
#![cfg(feature = "otel")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use azure_functions_rocket::harness::{DirectCall, invoke};
use azure_functions_rocket::{Error, Function, HttpRequest, HttpResponse};
use prost::Message;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";
const TRACESTATE: &str = "congo=t61rcWkgMzE";

/// OTLP's trace messages, only the fields read here.
mod otlp {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ExportTraceServiceRequest {
        #[prost(message, repeated, tag = "1")]
        pub resource_spans: Vec<ResourceSpans>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ResourceSpans {
        #[prost(message, optional, tag = "1")]
        pub resource: Option<Resource>,
        #[prost(message, repeated, tag = "2")]
        pub scope_spans: Vec<ScopeSpans>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Resource {
        #[prost(message, repeated, tag = "1")]
        pub attributes: Vec<KeyValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ScopeSpans {
        #[prost(message, repeated, tag = "2")]
        pub spans: Vec<Span>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Span {
        #[prost(bytes = "vec", tag = "1")]
        pub trace_id: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub span_id: Vec<u8>,
        #[prost(string, tag = "3")]
        pub trace_state: String,
        #[prost(bytes = "vec", tag = "4")]
        pub parent_span_id: Vec<u8>,
        #[prost(string, tag = "5")]
        pub name: String,
        #[prost(message, repeated, tag = "9")]
        pub attributes: Vec<KeyValue>,
        #[prost(message, repeated, tag = "11")]
        pub events: Vec<Event>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Event {
        #[prost(string, tag = "2")]
        pub name: String,
        #[prost(message, repeated, tag = "3")]
        pub attributes: Vec<KeyValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct KeyValue {
        #[prost(string, tag = "1")]
        pub key: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<AnyValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AnyValue {
        #[prost(string, tag = "1")]
        pub string_value: String,
        #[prost(int64, tag = "3")]
        pub int_value: i64,
    }

    /// The text of attribute `key`, if any.
    pub fn text<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
        attributes
            .iter()
            .find(|pair| pair.key == key)
            .and_then(|pair| pair.value.as_ref())
            .map(|value| value.string_value.as_str())
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
        .collect()
}

async fn echo(req: HttpRequest) -> Result<HttpResponse, Error> {
    let text = req.text()?.to_owned();
    // Signed: the bridge sends an unsigned field as text.
    tracing::info!(length = text.len() as i64, "echoing");
    Ok(HttpResponse::new(200, text))
}

/// Run as a child process by the test below: two invocations, then an
/// exit with no shutdown, as a frozen instance would give. Spans not
/// flushed by the invocations themselves are lost.
#[test]
fn child_invokes_then_exits() {
    if std::env::var_os("OTEL_TEST_CHILD").is_none() {
        return;
    }
    let function = Function::http("Echo", echo).binding("req");
    let runtime = rocket::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for (id, traceparent) in [
        ("traced", format!("00-{TRACE_ID}-{PARENT_ID}-01")),
        ("malformed", format!("00-{TRACE_ID}-{PARENT_ID}-1")),
    ] {
        let body = format!(
            r#"{{"Data": {{"req": {{"Body": "hi"}}}}, "Metadata": {{"Headers": {{"traceparent": "{traceparent}", "tracestate": "{TRACESTATE}"}}}}}}"#
        );
        let answer = runtime.block_on(invoke(
            &function,
            body.as_bytes(),
            |body| DirectCall {
                body,
                ..DirectCall::default()
            },
            Some(id),
        ));
        println!("answer {}", String::from_utf8_lossy(&answer.body));
    }
    std::process::exit(0);
}

/// Kills the child when the test ends, also when it fails.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Answers every OTLP request with 200, each request's path and body sent
/// to the test before the reply, so that an export the exporter saw
/// succeed is already in the channel.
fn receiver() -> (u16, mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, received) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            if let Some(request) = read_request(&stream)
                && sender.send(request).is_err()
            {
                return;
            }
            let _ = (&stream).write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n",
            );
        }
    });
    (port, received)
}

fn read_request(mut stream: &TcpStream) -> Option<(String, Vec<u8>)> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut raw = Vec::new();
    let mut buffer = [0u8; 8192];
    let head_end = loop {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            return None;
        }
        raw.extend_from_slice(&buffer[..read]);
        if let Some(at) = raw.windows(4).position(|window| window == b"\r\n\r\n") {
            break at;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let path = head.split(' ').nth(1)?.to_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = raw[head_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&buffer[..read]);
    }
    Some((path, body))
}

/// Runs the child with the exporter sent to `endpoint`: its status, stdout
/// and stderr.
fn run_child(endpoint: &str) -> (std::process::ExitStatus, String, String) {
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_invokes_then_exits",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OTEL_TEST_CHILD", "1")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env("OTEL_SERVICE_NAME", "otel-test")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .env_remove("OTEL_SDK_DISABLED")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the child did not exit in 60 s");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status, stdout, stderr)
}

#[test]
fn invocation_spans_reach_an_otlp_receiver_as_children_of_the_callers_trace() {
    let (port, received) = receiver();
    let (status, stdout, stderr) = run_child(&format!("http://127.0.0.1:{port}"));
    assert!(status.success(), "{stdout}\n{stderr}");
    // The event is a line of the invocation's Logs as well.
    assert!(
        stdout.contains(
            r#"[INFO] Echo invocation=\"traced\" category=\"otel\" message=\"echoing\" length=2"#
        ),
        "{stdout}"
    );

    let mut spans = Vec::new();
    let mut services = Vec::new();
    for (path, body) in received.try_iter() {
        assert_eq!(path, "/v1/traces");
        let request = otlp::ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
        for resource_spans in request.resource_spans {
            let resource = resource_spans.resource.unwrap_or_default();
            services.extend(otlp::text(&resource.attributes, "service.name").map(str::to_owned));
            for scope in resource_spans.scope_spans {
                spans.extend(scope.spans);
            }
        }
    }
    assert!(
        services.iter().all(|name| name == "otel-test"),
        "{services:?}"
    );
    assert!(!services.is_empty(), "nothing received: {stderr}");
    let by_id = |id: &str| {
        spans
            .iter()
            .find(|span| otlp::text(&span.attributes, "faas.invocation_id") == Some(id))
            .unwrap_or_else(|| panic!("no span for {id}: {spans:#?}"))
    };

    let traced = by_id("traced");
    assert_eq!(traced.name, "Echo");
    assert_eq!(traced.trace_id, hex(TRACE_ID));
    assert_eq!(traced.parent_span_id, hex(PARENT_ID));
    assert_eq!(traced.trace_state, TRACESTATE);
    assert_eq!(traced.span_id.len(), 8);
    assert_ne!(traced.span_id, hex(PARENT_ID));
    let event = traced
        .events
        .iter()
        .find(|event| event.name == "echoing")
        .unwrap_or_else(|| panic!("no event: {traced:#?}"));
    let length = event.attributes.iter().find(|pair| pair.key == "length");
    assert_eq!(
        length
            .and_then(|pair| pair.value.as_ref())
            .map(|value| value.int_value),
        Some(2),
        "{event:?}"
    );

    // A malformed traceparent: ignored, a trace of its own.
    let fresh = by_id("malformed");
    assert_eq!(fresh.trace_id.len(), 16);
    assert_ne!(fresh.trace_id, hex(TRACE_ID));
    assert!(fresh.parent_span_id.is_empty(), "{fresh:#?}");
    assert_eq!(fresh.trace_state, "");
}

#[test]
fn a_collector_that_is_down_fails_no_invocation_and_is_said_once() {
    // A port nothing listens on: bound, then released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let (status, stdout, stderr) = run_child(&format!("http://127.0.0.1:{port}"));
    assert!(status.success(), "{stdout}\n{stderr}");
    // libtest's `test ... ` may stand before the first.
    let answers: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split_once("answer ").map(|(_, answer)| answer))
        .collect();
    assert_eq!(answers.len(), 2, "{stdout}");
    for answer in answers {
        assert!(answer.contains(r#""body":"hi""#), "{answer}");
    }
    assert_eq!(stderr.matches("spans not sent").count(), 1, "{stderr}");
    // No retries' back-off: refused connections are answered at once.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
