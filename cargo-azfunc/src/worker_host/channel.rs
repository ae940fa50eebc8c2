//! One worker's stream as the host's GrpcWorkerChannel drives it
//! (docs/native-worker-host.md, "The stream"): StartStream, init,
//! indexing, loading, then invocations whose responses and logs are
//! routed by invocation id, status requests, and the end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio_stream::StreamExt;
use tonic::Status;
use worker_proto::rpc_log::{Level as RpcLevel, RpcLogCategory};
use worker_proto::status_result::Status as ResultStatus;
use worker_proto::streaming_message::Content;
use worker_proto::{
    InvocationRequest, InvocationResponse, RpcException, RpcLog, StatusResult, StreamingMessage,
    WorkerStatusRequest, WorkerTerminate,
};

use crate::console::{Console, Level};

use super::server::Stream;

/// Worker capabilities the host reads (RpcWorkerConstants).
pub mod capability {
    pub const RAW_HTTP_BODY_BYTES: &str = "RawHttpBodyBytes";
    pub const RPC_HTTP_BODY_ONLY: &str = "RpcHttpBodyOnly";
    pub const RPC_HTTP_TRIGGER_METADATA_REMOVED: &str = "RpcHttpTriggerMetadataRemoved";
    pub const WORKER_STATUS: &str = "WorkerStatus";
    pub const SUPPORTS_LOAD_RESPONSE_COLLECTION: &str = "SupportsLoadResponseCollection";
    pub const HANDLES_WORKER_TERMINATE_MESSAGE: &str = "HandlesWorkerTerminateMessage";
    pub const HTTP_URI: &str = "HttpUri";
    pub const REQUIRES_ROUTE_PARAMETERS: &str = "RequiresRouteParameters";
}

/// The grace period WorkerTerminate gives (WorkerConstants).
pub const TERMINATE_GRACE: Duration = Duration::from_secs(5);

type Outbound = mpsc::UnboundedSender<Result<StreamingMessage, Status>>;

/// What the worker answered to one invocation, and the logs it sent for
/// it meanwhile.
#[derive(Debug)]
pub struct Answer {
    pub response: InvocationResponse,
    pub logs: Vec<String>,
}

struct Running {
    reply: oneshot::Sender<Answer>,
    logs: Vec<String>,
    /// `[Function id]`: how its logs are shown.
    tag: String,
}

#[derive(Default)]
struct Routes {
    invocations: HashMap<String, Running>,
    statuses: HashMap<String, oneshot::Sender<()>>,
}

/// The open stream to one worker process.
pub struct Channel {
    outbound: Arc<Mutex<Option<Outbound>>>,
    routes: Arc<Mutex<Routes>>,
    /// The messages the invocation router does not take (start-up).
    control: tokio::sync::Mutex<mpsc::UnboundedReceiver<StreamingMessage>>,
    closed: watch::Receiver<bool>,
    /// What the worker's WorkerInitResponse advertised.
    pub capabilities: HashMap<String, String>,
}

fn lock(routes: &Mutex<Routes>) -> MutexGuard<'_, Routes> {
    // Nothing is left half-changed under the lock.
    routes.lock().unwrap_or_else(|p| p.into_inner())
}

impl Channel {
    /// Takes over a stream a worker opened: its messages are read from
    /// here on, logs and invocation responses routed as they come.
    pub fn new(stream: Stream, console: Console) -> Channel {
        let routes = Arc::new(Mutex::new(Routes::default()));
        let (control_tx, control) = mpsc::unbounded_channel();
        let (closed_tx, closed) = watch::channel(false);
        let outbound = Arc::new(Mutex::new(Some(stream.outbound)));
        tokio::spawn(route_inbound(
            stream.inbound,
            outbound.clone(),
            routes.clone(),
            control_tx,
            closed_tx,
            console,
        ));
        Channel {
            outbound,
            routes,
            control: tokio::sync::Mutex::new(control),
            closed,
            capabilities: HashMap::new(),
        }
    }

    /// Sends `content`; false once the stream is ended.
    pub fn send(&self, content: Content) -> bool {
        self.send_with_id(String::new(), content)
    }

