//! The worker's side of `FunctionRpc.EventStream`: each message of the
//! host handled as docs/native-worker.md says, invocations run
//! concurrently, each answered on its own.

use std::collections::HashMap;
use std::future::Future;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use rocket::futures::stream;
use rocket::tokio::{self, sync::mpsc, task::JoinSet, time::Instant};
use worker_proto::function_rpc_client::FunctionRpcClient;
use worker_proto::status_result::Status;
use worker_proto::streaming_message::Content;
use worker_proto::*;

use crate::registry::Registry;

use super::arguments::WorkerArguments;
use super::http_uri::Proxied;
use super::{capabilities, invocation, metadata};

/// How long in-flight invocations may run on after SIGTERM: the grace the
/// host gives with WorkerTerminate.
const SIGTERM_GRACE: Duration = Duration::from_secs(5);

/// How long the worker waits, at its end, for the host to read what it
/// sent last: well within WorkerTerminate's grace period, after which the
/// host kills the worker.
const FLUSH: Duration = Duration::from_secs(1);

/// Why the session ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The host ended the stream, or the worker was told to stop and every
    /// invocation finished in time.
    Clean,
    /// Invocations were cut off: the stream ended under them, or the grace
    /// period ran out.
    CutOff(usize),
    /// The stream broke.
    Broken(String),
}

impl End {
    pub(crate) fn exit_code(&self, name: &str) -> ExitCode {
        match self {
            End::Clean => ExitCode::SUCCESS,
            End::CutOff(count) => {
                eprintln!("{name}: stopped without finishing {count} invocation(s)");
                ExitCode::FAILURE
            }
            End::Broken(reason) => {
                eprintln!("{name}: {reason}");
                ExitCode::FAILURE
            }
        }
    }
}

/// What one invocation task reports when it ends.
type Finished = String;

struct Session {
    registry: Arc<Registry>,
    arguments: WorkerArguments,
    proxied: Option<Proxied>,
    /// Loaded function ids and the names they stand for.
    loaded: HashMap<String, &'static str>,
    /// The invocations running, to cancel them by id.
    running: Arc<Mutex<HashMap<String, tokio::task::AbortHandle>>>,
    outbound: Outbound,
    app_directory: String,
}

/// The worker's half of the stream, where every message is sized first.
#[derive(Clone)]
pub(crate) struct Outbound {
    sender: mpsc::Sender<StreamingMessage>,
    limit: usize,
}

impl Outbound {
    /// Sends `message` if it fits the limit; one that does not is replaced
    /// by `instead` (which says why), so that the stream never breaks on
    /// a message the host would refuse.
    async fn send(&self, message: StreamingMessage) {
        let message = if message.encoded_len() > self.limit {
            too_large(message, self.limit)
        } else {
            message
        };
        // A closed stream is the session's end, seen by its loop.
        let _ = self.sender.send(message).await;
    }
}

/// A message over the limit as one that fits: an invocation's response
/// becomes a failure naming the limit; a log record is cut short.
fn too_large(message: StreamingMessage, limit: usize) -> StreamingMessage {
    let size = message.encoded_len();
    let content = match message.content {
        Some(Content::InvocationResponse(response)) => {
            Content::InvocationResponse(invocation::failure(
                &response.invocation_id,
                "worker",
                format!(
                    "the invocation's response is {size} bytes, over the gRPC message limit of {limit} bytes (--functions-grpc-max-message-length)"
                ),
            ))
        }
        Some(Content::RpcLog(mut log)) => {
            let note = format!(" [cut to fit the gRPC message limit of {limit} bytes]");
            let mut keep = log
                .message
                .len()
                .saturating_sub(size.saturating_sub(limit) + note.len() + 16);
            while !log.message.is_char_boundary(keep) {
                keep -= 1;
            }
            log.message.truncate(keep);
            log.message.push_str(&note);
            Content::RpcLog(log)
        }
        other => other.unwrap_or(Content::WorkerHeartbeat(WorkerHeartbeat {})),
    };
    StreamingMessage {
        request_id: message.request_id,
        content: Some(content),
    }
}

