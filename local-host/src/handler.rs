//! Starts and supervises the handler process the way the host does
//! (docs/host-protocol.md, "Start-up and readiness"): the environment, the readiness probe and
//! the restart rules.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::app::AppFolder;
use crate::children::{self, Registered};
use crate::client::{HostClient, READY_TIMEOUT, free_port};
use crate::console::{Console, Level};
use crate::ids::new_guid;
use crate::restarts::{FAILURE_LIMIT, Failures, Next, RESTART_DELAY};

/// How long a stopping handler gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

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
    /// Whether local-host stops, as the host does, when the handler fails
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
#[derive(Clone)]
pub enum HandlerState {
    /// Being started or restarted.
    Starting,
    /// Answered `GET /`: invocations go through this client.
    Ready { client: HostClient, pid: u32 },
    /// Gone for good; every invocation fails with `reason`. `host_stops`:
    /// the real host would stop as a whole (not after an exit with 0).
    Stopped { reason: String, host_stops: bool },
}

/// The running handler, supervised by a background task; stopped (and its
/// process killed) when dropped.
pub struct Handler {
    state: watch::Receiver<HandlerState>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    restarts: mpsc::UnboundedSender<Restart>,
    function_timeout: Option<Duration>,
    /// `FUNCTIONS_CUSTOMHANDLER_WORKER_ID`.
    pub worker_id: String,
    /// Where its output and its invocations are logged.
    pub console: Console,
}

/// A request to kill process `pid` and start the handler again.
struct Restart {
    pid: u32,
    reason: String,
}

