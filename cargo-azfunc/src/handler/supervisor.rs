//! The handler's supervisor: it launches the process with the host's
//! environment, probes it until ready, forwards its output to the console,
//! and applies the host's restart rules when it exits or is asked to
//! restart.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};

use crate::console::{Console, Level};
use crate::handler::client::{HostClient, free_port};
use crate::handler::restarts::{FAILURE_LIMIT, Failures, Next};
use crate::process::children::{self, Registered};

use super::{GRACE, HandlerState, Link, Restart, stopped};

/// What starting the handler takes, again at every restart.
pub(super) struct Launch {
    pub(super) executable: PathBuf,
    pub(super) arguments: Vec<String>,
    pub(super) working_directory: PathBuf,
    pub(super) env: Vec<(String, String)>,
    pub(super) ready_limit: Duration,
    pub(super) console: Console,
    pub(super) restart_delay: Duration,
    pub(super) stops_the_host: bool,
}

enum Phase {
    Ready,
    NotReady(String),
    Exited(ExitStatus),
    Stop,
    /// Asked to restart, for this reason.
    Restart(String),
}

pub(super) async fn supervise(
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
                let _ = state.send(HandlerState::Ready {
                    link: Link::Http(Box::new(client)),
                    pid,
                });
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
            // cargo-azfunc is stopping and signalled the handler itself: its
            // exit is no failure to count or restart.
            shut_down(&mut child, &registered).await;
            let _ = state.send(stopped("cargo-azfunc is stopping".into(), true));
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
pub(crate) async fn kill(child: &mut Child, registered: &Registered) {
    children::signal_group(registered.pid(), libc::SIGKILL);
    let _ = child.kill().await;
}

pub(crate) fn describe_exit(status: ExitStatus) -> String {
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
                    "cannot start the handler {path}: no such file (build it first, e.g. `cargo azfunc start --build`, or fix defaultExecutablePath in host.json)"
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
