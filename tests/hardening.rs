//! The handler hardened against hostile input, against the built binary
//! started with the host's whole environment: bodies cut short or
//! malformed, envelopes far over the limit, large invocations at once,
//! stalled and surplus connections, invocations cut by the shutdown, where
//! it listens by hand, and what the log lines say.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use local_host::client::{HostClient, HttpReply, READY_TIMEOUT, free_port};
use local_host::process::Process;
use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::TcpStream;
use rocket::tokio::{self, task::JoinHandle};
use serde_json::{Value, json};

/// The binary started as the host starts it: both port variables, the
/// worker ids, the app root as `FUNCTIONS_APP_ROOT_PATH` and as the working
/// directory, plus `env`.
fn start_as_host(root: &Path, env: &[(&str, &str)]) -> (Process, HostClient, u16) {
    let port = free_port();
    let port_text = port.to_string();
    let root_text = root.to_string_lossy().into_owned();
    let mut command = Command::new(env!("CARGO_BIN_EXE_rusty_function"));
    command
        .current_dir(root)
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", &port_text)
        .env("FUNCTIONS_HTTPWORKER_PORT", &port_text)
        .env("FUNCTIONS_CUSTOMHANDLER_WORKER_ID", "3f9c2a54-worker")
        .env("FUNCTIONS_HTTPWORKER_ID", "3f9c2a54-worker")
        .env("FUNCTIONS_APP_ROOT_PATH", &root_text)
        .env("FUNCTIONS_WORKER_RUNTIME", "custom")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let handler = Process {
        child: command.spawn().expect("the binary starts"),
    };
    (handler, HostClient::new(port), port)
}

/// A fresh app root, as publishing lays it out: host.json and the
/// function's folder (and `rocket_toml`, if any).
fn app_root(name: &str, rocket_toml: Option<&str>) -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("rusty_function-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("RustyFunction")).expect("a temporary app root");
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["host.json", "RustyFunction/function.json"] {
        std::fs::copy(source.join(file), root.join(file)).expect("the app's files copied");
    }
    if let Some(toml) = rocket_toml {
        std::fs::write(root.join("Rocket.toml"), toml).expect("Rocket.toml written");
    }
    root
}

async fn started(name: &str, env: &[(&str, &str)]) -> (Process, HostClient, u16) {
    let (handler, host, port) = start_as_host(&app_root(name, None), env);
    host.wait_ready(READY_TIMEOUT).await.expect("ready");
    (handler, host, port)
}

fn envelope(body: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "Data": {"req": {"Method": "POST", "Headers": {"Content-Type": ["application/json"]},
                         "Body": body}},
        "Metadata": {},
    }))
    .expect("JSON")
}

/// The envelope's caller status and body.
fn caller(envelope: &Value) -> (u64, Value) {
    let ret = &envelope["ReturnValue"];
    let body = ret["body"].as_str().map_or(Value::Null, |body| {
        serde_json::from_str(body).unwrap_or(Value::Null)
    });
    (ret["statusCode"].as_u64().unwrap_or(0), body)
}

/// Sends `bytes` on a new connection, closes the sending side, and reads
/// whatever comes back until the handler closes.
async fn send_raw(port: u16, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let _ = stream.write_all(bytes).await;
    let _ = stream.shutdown().await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await;
    String::from_utf8_lossy(&reply).into_owned()
}

/// The JSON body of a raw HTTP/1.1 reply, if it has one.
fn raw_body(reply: &str) -> Option<Value> {
    let (_, body) = reply.split_once("\r\n\r\n")?;
    serde_json::from_str(body).ok()
}

/// How many of `streams` the handler has closed, once its connection
/// watcher (once a second) has had time to act.
async fn count_closed(streams: &mut [TcpStream]) -> usize {
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut closed = 0;
    for stream in streams {
        if closed_within(stream, Duration::from_millis(20)).await {
            closed += 1;
        }
    }
    closed
}

/// Reads until the peer closes or `limit` passes; true if it closed.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0; 1024];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

