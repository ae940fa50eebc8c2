//! Building the Rocket application and running it as the host expects.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use rocket::figment::Figment;
use rocket::shield::Shield;
use rocket::tokio;
use rocket::{Build, Config, Rocket, Shutdown};

use rocket::fairing::AdHoc;

use crate::registry::Registry;
use crate::routes::Invocations;
use crate::{config, routes};

/// The whole application serving `registry`, configured by `figment`.
pub fn rocket(figment: Figment, registry: Registry) -> Rocket<Build> {
    // `main` has refused unreadable settings already.
    let hardening = config::Hardening::from_figment(&figment).unwrap_or_default();
    rocket::custom(figment)
        .manage(registry)
        .manage(routes::Invocations::new(&hardening))
        // Shield's browser-hardening headers mean nothing to the Functions
        // host, the only client, and cost work on every response: an empty
        // Shield replaces the default one.
        .attach(Shield::new())
        .mount("/", routes::routes())
        .register("/", routes::catchers())
}

/// The handler's `main`: configures, starts the async runtime and serves
/// `registry` until SIGTERM or Ctrl-C (exit 0). Any failure to start exits
/// non-zero: the host never restarts a handler that exited with 0.
pub fn main(registry: Registry) -> ExitCode {
    let host_port = match config::host_port(|name| std::env::var_os(name)) {
        Ok(port) => port,
        Err(error) => return fail(format_args!("{error}")),
    };
    let figment = match host_port {
        Some(port) => config::figment(port),
        None => config::figment_by_hand(),
    };
    let settings: Config = match figment.extract() {
        Ok(settings) => settings,
        Err(error) => return fail(format_args!("invalid configuration: {error}")),
    };
    if let Err(error) = config::Hardening::from_figment(&figment) {
        return fail(format_args!("invalid configuration: {error}"));
    }
    let runtime = match runtime(&settings) {
        Ok(runtime) => runtime,
        Err(error) => return fail(format_args!("cannot start the async runtime: {error}")),
    };
    let code = runtime.block_on(serve(figment, registry, host_port.is_none()));
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
        .thread_name(env!("CARGO_PKG_NAME"))
        .max_blocking_threads(settings.max_blocking.max(1))
        .enable_all()
        .build()
}

/// Serves `registry` as configured by `figment` on the current runtime.
pub async fn run(figment: Figment, registry: Registry) -> ExitCode {
    serve(figment, registry, false).await
}

/// [`run`], saying where it listens when `by_hand`: under the host, every
/// stdout line would become a log record.
async fn serve(figment: Figment, registry: Registry, by_hand: bool) -> ExitCode {
    let mut app = rocket(figment, registry);
    if by_hand {
        app = app.attach(AdHoc::on_liftoff("say where", |rocket| {
            Box::pin(async move {
                let config = rocket.config();
                println!(
                    "{} listening on http://{}:{}/ (no FUNCTIONS_CUSTOMHANDLER_PORT: run by hand, not under the Functions host)",
                    env!("CARGO_PKG_NAME"),
                    config.address,
                    config.port
                );
            })
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
    eprintln!("{}: {message}", env!("CARGO_PKG_NAME"));
    ExitCode::FAILURE
}
