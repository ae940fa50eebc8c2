//! `check`: what in an app folder the handler or the host would mishandle,
//! before anything runs: host.json and local.settings.json settings, the
//! function.json values cargo-azfunc can judge, and the handler's own
//! start-up check of its registry against the function folders
//! ([`handler`]).

mod handler_run;

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use function_app::{RouteTemplate, property, queue_binding_problem};

use crate::app::{AppFolder, TriggerKind, read_json};
use crate::timers::schedule::TimerSchedule;

pub use handler_run::handler;

/// How the function folders differ from what the registry of the handler
/// `executable` declares: each difference in a hand-kept file is a
/// problem, as the host reads the file while the native worker reads the
/// registry. A handler that cannot print its functions gets a note.
pub fn registry(app: &AppFolder, executable: &std::path::Path) -> Vec<Finding> {
    let metadata = match crate::generate::read_metadata(executable, &app.root) {
        Ok(metadata) => metadata,
        Err(e) => {
            return vec![Finding::note(format!(
                "the function folders were not compared with the registry: {e}"
            ))];
        }
    };
    match crate::generate::differences(&app.root, &metadata) {
        Ok(lines) if lines.is_empty() => vec![Finding::ok(format!(
            "the function folders say what the registry declares ({} function(s))",
            metadata.functions.len()
        ))],
        Ok(lines) => lines.into_iter().map(Finding::problem).collect(),
        Err(e) => vec![Finding::problem(e)],
    }
}

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
    match &app.worker {
        // A language worker's executable comes from its configuration.
        Some(worker) => worker_executable(worker, built, found),
        None => executable(app, built, found),
    }
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

fn worker_executable(
    worker: &crate::app::worker_config::WorkerConfig,
    built: bool,
    found: &mut Vec<Finding>,
) {
    found.push(Finding::note(format!(
        "FUNCTIONS_WORKER_RUNTIME is {:?}: the app runs as a language worker, {}{} (docs/native-worker-host.md)",
        worker.language,
        worker.executable.display(),
        if worker.worker_indexing {
            ", which declares its functions itself (worker indexing)"
        } else {
            ""
        }
    )));
    if !built && worker.executable.is_absolute() && !worker.executable.is_file() {
        found.push(Finding::problem(format!(
            "the worker {} is not there, so the host cannot start it: build it, or run `cargo azfunc check --build`",
            worker.executable.display()
        )));
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
        Some(_) if app.worker.is_some() => {}
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
        let json = function_app::FunctionJson {
            bindings: function.bindings.clone(),
            disabled: false,
        };
        for problem in json.problems() {
            found.push(Finding::problem(format!("{at}: {problem}")));
        }
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

#[cfg(test)]
mod tests;
