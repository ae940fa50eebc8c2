//! `start --watch` end to end: a new app served on one port, an edit to its
//! function picked up and answered on the same port, and a broken edit
//! leaving the last good build answering. The app builds into
//! `<workspace>/target/scaffold` with the workspace's Cargo.lock, as in
//! tests/scaffold.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cargo_azfunc::handler::client::{HostClient, free_port};
use cargo_azfunc::process::Process;
use support::tls::get_when_up;

mod support;

const BIN: &str = env!("CARGO_BIN_EXE_cargo-azfunc");

/// A cold build of the library and its dependencies can take minutes.
const BUILD_LIMIT: Duration = Duration::from_secs(900);

fn workspace() -> PathBuf {
    std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).expect("workspace")
}

/// The body of `GET path`, or `None` while nothing answers.
async fn answer(client: &HostClient, path: &str) -> Option<String> {
    let reply = tokio::time::timeout(
        Duration::from_secs(30),
        client.try_request_with("GET", path, &[], b"", 16 * 1024),
    )
    .await
    .ok()?
    .ok()?;
    Some(String::from_utf8_lossy(&reply.body).into_owned())
}

async fn wait_for_answer(client: &HostClient, expected: &str, limit: Duration, log: &Path) {
    let started = Instant::now();
    loop {
        if answer(client, "/api/Hello?name=x").await.as_deref() == Some(expected) {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "no {expected} after {limit:?}; cargo-azfunc said:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A new app `name` in `dir`, built with the workspace's Cargo.lock.
fn new_app(dir: &Path, name: &str) -> PathBuf {
    let app = dir.join(name);
    let created = Command::new(BIN)
        .args(["new", "app"])
        .arg(&app)
        .args(["--name", name])
        .output()
        .expect("cargo azfunc new app");
    assert!(created.status.success(), "{created:?}");
    std::fs::copy(workspace().join("Cargo.lock"), app.join("Cargo.lock")).expect("Cargo.lock");
    app
}

/// `start --watch` of `app` on `port` with `args`, its output in `log`.
fn start_watch(app: &Path, port: u16, log: &Path, args: &[&str]) -> Process {
    let file = std::fs::File::create(log).expect("log file");
    Process::from_child(
        Command::new(BIN)
            .args(["start", "--watch", "--port", &port.to_string(), "--app"])
            .arg(app)
            .args(args)
            .env("CARGO_TARGET_DIR", workspace().join("target/scaffold"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("cargo azfunc starts"),
    )
}

/// An edit to hello.rs that changes its greeting to "Howdy".
fn edit_greeting(app: &Path) -> String {
    let source = app.join("src/hello.rs");
    let original = std::fs::read_to_string(&source).expect("hello.rs");
    assert!(original.contains("\"Hello, {name}!\""), "{original}");
    std::fs::write(
        &source,
        original.replace("\"Hello, {name}!\"", "\"Howdy, {name}!\""),
    )
    .expect("edit");
    original
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_is_served_on_the_same_port_and_a_broken_one_keeps_the_last_build() {
    let temp = tempfile::tempdir().expect("temp dir");
    let app = new_app(temp.path(), "watch_app");
    let log = temp.path().join("cargo-azfunc.log");
    let port = free_port();
    let _host = start_watch(&app, port, &log, &[]);
    let client = HostClient::new(port);
    wait_for_answer(&client, r#"{"message":"Hello, x!"}"#, BUILD_LIMIT, &log).await;

    let source = app.join("src/hello.rs");
    let saved = Instant::now();
    let original = edit_greeting(&app);
    wait_for_answer(&client, r#"{"message":"Howdy, x!"}"#, BUILD_LIMIT, &log).await;
    eprintln!("save to new answer: {:.1} s", saved.elapsed().as_secs_f64());

    std::fs::write(&source, format!("{original}\nfn broken( {{\n")).expect("broken edit");
    let started = Instant::now();
    loop {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        if said.contains("still serving the last good build") {
            break;
        }
        assert!(
            started.elapsed() < BUILD_LIMIT,
            "the broken build was not reported; cargo-azfunc said:\n{said}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        answer(&client, "/api/Hello?name=x").await.as_deref(),
        Some(r#"{"message":"Howdy, x!"}"#)
    );
    // The compiler's own error is shown.
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(said.contains("error"), "{said}");
    assert!(said.contains("src/hello.rs"), "{said}");

    // A build that compiles but whose handler exits at once: the host
    // would stop after its third failure; --watch goes on with the last
    // good build, and says only that.
    std::fs::write(&source, &original).expect("restore hello.rs");
    let main_rs = app.join("src/main.rs");
    let main = std::fs::read_to_string(&main_rs).expect("main.rs");
    let entry = "fn main() -> ExitCode {\n";
    assert!(main.contains(entry), "{main}");
    std::fs::write(
        &main_rs,
        main.replace(entry, &format!("{entry}    std::process::exit(3);\n")),
    )
    .expect("an edit that exits at start");
    let before = said.len();
    let started = Instant::now();
    let said = loop {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        if said[before..].contains("[watch] the new build's handler did not start") {
            break said;
        }
        assert!(
            started.elapsed() < BUILD_LIMIT,
            "the build that exits was not reported; cargo-azfunc said:\n{said}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let after = &said[before..];
    assert!(
        after.contains("still serving the last good build"),
        "{after}"
    );
    assert!(!after.contains("the host stops"), "{after}");
    assert_eq!(
        answer(&client, "/api/Hello?name=x").await.as_deref(),
        Some(r#"{"message":"Howdy, x!"}"#)
    );
}

/// `--watch --useHttps`: the public port serves TLS with the certificate
/// made at start, the same one before and after a rebuild, and the
/// handler is told to trust it each time it starts.
#[tokio::test(flavor = "multi_thread")]
async fn use_https_keeps_its_certificate_across_a_rebuild() {
    let temp = tempfile::tempdir().expect("temp dir");
    let app = new_app(temp.path(), "watch_tls");
    let log = temp.path().join("cargo-azfunc.log");
    let port = free_port();
    let _host = start_watch(&app, port, &log, &["--useHttps"]);
    let said = || std::fs::read_to_string(&log).unwrap_or_default();

    let started = Instant::now();
    let trust = loop {
        let text = said();
        let named = text
            .split_once("SSL_CERT_FILE=")
            .and_then(|(_, rest)| rest.split_once(" ("))
            .map(|(file, _)| PathBuf::from(file));
        if let Some(file) = named {
            break file;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no trust file named; cargo-azfunc said:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let hello = "/api/Hello?name=x";
    let first = get_when_up(&trust, port, hello, BUILD_LIMIT)
        .await
        .unwrap_or_else(|e| panic!("{e}; cargo-azfunc said:\n{}", said()));
    assert_eq!(first.body, r#"{"message":"Hello, x!"}"#);
    assert!(
        said().contains(&format!("https://localhost:{port}")),
        "{}",
        said()
    );

    edit_greeting(&app);
    let started = Instant::now();
    let second = loop {
        let reply = get_when_up(&trust, port, hello, BUILD_LIMIT)
            .await
            .unwrap_or_else(|e| panic!("{e}; cargo-azfunc said:\n{}", said()));
        if reply.body == r#"{"message":"Howdy, x!"}"# {
            break reply;
        }
        assert_eq!(reply.body, r#"{"message":"Hello, x!"}"#);
        assert!(
            started.elapsed() < BUILD_LIMIT,
            "the edit was not served; cargo-azfunc said:\n{}",
            said()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(!first.certificate.is_empty());
    assert_eq!(second.certificate, first.certificate);
    assert!(
        said().contains("[watch] serving the new build on https://"),
        "{}",
        said()
    );
}
