//! Every process cargo azfunc starts (the handler, cargo, the handler's check
//! run) is started here, each as the leader of its own process group, and
//! registered until it is reaped. So a signal to cargo-azfunc can stop all of
//! them, and whatever they started in turn, and no process is started once
//! cargo-azfunc is stopping.

use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Registry {
    /// Process group ids (= the leaders' pids) of the live children.
    groups: Vec<u32>,
    /// Set once cargo-azfunc is stopping: nothing more is started.
    closed: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    groups: Vec::new(),
    closed: false,
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    // A panic elsewhere while holding the lock leaves the data valid.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// A started child's place in the registry. Dropping it, once the child is
/// reaped or abandoned, kills what is left of its process group (a handler
/// that exits leaves nothing running behind it) and forgets it.
#[derive(Debug)]
pub struct Registered {
    group: u32,
}

impl Registered {
    pub fn pid(&self) -> u32 {
        self.group
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        signal_group(self.group, libc::SIGKILL);
        registry().groups.retain(|g| *g != self.group);
    }
}

/// The error of a spawn refused because cargo-azfunc is stopping.
pub fn stopping_error() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::Interrupted, "cargo-azfunc is stopping")
}

/// Whether cargo-azfunc is stopping (no process is started any more).
pub fn stopping() -> bool {
    registry().closed
}

fn spawned<C>(
    spawn: impl FnOnce() -> std::io::Result<C>,
    id: impl Fn(&C) -> Option<u32>,
) -> std::io::Result<(C, Registered)> {
    let mut registry = registry();
    if registry.closed {
        return Err(stopping_error());
    }
    let child = spawn()?;
    let group = id(&child).unwrap_or(0);
    if group != 0 {
        registry.groups.push(group);
    }
    Ok((child, Registered { group }))
}

/// In the child, between fork and exec: be killed when the thread that
/// started it ends, so that even a cargo-azfunc killed with SIGKILL (or a
/// test binary stopped by Ctrl-C: its children no longer share its process
/// group) leaves no handler behind.
fn die_with_parent() -> std::io::Result<()> {
    // SAFETY: prctl(2) is async-signal-safe and touches no memory of ours.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Starts `command` in a process group of its own and registers it.
pub fn spawn_std(
    command: &mut std::process::Command,
) -> std::io::Result<(std::process::Child, Registered)> {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
    // SAFETY: die_with_parent only calls prctl(2).
    unsafe {
        command.pre_exec(die_with_parent);
    }
    spawned(|| command.spawn(), |child| Some(child.id()))
}

/// Starts `command` in a process group of its own and registers it.
pub fn spawn_tokio(
    command: &mut tokio::process::Command,
) -> std::io::Result<(tokio::process::Child, Registered)> {
    command.process_group(0);
    // SAFETY: die_with_parent only calls prctl(2).
    unsafe {
        command.pre_exec(die_with_parent);
    }
    spawned(|| command.spawn(), tokio::process::Child::id)
}

/// Sends `signal` to every process of the group led by `group`.
pub fn signal_group(group: u32, signal: libc::c_int) {
    let Ok(group) = libc::pid_t::try_from(group) else {
        return;
    };
    if group > 1 {
        // SAFETY: kill(2) with a negative pid signals a process group; it
        // touches no memory of ours.
        unsafe {
            libc::kill(-group, signal);
        }
    }
}

fn live_groups() -> Vec<u32> {
    registry().groups.clone()
}

/// Stops everything cargo azfunc started: no new process from now on,
/// SIGTERM to every group, SIGKILL to what is left after `grace` (at once
/// when `hurry` resolves first, e.g. a second Ctrl-C), then waits a little
/// for the owners to reap them.
pub async fn stop_all(grace: Duration, hurry: impl std::future::Future<Output = ()>) {
    let groups = {
        let mut registry = registry();
        registry.closed = true;
        registry.groups.clone()
    };
    for group in &groups {
        signal_group(*group, libc::SIGTERM);
    }
    tokio::select! {
        _ = wait_until_none_left(grace) => {}
        _ = hurry => {}
    }
    for group in live_groups() {
        signal_group(group, libc::SIGKILL);
    }
    wait_until_none_left(Duration::from_secs(1)).await;
}

async fn wait_until_none_left(limit: Duration) {
    let started = Instant::now();
    while !live_groups().is_empty() && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
