//! The handler's own check: its binary run in check-only mode in the app
//! folder, as `check` runs it, and its verdict read back as findings.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use function_app::environment::{APP_ROOT_VARIABLE, CHECK_VARIABLE, PORT_VARIABLES};

use super::Finding;
use crate::app::AppFolder;
use crate::process::limited::{Ran, run_limited};

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
        .env_remove(PORT_VARIABLES[1]);
    let ran = match run_limited(&mut command, limit) {
        Ok(ran) => ran,
        Err(e) => {
            return vec![Finding::problem(format!(
                "cannot run the handler {shown}: {e}"
            ))];
        }
    };
    let Ran {
        status,
        stdout,
        stderr,
    } = ran;
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
