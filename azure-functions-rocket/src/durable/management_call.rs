//! One call to the Durable extension's management API: an HTTP/1.1
//! request over plain TCP, or over TLS with the `durable-https` feature
//! (the binding's base URL is `https://` on Azure; see docs/durable.md,
//! "Clients (`durableClient`)").

use std::time::Duration;

use rocket::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use rocket::tokio::net::TcpStream;

use crate::error::Error;

/// How long one management call may take.
const CALL_LIMIT: Duration = Duration::from_secs(30);

/// Replies larger than this are refused: statuses are small.
const REPLY_LIMIT: usize = 16 * 1024 * 1024;

/// A management call's reply: status and body.
pub(super) struct ApiReply {
    pub(super) status: u16,
    pub(super) body: Vec<u8>,
}

/// A URL split for the request line.
struct Target<'a> {
    https: bool,
    authority: &'a str,
    host: &'a str,
    port: u16,
    path: &'a str,
}

/// `url` without its query, which carries the system key: what errors
/// show, since a 503's message reaches the function's caller.
fn shown(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

fn parse_target(url: &str) -> Result<Target<'_>, Error> {
    let (https, rest) = if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else {
        return Err(Error::internal(format_args!(
            "the management API is at {}: not an http:// or https:// URL",
            shown(url)
        )));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) if rest.as_bytes()[at] == b'?' => (&rest[..at], "/"),
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let default_port = if https { 443 } else { 80 };
    // `[::1]:7071`, `host:7071`, `host`.
    let (host, port) = match authority.rfind(':') {
        Some(at) if !authority[at..].contains(']') => {
            let port = authority[at + 1..].parse::<u16>().map_err(|_| {
                Error::internal(format_args!(
                    "the management API is at {}: its port is not a number",
                    shown(url)
                ))
            })?;
            (&authority[..at], port)
        }
        _ => (authority, default_port),
    };
    if host.is_empty() {
        return Err(Error::internal(format_args!(
            "the management API is at {}: the URL names no host",
            shown(url)
        )));
    }
    Ok(Target {
        https,
        authority,
        host: host.trim_start_matches('[').trim_end_matches(']'),
        port,
        path,
    })
}

/// One HTTP/1.1 request to `url`, the connection closed after.
pub(super) async fn call(method: &str, url: &str, body: &[u8]) -> Result<ApiReply, Error> {
    let target = parse_target(url)?;
    if target.https && !cfg!(feature = "durable-https") {
        // The app is built without what its binding needs, which trying
        // again cannot fix: a 500, whatever the network would say.
        return Err(Error::internal(format_args!(
            "the management API is at {}, an https:// URL: build azure-functions-rocket with its `durable-https` feature to call it",
            shown(url)
        )));
    }
    let unreachable = |error: std::io::Error| {
        Error::unavailable(format_args!("{method} {}: {error}", shown(url)))
    };
    let exchange = async {
        let stream = TcpStream::connect((target.host, target.port))
            .await
            .map_err(unreachable)?;
        #[cfg(feature = "durable-https")]
        if target.https {
            let stream = tls::connect(&target, stream, url).await?;
            return exchange(stream, method, &target, body)
                .await
                .map_err(unreachable);
        }
        exchange(stream, method, &target, body)
            .await
            .map_err(unreachable)
    };
    let raw = rocket::tokio::time::timeout(CALL_LIMIT, exchange)
        .await
        .map_err(|_| {
            Error::unavailable(format_args!(
                "{method} {}: no reply in {CALL_LIMIT:?}",
                shown(url)
            ))
        })??;
    parse_reply(&raw).ok_or_else(|| {
        Error::unavailable(format_args!("{method} {}: not an HTTP reply", shown(url)))
    })
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    method: &str,
    target: &Target<'_>,
    body: &[u8],
) -> std::io::Result<Vec<u8>> {
    let head = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        target.path,
        target.authority,
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    let mut reply = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) => break,
            Ok(read) => {
                reply.extend_from_slice(&buffer[..read]);
                if reply.len() > REPLY_LIMIT {
                    return Err(std::io::Error::other(format!(
                        "the reply is over {REPLY_LIMIT} bytes"
                    )));
                }
            }
            // A TLS peer that closes without close_notify: what came is
            // kept, and `parse_reply` checks it is whole.
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(error) => return Err(error),
        }
    }
    Ok(reply)
}

#[cfg(feature = "durable-https")]
mod tls {
    use std::sync::{Arc, OnceLock};

