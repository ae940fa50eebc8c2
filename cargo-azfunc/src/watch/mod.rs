//! `start --watch`: rebuild with cargo when the app's sources, function
//! folders, host.json or local.settings.json change, and swap in the new
//! build behind the same public port. The public port relays each request
//! to the current build's own front door ([`relay`]), so a failed build
//! leaves the last good one answering, a request that arrives while nothing
//! is up yet waits for the first good build, and a swap cuts no request.

mod relay;

pub use relay::Target;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::{AppFolder, Overrides};
use crate::console::Console;
use crate::handler::{Handler, HandlerOptions};
use crate::host::server::{Server, describe_functions};
use crate::host::tls::FrontDoorTls;
use crate::process::signals::{Shutdown, requested};
use crate::storage::queue_feed::Feeds;

/// How often the files are looked at.
const POLL: Duration = Duration::from_millis(300);

/// The longest a replaced build keeps running to finish the requests it
/// was answering when its functionTimeout sets no limit: the host's
/// default function timeout.
const DRAIN_LIMIT: Duration = Duration::from_secs(30 * 60);

/// What `start --watch` needs to start each build.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    pub app: PathBuf,
    pub public_port: u16,
    pub ready_limit: Duration,
    pub timers: bool,
    /// `--functions` and `--cors`, applied to every build.
    pub overrides: Overrides,
    /// `--useHttps`: the public port serves TLS with it across every
    /// rebuild; the builds behind it speak plain HTTP on private ports.
    pub tls: Option<FrontDoorTls>,
}

impl WatchOptions {
    fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }
}

/// One running build: its handler, its front door on a private port and
/// its queue feeds.
struct Generation {
    server: Server,
    handler: Arc<Handler>,
    feeds: Feeds,
}

impl Generation {
    async fn stop(self) {
        self.server.shutdown();
        // Queue invocations under way finish (and delete their messages)
        // on the old build's handler before it stops.
        self.feeds.stop().await;
        self.handler.stop().await;
    }
}

/// A snapshot of the watched files: path, modification time and length.
type Snapshot = Vec<(PathBuf, Option<SystemTime>, u64)>;

/// The folders and files whose changes mean a rebuild: the package's
/// folder (sources, Cargo.toml, build.rs) and the app folder (function
/// folders, host.json, local.settings.json), without build output and
/// without the function folders each build writes from its registry.
fn snapshot(roots: &[PathBuf]) -> Snapshot {
    let mut files = Vec::new();
    for root in roots {
        walk(root, &mut files, 0);
    }
    // A written file edited by hand is the person's: it counts.
    let written: Vec<PathBuf> = roots
        .iter()
        .flat_map(|root| {
            let manifest = crate::generate::Manifest::load(root).unwrap_or_default();
            let unchanged: Vec<PathBuf> = manifest
                .names()
                .into_iter()
                .map(|name| (root.join(&name).join("function.json"), name))
                .filter(|(path, name)| {
                    std::fs::read(path).is_ok_and(|bytes| manifest.wrote(name, &bytes))
                })
                .map(|(path, _)| path)
                .collect();
            unchanged
                .into_iter()
                .chain([root.join(crate::generate::MANIFEST)])
        })
        .collect();
    files.retain(|(path, _, _)| !written.contains(path));
    files.sort();
    files.dedup();
    files
}

fn walk(dir: &Path, files: &mut Snapshot, depth: usize) {
    // Deep trees are not an app's sources; stop rather than crawl.
    if depth > 12 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if name == "target" || name.starts_with('.') || name == "node_modules" {
                continue;
            }
            walk(&path, files, depth + 1);
        } else if name == "Cargo.lock" {
            // cargo itself writes it while building.
            continue;
        } else if let Ok(meta) = entry.metadata() {
            files.push((path, meta.modified().ok(), meta.len()));
        }
    }
}

/// Serves the app from `listener` until `shutdown` asks to stop,
/// rebuilding and restarting the handler on every change; at the stop, the
/// invocations in flight finish first.
pub async fn serve(
    options: WatchOptions,
    listener: TcpListener,
    console: Console,
    shutdown: Shutdown,
) -> Result<(), String> {
    let app = AppFolder::load(&options.app).map_err(|e| e.to_string())?;
    let manifest = crate::process::cargo_build::manifest_for(&app.root).ok_or_else(|| {
        format!(
            "--watch: no Cargo.toml in {} or above it: --watch builds the handler with cargo",
            app.root.display()
        )
    })?;
    let mut roots = vec![app.root.clone()];
    if let Some(package) = manifest.parent() {
        roots.push(package.to_path_buf());
    }
    let (target_tx, target_rx) = watch::channel::<Option<Target>>(None);
    let relay = tokio::spawn(relay::serve(
        listener,
        target_rx,
        console.clone(),
        options.tls.clone(),
    ));

    let mut current: Option<(Generation, Target)> = None;
    let mut seen = snapshot(&roots);
    let mut pending = true;
    loop {
        if pending {
            pending = false;
            let started = Instant::now();
            let built = tokio::select! {
                built = build_and_start(&options, &console) => built,
                () = requested(shutdown.clone()) => break,
            };
            match built {
                Ok((generation, port)) => {
                    let target = Target::new(port);
                    let _ = target_tx.send(Some(target.clone()));
                    let which = if current.is_some() { "new" } else { "first" };
                    if let Some((old, old_target)) = current.replace((generation, target)) {
                        // New requests go to the new build; the old one
                        // finishes what it was answering, then stops.
                        let console = console.clone();
                        let limit = old.handler.function_timeout().unwrap_or(DRAIN_LIMIT);
                        tokio::spawn(async move {
                            if !old_target.drained(limit).await {
                                console.warning(format!(
                                    "[watch] the previous build still answered {} request(s) after {} s: stopping it",
                                    old_target.in_flight(),
                                    limit.as_secs()
                                ));
                            }
                            old.stop().await;
                        });
                    }
                    console.info(format!(
                        "[watch] serving the {which} build on {}://localhost:{} (built and started in {:.1} s)",
                        options.scheme(),
                        options.public_port,
                        started.elapsed().as_secs_f64()
                    ));
                }
                Err(reason) => {
                    let still = if current.is_some() {
                        "still serving the last good build"
                    } else {
                        "nothing to serve yet; requests wait for a good build"
                    };
                    console.error(format!("[watch] {reason}; {still}; waiting for changes"));
                }
            }
        }
        tokio::select! {
            () = requested(shutdown.clone()) => break,
            _ = tokio::time::sleep(POLL) => {}
        }
        let now = snapshot(&roots);
        if now != seen {
            // Editors write in steps: wait until the files hold still.
            let mut settled = now;
            loop {
                tokio::time::sleep(POLL).await;
                let again = snapshot(&roots);
                if again == settled {
                    break;
                }
                settled = again;
            }
            seen = settled;
            console.info("[watch] change detected: rebuilding");
            pending = true;
        }
    }
    relay.abort();
    if let Some((generation, _)) = current {
        generation.stop().await;
    }
    Ok(())
}

