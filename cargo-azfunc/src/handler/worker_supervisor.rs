//! A language worker's supervisor: one gRPC server for the run; the worker
//! process started, initialised and loaded; restarted as the host's
//! RpcFunctionInvocationDispatcher restarts a worker channel (any exit,
//! failed start-up or ended stream is an error; the third within 30
//! minutes stops the host); stopped with WorkerTerminate when the worker
//! handles it, else by ending the stream and killing it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::Child;
use tokio::sync::{mpsc, oneshot, watch};

use crate::app::AppFolder;
use crate::console::Console;
use crate::handler::restarts::{FAILURE_LIMIT, Failures, Next};
use crate::handler::{GRACE, HandlerState, Link, Restart, describe_exit, kill_group, stopped};
use crate::ids::new_guid;
use crate::process::children::{self, Registered};

use crate::handler::client::HOST_VERSION;
use crate::worker_host::Worker;
use crate::worker_host::channel::{Channel, TERMINATE_GRACE};
use crate::worker_host::launch::Launch;
use crate::worker_host::server::Listener;
use crate::worker_host::setup::{Setup, initialize};

/// How long a worker whose stream ended gets to show that it exited.
const EXIT_SEEN: Duration = Duration::from_millis(500);

/// How the supervisor runs the worker.
pub(crate) struct Supervision {
    pub launch: Launch,
    pub app: AppFolder,
    pub ready_limit: Duration,
    pub restart_delay: Duration,
    pub stops_the_host: bool,
}

enum Phase {
    Ready(Worker),
    NotReady(String),
    Exited(std::process::ExitStatus),
    StreamEnded,
    Stop,
    Restart(String),
}

pub(crate) async fn supervise(
    supervision: Supervision,
    state: watch::Sender<HandlerState>,
    mut stop: oneshot::Receiver<()>,
    mut restarts: mpsc::UnboundedReceiver<Restart>,
) {
    let console = supervision.launch.console.clone();
    let listener = match Listener::start().await {
        Ok(listener) => listener,
        Err(reason) => {
            console.error(format!("[host] {reason}"));
            let _ = state.send(stopped(reason, true));
            return;
        }
    };
    let mut failures = Failures::default();
    loop {
        let _ = state.send(HandlerState::Starting);
        let worker_id = new_guid();
        let (mut child, registered) =
            match supervision
                .launch
                .spawn(listener.port, &worker_id, &new_guid())
            {
                Ok(spawned) => spawned,
                Err(reason) => {
                    if !children::stopping() {
                        console.error(reason.clone());
                    }
                    let _ = state.send(stopped(reason, true));
                    return;
                }
            };
        let pid = registered.pid();
        let started = start(&supervision, &listener, &worker_id, pid);
        let phase = tokio::select! {
            ready = started => match ready {
                Ok(worker) => Phase::Ready(worker),
                Err(reason) => Phase::NotReady(reason),
            },
            status = child.wait() => match status {
                Ok(status) => Phase::Exited(status),
                Err(e) => Phase::NotReady(format!("cannot watch the worker: {e}")),
            },
            _ = &mut stop => Phase::Stop,
        };
        let (phase, worker) = match phase {
            Phase::Ready(worker) => {
                console.info(format!(
                    "[host] worker ready (pid {pid}, gRPC port {}): {}",
                    listener.port,
                    supervision.launch.executable().display()
                ));
                let worker = Arc::new(worker);
                report_status(worker.clone(), supervision.ready_limit, console.clone());
                let _ = state.send(HandlerState::Ready {
                    link: Link::Worker(worker.clone()),
                    pid,
                });
                let phase = loop {
                    tokio::select! {
                        status = child.wait() => break match status {
                            Ok(status) => Phase::Exited(status),
                            Err(e) => Phase::NotReady(format!("cannot watch the worker: {e}")),
                        },
                        () = worker.channel.ended() => break Phase::StreamEnded,
                        _ = &mut stop => break Phase::Stop,
                        Some(request) = restarts.recv() => if request.pid == pid {
                            break Phase::Restart(request.reason);
                        },
                    }
                };
                (phase, Some(worker))
            }
            other => (other, None),
        };
        let channel = worker.as_ref().map(|worker| &worker.channel);
        if children::stopping() {
            shut_down(channel, &mut child, &registered, &console).await;
            let _ = state.send(stopped("cargo-azfunc is stopping".into(), true));
            return;
        }
        let what = match phase {
            Phase::Ready(_) => continue,
            Phase::Restart(reason) => {
                console.error(format!(
                    "[host] {reason}: restarting the worker (pid {pid}), as the host restarts a worker channel; not counted among its failures"
                ));
                let _ = state.send(HandlerState::Starting);
                end_and_kill(channel, &mut child, &registered).await;
                continue;
            }
            Phase::Stop => {
                shut_down(channel, &mut child, &registered, &console).await;
                let _ = state.send(stopped("the worker was stopped".into(), true));
                return;
            }
            Phase::NotReady(reason) => {
                end_and_kill(channel, &mut child, &registered).await;
                reason
            }
            Phase::StreamEnded => {
                // A worker that died ends its stream first: say how it ended.
                match tokio::time::timeout(EXIT_SEEN, child.wait()).await {
                    Ok(Ok(status)) => format!("the worker {}", describe_exit(status)),
                    _ => {
                        end_and_kill(channel, &mut child, &registered).await;
                        "the worker ended its gRPC stream".to_owned()
                    }
                }
            }
            Phase::Exited(status) => format!("the worker {}", describe_exit(status)),
        };
        drop(registered);
        match failures.after_failure(Instant::now()) {
            Next::StopHost => {
                let then = if supervision.stops_the_host {
                    "the host stops"
                } else {
                    "the host would stop; this build's worker is given up"
                };
                let reason = format!(
                    "{what}, its {FAILURE_LIMIT}rd error within 30 minutes (\"Exceeded language worker restart retry count\"): {then}"
                );
                console.error(format!("[host] {reason}"));
                let _ = state.send(stopped(reason, supervision.stops_the_host));
                return;
            }
            Next::Restart { counted } => console.error(format!(
                "[host] {what} (error {} of {FAILURE_LIMIT}): restarting it in {} s",
                counted.unwrap_or(1),
                supervision.restart_delay.as_secs_f64()
            )),
            Next::GiveUp => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(supervision.restart_delay) => {}
            _ = &mut stop => {
                let _ = state.send(stopped("the worker was stopped".into(), true));
                return;
            }
        }
    }
}

