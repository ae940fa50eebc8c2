//! A Functions app folder as the host reads it (docs/host-protocol.md, "The app's files"):
//! `host.json`, one folder per function with its `function.json`, and the
//! `Values` of `local.settings.json`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::local_settings::LocalSettings;

/// A loaded app folder.
#[derive(Clone, Debug)]
pub struct AppFolder {
    /// The folder holding host.json, as given.
    pub root: PathBuf,
    pub host: HostJson,
    /// Sorted by name.
    pub functions: Vec<FunctionFolder>,
    /// `Values` of local.settings.json, in file order (empty without the file).
    pub settings: Vec<(String, String)>,
    /// The rest of local.settings.json that Core Tools reads.
    pub local: LocalSettings,
}

/// What host.json says about the handler and HTTP.
#[derive(Clone, Debug)]
pub struct HostJson {
    /// `customHandler.description.defaultExecutablePath`, as written.
    pub executable: String,
    pub arguments: Vec<String>,
    pub working_directory: Option<String>,
    /// `customHandler.enableForwardingHttpRequest`.
    pub forwarding: bool,
    /// `customHandler.enableProxyingHttpRequest`.
    pub proxying: bool,
    /// `extensions.http.routePrefix`, without slashes; "api" by default.
    pub route_prefix: String,
    /// `functionTimeout`: how long an invocation may run before the host
    /// fails it and restarts the handler; `None` for no limit (`"-1"`).
    pub function_timeout: Option<Duration>,
    /// `extensions.durableTask.hubName`, or the extension's default.
    pub hub_name: String,
}

/// The host's functionTimeout when host.json sets none. It is 30 minutes on
/// every plan but Consumption (5 minutes there), and Core Tools runs the
/// host as such a plan; a handler tried locally against the shorter limit
/// would be cut where the user's Premium or Dedicated app is not.
pub const DEFAULT_FUNCTION_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The shortest functionTimeout the host starts with.
pub const MIN_FUNCTION_TIMEOUT: Duration = Duration::from_secs(1);

/// `functionTimeout` as the host reads it: a .NET TimeSpan (`hh:mm:ss`,
/// `d.hh:mm:ss`, fractional seconds, `d` alone for days); `-1` (a TimeSpan
/// of minus one day) for no limit; absent or null for the default. The host
/// refuses to start on anything else and on less than a second: the reason
/// why, for the caller to name the file and the value.
pub fn parse_function_timeout(value: Option<&Value>) -> Result<Option<Duration>, String> {
    let text = match value {
        None | Some(Value::Null) => return Ok(Some(DEFAULT_FUNCTION_TIMEOUT)),
        // The host's configuration turns a JSON number into its text.
        Some(Value::String(text)) => text.trim().to_owned(),
        Some(Value::Number(number)) => number.to_string(),
        Some(_) => {
            return Err(
                "must be a time span string like \"00:10:00\", or \"-1\" for no limit".into(),
            );
        }
    };
    let unreadable = || {
        "is not a time span the host reads: use hh:mm:ss (e.g. \"00:10:00\") or d.hh:mm:ss, at most 10675198 days, or \"-1\" for no limit".to_owned()
    };
    if let Some(magnitude) = text.strip_prefix('-') {
        let span = crate::dotnet::parse_timespan(magnitude).ok_or_else(unreadable)?;
        if span == Duration::from_secs(86_400) {
            return Ok(None);
        }
        return Err(
            "is negative: the only negative value the host takes is \"-1\" (no limit)".into(),
        );
    }
    let span = crate::dotnet::parse_timespan(&text).ok_or_else(unreadable)?;
    if span < MIN_FUNCTION_TIMEOUT {
        return Err(format!(
            "is shorter than the host's minimum of {}",
            crate::dotnet::timespan_to_string(MIN_FUNCTION_TIMEOUT)
        ));
    }
    Ok(Some(span))
}

/// One function: a folder with a function.json.
#[derive(Clone, Debug)]
pub struct FunctionFolder {
    /// The folder name, in its exact case: the path the host POSTs to.
    pub name: String,
    pub bindings: Vec<Binding>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
    InOut,
}

