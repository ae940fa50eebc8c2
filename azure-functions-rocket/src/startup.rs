//! Building the Rocket application and running it as the host expects.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use rocket::figment::Figment;
use rocket::shield::Shield;
use rocket::tokio;
use rocket::{Build, Config, Rocket, Shutdown};

use rocket::fairing::AdHoc;

use crate::config::{Hardening, Settings};
use crate::registry::Registry;
use crate::routes::Invocations;
use crate::{bindings, config, routes};

/// The app serving `registry` as a Rocket instance, configured as under
/// the host but on a port the OS picks: for tests with Rocket's local
/// client, or to serve it in a process of your own. [`run`] serves the
/// same app.
///
/// ```
/// use azure_functions_rocket::rocket::local::blocking::Client;
/// use azure_functions_rocket::{Error, Function, HttpRequest, HttpResponse, Registry};
///
/// async fn hello(_: HttpRequest) -> Result<HttpResponse, Error> {
///     Ok(HttpResponse::new(200, "hi"))
/// }
///
/// let registry = Registry::new().with(Function::http("Hello", "req", hello));
/// let client = Client::untracked(azure_functions_rocket::app(registry)).unwrap();
/// let envelope: serde_json::Value = client.post("/Hello").body("{}").dispatch().into_json().unwrap();
/// assert_eq!(envelope["ReturnValue"]["body"], "hi");
/// ```
pub fn app(registry: Registry) -> Rocket<Build> {
    let figment = config::figment(0);
    let hardening = config::Hardening::from_figment(&figment).unwrap_or_default();
    build(figment, registry, &hardening)
}

/// [`app`] with the handler's own settings already read: each read of
/// a figment re-merges all of it (start-up instructions, `bench/profile`).
fn build(figment: Figment, registry: Registry, hardening: &Hardening) -> Rocket<Build> {
    rocket::custom(figment)
        .manage(registry)
        .manage(routes::Invocations::new(hardening))
        .manage(connections::Peers::default())
        .attach(connections::Peers::fairing())
        // Shield's browser-hardening headers mean nothing to the Functions
        // host, the only client, and cost work on every response: an empty
        // Shield replaces the default one.
        .attach(Shield::new())
        .mount("/", routes::routes())
        .register("/", routes::catchers())
}

/// Set to `1`, [`run`] checks the registry against the function folders
/// and exits, 0 when they agree, instead of serving.
pub const CHECK_VARIABLE: &str = "AZURE_FUNCTIONS_ROCKET_CHECK";

