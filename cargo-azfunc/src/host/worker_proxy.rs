//! HTTP for a worker that serves it itself (the `HttpUri` capability), as
//! the host's DefaultHttpProxyService does it: the caller's request is
//! forwarded to the worker's HTTP server, with the invocation id in
//! `x-ms-invocation-id`, alongside the InvocationRequest (whose RpcHttp is
//! empty); the server's response is the caller's. cargo-azfunc reads it
//! whole, as it reads every response, rather than streaming it.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Map, Value};

use crate::dotnet::base64;
use crate::host::envelope::CallerResponse;
use crate::limits::{REPLY_LIMIT, read_capped};

/// The header the host adds for the worker to match the request with its
/// invocation (ScriptConstants.HttpProxyCorrelationHeader).
pub const INVOCATION_HEADER: &str = "x-ms-invocation-id";

/// Headers that belong to one connection, not to the request.
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "upgrade",
    "host",
    "te",
];

/// The caller's path and query from its full URL.
fn path_and_query(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme.find('/').map_or("/", |i| &after_scheme[i..])
}

/// Forwards the caller's request (the invocation body's `req` object) to
/// `base` (the worker's HttpUri) and reads the response.
pub async fn forward(
    base: &str,
    request: &Map<String, Value>,
    invocation_id: &str,
) -> Result<CallerResponse, String> {
    let text = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let target = format!(
        "{}{}",
        base.trim_end_matches('/'),
        path_and_query(text("Url"))
    );
    let mut builder = hyper::Request::builder()
        .method(text("Method"))
        .uri(&target);
    let mut binary = false;
    if let Some(headers) = request.get("Headers").and_then(Value::as_object) {
        for (name, values) in headers {
            let lower = name.to_ascii_lowercase();
            if HOP_BY_HOP.contains(&lower.as_str()) {
                continue;
            }
            for value in values
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if lower == "content-type" {
                    let media = value
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase();
                    binary = media == "application/octet-stream" || media.starts_with("multipart/");
                }
                builder = builder.header(name.as_str(), value);
            }
        }
    }
    builder = builder.header(INVOCATION_HEADER, invocation_id);
    let body = match request.get("Body").and_then(Value::as_str) {
        Some(body) if binary => base64::decode(body).unwrap_or_else(|| body.as_bytes().to_vec()),
        Some(body) => body.as_bytes().to_vec(),
        None => Vec::new(),
    };
    let request = builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("cannot forward the request to {target}: {e}"))?;
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let response = client.request(request).await.map_err(|e| {
        format!("Failed to proxy request to the worker's HTTP server {target}: {e}")
    })?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = read_capped(response.into_body(), REPLY_LIMIT, None)
        .await
        .map_err(|e| format!("cannot read the worker's HTTP response: {e}"))?;
    Ok(CallerResponse {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A worker's HTTP server that answers with what it got.
    async fn echo_server() -> u16 {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut seen = Vec::new();
            let mut buffer = [0u8; 4096];
            // The head, then the 5-byte body the test sends.
            while !String::from_utf8_lossy(&seen).contains("\r\n\r\n")
                || !seen.ends_with(&[0, 1, 2, 254, 255])
            {
                let read = socket.read(&mut buffer).await.expect("read");
                if read == 0 {
                    break;
                }
                seen.extend_from_slice(&buffer[..read]);
            }
            let head = String::from_utf8_lossy(&seen).into_owned();
            let first = head.lines().next().unwrap_or_default().to_owned();
            let id = head
                .lines()
                .find_map(|l| l.strip_prefix("x-ms-invocation-id: "))
                .unwrap_or_default()
                .to_owned();
            let body = format!("{first}|{id}|{}", seen.ends_with(&[0, 1, 2, 254, 255]));
            let reply = format!(
                "HTTP/1.1 202 Accepted\r\nX-Worker: yes\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(reply.as_bytes()).await.expect("write");
        });
        port
    }

    #[tokio::test]
    async fn the_callers_request_goes_to_the_workers_server_with_the_invocation_id() {
        let port = echo_server().await;
        let request = json!({
            "Url": "http://localhost:7071/api/files/a?x=1",
            "Method": "PUT",
            "Headers": {"Content-Type": ["application/octet-stream"], "Host": ["localhost:7071"]},
            "Body": base64::encode(&[0, 1, 2, 254, 255]),
        });
        let response = forward(
            &format!("http://127.0.0.1:{port}/"),
            request.as_object().expect("object"),
            "inv-1",
        )
        .await
        .expect("forwarded");
        assert_eq!(response.status, 202);
        assert!(
            response
                .headers
                .contains(&("x-worker".to_owned(), "yes".to_owned()))
        );
        assert_eq!(
            String::from_utf8_lossy(&response.body),
            "PUT /api/files/a?x=1 HTTP/1.1|inv-1|true"
        );
    }

    #[tokio::test]
    async fn a_worker_server_that_is_not_there_fails_the_invocation() {
        let port = crate::handler::client::free_port();
        let request = json!({"Url": "http://localhost:7071/api/x", "Method": "GET"});
        let error = forward(
            &format!("http://127.0.0.1:{port}"),
            request.as_object().expect("object"),
            "i",
        )
        .await
        .expect_err("nothing listens");
        assert!(error.starts_with("Failed to proxy request"), "{error}");
    }

    #[test]
    fn the_callers_path_and_query_go_to_the_worker() {
        assert_eq!(
            path_and_query("http://localhost:7071/api/area/disc?radius=2"),
            "/api/area/disc?radius=2"
        );
        assert_eq!(path_and_query("http://localhost:7071"), "/");
    }
}
