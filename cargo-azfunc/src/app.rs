//! A Functions app folder as cargo-azfunc serves it: the files as
//! function-app reads them (host.json, one folder per function with its
//! function.json, local.settings.json), checked as the host checks them
//! at start-up.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use function_app::{Binding, Direction, HostJson, LocalSettings};

/// A loaded app folder.
#[derive(Clone, Debug)]
pub struct AppFolder {
    /// The folder holding host.json, absolute.
    pub root: PathBuf,
    pub host: HostJson,
    /// Sorted by name; disabled ones left out.
    pub functions: Vec<FunctionFolder>,
    /// local.settings.json (empty without the file).
    pub settings: LocalSettings,
    /// Its `Host.CORS`, or `--cors`.
    pub cors: Option<crate::host::cors::Cors>,
}

/// One function: a folder with a function.json.
#[derive(Clone, Debug)]
pub struct FunctionFolder {
    /// The folder name, in its exact case: the path the host POSTs to.
    pub name: String,
    pub bindings: Vec<Binding>,
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
            app.cors = cors.clone();
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
        let host = load_host(&host_path)?;
        let functions = load_functions(root)?;
        let (settings, cors) = load_settings(root)?;
        // Absolute, as the host's: the handler starts in its working
        // directory, where a relative executable path would not resolve.
        let root = std::path::absolute(root)
            .map_err(|e| AppError(format!("cannot resolve {}: {e}", root.display())))?;
        Ok(AppFolder {
            root,
            host,
            functions,
            settings,
            cors,
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
        self.root.join(expand_env(self.executable()))
    }

    /// host.json's `defaultExecutablePath`, as written ([`AppFolder::load`]
    /// refuses a host.json without one).
    pub fn executable(&self) -> &str {
        self.host.executable.as_deref().unwrap_or_default()
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

fn load_host(path: &Path) -> Result<HostJson, AppError> {
    let host = HostJson::from_json(&read_json(path)?)
        .map_err(|why| AppError(format!("{}: {why}", path.display())))?;
    if host.executable.is_none() {
        return Err(AppError(format!(
            "{} has no customHandler.description.defaultExecutablePath: the host needs it to start the handler",
            path.display()
        )));
    }
    Ok(host)
}

fn load_functions(root: &Path) -> Result<Vec<FunctionFolder>, AppError> {
    let folders = function_app::AppFolder::read_functions(root).map_err(AppError)?;
    let mut functions = Vec::new();
    for (name, json) in folders {
        let path = root.join(&name).join("function.json");
        let json = json.map_err(|why| AppError(format!("{} is {why}", path.display())))?;
        if json.disabled {
            continue;
        }
        let triggers = json.bindings.iter().filter(|b| b.is_trigger()).count();
        if triggers != 1 {
            return Err(AppError(format!(
                "{} has {triggers} trigger bindings; a function needs exactly one (a binding whose type ends in \"Trigger\", with \"direction\": \"in\")",
                path.display()
            )));
        }
        functions.push(FunctionFolder {
            name,
            bindings: json.bindings,
        });
    }
    Ok(functions)
}

/// local.settings.json, and the CORS policy its `Host.CORS` sets.
fn load_settings(
    root: &Path,
) -> Result<(LocalSettings, Option<crate::host::cors::Cors>), AppError> {
    let path = root.join("local.settings.json");
    if !path.is_file() {
        return Ok((LocalSettings::default(), None));
    }
    let settings = LocalSettings::from_json(&read_json(&path)?)
        .map_err(|why| AppError(format!("{}: {why}", path.display())))?;
    let cors = match &settings.cors {
        Some(list) => crate::host::cors::Cors::parse(list, settings.cors_credentials)
            .map_err(|e| AppError(format!("{}: Host.CORS: {e}", path.display())))?,
        None => None,
    };
    Ok((settings, cors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use function_app::DEFAULT_FUNCTION_TIMEOUT;
    use std::time::Duration;

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
        assert_eq!(app.executable(), "handler");
        assert_eq!(app.host.arguments, ["-v"]);
        assert_eq!(app.host.route_prefix, "api");
        assert_eq!(app.host.mode, function_app::HttpMode::Envelope);
        let names: Vec<&str> = app.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Area", "Tick"]);
        let area = app.function("area").expect("any case");
        assert_eq!(area.trigger_kind(), TriggerKind::Http);
        assert_eq!(area.trigger().route.as_deref(), Some("area/{id:int}"));
        assert_eq!(area.outputs().count(), 1);
        let tick = app.function("Tick").expect("tick");
        assert_eq!(tick.trigger().schedule.as_deref(), Some("0 */5 * * * *"));
        assert_eq!(
            app.settings.values,
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