/// Connects to the host at `arguments.uri` and serves the stream until it
/// ends, the host terminates the worker or `stop` (SIGTERM) resolves.
pub(crate) async fn connect_and_serve(
    registry: Registry,
    arguments: WorkerArguments,
    proxied: Option<Proxied>,
    stop: impl Future<Output = ()>,
) -> End {
    let endpoint = match tonic::transport::Endpoint::from_shared(arguments.uri.clone()) {
        Ok(endpoint) => endpoint,
        Err(error) => return End::Broken(format!("{} is not a URI: {error}", arguments.uri)),
    };
    let channel = match endpoint.connect().await {
        Ok(channel) => channel,
        Err(error) => {
            return End::Broken(format!(
                "cannot connect to the host at {}: {error}",
                arguments.uri
            ));
        }
    };
    serve(channel, registry, arguments, proxied, stop).await
}

/// Serves the stream over `channel`.
pub(crate) async fn serve(
    channel: tonic::transport::Channel,
    registry: Registry,
    arguments: WorkerArguments,
    proxied: Option<Proxied>,
    stop: impl Future<Output = ()>,
) -> End {
    let limit = arguments.max_message_length;
    let mut client = FunctionRpcClient::new(channel)
        .max_decoding_message_size(limit)
        .max_encoding_message_size(limit);
    let (sender, receiver) = mpsc::channel::<StreamingMessage>(1024);
    let outbound = Outbound { sender, limit };
    outbound
        .send(StreamingMessage {
            request_id: arguments.request_id.clone(),
            content: Some(Content::StartStream(StartStream {
                worker_id: arguments.worker_id.clone(),
            })),
        })
        .await;
    // Says when every message sent has been handed to the transport: the
    // stream ends only after the last response is on its way.
    let (drained, flushed) = tokio::sync::oneshot::channel::<()>();
    let messages = stream::unfold(
        (receiver, Some(drained)),
        |(mut receiver, mut drained)| async move {
            match receiver.recv().await {
                Some(message) => Some((message, (receiver, drained))),
                None => {
                    if let Some(drained) = drained.take() {
                        let _ = drained.send(());
                    }
                    None
                }
            }
        },
    );
    let mut inbound = match client.event_stream(messages).await {
        Ok(response) => response.into_inner(),
        Err(status) => return End::Broken(format!("the host refused the stream: {status}")),
    };
    let session = Session {
        registry: Arc::new(registry),
        arguments,
        proxied,
        loaded: HashMap::new(),
        running: Arc::new(Mutex::new(HashMap::new())),
        outbound,
        app_directory: String::new(),
    };
    let end = run(session, &mut inbound, stop).await;
    if end == End::Clean {
        // Every sender is gone with the session and its tasks. Once the
        // last message is handed over the worker's side ends, and the host
        // ends its side when it has read it all, as gRPC servers do; only
        // then is nothing lost by closing the connection.
        let _ = tokio::time::timeout(FLUSH, async {
            let _ = flushed.await;
            while let Ok(Some(_)) = inbound.message().await {}
        })
        .await;
    }
    end
}

