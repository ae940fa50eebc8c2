//! SIGTERM and SIGINT always stop `cargo azfunc start` with exit 0, whatever
//! state the handler is in, and leave none of the processes it started
//! (nor theirs) running.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cargo_azfunc::handler::client::{HostClient, free_port};
use cargo_azfunc::process::Process;
use support::fake_app;

const BIN: &str = env!("CARGO_BIN_EXE_cargo-azfunc");

/// cargo-azfunc's own grace period (3 s) plus room for a slow machine.
const STOPS_WITHIN: Duration = Duration::from_secs(8);

struct Started {
    cargo_azfunc: Process,
    port: u16,
    pid_file: PathBuf,
    _dir: tempfile::TempDir,
}

fn start(extra: &[&str], env: &[(&str, &str)]) -> Started {
    let dir = fake_app();
    let pid_file = dir.path().join("pids.txt");
    let port = free_port();
    let port_text = port.to_string();
    let app = dir.path().to_str().expect("UTF-8 path").to_owned();
    let mut args = vec!["start", "--app", &app, "--port", &port_text];
    args.extend_from_slice(extra);
    let pid_text = pid_file.to_str().expect("UTF-8 path").to_owned();
    let mut env = env.to_vec();
    env.push(("FAKE_PID_FILE", &pid_text));
    let cargo_azfunc = Process::start_with_args(Path::new(BIN), &args, &env).expect("cargo-azfunc");
    Started {
        cargo_azfunc,
        port,
        pid_file,
        _dir: dir,
    }
}

/// The pids the fake handler wrote: ("handler" | "child", pid).
fn pids(file: &Path) -> Vec<(String, u32)> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (kind, pid) = line.split_once(' ')?;
            Some((kind.to_owned(), pid.parse().ok()?))
        })
        .collect()
}

/// Whether `pid` runs (a zombie waiting to be reaped by init does not).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

async fn wait_for(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    support::eventually(limit, &mut condition).await
}

fn signal(process: &Process, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(process.child.id()).expect("pid");
    // SAFETY: kill(2) touches no memory of ours.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// Sends `sig`, and checks cargo-azfunc exits 0 in time and that every
/// process the fake handler recorded is gone by then.
fn stops_cleanly(mut started: Started, sig: libc::c_int) -> String {
    let recorded = pids(&started.pid_file);
    assert!(!recorded.is_empty(), "the handler never started");
    let sent = Instant::now();
    signal(&started.cargo_azfunc, sig);
    let status = started.cargo_azfunc.wait_exit(STOPS_WITHIN);
    let (out, err) = started.cargo_azfunc.output();
    let status = status.unwrap_or_else(|| panic!("still running\n{out}\n{err}"));
    assert_eq!(status.code(), Some(0), "{out}\n{err}");
    assert!(sent.elapsed() < STOPS_WITHIN);
    // Checked at once: the fake handler also quits by itself shortly after
    // its parent is gone, which must not be what stopped it.
    for (kind, pid) in pids(&started.pid_file) {
        assert!(!alive(pid), "the {kind} {pid} outlived cargo-azfunc\n{err}");
    }
    err
}

#[tokio::test]
async fn sigterm_while_serving() {
    let started = start(&[], &[]);
    let caller = HostClient::new(started.port);
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving");
    assert_eq!(caller.request("GET", "/api/echo", b"").await.status, 200);
    let err = stops_cleanly(started, libc::SIGTERM);
    assert!(err.contains("cargo-azfunc: SIGTERM: stopping"), "{err}");
}

#[tokio::test]
async fn sigint_after_the_handler_exited_with_0() {
    let started = start(&[], &[("FAKE_EXIT_CODE", "0")]);
    let caller = HostClient::new(started.port);
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving");
    // The handler answers, then exits 0: the host (and cargo-azfunc) keep
    // running and fail every later invocation.
    caller.request("GET", "/api/Exit", b"").await;
    let mut failing = false;
    for _ in 0..100 {
        if caller.request("GET", "/api/echo", b"").await.status == 500 {
            failing = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failing, "the handler never went away");
    stops_cleanly(started, libc::SIGINT);
}

#[tokio::test]
async fn sigterm_after_the_handler_exited_with_0() {
    let started = start(&[], &[("FAKE_EXIT_CODE", "0")]);
    let caller = HostClient::new(started.port);
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving");
    caller.request("GET", "/api/Exit", b"").await;
    let handler = pids(&started.pid_file)[0].1;
    assert!(wait_for(Duration::from_secs(5), || !alive(handler)).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    stops_cleanly(started, libc::SIGTERM);
}

#[tokio::test]
async fn sigterm_while_the_handler_is_not_ready_yet() {
    let started = start(&["--ready-timeout", "60"], &[("FAKE_START", "never")]);
    let file = started.pid_file.clone();
    assert!(wait_for(Duration::from_secs(5), || !pids(&file).is_empty()).await);
    stops_cleanly(started, libc::SIGTERM);
}

#[tokio::test]
async fn a_handler_that_ignores_sigterm_is_killed_with_what_it_started() {
    let started = start(&[], &[("FAKE_TERM", "ignore"), ("FAKE_CHILD", "1")]);
    let caller = HostClient::new(started.port);
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving");
    let recorded = pids(&started.pid_file);
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert!(recorded.iter().all(|(_, pid)| alive(*pid)));
    stops_cleanly(started, libc::SIGINT);
}

#[tokio::test]
async fn a_cargo_azfunc_killed_with_sigkill_takes_its_handler_along() {
    // The fake handler's own watch for a dead parent is off: the kernel
    // must do it (PR_SET_PDEATHSIG).
    let mut started = start(&[], &[("FAKE_ORPHAN_WATCH", "off")]);
    let caller = HostClient::new(started.port);
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving");
    let handler = pids(&started.pid_file)[0].1;
    signal(&started.cargo_azfunc, libc::SIGKILL);
    started.cargo_azfunc.wait_exit(STOPS_WITHIN);
    let gone = wait_for(Duration::from_secs(2), || !alive(handler)).await;
    if !gone {
        // Leave nothing behind, then fail.
        // SAFETY: kill(2) touches no memory of ours.
        unsafe {
            libc::kill(handler as libc::pid_t, libc::SIGKILL);
        }
    }
    assert!(
        gone,
        "the handler {handler} outlived a SIGKILLed cargo-azfunc"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_the_request_in_flight_finish_before_it_stops() {
    let dir = fake_app();
    support::http_function(dir.path(), "Slow", None);
    let port = free_port();
    let args = [
        "start",
        "--app",
        dir.path().to_str().expect("UTF-8 path"),
        "--port",
        &port.to_string(),
    ]
    .map(str::to_owned);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cargo_azfunc =
        Process::start_with_args(Path::new(BIN), &args, &[]).expect("cargo-azfunc");
    let caller = HostClient::new(port);
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving");
    // The fake handler's Slow answers after as many seconds as the body says.
    let slow = {
        let caller = caller.clone();
        tokio::spawn(async move {
            caller
                .try_request_with("POST", "/api/Slow", &[], b"2", 1)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    signal(&cargo_azfunc, libc::SIGTERM);
    let reply = slow.await.expect("joins");
    let status = cargo_azfunc.wait_exit(STOPS_WITHIN);
    let (out, err) = cargo_azfunc.output();
    let reply = reply.unwrap_or_else(|failure| panic!("cut off: {failure:?}\n{out}\n{err}"));
    assert_eq!(reply.status, 200, "{out}\n{err}");
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{out}\n{err}");
    assert!(err.contains("in flight finish first"), "{err}");
}