/// One entry of function.json's `bindings`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    #[serde(rename = "type")]
    pub kind: String,
    pub direction: Direction,
    pub name: String,
    #[serde(default)]
    pub route: Option<String>,
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    #[serde(default)]
    pub auth_level: Option<String>,
    #[serde(default)]
    pub schedule: Option<String>,
    #[serde(default)]
    pub queue_name: Option<String>,
    #[serde(default)]
    pub data_type: Option<String>,
    /// Everything else (connection, path, ...), kept for display.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Binding {
    pub fn is_trigger(&self) -> bool {
        self.direction == Direction::In && self.kind.to_ascii_lowercase().ends_with("trigger")
    }

    pub fn is_kind(&self, kind: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind)
    }

    /// A timer's `"runOnStartup": true`: it fires once as soon as the host
    /// starts, besides its schedule.
    pub fn run_on_startup(&self) -> bool {
        let value = self
            .extra
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("runOnStartup"))
            .map(|(_, value)| value);
        match value {
            Some(Value::Bool(on)) => *on,
            // The host's JSON reader takes "true" for true.
            Some(Value::String(text)) => text.trim().eq_ignore_ascii_case("true"),
            _ => false,
        }
    }

    /// `"dataType": "binary"`: string outputs are then never base64-decoded.
    pub fn is_binary(&self) -> bool {
        self.data_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("binary"))
    }
}

/// The trigger kinds that get special treatment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerKind {
    Http,
    Timer,
    Queue,
    Other,
}

impl FunctionFolder {
    /// The one trigger binding. [`AppFolder::load`] checks there is exactly one;
    /// a hand-built `FunctionFolder` without one gets its first binding, and one
    /// without bindings panics.
    pub fn trigger(&self) -> &Binding {
        self.bindings
            .iter()
            .find(|b| b.is_trigger())
            .unwrap_or(&self.bindings[0])
    }

    pub fn trigger_kind(&self) -> TriggerKind {
        let trigger = self.trigger();
        if trigger.is_kind("httpTrigger") {
            TriggerKind::Http
        } else if trigger.is_kind("timerTrigger") {
            TriggerKind::Timer
        } else if trigger.is_kind("queueTrigger") {
            TriggerKind::Queue
        } else {
            TriggerKind::Other
        }
    }

    /// Bindings the handler's reply feeds: `out` and `inout`.
    pub fn outputs(&self) -> impl Iterator<Item = &Binding> {
        self.bindings
            .iter()
            .filter(|b| b.direction != Direction::In)
    }

    pub fn output(&self, name: &str) -> Option<&Binding> {
        self.outputs().find(|b| b.name == name)
    }
}

/// What the command line changes in an app as loaded (`start
/// --functions`, `--cors`), applied again to each build `--watch` loads.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Serve only these; all when empty.
    pub functions: Vec<String>,
    /// `--cors`, over local.settings.json's `Host.CORS`.
    pub cors: Option<Option<crate::host::cors::Cors>>,
}

impl Overrides {
    pub fn apply(&self, app: &mut AppFolder) -> Result<(), AppError> {
        if !self.functions.is_empty() {
            app.keep_only(&self.functions)?;
        }
        if let Some(cors) = &self.cors {
            app.local.cors = cors.clone();
        }
        Ok(())
    }
}

/// A problem with the app folder, worded for the person who wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError(pub String);

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AppError {}

pub(crate) fn read_json(path: &Path) -> Result<Value, AppError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| AppError(format!("{} is not valid JSON: {e}", path.display())))
}

impl AppFolder {
    /// Reads the app folder `root`.
    pub fn load(root: &Path) -> Result<AppFolder, AppError> {
        let host_path = root.join("host.json");
        if !host_path.is_file() {
            return Err(AppError(format!(
                "no host.json in {}: not a Functions app folder (use --app DIR)",
                root.display()
            )));
        }
        let host = parse_host(&read_json(&host_path)?, &host_path)?;
        let functions = load_functions(root)?;
        // One read of local.settings.json for its Values and the rest.
        let settings_path = root.join("local.settings.json");
        let (settings, local) = if settings_path.is_file() {
            let json = read_json(&settings_path)?;
            (
                values(&json, &settings_path)?,
                LocalSettings::from_json(&json, &settings_path)?,
            )
        } else {
            (Vec::new(), LocalSettings::default())
        };
        // Absolute, as the host's: the handler starts in its working
        // directory, where a relative executable path would not resolve.
        let root = std::path::absolute(root)
            .map_err(|e| AppError(format!("cannot resolve {}: {e}", root.display())))?;
        Ok(AppFolder {
            root,
            host,
            functions,
            settings,
            local,
        })
    }

