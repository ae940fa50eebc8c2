//! The handler process as the host runs it (docs/host-protocol.md, "Start-up
//! and readiness"): started with the host's environment, ready when it answers, and
//! supervised by `supervisor` under the host's restart rules.

pub mod client;
pub mod json_limit;
pub mod restarts;
mod supervisor;
pub mod worker_invocation;
mod worker_supervisor;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::app::{AppFolder, FunctionFolder};
use crate::console::Console;
use crate::handler::client::{HostClient, READY_TIMEOUT};
use crate::handler::restarts::RESTART_DELAY;
use crate::ids::new_guid;
use crate::worker_host::{self, Worker};
use supervisor::{Launch, supervise};
pub(crate) use supervisor::{describe_exit, kill as kill_group};

/// How long a stopping handler gets between SIGTERM and SIGKILL.
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// How to start the handler, beyond what the app folder says.
#[derive(Clone, Debug)]
pub struct HandlerOptions {
    /// Run this instead of `defaultExecutablePath` (tests pass a built binary).
    pub executable: Option<PathBuf>,
    /// Extra environment, after local.settings.json's `Values`.
    pub env: Vec<(String, String)>,
    /// How long to wait for `GET /` to get an answer.
    pub ready_limit: Duration,
    /// Where the handler's stdout and stderr lines and the restarts go.
    pub console: Console,
    /// The pause before each restart.
    pub restart_delay: Duration,
    /// Whether cargo-azfunc stops, as the host does, when the handler fails
    /// too often (`start`); `--watch` goes on serving the last good build
    /// instead, and the handler's messages must say that.
    pub stops_the_host: bool,
}

impl Default for HandlerOptions {
    fn default() -> HandlerOptions {
        HandlerOptions {
            executable: None,
            env: Vec::new(),
            ready_limit: READY_TIMEOUT,
            console: Console::quiet(),
            restart_delay: RESTART_DELAY,
            stops_the_host: true,
        }
    }
}

/// Where the supervised handler is.
// One per handler, so the size of its largest variant costs nothing; it
// grows when hyper's HTTP/2 client is in the build (the workspace's gRPC
// crates bring it).
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum HandlerState {
    /// Being started or restarted.
    Starting,
    /// Ready for invocations, through `link`, in process `pid`.
    Ready { link: Link, pid: u32 },
    /// Gone for good; every invocation fails with `reason`. `host_stops`:
    /// the real host would stop as a whole (not after an exit with 0).
    Stopped { reason: String, host_stops: bool },
}

/// How invocations reach a ready app.
#[derive(Clone)]
pub enum Link {
    /// A custom handler that answered `GET /`: HTTP through this client.
    Http(Box<HostClient>),
    /// A language worker, over its gRPC stream.
    Worker(Arc<Worker>),
}

/// The running handler, supervised by a background task; stopped (and its
/// process killed) when dropped.
pub struct Handler {
    state: watch::Receiver<HandlerState>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    restarts: mpsc::UnboundedSender<Restart>,
    function_timeout: Option<Duration>,
    /// The largest invocation it reads, in bytes.
    json_limit: usize,
    /// `FUNCTIONS_CUSTOMHANDLER_WORKER_ID`.
    pub worker_id: String,
    /// Where its output and its invocations are logged.
    pub console: Console,
}

/// A request to kill process `pid` and start the handler again.
pub(crate) struct Restart {
    pub(crate) pid: u32,
    pub(crate) reason: String,
}

