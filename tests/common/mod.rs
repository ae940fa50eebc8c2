//! What the tests need beyond `cargo_azfunc`, the project's one host
//! stand-in (its `client::HostClient` talks to a handler as the host does,
//! its `process::Process` runs a binary by hand): serving the app with
//! Rocket in this process, and starting the built handler binary.
#![allow(dead_code)] // Each test crate uses a different part of this.

use std::path::Path;

use cargo_azfunc::process::Process;
use rocket::fairing::AdHoc;
use rocket::tokio::sync::oneshot;
use rocket::{Shutdown, tokio};

/// The app, served in this process on a free port; stopped when dropped.
pub struct TestApp {
    pub port: u16,
    shutdown: Shutdown,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
    }
}

/// Starts the app as `main` would, but on a port the OS picks.
pub async fn spawn_app() -> TestApp {
    spawn_rocket(azure_functions_rocket::app(rusty_function::registry())).await
}

/// Serves `rocket` (configured for port 0) in this process on the port the
/// OS picks, e.g. the app with test-only routes added.
pub async fn spawn_rocket(rocket: rocket::Rocket<rocket::Build>) -> TestApp {
    let (port_tx, port_rx) = oneshot::channel();
    let rocket = rocket.attach(AdHoc::on_liftoff("report port", |rocket| {
        Box::pin(async move {
            let _ = port_tx.send(rocket.config().port);
        })
    }));
    let rocket = rocket.ignite().await.expect("valid configuration");
    let shutdown = rocket.shutdown();
    tokio::spawn(rocket.launch());
    let port = port_rx.await.expect("the app started");
    TestApp { port, shutdown }
}

/// The built handler binary, started by hand with `env` added to this
/// process's environment and no port variables but those in `env`; killed
/// when dropped.
pub fn start_binary(env: &[(&str, &str)]) -> Process {
    Process::start(Path::new(env!("CARGO_BIN_EXE_rusty_function")), env).expect("the binary starts")
}