const HEAD: &str = "POST /RustyFunction HTTP/1.1\r\nHost: 127.0.0.1\r\n\
    Content-Type: application/json; charset=utf-8\r\nX-Azure-Functions-InvocationId: raw\r\n";

/// A body cut short or malformed is never computed upon.
#[rocket::async_test]
async fn truncated_and_malformed_bodies_are_unreadable_never_answered() {
    let (mut handler, host, port) = started("truncated", &[]).await;
    let direct = r#"{"radius":2}"#;
    let whole = String::from_utf8(envelope(r#"{"radius": 2}"#)).expect("UTF-8");
    let cases = [
        (
            "Content-Length longer than the body, then FIN",
            format!("{HEAD}Content-Length: 100\r\n\r\n{direct}"),
        ),
        (
            "an envelope cut short by FIN",
            format!(
                "{HEAD}Content-Length: {}\r\n\r\n{}",
                whole.len() + 10,
                whole
            ),
        ),
        (
            "chunked without its last chunk, then FIN",
            format!("{HEAD}Transfer-Encoding: chunked\r\n\r\nc\r\n{direct}\r\n"),
        ),
        (
            "a chunked envelope without its last chunk",
            format!(
                "{HEAD}Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{whole}\r\n",
                whole.len()
            ),
        ),
        (
            "a bad chunk-size line",
            format!("{HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\n{direct}\r\n0\r\n\r\n"),
        ),
    ];
    for (case, request) in cases {
        let reply = send_raw(port, request.as_bytes()).await;
        assert!(
            !reply.contains("area"),
            "{case}: computed an answer: {reply}"
        );
        // The test only closed its sending side: it can still hear why.
        assert!(!reply.is_empty(), "{case}: no answer");
        let envelope = raw_body(&reply).unwrap_or_else(|| panic!("{case}: {reply}"));
        let (status, body) = caller(&envelope);
        assert_eq!(status, 400, "{case}: {reply}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with("the request body could not be read"),
            "{case}: {error}"
        );
    }
    // The whole envelope, sent properly, still works.
    let reply = host
        .invoke("RustyFunction", whole.as_bytes(), "ok", 64)
        .await;
    assert_eq!(reply.caller().0, 200);
    assert!(handler.child.try_wait().expect("waitable").is_none());
}

/// Writes a chunked invocation of `len` bytes of spaces after `prefix`.
async fn send_big(stream: &mut TcpStream, prefix: &[u8], len: usize) -> std::io::Result<()> {
    stream
        .write_all(format!("{HEAD}Transfer-Encoding: chunked\r\n\r\n").as_bytes())
        .await?;
    let piece = vec![b' '; 1 << 20];
    let mut sent = 0;
    let mut first = true;
    while sent < len {
        let size = piece.len().min(len - sent);
        let data: &[u8] = if first { prefix } else { &piece[..size] };
        let size = if first { prefix.len() } else { size };
        first = false;
        stream.write_all(format!("{size:x}\r\n").as_bytes()).await?;
        stream.write_all(data).await?;
        stream.write_all(b"\r\n").await?;
        sent += size;
    }
    stream.write_all(b"0\r\n\r\n").await
}

async fn read_reply(stream: &mut TcpStream) -> String {
    let mut reply = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(60), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => reply.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&reply);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            });
            if length.is_some_and(|length| body.len() >= length) {
                break;
            }
        }
    }
    String::from_utf8_lossy(&reply).into_owned()
}

