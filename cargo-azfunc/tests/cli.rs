//! The `cargo-azfunc` command: its own bad input gets one clear line on
//! stderr and a non-zero exit; `invoke` and `start` work end to end.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use cargo_azfunc::handler::client::{HostClient, free_port};
use cargo_azfunc::process::Process;
use support::{fake_app, write_file};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-azfunc");

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("cargo-azfunc runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn path(dir: &Path) -> &str {
    dir.to_str().expect("UTF-8 temp path")
}

/// The error line, which must be the only line on stderr.
fn one_error_line(output: &Output) -> String {
    assert!(!output.status.success(), "exit {:?}", output.status);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    let text = stderr(output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].starts_with("cargo-azfunc: error: "), "{text}");
    lines[0].to_owned()
}

#[test]
fn a_folder_without_host_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let line = one_error_line(&run(&["start", "--app", path(dir.path())], &[]));
    assert!(line.contains("no host.json in"), "{line}");
    let line = one_error_line(&run(
        &["invoke", "F", "--data-file", "x", "--app", path(dir.path())],
        &[],
    ));
    assert!(line.contains("no host.json in"), "{line}");
}

#[test]
fn a_broken_function_json() {
    let dir = fake_app();
    write_file(
        dir.path(),
        "Broken/function.json",
        r#"{"bindings": [ {"type": "httpTrigger""#,
    );
    let line = one_error_line(&run(&["start", "--app", path(dir.path())], &[]));
    assert!(
        line.contains("Broken/function.json is not valid JSON"),
        "{line}"
    );
}

#[test]
fn a_function_timeout_the_host_refuses_stops_start_and_check() {
    let dir = fake_app();
    write_file(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler.py"}},"functionTimeout":"-00:05:00"}"#,
    );
    for command in ["start", "check"] {
        let line = one_error_line(&run(&[command, "--app", path(dir.path())], &[]));
        assert!(
            line.contains("host.json: functionTimeout \"-00:05:00\" is negative"),
            "{command}: {line}"
        );
        assert!(
            line.contains("the host refuses to start"),
            "{command}: {line}"
        );
    }
}

#[test]
fn a_port_in_use() {
    let dir = fake_app();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let line = one_error_line(&run(
        &["start", "--app", path(dir.path()), "--port", &port],
        &[],
    ));
    assert!(line.contains(&format!("port {port} is in use")), "{line}");
}

#[test]
fn a_handler_that_never_gets_ready() {
    let dir = fake_app();
    let port = free_port().to_string();
    let output = run(
        &[
            "start",
            "--app",
            path(dir.path()),
            "--port",
            &port,
            "--ready-timeout",
            "0.3",
        ],
        &[("FAKE_START", "never")],
    );
    assert!(!output.status.success());
    let text = stderr(&output);
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(
            "cargo-azfunc: error: the handler did not start: the handler did not answer GET"
        ),
        "{text}"
    );
}

#[test]
fn an_unknown_function_and_bad_arguments() {
    let dir = fake_app();
    let line = one_error_line(&run(
        &[
            "invoke",
            "Nope",
            "--data-file",
            "x",
            "--app",
            path(dir.path()),
        ],
        &[],
    ));
    assert!(line.contains("no function named \"Nope\""), "{line}");
    assert!(
        line.contains("it has: Echo, Exit, Fail, Flood, Queue, Reply, Sink, Text, Tick"),
        "{line}"
    );

    let usage = run(&["start", "--port", "seventy"], &[]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        stderr(&usage).starts_with("error: invalid value 'seventy' for '--port <N>'"),
        "{}",
        stderr(&usage)
    );
    assert_eq!(run(&["invoke", "Queue"], &[]).status.code(), Some(2));
    assert_eq!(run(&[], &[]).status.code(), Some(2));
    assert!(run(&["--help"], &[]).status.success());
}

