//! The native language worker: when the Functions host starts the app's
//! binary as a language worker (its worker arguments on the command line),
//! [`crate::run`] speaks the host's gRPC protocol, `FunctionRpc.EventStream`,
//! instead of serving the custom-handler HTTP protocol
//! (docs/native-worker.md). Built with the library's `native` feature.

use std::ffi::OsString;
use std::process::ExitCode;

use crate::registry::Registry;

#[cfg(feature = "native")]
mod arguments;
#[cfg(feature = "native")]
mod capabilities;
#[cfg(feature = "native")]
mod http_uri;
#[cfg(feature = "native")]
mod invocation;
#[cfg(feature = "native")]
mod metadata;
#[cfg(feature = "native")]
mod rpc_http;
#[cfg(feature = "native")]
mod session;
#[cfg(all(test, feature = "native"))]
mod tests;
#[cfg(feature = "native")]
mod typed_data;

#[cfg(feature = "native")]
pub(crate) use http_uri::Handover;

/// Every flag the host passes; any one of them asks for worker mode.
pub(crate) const FLAGS: [&str; 9] = [
    "--functions-uri",
    "--functions-worker-id",
    "--functions-request-id",
    "--functions-grpc-max-message-length",
    "--host",
    "--port",
    "--workerId",
    "--requestId",
    "--grpcMaxMessageLength",
];

/// Whether `args` (the program name first) carry any of the host's
/// worker flags.
pub(crate) fn requested(args: impl Iterator<Item = OsString>) -> bool {
    args.skip(1).any(|arg| {
        let arg = arg.as_encoded_bytes();
        let flag = arg.split(|&byte| byte == b'=').next().unwrap_or(arg);
        FLAGS.iter().any(|known| known.as_bytes() == flag)
    })
}

/// Without the `native` feature, worker mode is refused with the reason.
#[cfg(not(feature = "native"))]
pub(crate) fn run(_: Registry) -> ExitCode {
    eprintln!(
        "{}: started as a language worker, but built without the `native` feature of azure-functions-rocket",
        crate::server::app_name()
    );
    ExitCode::FAILURE
}

/// Runs the worker for `registry` until the host's stream ends, the host
/// terminates it, or SIGTERM (in-flight invocations finish first).
#[cfg(feature = "native")]
pub(crate) fn run(registry: Registry) -> ExitCode {
    let name = crate::server::app_name();
    let args: Vec<OsString> = std::env::args_os().collect();
    let arguments = match arguments::parse(&args) {
        Ok(arguments) => arguments,
        Err(problem) => {
            eprintln!("{name}: {problem}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match rocket::tokio::runtime::Builder::new_multi_thread()
        .thread_name(name.clone())
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{name}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let end = runtime.block_on(async move {
        let stop = match crate::server::stop_signal() {
            Ok(stop) => stop,
            Err(error) => {
                return session::End::Broken(format!("cannot handle SIGTERM and SIGINT: {error}"));
            }
        };
        let server = match proxying(&registry) {
            None => None,
            Some(route_prefix) => {
                match http_uri::serve(&registry, &route_prefix, crate::config::figment(0)).await {
                    Ok(server) => Some(server),
                    Err(problem) => return session::End::Broken(problem),
                }
            }
        };
        let proxied = server.as_ref().map(|server| server.proxied.clone());
        let end = session::connect_and_serve(registry, arguments, proxied, stop).await;
        if let Some(server) = server {
            server.shutdown.notify();
        }
        end
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    end.exit_code(&name)
}

/// Whether the worker serves HTTP itself (`HttpUri`), and if so under
/// which route prefix: when a function is served by the app's own Rocket
/// routes, which only that road can reach, or when the app's host.json
/// asks the host to forward or proxy callers' requests, as it does for a
/// custom handler (docs/native-worker.md, "HTTP").
#[cfg(feature = "native")]
fn proxying(registry: &Registry) -> Option<String> {
    let host = host_json("");
    let own_routes = registry.iter().any(|function| !function.routes.is_empty());
    let asked = host.as_ref().is_some_and(|host| host.mode.forwards());
    (own_routes || asked).then(|| route_prefix(""))
}

/// The app's host.json, in `directory` (the working directory when
/// empty, where the host starts the worker): `None` when there is none
/// or it cannot be read, which the host itself reports.
#[cfg(feature = "native")]
fn host_json(directory: &str) -> Option<function_app::HostJson> {
    let path = std::path::Path::new(directory).join("host.json");
    let text = std::fs::read_to_string(path).ok()?;
    function_app::HostJson::parse(&text).ok()
}

/// The HTTP route prefix host.json sets, `api` by default.
#[cfg(feature = "native")]
pub(crate) fn route_prefix(directory: &str) -> String {
    host_json(directory).map_or_else(|| "api".to_owned(), |host| host.route_prefix)
}