/// Builds the app, starts its handler and a front door on a private port.
async fn build_and_start(
    options: &WatchOptions,
    console: &Console,
) -> Result<(Generation, u16), String> {
    let mut app = AppFolder::load(&options.app).map_err(|e| e.to_string())?;
    app.settings.refuse_encrypted()?;
    options
        .overrides
        .apply(&mut app)
        .map_err(|e| e.to_string())?;
    let built = {
        let app = app.clone();
        tokio::task::spawn_blocking(move || crate::process::cargo_build::build_handler(&app))
            .await
            .map_err(|e| format!("the build stopped: {e}"))??
    };
    console.info(format!("[watch] built {}", built.display()));
    // The folders the new build's registry declares, then the app as they
    // make it.
    {
        let (root, built, console) = (app.root.clone(), built.clone(), console.clone());
        // A handler that cannot print its functions would not start either.
        tokio::task::spawn_blocking(move || crate::generate::generate(&root, &built, &console))
            .await
            .map_err(|e| format!("the build stopped: {e}"))?
            .map_err(|reason| format!("the new build's handler did not start: {reason}"))?;
    }
    let mut app = AppFolder::load(&options.app).map_err(|e| e.to_string())?;
    options
        .overrides
        .apply(&mut app)
        .map_err(|e| e.to_string())?;
    let handler = Handler::start(
        &app,
        HandlerOptions {
            executable: Some(built),
            ready_limit: options.ready_limit,
            console: console.clone(),
            // A build that fails does not stop --watch: the last good one
            // goes on serving.
            stops_the_host: false,
            env: options
                .tls
                .as_ref()
                .map(FrontDoorTls::handler_env)
                .unwrap_or_default(),
            ..HandlerOptions::default()
        },
    )
    .await
    .map_err(|reason| format!("the new build's handler did not start: {reason}"))?;
    // A worker that indexes its functions has declared them now.
    handler.adopt_functions(&mut app);
    if let Err(e) = options.overrides.apply(&mut app) {
        handler.stop().await;
        return Err(e.to_string());
    }
    let handler = Arc::new(handler);
    let stop_on_error = |handler: Arc<Handler>, reason: String| async move {
        handler.stop().await;
        reason
    };
    let listener = match TcpListener::bind(("127.0.0.1", 0)).await {
        Ok(listener) => listener,
        Err(e) => {
            return Err(
                stop_on_error(handler, format!("cannot listen on a private port: {e}")).await,
            );
        }
    };
    let feeds = match crate::storage::queue_feed::start(&app, handler.clone(), console) {
        Ok(feeds) => feeds,
        Err(e) => return Err(stop_on_error(handler, e).await),
    };
    let lines = describe_functions(&app, options.public_port, options.scheme());
    let (to_serve, said) = (handler.clone(), console.clone());
    let started = if options.tls.is_some() {
        Server::start_behind_tls(app, to_serve, listener, said, options.timers)
    } else {
        Server::start(app, to_serve, listener, said, options.timers)
    };
    let server = match started {
        Ok(server) => server,
        Err(e) => return Err(stop_on_error(handler, e).await),
    };
    let port = server.port();
    console.info("Functions:");
    for line in lines {
        console.info(format!("  {line}"));
    }
    Ok((
        Generation {
            server,
            handler,
            feeds,
        },
        port,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_sees_edits_and_skips_build_output() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("src")).expect("src");
        std::fs::create_dir_all(root.join("target/debug")).expect("target");
        std::fs::write(root.join("src/main.rs"), "fn main() {}").expect("write");
        let before = snapshot(std::slice::from_ref(&root));
        std::fs::write(root.join("target/debug/out"), "built").expect("write");
        assert_eq!(snapshot(std::slice::from_ref(&root)), before);
        std::fs::write(root.join("src/main.rs"), "fn main() { }").expect("write");
        assert_ne!(snapshot(std::slice::from_ref(&root)), before);
    }
}
