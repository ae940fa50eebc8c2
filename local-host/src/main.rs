//! `local-host`: run an Azure Functions custom handler locally, as the
//! Functions host would. See README.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use local_host::app::App;
use local_host::client::READY_TIMEOUT;
use local_host::console::Console;
use local_host::envelope::{Sys, http_invocation, non_http_invocation};
use local_host::handler::{Handler, HandlerOptions, HandlerState};
use local_host::ids::new_guid;
use local_host::invocation::{http_request_for_input, invoke, is_http, report};
use local_host::server::{Server, describe_functions};

const USAGE: &str = "\
local-host: a local stand-in for the Azure Functions host, for custom handlers

Usage:
  local-host start [--app DIR] [--port N] [--build] [--timers] [--ready-timeout SECONDS]
  local-host invoke NAME --data-file FILE [--app DIR] [--ready-timeout SECONDS]

start   serves the app in DIR (default: the current folder) on 127.0.0.1:N
        (default 7071) until Ctrl-C or SIGTERM. --build builds the handler with
        cargo first; --timers fires timer functions on their schedules.
invoke  starts the handler, sends function NAME one invocation whose trigger
        input is FILE's content, prints the logs, outputs and warnings, and
        exits 0 when the invocation succeeded.";

struct Options {
    app: PathBuf,
    port: u16,
    build: bool,
    timers: bool,
    ready_limit: Duration,
    data_file: Option<PathBuf>,
}

enum Command {
    Start(Options),
    Invoke(String, Options),
    Help,
}

fn parse(args: &[String]) -> Result<Command, String> {
    let Some(command) = args.first() else {
        return Err("missing command: start or invoke".into());
    };
    let mut options = Options {
        app: PathBuf::from("."),
        port: 7071,
        build: false,
        timers: false,
        ready_limit: READY_TIMEOUT,
        data_file: None,
    };
    let mut name = None;
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        let mut value = |flag: &str| {
            rest.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--app" => options.app = PathBuf::from(value("--app")?),
            "--port" => {
                let text = value("--port")?;
                options.port = text
                    .parse()
                    .map_err(|_| format!("--port {text:?} is not a port number"))?;
            }
            "--ready-timeout" => {
                let text = value("--ready-timeout")?;
                let seconds: f64 = text
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| {
                        format!("--ready-timeout {text:?} is not a positive number of seconds")
                    })?;
                options.ready_limit = Duration::from_secs_f64(seconds);
            }
            "--data-file" => options.data_file = Some(PathBuf::from(value("--data-file")?)),
            "--build" => options.build = true,
            "--timers" => options.timers = true,
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            positional if name.is_none() && command == "invoke" => {
                name = Some(positional.to_owned())
            }
            extra => return Err(format!("unexpected argument {extra:?}")),
        }
    }
    match command.as_str() {
        "start" => {
            if options.data_file.is_some() {
                return Err("--data-file belongs to invoke".into());
            }
            Ok(Command::Start(options))
        }
        "invoke" => {
            let name = name.ok_or("invoke needs a function NAME")?;
            if options.data_file.is_none() {
                return Err("invoke needs --data-file FILE".into());
            }
            Ok(Command::Invoke(name, options))
        }
        "help" | "-h" | "--help" => Ok(Command::Help),
        other => Err(format!("unknown command {other:?}: start or invoke")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse(&args) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("local-host: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Command::Help = command {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("local-host: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Start(options) => start(options).await,
            Command::Invoke(name, options) => invoke_once(&name, options).await,
            Command::Help => Ok(ExitCode::SUCCESS),
        }
    });
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("local-host: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn load(options: &Options) -> Result<App, String> {
    App::load(&options.app).map_err(|e| e.to_string())
}

async fn start(options: Options) -> Result<ExitCode, String> {
    let app = load(&options)?;
    if options.build {
        let built = local_host::cargo_build::build_handler(&app)?;
        eprintln!("local-host: built {}", built.display());
    }
    // Bind before starting the handler, so a busy port fails fast.
    let listener = std::net::TcpListener::bind(("127.0.0.1", options.port)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!(
                "port {} is in use (another local-host or func start?): free it or pass --port N",
                options.port
            )
        } else {
            format!("cannot listen on 127.0.0.1:{}: {e}", options.port)
        }
    })?;
    let listener = listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::TcpListener::from_std(listener))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", options.port))?;

    let console = Console::printing();
    let handler = start_handler(&app, &options, &console).await?;
    let handler = Arc::new(handler);
    let port = options.port;
    let lines = describe_functions(&app, port);
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

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    let code = loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break ExitCode::SUCCESS,
            _ = terminate.recv() => break ExitCode::SUCCESS,
            state = handler.stopped() => {
                if let HandlerState::Stopped { host_stops: true, reason } = state {
                    eprintln!("local-host: error: {reason}");
                    break ExitCode::FAILURE;
                }
                // Exit 0: the host keeps running and fails every invocation.
                std::future::pending::<()>().await;
            }
        }
    };
    server.shutdown();
    handler.stop().await;
    Ok(code)
}

/// The app's handler, started as `options` say, its output on `console`.
async fn start_handler(app: &App, options: &Options, console: &Console) -> Result<Handler, String> {
    Handler::start(
        app,
        HandlerOptions {
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
        let names: Vec<&str> = app.functions.iter().map(|f| f.name.as_str()).collect();
        return Err(format!(
            "no function named {name:?} in {}; it has: {}",
            app.root.display(),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        ));
    };
    let data_file = options.data_file.clone().unwrap_or_default();
    let input = std::fs::read(&data_file)
        .map_err(|e| format!("cannot read --data-file {}: {e}", data_file.display()))?;
    let console = Console::printing();
    let handler = start_handler(&app, &options, &console).await?;
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
