//! Building the Rocket application and running it as the host expects.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use rocket::figment::Figment;
use rocket::shield::Shield;
use rocket::tokio;
use rocket::{Build, Config, Rocket, Shutdown};

use rocket::fairing::AdHoc;

use function_app::AppFolder;

use crate::config;
use crate::config::{Hardening, Settings};
use crate::registry::Registry;
use forwarded::PublicRoutes;
use routes::Invocations;

mod connections;
pub(crate) mod forwarded;
pub(crate) mod routes;

/// The app serving `registry` as a Rocket instance, configured as under
/// the host but on a port the OS picks: for tests with Rocket's local
/// client, or to serve it in a process of your own. [`run`] serves the
/// same app.
///
/// A function with a hand-kept function.json in the app folder (the
/// host's `FUNCTIONS_APP_ROOT_PATH`, else the working directory if it has
/// a host.json, as under `cargo test` in the package's folder) is read by
/// the binding names there, as the host sends them. A registry line the
/// host would refuse (two bindings of one name, a bad route, ...) fails
/// the launch, with one stderr line per reason.
///
/// ```
/// use azure_functions_rocket::rocket::local::blocking::Client;
/// use azure_functions_rocket::{Error, Function, HttpRequest, HttpResponse, Registry};
///
/// async fn hello(_: HttpRequest) -> Result<HttpResponse, Error> {
///     Ok(HttpResponse::new(200, "hi"))
/// }
///
/// let registry = Registry::new().with(Function::http("Hello", hello));
/// let client = Client::untracked(azure_functions_rocket::app(registry)).unwrap();
/// let envelope: serde_json::Value = client.post("/Hello").body("{}").dispatch().into_json().unwrap();
/// assert_eq!(envelope["ReturnValue"]["body"], "hi");
/// ```
pub fn app(mut registry: Registry) -> Rocket<Build> {
    #[cfg(feature = "tracing")]
    crate::events::install();
    let figment = config::figment(0);
    let hardening = config::Hardening::from_figment(&figment).unwrap_or_default();
    let root = AppFolder::root().or_else(|| {
        std::env::current_dir()
            .ok()
            .filter(|here| here.join("host.json").is_file())
    });
    if let Some(Ok(app)) = root.as_deref().map(AppFolder::read) {
        registry.follow(&app);
    }
    let problems = registry.declaration_problems();
    let app = build(figment, registry, &hardening, PublicRoutes::default());
    if problems.is_empty() {
        return app;
    }
    app.attach(AdHoc::try_on_ignite("registry", |rocket| {
        Box::pin(async move {
            for problem in &problems {
                eprintln!("{}: {problem}", app_name());
            }
            Err(rocket)
        })
    }))
}

