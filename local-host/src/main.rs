//! `local-host`: run an Azure Functions custom handler locally, as the
//! Functions host would. See README.md.

mod command_line;

/// println! and eprintln! without their panic when the stream is closed
/// (`local-host check | head -1`): what cannot be printed is dropped.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use command_line::{Command, Options, USAGE, parse};
use local_host::app::AppFolder;
use local_host::app::Overrides;
use local_host::check::{Finding, HANDLER_LIMIT, Severity};
use local_host::console::Console;
use local_host::cors::Cors;
use local_host::envelope::{Sys, http_invocation, non_http_invocation};
use local_host::handler::{Handler, HandlerOptions, HandlerState};
use local_host::ids::new_guid;
use local_host::invocation::{http_request_for_input, invoke, is_http, report};
use local_host::limits::{CALLER_BODY_LIMIT, read_file_capped};
use local_host::scaffold::ScaffoldError;
use local_host::server::{Server, describe_functions};
use local_host::signals::{Shutdown, Signals, requested};
use local_host::terminal::visible;

/// How long the handler and the other processes get between SIGTERM and
/// SIGKILL when local-host stops.
const GRACE: Duration = Duration::from_secs(3);

/// How long `start` lets the invocations in flight finish after Ctrl-C or
/// SIGTERM before it stops everything.
const DRAIN: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse(&args) {
        Ok(command) => command,
        Err(message) => {
            err!("local-host: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let command = match command {
        Command::Help => {
            out!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::NewApp(spec) => return scaffolded(local_host::scaffold::new_app(&spec)),
        Command::NewFunction(spec) => {
            return scaffolded(local_host::scaffold::new_function(&spec));
        }
        command => command,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            err!("local-host: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run_until_signalled(command));
    // Whatever still runs (a cargo build being stopped, a handler's output
    // reader) must not hold the exit up.
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

/// Runs `command` until it ends or a SIGTERM or SIGINT arrives. A signal
/// stops everything local-host started (the handler and whatever it
/// started, a cargo build, a check run) and ends `start` with 0, as README
/// promises for Ctrl-C, whatever state the handler was in; `invoke` and
/// `check` did not finish, so they end with 1.
async fn run_until_signalled(command: Command) -> ExitCode {
    let mut signals = match Signals::watch() {
        Ok(signals) => signals,
        Err(e) => return finish(Err(format!("cannot watch SIGTERM and SIGINT: {e}"))),
    };
    let serving = matches!(command, Command::Start(_));
    let (shutdown, requested) = tokio::sync::watch::channel(false);
    let running = run(command, requested);
    tokio::pin!(running);
    let signal = tokio::select! {
        result = &mut running => return finish(result),
        signal = signals.next() => signal,
    };
    if serving {
        // As the host does: stop taking work, let what runs finish.
        err!(
            "local-host: {signal}: stopping: the requests and invocations in flight finish first, for at most {} s (a second signal stops at once)",
            DRAIN.as_secs()
        );
        let _ = shutdown.send(true);
        tokio::select! {
            _ = &mut running => {}
            _ = tokio::time::sleep(DRAIN) => {}
            _ = signals.next() => {}
        }
    }
    err!("local-host: {signal}: stopping the handler and every process local-host started");
    // A second signal skips the grace period.
    local_host::children::stop_all(GRACE, async {
        signals.next().await;
    })
    .await;
    if serving {
        ExitCode::SUCCESS
    } else {
        finish(Err(format!("stopped by {signal} before it finished")))
    }
}

async fn run(command: Command, shutdown: Shutdown) -> Result<ExitCode, String> {
    match command {
        Command::Start(options) => start(options, shutdown).await,
        Command::Invoke(name, options) => invoke_once(&name, options).await,
        Command::Check { app, build } => blocking(move || check(&app, build)).await,
        Command::Help | Command::NewApp(_) | Command::NewFunction(_) => Ok(ExitCode::SUCCESS),
    }
}

/// Runs blocking work (cargo, the check run) off the async threads, so
/// that a signal is still seen while it runs.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| format!("local-host failed: {e}"))?
}

/// The exit code of a command; its error as the one error line.
fn finish(result: Result<ExitCode, String>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(message) => {
            err!("local-host: error: {}", visible(&message));
            ExitCode::FAILURE
        }
    }
}

/// What `new` wrote, or why it refused (exit 2) or failed (exit 1).
fn scaffolded(result: Result<Vec<String>, ScaffoldError>) -> ExitCode {
    match result {
        Ok(lines) => {
            for line in lines {
                out!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(ScaffoldError::Refused(message)) => {
            err!("local-host: error: {message}");
            ExitCode::from(2)
        }
        Err(ScaffoldError::Failed(message)) => finish(Err(message)),
    }
}

/// The handler to run: a fresh cargo build with `--build`, else what
/// host.json names.
fn executable(app: &AppFolder, build: bool) -> Result<Option<PathBuf>, String> {
    if !build {
        return Ok(None);
    }
    let built = local_host::cargo_build::build_handler(app)?;
    err!("local-host: built {}", built.display());
    Ok(Some(built))
}

/// [`executable`] off the async threads.
async fn build(app: &AppFolder, build: bool) -> Result<Option<PathBuf>, String> {
    let app = app.clone();
    blocking(move || executable(&app, build)).await
}

fn check(root: &std::path::Path, build: bool) -> Result<ExitCode, String> {
    let app = AppFolder::load(root).map_err(|e| e.to_string())?;
    let built = executable(&app, build)?;
    let mut found = local_host::check::settings(&app, built.is_some());
    let handler = built.or_else(|| Some(app.executable_path()).filter(|p| p.is_file()));
    match handler {
        Some(handler) => found.extend(local_host::check::handler(&app, &handler, HANDLER_LIMIT)),
        None => found.push(Finding {
            severity: Severity::Note,
            text: "the handler's check of its functions against their folders did not run: there is no handler to run (pass --build)".into(),
        }),
    }
    for finding in &found {
        // The handler's own lines are among the findings.
        out!("{}", visible(&finding.to_string()));
    }
    let problems = found
        .iter()
        .filter(|f| f.severity == Severity::Problem)
        .count();
    let root = app.root.display();
    if problems == 0 {
        out!("local-host check: all is well in {root}");
        Ok(ExitCode::SUCCESS)
    } else {
        out!("local-host check: {problems} thing(s) to change in {root}");
        Ok(ExitCode::FAILURE)
    }
}

fn load(options: &Options) -> Result<AppFolder, String> {
    let app = AppFolder::load(&options.app).map_err(|e| e.to_string())?;
    app.settings.refuse_encrypted()?;
    Ok(app)
}

/// What the command line changes in the app as loaded: `--functions` and
/// `--cors` (over local.settings.json's `Host.CORS`).
fn overrides(options: &Options) -> Result<Overrides, String> {
    let cors = options
        .cors
        .as_deref()
        .map(|list| Cors::parse(list, options.cors_credentials).map_err(|e| format!("--cors: {e}")))
        .transpose()?;
    Ok(Overrides {
        functions: options.functions.clone(),
        cors,
    })
}

async fn start(mut options: Options, shutdown: Shutdown) -> Result<ExitCode, String> {
    let overrides = overrides(&options)?;
    let mut app = load(&options)?;
    overrides.apply(&mut app).map_err(|e| e.to_string())?;
    if !options.port_given
        && let Some(port) = app.settings.local_http_port
    {
        options.port = port;
    }
    let console = Console::printing_as(options.output).verbose(options.verbose);
    if options.watch {
        let listener = bind(options.port)?;
        let watched = local_host::watch::WatchOptions {
            app: options.app.clone(),
            public_port: options.port,
            ready_limit: options.ready_limit,
            timers: options.timers,
            overrides,
        };
        console.info(format!(
            "local-host is serving on http://localhost:{} and rebuilding on every change (Ctrl-C to stop)",
            options.port
        ));
        local_host::watch::serve(watched, listener, console, shutdown).await?;
        return Ok(ExitCode::SUCCESS);
    }
    // A stop asked for while building or starting ends here: nothing runs
    // yet that could finish.
    let started = async {
        let built = build(&app, options.build).await?;
        // Bind before starting the handler, so a busy port fails fast.
        let listener = bind(options.port)?;
        let handler = start_handler(&app, &options, built, &console).await?;
        Ok::<_, String>((listener, handler))
    };
    let (listener, handler) = tokio::select! {
        started = started => started?,
        () = requested(shutdown.clone()) => return Ok(ExitCode::SUCCESS),
    };
    let handler = Arc::new(handler);
    let port = options.port;
    let lines = describe_functions(&app, port);
    let feeds = local_host::queue_feed::start(&app, handler.clone(), &console)?;
    let server = Server::start(
        app,
        handler.clone(),
        listener,
        console.clone(),
        options.timers,
    )?;
    console.info("Functions:");
    for line in lines {
        console.info(format!("  {line}"));
    }
    console.info(format!(
        "local-host is serving on http://localhost:{port} (Ctrl-C to stop). Production runs on the Azure Functions host."
    ));

    // SIGTERM and SIGINT are watched by run_until_signalled, which asks
    // for the stop. After an exit with 0 the host keeps running and fails
    // every invocation: so does local-host, until a signal.
    let code = tokio::select! {
        state = handler.stopped() => match state {
            HandlerState::Stopped {
                host_stops: true,
                reason,
            } => {
                err!("local-host: error: {reason}");
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

/// The app's handler (`executable`, else host.json's), started as
/// `options` say, its output on `console`.
async fn start_handler(
    app: &AppFolder,
    options: &Options,
    executable: Option<PathBuf>,
    console: &Console,
) -> Result<Handler, String> {
    Handler::start(
        app,
        HandlerOptions {
            executable,
            ready_limit: options.ready_limit,
            console: console.clone(),
            ..HandlerOptions::default()
        },
    )
    .await
    .map_err(|reason| format!("the handler did not start: {reason}"))
}

async fn invoke_once(name: &str, options: Options) -> Result<ExitCode, String> {
    let app = load(&options)?;
    let Some(function) = app.function(name).cloned() else {
        return Err(app.no_function(name));
    };
    let input = invoke_input(&options)?;
    let built = build(&app, options.build).await?;
    let console = Console::printing_as(options.output).verbose(options.verbose);
    let handler = start_handler(&app, &options, built, &console).await?;
    let sys = Sys::new(&function);
    let body = if is_http(&function) {
        let (caller, params) =
            http_request_for_input(&function, &app.host.route_prefix, "localhost:7071", &input);
        http_invocation(&function, &caller, &params, &sys)
    } else {
        non_http_invocation(&function, &String::from_utf8_lossy(&input), &sys)
    };
    let invocation_id = new_guid();
    let outcome = invoke(&handler, &function, &body, &invocation_id).await;
    report(&console, &function, &invocation_id, &outcome);
    handler.stop().await;
    Ok(if outcome.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `invoke`'s trigger input: `--data TEXT`, or `--data-file` (`-` reads
/// standard input).
fn invoke_input(options: &Options) -> Result<Vec<u8>, String> {
    if let Some(text) = &options.data {
        return Ok(text.clone().into_bytes());
    }
    let data_file = options.data_file.clone().unwrap_or_default();
    if data_file.as_os_str() == "-" {
        // The host's cap on a caller's body, as for a file.
        let mut input = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin(), CALLER_BODY_LIMIT as u64 + 1),
            &mut input,
        )
        .map_err(|e| format!("cannot read standard input (--data-file -): {e}"))?;
        if input.len() > CALLER_BODY_LIMIT {
            return Err(format!(
                "standard input (--data-file -) is larger than {}, the host's limit for a caller's body",
                local_host::limits::size(CALLER_BODY_LIMIT)
            ));
        }
        return Ok(input);
    }
    read_file_capped(&data_file, CALLER_BODY_LIMIT).map_err(|e| format!("--data-file: {e}"))
}

/// The public port, bound before anything starts so a busy port fails fast.
fn bind(port: u16) -> Result<tokio::net::TcpListener, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!(
                "port {} is in use (another local-host or func start?): free it or pass --port N",
                port
            )
        } else {
            format!("cannot listen on 127.0.0.1:{}: {e}", port)
        }
    })?;
    let listener = listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::TcpListener::from_std(listener))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", port))?;
    Ok(listener)
}
