//! `check`: what in an app folder the handler or the host would mishandle,
//! before anything runs: host.json and local.settings.json settings, the
//! function.json values cargo-azfunc can judge, and the handler's own
//! start-up check of its registry against the function folders.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use function_app::environment::{APP_ROOT_VARIABLE, CHECK_VARIABLE, PORT_VARIABLES};
use function_app::{RouteTemplate, property, queue_binding_problem};

use crate::app::{AppFolder, TriggerKind, read_json};
use crate::timers::schedule::TimerSchedule;

/// How long the handler gets to check its folders and exit.
pub const HANDLER_LIMIT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Needs changing: `check` exits 1.
    Problem,
    /// Worth knowing; not a failure.
    Note,
    /// A check that passed, worth saying.
    Ok,
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub text: String,
}

impl Finding {
    fn problem(text: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Problem,
            text: text.into(),
        }
    }

    fn note(text: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Note,
            text: text.into(),
        }
    }

    fn ok(text: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Ok,
            text: text.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Problem => "problem",
            Severity::Note => "note",
            Severity::Ok => "ok",
        };
        write!(f, "{label}: {}", self.text)
    }
}

/// The settings of host.json, local.settings.json and the function.json
/// files that the host or the handler would mishandle. `built`: the
/// handler comes from `--build`, so a missing `defaultExecutablePath` only
/// matters for publishing.
pub fn settings(app: &AppFolder, built: bool) -> Vec<Finding> {
    let mut found = Vec::new();
    let host = read_json(&app.root.join("host.json")).unwrap_or(Value::Null);
    host_json(app, &host, built, &mut found);
    local_settings(app, &mut found);
    functions(app, &mut found);
    found
}

fn host_json(app: &AppFolder, host: &Value, built: bool, found: &mut Vec<Finding>) {
    match property(host, "version").and_then(Value::as_str) {
        Some("2.0") => {}
        other => found.push(Finding::problem(format!(
            "host.json: \"version\" is {}; the host reads only \"2.0\": set \"version\": \"2.0\"",
            other.map_or("missing".to_owned(), |v| format!("{v:?}"))
        ))),
    }
    let custom = property(host, "customHandler");
    for (setting, mode) in [
        ("enableForwardingHttpRequest", "forwarding"),
        ("enableProxyingHttpRequest", "proxying"),
    ] {
        if custom
            .and_then(|c| property(c, setting))
            .and_then(Value::as_bool)
            == Some(true)
        {
            found.push(Finding::note(format!(
                "host.json: customHandler.{setting} is true: in {mode} mode the host sends each HTTP function with one httpTrigger and one http output the caller's request itself, at its public path, and returns the handler's response as is; the handler must serve those paths (an azure-functions-rocket handler does)"
            )));
        }
    }
    let non_http: Vec<&str> = app
        .functions
        .iter()
        .filter(|f| f.trigger_kind() != TriggerKind::Http)
        .map(|f| f.name.as_str())
        .collect();
    if !non_http.is_empty() && property(host, "extensionBundle").is_none() {
        found.push(Finding::problem(format!(
            "host.json: no extensionBundle, which the host needs for every trigger but HTTP ({}): add \"extensionBundle\": {{\"id\": \"Microsoft.Azure.Functions.ExtensionBundle\", \"version\": \"[4.*, 5.0.0)\"}}",
            non_http.join(", ")
        )));
    }
    executable(app, built, found);
    function_timeout(app, found);
    let working = app.working_directory();
    if !working.is_dir() {
        found.push(Finding::problem(format!(
            "host.json: customHandler.description.workingDirectory {} is not a folder: the handler could not start there; create it or remove the setting",
            working.display()
        )));
    }
}

/// The Consumption plan's ceiling for functionTimeout; AppFolder::load has
/// already refused what no plan takes.
const CONSUMPTION_MAX_TIMEOUT: Duration = Duration::from_secs(10 * 60);

fn function_timeout(app: &AppFolder, found: &mut Vec<Finding>) {
    let plans = "fine on Premium, Dedicated and Flex Consumption, but the host refuses to start with it on the Consumption plan, whose limit is 00:10:00";
    match app.host.function_timeout {
        None => found.push(Finding::note(format!(
            "host.json: functionTimeout \"-1\" (no limit) is {plans}"
        ))),
        Some(timeout) if timeout > CONSUMPTION_MAX_TIMEOUT => found.push(Finding::note(format!(
            "host.json: functionTimeout {} is {plans}",
            crate::dotnet::timespan_to_string(timeout)
        ))),
        Some(_) => {}
    }
}

