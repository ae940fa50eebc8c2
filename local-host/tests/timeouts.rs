//! host.json's functionTimeout: an invocation that runs longer fails with
//! the host's words, and the handler process is killed and started again,
//! a restart the host makes itself and does not count (docs/host-protocol.md,
//! "Start-up and readiness").

mod support;

use std::time::{Duration, Instant};

use local_host::handler::HandlerState;
use local_host::limits::ServerLimits;
use support::{fake_app, http_function, write_file};

const TIMED_OUT: &str = "Timeout value of 00:00:02 was exceeded by function: Functions.Slow";

#[tokio::test(flavor = "multi_thread")]
async fn an_invocation_past_function_timeout_fails_and_the_handler_restarts_uncounted() {
    let dir = fake_app();
    write_file(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler.py"}},"functionTimeout":"00:00:02"}"#,
    );
    http_function(dir.path(), "Slow", None);
    let running = support::serve(dir, false, ServerLimits::default()).await;
    let (caller, console, handler) = (&running.caller, &running.console, &running.handler);
    let first = handler.pid().expect("a pid");

    // Inside the limit: an answer, from the same process.
    let reply = caller.request("POST", "/api/Slow", b"1").await;
    assert_eq!(reply.status, 200, "{:#?}", console.lines());
    assert_eq!(String::from_utf8_lossy(&reply.body), first.to_string());
    assert!(!console.contains("Timeout value"));

    // Past it, three times over: were these restarts counted as failures,
    // the third would stop the host.
    let mut pid = first;
    for round in 1..=3 {
        let started = Instant::now();
        let reply = caller.request("POST", "/api/Slow", b"30").await;
        let took = started.elapsed();
        assert_eq!((reply.status, reply.body.len()), (500, 0), "round {round}");
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(5),
            "round {round}: failed after {took:?}"
        );
        let failed = console
            .lines()
            .iter()
            .filter(|l| l.text.ends_with(&format!("] Failed: {TIMED_OUT}")))
            .count();
        assert_eq!(failed, round, "{:#?}", console.lines());
        // The next invocation waits for the new process, and succeeds.
        let reply = caller.request("POST", "/api/Slow", b"0").await;
        assert_eq!(reply.status, 200, "round {round}: {:#?}", console.lines());
        let answered: u32 = String::from_utf8_lossy(&reply.body).parse().expect("a pid");
        assert_ne!(answered, pid, "round {round}: the same process answered");
        assert_eq!(handler.pid(), Some(answered));
        pid = answered;
    }
    let restarts: Vec<String> = console
        .lines()
        .iter()
        .filter(|l| l.text.starts_with("[host] ") && l.text.contains("killing the handler"))
        .map(|l| l.text.clone())
        .collect();
    assert_eq!(restarts.len(), 3, "{restarts:#?}");
    assert!(
        restarts[0].starts_with(&format!(
            "[host] {TIMED_OUT}: killing the handler (pid {first})"
        )),
        "{restarts:#?}"
    );
    // Counted failures would say "(failure N of 3)".
    assert!(!console.contains("(failure"), "{:#?}", console.lines());
    assert!(matches!(handler.state(), HandlerState::Ready { .. }));
}

#[tokio::test(flavor = "multi_thread")]
async fn function_timeout_holds_in_forwarding_mode_too() {
    let dir = fake_app();
    write_file(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler.py"},"enableForwardingHttpRequest":true},"functionTimeout":"00:00:02"}"#,
    );
    http_function(dir.path(), "Slow", None);
    let running = support::serve(dir, false, ServerLimits::default()).await;
    let (caller, console, handler) = (&running.caller, &running.console, &running.handler);
    let first = handler.pid().expect("a pid");
    let reply = caller.request("POST", "/api/Slow", b"0").await;
    assert_eq!(reply.status, 200, "{:#?}", console.lines());
    assert_eq!(String::from_utf8_lossy(&reply.body), first.to_string());

    let started = Instant::now();
    let reply = caller.request("POST", "/api/Slow", b"30").await;
    assert_eq!((reply.status, reply.body.len()), (500, 0));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        console.contains(&format!("Failed: {TIMED_OUT}")),
        "{:#?}",
        console.lines()
    );
    let reply = caller.request("POST", "/api/Slow", b"0").await;
    assert_eq!(reply.status, 200, "{:#?}", console.lines());
    assert_ne!(String::from_utf8_lossy(&reply.body), first.to_string());
    assert!(!console.contains("(failure"), "{:#?}", console.lines());
}
