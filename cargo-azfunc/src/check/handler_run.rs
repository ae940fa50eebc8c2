//! The handler's own check: its binary run in check-only mode in the app
//! folder, as `check` runs it, and its verdict read back as findings.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use function_app::environment::{APP_ROOT_VARIABLE, CHECK_VARIABLE, PORT_VARIABLES};

use super::Finding;
use crate::app::AppFolder;

/// Runs `executable` in check-only mode in the app folder and reads its
/// verdict: its stdout lines when it exits 0, its stderr lines as problems
/// otherwise.
pub fn handler(app: &AppFolder, executable: &Path, limit: Duration) -> Vec<Finding> {
    let root = std::fs::canonicalize(&app.root).unwrap_or_else(|_| app.root.clone());
    let shown = executable.display();
    let mut command = Command::new(executable);
    command
        .current_dir(&root)
        .env(CHECK_VARIABLE, "1")
        .env(APP_ROOT_VARIABLE, &root)
        .env_remove(PORT_VARIABLES[0])
        .env_remove(PORT_VARIABLES[1])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (mut child, _registered) = match crate::process::children::spawn_std(&mut command) {
        Ok(child) => child,
        Err(e) => {
            return vec![Finding::problem(format!(
                "cannot run the handler {shown}: {e}"
            ))];
        }
    };
    // Read both pipes while waiting, so that a talkative handler cannot
    // block on a full pipe.
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let Some(status) = status else {
        return vec![Finding::problem(format!(
            "the handler {shown} did not finish its check within {} s: is it built on azure-functions-rocket, which checks and exits when {CHECK_VARIABLE}=1?",
            limit.as_secs()
        ))];
    };
    let mut found = Vec::new();
    if status.success() {
        found.extend(
            stdout
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Finding::ok(format!("handler: {l}"))),
        );
        found.extend(
            stderr
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Finding::note(format!("handler: {l}"))),
        );
    } else {
        found.extend(
            stderr
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Finding::problem(format!("handler: {l}"))),
        );
        if found.is_empty() {
            found.push(Finding::problem(format!(
                "the handler {shown} failed its check ({status}) without saying why"
            )));
        }
    }
    found
}
