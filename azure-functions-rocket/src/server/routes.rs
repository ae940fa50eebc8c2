//! The HTTP surface the Functions host talks to: the readiness probe, one
//! POST route for every function of the registry, and JSON catchers.

use rocket::data::{self, ByteUnit, Data, FromData, ToByteUnit};
use rocket::http::{ContentType, Method, Status};
use rocket::request::{self, FromRequest, Request};
use rocket::response::{self, Responder, Response};
use rocket::serde::json::{Json, json};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use rocket::tokio;
use rocket::tokio::io::{self, AsyncRead, AsyncReadExt, ReadBuf};
use rocket::tokio::sync::{OwnedSemaphorePermit, Semaphore};
use rocket::{Catcher, Route, State, catch, catchers, get, post, routes};

use crate::adapter::{self, Answer};
use crate::config::{Hardening, LARGE_INVOCATION, default_json_limit};
use crate::envelope::INVOCATION_ID_HEADER;
use crate::error::Error;
use crate::registry::Registry;
use crate::text::quote;
use crate::trigger::DirectCall;

pub fn routes() -> Vec<Route> {
    // Other methods on a function's path get their 405 from the catcher:
    // a route per method cost a tenth of the start-up's instructions.
    routes![ready, invoke]
}

pub fn catchers() -> Vec<Catcher> {
    catchers![error]
}

/// Readiness probe and health ping: the host only needs an answer.
#[get("/")]
fn ready() {}

/// The envelope for the host, with the status the trigger calls for,
/// built in one step, not as `(Status, (ContentType, Vec<u8>))`: each layer
/// of that rebuilds the response, and the `Vec<u8>` one sets a content type
/// only for the next to replace it (2.8k instructions a request,
/// `bench/profile`).
impl<'r> Responder<'r, 'static> for Answer {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let Answer { status, body } = self;
        Response::build()
            .status(Status::from_code(status).unwrap_or(Status::InternalServerError))
            .header(ContentType::JSON)
            .sized_body(body.len(), std::io::Cursor::new(body))
            .ok()
    }
}

#[post("/<name>", data = "<invocation>")]
async fn invoke(
    name: &str,
    invocation: Invocation,
    registry: &State<Registry>,
    caller: Caller<'_>,
) -> Option<Answer> {
    let Invocation { body, in_flight } = invocation;
    let Some(function) = registry.find(name) else {
        if let Some(in_flight) = in_flight {
            in_flight.answered(&body);
        }
        return None;
    };
    let id = caller.invocation_id;
    let answer = match &body {
        RequestBody::Complete { bytes, .. } => {
            adapter::invoke(function, bytes, |body| caller.direct_call(body), id).await
        }
        RequestBody::TooLarge { limit } => adapter::refuse(
            function,
            id,
            Error::PayloadTooLarge(format!(
                "the invocation is larger than {limit} (Rocket's `limits.json`)"
            )),
        ),
        RequestBody::Unreadable(reason) => adapter::refuse(
            function,
            id,
            Error::BadRequest(format!("the request body could not be read: {reason}")),
        ),
        RequestBody::Busy => adapter::refuse(
            function,
            id,
            Error::Unavailable(
                "the handler is busy with other large invocations; try again".to_owned(),
            ),
        ),
    };
    if let Some(in_flight) = in_flight {
        in_flight.answered(&body);
    }
    let large = matches!(
        body,
        RequestBody::Complete { _turn: Some(_), .. }
            | RequestBody::TooLarge { .. }
            | RequestBody::Busy
    );
    drop(body);
    if large {
        crate::allocator::give_back_memory();
    }
    Some(answer)
}

/// The request line and headers, for the invocation id and, only when a
/// call did not come through the host, for the function's request.
struct Caller<'r> {
    request: &'r Request<'r>,
    invocation_id: Option<&'r str>,
}

impl<'r> Caller<'r> {
    fn direct_call<'a>(&self, body: &'a [u8]) -> DirectCall<'a> {
        direct_call(self.request, body)
    }
}