/// [`app`] with the handler's own settings already read: each read of
/// a figment re-merges all of it (start-up instructions, `bench/profile`).
fn build(
    figment: Figment,
    registry: Registry,
    hardening: &Hardening,
    public: PublicRoutes,
) -> Rocket<Build> {
    let own_routes: Vec<rocket::Route> = registry
        .iter()
        .flat_map(|function| function.routes.iter().cloned())
        .collect();
    rocket::custom(figment)
        .mount("/", own_routes)
        .mount("/", public.rocket_routes())
        .manage(registry)
        .manage(routes::Invocations::new(hardening))
        .manage(connections::Peers::default())
        .manage(connections::Drained::default())
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
pub use function_app::environment::CHECK_VARIABLE;

/// Set to `1`, [`run`] prints the function.json of every function of
/// the registry (one JSON object on stdout: [`function_app::Metadata`])
/// and exits, 1 with the reasons on stderr when a registry line is one
/// the host would refuse: how `cargo azfunc` reads a built app's
/// functions.
pub use function_app::environment::METADATA_VARIABLE;

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
/// `$return`; the binding names a registry line leaves to their defaults
/// are read there, as the host sends them. A registry line the host would
/// refuse stops it too. With `AZURE_FUNCTIONS_ROCKET_CHECK=1` in its
/// environment, that is all it does. Run by hand outside its folder, it
/// checks the registry lines alone and serves with a warning.
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
///     azure_functions_rocket::run(Registry::new().with(Function::timer("Tick", tick)))
/// }
/// ```
pub fn run(mut registry: Registry) -> ExitCode {
    #[cfg(feature = "tracing")]
    crate::events::install();
    if crate::worker::requested(std::env::args_os()) {
        return crate::worker::run(registry);
    }
    no_transparent_huge_pages();
    if std::env::var_os(METADATA_VARIABLE).is_some_and(|value| value == "1") {
        return print_metadata(&registry);
    }
    let check_only = std::env::var_os(CHECK_VARIABLE).is_some_and(|value| value == "1");
    let public = match AppFolder::root() {
        Some(root) => match prepare(&mut registry, &root) {
            Ok(public) => {
                if check_only {
                    let count = registry.iter().count();
                    println!(
                        "{}: {count} function(s) match their folders in {}",
                        app_name(),
                        root.display()
                    );
                }
                public
            }
            Err(problems) => {
                for problem in &problems {
                    eprintln!("{}: {problem}", app_name());
                }
                return fail(format_args!(
                    "not started: {} disagreement(s) between the registry and the app folder {}",
                    problems.len(),
                    root.display()
                ));
            }
        },
        None => {
            // Run by hand elsewhere, never by the host (which always sets
            // the app's folder).
            let problems = registry.declaration_problems();
            if !problems.is_empty() {
                for problem in &problems {
                    eprintln!("{}: {problem}", app_name());
                }
                return fail(format_args!(
                    "not started: {} problem(s) in the registry",
                    problems.len()
                ));
            }
            eprintln!(
                "{}: warning: not in this app's folder (no FUNCTIONS_APP_ROOT_PATH, and no host.json here that starts this binary): function folders not checked",
                app_name()
            );
            PublicRoutes::default()
        }
    };
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
    let code = runtime.block_on(serve(
        figment,
        registry,
        hardening,
        public,
        host_port.is_none(),
    ));
    if settings.shutdown.force {
        runtime.shutdown_timeout(Duration::from_millis(500));
    }
    code
}

/// Prints the registry's functions for [`METADATA_VARIABLE`]; a registry
/// the host would refuse prints nothing but the reasons.
#[inline(never)]
fn print_metadata(registry: &Registry) -> ExitCode {
    let problems = registry.declaration_problems();
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("{}: {problem}", app_name());
        }
        return fail(format_args!(
            "{} problem(s) in the registry",
            problems.len()
        ));
    }
    let functions = registry.iter().map(|function| {
        let bindings = std::iter::once(&function.trigger)
            .chain(&function.others)
            .collect();
        (function.name, bindings, false)
    });
    println!("{}", function_app::metadata_text(functions));
    ExitCode::SUCCESS
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
    public: PublicRoutes,
    by_hand: bool,
) -> ExitCode {
    let mut app = build(figment, registry, &hardening, public);
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
    let drained = rocket.state::<connections::Drained>().cloned();
    let stopping = {
        let invocations = invocations.clone();
        move || {
            if let Some(invocations) = &invocations {
                invocations.stop();
            }
        }
    };
    let drained = async move {
        match drained {
            Some(drained) => drained.0.notified().await,
            None => std::future::pending().await,
        }
    };
    let launched = until_signalled(rocket.launch(), signalled, shutdown, stopping, drained);
    // Every connection gone after the signal: nothing is left in flight.
    let failed = match launched.await {
        None | Some(Ok(_)) => None,
        Some(Err(error)) => Some(error),
    };
    match failed {
        None => match invocations.map(|i| i.unfinished()) {
            // The host hears of an invocation cut short only as a broken
            // connection: say so, and exit non-zero so that it restarts us.
            Some((dropped, running)) if dropped + running > 0 => fail(format_args!(
                "stopped without finishing every request: {} invocation(s) cut off by the shutdown ({} s grace)",
                dropped + running,
                grace
            )),
            _ => ExitCode::SUCCESS,
        },
        Some(error) => match error.kind() {
            // Requests still running after the grace and mercy periods.
            rocket::error::ErrorKind::Shutdown(..) => fail(format_args!(
                "stopped without finishing every request: {error}"
            )),
            _ => fail(format_args!("cannot serve on {address}: {error}")),
        },
    }
}

/// Checks `registry` against the app folder at `root` and plans how to
/// serve it in the mode host.json sets; every reason it cannot, one line
/// each.
fn prepare(registry: &mut Registry, root: &std::path::Path) -> Result<PublicRoutes, Vec<String>> {
    let app = AppFolder::read(root).map_err(|problem| vec![problem])?;
    registry.follow(&app);
    let mut problems = registry.declaration_problems();
    problems.extend(registry.mismatches(&app));
    let public = PublicRoutes::plan(registry, &app).unwrap_or_else(|more| {
        problems.extend(more);
        PublicRoutes::default()
    });
    if problems.is_empty() {
        Ok(public)
    } else {
        Err(problems)
    }
}

/// Resolves on the first SIGTERM (the platform stopping an instance) or
/// SIGINT (Ctrl-C); later ones are ignored, as the shutdown is under way.
#[cfg(unix)]
pub(crate) fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
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
pub(crate) fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
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
///
/// `None` when, once stopping, `drained` says every connection is gone:
/// Rocket would wait out its grace period all the same.
async fn until_signalled<T>(
    launch: impl Future<Output = T>,
    signalled: impl Future<Output = ()>,
    shutdown: Shutdown,
    stopping: impl Fn(),
    drained: impl Future<Output = ()>,
) -> Option<T> {
    tokio::pin!(launch, signalled, drained);
    let on_stop = stopping;
    let mut stopping = false;
    loop {
        tokio::select! {
            biased;
            output = &mut launch => return Some(output),
            _ = &mut signalled, if !stopping => {
                stopping = true;
                on_stop();
                shutdown.clone().notify();
            }
            _ = &mut drained, if stopping => return None,
        }
    }
}

fn fail(message: std::fmt::Arguments<'_>) -> ExitCode {
    eprintln!("{}: {message}", app_name());
    ExitCode::FAILURE
}

/// The app's name in its messages: its binary's file name, as the host's
/// log and a terminal know it.
pub(crate) fn app_name() -> String {
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
