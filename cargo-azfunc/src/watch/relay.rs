//! The public port of `start --watch`: each request is passed to the build
//! that is current when it arrives, and holds that build up until its
//! response has been sent in full. So a swap cuts no request in flight, a
//! request that comes while nothing is built yet waits for the first good
//! build, and the old build is stopped only once it has drained.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::console::Console;
use crate::host::accept_errors::AcceptErrors;
use crate::host::in_flight::{Counted, InFlight};
use crate::host::tls::FrontDoorTls;
use crate::limits::HEAD_TIMEOUT;

/// One build's front door, as requests are relayed to it.
#[derive(Clone, Debug)]
pub struct Target {
    port: u16,
    in_flight: InFlight,
}

impl Target {
    pub fn new(port: u16) -> Target {
        Target {
            port,
            in_flight: InFlight::default(),
        }
    }

    /// How many requests to it are still being answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.count()
    }

    /// Waits until no request to it is being answered, at most `limit`;
    /// whether it drained.
    pub async fn drained(&self, limit: Duration) -> bool {
        self.in_flight.drained(limit).await
    }
}

type Relayed = BoxBody<Bytes, hyper::Error>;

/// Serves `listener`, each request relayed to the build `target` names
/// when it arrives (waiting while it names none); over TLS with `tls`,
/// which stays the same across every build.
pub async fn serve(
    listener: TcpListener,
    target: watch::Receiver<Option<Target>>,
    console: Console,
    tls: Option<FrontDoorTls>,
) {
    let client: Client<HttpConnector, Incoming> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut errors = AcceptErrors::default();
    loop {
        let over_at = errors.over_at();
        let accepted = tokio::select! {
            biased;
            accepted = listener.accept() => accepted,
            _ = tokio::time::sleep_until(over_at.unwrap_or_else(std::time::Instant::now).into()), if over_at.is_some() => {
                console.info(errors.over());
                continue;
            }
        };
        let (stream, _) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                let (said, pause) = errors.failed(&e);
                if let Some(said) = said {
                    console.error(said);
                }
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        errors.accepted(std::time::Instant::now());
        let _ = stream.set_nodelay(true);
        let (client, target, console) = (client.clone(), target.clone(), console.clone());
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, client, target, console).await,
                Some(tls) => {
                    // The handshake is bounded as a request head is.
                    let handshake = tls.acceptor.accept(stream);
                    if let Ok(Ok(stream)) = tokio::time::timeout(HEAD_TIMEOUT, handshake).await {
                        serve_connection(stream, client, target, console).await;
                    }
                }
            }
        });
    }
}

async fn serve_connection<S>(
    stream: S,
    client: Client<HttpConnector, Incoming>,
    target: watch::Receiver<Option<Target>>,
    console: Console,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let (client, target, console) = (client.clone(), target.clone(), console.clone());
        async move { Ok::<_, Infallible>(relay(&client, target, &console, request).await) }
    });
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn relay(
    client: &Client<HttpConnector, Incoming>,
    mut target: watch::Receiver<Option<Target>>,
    console: &Console,
    request: Request<Incoming>,
) -> Response<Relayed> {
    // Counted first, then checked still current: a swap between reading
    // the target and counting the request must not let the old build stop
    // under it.
    let (current, in_flight) = loop {
        let Ok(current) = target.wait_for(Option::is_some).await.map(|t| t.clone()) else {
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "cargo-azfunc is stopping\n",
            );
        };
        let Some(current) = current else {
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "cargo-azfunc is stopping\n",
            );
        };
        let entered = current.in_flight.enter();
        if target.borrow().as_ref().map(|t| t.port) == Some(current.port) {
            break (current, entered);
        }
    };
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = match format!("http://127.0.0.1:{}{path}", current.port).parse() {
        Ok(uri) => uri,
        Err(e) => {
            return answer(
                StatusCode::BAD_REQUEST,
                format!("a bad request target: {e}\n"),
            );
        }
    };
    match client.request(Request::from_parts(parts, body)).await {
        Ok(response) => response.map(|body| Counted::new(body, in_flight).boxed()),
        Err(e) => {
            console.error(format!(
                "[watch] the build's front door did not answer: {e}"
            ));
            answer(
                StatusCode::BAD_GATEWAY,
                format!("the build's front door did not answer: {e}\n"),
            )
        }
    }
}

fn answer(status: StatusCode, text: impl Into<String>) -> Response<Relayed> {
    let body = http_body_util::Full::new(Bytes::from(text.into()))
        .map_err(|never| match never {})
        .boxed();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::client::HostClient;
    use std::time::Instant;

    /// A build's front door that answers `name`, after a second on `/slow`.
    async fn backend(name: &'static str) -> u16 {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| async move {
                        if request.uri().path() == "/slow" {
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                        Ok::<_, Infallible>(Response::new(http_body_util::Full::new(Bytes::from(
                            name,
                        ))))
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn a_swap_cuts_no_request_and_the_old_build_drains() {
        let (old, new) = (
            Target::new(backend("old").await),
            Target::new(backend("new").await),
        );
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let caller = HostClient::new(listener.local_addr().expect("address").port());
        let (target_tx, target_rx) = watch::channel(None);
        let relay = tokio::spawn(serve(listener, target_rx, Console::quiet(), None));

        // Nothing built yet: the request waits for the first build.
        let early = {
            let caller = caller.clone();
            tokio::spawn(async move { caller.request("GET", "/", b"").await })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!early.is_finished());
        let _ = target_tx.send(Some(old.clone()));
        assert_eq!(early.await.expect("answered").body, b"old");

        let slow = {
            let caller = caller.clone();
            tokio::spawn(async move { caller.request("GET", "/slow", b"").await })
        };
        let started = Instant::now();
        while old.in_flight() == 0 && started.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(old.in_flight(), 1);
        let _ = target_tx.send(Some(new.clone()));
        assert_eq!(caller.request("GET", "/", b"").await.body, b"new");
        assert!(!old.drained(Duration::from_millis(100)).await);
        let slow = slow.await.expect("answered");
        assert_eq!((slow.status, slow.body.as_slice()), (200, &b"old"[..]));
        assert!(old.drained(Duration::from_secs(1)).await);
        assert_eq!(new.in_flight(), 0);
        relay.abort();
    }
}
