//! Building the Rocket application and running it as the host expects.

use std::process::ExitCode;

use rocket::figment::Figment;
use rocket::shield::Shield;
use rocket::{Build, Rocket};

use crate::{config, routes};

/// The whole application, configured by `figment`.
pub fn rocket(figment: Figment) -> Rocket<Build> {
    rocket::custom(figment)
        // Shield's browser-hardening headers mean nothing to the Functions
        // host, the only client, and cost work on every response: an empty
        // Shield replaces the default one.
        .attach(Shield::new())
        .mount("/", routes::routes())
        .register("/", routes::catchers())
}

/// Serves until SIGTERM or Ctrl-C (exit 0). Any failure to start exits
/// non-zero: the host never restarts a handler that exited with 0.
pub async fn run() -> ExitCode {
    let port = match config::port_from_env() {
        Ok(port) => port,
        Err(error) => return fail(format_args!("{error}")),
    };
    let rocket = match rocket(config::figment(port)).ignite().await {
        Ok(rocket) => rocket,
        Err(error) => return fail(format_args!("invalid configuration: {error}")),
    };
    let address = format!("{}:{}", rocket.config().address, rocket.config().port);
    match rocket.launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => fail(format_args!("cannot serve on {address}: {error}")),
    }
}

fn fail(message: std::fmt::Arguments<'_>) -> ExitCode {
    eprintln!("{}: {message}", env!("CARGO_PKG_NAME"));
    ExitCode::FAILURE
}