fn executable(app: &AppFolder, built: bool, found: &mut Vec<Finding>) {
    let path = app.executable_path();
    let named = app.executable();
    match std::fs::metadata(&path) {
        Err(_) if built => found.push(Finding::note(format!(
            "host.json: defaultExecutablePath {named:?} is not in the app folder yet: checked the cargo build instead; to publish, copy the release build there"
        ))),
        Err(_) => found.push(Finding::problem(format!(
            "host.json: defaultExecutablePath {named:?}: no such file in the app folder, so the host cannot start the handler: build it and copy it there, or run `cargo azfunc check --build` to check a fresh build"
        ))),
        Ok(meta) if !meta.is_file() => found.push(Finding::problem(format!(
            "host.json: defaultExecutablePath {named:?} is not a file: point it at the handler binary"
        ))),
        Ok(meta) => {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o111 == 0 {
                found.push(Finding::problem(format!(
                    "host.json: defaultExecutablePath {named:?} is not executable: chmod +x {}",
                    path.display()
                )));
            }
        }
    }
}

fn local_settings(app: &AppFolder, found: &mut Vec<Finding>) {
    let path = app.root.join("local.settings.json");
    if !path.is_file() {
        found.push(Finding::note(
            "no local.settings.json: `func start` needs one with \"Values\": {\"FUNCTIONS_WORKER_RUNTIME\": \"custom\"} (on Azure it is an app setting)",
        ));
        return;
    }
    let json = read_json(&path).unwrap_or(Value::Null);
    if property(&json, "IsEncrypted").and_then(Value::as_bool) == Some(true) {
        found.push(Finding::problem(
            "local.settings.json: \"IsEncrypted\" is true: cargo-azfunc passes the Values as written, so the handler would get ciphertext: run `func settings decrypt`, or set it to false with plain values",
        ));
    }
    let setting = |name: &str| app.settings.value(name);
    match setting("FUNCTIONS_WORKER_RUNTIME") {
        Some(runtime) if runtime.eq_ignore_ascii_case("custom") => {}
        other => found.push(Finding::problem(format!(
            "local.settings.json: FUNCTIONS_WORKER_RUNTIME is {}; a custom handler needs \"custom\", or the host looks for another language's worker: set \"FUNCTIONS_WORKER_RUNTIME\": \"custom\" in Values (and as an app setting on Azure)",
            other.map_or("missing".to_owned(), |v| format!("{v:?}"))
        ))),
    }
    let non_http = app
        .functions
        .iter()
        .any(|f| f.trigger_kind() != TriggerKind::Http);
    if non_http && setting("AzureWebJobsStorage").is_none_or(|s| s.trim().is_empty()) {
        found.push(Finding::note(
            "local.settings.json: AzureWebJobsStorage is empty: `func start` needs a storage connection for triggers other than HTTP (e.g. \"UseDevelopmentStorage=true\" with Azurite); cargo-azfunc does not",
        ));
    }
}

fn functions(app: &AppFolder, found: &mut Vec<Finding>) {
    for function in &app.functions {
        let at = format!("{}/function.json", function.name);
        let trigger = function.trigger();
        match function.trigger_kind() {
            TriggerKind::Http if trigger.auth_level.is_none() => found.push(Finding::note(format!(
                "{at}: no authLevel, so it is \"function\": on Azure a caller needs a function key; set \"authLevel\": \"anonymous\" for a public function"
            ))),
            TriggerKind::Timer => {
                if let Some(problem) = schedule_problem(app, trigger.schedule.as_deref()) {
                    found.push(Finding::problem(format!("{at}: {problem}")));
                }
            }
            TriggerKind::Queue
                if trigger
                    .queue_name
                    .as_deref()
                    .is_none_or(|q| q.trim().is_empty()) =>
            {
                found.push(Finding::problem(format!(
                    "{at}: the queue trigger has no queueName: the host does not know which queue to read; add \"queueName\""
                )));
            }
            _ => {}
        }
        if function.trigger_kind() == TriggerKind::Http {
            let route = trigger
                .route
                .as_deref()
                .filter(|route| !route.trim().is_empty())
                .unwrap_or(&function.name);
            if let Some(problem) = RouteTemplate::problem(&app.host.route_prefix, route) {
                found.push(Finding::problem(format!("{at}: {problem}")));
            }
        }
        let queues = function
            .bindings
            .iter()
            .filter(|b| b.is_kind("queue") || b.is_kind("queueTrigger"));
        for binding in queues {
            let Some(queue) = binding
                .queue_name
                .as_deref()
                .filter(|q| !q.trim().is_empty())
            else {
                continue;
            };
            if let Some(problem) = queue_binding_problem(queue, |name| app_setting(app, name)) {
                found.push(Finding::problem(format!(
                    "{at}: binding {:?}: {problem}; the host does not load a function with it",
                    binding.name
                )));
            }
        }
    }
}

