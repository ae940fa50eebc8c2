//! The host's part for `tests/hardening.rs`, kept apart from
//! `tests/common` (which moves to `local_host`): a pooled keep-alive
//! HTTP/1.1 client that sends invocations chunked as the host does, and the
//! built binary as a child process, killed when dropped.
#![allow(dead_code)] // Each test crate uses a different part of this.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::TcpListener;
use std::pin::Pin;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rocket::tokio;
use serde_json::Value;

/// How long the host waits for a new handler to answer `GET /`.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A request body sent in the given pieces with `Transfer-Encoding:
/// chunked`, never with a Content-Length: what the host does.
pub struct Chunked(VecDeque<Bytes>);

impl Chunked {
    /// `bytes` cut into pieces of at most `piece` bytes.
    pub fn new(bytes: &[u8], piece: usize) -> Chunked {
        Chunked(
            bytes
                .chunks(piece.max(1))
                .map(Bytes::copy_from_slice)
                .collect(),
        )
    }
}

impl Body for Chunked {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|piece| Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        // An inexact hint is what makes hyper choose chunked encoding.
        SizeHint::default()
    }
}

/// A reply as the host sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

/// Why a request got no whole reply.
#[derive(Debug)]
pub enum Failure {
    /// No response at all: refused, reset or closed before the status line.
    /// The handler never accepted the request.
    NoResponse(String),
    /// A status line came, but the body broke off: a reply cut short.
    BrokenBody { status: u16, error: String },
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "reply is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// What the caller would get: the `$return` status and parsed body. The
    /// reply itself must be what the host accepts: 200 and JSON.
    pub fn caller(&self) -> (u64, Value) {
        assert_eq!(self.status, 200, "the host turns non-2xx into an empty 500");
        assert_eq!(self.content_type.as_deref(), Some("application/json"));
        let envelope = self.json();
        let ret = &envelope["ReturnValue"];
        assert_eq!(ret["headers"]["Content-Type"], "application/json");
        let body = ret["body"].as_str().expect("body is a string");
        (
            ret["statusCode"].as_u64().expect("statusCode"),
            serde_json::from_str(body).expect("body is JSON"),
        )
    }

    pub fn logs(&self) -> Vec<String> {
        serde_json::from_value(self.json()["Logs"].clone()).expect("Logs is an array of strings")
    }
}

/// A pooled keep-alive HTTP/1.1 client that talks like the Functions host.
#[derive(Clone)]
pub struct Host {
    client: Client<HttpConnector, Chunked>,
    base: String,
}

impl Host {
    pub fn new(port: u16) -> Host {
        // Without TCP_NODELAY, a body sent in many small chunks waits on
        // Nagle and delayed ACKs (~40 ms a request); the host's .NET client
        // sets it too.
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Host {
            client: Client::builder(TokioExecutor::new()).build(connector),
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Invokes `function` with an envelope, chunked in `piece`-byte pieces,
    /// with the headers the host sends.
    pub async fn invoke(
        &self,
        function: &str,
        envelope: &[u8],
        invocation_id: &str,
        piece: usize,
    ) -> Reply {
        match self
            .try_invoke(function, envelope, invocation_id, piece)
            .await
        {
            Ok(reply) => reply,
            Err(failure) => panic!("the handler did not answer in full: {failure:?}"),
        }
    }

    /// Like [`Host::invoke`], but a request the handler does not answer in
    /// full is reported instead of failing the test.
    pub async fn try_invoke(
        &self,
        function: &str,
        envelope: &[u8],
        invocation_id: &str,
        piece: usize,
    ) -> Result<Reply, Failure> {
        let request = hyper::Request::post(format!("{}/{function}", self.base))
            .header("Content-Type", "application/json; charset=utf-8")
            .header("X-Azure-Functions-HostVersion", "4.1037.0.0")
            .header("X-Azure-Functions-InvocationId", invocation_id)
            .header("User-Agent", "Azure-Functions-Host/4.1037.0.0")
            .body(Chunked::new(envelope, piece))
            .expect("valid request");
        self.try_send(request).await
    }

    /// Any request, e.g. a direct call or the readiness probe.
    pub async fn request(&self, method: &str, path: &str, body: &[u8]) -> Reply {
        self.request_with(method, path, &[], body, body.len()).await
    }

    /// Any request with extra headers, its body chunked in `piece`-byte
    /// pieces (no body at all when `body` is empty).
    pub async fn request_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        piece: usize,
    ) -> Reply {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Chunked::new(body, piece))
            .expect("valid request");
        self.send(request).await
    }

    async fn send(&self, request: hyper::Request<Chunked>) -> Reply {
        match self.try_send(request).await {
            Ok(reply) => reply,
            Err(failure) => panic!("the handler did not answer in full: {failure:?}"),
        }
    }

    async fn try_send(&self, request: hyper::Request<Chunked>) -> Result<Reply, Failure> {
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| Failure::NoResponse(format!("{error:?}")))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers
            .get("content-type")
            .map(|value| value.to_str().expect("ASCII content type").to_owned());
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|error| Failure::BrokenBody {
                status,
                error: format!("{error:?}"),
            })?
            .to_bytes()
            .to_vec();
        Ok(Reply {
            status,
            content_type,
            headers,
            body,
        })
    }

    /// Polls `GET /` every 25 ms, as the host does, until any HTTP answer.
    pub async fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            let probe = hyper::Request::get(format!("{}/", self.base))
                .body(Chunked::new(b"", 1))
                .expect("valid request");
            if self.client.request(probe).await.is_ok() {
                return;
            }
            assert!(
                started.elapsed() < READY_TIMEOUT,
                "not ready within {READY_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound").port()
}

/// The built handler binary as a child process, killed when dropped.
pub struct Handler {
    pub child: Child,
}

impl Handler {
    /// Starts the binary with `env` added to this process's environment,
    /// and no port variables but those in `env`.
    pub fn start(env: &[(&str, &str)]) -> Handler {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rusty_function"));
        command
            .env_remove("FUNCTIONS_CUSTOMHANDLER_PORT")
            .env_remove("FUNCTIONS_HTTPWORKER_PORT")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Handler {
            child: command.spawn().expect("the binary starts"),
        }
    }

    /// Waits for the process to exit by itself, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("waitable") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Sends SIGTERM, as the platform does when it stops an instance.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Everything the process wrote to stdout and stderr, once it has exited.
    pub fn output(&mut self) -> (String, String) {
        use std::io::Read;
        let mut stdout = String::new();
        let mut stderr = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            out.read_to_string(&mut stdout).expect("stdout");
        }
        if let Some(mut err) = self.child.stderr.take() {
            err.read_to_string(&mut stderr).expect("stderr");
        }
        (stdout, stderr)
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
