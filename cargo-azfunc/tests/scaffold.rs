//! `new app`, `new function`, `check` and `--build`, end to end: a new app
//! gets functions of every trigger, builds, passes its own tests, serves
//! through `start --build` and runs through `invoke --build`; every refusal
//! leaves the folder as it was.
//!
//! The apps build into `<workspace>/target/scaffold` (shared across runs,
//! and apart from the target folder the outer cargo holds locked) with the
//! workspace's Cargo.lock, so nothing beyond the apps themselves compiles.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use cargo_azfunc::handler::client::{HostClient, free_port};
use cargo_azfunc::process::Process;

const BIN: &str = env!("CARGO_BIN_EXE_cargo-azfunc");

/// A cold build of the library and its dependencies can take minutes.
const BUILD_LIMIT: Duration = Duration::from_secs(900);

fn workspace() -> PathBuf {
    std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).expect("workspace")
}

fn target_dir() -> String {
    workspace()
        .join("target/scaffold")
        .to_string_lossy()
        .into_owned()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn cargo_azfunc(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("cargo-azfunc runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path(dir: &Path) -> &str {
    dir.to_str().expect("UTF-8 temp path")
}

fn succeeded(output: &Output) -> String {
    let out = text(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}\n{out}\n{}",
        output.status,
        text(&output.stderr)
    );
    out
}

/// A new app `name` in a fresh temp folder, with the workspace's
/// Cargo.lock so that it builds with the crate versions already built.
fn new_app(name: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("temp dir");
    let app = temp.path().join(name);
    succeeded(&cargo_azfunc(&["new", "app", path(&app), "--name", name]));
    std::fs::copy(workspace().join("Cargo.lock"), app.join("Cargo.lock")).expect("Cargo.lock");
    (temp, app)
}

/// Every file and folder under `dir` but `target`, relative, sorted.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).expect("list").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            found.push(path.strip_prefix(dir).expect("inside").to_path_buf());
        }
    }
    found.sort();
    found
}

