//! Nothing a caller or a handler sends makes cargo-azfunc grow or wait
//! without bound: the host's 100 MiB for callers' bodies (413), a cap on
//! the handler's replies, timeouts for idle connections, heads and bodies,
//! and accept errors paused and reported once per episode of running out.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use cargo_azfunc::handler::client::{HostClient, free_port};
use cargo_azfunc::host::accept_errors::QUIET;
use cargo_azfunc::limits::{CALLER_BODY_LIMIT, REPLY_LIMIT, ServerLimits};
use cargo_azfunc::process::Process;
use support::{Serving, fake_app};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_cargo-azfunc");

async fn serve(limits: ServerLimits) -> Serving {
    support::serve(fake_app(), false, limits).await
}

/// Reads whatever comes until the peer closes or `limit` passes; `None`
/// when the connection is still open then.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buffer[..n]),
            Err(_) => return None,
        }
    }
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or("")
}

#[tokio::test]
async fn a_body_of_exactly_100_mib_reaches_the_handler() {
    let running = serve(ServerLimits::default()).await;
    assert_eq!(CALLER_BODY_LIMIT, 100 * 1024 * 1024);
    let caller = HostClient::new(running.caller.port());
    let body = vec![b'a'; CALLER_BODY_LIMIT];
    let reply = caller
        .request_with(
            "POST",
            "/api/Sink",
            &[
                ("Content-Type", "text/plain"),
                ("Content-Length", &CALLER_BODY_LIMIT.to_string()),
            ],
            &body,
            1 << 20,
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", running.console.lines());
    assert!(running.console.contains("] Sink ran"));
}

#[tokio::test]
async fn a_content_length_one_byte_over_100_mib_gets_413_at_once() {
    let running = serve(ServerLimits::default()).await;
    let mut stream = TcpStream::connect(("127.0.0.1", running.caller.port()))
        .await
        .expect("connect");
    let head = format!(
        "POST /api/Sink HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        CALLER_BODY_LIMIT + 1
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let response = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered and closed without the body");
    assert!(
        status_line(&response).starts_with("HTTP/1.1 413"),
        "{response}"
    );
    assert!(!running.console.contains("] Sink ran"));
}

#[tokio::test]
async fn a_chunked_body_one_byte_over_100_mib_gets_413() {
    let running = serve(ServerLimits::default()).await;
    let response = chunked_one_byte_over_100_mib(&running).await;
    assert!(
        status_line(&response).starts_with("HTTP/1.1 413"),
        "{response}"
    );
    assert!(
        running
            .console
            .contains("the body is larger than 104857600 bytes (100 MiB): answered 413")
    );
}

/// Peak resident memory of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[tokio::test]
async fn an_endless_reply_is_cut_at_the_reply_limit_with_a_warning() {
    let dir = fake_app();
    let port = free_port();
    let port_text = port.to_string();
    let app = dir.path().to_str().expect("UTF-8").to_owned();
    let mut cargo_azfunc = Process::start_with_args(
        Path::new(BIN),
        &["start", "--app", &app, "--port", &port_text],
        &[],
    )
    .expect("cargo-azfunc");
    let caller = HostClient::new(port);
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving");
    let reply = caller.request("GET", "/api/Flood", b"").await;
    assert_eq!((reply.status, reply.body.len()), (500, 0));
    let peak = peak_rss(cargo_azfunc.child.id());
    // The reply limit and a little: not the gigabytes an endless reply
    // would take.
    assert!(
        peak < (REPLY_LIMIT as u64) * 2,
        "cargo-azfunc peaked at {peak} bytes"
    );
    // cargo-azfunc serves on.
    assert_eq!(caller.request("GET", "/api/echo", b"").await.status, 200);
    cargo_azfunc.terminate().expect("SIGTERM");
    cargo_azfunc.wait_exit(Duration::from_secs(10));
    let (_, err) = cargo_azfunc.output();
    assert!(
        err.contains("[reply-too-large] the reply is larger than 268435456 bytes (256 MiB)"),
        "{err}"
    );
}

#[tokio::test]
async fn a_reply_of_exactly_the_limit_is_read_one_byte_more_is_not() {
    // A handler stand-in that answers every request with a body of the
    // size in its path.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut head = vec![0u8; 4096];
                let n = stream.read(&mut head).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&head[..n]).into_owned();
                let size: usize = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|p| p.trim_start_matches('/').parse().ok())
                    .unwrap_or(0);
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n{}",
                    "x".repeat(size)
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    let client = HostClient::new(port).with_reply_limit(1000);
    let exact = client.try_request_with("GET", "/1000", &[], b"", 1).await;
    assert_eq!(exact.map(|r| r.body.len()).ok(), Some(1000));
    let over = client.try_request_with("GET", "/1001", &[], b"", 1).await;
    assert_eq!(
        over.err().map(|f| f.to_string()).as_deref(),
        Some("the handler's 200 reply is larger than 1000 bytes: cargo-azfunc stopped reading it")
    );
}

