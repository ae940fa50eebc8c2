//! The built binary, started the way the Functions host starts it.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use cargo_azfunc::handler::client::{HostClient, READY_TIMEOUT, free_port};
use common::start_binary;
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

/// An app folder like the real one, with `function_json` as
/// RustyFunction's and a `Stray` folder nobody registered.
fn disagreeing_app(function_json: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("a temporary app folder");
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(source.join("host.json"), root.path().join("host.json")).expect("host.json");
    for (folder, json) in [("RustyFunction", function_json), ("Stray", function_json)] {
        std::fs::create_dir(root.path().join(folder)).expect("a function folder");
        std::fs::write(root.path().join(folder).join("function.json"), json)
            .expect("function.json");
    }
    root
}

#[test]
fn a_function_folder_that_disagrees_with_the_registry_stops_it_with_the_reason() {
    // (A renamed binding is no disagreement: the registry line takes the
    // name from function.json.)
    let retyped = r#"{"bindings": [
        {"type": "timerTrigger", "direction": "in", "name": "request"},
        {"type": "http", "direction": "out", "name": "$return"}]}"#;
    let app = disagreeing_app(retyped);
    let port = free_port();
    let mut handler = start_binary(&[
        ("FUNCTIONS_CUSTOMHANDLER_PORT", &port.to_string()),
        (
            "FUNCTIONS_APP_ROOT_PATH",
            app.path().to_str().expect("a UTF-8 path"),
        ),
    ]);
    let status = handler
        .wait_exit(Duration::from_secs(10))
        .expect("exits at once");
    assert_eq!(status.code(), Some(1));
    let (stdout, stderr) = handler.output();
    assert_eq!(stdout, "");
    let expected = [
        r#"rusty_function: Stray/function.json: no function named "Stray" is registered: add it to the registry, or remove the folder"#.to_owned(),
        r#"rusty_function: RustyFunction/function.json: the trigger is of type "timerTrigger"; the registry declares a httpTrigger function: change the binding's "type" to "httpTrigger", or the registry line"#.to_owned(),
        format!(
            "rusty_function: not started: 2 disagreement(s) between the registry and the app folder {}",
            app.path().display()
        ),
    ];
    assert_eq!(stderr.lines().collect::<Vec<_>>(), expected);
    // It never listened.
    assert!(TcpListener::bind(("127.0.0.1", port)).is_ok());
}

#[rocket::async_test]
async fn outside_its_app_folder_it_says_so_in_one_line_and_serves() {
    let elsewhere = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_rusty_function"))
        .current_dir(elsewhere.path())
        .env_remove("FUNCTIONS_CUSTOMHANDLER_PORT")
        .env_remove("FUNCTIONS_HTTPWORKER_PORT")
        .env_remove("FUNCTIONS_APP_ROOT_PATH")
        .env("ROCKET_PORT", port.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut handler = cargo_azfunc::process::Process { child };
    let host = HostClient::new(port);
    host.wait_ready(READY_TIMEOUT).await.expect("ready");
    let reply = host
        .invoke("RustFunction", br#"{"radius": 2}"#, "d-1", 64)
        .await;
    assert_eq!(reply.caller().0, 200);
    // Its registry line declares the whole function: the host's envelope
    // is read by the trigger's name there, `req`, with no function.json.
    let envelope = br#"{"Data": {"req": {"Query": {"radius": "2"}}}, "Metadata": {}}"#;
    let reply = host.invoke("RustFunction", envelope, "d-2", 64).await;
    assert_eq!(
        reply.caller(),
        (
            200,
            serde_json::json!({"radius": 2.0, "area": 12.566370614359172})
        )
    );
    handler.terminate().expect("SIGTERM");
    handler.wait_exit(Duration::from_secs(10)).expect("exits");
    let (_, stderr) = handler.output();
    assert_eq!(
        stderr,
        "rusty_function: warning: not in this app's folder (no FUNCTIONS_APP_ROOT_PATH, and no host.json here that starts this binary): function folders not checked\n"
    );
}