/// Handles the host's messages until the session ends.
async fn run(
    mut session: Session,
    inbound: &mut tonic::Streaming<StreamingMessage>,
    stop: impl Future<Output = ()>,
) -> End {
    let mut tasks: JoinSet<Finished> = JoinSet::new();
    let mut deadline: Option<Instant> = None;
    tokio::pin!(stop);
    let mut stopped = false;
    loop {
        if deadline.is_some() && tasks.is_empty() {
            return End::Clean;
        }
        let sleep_until = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            message = inbound.message() => match message {
                Ok(Some(message)) => {
                    if let Some(grace) = session.handle(message, &mut tasks, deadline.is_some()).await {
                        deadline.get_or_insert(Instant::now() + grace);
                    }
                }
                Ok(None) => return cut_off(&mut tasks).await,
                Err(status) => {
                    return match cut_off(&mut tasks).await {
                        End::Clean if status.code() == tonic::Code::Cancelled => End::Clean,
                        End::CutOff(count) => End::Broken(format!(
                            "the host's stream broke: {status} ({count} invocation(s) cut off)"
                        )),
                        _ => End::Broken(format!("the host's stream broke: {status}")),
                    };
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            () = &mut stop, if !stopped => {
                stopped = true;
                deadline.get_or_insert(Instant::now() + SIGTERM_GRACE);
            }
            () = tokio::time::sleep_until(sleep_until), if deadline.is_some() => {
                return cut_off(&mut tasks).await;
            }
        }
    }
}

/// Ends the invocations still running, unanswered; how many there were.
async fn cut_off(tasks: &mut JoinSet<Finished>) -> End {
    tasks.abort_all();
    let mut count = 0;
    while let Some(joined) = tasks.join_next().await {
        // Those that had finished already still join with their id.
        if joined.is_err() {
            count += 1;
        }
    }
    if count == 0 {
        End::Clean
    } else {
        End::CutOff(count)
    }
}

fn ok() -> Option<StatusResult> {
    Some(StatusResult {
        status: Status::Success as i32,
        ..StatusResult::default()
    })
}

fn failed(message: String) -> Option<StatusResult> {
    Some(StatusResult {
        status: Status::Failure as i32,
        exception: Some(RpcException {
            source: "worker".to_owned(),
            message,
            ..RpcException::default()
        }),
        ..StatusResult::default()
    })
}

impl Session {
    /// Handles one message of the host; `Some(grace)` when it tells the
    /// worker to stop.
    async fn handle(
        &mut self,
        message: StreamingMessage,
        tasks: &mut JoinSet<Finished>,
        stopping: bool,
    ) -> Option<Duration> {
        let request_id = message.request_id;
        let reply = |content: Content| StreamingMessage {
            request_id: request_id.clone(),
            content: Some(content),
        };
        match message.content? {
            Content::WorkerInitRequest(init) => {
                self.app_directory = init.function_app_directory;
                let response = WorkerInitResponse {
                    worker_version: env!("CARGO_PKG_VERSION").to_owned(),
                    capabilities: capabilities::advertised(
                        self.proxied.as_ref().map(|p| p.uri.as_str()),
                    ),
                    worker_metadata: Some(capabilities::metadata()),
                    result: ok(),
                };
                self.outbound
                    .send(reply(Content::WorkerInitResponse(response)))
                    .await;
            }
            Content::WorkerStatusRequest(_) => {
                let response = WorkerStatusResponse {};
                self.outbound
                    .send(reply(Content::WorkerStatusResponse(response)))
                    .await;
            }
            Content::FunctionsMetadataRequest(request) => {
                if !request.function_app_directory.is_empty() {
                    self.app_directory = request.function_app_directory;
                }
                let response = self.index();
                self.outbound
                    .send(reply(Content::FunctionMetadataResponse(response)))
                    .await;
            }
            Content::FunctionLoadRequest(request) => {
                let response = self.load(request);
                self.outbound
                    .send(reply(Content::FunctionLoadResponse(response)))
                    .await;
            }
            Content::FunctionLoadRequestCollection(collection) => {
                let responses = collection
                    .function_load_requests
                    .into_iter()
                    .map(|request| self.load(request))
                    .collect();
                let response = FunctionLoadResponseCollection {
                    function_load_responses: responses,
                };
                self.outbound
                    .send(reply(Content::FunctionLoadResponseCollection(response)))
                    .await;
            }
            Content::InvocationRequest(request) => self.invoke(request, tasks, stopping).await,
            Content::InvocationCancel(cancel) => {
                let running = self
                    .running
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if let Some(handle) = running.get(&cancel.invocation_id) {
                    handle.abort();
                }
            }
            Content::FunctionEnvironmentReloadRequest(request) => {
                let result = reload(&request);
                if !request.function_app_directory.is_empty() {
                    self.app_directory = request.function_app_directory;
                }
                let response = FunctionEnvironmentReloadResponse {
                    worker_metadata: Some(capabilities::metadata()),
                    capabilities: capabilities::advertised(
                        self.proxied.as_ref().map(|p| p.uri.as_str()),
                    ),
                    result: match result {
                        Ok(()) => ok(),
                        Err(message) => failed(message),
                    },
                    capabilities_update_strategy: 0,
                };
                self.outbound
                    .send(reply(Content::FunctionEnvironmentReloadResponse(response)))
                    .await;
            }
            Content::WorkerTerminate(terminate) => {
                let grace = terminate
                    .grace_period
                    .and_then(|grace| Duration::try_from(grace).ok())
                    .unwrap_or(SIGTERM_GRACE);
                return Some(grace);
            }
            // Nothing else is sent to a worker with these capabilities.
            _ => {}
        }
        None
    }

    /// Every function of the registry, with its bindings.
    fn index(&self) -> FunctionMetadataResponse {
        let clashes = self.registry.clashes();
        // As a custom handler refuses to start (routes and queue names are
        // judged where function.json is read, here by the host).
        let mut problems = self.registry.declaration_problems();
        if !clashes.is_empty() {
            problems.push(format!(
                "names used by more than one function: {}",
                clashes.join(", ")
            ));
        }
        if !problems.is_empty() {
            // As a custom handler refuses to start: the host logs why.
            return FunctionMetadataResponse {
                result: failed(problems.join("; ")),
                ..FunctionMetadataResponse::default()
            };
        }
        let results = self
            .registry
            .iter()
            .map(|function| {
                metadata::describe(function, &function.function_json(), &self.app_directory)
            })
            .collect();
        FunctionMetadataResponse {
            function_metadata_results: results,
            result: ok(),
            use_default_metadata_indexing: false,
        }
    }

    /// Loads one function: by the name in its metadata (the host read
    /// function.json itself) or by the id the worker gave it. Its binding
    /// names come from the metadata.
    fn load(&mut self, request: FunctionLoadRequest) -> FunctionLoadResponse {
        let id = request.function_id;
        let metadata = request.metadata.unwrap_or_default();
        let name = if metadata.name.is_empty() {
            self.registry
                .iter()
                .find(|function| metadata::function_id(function.name()) == id)
                .map(|function| function.name())
        } else {
            self.registry
                .find(&metadata.name)
                .map(|function| function.name())
        };
        let result = match name {
            None => failed(format!(
                "no function {} (id {id}) in this app's registry",
                crate::text::quote(&metadata.name)
            )),
            Some(name) => match Arc::get_mut(&mut self.registry) {
                Some(registry) => {
                    if let Some(function) = registry.iter_mut().find(|f| f.name() == name) {
                        metadata::follow(function, &metadata);
                    }
                    self.loaded.insert(id.clone(), name);
                    ok()
                }
                None => failed(format!(
                    "{name} cannot be loaded while invocations are running"
                )),
            },
        };
        FunctionLoadResponse {
            function_id: id,
            result,
            is_dependency_downloaded: false,
        }
    }

    /// Starts an invocation on its own task; the response goes out when it
    /// ends, whichever way.
    async fn invoke(
        &mut self,
        request: InvocationRequest,
        tasks: &mut JoinSet<Finished>,
        stopping: bool,
    ) {
        let id = request.invocation_id.clone();
        let name = self.loaded.get(&request.function_id).copied();
        let refusal = match name {
            None => Some(format!(
                "function id {} was not loaded by this worker",
                crate::text::quote(&request.function_id)
            )),
            Some(_) if stopping => Some("the worker is shutting down".to_owned()),
            Some(_) => None,
        };
        if let Some(reason) = refusal {
            let response = invocation::failure(&id, "worker", reason);
            self.send_response(response).await;
            return;
        }
        let name = name.unwrap_or_default();
        let registry = self.registry.clone();
        let outbound = self.outbound.clone();
        let worker_request = self.arguments.request_id.clone();
        let proxied = self.proxied.clone();
        // The function runs on a task of its own, so that a cancel can end
        // it and its panic (past the layer's catch) ends only it.
        let work = tokio::spawn(async move {
            match registry.find(name) {
                Some(function) => match proxied {
                    Some(proxied) if function.trigger_type() == "httpTrigger" => {
                        invocation::run_proxied(function, &request, &proxied.handover).await
                    }
                    _ => invocation::run(function, &request).await,
                },
                None => invocation::Answer {
                    logs: Vec::new(),
                    response: invocation::failure(
                        &request.invocation_id,
                        "worker",
                        format!("no function {name}"),
                    ),
                },
            }
        });
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(id.clone(), work.abort_handle());
        let running = self.running.clone();
        tasks.spawn(async move {
            let answer = match work.await {
                Ok(answer) => answer,
                Err(error) if error.is_cancelled() => invocation::Answer {
                    logs: Vec::new(),
                    response: invocation::status(
                        &id,
                        Status::Cancelled,
                        name,
                        "the host cancelled the invocation".to_owned(),
                    ),
                },
                Err(_) => invocation::Answer {
                    logs: Vec::new(),
                    response: invocation::failure(
                        &id,
                        name,
                        "the function failed unexpectedly".to_owned(),
                    ),
                },
            };
            running
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .remove(&id);
            for log in answer.logs {
                outbound
                    .send(StreamingMessage {
                        request_id: worker_request.clone(),
                        content: Some(Content::RpcLog(log)),
                    })
                    .await;
            }
            outbound
                .send(StreamingMessage {
                    request_id: worker_request,
                    content: Some(Content::InvocationResponse(answer.response)),
                })
                .await;
            id
        });
    }

    async fn send_response(&self, response: InvocationResponse) {
        self.outbound
            .send(StreamingMessage {
                request_id: self.arguments.request_id.clone(),
                content: Some(Content::InvocationResponse(response)),
            })
            .await;
    }
}

/// Takes the app's settings at specialisation (placeholder mode): the
/// environment becomes exactly the host's, and the working directory the
/// app's, as Microsoft's workers do.
fn reload(request: &FunctionEnvironmentReloadRequest) -> Result<(), String> {
    let unsettable = request.environment_variables.iter().find(|(name, value)| {
        name.is_empty() || name.contains('=') || name.contains('\0') || value.contains('\0')
    });
    if let Some((name, _)) = unsettable {
        return Err(format!(
            "cannot set environment variable {}",
            crate::text::quote(name)
        ));
    }
    let current: Vec<std::ffi::OsString> = std::env::vars_os().map(|(name, _)| name).collect();
    for name in current {
        let kept = name
            .to_str()
            .is_some_and(|name| request.environment_variables.contains_key(name));
        if !kept {
            // SAFETY: specialisation happens before any function is
            // loaded, so no invocation reads the environment meanwhile,
            // and the runtime's own threads do not read it.
            unsafe { std::env::remove_var(&name) };
        }
    }
    for (name, value) in &request.environment_variables {
        // SAFETY: as above.
        unsafe { std::env::set_var(name, value) };
    }
    if !request.function_app_directory.is_empty() {
        std::env::set_current_dir(&request.function_app_directory).map_err(|error| {
            format!(
                "cannot change to the app's directory {}: {error}",
                request.function_app_directory
            )
        })?;
    }
    Ok(())
}
