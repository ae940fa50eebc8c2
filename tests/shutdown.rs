//! Graceful shutdown of the built binary: on SIGTERM it stops accepting,
//! finishes the invocations in flight, and exits 0 within a few seconds.
//!
//! `azure_functions_rocket::run` catches SIGTERM and SIGINT and asks Rocket to shut down;
//! Rocket does the rest with the handler's periods (`grace` = 5 s for
//! requests in flight to finish, then `mercy` = 2 s for connections to
//! close): the process exits about `grace` after the signal if any
//! connection was still open.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cargo_azfunc::handler::client::{Failure, HostClient, READY_TIMEOUT, free_port};
use common::start_binary;
use rocket::tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use rocket::tokio::net::TcpStream;
use rocket::tokio::{self, task::JoinHandle};
use serde_json::{Value, json};

/// The library's default shutdown grace and mercy periods, in seconds.
const SHUTDOWN_GRACE: u32 = 5;
const SHUTDOWN_MERCY: u32 = 2;

/// How long after SIGTERM the handler may take to exit: grace, mercy and
/// a margin.
const EXIT_WITHIN: Duration = Duration::from_secs((SHUTDOWN_GRACE + SHUTDOWN_MERCY + 2) as u64);

fn envelope(radius: u32) -> Vec<u8> {
    let envelope = json!({
        "Data": {"req": {"Method": "POST", "Body": format!(r#"{{"radius": {radius}}}"#)}},
        "Metadata": {},
    });
    serde_json::to_vec(&envelope).unwrap()
}

/// The caller's answer inside a reply body, which must be a whole envelope
/// with the right area.
fn assert_area(envelope: &[u8], radius: u32) {
    let envelope: Value = serde_json::from_slice(envelope).expect("a whole JSON envelope");
    let ret = &envelope["ReturnValue"];
    assert_eq!(ret["statusCode"], 200, "{envelope}");
    let body: Value = serde_json::from_str(ret["body"].as_str().unwrap()).unwrap();
    let r = f64::from(radius);
    assert_eq!(
        body,
        json!({"radius": r, "area": std::f64::consts::PI * r * r})
    );
}

/// An invocation written by hand on one connection, so that the test
/// decides when each part of it leaves.
struct RawInvocation {
    stream: BufReader<TcpStream>,
}

impl RawInvocation {
    async fn connect(port: u16) -> RawInvocation {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream.set_nodelay(true).unwrap();
        RawInvocation {
            stream: BufReader::new(stream),
        }
    }

    async fn send_head(&mut self, id: &str) {
        let head = format!(
            "POST /RustyFunction HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Type: application/json; charset=utf-8\r\n\
             X-Azure-Functions-InvocationId: {id}\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        self.stream
            .get_mut()
            .write_all(head.as_bytes())
            .await
            .unwrap();
    }

    async fn send_chunk(&mut self, bytes: &[u8]) {
        let stream = self.stream.get_mut();
        let chunk = [format!("{:x}\r\n", bytes.len()).as_bytes(), bytes, b"\r\n"].concat();
        stream.write_all(&chunk).await.unwrap();
    }

    async fn finish(&mut self) {
        self.stream.get_mut().write_all(b"0\r\n\r\n").await.unwrap();
    }

    /// Status and body of the response, read to its Content-Length.
    async fn response(&mut self) -> (u16, Vec<u8>) {
        let mut status_line = String::new();
        self.stream.read_line(&mut status_line).await.unwrap();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("a status line: {status_line:?}"));
        let mut length = None;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.expect("a Content-Length")];
        self.stream
            .read_exact(&mut body)
            .await
            .expect("the whole body");
        (status, body)
    }
}

/// What one burst task saw.
#[derive(Debug, Default)]
struct Tally {
    answered: usize,
    not_accepted: usize,
    cut_short: Vec<String>,
}

/// Invokes in a loop, half on the shared pooled client and half on a new
/// connection each time, until told to stop or the handler is gone.
fn burst_task(
    port: u16,
    pooled: HostClient,
    task: u32,
    stop: Arc<AtomicBool>,
) -> JoinHandle<Tally> {
    tokio::spawn(async move {
        let mut tally = Tally::default();
        let mut radius = task * 1000;
        while !stop.load(Ordering::Relaxed) {
            radius += 1;
            let host = if task.is_multiple_of(2) {
                pooled.clone()
            } else {
                HostClient::new(port)
            };
            let id = format!("burst-{task}-{radius}");
            match host
                .try_invoke("RustyFunction", &envelope(radius), &id, 16)
                .await
            {
                Ok(reply) => {
                    assert_eq!(reply.status, 200);
                    assert_area(&reply.body, radius);
                    tally.answered += 1;
                }
                Err(Failure::NoResponse(_)) => {
                    tally.not_accepted += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err(Failure::BrokenBody { status, error }) => {
                    tally.cut_short.push(format!("{id}: {status} {error}"));
                }
                Err(failure @ Failure::TooLarge { .. }) => {
                    tally.cut_short.push(format!("{id}: {failure}"));
                }
            }
        }
        tally
    })
}

#[rocket::async_test]
async fn sigterm_finishes_what_was_accepted_and_exits_0() {
    let port = free_port();
    let mut handler = start_binary(&[("FUNCTIONS_CUSTOMHANDLER_PORT", &port.to_string())]);
    let host = HostClient::new(port);
    host.wait_ready(READY_TIMEOUT).await.expect("ready");

    // An invocation in flight at SIGTERM: its connection has already been
    // accepted (it served one invocation), and half of its body is sent.
    let mut in_flight = RawInvocation::connect(port).await;
    in_flight.send_head("warm-up").await;
    in_flight.send_chunk(&envelope(1)).await;
    in_flight.finish().await;
    let (status, body) = in_flight.response().await;
    assert_eq!(status, 200);
    assert_area(&body, 1);
    let slow = envelope(7);
    let (first_half, second_half) = slow.split_at(slow.len() / 2);
    in_flight.send_head("in-flight").await;
    in_flight.send_chunk(first_half).await;

    let stop = Arc::new(AtomicBool::new(false));
    let burst: Vec<_> = (0..16)
        .map(|task| burst_task(port, host.clone(), task, stop.clone()))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    handler.terminate().expect("SIGTERM");
    let signalled = Instant::now();

    // It stops accepting: new connections are refused soon after.
    loop {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => break,
            _ => {
                assert!(
                    signalled.elapsed() < Duration::from_secs(1),
                    "still accepting 1 s after SIGTERM"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    if let Some(status) = handler.child.try_wait().unwrap() {
        let (stdout, stderr) = handler.output();
        panic!(
            "exited with {status:?} while an invocation was in flight; stdout {stdout:?} stderr {stderr:?}"
        );
    }

    // The invocation in flight is still finished, in full.
    tokio::time::sleep(Duration::from_millis(200)).await;
    in_flight.send_chunk(second_half).await;
    in_flight.finish().await;
    let (status, body) = in_flight.response().await;
    assert_eq!(status, 200);
    assert_area(&body, 7);

    let exit = handler.wait_exit(EXIT_WITHIN.saturating_sub(signalled.elapsed()));
    let took = signalled.elapsed();
    stop.store(true, Ordering::Relaxed);
    let status = exit.unwrap_or_else(|| panic!("still running {took:?} after SIGTERM"));
    assert!(status.success(), "{status:?} after {took:?}");

    let mut total = Tally::default();
    for task in burst {
        let tally = task.await.expect("burst task");
        total.answered += tally.answered;
        total.not_accepted += tally.not_accepted;
        total.cut_short.extend(tally.cut_short);
    }
    assert!(
        total.cut_short.is_empty(),
        "replies cut short: {:?}",
        total.cut_short
    );
    assert!(total.answered > 0, "{total:?}");
    let (stdout, _) = handler.output();
    assert_eq!(stdout, "", "the host would log every stdout line");
    eprintln!("exit 0 {took:?} after SIGTERM; {total:?}");
}

#[rocket::async_test]
async fn ctrl_c_stops_it_cleanly_too() {
    let port = free_port();
    let mut handler = start_binary(&[("FUNCTIONS_CUSTOMHANDLER_PORT", &port.to_string())]);
    let host = HostClient::new(port);
    host.wait_ready(READY_TIMEOUT).await.expect("ready");
    let reply = host
        .invoke("RustyFunction", &envelope(2), "before", 16)
        .await;
    assert_area(&reply.body, 2);

    let status = std::process::Command::new("kill")
        .args(["-INT", &handler.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let status = handler.wait_exit(EXIT_WITHIN).expect("exits after SIGINT");
    assert!(status.success(), "{status:?}");
    assert_eq!(handler.output(), (String::new(), String::new()));
}

/// The host's pooled client keeps its connections open between
/// invocations: once the work in flight is done they are closed at once,
/// and the handler exits well before the grace period is over.
#[rocket::async_test]
async fn with_only_idle_keep_alive_connections_it_exits_within_a_second() {
    let port = free_port();
    let mut handler = start_binary(&[("FUNCTIONS_CUSTOMHANDLER_PORT", &port.to_string())]);
    let host = HostClient::new(port);
    host.wait_ready(READY_TIMEOUT).await.expect("ready");
    // A burst of invocations that take milliseconds, at once, so that the
    // pool opens several connections, all still open afterwards.
    let burst: Vec<_> = (1..=8)
        .map(|radius| {
            let host = host.clone();
            tokio::spawn(async move {
                let reply = host
                    .invoke("RustyFunction", &envelope(radius), "", 16)
                    .await;
                assert_area(&reply.body, radius);
            })
        })
        .collect();
    for task in burst {
        task.await.expect("an invocation");
    }
    // And one raw keep-alive connection that has sent nothing yet.
    let _idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();

    handler.terminate().expect("SIGTERM");
    let signalled = Instant::now();
    let status = handler.wait_exit(Duration::from_secs(1));
    let took = signalled.elapsed();
    let status = status.unwrap_or_else(|| panic!("still running {took:?} after SIGTERM"));
    assert!(status.success(), "{status:?} after {took:?}");
    assert_eq!(handler.output(), (String::new(), String::new()));
    eprintln!("exit 0 {took:?} after SIGTERM");
}