fn short_limits() -> ServerLimits {
    ServerLimits {
        head_timeout: Duration::from_secs(1),
        body_stall_timeout: Duration::from_secs(1),
        ..ServerLimits::default()
    }
}

#[test]
fn the_default_timeouts_are_30_seconds() {
    let limits = ServerLimits::default();
    assert_eq!(limits.head_timeout, Duration::from_secs(30));
    assert_eq!(limits.body_stall_timeout, Duration::from_secs(30));
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_head_timeout() {
    let running = serve(short_limits()).await;
    let mut idle = TcpStream::connect(("127.0.0.1", running.caller.port()))
        .await
        .expect("connect");
    assert!(
        read_until_closed(&mut idle, Duration::from_millis(600))
            .await
            .is_none(),
        "closed before the timeout"
    );
    assert!(
        read_until_closed(&mut idle, Duration::from_secs(2))
            .await
            .is_some(),
        "still open after the timeout"
    );

    // Idle after a first request on a kept-alive connection: the same.
    let mut kept = TcpStream::connect(("127.0.0.1", running.caller.port()))
        .await
        .expect("connect");
    kept.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("request");
    let mut first = [0u8; 1024];
    assert!(kept.read(&mut first).await.expect("answer") > 0);
    assert!(
        read_until_closed(&mut kept, Duration::from_secs(2))
            .await
            .is_some(),
        "a kept-alive connection stays open"
    );
}

#[tokio::test]
async fn a_half_sent_head_is_closed_after_the_head_timeout() {
    let running = serve(short_limits()).await;
    let mut stream = TcpStream::connect(("127.0.0.1", running.caller.port()))
        .await
        .expect("connect");
    stream
        .write_all(b"GET /api/echo HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("half a head");
    assert!(
        read_until_closed(&mut stream, Duration::from_millis(600))
            .await
            .is_none()
    );
    assert!(
        read_until_closed(&mut stream, Duration::from_secs(2))
            .await
            .is_some()
    );
}

#[tokio::test]
async fn a_stalled_body_gets_408_after_the_stall_timeout() {
    let running = serve(short_limits()).await;
    let mut stream = TcpStream::connect(("127.0.0.1", running.caller.port()))
        .await
        .expect("connect");
    stream
        .write_all(b"POST /api/Sink HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        .await
        .expect("part of a body");
    assert!(
        read_until_closed(&mut stream, Duration::from_millis(600))
            .await
            .is_none()
    );
    let response = read_until_closed(&mut stream, Duration::from_secs(2))
        .await
        .expect("answered and closed");
    assert!(
        status_line(&response).starts_with("HTTP/1.1 408"),
        "{response}"
    );
    assert!(!running.console.contains("] Sink ran"));
}

/// CPU time (user + system) a process has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15; the state is field 3.
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    field(14).unwrap_or(0) + field(15).unwrap_or(0)
}

#[tokio::test]
async fn out_of_descriptors_it_pauses_says_so_once_and_recovers() {
    let dir = fake_app();
    let port = free_port();
    // cargo-azfunc and its handler get 48 descriptors; 120 callers take
    // them all.
    // Its stdout goes to a file, read while it runs.
    let stdout = dir.path().join("stdout.log");
    let command = format!(
        "ulimit -n 48 && exec {BIN} start --app '{}' --port {port} > '{}'",
        dir.path().display(),
        stdout.display()
    );
    let mut cargo_azfunc =
        Process::start_with_args(Path::new("/bin/sh"), &["-c", &command], &[]).expect("sh");
    let caller = HostClient::new(port);
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving");
    let mut callers = Vec::new();
    for _ in 0..120 {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await {
            callers.push(stream);
        }
    }
    // Out of descriptors for a while: no spin.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = cargo_azfunc.child.id();
    let before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = cpu_ticks(pid) - before;
    // Ticks are 1/100 s: at most a quarter of a second of CPU in 2 s.
    assert!(used <= 25, "cargo-azfunc used {used} ticks in 2 s");
    drop(callers);
    // It accepts again.
    let fresh = HostClient::new(port);
    let mut answered = false;
    for _ in 0..100 {
        if let Ok(reply) = fresh.try_request_with("GET", "/", &[], b"", 1).await
            && reply.status == 200
        {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answered, "cargo-azfunc never accepted again");
    // The episode is over once accepts have gone on for QUIET without a
    // failure; the backlog the callers left behind drains first, which
    // takes longer on a loaded machine.
    let recovery = "accepting connections again, after";
    let deadline = Instant::now() + QUIET * 10;
    while Instant::now() < deadline
        && !std::fs::read_to_string(&stdout).is_ok_and(|out| out.contains(recovery))
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Any second episode would have begun by now.
    tokio::time::sleep(QUIET).await;
    cargo_azfunc.terminate().expect("SIGTERM");
    let status = cargo_azfunc.wait_exit(Duration::from_secs(10));
    let (_, err) = cargo_azfunc.output();
    let out = std::fs::read_to_string(&stdout).unwrap_or_default();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{err}");
    // Once for the whole episode, though freed descriptors let accepts
    // through between failures; never a line per failed accept.
    let said = err.matches("cannot accept a connection").count();
    let recovered = out.matches(recovery).count();
    assert_eq!((said, recovered), (1, 1), "{out}\n{err}");
}

#[tokio::test]
async fn a_data_file_that_never_ends_is_refused() {
    let dir = fake_app();
    let app = dir.path().to_str().expect("UTF-8").to_owned();
    let started = Instant::now();
    let output = std::process::Command::new(BIN)
        .args(["invoke", "Echo", "--data-file", "/dev/zero", "--app", &app])
        .output()
        .expect("runs");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        err.trim(),
        "cargo-azfunc: error: --data-file: /dev/zero is larger than 104857600 bytes (100 MiB), the host's limit for a caller's body"
    );
}

#[tokio::test]
async fn in_forwarding_mode_a_body_one_byte_over_100_mib_gets_413_too() {
    let dir = fake_app();
    support::write_file(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler.py"},"enableForwardingHttpRequest":true}}"#,
    );
    let running = support::serve(dir, false, ServerLimits::default()).await;
    let response = chunked_one_byte_over_100_mib(&running).await;
    assert!(
        status_line(&response).starts_with("HTTP/1.1 413"),
        "{response}"
    );
    assert!(
        running
            .console
            .contains("the caller's body is larger than 104857600 bytes (100 MiB): answered 413")
    );
}

/// POSTs a chunked body of 100 MiB and one byte more (and no end) to Sink,
/// and reads the answer until cargo-azfunc closes the connection.
async fn chunked_one_byte_over_100_mib(running: &Serving) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", running.caller.port()))
        .await
        .expect("connect");
    stream
        .write_all(b"POST /api/Sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .expect("head");
    let piece = vec![b'a'; 1 << 20];
    for _ in 0..100 {
        stream
            .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
            .await
            .expect("size");
        stream.write_all(&piece).await.expect("piece");
        stream.write_all(b"\r\n").await.expect("end");
    }
    stream.write_all(b"1\r\na\r\n").await.expect("one more");
    read_until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("answered and closed")
}

/// The status line of the answer to `head` (a request with no body).
async fn answer_to_head(running: &Serving, head: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", running.caller.port()))
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    while !got.windows(2).any(|w| w == b"\r\n") {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buffer[..n]),
            _ => break,
        }
    }
    status_line(&String::from_utf8_lossy(&got)).to_owned()
}