/// cargo-azfunc as a child process, stopped with SIGTERM when dropped (so
/// that it stops its handler too) and killed if that fails.
struct Running(Process);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.terminate();
        if self.0.wait_exit(Duration::from_secs(10)).is_none() {
            let _ = self.0.child.kill();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_app_builds_tests_serves_and_invokes() {
    let (_temp, app) = new_app("scaffold_main");
    let app_arg = path(&app);
    for function in [
        &["Squares", "--queue", "sides", "--output-queue", "squares"][..],
        &[
            "Tick",
            "--timer",
            "0 */5 * * * *",
            "--blob-output",
            "ticks/{rand-guid}.json",
        ],
        &[
            "Items",
            "--http",
            "--route",
            "items/{id?}",
            "--methods",
            "get",
            "--blob-output",
            "items/latest.json",
        ],
        &["Drain", "--queue", "%DRAIN_QUEUE%"],
    ] {
        let mut args = vec!["new", "function"];
        args.extend_from_slice(function);
        args.extend_from_slice(&["--app", app_arg]);
        succeeded(&cargo_azfunc(&args));
    }
    let main_rs = std::fs::read_to_string(app.join("src/lib.rs")).expect("lib.rs");
    assert!(
        main_rs.contains("mod drain;\nmod hello;\nmod items;\nmod squares;\nmod tick;\n"),
        "{main_rs}"
    );
    assert!(
        main_rs.contains(
            r#"        .with(
            Function::queue("Squares", squares::run)
                .queue_name("sides")
                .output(Binding::queue("squares", "squares")),
        )"#
        ),
        "{main_rs}"
    );
    assert!(
        main_rs.contains("use azure_functions_rocket::{AuthLevel, Binding, Function, Registry};"),
        "{main_rs}"
    );

    // What `new` writes is as rustfmt would have it.
    let sources: Vec<PathBuf> = listing(&app.join("src"))
        .into_iter()
        .map(|file| app.join("src").join(file))
        .collect();
    let fmt = Command::new("rustfmt")
        .args(["--check", "--edition", "2024"])
        .args(&sources)
        .output()
        .expect("rustfmt is missing: install it with `rustup component add rustfmt`");
    assert!(fmt.status.success(), "{}", text(&fmt.stdout));

    let tested = Command::new(cargo())
        .args(["test", "--quiet"])
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("cargo test runs");
    let out = succeeded(&tested);
    assert!(out.contains("5 passed"), "{out}");

    let before = listing(&app);
    let port = free_port();
    let port_text = port.to_string();
    let running = Running(
        Process::start_with_args(
            Path::new(BIN),
            &["start", "--app", app_arg, "--port", &port_text, "--build"],
            &[("CARGO_TARGET_DIR", &target_dir())],
        )
        .expect("cargo azfunc starts"),
    );
    let caller = HostClient::new(port);
    caller.wait_ready(BUILD_LIMIT).await.expect("serving");
    let reply = caller.request("GET", "/api/Hello?name=x", b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(text(&reply.body), r#"{"message":"Hello, x!"}"#);
    let reply = caller
        .request("POST", "/api/hello", br#"{"name": "y"}"#)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(text(&reply.body), r#"{"message":"Hello, y!"}"#);
    let reply = caller.request("GET", "/api/items/7?name=z", b"").await;
    assert_eq!(text(&reply.body), r#"{"message":"Hello, z!"}"#);
    drop(running);
    // It wrote the function folders the registry declares, and its list of
    // them, nothing else.
    let after = listing(&app);
    let added: Vec<&PathBuf> = after.iter().filter(|p| !before.contains(p)).collect();
    let mut expected: Vec<PathBuf> = vec![PathBuf::from(".azfunc-generated.json")];
    for folder in ["Drain", "Hello", "Items", "Squares", "Tick"] {
        expected.push(PathBuf::from(folder));
        expected.push(Path::new(folder).join("function.json"));
    }
    expected.sort();
    assert_eq!(added, expected.iter().collect::<Vec<_>>());
    assert!(before.iter().all(|p| after.contains(p)));
    let before = after;

    let message = app.join("../three.txt");
    std::fs::write(&message, "3").expect("write the message");
    let invoked = cargo_azfunc(&[
        "invoke",
        "Squares",
        "--app",
        app_arg,
        "--data-file",
        path(&message),
        "--build",
    ]);
    let out = succeeded(&invoked);
    assert!(
        out.contains(r#"] queue squares <- {"received":3}"#),
        "{out}"
    );
    assert!(out.contains("] Succeeded"), "{out}");
    assert_eq!(
        listing(&app),
        before,
        "invoke --build wrote into the app folder"
    );
}

#[test]
fn check_passes_a_new_app_and_reports_what_to_change() {
    let (_temp, app) = new_app("scaffold_check");
    let app_arg = path(&app);
    let checked = cargo_azfunc(&["check", "--app", app_arg, "--build"]);
    let out = succeeded(&checked);
    assert!(
        out.contains("ok: handler: scaffold_check: 1 function(s) match their folders in"),
        "{out}"
    );
    assert!(
        out.ends_with(&format!("cargo azfunc check: all is well in {app_arg}\n")),
        "{out}"
    );

    // check --build wrote the folder the registry declares.
    assert!(
        out.contains("note: wrote Hello/function.json from the registry"),
        "{out}"
    );
    assert!(
        out.contains("ok: the function folders say what the registry declares (1 function(s))"),
        "{out}"
    );

    // A folder edited by hand is hand-kept: the handler reads its names,
    // and check shows each difference from the registry.
    let function_json = app.join("Hello/function.json");
    let original = std::fs::read_to_string(&function_json).expect("function.json");
    std::fs::write(
        &function_json,
        original.replace(r#""name": "req""#, r#""name": "request""#),
    )
    .expect("rename the binding");
    let checked = cargo_azfunc(&["check", "--app", app_arg, "--build"]);
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked.stderr));
    let out = text(&checked.stdout);
    assert!(
        out.contains("ok: handler: scaffold_check: 1 function(s) match their folders in"),
        "{out}"
    );
    assert!(
        out.contains(r#"problem: Hello/function.json (hand-kept): binding "req" is missing: the registry declares"#),
        "{out}"
    );
    assert!(
        out.contains(
            r#"problem: Hello/function.json (hand-kept): binding "request" is not in the registry"#
        ),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&function_json).expect("function.json"),
        original.replace(r#""name": "req""#, r#""name": "request""#),
        "a hand-kept file is never written"
    );
    std::fs::write(&function_json, original).expect("restore");

    let host_json = app.join("host.json");
    let host = std::fs::read_to_string(&host_json).expect("host.json");
    std::fs::write(
        &host_json,
        host.replace(
            r#""enableForwardingHttpRequest": false"#,
            r#""enableForwardingHttpRequest": true"#,
        ),
    )
    .expect("turn forwarding on");
    // The library serves forwarding mode: a note, and the handler agrees.
    let checked = cargo_azfunc(&["check", "--app", app_arg, "--build"]);
    let out = text(&checked.stdout);
    assert_eq!(checked.status.code(), Some(0), "{out}");
    assert!(
        out.contains("note: host.json: customHandler.enableForwardingHttpRequest is true: "),
        "{out}"
    );
}

/// A refused `new`: exit 2, the one error line, and nothing written.
fn refused(args: &[&str], app: Option<&Path>) -> String {
    let before = app.map(listing);
    let output = cargo_azfunc(args);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    if let (Some(app), Some(before)) = (app, before) {
        assert_eq!(listing(app), before, "a refusal wrote files");
    }
    text(&output.stderr)
}

#[test]
fn new_refuses_what_it_cannot_do_cleanly() {
    let temp = tempfile::tempdir().expect("temp dir");
    let app = temp.path().join("app");
    let app_arg = path(&app);
    succeeded(&cargo_azfunc(&["new", "app", app_arg]));
    let toml = std::fs::read_to_string(app.join("Cargo.toml")).expect("Cargo.toml");
    assert!(toml.contains("name = \"app\""), "{toml}");

    assert_eq!(
        refused(&["new", "app", app_arg], Some(&app)),
        format!(
            "cargo-azfunc: error: {app_arg} exists and is not empty: give a new or empty folder\n"
        )
    );
    let fresh = temp.path().join("fresh");
    assert_eq!(
        refused(&["new", "app", path(&fresh), "--name", "1app"], None),
        "cargo-azfunc: error: \"1app\" is not a valid crate name: a crate name starts with a letter or `_`; pass --name NAME\n"
    );
    assert!(!fresh.exists());

    let function = |args: &[&str]| {
        let mut all = vec!["new", "function"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--app", app_arg]);
        refused(&all, Some(&app))
    };
    assert_eq!(
        function(&["Hello", "--http"]),
        "cargo-azfunc: error: the module hello already exists (src/hello.rs or src/hello/): choose another function name\n"
    );
    std::fs::create_dir(app.join("Taken")).expect("a folder");
    assert_eq!(
        function(&["TAKEN", "--http"]),
        format!(
            "cargo-azfunc: error: the folder Taken already exists in {app_arg}, and function names are case-insensitive; choose another name\n"
        )
    );
    std::fs::remove_dir(app.join("Taken")).expect("removed");
    assert_eq!(
        function(&["9lives", "--http"]),
        "cargo-azfunc: error: \"9lives\" is not a valid function name: it starts with a letter and has only letters, digits, `_` and `-`, at most 127 characters\n"
    );
    let two = function(&["Both", "--http", "--timer", "0 0 * * * *"]);
    assert!(
        two.starts_with("error: the argument '--http' cannot be used with '--timer <NCRONTAB>'\n"),
        "{two}"
    );
    assert!(
        function(&["Bad", "--timer", "0 61 * * * *"])
            .starts_with("cargo-azfunc: error: --timer: schedule \"0 61 * * * *\""),
    );

    std::fs::write(
        app.join("src/lib.rs"),
        "pub fn registry() -> azure_functions_rocket::Registry {\n    let registry = azure_functions_rocket::Registry::new();\n    registry\n}\n",
    )
    .expect("another lib.rs");
    assert_eq!(
        function(&["Other", "--queue", "jobs"]),
        format!(
            "cargo-azfunc: error: {app_arg}/src/lib.rs is not in the shape `cargo azfunc new app` writes (a `pub fn registry() -> Registry` whose body is one `Registry::new()` chain), so nothing was written; to add the function by hand, write src/other.rs, and add `mod other;`, `use azure_functions_rocket::{{Function, Registry}};` and, to the registry, `.with(Function::queue(\"Other\", other::run).queue_name(\"jobs\"))`\n"
        )
    );
}

#[test]
fn the_cd_it_prints_goes_to_the_new_app_when_its_path_has_a_space_or_a_quote() {
    let temp = tempfile::tempdir().expect("temp dir");
    let app = temp.path().join("it's a space");
    let out = succeeded(&cargo_azfunc(&[
        "new",
        "app",
        path(&app),
        "--name",
        "spaced",
    ]));
    let cd = out
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("cd "))
        .unwrap_or_else(|| panic!("no cd line:\n{out}"));
    let shell = Command::new("sh")
        .arg("-c")
        .arg(format!("{cd} && pwd -P"))
        .output()
        .expect("sh runs");
    let landed = succeeded(&shell);
    assert_eq!(
        Path::new(landed.trim_end_matches('\n')),
        std::fs::canonicalize(&app).expect("the app's folder"),
        "{cd}"
    );
}
