//! Every schedule the timer extension accepts: six or five NCRONTAB
//! fields, `%Setting%` from local.settings.json, a TimeSpan. Schedules are
//! read only for timers that fire, and a bad one stops only its timer.

mod support;

use std::path::Path;
use std::time::Duration;

use cargo_azfunc::handler::client::{HostClient, free_port};
use cargo_azfunc::limits::ServerLimits;
use cargo_azfunc::process::Process;
use support::{eventually, fake_app, write_file};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-azfunc");

fn timer(dir: &Path, name: &str, schedule: &str) {
    write_file(
        dir,
        &format!("{name}/function.json"),
        &format!(
            r#"{{"bindings":[{{"type":"timerTrigger","direction":"in","name":"timer","schedule":"{schedule}"}}]}}"#
        ),
    );
}

/// The fake app with a timer of each form and two bad ones.
fn app_with_every_form() -> tempfile::TempDir {
    let dir = fake_app();
    let root = dir.path();
    write_file(
        root,
        "local.settings.json",
        r#"{"IsEncrypted":false,"Values":{"FUNCTIONS_WORKER_RUNTIME":"custom","EverySecond":"* * * * * *"}}"#,
    );
    timer(root, "FiveFields", "* * * * *");
    timer(root, "FromSetting", "%EverySecond%");
    timer(root, "Span", "00:00:01");
    timer(root, "Unknown", "%NoSuchSetting%");
    timer(root, "Nonsense", "every now and then");
    dir
}

#[tokio::test]
async fn every_form_fires_and_a_bad_schedule_stops_only_its_timer() {
    let running = support::serve(app_with_every_form(), true, ServerLimits::default()).await;
    let (server, console) = (&running.server, &running.console);
    for name in ["FromSetting", "Span"] {
        assert!(
            eventually(Duration::from_secs(5), || console
                .contains(&format!("] {name} ran")))
            .await,
            "{name}: {:#?}",
            console.lines()
        );
    }
    assert!(console.contains(
        "[host] Unknown: the schedule names the app setting \"NoSuchSetting\", which local.settings.json's Values do not set: add it there: this timer does not fire; the other functions run"
    ));
    assert!(console.contains("[host] Nonsense: schedule \"every now and then\" has 4 fields"));
    // Five fields fire at second 0 of each minute: parsed, not reported.
    assert!(!console.contains("[host] FiveFields:"));
    let caller = HostClient::new(server.port());
    assert_eq!(caller.request("GET", "/api/echo", b"").await.status, 200);
}

/// The timer data each run of `name` got, from the fake handler's
/// "NAME ran {data}" lines.
fn runs(console: &cargo_azfunc::console::Console, name: &str) -> Vec<serde_json::Value> {
    let marker = format!("] {name} ran ");
    console
        .lines()
        .iter()
        .filter_map(|line| {
            line.text
                .split_once(&marker)
                .map(|(_, data)| data.to_owned())
        })
        .map(|data| serde_json::from_str(&data).expect("the timer data as JSON"))
        .collect()
}

