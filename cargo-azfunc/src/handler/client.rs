//! An HTTP client that talks to a handler the way the Functions host does
//! (docs/host-protocol.md "Start-up and readiness" and "host -> handler"): pooled keep-alive HTTP/1.1, bodies
//! sent chunked without Content-Length, the host's headers, TCP_NODELAY.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::TcpListener;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::limits::{BodyError, REPLY_LIMIT, read_capped};

/// The host release whose behaviour this crate reproduces.
pub const HOST_VERSION: &str = "4.1037.0.0";

/// How long the host waits for a new handler to answer `GET /`.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the host probes `GET /` while it waits.
pub const READY_POLL: Duration = Duration::from_millis(25);

/// A request body sent in the given pieces with `Transfer-Encoding:
/// chunked`, never with a Content-Length: what the host does.
pub struct Chunked(VecDeque<Bytes>);

impl Chunked {
    /// `bytes` cut into pieces of at most `piece` bytes (0 counts as 1).
    pub fn new(bytes: &[u8], piece: usize) -> Chunked {
        Chunked(
            bytes
                .chunks(piece.max(1))
                .map(Bytes::copy_from_slice)
                .collect(),
        )
    }

    /// No body at all.
    pub fn empty() -> Chunked {
        Chunked(VecDeque::new())
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

/// A whole reply as the host sees it.
#[derive(Clone, Debug)]
pub struct HttpReply {
    pub status: u16,
    pub content_type: Option<String>,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

/// Why a request got no whole reply.
#[derive(Debug, Clone)]
pub enum Failure {
    /// No response at all: refused, reset or closed before the status line.
    /// The handler never accepted the request.
    NoResponse(String),
    /// A status line came, but the body broke off: a reply cut short.
    BrokenBody { status: u16, error: String },
    /// The body went past `limit` bytes: cargo-azfunc stopped reading it.
    TooLarge { status: u16, limit: usize },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::NoResponse(error) => write!(f, "no response from the handler: {error}"),
            Failure::BrokenBody { status, error } => {
                write!(f, "the handler's {status} reply broke off: {error}")
            }
            Failure::TooLarge { status, limit } => write!(
                f,
                "the handler's {status} reply is larger than {}: cargo-azfunc stopped reading it",
                crate::limits::size(*limit)
            ),
        }
    }
}

impl HttpReply {
    /// The body as JSON.
    pub fn try_json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The body as JSON. Panics when it is not: a test helper.
    #[track_caller]
    pub fn json(&self) -> Value {
        self.try_json().unwrap_or_else(|e| {
            panic!(
                "reply is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// What an HTTP caller would get from a handler that answers with a
    /// JSON string body: the `$return` status and the parsed body. Panics
    /// (a test helper) unless the reply is one the host accepts: 200, JSON.
    #[track_caller]
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

    /// The envelope's `Logs`. Panics (a test helper) when there are none.
    #[track_caller]
    pub fn logs(&self) -> Vec<String> {
        serde_json::from_value(self.json()["Logs"].clone()).expect("Logs is an array of strings")
    }
}

/// A pooled keep-alive HTTP/1.1 client that talks like the Functions host
/// to the handler on one port. Cheap to clone.
#[derive(Clone)]
pub struct HostClient {
    client: Client<HttpConnector, Chunked>,
    port: u16,
    reply_limit: usize,
}

impl HostClient {
    pub fn new(port: u16) -> HostClient {
        // Without TCP_NODELAY, a body sent in many small chunks waits on
        // Nagle and delayed ACKs (~40 ms a request); the host's .NET client
        // sets it too.
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        HostClient {
            client: Client::builder(TokioExecutor::new()).build(connector),
            port,
            reply_limit: REPLY_LIMIT,
        }
    }

    /// The same client, reading at most `limit` bytes of a reply's body
    /// ([`REPLY_LIMIT`] by default).
    pub fn with_reply_limit(mut self, limit: usize) -> HostClient {
        self.reply_limit = limit;
        self
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn url(&self, path: &str) -> String {
        // The host dials IPv4 loopback, hard-coded.
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Invokes `function` with an envelope, chunked in `piece`-byte pieces,
    /// with the headers the host sends. Panics when the handler does not
    /// answer in full: a test helper; see [`HostClient::try_invoke`].
    pub async fn invoke(
        &self,
        function: &str,
        envelope: &[u8],
        invocation_id: &str,
        piece: usize,
    ) -> HttpReply {
        match self
            .try_invoke(function, envelope, invocation_id, piece)
            .await
        {
            Ok(reply) => reply,
            Err(failure) => panic!("the handler did not answer in full: {failure:?}"),
        }
    }

    /// `POST /{function}` as the host sends it; a request the handler does
    /// not answer in full is reported. An empty `invocation_id` gets a
    /// fresh GUID, as the host gives every invocation.
    pub async fn try_invoke(
        &self,
        function: &str,
        envelope: &[u8],
        invocation_id: &str,
        piece: usize,
    ) -> Result<HttpReply, Failure> {
        let fresh;
        let invocation_id = if invocation_id.is_empty() {
            fresh = crate::ids::new_guid();
            fresh.as_str()
        } else {
            invocation_id
        };
        let request = hyper::Request::post(self.url(&format!("/{function}")))
            .header("Content-Type", "application/json; charset=utf-8")
            .header("X-Azure-Functions-HostVersion", HOST_VERSION)
            .header("X-Azure-Functions-InvocationId", invocation_id)
            .header("User-Agent", format!("Azure-Functions-Host/{HOST_VERSION}"))
            .body(Chunked::new(envelope, piece))
            .map_err(|e| Failure::NoResponse(format!("cannot build the request: {e}")))?;
        self.try_send(request).await
    }

    /// Any request, e.g. a direct call or the readiness probe. Panics when
    /// the handler does not answer in full: a test helper.
    pub async fn request(&self, method: &str, path: &str, body: &[u8]) -> HttpReply {
        self.request_with(method, path, &[], body, body.len()).await
    }

    /// Any request with extra headers, its body chunked in `piece`-byte
    /// pieces (no body at all when `body` is empty). Panics when the handler
    /// does not answer in full: a test helper.
    pub async fn request_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        piece: usize,
    ) -> HttpReply {
        match self
            .try_request_with(method, path, headers, body, piece)
            .await
        {
            Ok(reply) => reply,
            Err(failure) => panic!("the handler did not answer in full: {failure:?}"),
        }
    }

    /// Like [`HostClient::request_with`], reporting failures.
    pub async fn try_request_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        piece: usize,
    ) -> Result<HttpReply, Failure> {
        let mut request = hyper::Request::builder().method(method).uri(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Chunked::new(body, piece))
            .map_err(|e| Failure::NoResponse(format!("cannot build the request: {e}")))?;
        self.try_send(request).await
    }

    /// Sends a request and gives back the response as it arrives, its
    /// body unread: for replies passed on as they stream.
    pub async fn open(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Chunked,
    ) -> Result<hyper::Response<hyper::body::Incoming>, Failure> {
        let mut request = hyper::Request::builder().method(method).uri(self.url(path));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = request
            .body(body)
            .map_err(|e| Failure::NoResponse(format!("cannot build the request: {e}")))?;
        self.client
            .request(request)
            .await
            .map_err(|error| Failure::NoResponse(describe(&error)))
    }

    async fn try_send(&self, request: hyper::Request<Chunked>) -> Result<HttpReply, Failure> {
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| Failure::NoResponse(describe(&error)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers
            .get(hyper::header::CONTENT_TYPE)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        let body = read_capped(response.into_body(), self.reply_limit, None)
            .await
            .map_err(|error| match error {
                BodyError::TooLarge(limit) => Failure::TooLarge { status, limit },
                other => Failure::BrokenBody {
                    status,
                    error: other.to_string(),
                },
            })?;
        Ok(HttpReply {
            status,
            content_type,
            headers,
            body,
        })
    }

    /// One readiness probe: whether `GET /` gets any HTTP response at all.
    pub async fn probe(&self) -> bool {
        let Ok(probe) = hyper::Request::get(self.url("/")).body(Chunked::empty()) else {
            return false;
        };
        self.client.request(probe).await.is_ok()
    }

    /// Polls `GET /` every 25 ms, as the host does, until any HTTP answer;
    /// gives up after `limit`.
    pub async fn wait_ready(&self, limit: Duration) -> Result<(), String> {
        let started = Instant::now();
        loop {
            let left = limit.saturating_sub(started.elapsed());
            // A port that accepts but never answers must not outlast the limit.
            if let Ok(true) = tokio::time::timeout(left, self.probe()).await {
                return Ok(());
            }
            if started.elapsed() >= limit {
                return Err(format!(
                    "the handler did not answer GET http://127.0.0.1:{}/ within {:?}",
                    self.port, limit
                ));
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }
}

/// hyper's client errors say little at the top ("client error (Connect)");
/// the cause chain says what happened.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A port nobody listens on right now (0 if the OS gives none).
///
/// The port is free only until someone binds it, and the OS may hand the
/// same port to the next caller in this process before the first one binds
/// it: two handlers would then share a port, and one's readiness probe
/// could be answered by the other. Remembering recent answers avoids that
/// within a process.
pub fn free_port() -> u16 {
    static RECENT: Mutex<VecDeque<u16>> = Mutex::new(VecDeque::new());
    let mut last = 0;
    for _ in 0..32 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .unwrap_or(0);
        let Ok(mut recent) = RECENT.lock() else {
            return port;
        };
        last = port;
        if port != 0 && !recent.contains(&port) {
            recent.push_back(port);
            if recent.len() > 256 {
                recent.pop_front();
            }
            return port;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_not_handed_out_twice() {
        let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
        let mut unique = ports.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ports.len());
        assert!(ports.iter().all(|p| *p != 0));
    }
}
