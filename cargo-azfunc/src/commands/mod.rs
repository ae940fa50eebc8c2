//! The commands: the command line ([`cli`]) and one module per command.
//! Each returns its exit code, or the error that becomes the one error line
//! (exit 1).

/// println! and eprintln! without their panic when the stream is closed
/// (`cargo azfunc check | head -1`): what cannot be printed is dropped.
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

mod check;
mod cli;
mod generate;
mod invoke;
mod new;
mod start;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cargo_azfunc::app::AppFolder;
use cargo_azfunc::console::Console;
use cargo_azfunc::handler::{Handler, HandlerOptions};
use cargo_azfunc::process::signals::{Shutdown, Signals};
use cargo_azfunc::terminal::visible;
use cli::{Cli, Command, RunArgs};

/// How long the handler and the other processes get between SIGTERM and
/// SIGKILL when cargo azfunc stops.
const GRACE: Duration = Duration::from_secs(3);

/// How long `start` lets the invocations in flight finish after Ctrl-C or
/// SIGTERM before it stops everything.
const DRAIN: Duration = Duration::from_secs(10);

pub fn main() -> ExitCode {
    let cli = Cli::from_args();
    let command = match cli.command {
        Command::New(new) => return new::run(new),
        command => command,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            err!("cargo-azfunc: cannot start the async runtime: {e}");
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
/// stops everything cargo azfunc started (the handler and whatever it
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
            "cargo-azfunc: {signal}: stopping: the requests and invocations in flight finish first, for at most {} s (a second signal stops at once)",
            DRAIN.as_secs()
        );
        let _ = shutdown.send(true);
        tokio::select! {
            _ = &mut running => {}
            _ = tokio::time::sleep(DRAIN) => {}
            _ = signals.next() => {}
        }
    }
    err!("cargo-azfunc: {signal}: stopping the handler and every process cargo-azfunc started");
    // A second signal skips the grace period.
    cargo_azfunc::process::children::stop_all(GRACE, async {
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
        Command::Start(args) => start::run(args, shutdown).await,
        Command::Invoke(args) => invoke::run(args).await,
        Command::Check(args) => blocking(move || check::run(&args.app.app, args.build)).await,
        Command::Generate(args) => blocking(move || generate::run(&args.app.app, args.build)).await,
        Command::New(_) => Ok(ExitCode::SUCCESS),
    }
}

/// Runs blocking work (cargo, the check run) off the async threads, so
/// that a signal is still seen while it runs.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| format!("cargo-azfunc failed: {e}"))?
}

/// The exit code of a command; its error as the one error line.
fn finish(result: Result<ExitCode, String>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(message) => {
            err!("cargo-azfunc: error: {}", visible(&message));
            ExitCode::FAILURE
        }
    }
}

/// The handler to run: a fresh cargo build with `--build`, else what
/// host.json names.
fn executable(app: &AppFolder, build: bool) -> Result<Option<PathBuf>, String> {
    if !build {
        return Ok(None);
    }
    let built = cargo_azfunc::process::cargo_build::build_handler(app)?;
    err!("cargo-azfunc: built {}", built.display());
    Ok(Some(built))
}

/// [`executable`] off the async threads.
async fn build(app: &AppFolder, build: bool) -> Result<Option<PathBuf>, String> {
    let app = app.clone();
    blocking(move || executable(&app, build)).await
}

/// [`build`], then, for a fresh build, the function folders its registry
/// declares written, and the app loaded again as they make it.
async fn build_and_generate(
    app: AppFolder,
    run: &RunArgs,
    console: &Console,
) -> Result<(AppFolder, Option<PathBuf>), String> {
    let built = build(&app, run.build).await?;
    // A language worker declares its functions over the stream; only a
    // custom handler's host reads function folders.
    let (Some(executable), None) = (&built, &app.worker) else {
        return Ok((app, built));
    };
    let (root, executable, shown) = (app.root.clone(), executable.clone(), console.clone());
    blocking(move || cargo_azfunc::generate::generate(&root, &executable, &shown)).await?;
    Ok((load(run)?, built))
}

/// The app in `--app`, refused when its settings are encrypted.
fn load(run: &RunArgs) -> Result<AppFolder, String> {
    let app = AppFolder::load(&run.app.app).map_err(|e| e.to_string())?;
    app.settings.refuse_encrypted()?;
    Ok(app)
}

/// The console `--output` and `--verbose` ask for.
fn console(run: &RunArgs) -> Console {
    Console::printing_as(run.output.into()).verbose(run.verbose)
}

/// The app's handler (`executable`, else host.json's), started as `run`
/// says, its output on `console`.
async fn start_handler(
    app: &AppFolder,
    run: &RunArgs,
    executable: Option<PathBuf>,
    console: &Console,
    env: Vec<(String, String)>,
) -> Result<Handler, String> {
    Handler::start(
        app,
        HandlerOptions {
            executable,
            ready_limit: run.ready_timeout,
            console: console.clone(),
            env,
            ..HandlerOptions::default()
        },
    )
    .await
    .map_err(|reason| format!("the handler did not start: {reason}"))
}