/// An envelope far over the limit (and over the old 256 MiB drain)
/// is read to its end and answered 413, on a connection that stays usable.
#[rocket::async_test]
async fn an_envelope_over_256_mib_gets_its_413_after_being_drained() {
    let (_handler, _host, port) = started("oversize", &[]).await;
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    // 64 MiB beyond the old 256 MiB drain: more than socket buffers hold.
    let len = 320 << 20;
    let sent = send_big(&mut stream, br#"{"Data":{"req":{"Body":""#, len).await;
    assert!(
        sent.is_ok(),
        "the handler closed while the host was sending: {sent:?}"
    );
    let reply = read_reply(&mut stream).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let (status, body) = caller(&raw_body(&reply).expect("an envelope"));
    assert_eq!(status, 413, "{reply}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("limits.json")
    );
}

/// Large invocations take turns (`large_invocations`); one that waits longer than `body_timeout`
/// for its turn gets 503 inside its envelope, never a dropped connection,
/// and `GET /` is answered promptly on the same pooled connections.
#[rocket::async_test]
async fn large_invocations_take_turns_and_health_pings_stay_prompt() {
    let (_handler, host, port) = started(
        "turns",
        &[
            ("ROCKET_LARGE_INVOCATIONS", "1"),
            ("ROCKET_BODY_TIMEOUT", "2"),
        ],
    )
    .await;
    let big = envelope(&format!(
        r#"{{"radius": 2, "pad": "{}"}}"#,
        " ".repeat(900_000)
    ));
    let padded: Vec<u8> = [&big[..], &vec![b' '; 2 << 20][..]].concat();
    // The first large invocation holds the only turn while it trickles in.
    let mut slow = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    slow.write_all(format!("{HEAD}Content-Length: {}\r\n\r\n", padded.len()).as_bytes())
        .await
        .expect("head sent");
    let (early, late) = padded.split_at(padded.len() - 40);
    slow.write_all(early).await.expect("most of the body sent");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The second waits for a turn, and gets 503 when none comes in 2 s.
    let second = {
        let host = host.clone();
        let padded = padded.clone();
        tokio::spawn(async move {
            host.invoke("RustyFunction", &padded, "second", 1 << 20)
                .await
        })
    };
    // The first keeps its turn: a byte every 100 ms keeps it alive.
    let trickle = {
        let late = late.to_vec();
        tokio::spawn(async move {
            for byte in late.chunks(1) {
                tokio::time::sleep(Duration::from_millis(100)).await;
                slow.write_all(byte).await.expect("the rest sent");
            }
            read_reply(&mut slow).await
        })
    };
    // Meanwhile, pings on the pooled connections are answered at once.
    for _ in 0..10 {
        let started = Instant::now();
        assert_eq!(host.request("GET", "/", b"").await.status, 200);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let second = second.await.expect("second invocation");
    assert_eq!(second.status, 200);
    let (status, body) = caller(&second.json());
    assert_eq!(status, 503, "{body}");
    // The first gets its area once all of it is in.
    let reply = trickle.await.expect("first invocation");
    let (status, body) = caller(&raw_body(&reply).expect("an envelope"));
    assert_eq!(
        (status, body["radius"].as_f64()),
        (200, Some(2.0)),
        "{reply}"
    );
    // With the turn given back, a large invocation goes through at once.
    let reply = host
        .invoke("RustyFunction", &padded, "third", 1 << 20)
        .await;
    assert_eq!(reply.caller().0, 200);
}

/// "Also": health pings while several 32 MiB invocations are parsed. Each
/// is parsed off the async workers, so `GET /` is answered within 2 s
/// while they are; on a worker, parsing two at once held both workers.
#[rocket::async_test]
async fn health_pings_are_prompt_while_32_mib_invocations_are_parsed() {
    let (_handler, host, _) = started("parsing", &[("ROCKET_WORKERS", "2")]).await;
    // Identities the function never reads, then a body over 1 MiB: the
    // whole envelope is scanned before the 413.
    let identities = vec!["{}"; 15 << 20].join(",");
    let body = "x".repeat(2 << 20);
    let big = format!(
        r#"{{"Data":{{"req":{{"Identities":[{identities}],"Body":"{body}"}}}},"Metadata":{{}}}}"#
    );
    let big = std::sync::Arc::new(big.into_bytes());
    let calls: Vec<JoinHandle<HttpReply>> = (0..3)
        .map(|i| {
            let (host, big) = (host.clone(), big.clone());
            tokio::spawn(async move {
                host.invoke("RustyFunction", &big, &format!("big-{i}"), 4 << 20)
                    .await
            })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    while !calls.iter().all(JoinHandle::is_finished) {
        let started = Instant::now();
        assert_eq!(host.request("GET", "/", b"").await.status, 200);
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for call in calls {
        let reply = call.await.expect("invocation");
        assert_eq!(reply.caller().0, 413);
    }
    eprintln!("slowest health ping: {slowest:?}");
    assert!(
        slowest < Duration::from_secs(2),
        "a health ping took {slowest:?}"
    );
}

/// Idle connections, request heads that never finish, bodies that
/// stall, and connections over the cap are all closed; the cap says so on
/// stderr, and the handler keeps serving.
#[rocket::async_test]
async fn stalled_idle_and_surplus_connections_are_closed() {
    let (mut handler, host, port) = started(
        "connections",
        &[
            ("ROCKET_IDLE_TIMEOUT", "2"),
            ("ROCKET_HEADER_TIMEOUT", "1"),
            ("ROCKET_BODY_TIMEOUT", "1"),
            ("ROCKET_MAX_CONNECTIONS", "8"),
        ],
    )
    .await;
    let connect = || TcpStream::connect(("127.0.0.1", port));
    let mut idle = connect().await.expect("connects");
    let mut slowloris = connect().await.expect("connects");
    slowloris
        .write_all(b"POST /RustyFunction HTTP/1.1\r\nX-A: ")
        .await
        .expect("sent");
    // A body that stalls: 400 inside the envelope once 1 s passes.
    let mut stalled = connect().await.expect("connects");
    stalled
        .write_all(
            format!("{HEAD}Content-Length: 50\r\n\r\n{{\"Data\":{{\"req\":{{\"Body\":").as_bytes(),
        )
        .await
        .expect("sent");
    let reply = read_reply(&mut stalled).await;
    let (status, body) = caller(&raw_body(&reply).expect("an envelope"));
    assert_eq!(status, 400, "{reply}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no byte of it arrived")
    );
    assert!(
        closed_within(&mut slowloris, Duration::from_secs(4)).await,
        "slowloris still open"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(5)).await,
        "idle still open"
    );

    // Twenty connections at a cap of eight: the surplus is closed.
    let mut many = Vec::new();
    for _ in 0..20 {
        many.push(connect().await.expect("connects"));
    }
    let closed = count_closed(&mut many).await;
    assert!(closed >= 12, "only {closed} of 20 closed at a cap of 8");
    drop(many);
    let reply = host
        .invoke("RustyFunction", &envelope(r#"{"radius": 1}"#), "after", 64)
        .await;
    assert_eq!(reply.caller().0, 200);

    handler.terminate().expect("SIGTERM");
    handler.wait_exit(Duration::from_secs(15)).expect("exits");
    let (_, stderr) = handler.output();
    assert!(stderr.contains("over the cap of 8"), "{stderr}");
    assert!(
        stderr.contains("request head did not arrive within 1 s"),
        "{stderr}"
    );
}

/// An invocation still arriving when the grace period ends is
/// reported on stderr, with a non-zero exit.
#[rocket::async_test]
async fn an_invocation_cut_by_the_shutdown_is_reported_with_a_non_zero_exit() {
    let (mut handler, _host, port) = started(
        "cut",
        &[
            ("ROCKET_SHUTDOWN", "{grace=1,mercy=1}"),
            ("ROCKET_BODY_TIMEOUT", "30"),
        ],
    )
    .await;
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    stream
        .write_all(format!("{HEAD}Content-Length: 500\r\n\r\n{{\"Data\":").as_bytes())
        .await
        .expect("sent");
    tokio::time::sleep(Duration::from_millis(200)).await;
    handler.terminate().expect("SIGTERM");
    let status = handler.wait_exit(Duration::from_secs(10)).expect("exits");
    assert!(!status.success(), "{status:?}");
    let (stdout, stderr) = handler.output();
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("stopped without finishing every request"),
        "{stderr}"
    );
    assert!(stderr.contains("1 invocation(s) cut off"), "{stderr}");
}

/// "Also": the host's whole environment, the app root as working directory,
/// and a `Rocket.toml` there still applies (Rocket's and the handler's own
/// settings); nothing goes to stdout.
#[rocket::async_test]
async fn under_the_hosts_whole_environment_rocket_toml_in_the_app_root_applies() {
    let root = app_root("env", Some("[default]\nlimits = { json = \"2KiB\" }\n"));
    let (mut handler, host, _) = start_as_host(&root, &[]);
    host.wait_ready(READY_TIMEOUT).await.expect("ready");
    let reply = host
        .invoke("RustyFunction", &envelope(r#"{"radius": 2}"#), "small", 64)
        .await;
    assert_eq!(reply.caller().0, 200);
    let big = envelope(&format!(r#"{{"radius": 2, "p": "{}"}}"#, "x".repeat(3000)));
    let reply = host.invoke("RustyFunction", &big, "big", 64).await;
    let (status, body) = reply.caller();
    assert_eq!(status, 413);
    assert!(
        body["error"].as_str().unwrap_or_default().contains("2KiB"),
        "{body}"
    );
    handler.terminate().expect("SIGTERM");
    let status = handler.wait_exit(Duration::from_secs(15)).expect("exits");
    assert!(status.success(), "{status:?}");
    assert_eq!(handler.output(), (String::new(), String::new()));
}

/// The binary started under `ulimit -n {limit}`, with both port
/// variables, holding `held` more descriptors (on /dev/null) as an app's
/// own files would; `bash` execs it, so the child is the handler itself.
async fn started_with_fd_limit(limit: u32, held: u32) -> (Process, HostClient, u16) {
    let port = free_port();
    let mut command = Command::new("bash");
    let hold =
        format!(r#"for fd in $(seq 10 $((9 + {held}))); do eval "exec $fd</dev/null"; done"#);
    command
        .args([
            "-c",
            &format!(r#"ulimit -n {limit} && {hold} && exec "$0""#),
        ])
        .arg(env!("CARGO_BIN_EXE_rusty_function"))
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
        .env("FUNCTIONS_HTTPWORKER_PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Killed on drop, so also when an assertion fails.
    let handler = Process {
        child: command.spawn().expect("the binary starts"),
    };
    let host = HostClient::new(port);
    host.wait_ready(READY_TIMEOUT).await.expect("ready");
    (handler, host, port)
}

/// How many descriptors process `pid` has open.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count())
}

/// At the file descriptor limit: with only 100 descriptors the cap
/// is lowered to fit (saying so), so connections beyond it are closed with
/// a logged reason instead of waiting unanswered at `accept`.
#[rocket::async_test]
async fn at_a_low_fd_limit_the_cap_fits_in_it_and_says_so() {
    let (mut handler, host, port) = started_with_fd_limit(100, 0).await;
    let mut many = Vec::new();
    for _ in 0..60 {
        many.push(
            TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connects"),
        );
    }
    let closed = count_closed(&mut many).await;
    assert!(closed >= 20, "only {closed} of 60 closed at a cap of 36");
    drop(many);
    let reply = host
        .invoke("RustyFunction", &envelope(r#"{"radius": 1}"#), "fd", 64)
        .await;
    assert_eq!(reply.caller().0, 200);
    handler.terminate().expect("SIGTERM");
    handler.wait_exit(Duration::from_secs(15)).expect("exits");
    let (_, stderr) = handler.output();
    assert!(
        stderr.contains(
            "max_connections lowered from 1000 to 36 to fit the file descriptor limit (100)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("over the cap of 36"), "{stderr}");
}

/// At the limit itself: connections until the handler holds all of
/// its 100 descriptors and can accept no more, and more waiting behind
/// them. The watcher still closes the idle surplus, so `GET /` and an
/// invocation on new connections are answered within a bound, and the
/// cap is logged once.
#[rocket::async_test]
async fn at_the_fd_limit_itself_the_surplus_is_closed_and_new_callers_answered() {
    const LIMIT: usize = 100;
    const CAP: usize = 36;
    let (mut handler, _host, port) = started_with_fd_limit(LIMIT as u32, 0).await;
    let pid = handler.child.id();
    let connect = || TcpStream::connect(("127.0.0.1", port));
    let mut many = Vec::new();
    let mut peak = 0;
    while peak < LIMIT && many.len() < 4 * LIMIT {
        many.push(connect().await.expect("connects"));
        // Accepting is asynchronous: give the handler a moment.
        tokio::time::sleep(Duration::from_millis(2)).await;
        peak = peak.max(open_fds(pid));
    }
    assert_eq!(peak, LIMIT, "never reached the limit");
    // More than it can hold: these wait in the listen queue.
    while many.len() < LIMIT + 20 {
        many.push(connect().await.expect("connects"));
    }
    let flooded = Instant::now();

    // New callers, each on a new connection behind the waiting ones. The
    // bound: the watcher looks once a second, Rocket retries `accept`
    // every 250 ms.
    let bound = Duration::from_secs(3);
    let get = tokio::time::timeout(
        bound,
        HostClient::new(port).try_request_with("GET", "/", &[], b"", 0),
    )
    .await;
    let get_took = flooded.elapsed();
    let get = get.unwrap_or_else(|_| panic!("GET / unanswered after {bound:?} at the limit"));
    assert!(get.is_ok(), "GET /: {get:?}");
    let invoked = Instant::now();
    let reply = tokio::time::timeout(
        bound,
        HostClient::new(port).try_invoke("RustyFunction", &envelope(r#"{"radius": 1}"#), "", 64),
    )
    .await
    .unwrap_or_else(|_| panic!("invocation unanswered after {bound:?} at the limit"))
    .unwrap_or_else(|failure| panic!("invocation: {failure:?}"));
    let invoke_took = invoked.elapsed();
    assert_eq!(reply.caller().0, 200);

    // The idle surplus is closed, the ones that waited included.
    let closed = count_closed(&mut many).await;
    assert!(
        closed >= many.len() - CAP,
        "only {closed} of {} closed at a cap of {CAP}",
        many.len()
    );
    let after = open_fds(pid);
    assert!(after < LIMIT - 20, "{after} descriptors still open");
    eprintln!(
        "peak {peak} descriptors with {} connections; GET / after {get_took:?}, invocation in {invoke_took:?}; {closed} closed, {after} descriptors after",
        many.len()
    );

    handler.terminate().expect("SIGTERM");
    handler.wait_exit(Duration::from_secs(15)).expect("exits");
    let (_, stderr) = handler.output();
    let cap_lines = stderr.matches("over the cap of 36").count();
    assert_eq!(cap_lines, 1, "{stderr}");
}

/// The limit before the cap: the app's own descriptors (70 held here)
/// leave room for fewer connections than `max_connections`. At the limit
/// the newer half of the idle connections is closed anyway, so new callers
/// are answered, and that is logged once.
#[rocket::async_test]
async fn at_the_fd_limit_under_the_cap_new_callers_are_still_answered() {
    const LIMIT: usize = 100;
    let (mut handler, _host, port) = started_with_fd_limit(LIMIT as u32, 70).await;
    let pid = handler.child.id();
    let connect = || TcpStream::connect(("127.0.0.1", port));
    let mut many = Vec::new();
    let mut peak = 0;
    while peak < LIMIT && many.len() < LIMIT {
        many.push(connect().await.expect("connects"));
        tokio::time::sleep(Duration::from_millis(2)).await;
        peak = peak.max(open_fds(pid));
    }
    assert_eq!(peak, LIMIT, "never reached the limit");
    let accepted = many.len();
    assert!(
        accepted < 36,
        "{accepted} connections fit: the cap came first"
    );
    // Five more wait in the listen queue, ahead of the new callers.
    for _ in 0..5 {
        many.push(connect().await.expect("connects"));
    }
    let flooded = Instant::now();
    let bound = Duration::from_secs(3);
    let get = tokio::time::timeout(
        bound,
        HostClient::new(port).try_request_with("GET", "/", &[], b"", 0),
    )
    .await;
    let get_took = flooded.elapsed();
    let get = get.unwrap_or_else(|_| panic!("GET / unanswered after {bound:?} at the limit"));
    assert!(get.is_ok(), "GET /: {get:?}");
    let invoked = Instant::now();
    let reply = tokio::time::timeout(
        bound,
        HostClient::new(port).try_invoke("RustyFunction", &envelope(r#"{"radius": 1}"#), "", 64),
    )
    .await
    .unwrap_or_else(|_| panic!("invocation unanswered after {bound:?} at the limit"))
    .unwrap_or_else(|failure| panic!("invocation: {failure:?}"));
    let invoke_took = invoked.elapsed();
    assert_eq!(reply.caller().0, 200);
    eprintln!(
        "peak {peak} descriptors with {accepted} connections accepted, {} opened; GET / after {get_took:?}, invocation in {invoke_took:?}",
        many.len()
    );

    handler.terminate().expect("SIGTERM");
    handler.wait_exit(Duration::from_secs(15)).expect("exits");
    let (_, stderr) = handler.output();
    let lines = stderr.matches("at the file descriptor limit (100)").count();
    assert_eq!(lines, 1, "{stderr}");
}

/// Run by hand (no port variable), it says where it listens.
#[rocket::async_test]
async fn by_hand_it_says_where_it_listens() {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_rusty_function"));
    command
        .env_remove("FUNCTIONS_CUSTOMHANDLER_PORT")
        .env_remove("FUNCTIONS_HTTPWORKER_PORT")
        .env("ROCKET_PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut handler = Process {
        child: command.spawn().expect("the binary starts"),
    };
    HostClient::new(port)
        .wait_ready(READY_TIMEOUT)
        .await
        .expect("ready");
    handler.terminate().expect("SIGTERM");
    handler.wait_exit(Duration::from_secs(15)).expect("exits");
    let (stdout, _) = handler.output();
    let expected = format!("listening on http://127.0.0.1:{port}/");
    assert!(stdout.contains(&expected), "{stdout:?}");
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
}

/// Caller text in a log line is quoted, so it cannot forge
/// `key=value` tokens; the handler's refusals and the function's own lines
/// name the function the same way; numbers are short.
#[rocket::async_test]
async fn log_lines_quote_caller_text_and_share_one_format() {
    let (_handler, host, _) = started("logs", &[]).await;
    let reply = host
        .invoke(
            "RustyFunction",
            &envelope(r#"{"radius": {"x status=200 area=1":0}}"#),
            "i-8",
            64,
        )
        .await;
    assert_eq!(
        reply.logs(),
        [
            r#"[WARN] RustyFunction invocation="i-8" radius="{\"x status=200 area=1\":0}" status=400 error="radius must be a number, not an object""#
        ]
    );
    let reply = host
        .invoke(
            "RustyFunction",
            &envelope(r#"{"radius": 1.5e76}"#),
            "i-10",
            64,
        )
        .await;
    // Short scientific notation, not 153 digits.
    let logs = reply.logs();
    assert_eq!(logs.len(), 1);
    let head = r#"[INFO] RustyFunction invocation="i-10" radius=1.5e76 area=7.06858347057703"#;
    assert!(
        logs[0].starts_with(head) && logs[0].ends_with("e152 status=200"),
        "{logs:?}"
    );
    let too_big = vec![b' '; (32 << 20) + 1];
    let reply = host
        .invoke("RustyFunction", &too_big, "i-413", 1 << 20)
        .await;
    let logs = reply.logs();
    assert_eq!(logs.len(), 1);
    assert!(
        logs[0].starts_with(r#"[WARN] RustyFunction invocation="i-413" status=413 error=""#),
        "{logs:?}"
    );
}
