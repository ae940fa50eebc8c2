//! Starting the worker process as the host's RpcWorkerProcess and
//! DefaultWorkerProcessFactory do: the configuration's command line, then
//! both sets of the host's arguments; the app's settings and the host's
//! variables in the environment; the app root as working directory.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use crate::console::{Console, Level};
use crate::process::children::{self, Registered};

use super::server::MAX_MESSAGE;
use crate::app::worker_config::WorkerConfig;

/// The prefix a worker's console lines may carry; the host strips it.
const CONSOLE_LOG_PREFIX: &str = "LanguageWorkerConsoleLog";

/// What starting the worker takes, again at every restart.
#[derive(Clone)]
pub struct Launch {
    pub config: WorkerConfig,
    /// Run this instead of the configuration's executable (a fresh build).
    pub executable: Option<PathBuf>,
    pub root: PathBuf,
    pub env: Vec<(String, String)>,
    pub console: Console,
}

impl Launch {
    pub fn executable(&self) -> PathBuf {
        self.executable
            .clone()
            .unwrap_or_else(|| self.config.executable.clone())
    }

    /// The whole argument list for a worker that connects to `port`.
    pub fn arguments(&self, port: u16, worker_id: &str, request_id: &str) -> Vec<String> {
        let max = MAX_MESSAGE.to_string();
        let mut all = self.config.leading_arguments();
        for (name, value) in [
            ("--host", "127.0.0.1".to_owned()),
            ("--port", port.to_string()),
            ("--workerId", worker_id.to_owned()),
            ("--requestId", request_id.to_owned()),
            ("--grpcMaxMessageLength", max.clone()),
            ("--functions-uri", format!("http://127.0.0.1:{port}/")),
            ("--functions-worker-id", worker_id.to_owned()),
            ("--functions-request-id", request_id.to_owned()),
            ("--functions-grpc-max-message-length", max),
        ] {
            all.push(name.to_owned());
            all.push(value);
        }
        all
    }

    /// The environment beyond cargo-azfunc's own.
    pub fn environment(&self) -> Vec<(String, String)> {
        let mut env = self.env.clone();
        let root = self.root.to_string_lossy().into_owned();
        env.push((
            "FUNCTIONS_WORKER_DIRECTORY".into(),
            self.config.directory.to_string_lossy().into_owned(),
        ));
        env.push(("FUNCTIONS_APPLICATION_DIRECTORY".into(), root.clone()));
        env.push((function_app::environment::APP_ROOT_VARIABLE.into(), root));
        let runtime = |name: &str| env.iter().any(|(k, v)| k == name && !v.is_empty());
        // The host's default concurrency for Python workers.
        if self.config.language.eq_ignore_ascii_case("python")
            && !runtime("PYTHON_THREADPOOL_THREAD_COUNT")
        {
            env.push(("PYTHON_THREADPOOL_THREAD_COUNT".into(), "1000".into()));
        }
        env
    }

    pub fn spawn(
        &self,
        port: u16,
        worker_id: &str,
        request_id: &str,
    ) -> Result<(Child, Registered), String> {
        let executable = self.executable();
        let mut command = Command::new(&executable);
        command
            .args(self.arguments(port, worker_id, request_id))
            .current_dir(&self.root)
            .envs(self.environment())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let (mut child, registered) = children::spawn_tokio(&mut command).map_err(|e| {
            let path = executable.display();
            match e.kind() {
                std::io::ErrorKind::NotFound => format!(
                    "cannot start the worker {path}: no such file (build it first, e.g. `cargo azfunc start --build`, or fix the worker configuration's defaultExecutablePath)"
                ),
                std::io::ErrorKind::PermissionDenied => format!(
                    "cannot start the worker {path}: permission denied (is it executable? chmod +x {path})"
                ),
                _ => format!("cannot start the worker {path}: {e}"),
            }
        })?;
        if let Some(out) = child.stdout.take() {
            tokio::spawn(forward_lines(out, self.console.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(forward_lines(err, self.console.clone()));
        }
        Ok((child, registered))
    }
}

/// The worker's output lines, as the host logs them: errors when they
/// say so, else information.
async fn forward_lines(stream: impl AsyncRead + Unpin, console: Console) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                let text = text.strip_prefix(CONSOLE_LOG_PREFIX).unwrap_or(text);
                let lower = text.to_ascii_lowercase();
                let level = if lower.contains("error") || lower.contains("traceback") {
                    Level::Error
                } else if lower.contains("warn") {
                    Level::Warning
                } else {
                    Level::Info
                };
                console.log(level, format!("[worker] {text}"));
            }
        }
    }
}