    fn send_with_id(&self, request_id: String, content: Content) -> bool {
        let outbound = self.outbound.lock().unwrap_or_else(|p| p.into_inner());
        outbound.as_ref().is_some_and(|out| {
            out.send(Ok(StreamingMessage {
                request_id,
                content: Some(content),
            }))
            .is_ok()
        })
    }

    /// The next message the router did not take, within `limit`.
    pub async fn next_control(
        &self,
        limit: Duration,
        waiting_for: &str,
    ) -> Result<Content, String> {
        let mut control = self.control.lock().await;
        match tokio::time::timeout(limit, control.recv()).await {
            Ok(Some(StreamingMessage {
                content: Some(content),
                ..
            })) => Ok(content),
            Ok(Some(_)) => Err(format!(
                "the worker sent an empty message while the host waited for {waiting_for}"
            )),
            Ok(None) => Err(format!(
                "the worker's stream ended while the host waited for {waiting_for}"
            )),
            Err(_) => Err(format!(
                "the worker sent no {waiting_for} within {} s",
                limit.as_secs_f64()
            )),
        }
    }

    /// Whether the worker advertised `name` (the host tests for a
    /// non-empty value).
    pub fn has(&self, name: &str) -> bool {
        self.capabilities.get(name).is_some_and(|v| !v.is_empty())
    }

    /// Sends `request` and waits for its InvocationResponse, with the
    /// user logs the worker sent for it; each log is also shown as it
    /// comes, under `tag`, as the host logs it at once.
    pub async fn invoke(&self, request: InvocationRequest, tag: String) -> Result<Answer, String> {
        let id = request.invocation_id.clone();
        let (reply, answer) = oneshot::channel();
        lock(&self.routes).invocations.insert(
            id.clone(),
            Running {
                reply,
                logs: Vec::new(),
                tag,
            },
        );
        if *self.closed.borrow() || !self.send(Content::InvocationRequest(request)) {
            lock(&self.routes).invocations.remove(&id);
            return Err("the worker's stream has ended".into());
        }
        answer
            .await
            .map_err(|_| "the worker's stream ended before it answered the invocation".into())
    }

    /// WorkerStatusRequest, only to a worker that advertised WorkerStatus;
    /// how long the answer took.
    pub async fn status(&self, limit: Duration) -> Result<Option<Duration>, String> {
        if !self.has(capability::WORKER_STATUS) {
            return Ok(None);
        }
        let id = crate::ids::new_guid();
        let (tx, rx) = oneshot::channel();
        lock(&self.routes).statuses.insert(id.clone(), tx);
        let started = std::time::Instant::now();
        if !self.send_with_id(
            id.clone(),
            Content::WorkerStatusRequest(WorkerStatusRequest {}),
        ) {
            return Err("the worker's stream has ended".into());
        }
        match tokio::time::timeout(limit, rx).await {
            Ok(Ok(())) => Ok(Some(started.elapsed())),
            Ok(Err(_)) => {
                Err("the worker's stream ended before it answered WorkerStatusRequest".into())
            }
            Err(_) => {
                lock(&self.routes).statuses.remove(&id);
                Err(format!(
                    "the worker did not answer WorkerStatusRequest within {} s",
                    limit.as_secs_f64()
                ))
            }
        }
    }

    /// WorkerTerminate with the host's grace period, if the worker
    /// advertised it handles the message; whether it was sent.
    pub fn terminate(&self) -> bool {
        if !self.has(capability::HANDLES_WORKER_TERMINATE_MESSAGE) {
            return false;
        }
        self.send(Content::WorkerTerminate(WorkerTerminate {
            grace_period: Some(worker_proto::Duration {
                seconds: TERMINATE_GRACE.as_secs() as i64,
                nanos: 0,
            }),
        }))
    }

    /// Ends the host's side of the stream.
    pub fn end(&self) {
        self.outbound
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }

    /// Resolves once the worker's side of the stream has ended.
    pub async fn ended(&self) {
        let mut closed = self.closed.clone();
        let _ = closed.wait_for(|closed| *closed).await;
    }
}