    /// Keeps only the functions named in `names` (any case), as Core
    /// Tools' `--functions` loads a subset; a name the app does not have is
    /// an error, so a typo does not silently serve nothing.
    pub fn keep_only(&mut self, names: &[String]) -> Result<(), AppError> {
        let mut kept = Vec::new();
        for name in names {
            let Some(function) = self.function(name) else {
                return Err(AppError(format!("--functions: {}", self.no_function(name))));
            };
            if !kept
                .iter()
                .any(|f: &FunctionFolder| f.name == function.name)
            {
                kept.push(function.clone());
            }
        }
        kept.sort_by(|a, b| a.name.cmp(&b.name));
        self.functions = kept;
        Ok(())
    }

    /// The function called `name`: exact case first, then any case (the
    /// host's function names are case-insensitive).
    pub fn function(&self, name: &str) -> Option<&FunctionFolder> {
        self.functions.iter().find(|f| f.name == name).or_else(|| {
            self.functions
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
        })
    }

    /// Says that there is no function `name`, and which there are.
    pub fn no_function(&self, name: &str) -> String {
        let names: Vec<&str> = self.functions.iter().map(|f| f.name.as_str()).collect();
        format!(
            "no function named {name:?} in {}; it has: {}",
            self.root.display(),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        )
    }

    /// The handler's path, relative to the app root as the host resolves it.
    pub fn executable_path(&self) -> PathBuf {
        self.root.join(expand_env(&self.host.executable))
    }

    pub fn working_directory(&self) -> PathBuf {
        match &self.host.working_directory {
            Some(dir) if !dir.is_empty() => self.root.join(expand_env(dir)),
            _ => self.root.clone(),
        }
    }
}