/// One WorkerStatusRequest to a worker that advertised WorkerStatus, as
/// the host's monitor asks it, and how long the answer took.
fn report_status(worker: Arc<Worker>, limit: Duration, console: Console) {
    tokio::spawn(async move {
        match worker.channel.status(limit).await {
            Ok(Some(latency)) => console.info(format!(
                "[host] worker status: answered in {} ms",
                latency.as_millis()
            )),
            Ok(None) => {}
            Err(reason) => console.warning(format!("[host] {reason}")),
        }
    });
}

/// The worker's stream, init, indexing and loading, within the ready limit
/// for each step.
async fn start(
    supervision: &Supervision,
    listener: &Listener,
    worker_id: &str,
    pid: u32,
) -> Result<Worker, String> {
    let limit = supervision.ready_limit;
    let stream = tokio::time::timeout(limit, listener.next())
        .await
        .map_err(|_| {
            format!(
                "the worker did not connect to the host's gRPC server within {} s",
                limit.as_secs_f64()
            )
        })?
        .ok_or("the host's gRPC server stopped")?;
    let mut channel = Channel::new(stream, supervision.launch.console.clone());
    let setup = Setup {
        host_version: HOST_VERSION,
        worker_id,
        worker_directory: &supervision.launch.config.directory,
        app: &supervision.app,
        worker_indexing: supervision.launch.config.worker_indexing,
        limit,
        console: &supervision.launch.console,
    };
    let functions = initialize(&mut channel, &setup).await;
    match functions {
        Ok(functions) => Ok(Worker {
            channel,
            functions,
            pid,
        }),
        Err(reason) => {
            channel.end();
            Err(reason)
        }
    }
}

/// As the host disposes a channel on shutdown: WorkerTerminate with its
/// grace period when the worker handles it, then the stream ended; the
/// process gets SIGTERM and, after a grace period, SIGKILL.
async fn shut_down(
    channel: Option<&Channel>,
    child: &mut Child,
    registered: &Registered,
    console: &Console,
) {
    let pid = registered.pid();
    if let Some(channel) = channel
        && channel.terminate()
    {
        if tokio::time::timeout(TERMINATE_GRACE, child.wait())
            .await
            .is_ok()
        {
            console.info(format!(
                "[host] the worker (pid {pid}) exited after WorkerTerminate"
            ));
            channel.end();
            return;
        }
        console.warning(format!(
            "[host] the worker (pid {pid}) did not exit within WorkerTerminate's {} s grace period",
            TERMINATE_GRACE.as_secs()
        ));
    }
    if let Some(channel) = channel {
        channel.end();
        // A worker exits when the host's stream ends.
        if tokio::time::timeout(GRACE, child.wait()).await.is_ok() {
            console.info(format!(
                "[host] the worker (pid {pid}) exited when its stream ended"
            ));
            return;
        }
    }
    if child.id().is_some() {
        console.info(format!(
            "[host] stopping the worker (pid {pid}) with SIGTERM"
        ));
        children::signal_group(registered.pid(), libc::SIGTERM);
        if tokio::time::timeout(GRACE, child.wait()).await.is_ok() {
            return;
        }
    }
    kill_group(child, registered).await;
}

/// A failed or restarted worker: its stream ended and its process killed.
async fn end_and_kill(channel: Option<&Channel>, child: &mut Child, registered: &Registered) {
    if let Some(channel) = channel {
        channel.end();
    }
    kill_group(child, registered).await;
}