/// Reads the worker's messages until its stream ends: invocation
/// responses and user logs go to their invocation, status responses to
/// their request, system logs to the console, the rest to `control`.
async fn route_inbound(
    mut inbound: tonic::Streaming<StreamingMessage>,
    outbound: Arc<Mutex<Option<Outbound>>>,
    routes: Arc<Mutex<Routes>>,
    control: mpsc::UnboundedSender<StreamingMessage>,
    closed: watch::Sender<bool>,
    console: Console,
) {
    loop {
        let message = match inbound.next().await {
            Some(Ok(message)) => message,
            Some(Err(status)) => {
                // The supervisor reports the end (mostly: the worker died).
                console.envelope(
                    "[host]",
                    "the worker's stream failed",
                    status.message().as_bytes(),
                );
                break;
            }
            None => break,
        };
        match message.content {
            Some(Content::InvocationResponse(response)) => {
                let running = lock(&routes).invocations.remove(&response.invocation_id);
                match running {
                    Some(running) => {
                        let _ = running.reply.send(Answer {
                            response,
                            logs: running.logs,
                        });
                    }
                    None => console.warning(format!(
                        "[host] the worker answered invocation {}, which is not running: ignored",
                        response.invocation_id
                    )),
                }
            }
            Some(Content::RpcLog(log)) => route_log(&routes, &console, log),
            Some(Content::WorkerStatusResponse(_)) => {
                if let Some(waiting) = lock(&routes).statuses.remove(&message.request_id) {
                    let _ = waiting.send(());
                }
            }
            other => {
                let _ = control.send(StreamingMessage {
                    request_id: message.request_id,
                    content: other,
                });
            }
        }
    }
    // The host's service ends the call once the worker's side has ended
    // (FunctionRpcService.EventStream, docs/native-worker-host.md, "Life"):
    // the worker waits for that before it exits.
    outbound.lock().unwrap_or_else(|p| p.into_inner()).take();
    // Every invocation still waiting fails: their senders are dropped.
    let mut routes = lock(&routes);
    routes.invocations.clear();
    routes.statuses.clear();
    drop(routes);
    let _ = closed.send(true);
}

/// A user log goes to its running invocation (the host drops one for an
/// invocation it does not know); a system log to the console as the
/// worker's.
fn route_log(routes: &Mutex<Routes>, console: &Console, log: RpcLog) {
    let text = log_line(&log);
    if log.log_category == RpcLogCategory::System as i32 {
        console.log(console_level(log.level), format!("[worker] {text}"));
        return;
    }
    let mut routes = lock(routes);
    match routes.invocations.get_mut(&log.invocation_id) {
        Some(running) => {
            console.log(console_level(log.level), format!("{} {text}", running.tag));
            running.logs.push(text);
        }
        None => {
            drop(routes);
            console.envelope(
                "[host]",
                "log of no running invocation, dropped as the host drops it",
                text.as_bytes(),
            );
        }
    }
}

/// `message`, with the level unless it is Information, and the exception.
pub fn log_line(log: &RpcLog) -> String {
    let level = RpcLevel::try_from(log.level).unwrap_or(RpcLevel::Information);
    let mut text = match level {
        RpcLevel::Information => log.message.clone(),
        other => format!("{}: {}", other.as_str_name(), log.message),
    };
    if let Some(exception) = &log.exception {
        text.push_str(&format!(" ({})", exception_text(exception)));
    }
    text
}

fn console_level(level: i32) -> Level {
    match RpcLevel::try_from(level) {
        Ok(RpcLevel::Warning) => Level::Warning,
        Ok(RpcLevel::Error | RpcLevel::Critical) => Level::Error,
        _ => Level::Info,
    }
}

/// An exception as the host's RpcException shows it.
pub fn exception_text(exception: &RpcException) -> String {
    let mut text = exception.message.clone();
    if !exception.source.is_empty() {
        text = format!("{}: {text}", exception.source);
    }
    if !exception.stack_trace.is_empty() {
        text.push('\n');
        text.push_str(exception.stack_trace.trim_end());
    }
    text
}

/// `None` for a success, else the failure's description. A missing
/// result is a failure: the host's IsFailure would throw on it.
pub fn failure_of(result: Option<&StatusResult>) -> Option<String> {
    let Some(result) = result else {
        return Some("the worker's answer has no result".into());
    };
    match ResultStatus::try_from(result.status) {
        Ok(ResultStatus::Success) => None,
        Ok(ResultStatus::Cancelled) => Some("cancelled".into()),
        _ => Some(
            result
                .exception
                .as_ref()
                .map(exception_text)
                .unwrap_or_else(|| "failed without an exception".into()),
        ),
    }
}