/// Expands `%NAME%` (the host's Windows-style syntax) and `$NAME`/`${NAME}`.
fn expand_env(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(['%', '$']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let (name, used) = if let Some(body) = tail.strip_prefix('%') {
            match body.find('%') {
                Some(end) => (&body[..end], end + 2),
                None => ("", 0),
            }
        } else if let Some(body) = tail.strip_prefix("${") {
            match body.find('}') {
                Some(end) => (&body[..end], end + 3),
                None => ("", 0),
            }
        } else {
            let body = &tail[1..];
            let end = body
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(body.len());
            (&body[..end], end + 1)
        };
        match std::env::var(name) {
            Ok(value) if !name.is_empty() => {
                out.push_str(&value);
                rest = &tail[used..];
            }
            _ => {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub(crate) fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    // host.json's own names are case-insensitive in the host.
    value
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn parse_host(json: &Value, path: &Path) -> Result<HostJson, AppError> {
    let missing = || {
        AppError(format!(
            "{} has no customHandler.description.defaultExecutablePath: the host needs it to start the handler",
            path.display()
        ))
    };
    let custom = field(json, "customHandler").ok_or_else(missing)?;
    let description = field(custom, "description").ok_or_else(missing)?;
    let executable = match field(description, "defaultExecutablePath") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return Err(missing()),
    };
    let arguments = match field(description, "arguments") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(AppError(format!(
                    "{}: customHandler.description.arguments must be strings, found {other}",
                    path.display()
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(AppError(format!(
                "{}: customHandler.description.arguments must be an array of strings, found {other}",
                path.display()
            )));
        }
    };
    let working_directory = field(description, "workingDirectory")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let flag = |name: &str| match field(custom, name) {
        Some(Value::Bool(on)) => *on,
        Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
        _ => false,
    };
    let forwarding = flag("enableForwardingHttpRequest");
    let proxying = flag("enableProxyingHttpRequest");
    let route_prefix = field(json, "extensions")
        .and_then(|e| field(e, "http"))
        .and_then(|h| field(h, "routePrefix"))
        .and_then(Value::as_str)
        .unwrap_or("api")
        .trim_matches('/')
        .to_owned();
    let hub_name = field(json, "extensions")
        .and_then(|e| field(e, "durableTask"))
        .and_then(|d| field(d, "hubName"))
        .and_then(Value::as_str)
        .unwrap_or("TestHubName")
        .to_owned();
    let timeout = field(json, "functionTimeout");
    let function_timeout = parse_function_timeout(timeout).map_err(|why| {
        let mut shown = timeout.map_or(String::new(), Value::to_string);
        // Enough to recognise it; a pasted blob need not fill the screen.
        if let Some((cut, _)) = shown.char_indices().nth(60) {
            shown.truncate(cut);
            shown.push_str("...");
        }
        AppError(format!(
            "{}: functionTimeout {shown} {why}; the host refuses to start with it",
            path.display()
        ))
    })?;
    Ok(HostJson {
        executable,
        arguments,
        working_directory,
        forwarding,
        proxying,
        route_prefix,
        function_timeout,
        hub_name,
    })
}

#[derive(Deserialize)]
struct FunctionJson {
    bindings: Vec<Binding>,
    #[serde(default)]
    disabled: bool,
}

fn load_functions(root: &Path) -> Result<Vec<FunctionFolder>, AppError> {
    let entries = std::fs::read_dir(root)
        .map_err(|e| AppError(format!("cannot list {}: {e}", root.display())))?;
    let mut functions = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path().join("function.json");
        if !path.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let json = read_json(&path)?;
        let parsed: FunctionJson = serde_json::from_value(json).map_err(|e| {
            AppError(format!(
                "{} is not a valid function.json: {e} (each binding needs \"type\", \"direction\" and \"name\")",
                path.display()
            ))
        })?;
        if parsed.disabled {
            continue;
        }
        let triggers = parsed.bindings.iter().filter(|b| b.is_trigger()).count();
        if triggers != 1 {
            return Err(AppError(format!(
                "{} has {triggers} trigger bindings; a function needs exactly one (a binding whose type ends in \"Trigger\", with \"direction\": \"in\")",
                path.display()
            )));
        }
        functions.push(FunctionFolder {
            name,
            bindings: parsed.bindings,
        });
    }
    functions.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(functions)
}

/// The `Values` of local.settings.json (`json`, read from `path`).
fn values(json: &Value, path: &Path) -> Result<Vec<(String, String)>, AppError> {
    let Some(values) = field(json, "Values") else {
        return Ok(Vec::new());
    };
    let Some(values) = values.as_object() else {
        return Err(AppError(format!(
            "{}: \"Values\" must be an object of strings",
            path.display()
        )));
    };
    Ok(values
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect())
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

    const HOST: &str = r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler","arguments":["-v"]}}}"#;

    #[test]
    fn loads_functions_settings_and_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "host.json", HOST);
        write(
            dir.path(),
            "Area/function.json",
            r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","methods":["post"],"route":"area/{id:int}"},{"type":"http","direction":"out","name":"$return"}]}"#,
        );
        write(
            dir.path(),
            "Tick/function.json",
            r#"{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"0 */5 * * * *"}]}"#,
        );
        write(dir.path(), "docs/readme.txt", "not a function");
        write(
            dir.path(),
            "local.settings.json",
            r#"{"IsEncrypted":false,"Values":{"FUNCTIONS_WORKER_RUNTIME":"custom","N":3}}"#,
        );
        let app = AppFolder::load(dir.path()).expect("loads");
        assert_eq!(app.host.executable, "handler");
        assert_eq!(app.host.arguments, ["-v"]);
        assert_eq!(app.host.route_prefix, "api");
        assert!(!app.host.forwarding);
        let names: Vec<&str> = app.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Area", "Tick"]);
        let area = app.function("area").expect("any case");
        assert_eq!(area.trigger_kind(), TriggerKind::Http);
        assert_eq!(area.trigger().route.as_deref(), Some("area/{id:int}"));
        assert_eq!(area.outputs().count(), 1);
        let tick = app.function("Tick").expect("tick");
        assert_eq!(tick.trigger().schedule.as_deref(), Some("0 */5 * * * *"));
        assert_eq!(
            app.settings,
            [
                ("FUNCTIONS_WORKER_RUNTIME".to_owned(), "custom".to_owned()),
                ("N".to_owned(), "3".to_owned())
            ]
        );
        assert_eq!(app.executable_path(), dir.path().join("handler"));
        assert_eq!(app.working_directory(), dir.path());
    }

    #[test]
    fn functions_keeps_a_subset_in_any_case_and_refuses_unknown_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "host.json", HOST);
        for name in ["A", "B", "C"] {
            write(
                dir.path(),
                &format!("{name}/function.json"),
                r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"m","queueName":"q"}]}"#,
            );
        }
        let mut app = AppFolder::load(dir.path()).expect("loads");
        let only = |names: &[&str]| Overrides {
            functions: names.iter().map(|n| (*n).to_owned()).collect(),
            cors: None,
        };
        only(&["c", "A", "a"]).apply(&mut app).expect("applies");
        let names: Vec<&str> = app.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["A", "C"]);
        let error = only(&["B"]).apply(&mut app).expect_err("B is gone");
        assert!(error.0.contains("no function named \"B\""), "{error}");
        assert!(error.0.ends_with("it has: A, C"), "{error}");
        only(&[]).apply(&mut app).expect("no filter");
        assert_eq!(app.functions.len(), 2);
    }

    #[test]
    fn route_prefix_and_hub_name_from_extensions() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "host.json",
            r#"{"customHandler":{"description":{"defaultExecutablePath":"h"}},"extensions":{"http":{"routePrefix":""},"durableTask":{"hubName":"Shapes"}}}"#,
        );
        let host = AppFolder::load(dir.path()).expect("loads").host;
        assert_eq!(
            (host.route_prefix.as_str(), host.hub_name.as_str()),
            ("", "Shapes")
        );
        write(dir.path(), "host.json", HOST);
        let host = AppFolder::load(dir.path()).expect("loads").host;
        assert_eq!(host.hub_name, "TestHubName");
    }

    #[test]
    fn clear_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = AppFolder::load(dir.path()).expect_err("no host.json");
        assert!(err.0.contains("no host.json"), "{err}");

        write(dir.path(), "host.json", "{ nope");
        let err = AppFolder::load(dir.path()).expect_err("broken");
        assert!(err.0.contains("host.json is not valid JSON"), "{err}");

        write(
            dir.path(),
            "host.json",
            r#"{"customHandler":{"description":{}}}"#,
        );
        let err = AppFolder::load(dir.path()).expect_err("no path");
        assert!(err.0.contains("defaultExecutablePath"), "{err}");

        write(dir.path(), "host.json", HOST);
        write(
            dir.path(),
            "F/function.json",
            r#"{"bindings":[{"type":"queue","direction":"out","name":"q"}]}"#,
        );
        let err = AppFolder::load(dir.path()).expect_err("no trigger");
        assert!(err.0.contains("0 trigger bindings"), "{err}");

        write(
            dir.path(),
            "F/function.json",
            r#"{"bindings":[{"type":"httpTrigger","name":"req"}]}"#,
        );
        let err = AppFolder::load(dir.path()).expect_err("no direction");
        assert!(
            err.0
                .contains("F/function.json is not a valid function.json"),
            "{err}"
        );

        write(dir.path(), "F/function.json", "[");
        let err = AppFolder::load(dir.path()).expect_err("broken");
        assert!(err.0.contains("function.json is not valid JSON"), "{err}");

        std::fs::remove_dir_all(dir.path().join("F")).expect("remove F");
        write(
            dir.path(),
            "local.settings.json",
            r#"{"Values":{},"Host":{"CORS":7}}"#,
        );
        let err = AppFolder::load(dir.path()).expect_err("a bad Host.CORS");
        assert!(
            err.0.contains("local.settings.json: Host.CORS must be"),
            "{err}"
        );
        write(dir.path(), "local.settings.json", "{");
        let err = AppFolder::load(dir.path()).expect_err("broken");
        assert!(
            err.0.contains("local.settings.json is not valid JSON"),
            "{err}"
        );
    }

    #[test]
    fn function_timeouts_as_the_host_reads_them() {
        use serde_json::json;
        let secs = |s: u64| Ok(Some(Duration::from_secs(s)));
        let read = |value: Value| parse_function_timeout(Some(&value));
        assert_eq!(
            parse_function_timeout(None),
            Ok(Some(DEFAULT_FUNCTION_TIMEOUT))
        );
        assert_eq!(read(Value::Null), Ok(Some(DEFAULT_FUNCTION_TIMEOUT)));
        for (text, expected) in [
            ("00:00:02", secs(2)),
            // The host's minimum, exactly.
            ("00:00:01", secs(1)),
            (" 00:10:00 ", secs(600)),
            ("00:00:01.5", Ok(Some(Duration::from_millis(1500)))),
            ("1.02:03:04", secs(86_400 + 2 * 3600 + 3 * 60 + 4)),
            ("02:03", secs(2 * 3600 + 3 * 60)),
            // A bare number is days, as TimeSpan reads it.
            ("2", secs(2 * 86_400)),
            ("10675198.23:59:59", secs(10_675_198 * 86_400 + 86_399)),
            // -1 is minus one day however it is written: no limit.
            ("-1", Ok(None)),
            ("-1.00:00:00", Ok(None)),
        ] {
            assert_eq!(read(json!(text)), expected, "{text:?}");
        }
        assert_eq!(read(json!(-1)), Ok(None));
        assert_eq!(read(json!(1)), secs(86_400));
        let refused = |value: Value, why: &str| {
            let error = read(value.clone()).expect_err("refused");
            assert!(error.contains(why), "{value}: {error}");
        };
        // Below the host's one-second minimum.
        refused(
            json!("00:00:00.5"),
            "shorter than the host's minimum of 00:00:01",
        );
        refused(json!("00:00:00.9999999"), "minimum");
        refused(json!("00:00:00"), "minimum");
        refused(json!("-00:00:05"), "is negative");
        refused(json!("-2"), "is negative");
        refused(json!(-0.5), "not a time span");
        refused(json!("junk"), "not a time span");
        refused(json!(""), "not a time span");
        refused(json!("00:60:00"), "not a time span");
        refused(json!("1:2:3:4"), "not a time span");
        refused(json!("00:00:01.12345678"), "not a time span");
        // Past TimeSpan.MaxValue, and past u64.
        refused(json!("10675199.00:00:00"), "not a time span");
        refused(json!("99999999999999999999"), "not a time span");
        refused(json!(99_999_999_999_999_999_999.0), "not a time span");
        refused(json!(true), "must be a time span string");
        refused(json!({"seconds": 5}), "must be a time span string");
    }

    #[test]
    fn a_bad_function_timeout_stops_the_load_naming_file_and_value() {
        let dir = tempfile::tempdir().expect("tempdir");
        let host = |timeout: &str| {
            format!(
                r#"{{"customHandler":{{"description":{{"defaultExecutablePath":"h"}}}},"functionTimeout":{timeout}}}"#
            )
        };
        write(dir.path(), "host.json", &host(r#""5 minutes""#));
        let err = AppFolder::load(dir.path()).expect_err("refused");
        assert!(
            err.0
                .contains("host.json: functionTimeout \"5 minutes\" is not a time span"),
            "{err}"
        );
        assert!(err.0.contains("the host refuses to start"), "{err}");
        let long = format!(r#""{}""#, "9".repeat(10_000));
        write(dir.path(), "host.json", &host(&long));
        let err = AppFolder::load(dir.path()).expect_err("refused");
        assert!(
            err.0
                .contains(&format!("functionTimeout \"{}... is not", "9".repeat(59))),
            "{err}"
        );
        assert!(err.0.len() < 400, "{err}");
        write(dir.path(), "host.json", &host(r#""00:00:02""#));
        let app = AppFolder::load(dir.path()).expect("loads");
        assert_eq!(app.host.function_timeout, Some(Duration::from_secs(2)));
        write(dir.path(), "host.json", HOST);
        let app = AppFolder::load(dir.path()).expect("loads");
        assert_eq!(app.host.function_timeout, Some(DEFAULT_FUNCTION_TIMEOUT));
    }

    #[test]
    fn expands_environment_variables() {
        // PATH is set in every test environment.
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(expand_env("%PATH%/x"), format!("{path}/x"));
        assert_eq!(expand_env("${PATH}"), path);
        assert_eq!(
            expand_env("a%NOT_SET_ANYWHERE_42%b"),
            "a%NOT_SET_ANYWHERE_42%b"
        );
        assert_eq!(expand_env("plain"), "plain");
    }
}

#[cfg(test)]
mod relative_root_tests {
    use super::*;

    #[test]
    fn a_relative_app_folder_gives_an_absolute_executable_path() {
        // Tests run in the crate's folder; the example app is a sibling.
        let app = AppFolder::load(Path::new("../examples/queue_area")).expect("the example app");
        let executable = app.executable_path();
        assert!(executable.is_absolute(), "{}", executable.display());
        assert!(executable.ends_with("examples/queue_area/queue_area"));
    }
}
