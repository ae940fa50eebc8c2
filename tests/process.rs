//! The built binary, started the way the Functions host starts it.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::start_binary;
use local_host::client::{HostClient, READY_TIMEOUT, free_port};
use serde_json::json;

#[rocket::async_test]
async fn serves_on_the_port_the_host_gives_and_stays_quiet() {
    let port = free_port();
    let mut handler = start_binary(&[
        ("FUNCTIONS_CUSTOMHANDLER_PORT", &port.to_string()),
        ("FUNCTIONS_WORKER_RUNTIME", "custom"),
    ]);
    let host = HostClient::new(port);
    host.wait_ready(READY_TIMEOUT).await.expect("ready");
    let envelope =
        br#"{"Data":{"req":{"Method":"POST","Body":"{\"radius\": 2.5}"}},"Metadata":{}}"#;
    let reply = host.invoke("RustyFunction", envelope, "p-1", 10).await;
    assert_eq!(
        reply.caller(),
        (200, json!({"radius": 2.5, "area": 19.634954084936208}))
    );

    // SIGTERM stops it cleanly; nothing was written to stdout, which the
    // host would have turned into log records.
    handler.terminate().expect("SIGTERM");
    let status = handler
        .wait_exit(Duration::from_secs(10))
        .expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    let (stdout, stderr) = handler.output();
    assert_eq!(stdout, "");
    assert_eq!(stderr, "");
}

#[rocket::async_test]
async fn falls_back_to_the_legacy_port_variable() {
    let port = free_port();
    let _handler = start_binary(&[("FUNCTIONS_HTTPWORKER_PORT", &port.to_string())]);
    let host = HostClient::new(port);
    host.wait_ready(READY_TIMEOUT).await.expect("ready");
    assert_eq!(host.request("GET", "/", b"").await.status, 200);
}

#[test]
fn a_bad_port_value_exits_non_zero_naming_the_variable_and_value() {
    for bad in ["not-a-port", "70000", ""] {
        let mut handler = start_binary(&[("FUNCTIONS_CUSTOMHANDLER_PORT", bad)]);
        let status = handler
            .wait_exit(Duration::from_secs(10))
            .expect("exits at once");
        assert!(!status.success(), "{status:?}");
        let (_, stderr) = handler.output();
        assert!(stderr.contains("FUNCTIONS_CUSTOMHANDLER_PORT"), "{stderr}");
        assert!(stderr.contains(&format!("\"{bad}\"")), "{stderr}");
    }
}

#[test]
fn a_taken_port_exits_non_zero_with_a_clear_message() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut handler = start_binary(&[("FUNCTIONS_CUSTOMHANDLER_PORT", &port.to_string())]);
    let status = handler
        .wait_exit(Duration::from_secs(10))
        .expect("exits at once");
    assert!(!status.success(), "{status:?}");
    let (_, stderr) = handler.output();
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.to_lowercase().contains("in use"), "{stderr}");
}

#[rocket::async_test]
async fn one_worker_runs_on_a_current_thread_runtime_and_still_stops_cleanly() {
    let port = free_port();
    let mut handler = start_binary(&[
        ("FUNCTIONS_CUSTOMHANDLER_PORT", &port.to_string()),
        ("ROCKET_WORKERS", "1"),
    ]);
    let host = HostClient::new(port);
    host.wait_ready(READY_TIMEOUT).await.expect("ready");
    let calls = (1..=8).map(|i| {
        let host = host.clone();
        rocket::tokio::spawn(async move {
            let body = format!(r#"{{"Data":{{"req":{{"Body":"{{\"radius\": {i}}}"}}}}}}"#);
            host.invoke("RustyFunction", body.as_bytes(), "w-1", 5)
                .await
        })
    });
    for (i, call) in (1..=8).zip(calls.collect::<Vec<_>>()) {
        let (status, body) = call.await.unwrap().caller();
        assert_eq!((status, body["radius"].as_f64()), (200, Some(f64::from(i))));
    }
    handler.terminate().expect("SIGTERM");
    let status = handler
        .wait_exit(Duration::from_secs(10))
        .expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
}
