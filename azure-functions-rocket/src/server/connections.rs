//! Connection limits Rocket 0.5 does not have. Its server (hyper 1, as
//! Rocket 0.5.2 builds it) sets no header-read timeout, has no idle
//! timeout for keep-alive connections (`keep_alive` only turns keep-alive
//! on or off) and no connection cap; the accept loop and the connections
//! are private to Rocket, and at the file descriptor limit it retries
//! `accept` every 250 ms, logging only through Rocket's log (off here).
//!
//! So the handler watches its connections from outside: Rocket's request
//! fairings say which peer has a request in progress, and once a second
//! the handler's own sockets (`/proc/self/fd`, Linux) are read with
//! `TCP_INFO`. A connection with no request in progress is shut down
//! (`shutdown(2)`, so that Rocket's own task sees the end and closes it)
//! when it stays so for `idle_timeout`, or for `header_timeout` after
//! bytes of a next request head arrived; connections over
//! `max_connections`, newest first and never one with a request in
//! progress, are shut down with a line on stderr (once).
//!
//! At the process's file descriptor limit nothing is left to open, so the
//! watcher opens `/proc/self/fd` once, before serving, and reads it again
//! and again: it can still shut down the surplus, which frees descriptors
//! for Rocket's next `accept`. When the app's own descriptors (files,
//! outbound connections) took the room `fit_fd_limit` kept, the limit can
//! come before the cap: then the newer half of the connections, idle ones
//! only, is closed too, with a line on stderr (once).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Data, Request, Response};

