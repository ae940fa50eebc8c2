//! Starting and supervising the handler as the host does: environment,
//! readiness, output lines and the restart rules (docs/host-protocol.md,
//! "Start-up and readiness").

mod support;

use std::time::Duration;

use local_host::app::AppFolder;
use local_host::console::{Console, Level};
use local_host::handler::{Handler, HandlerOptions, HandlerState};
use local_host::ids::new_guid;
use serde_json::Value;
use support::{eventually, fake_app};

fn options(console: &Console, env: &[(&str, &str)]) -> HandlerOptions {
    HandlerOptions {
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ready_limit: Duration::from_secs(10),
        console: console.clone(),
        ..HandlerOptions::default()
    }
}

async fn echo(handler: &Handler) -> Value {
    let client = handler.client().await.expect("ready");
    let reply = client
        .try_invoke("Echo", br#"{"Data":{},"Metadata":{}}"#, "", 5)
        .await
        .expect("a reply");
    let body = reply.json()["ReturnValue"]["body"]
        .as_str()
        .map(str::to_owned)
        .expect("body");
    serde_json::from_str(&body).expect("JSON body")
}

#[tokio::test]
async fn starts_the_handler_as_the_host_does() {
    let dir = fake_app();
    let app = AppFolder::load(dir.path()).expect("app");
    let console = Console::quiet();
    let handler = Handler::start(&app, options(&console, &[("EXTRA", "extra")]))
        .await
        .expect("starts");
    let seen = echo(&handler).await;
    let env = &seen["env"];
    let port = env["FUNCTIONS_CUSTOMHANDLER_PORT"].as_str().expect("port");
    assert!(port.parse::<u16>().is_ok());
    assert_eq!(env["FUNCTIONS_HTTPWORKER_PORT"], port);
    assert_eq!(
        env["FUNCTIONS_CUSTOMHANDLER_WORKER_ID"],
        handler.worker_id.as_str()
    );
    assert_eq!(env["FUNCTIONS_HTTPWORKER_ID"], handler.worker_id.as_str());
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    assert_eq!(
        env["FUNCTIONS_APP_ROOT_PATH"],
        root.to_string_lossy().as_ref()
    );
    assert_eq!(env["FROM_SETTINGS"], "yes");
    assert_eq!(env["EXTRA"], "extra");
    assert_eq!(seen["cwd"], root.to_string_lossy().as_ref());
    assert_eq!(seen["argv"], serde_json::json!(["--flag"]));
    // The host's request: chunked, no Content-Length, its headers.
    assert_eq!(seen["transfer_encoding"], "chunked");
    assert_eq!(seen["content_length"], Value::Null);
    assert_eq!(seen["content_type"], "application/json; charset=utf-8");
    assert_eq!(seen["user_agent"], "Azure-Functions-Host/4.1037.0.0");
    assert_eq!(seen["host_version"], "4.1037.0.0");
    assert_eq!(seen["invocation_id"].as_str().map(str::len), Some(36));
    assert_eq!(seen["path"], "/Echo");

    // stdout is information; stderr is an error unless it says "warn".
    assert!(eventually(Duration::from_secs(2), || console.lines().len() >= 2).await);
    let lines = console.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.level == Level::Info && l.text == "[handler] fake handler starting")
    );
    assert!(
        lines
            .iter()
            .any(|l| l.level == Level::Warning && l.text == "[handler] a warning on stderr")
    );
    handler.stop().await;
}

#[tokio::test]
async fn a_handler_that_keeps_failing_stops_everything_after_three_failures() {
    let dir = fake_app();
    let app = AppFolder::load(dir.path()).expect("app");
    let console = Console::quiet();
    let reason = Handler::start(&app, options(&console, &[("FAKE_START", "exit3")]))
        .await
        .err()
        .expect("gives up");
    assert!(
        reason.contains(
            "exited with code 3, its 3rd failure without a 30-minute gap: the host stops"
        ),
        "{reason}"
    );
    let restarts = console
        .lines()
        .iter()
        .filter(|l| l.text.contains("restarting it"))
        .count();
    assert_eq!(restarts, 2, "{:?}", console.lines());
}

#[tokio::test]
async fn a_handler_that_fails_once_is_restarted() {
    let dir = fake_app();
    let app = AppFolder::load(dir.path()).expect("app");
    let marker = dir.path().join("crashed-once");
    let marker = marker.to_string_lossy();
    let console = Console::quiet();
    let handler = Handler::start(
        &app,
        options(
            &console,
            &[("FAKE_START", "crash_once"), ("FAKE_MARKER", &marker)],
        ),
    )
    .await
    .expect("second start works");
    assert!(console.contains("exited with code 3 (failure 1 of 3): restarting it in 1 s"));
    assert_eq!(echo(&handler).await["path"], "/Echo");
}

#[tokio::test]
async fn exit_zero_is_never_restarted() {
    let dir = fake_app();
    let app = AppFolder::load(dir.path()).expect("app");
    let reason = Handler::start(&app, options(&Console::quiet(), &[("FAKE_START", "exit0")]))
        .await
        .err()
        .expect("stopped");
    assert!(
        reason.contains("exited with code 0: the host does not restart"),
        "{reason}"
    );
}