/// The handler's `main`: checks `registry` against the app's function
/// folders, configures, starts the async runtime and serves `registry`
/// until SIGTERM or Ctrl-C (exit 0).
///
/// Any failure to start exits non-zero with one stderr line per reason,
/// each starting with the binary's name: the host never restarts a handler
/// that exited with 0, and shows its stderr as errors. Under the host the
/// port comes from `FUNCTIONS_CUSTOMHANDLER_PORT`; run by hand, from
/// `ROCKET_PORT`, else 8080.
///
/// The app's folder is `FUNCTIONS_APP_ROOT_PATH` (set by the host), else
/// the working directory if its host.json starts this binary. Every
/// function folder there must be registered, and every registered
/// function must have a folder whose `function.json` has its trigger (type
/// and name), its declared `out` bindings and, for HTTP, an `http`
/// `$return`. With [`CHECK_VARIABLE`] set to `1`, that is all it does.
///
/// ```no_run
/// use azure_functions_rocket::{Function, Registry, TimerInfo};
///
/// async fn tick(_: TimerInfo) -> azure_functions_rocket::Result<()> {
///     azure_functions_rocket::log::info("tick");
///     Ok(())
/// }
///
/// fn main() -> std::process::ExitCode {
///     azure_functions_rocket::run(Registry::new().with(Function::timer("Tick", "timer", tick)))
/// }
/// ```
pub fn run(registry: Registry) -> ExitCode {
    no_transparent_huge_pages();
    let check_only = std::env::var_os(CHECK_VARIABLE).is_some_and(|value| value == "1");
    match bindings::app_root() {
        Some(root) => {
            let mismatches = registry.mismatches(&root);
            for mismatch in &mismatches {
                eprintln!("{}: {mismatch}", app_name());
            }
            if !mismatches.is_empty() {
                return fail(format_args!(
                    "not started: {} disagreement(s) between the registry and the function folders in {}",
                    mismatches.len(),
                    root.display()
                ));
            }
            if check_only {
                let count = registry.iter().count();
                println!(
                    "{}: {count} function(s) match their folders in {}",
                    app_name(),
                    root.display()
                );
            }
        }
        None => eprintln!(
            "{}: warning: not in this app's folder (no FUNCTIONS_APP_ROOT_PATH, and no host.json here that starts this binary): function folders not checked",
            app_name()
        ),
    }
    if check_only {
        return ExitCode::SUCCESS;
    }
    let host_port = match config::host_port(|name| std::env::var_os(name)) {
        Ok(port) => port,
        Err(error) => return fail(format_args!("{error}")),
    };
    let Settings {
        figment,
        rocket: settings,
        hardening,
    } = match Settings::load(host_port) {
        Ok(settings) => settings,
        Err(error) => return fail(format_args!("invalid configuration: {error}")),
    };
    let runtime = match runtime(&settings) {
        Ok(runtime) => runtime,
        Err(error) => return fail(format_args!("cannot start the async runtime: {error}")),
    };
    let code = runtime.block_on(serve(figment, registry, hardening, host_port.is_none()));
    if settings.shutdown.force {
        runtime.shutdown_timeout(Duration::from_millis(500));
    }
    code
}

/// Rocket's own runtime, except that one worker gets a current-thread
/// runtime: with a single CPU (a pinned or small instance) there is nothing
/// to steal work from, and the scheduler's extra worker thread only costs
/// memory (peak RSS 8.6 MiB instead of 10.8 MiB under `bench/run`).
fn runtime(settings: &Config) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = if settings.workers <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(settings.workers);
        builder
    };
    builder
        .thread_name(app_name())
        .max_blocking_threads(settings.max_blocking.max(1))
        .enable_all()
        .build()
}

/// Serves `registry` as configured on the current runtime, saying where it
/// listens when `by_hand`: under the host, every stdout line would become a
/// log record.
async fn serve(
    figment: Figment,
    registry: Registry,
    hardening: Hardening,
    by_hand: bool,
) -> ExitCode {
    let mut app = build(figment, registry, &hardening);
    if by_hand {
        app = app.attach(AdHoc::on_liftoff("say where", |rocket| {
            Box::pin(async move {
                let config = rocket.config();
                println!(
                    "{} listening on http://{}:{}/ (no FUNCTIONS_CUSTOMHANDLER_PORT: run by hand, not under the Functions host)",
                    app_name(),
                    config.address,
                    config.port
                );
            })
        }));
    }
    // Rocket 0.5 has no idle or header timeout and no connection cap:
    // `connections` makes up for it from outside the server.
    #[cfg(target_os = "linux")]
    {
        let hardening = connections::fit_fd_limit(hardening);
        app = app.attach(AdHoc::on_liftoff("watch connections", move |rocket| {
            Box::pin(async move { connections::watch(rocket, hardening) })
        }));
    }
    let rocket = match app.ignite().await {
        Ok(rocket) => rocket,
        Err(error) => return fail(format_args!("invalid configuration: {error}")),
    };
    let address = format!("{}:{}", rocket.config().address, rocket.config().port);
    let grace = rocket.config().shutdown.grace;
    let shutdown = rocket.shutdown();
    let invocations = rocket.state::<Invocations>().cloned();
    let signalled = match stop_signal() {
        Ok(signalled) => signalled,
        Err(error) => return fail(format_args!("cannot handle SIGTERM and SIGINT: {error}")),
    };
    let stopping = {
        let invocations = invocations.clone();
        move || {
            if let Some(invocations) = &invocations {
                invocations.stop();
            }
        }
    };
    match until_signalled(rocket.launch(), signalled, shutdown, stopping).await {
        Ok(_) => match invocations.map(|i| i.unfinished()) {
            // The host hears of an invocation cut short only as a broken
            // connection: say so, and exit non-zero so that it restarts us.
            Some((dropped, running)) if dropped + running > 0 => fail(format_args!(
                "stopped without finishing every request: {} invocation(s) cut off by the shutdown ({} s grace)",
                dropped + running,
                grace
            )),
            _ => ExitCode::SUCCESS,
        },
        Err(error) => match error.kind() {
            // Requests still running after the grace and mercy periods.
            rocket::error::ErrorKind::Shutdown(..) => fail(format_args!(
                "stopped without finishing every request: {error}"
            )),
            _ => fail(format_args!("cannot serve on {address}: {error}")),
        },
    }
}