    use rocket::tokio::net::TcpStream;
    use tokio_rustls::TlsConnector;
    use tokio_rustls::client::TlsStream;
    use tokio_rustls::rustls::pki_types::ServerName;
    use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto};

    use super::{Target, shown};
    use crate::error::Error;

    /// The platform's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR` when set,
    /// as rustls-native-certs reads them), loaded once.
    fn config() -> Result<Arc<ClientConfig>, String> {
        static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
        CONFIG
            .get_or_init(|| {
                let found = rustls_native_certs::load_native_certs();
                let mut roots = RootCertStore::empty();
                roots.add_parsable_certificates(found.certs);
                if roots.is_empty() {
                    let errors: Vec<String> =
                        found.errors.iter().map(ToString::to_string).collect();
                    return Err(format!(
                        "no trusted root certificates found (SSL_CERT_FILE, SSL_CERT_DIR or the system's store): {}",
                        errors.join("; ")
                    ));
                }
                // ring: small, and built by cc (musl-gcc for the static
                // build), where aws-lc-rs adds its own C build and about a
                // megabyte. rustls deprecates it for its lack of post-quantum
                // key exchange (an upgrade, not a flaw in what it does).
                #[allow(deprecated)]
                let provider = crypto::ring::default_provider();
                let config = ClientConfig::builder_with_provider(Arc::new(provider))
                        .with_safe_default_protocol_versions()
                        .map_err(|error| error.to_string())?
                        .with_root_certificates(roots)
                        .with_no_client_auth();
                Ok(Arc::new(config))
            })
            .clone()
    }

    pub(super) async fn connect(
        target: &Target<'_>,
        stream: TcpStream,
        url: &str,
    ) -> Result<TlsStream<TcpStream>, Error> {
        let config = config().map_err(|reason| {
            Error::unavailable(format_args!("cannot call {}: {reason}", shown(url)))
        })?;
        let name = ServerName::try_from(target.host.to_owned()).map_err(|error| {
            Error::internal(format_args!(
                "the management API is at {}: {error}",
                shown(url)
            ))
        })?;
        TlsConnector::from(config)
            .connect(name, stream)
            .await
            .map_err(|error| Error::unavailable(format_args!("TLS with {}: {error}", shown(url))))
    }
}

/// The status and body of a whole HTTP/1.1 reply (length-delimited,
/// chunked, or up to the close).
fn parse_reply(raw: &[u8]) -> Option<ApiReply> {
    let end = raw.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.eq_ignore_ascii_case("transfer-encoding")
            && value.trim().eq_ignore_ascii_case("chunked")
        {
            chunked = true;
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let rest = &raw[end + 4..];
    let body = if chunked {
        let mut body = Vec::new();
        let mut at = rest;
        loop {
            let line_end = at.windows(2).position(|window| window == b"\r\n")?;
            let size_text = std::str::from_utf8(&at[..line_end]).ok()?;
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            at = at.get(line_end + 2..)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(at.get(..size)?);
            at = at.get(size + 2..)?;
        }
        body
    } else {
        match length {
            Some(length) => rest.get(..length)?.to_vec(),
            None => rest.to_vec(),
        }
    };
    Some(ApiReply { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        rocket::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn replies_are_read_whatever_their_framing() {
        let reply =
            parse_reply(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}extra").unwrap();
        assert_eq!(
            (reply.status, reply.body.as_slice()),
            (202, b"{}".as_slice())
        );
        let reply = parse_reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!(
            (reply.status, reply.body.as_slice()),
            (200, b"abcde".as_slice())
        );
        let reply = parse_reply(b"HTTP/1.1 404 Not Found\r\n\r\nnope").unwrap();
        assert_eq!(
            (reply.status, reply.body.as_slice()),
            (404, b"nope".as_slice())
        );
        assert!(parse_reply(b"garbage").is_none());
        assert!(parse_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").is_none());
    }

    #[test]
    fn urls_are_split_with_their_default_ports() {
        let target = parse_target("https://app.example/runtime/webhooks?code=k").unwrap();
        assert_eq!(
            (target.https, target.host, target.port, target.path),
            (true, "app.example", 443, "/runtime/webhooks?code=k")
        );
        let target = parse_target("http://[::1]:7071?code=k").unwrap();
        assert_eq!(
            (target.https, target.host, target.port, target.path),
            (false, "::1", 7071, "/")
        );
        assert_eq!(target.authority, "[::1]:7071");
        for bad in ["ftp://h/x", "http://h:port/x", "https:///x"] {
            let error = parse_target(bad).err().unwrap();
            assert_eq!(error.status(), 500, "{bad}");
            assert!(error.message().contains(bad), "{error:?}");
        }
    }

    #[test]
    fn what_cannot_be_reached_is_named_without_the_key() {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url =
            format!("http://127.0.0.1:{port}/runtime/webhooks/durabletask/instances/a?code=secret");
        let error = block_on(call("GET", &url, &[])).err().unwrap();
        assert_eq!(error.status(), 503);
        assert!(
            error.message().starts_with(&format!(
                "GET http://127.0.0.1:{port}/runtime/webhooks/durabletask/instances/a: "
            )),
            "{error:?}"
        );
        assert!(!error.message().contains("secret"), "{error:?}");
    }

    #[cfg(not(feature = "durable-https"))]
    #[test]
    fn an_https_url_without_the_feature_is_an_error_naming_both() {
        // Nothing listens there: the missing feature is told first.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url =
            format!("https://127.0.0.1:{port}/runtime/webhooks/durabletask/orchestrators/x?code=k");
        let error = block_on(call("POST", &url, b"{}")).err().unwrap();
        assert_eq!(error.status(), 500);
        assert!(
            error.message().contains(&format!(
                "https://127.0.0.1:{port}/runtime/webhooks/durabletask/orchestrators/x"
            )),
            "{error:?}"
        );
        assert!(
            error.message().contains("`durable-https` feature"),
            "{error:?}"
        );
        assert!(!error.message().contains("code=k"), "{error:?}");
    }
}
