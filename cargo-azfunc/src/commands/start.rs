//! `start`: serve the app until Ctrl-C or SIGTERM, as `func start` does.

use std::process::ExitCode;
use std::sync::Arc;

use cargo_azfunc::app::Overrides;
use cargo_azfunc::cors::Cors;
use cargo_azfunc::handler::HandlerState;
use cargo_azfunc::host::certificate_file::password;
use cargo_azfunc::host::server::{Server, describe_functions};
use cargo_azfunc::host::tls::{FrontDoorTls, TrustFileGuard};
use cargo_azfunc::limits::ServerLimits;
use cargo_azfunc::process::signals::{Shutdown, requested};

use super::cli::StartArgs;
use super::{DRAIN, build_and_generate, console, load, start_handler};

/// The port `start` serves on when neither `--port` nor local.settings.json's
/// `Host.LocalHttpPort` names one: Core Tools'.
const DEFAULT_PORT: u16 = 7071;

pub async fn run(args: StartArgs, shutdown: Shutdown) -> Result<ExitCode, String> {
    let overrides = overrides(&args)?;
    let mut app = load(&args.run)?;
    overrides.apply(&mut app).map_err(|e| e.to_string())?;
    let port = args
        .port
        .or(app.settings.local_http_port)
        .unwrap_or(DEFAULT_PORT);
    let console = console(&args.run);
    let tls = match (&args.cert, args.use_https) {
        (Some(path), _) => {
            let password = args.password.as_deref().map(password).transpose()?;
            Some(FrontDoorTls::from_file(path, password.as_deref())?)
        }
        (None, true) => Some(FrontDoorTls::self_signed()?),
        (None, false) => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let trust_guard = tls
        .as_ref()
        .and_then(|tls| tls.trust_file.clone())
        .map(TrustFileGuard);
    if args.watch {
        let listener = bind(port)?;
        let watched = cargo_azfunc::watch::WatchOptions {
            app: args.run.app.app.clone(),
            public_port: port,
            ready_limit: args.run.ready_timeout,
            timers: args.timers,
            overrides,
            tls,
        };
        if let Some(file) = &trust_guard {
            console.info(trusted_through(&file.0));
        }
        console.info(format!(
            "cargo-azfunc is serving on {scheme}://localhost:{port} and rebuilding on every change (Ctrl-C to stop)"
        ));
        cargo_azfunc::watch::serve(watched, listener, console, shutdown).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let handler_env = tls
        .as_ref()
        .map(FrontDoorTls::handler_env)
        .unwrap_or_default();
    // A stop asked for while building or starting ends here: nothing runs
    // yet that could finish.
    let started = async {
        let (generated, built) = build_and_generate(app.clone(), &args.run, &console).await?;
        if built.is_some() {
            app = generated;
            overrides.apply(&mut app).map_err(|e| e.to_string())?;
        }
        // Bind before starting the handler, so a busy port fails fast.
        let listener = bind(port)?;
        let handler = start_handler(&app, &args.run, built, &console, handler_env).await?;
        Ok::<_, String>((listener, handler))
    };
    let (listener, handler) = tokio::select! {
        started = started => started?,
        () = requested(shutdown.clone()) => return Ok(ExitCode::SUCCESS),
    };
    // A worker that indexes its functions has declared them now.
    handler.adopt_functions(&mut app);
    overrides.apply(&mut app).map_err(|e| e.to_string())?;
    let handler = Arc::new(handler);
    let lines = describe_functions(&app, port, scheme);
    let feeds = cargo_azfunc::storage::queue_feed::start(&app, handler.clone(), &console)?;
    let trust_file = tls.as_ref().and_then(|tls| tls.trust_file.clone());
    let server = Server::start_tls(
        app,
        handler.clone(),
        listener,
        console.clone(),
        args.timers,
        ServerLimits::default(),
        tls,
    )?;
    console.info("Functions:");
    for line in lines {
        console.info(format!("  {line}"));
    }
    if let Some(file) = trust_file {
        console.info(trusted_through(&file));
    }
    console.info(format!(
        "cargo-azfunc is serving on {scheme}://localhost:{port} (Ctrl-C to stop). Production runs on the Azure Functions host."
    ));

    // SIGTERM and SIGINT are watched by run_until_signalled, which asks
    // for the stop. After an exit with 0 the host keeps running and fails
    // every invocation: so does cargo azfunc, until a signal.
    let code = tokio::select! {
        state = handler.stopped() => match state {
            HandlerState::Stopped {
                host_stops: true,
                reason,
            } => {
                err!("cargo-azfunc: error: {reason}");
                ExitCode::FAILURE
            }
            _ => {
                requested(shutdown).await;
                ExitCode::SUCCESS
            }
        },
        () = requested(shutdown.clone()) => ExitCode::SUCCESS,
    };
    // As the host stops: no new work, and what runs finishes (the signal
    // handler caps the wait).
    tokio::join!(server.drain(DRAIN), feeds.stop());
    handler.stop().await;
    Ok(code)
}

fn trusted_through(file: &std::path::Path) -> String {
    format!(
        "The certificate is signed by a CA made for this run; the handler trusts it through {}={} (a bundle with the platform's roots)",
        cargo_azfunc::host::tls::TRUST_VARIABLE,
        file.display()
    )
}

/// What the command line changes in the app as loaded: `--functions` and
/// `--cors` (over local.settings.json's `Host.CORS`).
fn overrides(args: &StartArgs) -> Result<Overrides, String> {
    let cors = args
        .cors
        .as_deref()
        .map(|list| Cors::parse(list, args.cors_credentials).map_err(|e| format!("--cors: {e}")))
        .transpose()?;
    Ok(Overrides {
        functions: args.functions.clone(),
        cors,
    })
}

/// The public port, bound before anything starts so a busy port fails fast.
fn bind(port: u16) -> Result<tokio::net::TcpListener, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!(
                "port {port} is in use (another cargo azfunc or func start?): free it or pass --port N"
            )
        } else {
            format!("cannot listen on 127.0.0.1:{port}: {e}")
        }
    })?;
    listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::TcpListener::from_std(listener))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))
}
