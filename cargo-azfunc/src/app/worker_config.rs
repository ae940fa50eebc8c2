//! How the host knows an app runs as a language worker, and how it starts
//! it (docs/native-worker-host.md, "Which apps run as workers"): the
//! worker configuration (`worker.config.json`'s `description`, as
//! RpcWorkerConfigFactory reads it) picked by `FUNCTIONS_WORKER_RUNTIME`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::AppError;

/// The setting that names the app's runtime.
pub const RUNTIME_SETTING: &str = "FUNCTIONS_WORKER_RUNTIME";

/// The runtime of compiled apps: a binary named `app` speaking the gRPC
/// protocol, with worker indexing.
pub const NATIVE: &str = "native";

/// The runtime of custom handlers (not a language worker).
pub const CUSTOM: &str = "custom";

/// The file the host reads in each worker directory.
pub const CONFIG_FILE: &str = "worker.config.json";

/// One language worker as the host would start it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerConfig {
    /// `description.language`.
    pub language: String,
    /// The folder holding the configuration (`FUNCTIONS_WORKER_DIRECTORY`,
    /// the init request's `worker_directory`); the app root for the
    /// built-in `native` configuration.
    pub directory: PathBuf,
    /// `description.defaultExecutablePath`, resolved.
    pub executable: PathBuf,
    /// `description.arguments`.
    pub arguments: Vec<String>,
    /// `description.defaultWorkerPath`, resolved against `directory`.
    pub worker_path: Option<PathBuf>,
    /// `description.workerArguments`.
    pub worker_arguments: Vec<String>,
    /// `description.workerIndexing` is `"true"`: the functions come from
    /// the worker (FunctionsMetadataRequest), not from function.json.
    pub worker_indexing: bool,
}

impl WorkerConfig {
    /// The configuration the `native` runtime image writes (the Go worker's
    /// proposal for a shared native image): `app` with worker indexing.
    pub fn native(root: &Path) -> WorkerConfig {
        WorkerConfig {
            language: NATIVE.to_owned(),
            directory: root.to_path_buf(),
            executable: native_executable(root),
            arguments: Vec::new(),
            worker_path: None,
            worker_arguments: Vec::new(),
            worker_indexing: true,
        }
    }

    /// Reads `<directory>/worker.config.json`; `root` is the app root,
    /// against which a relative executable path resolves (the worker runs
    /// there).
    pub fn read(directory: &Path, root: &Path) -> Result<WorkerConfig, AppError> {
        let path = directory.join(CONFIG_FILE);
        let json = super::read_json(&path)?;
        let bad = |why: String| AppError(format!("{}: {why}", path.display()));
        let Some(description) = json.get("description").and_then(Value::as_object) else {
            return Err(bad("no \"description\" object".into()));
        };
        let text = |name: &str| -> Result<Option<String>, AppError> {
            match description.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(other) => Err(bad(format!("description.{name} is {other}, not a string"))),
            }
        };
        let list = |name: &str| -> Result<Vec<String>, AppError> {
            match description.get(name) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_owned).ok_or_else(|| {
                            bad(format!("description.{name} holds {item}, not a string"))
                        })
                    })
                    .collect(),
                Some(other) => Err(bad(format!("description.{name} is {other}, not a list"))),
            }
        };
        let language = text("language")?
            .filter(|l| !l.is_empty())
            .ok_or_else(|| bad("description.language cannot be empty".into()))?;
        let executable = text("defaultExecutablePath")?
            .filter(|e| !e.is_empty())
            .ok_or_else(|| bad("description.defaultExecutablePath cannot be empty".into()))?;
        let worker_path = text("defaultWorkerPath")?
            .filter(|p| !p.is_empty())
            .map(|p| directory.join(p));
        Ok(WorkerConfig {
            language,
            directory: directory.to_path_buf(),
            executable: resolve_executable(&executable, root),
            arguments: list("arguments")?,
            worker_path,
            worker_arguments: list("workerArguments")?,
            worker_indexing: text("workerIndexing")?
                .is_some_and(|w| w.eq_ignore_ascii_case("true")),
        })
    }

    /// The command line before the host's own arguments, as
    /// DefaultWorkerProcessFactory joins it: arguments, worker path,
    /// worker arguments.
    pub fn leading_arguments(&self) -> Vec<String> {
        let mut all = self.arguments.clone();
        if let Some(path) = &self.worker_path {
            all.push(path.to_string_lossy().into_owned());
        }
        all.extend(self.worker_arguments.iter().cloned());
        all
    }
}