/// Resolves on the first SIGTERM (the platform stopping an instance) or
/// SIGINT (Ctrl-C); later ones are ignored, as the shutdown is under way.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
    use rocket::tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// Resolves on Ctrl-C, the only stop signal outside Unix.
#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Polls `launch` and, once `signalled`, asks Rocket to shut down
/// gracefully, from this task and between two polls of `launch`.
///
/// Rocket's own signal handling (turned off in [`config::figment`]) trips
/// the shutdown from another worker thread. Rocket 0.5 polls its shutdown
/// wire and then its accept loop, which stops on the same wire: a trip that
/// lands between the two makes it take the loop's end for a normal stop,
/// return "shutdown failed" at once (exit 1) and drop the invocations in
/// flight. Under connection churn, tests/shutdown.rs failed that way in
/// about one run in four.
async fn until_signalled<T>(
    launch: impl Future<Output = T>,
    signalled: impl Future<Output = ()>,
    shutdown: Shutdown,
    stopping: impl Fn(),
) -> T {
    tokio::pin!(launch, signalled);
    let on_stop = stopping;
    let mut stopping = false;
    loop {
        tokio::select! {
            biased;
            output = &mut launch => return output,
            _ = &mut signalled, if !stopping => {
                stopping = true;
                on_stop();
                shutdown.clone().notify();
            }
        }
    }
}

fn fail(message: std::fmt::Arguments<'_>) -> ExitCode {
    eprintln!("{}: {message}", app_name());
    ExitCode::FAILURE
}

/// The app's name in its messages: its binary's file name, as the host's
/// log and a terminal know it.
fn app_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(std::path::Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "handler".to_owned())
}

