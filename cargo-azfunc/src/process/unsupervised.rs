//! A handler binary run by hand as a child process (no supervision), killed
//! when dropped: for tests that check the process itself, e.g. its exit
//! code or its output on SIGTERM.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct Process {
    pub child: Child,
}

impl Process {
    /// Starts `executable` with `env` added to this process's environment,
    /// and no port variables but those in `env`; stdout and stderr piped.
    pub fn start(executable: &Path, env: &[(&str, &str)]) -> std::io::Result<Process> {
        Process::start_with_args(executable, &[], env)
    }

    /// Like [`Process::start`], with command-line arguments.
    pub fn start_with_args(
        executable: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> std::io::Result<Process> {
        let mut command = Command::new(executable);
        command
            .args(args)
            .env_remove("FUNCTIONS_CUSTOMHANDLER_PORT")
            .env_remove("FUNCTIONS_HTTPWORKER_PORT")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Ok(Process {
            child: command.spawn()?,
        })
    }

    /// Takes charge of a child started elsewhere: killed when dropped.
    pub fn from_child(child: Child) -> Process {
        Process { child }
    }

    /// Waits for the process to exit by itself, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < limit {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => return None,
            }
        }
        None
    }

    /// Sends SIGTERM, as the platform does when it stops an instance.
    pub fn terminate(&self) -> std::io::Result<()> {
        send_sigterm(self.child.id())
    }

    /// Everything the process wrote to stdout and stderr; call it once the
    /// process has exited (it reads to the end).
    pub fn output(&mut self) -> (String, String) {
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_end(&mut stdout);
        }
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_end(&mut stderr);
        }
        (
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SIGTERM to one process.
pub fn send_sigterm(pid: u32) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    // SAFETY: kill(2) touches no memory of ours.
    if unsafe { libc::kill(pid, libc::SIGTERM) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