/// `GET /` (cargo-azfunc's own 200) whose header lines (each with its CRLF) take exactly
/// `total` bytes, in one large header after `Host: x`.
fn head_with_headers_of(total: usize) -> String {
    let host = "Host: x\r\n";
    let value = "v".repeat(total - host.len() - "X-Big: \r\n".len());
    let head = format!("GET / HTTP/1.1\r\n{host}X-Big: {value}\r\n\r\n");
    assert_eq!(head.len(), "GET / HTTP/1.1\r\n".len() + total + 2);
    head
}

#[tokio::test]
async fn request_headers_of_exactly_32_kib_pass_one_byte_more_gets_431() {
    let running = serve(ServerLimits::default()).await;
    let at = answer_to_head(&running, &head_with_headers_of(32 * 1024)).await;
    assert!(at.starts_with("HTTP/1.1 200"), "{at}");
    let over = answer_to_head(&running, &head_with_headers_of(32 * 1024 + 1)).await;
    assert!(over.starts_with("HTTP/1.1 431"), "{over}");
    // One header of 100 KB, far over.
    let large = answer_to_head(&running, &head_with_headers_of(100 * 1024)).await;
    assert!(large.starts_with("HTTP/1.1 431"), "{large}");
}

#[tokio::test]
async fn a_hundred_request_headers_pass_one_more_gets_431() {
    let running = serve(ServerLimits::default()).await;
    let head = |count: usize| {
        let mut head = "GET / HTTP/1.1\r\nHost: x\r\n".to_owned();
        for n in 1..count {
            head.push_str(&format!("X-{n}: v\r\n"));
        }
        head + "\r\n"
    };
    let at = answer_to_head(&running, &head(100)).await;
    assert!(at.starts_with("HTTP/1.1 200"), "{at}");
    let over = answer_to_head(&running, &head(101)).await;
    assert!(over.starts_with("HTTP/1.1 431"), "{over}");
}