/// Turns transparent huge pages off for this process. mimalloc asks for
/// them (`MADV_HUGEPAGE`) on its arenas, so every touch faulted in 2 MiB:
/// 10 MiB idle instead of 5, and a 32 MiB envelope held 48 MiB of it,
/// 14 MiB of it in the first millisecond (`scripts/memory`). Called before
/// the runtime and Rocket allocate; the handler's heap is too small for
/// huge pages to save anything.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Connection limits Rocket 0.5 does not have. Its server (hyper 1, as
/// Rocket 0.5.2 builds it) sets no header-read timeout, has no idle
/// timeout for keep-alive connections (`keep_alive` only turns keep-alive
/// on or off) and no connection cap; the accept loop and the connections
/// are private to Rocket, and at the file descriptor limit it retries
/// `accept` every 250 ms, logging only through Rocket's log (off here).
///
/// So the handler watches its connections from outside: Rocket's request
/// fairings say which peer has a request in progress, and once a second
/// the handler's own sockets (`/proc/self/fd`, Linux) are read with
/// `TCP_INFO`. A connection with no request in progress is shut down
/// (`shutdown(2)`, so that Rocket's own task sees the end and closes it)
/// when it stays so for `idle_timeout`, or for `header_timeout` after
/// bytes of a next request head arrived; connections over
/// `max_connections`, newest first and never one with a request in
/// progress, are shut down with a line on stderr.
mod connections {
    use std::collections::HashMap;
    use std::hash::{BuildHasherDefault, Hasher};
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex, PoisonError};

    use rocket::fairing::{Fairing, Info, Kind};
    use rocket::{Data, Request, Response};

    /// Requests in progress and requests seen, by peer.
    #[derive(Default, Clone)]
    pub struct Peers(Arc<Mutex<PeerMap>>);

    type PeerMap = HashMap<SocketAddr, Peer, BuildHasherDefault<PeerHasher>>;

    /// The map is looked up twice a request. Its keys are the addresses of
    /// the host's own connections on loopback, and it never holds more than
    /// `max_connections` of them: keys chosen to collide would cost little,
    /// so SipHash's protection buys nothing there and costs 0.6k
    /// instructions a request (`bench/profile`).
    #[derive(Default)]
    pub struct PeerHasher(u64);

    impl Hasher for PeerHasher {
        fn finish(&self) -> u64 {
            self.0
        }

        fn write(&mut self, bytes: &[u8]) {
            for &byte in bytes {
                self.write_u64(u64::from(byte));
            }
        }

        fn write_u16(&mut self, value: u16) {
            self.write_u64(u64::from(value));
        }

        fn write_u32(&mut self, value: u32) {
            self.write_u64(u64::from(value));
        }

        fn write_u64(&mut self, value: u64) {
            // FxHash's step: rotate, mix in, multiply by an odd constant.
            self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }

        fn write_usize(&mut self, value: usize) {
            self.write_u64(value as u64);
        }
    }

    #[derive(Default, Clone, Copy)]
    struct Peer {
        active: u32,
        requests: u64,
    }

    impl Peers {
        pub fn fairing() -> PeersFairing {
            PeersFairing
        }

        fn update(&self, req: &Request<'_>, change: impl FnOnce(&mut Peer)) {
            let Some(peer) = req.remote() else {
                return;
            };
            let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            // Entries of closed connections are dropped by the watcher.
            change(map.entry(peer).or_default());
        }

        #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
        fn snapshot(&self) -> PeerMap {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }

        #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
        fn retain(&self, open: impl Fn(&SocketAddr) -> bool) {
            let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            map.retain(|peer, state| state.active > 0 || open(peer));
        }
    }

    pub struct PeersFairing;

    #[rocket::async_trait]
    impl Fairing for PeersFairing {
        fn info(&self) -> Info {
            Info {
                name: "requests in progress by peer",
                kind: Kind::Request | Kind::Response,
            }
        }

        async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
            if let Some(peers) = req.rocket().state::<Peers>() {
                peers.update(req, |peer| {
                    peer.active += 1;
                    peer.requests += 1;
                });
            }
        }

        async fn on_response<'r>(&self, req: &'r Request<'_>, _: &mut Response<'r>) {
            if let Some(peers) = req.rocket().state::<Peers>() {
                peers.update(req, |peer| peer.active = peer.active.saturating_sub(1));
            }
        }
    }

    #[cfg(target_os = "linux")]
    pub use linux::{fit_fd_limit, watch};

    #[cfg(target_os = "linux")]
    mod linux {
        use std::collections::HashMap;
        use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
        use std::time::{Duration, Instant};

        use rocket::tokio;
        use rocket::{Orbit, Rocket};

        use super::{Peer, Peers};
        use crate::config::Hardening;

        /// Descriptors kept for everything but connections.
        const RESERVED_FDS: u64 = 64;

        /// Raises the soft file descriptor limit to the hard one, and
        /// lowers `max_connections` to fit in it: at the limit Rocket
        /// would stop accepting without a word.
        pub fn fit_fd_limit(mut hardening: Hardening) -> Hardening {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit/setrlimit only read and write `limit`.
            unsafe {
                if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                    return hardening;
                }
                if limit.rlim_cur < limit.rlim_max {
                    let raised = libc::rlimit {
                        rlim_cur: limit.rlim_max,
                        rlim_max: limit.rlim_max,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                        limit = raised;
                    }
                }
            }
            let room = limit.rlim_cur.saturating_sub(RESERVED_FDS).max(1);
            if (hardening.max_connections as u64) > room {
                eprintln!(
                    "{}: warn: max_connections lowered from {} to {room} to fit the file descriptor limit ({})",
                    env!("CARGO_PKG_NAME"),
                    hardening.max_connections,
                    limit.rlim_cur
                );
                hardening.max_connections = room as usize;
            }
            hardening
        }

        /// Starts the watcher of `rocket`'s connections; it ends with the
        /// server.
        pub fn watch(rocket: &Rocket<Orbit>, hardening: Hardening) {
            let Some(peers) = rocket.state::<Peers>().cloned() else {
                return;
            };
            let port = rocket.config().port;
            let shutdown = rocket.shutdown();
            tokio::spawn(async move {
                let mut watcher = Watcher {
                    port,
                    hardening,
                    peers,
                    seen: HashMap::new(),
                };
                tokio::pin!(shutdown);
                loop {
                    tokio::select! {
                        _ = &mut shutdown => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => watcher.scan(),
                    }
                }
            });
        }

        /// What the watcher knows of one connection.
        struct Seen {
            first: Instant,
            /// Since when no request has been in progress, and the bytes
            /// received by then.
            quiet_since: Instant,
            bytes_at_quiet: u64,
            requests: u64,
        }

        struct Watcher {
            port: u16,
            hardening: Hardening,
            peers: Peers,
            seen: HashMap<SocketAddr, Seen>,
        }

        /// One of the handler's connections, as found in `/proc/self/fd`.
        struct Socket {
            fd: i32,
            peer: SocketAddr,
            bytes_received: u64,
        }

        impl Watcher {
            fn scan(&mut self) {
                let now = Instant::now();
                let sockets = connections(self.port);
                let peers = self.peers.snapshot();
                let idle = Duration::from_secs(self.hardening.idle_timeout);
                let header = Duration::from_secs(self.hardening.header_timeout);
                let mut timed_out = Vec::new();
                let mut stalled_heads = 0;
                for socket in &sockets {
                    let state = peers.get(&socket.peer).copied().unwrap_or(Peer::default());
                    let seen = self.seen.entry(socket.peer).or_insert(Seen {
                        first: now,
                        quiet_since: now,
                        // Bytes on a connection that has had no request yet
                        // are the start of a request head.
                        bytes_at_quiet: if state.requests == 0 {
                            0
                        } else {
                            socket.bytes_received
                        },
                        requests: state.requests,
                    });
                    if state.active > 0 || state.requests != seen.requests {
                        seen.quiet_since = now;
                        seen.bytes_at_quiet = socket.bytes_received;
                        seen.requests = state.requests;
                        continue;
                    }
                    let quiet = now - seen.quiet_since;
                    if socket.bytes_received > seen.bytes_at_quiet && quiet >= header {
                        stalled_heads += 1;
                        timed_out.push(socket);
                    } else if quiet >= idle {
                        timed_out.push(socket);
                    }
                }
                let mut open = sockets.len() - timed_out.len();
                let mut surplus = Vec::new();
                if open > self.hardening.max_connections {
                    let mut candidates: Vec<&Socket> = sockets
                        .iter()
                        .filter(|s| !timed_out.iter().any(|t| t.fd == s.fd))
                        .filter(|s| peers.get(&s.peer).is_none_or(|p| p.active == 0))
                        .collect();
                    // Newest first: the host's pooled connections are old.
                    candidates.sort_by_key(|s| {
                        std::cmp::Reverse(self.seen.get(&s.peer).map(|x| x.first))
                    });
                    for socket in candidates {
                        if open <= self.hardening.max_connections {
                            break;
                        }
                        surplus.push(socket);
                        open -= 1;
                    }
                }
                for socket in timed_out.iter().chain(&surplus) {
                    close(socket);
                }
                if stalled_heads > 0 {
                    eprintln!(
                        "{}: warn: closed {stalled_heads} connection(s) whose request head did not arrive within {} s (header_timeout)",
                        env!("CARGO_PKG_NAME"),
                        self.hardening.header_timeout
                    );
                }
                if !surplus.is_empty() {
                    eprintln!(
                        "{}: warn: refused {} connection(s) over the cap of {} open connections (max_connections)",
                        env!("CARGO_PKG_NAME"),
                        surplus.len(),
                        self.hardening.max_connections
                    );
                }
                crate::allocator::give_back_memory();
                let alive: Vec<SocketAddr> = sockets.iter().map(|s| s.peer).collect();
                self.seen.retain(|peer, _| alive.contains(peer));
                self.peers.retain(|peer| alive.contains(peer));
            }
        }

        /// The open TCP connections accepted on `port`.
        fn connections(port: u16) -> Vec<Socket> {
            let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
                return Vec::new();
            };
            entries
                .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
                .filter_map(|fd| socket(fd, port))
                .collect()
        }

        fn socket(fd: i32, port: u16) -> Option<Socket> {
            let local = address(fd, libc::getsockname)?;
            if local.port() != port {
                return None;
            }
            // A listener has no peer.
            let peer = address(fd, libc::getpeername)?;
            // SAFETY: `info` is a plain C struct the kernel fills in, and
            // `len` says how much room it has.
            let info = unsafe {
                let mut info: libc::tcp_info = std::mem::zeroed();
                let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
                let got = libc::getsockopt(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_INFO,
                    (&mut info as *mut libc::tcp_info).cast(),
                    &mut len,
                );
                (got == 0).then_some(info)?
            };
            Some(Socket {
                fd,
                peer,
                bytes_received: info.tcpi_bytes_received,
            })
        }

        type NameFn = unsafe extern "C" fn(i32, *mut libc::sockaddr, *mut libc::socklen_t) -> i32;

        fn address(fd: i32, name: NameFn) -> Option<SocketAddr> {
            // SAFETY: the kernel writes at most `len` bytes into `storage`,
            // and the family says which layout it wrote.
            unsafe {
                let mut storage: libc::sockaddr_storage = std::mem::zeroed();
                let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                if name(
                    fd,
                    (&mut storage as *mut libc::sockaddr_storage).cast(),
                    &mut len,
                ) != 0
                {
                    return None;
                }
                match i32::from(storage.ss_family) {
                    libc::AF_INET => {
                        let v4 = &*(&storage as *const libc::sockaddr_storage)
                            .cast::<libc::sockaddr_in>();
                        let ip = Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
                        Some(SocketAddr::new(ip.into(), u16::from_be(v4.sin_port)))
                    }
                    libc::AF_INET6 => {
                        let v6 = &*(&storage as *const libc::sockaddr_storage)
                            .cast::<libc::sockaddr_in6>();
                        let ip = Ipv6Addr::from(v6.sin6_addr.s6_addr);
                        Some(SocketAddr::new(ip.into(), u16::from_be(v6.sin6_port)))
                    }
                    _ => None,
                }
            }
        }

        /// Ends the connection without closing the descriptor, which stays
        /// Rocket's: its task sees the end and closes it. The peer is
        /// checked again first, in case the descriptor was reused.
        fn close(socket: &Socket) {
            if address(socket.fd, libc::getpeername) == Some(socket.peer) {
                // SAFETY: shutdown(2) on a descriptor that is open.
                unsafe {
                    libc::shutdown(socket.fd, libc::SHUT_RDWR);
                }
            }
        }
    }
}