/// The worker configuration for the app in `root` with local.settings.json
/// `values`: `None` for a custom handler (no `FUNCTIONS_WORKER_RUNTIME`,
/// or `custom`).
pub fn find(root: &Path, values: &[(String, String)]) -> Result<Option<WorkerConfig>, AppError> {
    let Some(runtime) = setting(values, RUNTIME_SETTING).filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    let runtime = runtime.trim();
    if runtime.eq_ignore_ascii_case(CUSTOM) {
        return Ok(None);
    }
    // The host's app-setting override of a worker's directory:
    // languageWorkers:<runtime>:workerDirectory (`__` in environment form).
    let directory = [
        format!("languageWorkers__{runtime}__workerDirectory"),
        format!("languageWorkers:{runtime}:workerDirectory"),
    ]
    .iter()
    .find_map(|name| setting(values, name));
    if let Some(directory) = directory {
        let directory = root.join(directory);
        let config = WorkerConfig::read(&directory, root)?;
        if !config.language.eq_ignore_ascii_case(runtime) {
            return Err(AppError(format!(
                "{} is for language {:?}, but {RUNTIME_SETTING} is {runtime:?}: the host starts only the worker of the app's runtime",
                directory.join(CONFIG_FILE).display(),
                config.language
            )));
        }
        return Ok(Some(config));
    }
    if runtime.eq_ignore_ascii_case(NATIVE) {
        return Ok(Some(WorkerConfig::native(root)));
    }
    Err(AppError(format!(
        "local.settings.json sets {RUNTIME_SETTING} to {runtime:?}: cargo-azfunc runs custom handlers (\"custom\") and native workers (\"native\"); for another language worker, name the folder of its {CONFIG_FILE} in Values as languageWorkers__{runtime}__workerDirectory"
    )))
}

/// A setting's value: exact name first, then any case (app settings are
/// environment variables, case-insensitive on the host's Windows plans).
fn setting<'a>(values: &'a [(String, String)], name: &str) -> Option<&'a str> {
    values
        .iter()
        .find(|(k, _)| k == name)
        .or_else(|| values.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .map(|(_, v)| v.as_str())
}

/// The native binary: `app` at the root as packaged, else `bin/app` where
/// Core Tools builds it for local runs.
fn native_executable(root: &Path) -> PathBuf {
    let packaged = root.join("app");
    let built = root.join("bin").join("app");
    if !packaged.is_file() && built.is_file() {
        built
    } else {
        packaged
    }
}

/// `defaultExecutablePath` as the worker process resolves it: absolute
/// as written; a path with a folder against the app root (its working
/// directory); a bare name as a file at the app root, else through PATH.
fn resolve_executable(executable: &str, root: &Path) -> PathBuf {
    let path = Path::new(executable);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    if executable.contains('/') || root.join(path).is_file() {
        return root.join(path);
    }
    path.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn custom_or_unset_is_no_worker() {
        let root = Path::new("/app");
        assert_eq!(find(root, &[]).unwrap(), None);
        let custom = values(&[(RUNTIME_SETTING, "Custom")]);
        assert_eq!(find(root, &custom).unwrap(), None);
    }

    #[test]
    fn native_is_app_with_worker_indexing() {
        let dir = tempfile::tempdir().unwrap();
        let config = find(dir.path(), &values(&[(RUNTIME_SETTING, "native")]))
            .unwrap()
            .unwrap();
        assert!(config.worker_indexing);
        assert_eq!(config.executable, dir.path().join("app"));
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::write(dir.path().join("bin/app"), "").unwrap();
        assert_eq!(
            WorkerConfig::native(dir.path()).executable,
            dir.path().join("bin/app")
        );
    }

    #[test]
    fn another_runtime_needs_its_worker_directory() {
        let error = find(Path::new("/app"), &values(&[(RUNTIME_SETTING, "python")]))
            .unwrap_err()
            .0;
        assert!(
            error.contains("languageWorkers__python__workerDirectory"),
            "{error}"
        );
    }

    #[test]
    fn a_worker_config_is_read_as_the_host_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let workers = dir.path().join("workers/python");
        std::fs::create_dir_all(&workers).unwrap();
        std::fs::write(
            workers.join(CONFIG_FILE),
            r#"{"description": {"language": "python", "extensions": [".py"],
                "defaultExecutablePath": "/usr/bin/python3", "arguments": ["-X", "dev"],
                "defaultWorkerPath": "worker.py", "workerArguments": ["--verbose"]}}"#,
        )
        .unwrap();
        let settings = values(&[
            (RUNTIME_SETTING, "python"),
            ("languageWorkers__python__workerDirectory", "workers/python"),
        ]);
        let config = find(dir.path(), &settings).unwrap().unwrap();
        assert_eq!(config.executable, PathBuf::from("/usr/bin/python3"));
        assert!(!config.worker_indexing);
        assert_eq!(
            config.leading_arguments(),
            vec![
                "-X".to_owned(),
                "dev".to_owned(),
                workers.join("worker.py").to_string_lossy().into_owned(),
                "--verbose".to_owned()
            ]
        );
        let node = values(&[
            (RUNTIME_SETTING, "node"),
            ("languageWorkers__node__workerDirectory", "workers/python"),
        ]);
        assert!(
            find(dir.path(), &node)
                .unwrap_err()
                .0
                .contains("\"python\"")
        );
        std::fs::write(
            workers.join(CONFIG_FILE),
            r#"{"description": {"language": "python"}}"#,
        )
        .unwrap();
        assert!(
            find(dir.path(), &settings)
                .unwrap_err()
                .0
                .contains("defaultExecutablePath cannot be empty")
        );
    }
}
