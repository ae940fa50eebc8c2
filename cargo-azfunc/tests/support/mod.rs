//! A fake app for the tests: host.json pointing at a small Python handler
//! (support/fake_handler.py) and function folders of every trigger kind.
#![allow(dead_code)] // Each test crate uses a different part of this.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cargo_azfunc::console::Console;
use cargo_azfunc::handler::Handler;
use cargo_azfunc::handler::client::HostClient;
use cargo_azfunc::host::served::ServedApp;
use cargo_azfunc::host::server::Server;
use cargo_azfunc::limits::ServerLimits;
use tempfile::TempDir;

pub mod cli_run;
pub mod tls;

const FAKE_HANDLER: &str = include_str!("fake_handler.py");

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folder");
    }
    std::fs::write(path, text).expect("write file");
}

/// An HTTP function `name` (get and post, anonymous), at `route` if given.
pub fn http_function(dir: &Path, name: &str, route: Option<&str>) {
    let route = route.map_or(String::new(), |r| format!(r#","route":"{r}""#));
    write(
        dir,
        &format!("{name}/function.json"),
        &format!(
            r#"{{"bindings":[{{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["get","post"]{route}}},{{"type":"http","direction":"out","name":"$return"}}]}}"#
        ),
    );
}

/// An app folder whose handler is the fake Python handler, with functions
/// Echo (route echo/{id?}), Fail, Text, Exit, Flood (an endless reply),
/// Sink (a short reply whatever it gets), Reply (answers what the caller's
/// body says: see fake_handler.py) (HTTP), Queue (queue in and out)
/// and Tick (a timer every second).
pub fn fake_app() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(root, "handler.py", FAKE_HANDLER);
    make_executable(&root.join("handler.py"));
    write(
        root,
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler.py","arguments":["--flag"]},"enableForwardingHttpRequest":false}}"#,
    );
    write(
        root,
        "local.settings.json",
        r#"{"IsEncrypted":false,"Values":{"FUNCTIONS_WORKER_RUNTIME":"custom","FROM_SETTINGS":"yes"}}"#,
    );
    http_function(root, "Echo", Some("echo/{id?}"));
    http_function(root, "Fail", None);
    http_function(root, "Text", None);
    http_function(root, "Exit", None);
    http_function(root, "Flood", None);
    http_function(root, "Sink", None);
    http_function(root, "Reply", None);
    write(
        root,
        "Queue/function.json",
        r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"item","queueName":"radii","connection":"AzureWebJobsStorage"},{"type":"queue","direction":"out","name":"areas","queueName":"areas","connection":"AzureWebJobsStorage"}]}"#,
    );
    write(
        root,
        "Tick/function.json",
        r#"{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"* * * * * *"}]}"#,
    );
    dir
}

pub fn write_file(dir: &Path, file: &str, text: &str) {
    write(dir, file, text);
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = std::fs::metadata(path).expect("metadata").permissions();
    permissions.set_mode(0o755);
    std::fs::set_permissions(path, permissions).expect("chmod");
}

/// Polls `condition` every 20 ms until it holds or `limit` passes.
pub async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}

/// An app served by cargo-azfunc's server, in this process, its console
/// quiet (read back by the tests), and the folder it lives in.
pub struct Serving {
    /// A caller of cargo-azfunc's front door.
    pub caller: HostClient,
    pub console: Console,
    pub handler: Arc<Handler>,
    pub server: Server,
    pub dir: TempDir,
}

/// Serves the app in `dir` with `limits`; with `timers`, timers fire.
pub async fn serve(dir: TempDir, timers: bool, limits: ServerLimits) -> Serving {
    let app = ServedApp::start_with(dir.path(), None, timers, limits)
        .await
        .expect("the app is served");
    Serving {
        caller: app.caller,
        console: app.console,
        handler: app.handler,
        server: app.server,
        dir,
    }
}
