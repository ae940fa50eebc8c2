//! The host's front door: the listener's accept loop and the app's state
//! every request shares. What a request reaches is in [`super::routing`];
//! the admin endpoint and the Durable API in [`super::admin`]; timers in
//! [`super::timers`].

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::sleep_until;

use super::accept_errors::AcceptErrors;
use super::routing::serve;
use super::timers::{fire_timer, timer_schedules};
use crate::app::{AppFolder, TriggerKind};
use crate::console::Console;
use crate::handler::Handler;
use crate::host::in_flight::{Counted, InFlight};
use crate::host::routes::Router;
use crate::host::tls::FrontDoorTls;
use crate::limits::{REQUEST_HEADER_COUNT, ServerLimits};

/// What every request and timer of one served app shares.
pub(super) struct Shared {
    pub(super) app: AppFolder,
    pub(super) router: Router,
    pub(super) handler: Arc<Handler>,
    pub(super) console: Console,
    pub(super) durable: Arc<crate::durable::Durable>,
    pub(super) limits: ServerLimits,
    /// Requests being answered, for a stop that lets them finish.
    pub(super) in_flight: InFlight,
    /// `http`, or `https` with TLS: the scheme of the URLs the app is told.
    pub(super) scheme: &'static str,
}

/// A running front door; stops serving when dropped.
pub struct Server {
    port: u16,
    in_flight: InFlight,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Serves `app` on `listener` through `handler`; with `timers`, fires
    /// every timer function on its schedule (a timer whose schedule does
    /// not parse is reported and left out). Fails on a route the app cannot
    /// have.
    pub fn start(
        app: AppFolder,
        handler: Arc<Handler>,
        listener: TcpListener,
        console: Console,
        timers: bool,
    ) -> Result<Server, String> {
        Server::start_with(
            app,
            handler,
            listener,
            console,
            timers,
            ServerLimits::default(),
        )
    }

    /// [`Server::start`] with other limits than the defaults.
    pub fn start_with(
        app: AppFolder,
        handler: Arc<Handler>,
        listener: TcpListener,
        console: Console,
        timers: bool,
        limits: ServerLimits,
    ) -> Result<Server, String> {
        Server::start_tls(app, handler, listener, console, timers, limits, None)
    }

    /// [`Server::start_with`], over TLS with `tls`.
    pub fn start_tls(
        app: AppFolder,
        handler: Arc<Handler>,
        listener: TcpListener,
        console: Console,
        timers: bool,
        limits: ServerLimits,
        tls: Option<FrontDoorTls>,
    ) -> Result<Server, String> {
        let scheme = if tls.is_some() { "https" } else { "http" };
        Server::start_full(app, handler, listener, console, timers, limits, tls, scheme)
    }

    /// [`Server::start`] behind a public port that serves TLS itself (`start
    /// --watch --useHttps`): plain HTTP on `listener`, while the URLs it
    /// hands out (the request's, the durable management API's) say https.
    pub fn start_behind_tls(
        app: AppFolder,
        handler: Arc<Handler>,
        listener: TcpListener,
        console: Console,
        timers: bool,
    ) -> Result<Server, String> {
        let limits = ServerLimits::default();
        Server::start_full(
            app, handler, listener, console, timers, limits, None, "https",
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn start_full(
        app: AppFolder,
        handler: Arc<Handler>,
        listener: TcpListener,
        console: Console,
        timers: bool,
        limits: ServerLimits,
        tls: Option<FrontDoorTls>,
        scheme: &'static str,
    ) -> Result<Server, String> {
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .map_err(|e| format!("cannot read the listening address: {e}"))?;
        let router = Router::new(&app)?;
        let schedules = if timers {
            timer_schedules(&app, &console)
        } else {
            Vec::new()
        };
        let durable = Arc::new(crate::durable::Durable::new(
            app.clone(),
            handler.clone(),
            console.clone(),
        ));
        let shared = Arc::new(Shared {
            app,
            router,
            handler,
            console,
            durable,
            limits,
            in_flight: InFlight::default(),
            scheme,
        });
        let (stop, stop_rx) = oneshot::channel();
        let mut tasks = vec![tokio::spawn(accept_loop(
            listener,
            shared.clone(),
            stop_rx,
            tls,
        ))];
        for (function, schedule) in schedules {
            tasks.push(tokio::spawn(fire_timer(shared.clone(), function, schedule)));
        }
        Ok(Server {
            port,
            in_flight: shared.in_flight.clone(),
            stop: Some(stop),
            tasks,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops accepting connections and firing timers.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    /// Stops accepting connections and firing timers, then waits until the
    /// requests being answered have been answered in full, at most `limit`;
    /// whether they all were.
    pub async fn drain(mut self, limit: Duration) -> bool {
        self.stop_now();
        self.in_flight.drained(limit).await
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// The public URLs of the app's functions, for the start-up banner.
pub fn describe_functions(app: &AppFolder, port: u16, scheme: &str) -> Vec<String> {
    let router = Router::new(app).ok();
    app.functions
        .iter()
        .map(|function| {
            let route = router
                .as_ref()
                .and_then(|r| r.routes.iter().find(|route| route.function == function.name).map(|route| (r, route)));
            match (function.trigger_kind(), route) {
                (TriggerKind::Http, Some((router, route))) => {
                    let methods = if route.methods.is_empty() {
                        "all methods".to_owned()
                    } else {
                        route.methods.join(",").to_ascii_uppercase()
                    };
                    format!(
                        "{}: [{methods}] {scheme}://localhost:{port}{}",
                        function.name,
                        router.public_path(route)
                    )
                }
                _ => format!(
                    "{}: {} (POST {scheme}://localhost:{port}/admin/functions/{} with {{\"input\": \"...\"}})",
                    function.name,
                    function.trigger().kind,
                    function.name
                ),
            }
        })
        .collect()
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
    tls: Option<FrontDoorTls>,
) {
    let mut errors = AcceptErrors::default();
    loop {
        let over_at = errors.over_at();
        let accepted = tokio::select! {
            // A failed accept waiting when the episode's end is due too
            // keeps the episode going.
            biased;
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
            _ = sleep_until(over_at.unwrap_or_else(std::time::Instant::now).into()), if over_at.is_some() => {
                shared.console.info(errors.over());
                continue;
            }
        };
        let (stream, peer) = match accepted {
            Ok(connection) => connection,
            Err(e) => {
                let (said, pause) = errors.failed(&e);
                if let Some(said) = said {
                    shared.console.error(said);
                }
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = &mut stop => return,
                }
                continue;
            }
        };
        errors.accepted(std::time::Instant::now());
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(shared, stream, peer).await,
                Some(tls) => {
                    // The handshake is bounded as a request head is.
                    let handshake = tls.acceptor.accept(stream);
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(shared.limits.head_timeout, handshake).await
                    {
                        serve_connection(shared, stream, peer).await;
                    }
                }
            }
        });
    }
}

async fn serve_connection<S>(shared: Arc<Shared>, stream: S, peer: std::net::SocketAddr)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let head_timeout = shared.limits.head_timeout;
    let service = service_fn(move |request| {
        let shared = shared.clone();
        async move {
            let entered = shared.in_flight.enter();
            let response = serve(&shared, request, peer).await;
            Ok::<_, Infallible>(response.map(|body| Counted::new(body, entered)))
        }
    });
    // The head timeout covers an idle keep-alive connection too:
    // hyper starts it whenever it waits for a request head.
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout)
        // More header lines get 431 from hyper, as from Kestrel.
        .max_headers(REQUEST_HEADER_COUNT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