#[test]
fn invoke_shows_logs_and_outputs() {
    let dir = fake_app();
    write_file(dir.path(), "message.json", r#"{"radius":2}"#);
    let message = dir.path().join("message.json");
    let output = run(
        &[
            "invoke",
            "Queue",
            "--data-file",
            path(&message),
            "--app",
            path(dir.path()),
        ],
        &[],
    );
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    assert!(out.contains(r#"] queued "{\"radius\":2}""#), "{out}");
    assert!(out.contains(r#"] queue areas <- {"radius":2}"#), "{out}");
    assert!(out.contains("] Succeeded"), "{out}");
    // Each line timestamped; the end with its duration.
    assert!(
        out.lines()
            .all(|l| l.starts_with("[20") && l.contains("Z] ")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.contains("Z] [Queue ")
            && l.contains("] Succeeded in ")
            && l.ends_with(" ms")),
        "{out}"
    );
    assert!(stderr(&output).contains("[output-case]"));
}

#[test]
fn invoke_exits_non_zero_when_the_invocation_fails() {
    let dir = fake_app();
    write_file(dir.path(), "body.json", "{}");
    let body = dir.path().join("body.json");
    let output = run(
        &[
            "invoke",
            "fail",
            "--data-file",
            path(&body),
            "--app",
            path(dir.path()),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("error: [handler] Fail failed on purpose"),
        "{err}"
    );
    assert!(err.contains("] Failed in "), "{err}");
    assert!(err.contains(" ms: the handler answered 500"), "{err}");
}

/// Every line `--output json` prints, parsed.
fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

#[test]
fn invoke_output_json_with_data_and_standard_input() {
    let dir = fake_app();
    let output = run(
        &[
            "invoke",
            "Queue",
            "--data",
            "7",
            "--output",
            "json",
            "--app",
            path(dir.path()),
        ],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let events = json_lines(&stdout(&output));
    assert!(
        events
            .iter()
            .all(|e| e["timestamp"].is_string() && e["level"].is_string())
    );
    let end = events
        .iter()
        .find(|e| e["event"] == "invocation")
        .unwrap_or_else(|| panic!("no invocation event in {events:?}"));
    assert_eq!(end["function"], "Queue");
    assert_eq!(end["outcome"], "Succeeded");
    assert!(
        end["durationMs"].as_f64().is_some_and(|ms| ms > 0.0),
        "{end}"
    );
    let id = end["invocationId"].as_str().unwrap_or_default();
    assert_eq!(id.len(), 36, "{end}");
    // The function's own log line carries the same invocation id and the
    // text given with --data.
    assert!(
        events.iter().any(|e| e["invocationId"] == id
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains(r#"queued "7""#))),
        "{events:?}"
    );

    // --data-file - reads standard input.
    let mut child = Command::new(BIN)
        .args([
            "invoke",
            "Fail",
            "--data-file",
            "-",
            "--output",
            "json",
            "--app",
            path(dir.path()),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cargo-azfunc runs");
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(&mut stdin, b"{}").expect("write stdin");
    }
    let output = child.wait_with_output().expect("cargo-azfunc exits");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let events = json_lines(&stdout(&output));
    let end = events
        .iter()
        .find(|e| e["event"] == "invocation")
        .unwrap_or_else(|| panic!("no invocation event in {events:?}"));
    assert_eq!(end["function"], "Fail");
    assert_eq!(end["outcome"], "Failed");
    assert_eq!(end["level"], "error");
    assert!(
        end["reason"].as_str().is_some_and(|r| r.contains("500")),
        "{end}"
    );
}

#[tokio::test]
async fn start_listens_on_local_http_port_unless_p_is_given() {
    let dir = fake_app();
    let port = free_port();
    write_file(
        dir.path(),
        "local.settings.json",
        &format!(
            r#"{{"IsEncrypted":false,"Values":{{"FUNCTIONS_WORKER_RUNTIME":"custom"}},"Host":{{"LocalHttpPort":{port}}}}}"#
        ),
    );
    let cargo_azfunc =
        Process::start_with_args(Path::new(BIN), &["start", "--app", path(dir.path())], &[])
            .expect("spawn cargo-azfunc");
    let caller = HostClient::new(port);
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving on Host.LocalHttpPort");
    drop(cargo_azfunc);

    let other = free_port();
    let cargo_azfunc = Process::start_with_args(
        Path::new(BIN),
        &["start", "--app", path(dir.path()), "-p", &other.to_string()],
        &[],
    )
    .expect("spawn cargo-azfunc");
    HostClient::new(other)
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving on -p");
    drop(cargo_azfunc);

    write_file(
        dir.path(),
        "local.settings.json",
        r#"{"Values":{},"Host":{"LocalHttpPort":"x"}}"#,
    );
    let line = one_error_line(&run(&["start", "--app", path(dir.path())], &[]));
    assert!(
        line.contains("Host.LocalHttpPort must be a port number"),
        "{line}"
    );
}

#[tokio::test]
async fn start_serves_until_sigterm_then_exits_zero() {
    let dir = fake_app();
    let port = free_port();
    let port_text = port.to_string();
    let mut cargo_azfunc = Process::start_with_args(
        Path::new(BIN),
        &["start", "--app", path(dir.path()), "--port", &port_text],
        &[],
    )
    .expect("spawn cargo-azfunc");
    let caller = HostClient::new(port);
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving");
    let reply = caller
        .request("POST", "/api/echo", br#"{"radius": 2}"#)
        .await;
    assert_eq!(reply.status, 200);
    cargo_azfunc.terminate().expect("SIGTERM");
    let status = cargo_azfunc
        .wait_exit(Duration::from_secs(10))
        .expect("exits");
    assert_eq!(status.code(), Some(0));
    let (out, _) = cargo_azfunc.output();
    assert!(
        out.contains(&format!(
            "Echo: [GET,POST] http://localhost:{port}/api/echo/{{id?}}"
        )),
        "{out}"
    );
    assert!(out.contains("] echo"), "{out}");
}

#[test]
fn invoke_verbose_shows_the_envelope_and_the_reply() {
    let dir = fake_app();
    let output = run(
        &[
            "invoke",
            "Queue",
            "--data",
            "r=2",
            "--verbose",
            "--app",
            path(dir.path()),
        ],
        &[],
    );
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    let sent = out
        .lines()
        .find_map(|l| l.split_once("] sent: ").map(|(_, body)| body))
        .unwrap_or_else(|| panic!("no envelope sent in {out}"));
    let sent: serde_json::Value = serde_json::from_str(sent).expect("the envelope is JSON");
    assert_eq!(sent["Data"]["item"], "\"r=2\"", "{sent}");
    assert!(out.lines().any(|l| l.contains("] reply 200: {")), "{out}");

    let quiet = run(
        &[
            "invoke",
            "Queue",
            "--data",
            "r=2",
            "--app",
            path(dir.path()),
        ],
        &[],
    );
    assert!(!stdout(&quiet).contains("] sent: "), "{}", stdout(&quiet));
}

#[test]
fn encrypted_settings_are_refused_by_start_and_invoke() {
    let dir = fake_app();
    write_file(
        dir.path(),
        "local.settings.json",
        r#"{"IsEncrypted":true,"Values":{"FUNCTIONS_WORKER_RUNTIME":"Q2lwaGVy"}}"#,
    );
    for args in [
        vec!["start", "--app", path(dir.path())],
        vec!["invoke", "Queue", "--data", "x", "--app", path(dir.path())],
    ] {
        let line = one_error_line(&run(&args, &[]));
        assert!(
            line.contains("\"IsEncrypted\": true") && line.contains("func settings decrypt"),
            "{line}"
        );
    }
}

/// cargo-azfunc serving the fake app with `args` on a free port, ready.
async fn started(dir: &Path, args: &[&str]) -> (Process, HostClient) {
    let port = free_port().to_string();
    let mut all = vec!["start", "--app", path(dir), "--port", &port];
    all.extend_from_slice(args);
    let process = Process::start_with_args(Path::new(BIN), &all, &[]).expect("spawn cargo-azfunc");
    let caller = HostClient::new(port.parse().expect("port"));
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving");
    (process, caller)
}

fn header<'a>(reply: &'a cargo_azfunc::handler::client::HttpReply, name: &str) -> Option<&'a str> {
    reply.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A browser's preflight for `PUT /api/echo` from `origin`.
async fn preflight(caller: &HostClient, origin: &str) -> cargo_azfunc::handler::client::HttpReply {
    let headers = [
        ("Origin", origin),
        ("Access-Control-Request-Method", "PUT"),
        ("Access-Control-Request-Headers", "content-type"),
    ];
    caller
        .request_with("OPTIONS", "/api/echo", &headers, b"", 0)
        .await
}

#[tokio::test]
async fn cors_answers_preflights_and_marks_allowed_origins_only() {
    let dir = fake_app();
    // Without CORS, as Core Tools: a preflight is one more unrouted request.
    let (process, caller) = started(dir.path(), &[]).await;
    let reply = preflight(&caller, "http://localhost:3000").await;
    assert_eq!(reply.status, 404);
    drop(process);

    let (process, caller) = started(
        dir.path(),
        &[
            "--cors",
            "http://localhost:3000,https://app.example",
            "--cors-credentials",
        ],
    )
    .await;
    let reply = preflight(&caller, "http://localhost:3000").await;
    assert_eq!(reply.status, 204);
    assert_eq!(
        header(&reply, "access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(header(&reply, "access-control-allow-methods"), Some("PUT"));
    assert_eq!(
        header(&reply, "access-control-allow-headers"),
        Some("content-type")
    );
    assert_eq!(
        header(&reply, "access-control-allow-credentials"),
        Some("true")
    );
    let reply = preflight(&caller, "http://evil.example").await;
    assert_eq!(reply.status, 204);
    assert_eq!(header(&reply, "access-control-allow-origin"), None);
    let reply = caller
        .request_with(
            "GET",
            "/api/echo",
            &[("Origin", "https://app.example")],
            b"",
            0,
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        header(&reply, "access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(header(&reply, "vary"), Some("Origin"));
    let reply = caller
        .request_with(
            "GET",
            "/api/echo",
            &[("Origin", "http://evil.example")],
            b"",
            0,
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(header(&reply, "access-control-allow-origin"), None);
    drop(process);

    // local.settings.json's Host.CORS when --cors is not given.
    write_file(
        dir.path(),
        "local.settings.json",
        r#"{"Values":{"FUNCTIONS_WORKER_RUNTIME":"custom"},"Host":{"CORS":"*"}}"#,
    );
    let (process, caller) = started(dir.path(), &[]).await;
    let reply = preflight(&caller, "http://anyone.example").await;
    assert_eq!(reply.status, 204);
    assert_eq!(header(&reply, "access-control-allow-origin"), Some("*"));
    drop(process);

    let line = one_error_line(&run(
        &[
            "start",
            "--app",
            path(dir.path()),
            "--cors",
            "localhost:3000",
        ],
        &[],
    ));
    assert!(
        line.contains("--cors: CORS origin \"localhost:3000\" is not"),
        "{line}"
    );
}

#[tokio::test]
async fn functions_serves_only_the_subset_named() {
    let dir = fake_app();
    let (mut process, caller) = started(dir.path(), &["--functions", "echo", "Queue"]).await;
    assert_eq!(caller.request("GET", "/api/echo", b"").await.status, 200);
    assert_eq!(caller.request("GET", "/api/Text", b"").await.status, 404);
    assert_eq!(
        caller
            .request("POST", "/admin/functions/Tick", b"{}")
            .await
            .status,
        404
    );
    assert_eq!(
        caller
            .request("POST", "/admin/functions/Queue", b"{}")
            .await
            .status,
        202
    );
    process.terminate().expect("SIGTERM");
    process.wait_exit(Duration::from_secs(10)).expect("exits");
    let (out, _) = process.output();
    let listed: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once("]   ").map(|(_, f)| f))
        .filter_map(|f| f.split_once(':').map(|(name, _)| name))
        .collect();
    assert_eq!(listed, ["Echo", "Queue"], "{out}");

    let line = one_error_line(&run(
        &["start", "--app", path(dir.path()), "--functions", "Nope"],
        &[],
    ));
    assert!(
        line.contains("--functions: no function named \"Nope\""),
        "{line}"
    );
    assert!(line.contains("it has: Echo, Exit, Fail"), "{line}");
}

#[test]
fn use_https_options_that_cannot_serve_are_refused() {
    let dir = fake_app();
    let app = path(dir.path());
    let missing = dir.path().join("missing.pem");
    let missing = path(&missing);
    let line = one_error_line(&run(
        &["start", "--app", app, "--useHttps", "--cert", missing],
        &[],
    ));
    assert!(line.contains(&format!("--cert {missing}")), "{line}");

    let key_only = dir.path().join("key.pem");
    std::fs::write(
        &key_only,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .expect("written");
    let line = one_error_line(&run(
        &[
            "start",
            "--app",
            app,
            "--useHttps",
            "--cert",
            path(&key_only),
        ],
        &[],
    ));
    assert!(line.contains("no CERTIFICATE in it"), "{line}");

    // clap's usage errors: exit 2.
    let output = run(&["start", "--app", app, "--cert", missing], &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--useHttps"),
        "{}",
        stderr(&output)
    );
}
