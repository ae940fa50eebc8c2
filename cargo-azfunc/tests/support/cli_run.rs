//! The real CLI as a child process, its output in a file the test reads
//! back; killed when dropped.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cargo_azfunc::process::Process;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_cargo-azfunc");

pub struct CliRun {
    pub process: Process,
    log: PathBuf,
    _logs: TempDir,
}

impl CliRun {
    pub fn start(args: &[&str]) -> CliRun {
        CliRun::start_with_env(args, &[])
    }

    /// [`CliRun::start`] with more environment.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> CliRun {
        let logs = tempfile::tempdir().expect("temp dir");
        let log = logs.path().join("cargo-azfunc.log");
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(BIN)
            .args(args)
            .envs(env.iter().copied())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("cargo azfunc starts");
        CliRun {
            process: Process::from_child(child),
            log,
            _logs: logs,
        }
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the output holds `text`; fails the test after `limit`.
    pub async fn wait_for(&self, text: &str, limit: Duration) {
        let started = Instant::now();
        while !self.output().contains(text) {
            assert!(
                started.elapsed() < limit,
                "no {text:?} within {limit:?}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the command to end; its exit code.
    pub fn finish(&mut self, limit: Duration) -> Option<i32> {
        let status = self.process.wait_exit(limit);
        assert!(
            status.is_some(),
            "still running after {limit:?}:\n{}",
            self.output()
        );
        status.and_then(|s| s.code())
    }
}
