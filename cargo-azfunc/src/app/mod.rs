//! A Functions app folder as cargo-azfunc serves it: the files as
//! function-app reads them (host.json, one folder per function with its
//! function.json, local.settings.json), checked as the host checks them
//! at start-up.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub mod worker_config;

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
    pub cors: Option<crate::cors::Cors>,
    /// The language worker the app runs as (`FUNCTIONS_WORKER_RUNTIME`
    /// and its worker configuration); `None` for a custom handler.
    pub worker: Option<crate::app::worker_config::WorkerConfig>,
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
    pub cors: Option<Option<crate::cors::Cors>>,
}

impl Overrides {
    pub fn apply(&self, app: &mut AppFolder) -> Result<(), AppError> {
        // A worker that indexes its functions declares them only once it
        // runs: the subset is taken then (Handler::adopt_functions).
        if !self.functions.is_empty() && !app.awaits_indexing() {
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
        let (settings, cors) = load_settings(root)?;
        // Absolute, as the host's: the handler starts in its working
        // directory, where a relative executable path would not resolve.
        let root = std::path::absolute(root)
            .map_err(|e| AppError(format!("cannot resolve {}: {e}", root.display())))?;
        let host = HostJson::from_json(&read_json(&host_path)?)
            .map_err(|why| AppError(format!("{}: {why}", host_path.display())))?;
        let worker = match crate::app::worker_config::find(&root, &settings.values) {
            Ok(worker) => worker,
            // A custom handler with a runtime setting of another language
            // stays a custom handler (`check` reports the setting).
            Err(_) if host.executable.is_some() => None,
            Err(e) => return Err(e),
        };
        if worker.is_none() {
            require_executable(&host, &host_path)?;
        }
        let functions = load_functions(&root)?;
        Ok(AppFolder {
            root,
            host,
            functions,
            settings,
            cors,
            worker,
        })
    }

    /// The same app run as the `native` language worker, as
    /// `FUNCTIONS_WORKER_RUNTIME: native` in local.settings.json makes it:
    /// one app folder, checked in both modes.
    pub fn into_native(mut self) -> AppFolder {
        use crate::app::worker_config::{NATIVE, RUNTIME_SETTING, WorkerConfig};
        self.settings
            .values
            .retain(|(name, _)| name != RUNTIME_SETTING);
        self.settings
            .values
            .push((RUNTIME_SETTING.to_owned(), NATIVE.to_owned()));
        self.worker = Some(WorkerConfig::native(&self.root));
        self
    }

    /// Whether the functions come from the worker once it runs (worker
    /// indexing), not from function.json.
    pub fn awaits_indexing(&self) -> bool {
        self.worker.as_ref().is_some_and(|w| w.worker_indexing) && self.functions.is_empty()
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

/// A custom handler's host.json must name its executable (a language
/// worker's comes from its worker configuration).
fn require_executable(host: &HostJson, path: &Path) -> Result<(), AppError> {
    if host.executable.is_none() {
        return Err(AppError(format!(
            "{} has no customHandler.description.defaultExecutablePath: the host needs it to start the handler",
            path.display()
        )));
    }
    Ok(())
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
fn load_settings(root: &Path) -> Result<(LocalSettings, Option<crate::cors::Cors>), AppError> {
    let path = root.join("local.settings.json");
    if !path.is_file() {
        return Ok((LocalSettings::default(), None));
    }
    let settings = LocalSettings::from_json(&read_json(&path)?)
        .map_err(|why| AppError(format!("{}: {why}", path.display())))?;
    let cors = match &settings.cors {
        Some(list) => crate::cors::Cors::parse(list, settings.cors_credentials)
            .map_err(|e| AppError(format!("{}: Host.CORS: {e}", path.display())))?,
        None => None,
    };
    Ok((settings, cors))
}

#[cfg(test)]
mod tests;