impl Handler {
    /// Starts the app's handler and waits until it is ready. Fails with the
    /// reason when it cannot start, exits for good or is not ready in time.
    pub async fn start(app: &AppFolder, options: HandlerOptions) -> Result<Handler, String> {
        let worker_id = new_guid();
        let root = std::fs::canonicalize(&app.root).unwrap_or_else(|_| app.root.clone());
        let mut env = app.settings.values.clone();
        env.extend(options.env);
        env.push((
            function_app::environment::APP_ROOT_VARIABLE.into(),
            root.to_string_lossy().into_owned(),
        ));
        env.push((
            "FUNCTIONS_CUSTOMHANDLER_WORKER_ID".into(),
            worker_id.clone(),
        ));
        env.push(("FUNCTIONS_HTTPWORKER_ID".into(), worker_id.clone()));
        let json_limit = json_limit::handler_json_limit(&env);
        let (state_tx, state) = watch::channel(HandlerState::Starting);
        let (stop, stop_rx) = oneshot::channel();
        let (restarts, restarts_rx) = mpsc::unbounded_channel();
        let task = match &app.worker {
            Some(config) => {
                // A language worker has no port of its own: the worker id
                // is the one in its arguments.
                env.retain(|(k, _)| {
                    !k.starts_with("FUNCTIONS_CUSTOMHANDLER")
                        && !k.starts_with("FUNCTIONS_HTTPWORKER")
                });
                let supervision = worker_supervisor::Supervision {
                    launch: worker_host::Launch {
                        config: config.clone(),
                        executable: options.executable,
                        root: root.clone(),
                        env,
                        console: options.console.clone(),
                    },
                    app: app.clone(),
                    ready_limit: options.ready_limit,
                    restart_delay: options.restart_delay,
                    stops_the_host: options.stops_the_host,
                };
                tokio::spawn(worker_supervisor::supervise(
                    supervision,
                    state_tx,
                    stop_rx,
                    restarts_rx,
                ))
            }
            None => {
                let launch = Launch {
                    executable: options.executable.unwrap_or_else(|| app.executable_path()),
                    arguments: app.host.arguments.clone(),
                    working_directory: app.working_directory(),
                    env,
                    ready_limit: options.ready_limit,
                    console: options.console.clone(),
                    restart_delay: options.restart_delay,
                    stops_the_host: options.stops_the_host,
                };
                tokio::spawn(supervise(launch, state_tx, stop_rx, restarts_rx))
            }
        };
        let handler = Handler {
            state,
            stop: Mutex::new(Some(stop)),
            task: Mutex::new(Some(task)),
            restarts,
            function_timeout: app.host.function_timeout,
            json_limit,
            worker_id,
            console: options.console,
        };
        match handler.wait_settled().await {
            HandlerState::Stopped { reason, .. } => Err(reason),
            _ => Ok(handler),
        }
    }

    /// With worker indexing, the functions the ready worker declared;
    /// `None` for a custom handler or host indexing.
    pub fn indexed_functions(&self) -> Option<Vec<FunctionFolder>> {
        match &*self.state.borrow() {
            HandlerState::Ready {
                link: Link::Worker(worker),
                ..
            } => worker.indexed().map(<[FunctionFolder]>::to_vec),
            _ => None,
        }
    }

    /// Replaces `app`'s functions with those the worker declared, when it
    /// indexes them (function.json is not read then).
    pub fn adopt_functions(&self, app: &mut AppFolder) {
        if let Some(functions) = self.indexed_functions() {
            app.functions = functions;
        }
    }

    /// The state right now.
    pub fn state(&self) -> HandlerState {
        self.state.borrow().clone()
    }

    async fn wait_settled(&self) -> HandlerState {
        let mut state = self.state.clone();
        loop {
            let now = state.borrow_and_update().clone();
            if !matches!(now, HandlerState::Starting) {
                return now;
            }
            if state.changed().await.is_err() {
                return supervisor_ended();
            }
        }
    }

    /// A client for the ready handler, waiting through a restart; the
    /// reason when the handler is gone for good, or is a language worker.
    pub async fn client(&self) -> Result<HostClient, String> {
        match self.ready().await? {
            (Link::Http(client), _) => Ok(*client),
            (Link::Worker(_), _) => Err(
                "the app runs as a language worker, which takes no HTTP requests from the host"
                    .into(),
            ),
        }
    }