#[tokio::test]
async fn exit_zero_while_running_fails_later_invocations() {
    let dir = fake_app();
    let app = AppFolder::load(dir.path()).expect("app");
    let handler = Handler::start(&app, options(&Console::quiet(), &[("FAKE_EXIT_CODE", "0")]))
        .await
        .expect("starts");
    let client = handler.client().await.expect("ready");
    let _ = client.try_invoke("Exit", b"{}", &new_guid(), 1024).await;
    let state = tokio::time::timeout(Duration::from_secs(5), handler.stopped()).await;
    assert!(
        matches!(
            state,
            Ok(HandlerState::Stopped {
                host_stops: false,
                ..
            })
        ),
        "the host keeps running after an exit with 0"
    );
    let reason = handler
        .client()
        .await
        .err()
        .expect("no client after exit 0");
    assert!(reason.contains("every later invocation fails"), "{reason}");
}

#[tokio::test]
async fn a_killed_handler_is_restarted_on_a_new_process() {
    let dir = fake_app();
    let app = AppFolder::load(dir.path()).expect("app");
    let console = Console::quiet();
    let handler = Handler::start(&app, options(&console, &[]))
        .await
        .expect("starts");
    let first = handler.pid().expect("pid");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &first.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    assert!(
        eventually(Duration::from_secs(10), || handler
            .pid()
            .is_some_and(|pid| pid != first))
        .await
    );
    assert!(console.contains("was killed by signal 9 (failure 1 of 3): restarting it"));
    assert_ne!(echo(&handler).await["pid"], first);
}

#[tokio::test]
async fn a_requested_restart_kills_the_process_uncounted_and_a_stale_request_is_ignored() {
    let dir = fake_app();
    let app = AppFolder::load(dir.path()).expect("app");
    let console = Console::quiet();
    let handler = Handler::start(&app, options(&console, &[]))
        .await
        .expect("starts");
    let first = handler.pid().expect("pid");
    handler.restart(first, "asked to").await;
    // Returned once the first process takes no more invocations.
    assert_ne!(handler.pid(), Some(first));
    let second = echo(&handler).await["pid"].as_u64().expect("a pid") as u32;
    assert_ne!(second, first);
    let alive = |pid: u32| {
        std::process::Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    assert!(!alive(first), "the first process still runs");
    // A request for the process already replaced changes nothing.
    handler.restart(first, "stale").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(handler.pid(), Some(second));
    assert!(alive(second));
    assert!(console.contains(&format!(
        "[host] asked to: killing the handler (pid {first}) and starting it again"
    )));
    assert!(!console.contains("stale"), "{:?}", console.lines());
    assert!(!console.contains("(failure"), "{:?}", console.lines());
    handler.stop().await;
}

#[tokio::test]
async fn a_handler_that_never_gets_ready_is_retried_as_the_host_does_then_given_up() {
    let dir = fake_app();
    let app = AppFolder::load(dir.path()).expect("app");
    let pid_file = dir.path().join("pids.txt");
    let pid_text = pid_file.to_string_lossy().into_owned();
    let console = Console::quiet();
    let mut options = options(
        &console,
        &[("FAKE_START", "never"), ("FAKE_PID_FILE", &pid_text)],
    );
    // Long enough for Python to start and write its pid on a busy machine.
    options.ready_limit = Duration::from_millis(1500);
    options.restart_delay = Duration::from_millis(100);
    let started = std::time::Instant::now();
    let reason = Handler::start(&app, options)
        .await
        .err()
        .expect("not ready");
    assert!(
        reason.contains("did not answer GET http://127.0.0.1:")
            && reason.ends_with("its 3rd failure without a 30-minute gap: the host stops"),
        "{reason}"
    );
    // Three tries of 1.5 s, each a counted failure.
    let tries = std::fs::read_to_string(&pid_file).unwrap_or_default();
    assert_eq!(tries.lines().count(), 3, "{tries}");
    assert!(console.contains("(failure 1 of 3): restarting it in 0.1 s"));
    assert!(console.contains("(failure 2 of 3): restarting it in 0.1 s"));
    assert!(started.elapsed() >= Duration::from_millis(4700));
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test]
async fn a_handler_that_always_exits_200_is_restarted_after_a_pause_each_time() {
    let dir = fake_app();
    let app = AppFolder::load(dir.path()).expect("app");
    let console = Console::quiet();
    // With the default pause of 1 s, 3.5 s allow four starts at most.
    let started = tokio::time::timeout(
        Duration::from_millis(3500),
        Handler::start(&app, options(&console, &[("FAKE_START", "exit200")])),
    )
    .await;
    assert!(started.is_err(), "it never gets ready, and never stops");
    let restarts = console
        .lines()
        .iter()
        .filter(|l| {
            l.text
                .contains("exited with code 200 (an intentional restart): restarting it in 1 s")
        })
        .count();
    assert!((2..=4).contains(&restarts), "{:?}", console.lines());
    assert!(!console.contains("failure"), "exit 200 is not counted");
}

#[tokio::test]
async fn a_missing_executable_is_named() {
    let dir = fake_app();
    let app = AppFolder::load(dir.path()).expect("app");
    let mut options = options(&Console::quiet(), &[]);
    options.executable = Some(dir.path().join("no-such-handler"));
    let reason = Handler::start(&app, options).await.err().expect("fails");
    assert!(reason.contains("no-such-handler: no such file"), "{reason}");
}