/// A request that did not come in the host's envelope, as a function's
/// input: a direct call, or a caller's request the host forwarded.
pub(super) fn direct_call<'a>(request: &Request<'_>, body: &'a [u8]) -> DirectCall<'a> {
    let uri = request.uri();
    DirectCall {
        method: request.method().as_str().to_owned(),
        url: uri.to_string(),
        query: uri
            .query()
            .map(|query| {
                query
                    .segments()
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        headers: request
            .headers()
            .iter()
            .map(|header| (header.name().to_string(), header.value().to_owned()))
            .collect(),
        body,
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Caller<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        // A scan of the few headers the host sends, not `get_one`, which
        // hashes the name with SipHash: 0.3k instructions a request instead
        // of 1.9k (`bench/profile`). Rocket keeps every header borrowed.
        let invocation_id = req
            .headers()
            .iter()
            .find(|header| header.name == INVOCATION_ID_HEADER)
            .and_then(|header| match header.value {
                Cow::Borrowed(value) => Some(value),
                Cow::Owned(_) => req.headers().get_one(INVOCATION_ID_HEADER),
            });
        request::Outcome::Success(Caller {
            request: req,
            invocation_id,
        })
    }
}

/// The most read from one request body, to drain what is over the limit
/// before answering 413: the host accepts caller bodies up to 100 MiB and
/// escapes them into the envelope, up to six times over (`\\u0001` for a
/// control byte). Beyond this the connection is simply closed.
fn drain_limit() -> ByteUnit {
    1.gibibytes()
}

/// Envelopes of small HTTP calls are one or two KiB.
const TYPICAL_BODY: usize = 4096;

/// Rocket reads this many bytes of every body before routing (to look for
/// a form's `_method`), in `Data::peek`, which swallows a read error: a
/// body that broke off within them looks complete but short.
const ROCKET_PEEKS: usize = "_method=delete".len();

/// The invocations of one server: how many are in flight, how many were
/// dropped unanswered, and the turns of large ones.
#[derive(Clone)]
pub struct Invocations(Arc<InvocationsInner>);

struct InvocationsInner {
    in_flight: AtomicUsize,
    dropped: AtomicUsize,
    stopping: AtomicBool,
    large: Arc<Semaphore>,
    body_timeout: Duration,
}

impl Invocations {
    pub fn new(settings: &Hardening) -> Invocations {
        Invocations(Arc::new(InvocationsInner {
            in_flight: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            large: Arc::new(Semaphore::new(settings.large_invocations.max(1))),
            body_timeout: Duration::from_secs(settings.body_timeout.max(1)),
        }))
    }

    /// Marks the start of the shutdown: an invocation whose body cannot be
    /// read from now on was cut by it.
    pub fn stop(&self) {
        self.0.stopping.store(true, Ordering::SeqCst);
    }

    /// Invocations that were cut off without an answer, and those still
    /// running.
    pub fn unfinished(&self) -> (usize, usize) {
        (
            self.0.dropped.load(Ordering::SeqCst),
            self.0.in_flight.load(Ordering::SeqCst),
        )
    }

    /// Seconds an invocation's body may go without a byte arriving.
    pub(super) fn body_timeout(&self) -> Duration {
        self.0.body_timeout
    }

    pub(super) fn begin(&self) -> InFlight {
        self.0.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight {
            invocations: self.clone(),
            answered: false,
        }
    }
}

/// One invocation in flight. Dropped without [`InFlight::answered`], it
/// was cut off (its task ended at shutdown) and is counted as dropped.
pub(super) struct InFlight {
    invocations: Invocations,
    answered: bool,
}

impl InFlight {
    /// Marks a forwarded request answered.
    pub(super) fn done(mut self) {
        self.answered = true;
    }

    fn answered(mut self, body: &RequestBody) {
        // A body cut off by the shutdown gets an answer nobody can read.
        let cut = matches!(body, RequestBody::Unreadable(_))
            && self.invocations.0.stopping.load(Ordering::SeqCst);
        self.answered = !cut;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let inner = &self.invocations.0;
        inner.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !self.answered {
            inner.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A request body read up to Rocket's `json` limit. Never fails, so that
/// every invocation gets an envelope back, oversized ones included.
enum RequestBody {
    Complete {
        bytes: Vec<u8>,
        /// A large invocation's turn, given back with the body.
        _turn: Option<OwnedSemaphorePermit>,
    },
    TooLarge {
        limit: ByteUnit,
    },
    Unreadable(String),
    Busy,
}

/// The body and, for a server started by [`crate::server`], the
/// invocation's place among those in flight.
struct Invocation {
    body: RequestBody,
    in_flight: Option<InFlight>,
}

#[rocket::async_trait]
impl<'r> FromData<'r> for Invocation {
    type Error = std::convert::Infallible;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let invocations = req.rocket().state::<Invocations>();
        let in_flight = invocations.map(Invocations::begin);
        let body = read_body(req, data, invocations).await;
        data::Outcome::Success(Invocation { body, in_flight })
    }
}

async fn read_body(
    req: &Request<'_>,
    mut data: Data<'_>,
    invocations: Option<&Invocations>,
) -> RequestBody {
    // Peeking again reads nothing when Rocket's peek got its bytes; when it
    // got fewer without reaching the end, a read failed there.
    let was_complete = data.peek_complete();
    if !was_complete && data.peek(ROCKET_PEEKS).await.len() < ROCKET_PEEKS {
        return RequestBody::Unreadable("it broke off before its end".to_owned());
    }
    let limit = req.limits().get("json").unwrap_or_else(default_json_limit);
    let body_timeout = invocations.map_or(Duration::from_secs(30), |i| i.0.body_timeout);
    let mut stream = Patient::new(data.open(limit.max(drain_limit())), body_timeout);
    let limit_bytes = limit.as_u64() as usize;
    // The host sends no Content-Length (its bodies are chunked): start
    // with room for a typical envelope rather than growing from nothing.
    let mut bytes = Vec::with_capacity(TYPICAL_BODY.min(limit_bytes + 1));
    let first = limit_bytes.min(LARGE_INVOCATION) + 1;
    if let Err(error) = read_up_to(&mut stream, &mut bytes, first).await {
        return unreadable(&error);
    }
    let mut permit = None;
    if bytes.len() == first && bytes.len() <= limit_bytes {
        // A large invocation: wait for a turn before holding more of it,
        // so that memory stays bounded however many arrive at once.
        if let Some(invocations) = invocations {
            let turn = Arc::clone(&invocations.0.large).acquire_owned();
            match tokio::time::timeout(body_timeout, turn).await {
                Ok(Ok(turn)) => permit = Some(turn),
                _ => {
                    drop(bytes);
                    let _ = io::copy(&mut stream, &mut io::sink()).await;
                    return RequestBody::Busy;
                }
            }
        }
        if let Err(error) = read_up_to(&mut stream, &mut bytes, limit_bytes + 1).await {
            return unreadable(&error);
        }
    }
    if bytes.len() > limit_bytes {
        // Answering before the host has finished sending would break its
        // connection instead of delivering the 413; the bytes read so far
        // are given back first.
        drop(bytes);
        drop(permit);
        return match io::copy(&mut stream, &mut io::sink()).await {
            Err(error) => unreadable(&error),
            Ok(_) => RequestBody::TooLarge { limit },
        };
    }
    RequestBody::Complete {
        bytes,
        _turn: permit,
    }
}

/// Reads into `bytes` until it holds `end` bytes or the body ends. The
/// buffer doubles as it fills, as `read_to_end` would, but never beyond
/// `end`: a large invocation waiting for its turn holds 1 MiB, not 2.
pub(super) async fn read_up_to(
    stream: &mut (impl AsyncRead + Unpin),
    bytes: &mut Vec<u8>,
    end: usize,
) -> io::Result<()> {
    while bytes.len() < end {
        if bytes.len() == bytes.capacity() {
            let room = bytes.capacity().max(TYPICAL_BODY).min(end - bytes.len());
            bytes.reserve_exact(room);
        }
        let want = (bytes.capacity() - bytes.len()).min(end - bytes.len());
        if (&mut *stream).take(want as u64).read_buf(bytes).await? == 0 {
            break;
        }
    }
    Ok(())
}

/// A body stream that fails with `TimedOut` when no byte arrives for
/// `patience`: a sender that stalls must not hold memory and a connection
/// for ever.
pub(super) struct Patient<R> {
    inner: R,
    patience: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl<R> Patient<R> {
    pub(super) fn new(inner: R, patience: Duration) -> Patient<R> {
        Patient {
            inner,
            patience,
            deadline: Box::pin(tokio::time::sleep(patience)),
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Patient<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    let next = tokio::time::Instant::now() + self.patience;
                    self.deadline.as_mut().reset(next);
                }
                Poll::Ready(result)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no byte of it arrived for {} s", self.patience.as_secs()),
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

fn unreadable(error: &io::Error) -> RequestBody {
    RequestBody::Unreadable(match error.kind() {
        io::ErrorKind::TimedOut => error.to_string(),
        _ => format!("it broke off before its end ({error})"),
    })
}

/// Every error Rocket answers itself (unknown path, wrong method, panic,
/// ...) as JSON.
#[catch(default)]
fn error(status: Status, req: &Request<'_>) -> Failure {
    let path = quote(req.uri().path().as_str());
    if status == Status::NotFound && names_a_function(req) {
        // The host only ever POSTs; this is for people trying the handler
        // by hand, who deserve to learn that the path is right and the
        // method is not.
        return Failure {
            status: Status::MethodNotAllowed,
            message: format!("{} {path}: method not allowed, use POST", req.method()),
            allow_post: true,
        };
    }
    let reason = status.reason_lossy().to_lowercase();
    // No guard here ever fails with 400, so a 400 is a request Rocket could
    // not parse, typically an unknown method (`FOO`): Rocket then hands the
    // catcher a stand-in request whose method says GET, which would mislead.
    let message = if status == Status::BadRequest {
        format!("{path}: {reason}: an unknown HTTP method or a malformed request")
    } else {
        format!("{} {path}: {reason}", req.method())
    };
    Failure {
        status,
        message,
        allow_post: false,
    }
}

/// Whether `req`, not a POST, is to a function's path: a POST there was
/// routed, and its 404 is a function that does not exist.
fn names_a_function(req: &Request<'_>) -> bool {
    let mut segments = req.uri().path().segments();
    let (Some(name), None) = (segments.next(), segments.next()) else {
        return false;
    };
    req.method() != Method::Post
        && req
            .rocket()
            .state::<Registry>()
            .is_some_and(|registry| registry.find(name).is_some())
}

/// A JSON error, and `Allow: POST` on a 405.
struct Failure {
    status: Status,
    message: String,
    allow_post: bool,
}

impl<'r> Responder<'r, 'static> for Failure {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = (self.status, Json(json!({ "error": self.message }))).respond_to(req)?;
        if self.allow_post {
            response.set_raw_header("Allow", "POST");
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    /// A body whose bytes keep coming is read however long it takes in
    /// all; one that stops gets `TimedOut` once `patience` passes with
    /// nothing, counted from its last byte.
    #[rocket::async_test]
    async fn patience_runs_from_the_last_byte() {
        use super::Patient;
        use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
        use rocket::tokio::time::{Duration, Instant, sleep};

        let patience = Duration::from_millis(300);
        let (mut sender, receiver) = rocket::tokio::io::duplex(64);
        let trickle = rocket::tokio::spawn(async move {
            for _ in 0..6 {
                sleep(Duration::from_millis(100)).await;
                sender.write_all(b"x").await.expect("the reader is there");
            }
            sender
        });
        let mut body = Patient::new(receiver, patience);
        let mut bytes = [0; 6];
        body.read_exact(&mut bytes)
            .await
            .expect("bytes kept coming");
        assert_eq!(&bytes, b"xxxxxx");

        let _sender = trickle.await.expect("the writer ran");
        let stalled = Instant::now();
        let error = rocket::tokio::time::timeout(Duration::from_secs(5), body.read_u8())
            .await
            .expect("the stall was noticed")
            .expect_err("the sender stalled");
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        let waited = stalled.elapsed();
        assert!(waited >= patience, "timed out after {waited:?}");
        assert!(waited < patience * 3, "timed out only after {waited:?}");
    }
}