struct Launch {
    executable: PathBuf,
    arguments: Vec<String>,
    working_directory: PathBuf,
    env: Vec<(String, String)>,
    ready_limit: Duration,
    console: Console,
    restart_delay: Duration,
    stops_the_host: bool,
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
        let (state_tx, state) = watch::channel(HandlerState::Starting);
        let (stop, stop_rx) = oneshot::channel();
        let (restarts, restarts_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(supervise(launch, state_tx, stop_rx, restarts_rx));
        let handler = Handler {
            state,
            stop: Mutex::new(Some(stop)),
            task: Mutex::new(Some(task)),
            restarts,
            function_timeout: app.host.function_timeout,
            worker_id,
            console: options.console,
        };
        match handler.wait_settled().await {
            HandlerState::Stopped { reason, .. } => Err(reason),
            _ => Ok(handler),
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
    /// reason when the handler is gone for good.
    pub async fn client(&self) -> Result<HostClient, String> {
        self.ready().await.map(|(client, _)| client)
    }

    /// [`Handler::client`] and the id of the process it talks to.
    pub async fn ready(&self) -> Result<(HostClient, u32), String> {
        match self.wait_settled().await {
            HandlerState::Ready { client, pid } => Ok((client, pid)),
            HandlerState::Stopped { reason, .. } => Err(reason),
            HandlerState::Starting => Err("the handler is still starting".into()),
        }
    }

    /// host.json's functionTimeout: how long an invocation may run; `None`
    /// for no limit.
    pub fn function_timeout(&self) -> Option<Duration> {
        self.function_timeout
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

fn stopped(reason: String, host_stops: bool) -> HandlerState {
    HandlerState::Stopped { reason, host_stops }
}

enum Phase {
    Ready,
    NotReady(String),
    Exited(ExitStatus),
    Stop,
    /// Asked to restart, for this reason.
    Restart(String),
}

async fn supervise(
    launch: Launch,
    state: watch::Sender<HandlerState>,
    mut stop: oneshot::Receiver<()>,
    mut restarts: mpsc::UnboundedReceiver<Restart>,
) {
    let console = launch.console.clone();
    let mut failures = Failures::default();
    loop {
        let _ = state.send(HandlerState::Starting);
        let port = free_port();
        let (mut child, registered) = match launch.spawn(port) {
            Ok(child) => child,
            Err(reason) => {
                if !children::stopping() {
                    console.error(reason.clone());
                }
                let _ = state.send(stopped(reason, true));
                return;
            }
        };
        let pid = registered.pid();
        let client = HostClient::new(port);
        let phase = tokio::select! {
            ready = client.wait_ready(launch.ready_limit) => match ready {
                Ok(()) => Phase::Ready,
                Err(reason) => Phase::NotReady(reason),
            },
            status = child.wait() => match status {
                Ok(status) => Phase::Exited(status),
                Err(e) => Phase::NotReady(format!("cannot watch the handler: {e}")),
            },
            _ = &mut stop => Phase::Stop,
        };
        let phase = match phase {
            Phase::Ready => {
                console.info(format!(
                    "[host] handler ready on port {port} (pid {pid}): {}",
                    launch.executable.display()
                ));
                let _ = state.send(HandlerState::Ready { client, pid });
                loop {
                    tokio::select! {
                        status = child.wait() => break match status {
                            Ok(status) => Phase::Exited(status),
                            Err(e) => Phase::NotReady(format!("cannot watch the handler: {e}")),
                        },
                        _ = &mut stop => break Phase::Stop,
                        // A request for an earlier process is stale.
                        Some(request) = restarts.recv() => if request.pid == pid {
                            break Phase::Restart(request.reason);
                        },
                    }
                }
            }
            other => other,
        };
        if children::stopping() {
            // local-host is stopping and signalled the handler itself: its
            // exit is no failure to count or restart.
            shut_down(&mut child, &registered).await;
            let _ = state.send(stopped("local-host is stopping".into(), true));
            return;
        }
        let (next, what) = match phase {
            Phase::Ready => continue,
            Phase::Restart(reason) => {
                console.error(format!(
                    "[host] {reason}: killing the handler (pid {pid}) and starting it again, as the host does; not counted among its failures"
                ));
                // New invocations wait for the next process from here on.
                let _ = state.send(HandlerState::Starting);
                kill(&mut child, &registered).await;
                continue;
            }
            Phase::Stop => {
                shut_down(&mut child, &registered).await;
                let _ = state.send(stopped("the handler was stopped".into(), true));
                return;
            }
            Phase::NotReady(reason) => {
                shut_down(&mut child, &registered).await;
                (
                    failures.after_failure(Instant::now()),
                    format!(
                        "{reason} (it must listen on 127.0.0.1 at FUNCTIONS_CUSTOMHANDLER_PORT)"
                    ),
                )
            }
            Phase::Exited(status) => (
                failures.after_exit(status.code(), Instant::now()),
                format!("the handler {}", describe_exit(status)),
            ),
        };
        drop(registered);
        match next {
            Next::GiveUp => {
                let reason = format!(
                    "{what}: the host does not restart a handler that exits with 0, so every later invocation fails"
                );
                console.error(format!("[host] {reason}"));
                let _ = state.send(stopped(reason, false));
                return;
            }
            Next::StopHost => {
                let then = if launch.stops_the_host {
                    "the host stops"
                } else {
                    "the host would stop; this build's handler is given up"
                };
                let reason = format!(
                    "{what}, its {FAILURE_LIMIT}rd failure without a 30-minute gap: {then}"
                );
                console.error(format!("[host] {reason}"));
                let _ = state.send(stopped(reason, launch.stops_the_host));
                return;
            }
            Next::Restart { counted: None } => console.info(format!(
                "[host] {what} (an intentional restart): restarting it in {} s",
                launch.restart_delay.as_secs_f64()
            )),
            Next::Restart {
                counted: Some(count),
            } => console.error(format!(
                "[host] {what} (failure {count} of {FAILURE_LIMIT}): restarting it in {} s",
                launch.restart_delay.as_secs_f64()
            )),
        }
        tokio::select! {
            _ = tokio::time::sleep(launch.restart_delay) => {}
            _ = &mut stop => {
                let _ = state.send(stopped("the handler was stopped".into(), true));
                return;
            }
        }
    }
}

/// SIGTERM to the handler's process group, a grace period, then SIGKILL;
/// always reaps the process.
async fn shut_down(child: &mut Child, registered: &Registered) {
    if child.id().is_some() {
        children::signal_group(registered.pid(), libc::SIGTERM);
        if tokio::time::timeout(GRACE, child.wait()).await.is_ok() {
            return;
        }
    }
    kill(child, registered).await;
}

/// SIGKILL to the handler's process group, as the host kills it on a
/// function timeout; reaps the process.
async fn kill(child: &mut Child, registered: &Registered) {
    children::signal_group(registered.pid(), libc::SIGKILL);
    let _ = child.kill().await;
}

fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        _ => "exited".into(),
    }
}

impl Launch {
    fn spawn(&self, port: u16) -> Result<(Child, Registered), String> {
        let port = port.to_string();
        let mut command = Command::new(&self.executable);
        command
            .args(&self.arguments)
            .current_dir(&self.working_directory)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("FUNCTIONS_CUSTOMHANDLER_PORT", &port)
            .env("FUNCTIONS_HTTPWORKER_PORT", &port)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let (mut child, registered) = children::spawn_tokio(&mut command).map_err(|e| {
            let path = self.executable.display();
            match e.kind() {
                std::io::ErrorKind::NotFound => format!(
                    "cannot start the handler {path}: no such file (build it first, e.g. `local-host start --build`, or fix defaultExecutablePath in host.json)"
                ),
                std::io::ErrorKind::PermissionDenied => format!(
                    "cannot start the handler {path}: permission denied (is it executable? chmod +x {path})"
                ),
                _ => format!("cannot start the handler {path}: {e}"),
            }
        })?;
        if let Some(out) = child.stdout.take() {
            tokio::spawn(forward_lines(out, self.console.clone(), false));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(forward_lines(err, self.console.clone(), true));
        }
        Ok((child, registered))
    }
}

/// The host logs stdout lines as information, and stderr lines as errors
/// unless they contain "warn".
async fn forward_lines(stream: impl AsyncRead + Unpin, console: Console, is_stderr: bool) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                let level = if !is_stderr {
                    Level::Info
                } else if text.to_ascii_lowercase().contains("warn") {
                    Level::Warning
                } else {
                    Level::Error
                };
                console.log(level, format!("[handler] {text}"));
            }
        }
    }
}