/// An app setting as the host's name resolver finds it: local.settings.json's
/// Values, then the environment.
fn app_setting(app: &AppFolder, name: &str) -> Option<String> {
    app.settings
        .value(name)
        .map(str::to_owned)
        .or_else(|| std::env::var(name).ok())
}

/// What is wrong with a timer's schedule, if anything: every form the
/// timer extension takes (six or five NCRONTAB fields, a TimeSpan, `%NAME%`
/// from local.settings.json's Values) is parsed as `start --timers` would.
fn schedule_problem(app: &AppFolder, schedule: Option<&str>) -> Option<String> {
    let Some(schedule) = schedule.map(str::trim).filter(|s| !s.is_empty()) else {
        return Some(
            "the timer trigger has no schedule: add \"schedule\", e.g. \"0 */5 * * * *\"".into(),
        );
    };
    TimerSchedule::parse(schedule, &app.settings.values).err()
}

/// Runs `executable` in check-only mode in the app folder and reads its
/// verdict: its stdout lines when it exits 0, its stderr lines as problems
/// otherwise.
pub fn handler(app: &AppFolder, executable: &Path, limit: Duration) -> Vec<Finding> {
    let root = std::fs::canonicalize(&app.root).unwrap_or_else(|_| app.root.clone());
    let shown = executable.display();
    let mut command = Command::new(executable);
    command
        .current_dir(&root)
        .env(CHECK_VARIABLE, "1")
        .env(APP_ROOT_VARIABLE, &root)
        .env_remove(PORT_VARIABLES[0])
        .env_remove(PORT_VARIABLES[1])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (mut child, _registered) = match crate::process::children::spawn_std(&mut command) {
        Ok(child) => child,
        Err(e) => {
            return vec![Finding::problem(format!(
                "cannot run the handler {shown}: {e}"
            ))];
        }
    };
    // Read both pipes while waiting, so that a talkative handler cannot
    // block on a full pipe.
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let Some(status) = status else {
        return vec![Finding::problem(format!(
            "the handler {shown} did not finish its check within {} s: is it built on azure-functions-rocket, which checks and exits when {CHECK_VARIABLE}=1?",
            limit.as_secs()
        ))];
    };
    let mut found = Vec::new();
    if status.success() {
        found.extend(
            stdout
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Finding::ok(format!("handler: {l}"))),
        );
        found.extend(
            stderr
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Finding::note(format!("handler: {l}"))),
        );
    } else {
        found.extend(
            stderr
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Finding::problem(format!("handler: {l}"))),
        );
        if found.is_empty() {
            found.push(Finding::problem(format!(
                "the handler {shown} failed its check ({status}) without saying why"
            )));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("dir");
        }
        std::fs::write(path, text).expect("write");
    }

    fn problems(found: &[Finding]) -> Vec<&str> {
        found
            .iter()
            .filter(|f| f.severity == Severity::Problem)
            .map(|f| f.text.as_str())
            .collect()
    }

    #[test]
    fn reports_each_setting_the_host_would_mishandle() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "host.json",
            r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"app"},"enableForwardingHttpRequest":true,"enableProxyingHttpRequest":true}}"#,
        );
        write(
            dir.path(),
            "local.settings.json",
            r#"{"IsEncrypted":true,"Values":{"FUNCTIONS_WORKER_RUNTIME":"node"}}"#,
        );
        write(
            dir.path(),
            "Tick/function.json",
            r#"{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"0 61 * * * *"}]}"#,
        );
        let app = AppFolder::load(dir.path()).expect("loads");
        let found = settings(&app, false);
        let listed = problems(&found);
        let has = |text: &str| listed.iter().any(|p| p.contains(text));
        // Forwarding and proxying are modes a handler may serve: notes.
        assert!(!has("enableForwardingHttpRequest"), "{listed:#?}");
        let noted = |text: &str| {
            found
                .iter()
                .any(|f| f.severity == Severity::Note && f.text.contains(text))
        };
        assert!(noted("enableForwardingHttpRequest is true"), "{found:#?}");
        assert!(noted("enableProxyingHttpRequest is true"), "{found:#?}");
        assert!(has("no extensionBundle"), "{listed:#?}");
        assert!(has("no such file in the app folder"), "{listed:#?}");
        assert!(has("\"IsEncrypted\" is true"), "{listed:#?}");
        assert!(has("FUNCTIONS_WORKER_RUNTIME is \"node\""), "{listed:#?}");
        assert!(has("Tick/function.json: schedule"), "{listed:#?}");
        assert_eq!(listed.len(), 5, "{listed:#?}");
        // With --build, the missing binary is only a note.
        assert_eq!(problems(&settings(&app, true)).len(), 4);
    }

    #[test]
    fn routes_and_queue_names_the_host_refuses_are_problems() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "host.json",
            r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"app"}}}"#,
        );
        write(
            dir.path(),
            "local.settings.json",
            r#"{"Values":{"FUNCTIONS_WORKER_RUNTIME":"custom","In":"Bad_Name!"}}"#,
        );
        let http = |route: &str| {
            format!(
                r#"{{"bindings":[{{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","route":{route:?}}},{{"type":"http","direction":"out","name":"$return"}}]}}"#
            )
        };
        write(dir.path(), "Twice/function.json", &http("{a}/{a}"));
        write(dir.path(), "Climb/function.json", &http("../../x"));
        write(dir.path(), "Fine/function.json", &http("items/{id:int}"));
        write(
            dir.path(),
            "Area/function.json",
            r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"m","queueName":"%In%"},{"type":"queue","direction":"out","name":"areas","queueName":"Bad_Name!"},{"type":"queue","direction":"out","name":"ok","queueName":"Areas-2"}]}"#,
        );
        let app = AppFolder::load(dir.path()).expect("loads");
        let found = settings(&app, true);
        let listed = problems(&found);
        let has = |text: &str| listed.iter().any(|p| p.contains(text));
        assert!(
            has(
                "Twice/function.json: the route \"{a}/{a}\": the parameter \"a\" appears more than once"
            ),
            "{listed:#?}"
        );
        assert!(
            has("Climb/function.json: /api/../../x: the segment \"..\" can never match"),
            "{listed:#?}"
        );
        assert!(
            has("Area/function.json: binding \"m\": the queue name \"Bad_Name!\" holds '_'"),
            "{listed:#?}"
        );
        assert!(
            has("Area/function.json: binding \"areas\": the queue name \"Bad_Name!\" holds '_'"),
            "{listed:#?}"
        );
        assert!(!has("Fine/") && !has("\"ok\""), "{listed:#?}");
        // A setting that is not there is named.
        write(
            dir.path(),
            "local.settings.json",
            r#"{"Values":{"FUNCTIONS_WORKER_RUNTIME":"custom","AzureWebJobsStorage":"UseDevelopmentStorage=true"}}"#,
        );
        let app = AppFolder::load(dir.path()).expect("loads");
        let found = settings(&app, true);
        assert!(
            problems(&found)
                .iter()
                .any(|p| p.contains("binding \"m\": %In% names no app setting")),
            "{found:#?}"
        );
    }

    #[test]
    fn a_function_timeout_past_the_consumption_limit_is_a_note() {
        let dir = tempfile::tempdir().expect("tempdir");
        let notes = |timeout: &str| {
            write(
                dir.path(),
                "host.json",
                &format!(
                    r#"{{"version":"2.0","customHandler":{{"description":{{"defaultExecutablePath":"app"}}}},"functionTimeout":"{timeout}"}}"#
                ),
            );
            let app = AppFolder::load(dir.path()).expect("loads");
            settings(&app, true)
                .into_iter()
                .filter(|f| f.text.contains("functionTimeout"))
                .map(|f| (f.severity, f.text))
                .collect::<Vec<_>>()
        };
        // The Consumption plan's limit itself is fine everywhere.
        assert_eq!(notes("00:10:00"), []);
        let over = notes("00:10:00.0000001");
        assert_eq!(over.len(), 1, "{over:?}");
        assert_eq!(over[0].0, Severity::Note);
        assert!(
            over[0]
                .1
                .starts_with("host.json: functionTimeout 00:10:00.0000001 is fine on Premium"),
            "{over:?}"
        );
        let unbounded = notes("-1");
        assert_eq!(unbounded.len(), 1, "{unbounded:?}");
        assert!(
            unbounded[0].1.contains("\"-1\" (no limit)"),
            "{unbounded:?}"
        );
    }

    #[test]
    fn a_handler_that_ignores_the_check_is_stopped() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "host.json",
            r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler"}}}"#,
        );
        // exec: the process killed is the one holding the pipes.
        write(dir.path(), "handler", "#!/bin/sh\nexec sleep 30\n");
        let executable = dir.path().join("handler");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&executable, std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let app = AppFolder::load(dir.path()).expect("loads");
        let started = Instant::now();
        let found = handler(&app, &executable, Duration::from_millis(200));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].text.contains("did not finish its check"),
            "{found:?}"
        );
    }
}