/// Told once every connection is gone after the shutdown began: Rocket
/// itself waits out its whole grace period whenever a connection was
/// still open as it stopped accepting, even one that closes a moment
/// later, so [`crate::run`] stops waiting for Rocket then.
#[derive(Default, Clone)]
pub struct Drained(pub Arc<rocket::tokio::sync::Notify>);

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
        // Opened now, while descriptors are free: at the limit an open
        // would fail, and the watcher is what frees them.
        let Some(fds) = FdDir::open() else {
            eprintln!(
                "{}: warn: cannot read /proc/self/fd: idle, stalled and surplus connections are not closed",
                env!("CARGO_PKG_NAME")
            );
            return;
        };
        let fd_limit = soft_fd_limit();
        let port = rocket.config().port;
        let shutdown = rocket.shutdown();
        let drained = rocket.state::<super::Drained>().cloned();
        tokio::spawn(async move {
            let mut watcher = Watcher {
                port,
                hardening,
                peers,
                seen: HashMap::new(),
                fds,
                fd_limit,
                cap_logged: false,
                fd_limit_logged: false,
            };
            tokio::pin!(shutdown);
            loop {
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => watcher.scan(),
                }
            }
            // Stopping: Rocket waits, up to its grace period, for every
            // connection to close, and the host's pooled keep-alive
            // connections never close by themselves. Each is closed once
            // it has had nothing in progress for two looks in a row, so
            // the process exits as soon as the work in flight is done.
            let mut quiet = HashMap::new();
            loop {
                if watcher.close_quiet(&mut quiet) {
                    if let Some(drained) = &drained {
                        drained.0.notify_one();
                    }
                    return;
                }
                tokio::time::sleep(STOPPING_LOOK).await;
            }
        });
    }

    /// How often connections are looked at while stopping.
    const STOPPING_LOOK: Duration = Duration::from_millis(20);

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
        fds: FdDir,
        /// The cap is logged the first time it is reached only: a flood
        /// would otherwise write a line a second.
        cap_logged: bool,
        /// The soft `RLIMIT_NOFILE`, if known.
        fd_limit: Option<usize>,
        fd_limit_logged: bool,
    }

    /// One of the handler's connections, as found in `/proc/self/fd`.
    struct Socket {
        fd: i32,
        peer: SocketAddr,
        bytes_received: u64,
        /// Bytes not yet sent or not yet acknowledged.
        sending: bool,
    }

    impl Watcher {
        /// Closes the connections that had no request in progress, nothing
        /// left to send and no new byte received both now and at the last
        /// look (`quiet`, updated): a response just handed to the
        /// connection is written before it counts as quiet.
        /// True when no connection is left.
        fn close_quiet(&mut self, quiet: &mut HashMap<SocketAddr, (u64, u64)>) -> bool {
            let peers = self.peers.snapshot();
            let mut still = HashMap::new();
            let sockets = self.fds.connections(self.port);
            if sockets.is_empty() {
                return true;
            }
            for socket in sockets {
                let state = peers.get(&socket.peer).copied().unwrap_or_default();
                if state.active > 0 || socket.sending {
                    continue;
                }
                let mark = (state.requests, socket.bytes_received);
                if quiet.get(&socket.peer) == Some(&mark) {
                    close(&socket);
                } else {
                    still.insert(socket.peer, mark);
                }
            }
            *quiet = still;
            false
        }

        fn scan(&mut self) {
            let now = Instant::now();
            let sockets = self.fds.connections(self.port);
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
            // At the descriptor limit, which the app's own descriptors can
            // make come before the cap, Rocket accepts nothing: the newer
            // half goes too, so that new callers get in.
            let mut cap = self.hardening.max_connections;
            let at_limit = self
                .fd_limit
                .is_some_and(|limit| self.fds.open.saturating_sub(timed_out.len()) >= limit);
            if at_limit {
                cap = cap.min(open / 2);
            }
            let mut surplus = Vec::new();
            if open > cap {
                let mut candidates: Vec<&Socket> = sockets
                    .iter()
                    .filter(|s| !timed_out.iter().any(|t| t.fd == s.fd))
                    .filter(|s| peers.get(&s.peer).is_none_or(|p| p.active == 0))
                    .collect();
                // Newest first: the host's pooled connections are old.
                candidates
                    .sort_by_key(|s| std::cmp::Reverse(self.seen.get(&s.peer).map(|x| x.first)));
                for socket in candidates {
                    if open <= cap {
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
            if cap < self.hardening.max_connections && !surplus.is_empty() && !self.fd_limit_logged
            {
                self.fd_limit_logged = true;
                eprintln!(
                    "{}: warn: at the file descriptor limit ({}) with {} open connections (max_connections {}): closed the newest {} idle one(s) so that new connections are accepted; later closings for this are not logged",
                    env!("CARGO_PKG_NAME"),
                    self.fd_limit.unwrap_or_default(),
                    sockets.len() - timed_out.len(),
                    self.hardening.max_connections,
                    surplus.len()
                );
            } else if cap == self.hardening.max_connections
                && !surplus.is_empty()
                && !self.cap_logged
            {
                self.cap_logged = true;
                eprintln!(
                    "{}: warn: refused {} connection(s) over the cap of {} open connections (max_connections); the newest idle ones over it are closed from now on without a line",
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

    /// The soft `RLIMIT_NOFILE`, as `fit_fd_limit` left it.
    fn soft_fd_limit() -> Option<usize> {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes `limit`.
        let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
        (got == 0)
            .then(|| usize::try_from(limit.rlim_cur).ok())
            .flatten()
    }

    /// `/proc/self/fd`, kept open and read again from its start each
    /// time, so that reading it needs no free descriptor.
    struct FdDir {
        dir: std::ptr::NonNull<libc::DIR>,
        /// Descriptors open at the last listing, this one's included.
        open: usize,
    }

    // SAFETY: the stream is only ever used by its one owner, the
    // watcher's task, whichever thread that task runs on.
    unsafe impl Send for FdDir {}

    impl FdDir {
        fn open() -> Option<FdDir> {
            // SAFETY: a NUL-terminated path; a null result is checked.
            let dir = unsafe { libc::opendir(c"/proc/self/fd".as_ptr()) };
            std::ptr::NonNull::new(dir).map(|dir| FdDir { dir, open: 0 })
        }

        /// The open TCP connections accepted on `port`.
        fn connections(&mut self, port: u16) -> Vec<Socket> {
            let mut fds = Vec::new();
            // SAFETY: the stream is open until drop; each entry is read
            // before the next readdir call may overwrite it.
            unsafe {
                libc::rewinddir(self.dir.as_ptr());
                loop {
                    let entry = libc::readdir(self.dir.as_ptr());
                    if entry.is_null() {
                        break;
                    }
                    let name = std::ffi::CStr::from_ptr((*entry).d_name.as_ptr());
                    // "." and "..", and this stream's own descriptor
                    // (not a socket), drop out here or below.
                    if let Some(fd) = name.to_str().ok().and_then(|n| n.parse::<i32>().ok()) {
                        fds.push(fd);
                    }
                }
            }
            self.open = fds.len();
            fds.into_iter().filter_map(|fd| socket(fd, port)).collect()
        }
    }

    impl Drop for FdDir {
        fn drop(&mut self) {
            // SAFETY: opened by opendir and closed only here.
            unsafe {
                libc::closedir(self.dir.as_ptr());
            }
        }
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
            sending: info.tcpi_notsent_bytes > 0 || info.tcpi_unacked > 0,
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
                    let v4 =
                        &*(&storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>();
                    let ip = Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
                    Some(SocketAddr::new(ip.into(), u16::from_be(v4.sin_port)))
                }
                libc::AF_INET6 => {
                    let v6 =
                        &*(&storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>();
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