    /// How to reach the ready app, and the id of its process.
    pub async fn ready(&self) -> Result<(Link, u32), String> {
        match self.wait_settled().await {
            HandlerState::Ready { link, pid } => Ok((link, pid)),
            HandlerState::Stopped { reason, .. } => Err(reason),
            HandlerState::Starting => Err("the handler is still starting".into()),
        }
    }

    /// host.json's functionTimeout: how long an invocation may run; `None`
    /// for no limit.
    pub fn function_timeout(&self) -> Option<Duration> {
        self.function_timeout
    }

    /// The largest invocation the handler reads (its `limits.json`): larger
    /// ones are answered 413.
    pub fn json_limit(&self) -> usize {
        self.json_limit
    }

    /// Kills handler process `pid` (and every invocation in flight on it)
    /// and starts a new one, as the host does when an invocation outlives
    /// functionTimeout. Not counted as a failure: the host restarts it
    /// itself. Returns once `pid` takes no more invocations; does nothing
    /// when `pid` is no longer the running process (an earlier request
    /// restarted it already), so timeouts of several invocations on one
    /// process restart it once.
    pub async fn restart(&self, pid: u32, reason: impl Into<String>) {
        let request = Restart {
            pid,
            reason: reason.into(),
        };
        if self.restarts.send(request).is_err() {
            return;
        }
        let mut state = self.state.clone();
        let _ = state
            .wait_for(
                |now| !matches!(now, HandlerState::Ready { pid: running, .. } if *running == pid),
            )
            .await;
    }

    /// The handler's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        match &*self.state.borrow() {
            HandlerState::Ready { pid, .. } => Some(*pid),
            _ => None,
        }
    }

    /// Waits until the handler is gone for good; returns that state.
    pub async fn stopped(&self) -> HandlerState {
        let mut state = self.state.clone();
        loop {
            let now = state.borrow_and_update().clone();
            if matches!(now, HandlerState::Stopped { .. }) {
                return now;
            }
            if state.changed().await.is_err() {
                return supervisor_ended();
            }
        }
    }

    /// Stops the handler (SIGTERM, then SIGKILL after a grace period) and
    /// waits until its process is gone.
    pub async fn stop(&self) {
        self.signal_stop();
        let task = self.task.lock().ok().and_then(|mut task| task.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    fn signal_stop(&self) {
        if let Some(stop) = self.stop.lock().ok().and_then(|mut stop| stop.take()) {
            let _ = stop.send(());
        }
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        // The supervisor kills the process when told, or when its channel
        // closes; should the runtime drop the task first, the child's
        // kill_on_drop still kills it.
        self.signal_stop();
    }
}

fn supervisor_ended() -> HandlerState {
    HandlerState::Stopped {
        reason: "the handler's supervisor ended".into(),
        host_stops: true,
    }
}

pub(super) fn stopped(reason: String, host_stops: bool) -> HandlerState {
    HandlerState::Stopped { reason, host_stops }
}

/// What `work` (an invocation of `function` on handler process `pid`)
/// gives, if it ends within functionTimeout. Past it, the host kills and
/// restarts the process; the error says so in the host's words. (The
/// host's HTTP client gives up only after functionTimeout + 1 minute: the
/// function timeout always comes first, so it is the one timer.)
pub async fn within_function_timeout<T>(
    handler: &Handler,
    pid: u32,
    function: &FunctionFolder,
    work: impl Future<Output = T>,
) -> Result<T, String> {
    let Some(limit) = handler.function_timeout() else {
        return Ok(work.await);
    };
    match tokio::time::timeout(limit, work).await {
        Ok(done) => Ok(done),
        Err(_) => {
            let reason = format!(
                "Timeout value of {} was exceeded by function: Functions.{}",
                crate::dotnet::timespan_to_string(limit),
                function.name
            );
            handler.restart(pid, reason.clone()).await;
            Err(reason)
        }
    }
}
