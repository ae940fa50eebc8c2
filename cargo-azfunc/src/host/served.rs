//! An app served by cargo-azfunc inside the calling process, its console
//! quiet (read back with [`Console::lines`]): what the tests of every crate
//! in the workspace spawn to call an app as the host would.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::app::AppFolder;
use crate::console::Console;
use crate::handler::client::{HostClient, free_port};
use crate::handler::{Handler, HandlerOptions};
use crate::host::server::Server;
use crate::host::tls::FrontDoorTls;
use crate::limits::ServerLimits;

/// How long a served app's handler has to answer `GET /`: a debug build
/// on a busy machine is slow to start.
const READY_LIMIT: Duration = Duration::from_secs(20);

/// How the app's binary runs under the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Road {
    /// As local.settings.json's `FUNCTIONS_WORKER_RUNTIME` says.
    AsSet,
    /// A custom handler (docs/host-protocol.md).
    CustomHandler,
    /// The `native` language worker (docs/native-worker-host.md).
    Native,
}

/// A running app. Dropped, it stops serving, then stops its handler.
pub struct ServedApp {
    /// A caller of cargo-azfunc's front door.
    pub caller: HostClient,
    pub console: Console,
    pub server: Server,
    pub handler: Arc<Handler>,
}

impl ServedApp {
    /// Serves the app folder `root`, its handler `executable` (else what
    /// host.json names), with the default limits and no timers.
    pub async fn start(root: &Path, executable: Option<PathBuf>) -> Result<ServedApp, String> {
        ServedApp::start_with(root, executable, false, ServerLimits::default()).await
    }

    /// [`ServedApp::start_with`], over TLS with `tls`; the handler trusts
    /// its certificate as under `start --useHttps`. The caller speaks plain
    /// HTTP, so it cannot call the front door: the tests bring their own.
    pub async fn start_tls(
        root: &Path,
        executable: Option<PathBuf>,
        tls: FrontDoorTls,
    ) -> Result<ServedApp, String> {
        let limits = ServerLimits::default();
        let road = Road::AsSet;
        ServedApp::start_full(root, executable, false, limits, Some(tls), Vec::new(), road).await
    }

    /// [`ServedApp::start`] with `env` added to the handler's environment
    /// (after local.settings.json's `Values`).
    pub async fn start_with_env(
        root: &Path,
        executable: Option<PathBuf>,
        env: Vec<(String, String)>,
    ) -> Result<ServedApp, String> {
        let limits = ServerLimits::default();
        ServedApp::start_full(root, executable, false, limits, None, env, Road::AsSet).await
    }

    /// [`ServedApp::start`] with `timers` firing and other `limits`.
    pub async fn start_with(
        root: &Path,
        executable: Option<PathBuf>,
        timers: bool,
        limits: ServerLimits,
    ) -> Result<ServedApp, String> {
        ServedApp::start_full(
            root,
            executable,
            timers,
            limits,
            None,
            Vec::new(),
            Road::AsSet,
        )
        .await
    }

    /// [`ServedApp::start_with`] on `road`, whatever local.settings.json
    /// says: one app checked in both modes.
    pub async fn start_on(
        root: &Path,
        executable: Option<PathBuf>,
        timers: bool,
        road: Road,
    ) -> Result<ServedApp, String> {
        let limits = ServerLimits::default();
        ServedApp::start_full(root, executable, timers, limits, None, Vec::new(), road).await
    }

    async fn start_full(
        root: &Path,
        executable: Option<PathBuf>,
        timers: bool,
        limits: ServerLimits,
        tls: Option<FrontDoorTls>,
        mut env: Vec<(String, String)>,
        road: Road,
    ) -> Result<ServedApp, String> {
        let mut app = AppFolder::load(root).map_err(|e| e.to_string())?;
        match road {
            Road::AsSet => {}
            Road::CustomHandler => app.worker = None,
            Road::Native => app = app.into_native(),
        }
        let console = Console::quiet();
        let options = HandlerOptions {
            executable,
            console: console.clone(),
            ready_limit: READY_LIMIT,
            env: {
                env.extend(
                    tls.as_ref()
                        .map(FrontDoorTls::handler_env)
                        .unwrap_or_default(),
                );
                env
            },
            ..HandlerOptions::default()
        };
        let handler = Handler::start(&app, options).await?;
        // A worker that indexes its functions has declared them now.
        handler.adopt_functions(&mut app);
        let handler = Arc::new(handler);
        // free_port, not port 0: it never hands out the handler's port.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", free_port()))
            .await
            .map_err(|e| format!("cannot listen: {e}"))?;
        let server = Server::start_tls(
            app,
            handler.clone(),
            listener,
            console.clone(),
            timers,
            limits,
            tls,
        )?;
        Ok(ServedApp {
            caller: HostClient::new(server.port()),
            console,
            server,
            handler,
        })
    }
}