fn startup_timer(dir: &Path, name: &str, schedule: &str, run_on_startup: Option<bool>) {
    let flag = run_on_startup.map_or(String::new(), |on| format!(r#","runOnStartup":{on}"#));
    write_file(
        dir,
        &format!("{name}/function.json"),
        &format!(
            r#"{{"bindings":[{{"type":"timerTrigger","direction":"in","name":"timer","schedule":"{schedule}"{flag}}}]}}"#
        ),
    );
}

#[tokio::test]
async fn run_on_startup_fires_once_at_once_and_only_when_asked() {
    let dir = fake_app();
    // Once a year, at midnight on 1 January: never during the test.
    let yearly = "0 0 0 1 1 *";
    startup_timer(dir.path(), "StartupYearly", yearly, Some(true));
    startup_timer(dir.path(), "StartupFalse", yearly, Some(false));
    startup_timer(dir.path(), "StartupUnset", yearly, None);
    startup_timer(dir.path(), "StartupEvery", "00:00:01", Some(true));
    let started = std::time::Instant::now();
    let running = support::serve(dir, true, ServerLimits::default()).await;
    let console = &running.console;
    assert!(
        eventually(Duration::from_secs(5), || runs(console, "StartupYearly")
            .len()
            == 1)
        .await,
        "{:#?}",
        console.lines()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let first = serde_json::json!({"timer": {"Schedule": {"AdjustForDST": true}, "ScheduleStatus": null, "IsPastDue": false}});
    assert_eq!(runs(console, "StartupYearly")[0], first);
    // Its schedule goes on: a TimeSpan timer runs on startup, then every
    // second, the next run knowing the startup run as its last.
    assert!(
        eventually(Duration::from_secs(5), || runs(console, "StartupEvery")
            .len()
            >= 2)
        .await,
        "{:#?}",
        console.lines()
    );
    let every = runs(console, "StartupEvery");
    assert_eq!(every[0], first);
    assert_eq!(every[1]["timer"]["IsPastDue"], false);
    assert!(
        every[1]["timer"]["ScheduleStatus"]["Last"].is_string(),
        "{every:#?}"
    );
    // Once only, and never for a timer that does not ask.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(runs(console, "StartupYearly").len(), 1);
    assert!(
        runs(console, "StartupFalse").is_empty(),
        "{:#?}",
        console.lines()
    );
    assert!(
        runs(console, "StartupUnset").is_empty(),
        "{:#?}",
        console.lines()
    );
    assert!(console.contains("] Executing (timer, runOnStartup)"));
}

#[tokio::test]
async fn run_on_startup_needs_timers() {
    let dir = fake_app();
    startup_timer(dir.path(), "StartupYearly", "0 0 0 1 1 *", Some(true));
    let running = support::serve(dir, false, ServerLimits::default()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(runs(&running.console, "StartupYearly").is_empty());
}

#[tokio::test]
async fn without_timers_no_schedule_is_read() {
    let running = support::serve(app_with_every_form(), false, ServerLimits::default()).await;
    let (server, console) = (&running.server, &running.console);
    let caller = HostClient::new(server.port());
    assert_eq!(caller.request("GET", "/api/echo", b"").await.status, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!console.contains("Unknown"), "{:#?}", console.lines());
    assert!(!console.contains("Span ran"));
}

#[tokio::test]
async fn an_overflowing_step_is_no_panic() {
    let dir = fake_app();
    timer(dir.path(), "Overflow", "1/4294967295 * * * * *");
    timer(dir.path(), "TooBig", "0 0 0 99999999999999999999 * *");
    let port = free_port();
    let port_text = port.to_string();
    let app = dir.path().to_str().expect("UTF-8").to_owned();
    let mut cargo_azfunc = Process::start_with_args(
        Path::new(BIN),
        &["start", "--timers", "--app", &app, "--port", &port_text],
        &[],
    )
    .expect("cargo-azfunc");
    let caller = HostClient::new(port);
    caller
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("serving");
    assert_eq!(caller.request("GET", "/api/echo", b"").await.status, 200);
    cargo_azfunc.terminate().expect("SIGTERM");
    let status = cargo_azfunc.wait_exit(Duration::from_secs(10));
    let (_, err) = cargo_azfunc.output();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("TooBig: schedule \"0 0 0 99999999999999999999 * *\": day: 99999999999999999999 is outside 1-31"),
        "{err}"
    );
    assert!(!err.contains("Overflow:"), "{err}");
}

#[test]
fn a_ready_timeout_too_large_is_a_bad_command_line() {
    let output = std::process::Command::new(BIN)
        .args(["start", "--ready-timeout", "1e20"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.starts_with(
            "error: invalid value '1e20' for '--ready-timeout <SECONDS>': not a number of seconds above 0 and at most 86400"
        ),
        "{err}"
    );
}
