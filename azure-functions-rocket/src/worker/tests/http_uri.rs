//! The `HttpUri` road: callers' requests reach the worker's own HTTP
//! server, with the invocation id the host adds, and meet their
//! invocations there, whichever comes first.

use std::time::Duration;

use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::{self, net::TcpStream};
use rocket::{get, routes};
use worker_proto::status_result::Status;
use worker_proto::streaming_message::Content;
use worker_proto::typed_data::Data;
use worker_proto::*;

use super::super::http_uri;
use super::stream::{block_on, echo, handshake_of, response, start_with, status_of};
use crate::registry::{Function, Registry};

#[get("/api/ticks")]
fn ticks() -> &'static str {
    "1 2 3"
}

fn registry() -> Registry {
    Registry::new()
        .with(Function::http("Echo", echo))
        .with(Function::routes("Ticks", routes![ticks]))
}

/// A raw HTTP/1.1 exchange: the status code and the body.
async fn exchange(port: u16, request: String) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the server listens");
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .expect("answered within 10 s")
        .expect("read");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn post(path: &str, id: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nx-ms-invocation-id: {id}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// An invocation of an HTTP function as a proxying host sends it: an
/// empty `RpcHttp`.
fn proxied_call(function_id: &str, id: &str, binding: &str) -> Content {
    Content::InvocationRequest(InvocationRequest {
        invocation_id: id.into(),
        function_id: function_id.into(),
        input_data: vec![ParameterBinding {
            name: binding.into(),
            rpc_data: Some(parameter_binding::RpcData::Data(TypedData {
                data: Some(Data::Http(Box::default())),
            })),
        }],
        ..InvocationRequest::default()
    })
}

#[test]
fn proxied_requests_meet_their_invocations_in_either_order() {
    block_on(async {
        let registry = registry();
        let server = http_uri::serve(&registry, "api", crate::config::figment(0))
            .await
            .expect("the HTTP server starts");
        let uri = server.proxied.uri.clone();
        let port: u16 = uri
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("a port");
        let (mut peer, worker) = start_with(
            registry,
            usize::MAX,
            Some(server.proxied.clone()),
            std::future::pending(),
        )
        .await;
        let loaded = handshake_of(&mut peer, &["Echo", "Ticks"], Some(&uri)).await;
        let trigger = loaded.triggers["Echo"].clone();
        // The caller's request first, as the host forwards before it
        // sends the invocation.
        let caller = tokio::spawn(exchange(port, post("/api/Echo?n=1", "inv-a", "first")));
        tokio::time::sleep(Duration::from_millis(100)).await;
        peer.send(proxied_call(&loaded.ids["Echo"], "inv-a", &trigger))
            .await;
        let (first, _) = response(&mut peer).await;
        assert_eq!(first.invocation_id, "inv-a");
        assert_eq!(status_of(&first), Status::Success as i32);
        // The caller got the response; the host needs no copy of it.
        assert!(first.return_value.is_none());
        assert_eq!(caller.await.expect("no panic"), (200, "1:first".to_owned()));
        // The invocation first.
        peer.send(proxied_call(&loaded.ids["Echo"], "inv-b", &trigger))
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let caller = tokio::spawn(exchange(port, post("/api/Echo?n=2", "inv-b", "second")));
        let (second, _) = response(&mut peer).await;
        assert_eq!(second.invocation_id, "inv-b");
        assert_eq!(
            caller.await.expect("no panic"),
            (200, "2:second".to_owned())
        );
        // A function's error is the caller's answer there.
        let caller = tokio::spawn(exchange(port, post("/api/Echo?fail=1", "inv-c", "")));
        peer.send(proxied_call(&loaded.ids["Echo"], "inv-c", &trigger))
            .await;
        let (third, _) = response(&mut peer).await;
        assert_eq!(status_of(&third), Status::Success as i32);
        let (status, body) = caller.await.expect("no panic");
        assert_eq!(
            (status, body.as_str()),
            (400, r#"{"error":"fail was asked for"}"#)
        );
        // A request the host did not send is refused.
        let (status, _) = exchange(
            port,
            "POST /api/Echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
        )
        .await;
        assert_eq!(status, 400);
        // An app's own route answers the caller; its invocation learns so.
        let caller = tokio::spawn(exchange(
            port,
            "GET /api/ticks HTTP/1.1\r\nHost: localhost\r\nx-ms-invocation-id: inv-t\r\nConnection: close\r\n\r\n".to_owned(),
        ));
        assert_eq!(caller.await.expect("no panic"), (200, "1 2 3".to_owned()));
        peer.send(proxied_call(
            &loaded.ids["Ticks"],
            "inv-t",
            &loaded.triggers["Ticks"],
        ))
        .await;
        let (ticked, _) = response(&mut peer).await;
        assert_eq!(ticked.invocation_id, "inv-t");
        assert_eq!(status_of(&ticked), Status::Success as i32);
        peer.close();
        assert_eq!(
            worker.await.expect("no panic"),
            super::super::session::End::Clean
        );
        server.shutdown.notify();
    });
}
