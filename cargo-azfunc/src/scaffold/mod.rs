//! `new app` and `new function`: the files of a ready app on
//! azure-functions-rocket, and one more function in such an app (its
//! module, its folder, its registry line). Every check runs before the
//! first write, so a refusal leaves the folder as it was.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod app_files;
mod function_files;
mod function_sources;
mod main_rs;
mod names;
mod shell;

use app_files::*;
use function_files::*;
use main_rs::*;
pub use names::*;

/// Why nothing (or not everything) was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScaffoldError {
    /// The request cannot be done as asked; nothing was written.
    Refused(String),
    /// Reading or writing a file failed.
    Failed(String),
}

fn refused<T>(message: impl Into<String>) -> Result<T, ScaffoldError> {
    Err(ScaffoldError::Refused(message.into()))
}

/// Where the new app gets `azure-functions-rocket` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Library {
    Path(PathBuf),
    Version(String),
    Git(String),
}

/// What `new app` writes.
#[derive(Debug, Clone)]
pub struct NewApp {
    pub dir: PathBuf,
    /// The package name; by default the folder's name made a crate name.
    pub name: Option<String>,
    /// By default, by path, this workspace's copy.
    pub library: Option<Library>,
}

/// A new function's trigger and trigger-specific settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    Http {
        route: Option<String>,
        methods: Vec<String>,
    },
    Queue {
        queue: String,
        output_queue: Option<String>,
    },
    Timer {
        schedule: String,
    },
}

/// What `new function` writes.
#[derive(Debug, Clone)]
pub struct NewFunction {
    pub name: String,
    pub trigger: Trigger,
    /// A blob output's path, e.g. `results/{rand-guid}.json`.
    pub blob_output: Option<String>,
    pub app: PathBuf,
}

/// The HTTP methods function.json accepts.
pub const HTTP_METHODS: [&str; 8] = [
    "get", "post", "put", "delete", "patch", "head", "options", "trace",
];

fn io_error(what: &str, path: &Path, error: std::io::Error) -> ScaffoldError {
    ScaffoldError::Failed(format!("cannot {what} {}: {error}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), ScaffoldError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_error("create", parent, e))?;
    }
    std::fs::write(path, text).map_err(|e| io_error("write", path, e))
}

/// Writes function `spec` into its app: `src/<module>.rs`, and its `mod`
/// and registry lines in `src/lib.rs` (or, in an app made before the
/// registry moved there, `src/main.rs`); the registry line declares every
/// binding, and `cargo azfunc start --build` writes `<Name>/function.json`
/// from it. Returns what it did, line by line.
pub fn new_function(spec: &NewFunction) -> Result<Vec<String>, ScaffoldError> {
    let plan = Plan::new(spec)?;
    let app = &spec.app;
    if !app.join("host.json").is_file() {
        return refused(format!(
            "no host.json in {}: not an app folder (create one with `cargo azfunc new app DIR`, or pass --app DIR)",
            app.display()
        ));
    }
    let lib_path = app.join("src").join("lib.rs");
    let main_path = if lib_path.is_file() {
        lib_path
    } else {
        app.join("src").join("main.rs")
    };
    let file = if main_path.ends_with("lib.rs") {
        "src/lib.rs"
    } else {
        "src/main.rs"
    };
    let main_rs = match std::fs::read_to_string(&main_path) {
        Ok(text) => text,
        Err(e) => {
            return refused(format!(
                "cannot read {}: {e}: `cargo azfunc new function` adds to the src/lib.rs that `cargo azfunc new app` writes",
                main_path.display()
            ));
        }
    };
    check_free(app, &plan, &main_rs, file)?;
    let registry_line = plan.registry_line();
    let Some(new_main) = add_to_main(&main_rs, &plan.module, &registry_line) else {
        return refused(format!(
            "{} is not in the shape `cargo azfunc new app` writes (a `pub fn registry() -> Registry` whose body is one `Registry::new()` chain), so nothing was written; to add the function by hand, write src/{}.rs, and add `mod {};`, `use azure_functions_rocket::{{{}}};` and, to the registry, `{registry_line}`",
            main_path.display(),
            plan.module,
            plan.module,
            plan.imports().join(", ")
        ));
    };
    let new_main = add_imports(&new_main, &plan.imports());
    let source_path = app.join("src").join(format!("{}.rs", plan.module));
    write(&source_path, &plan.source())?;
    write(&main_path, &new_main)?;
    Ok(vec![
        format!("wrote src/{}.rs", plan.module),
        format!("added to {file}: mod {}; {registry_line}", plan.module),
        format!(
            "{}/function.json is written from the registry by `cargo azfunc start --build` (and scripts/release)",
            plan.name
        ),
    ])
}

/// Refuses a function whose name, folder or module the app already has.
fn check_free(app: &Path, plan: &Plan, main_rs: &str, file: &str) -> Result<(), ScaffoldError> {
    let name = &plan.name;
    if app.join(name).exists() {
        return refused(format!(
            "{name} already exists in {}: a function named {name:?} needs that folder; choose another name",
            app.display()
        ));
    }
    // The host's function names are case-insensitive.
    if let Ok(entries) = std::fs::read_dir(app) {
        for entry in entries.flatten() {
            let folder = entry.file_name().to_string_lossy().into_owned();
            if folder.eq_ignore_ascii_case(name) {
                return refused(format!(
                    "the folder {folder} already exists in {}, and function names are case-insensitive; choose another name",
                    app.display()
                ));
            }
        }
    }
    if let Some(binary) = handler_name(app)
        && binary.eq_ignore_ascii_case(name)
    {
        return refused(format!(
            "{name:?} is the handler binary's name (defaultExecutablePath), which sits next to the function folders; choose another name"
        ));
    }
    let module = &plan.module;
    let src = app.join("src");
    if src.join(format!("{module}.rs")).exists() || src.join(module).exists() {
        return refused(format!(
            "the module {module} already exists (src/{module}.rs or src/{module}/): choose another function name"
        ));
    }
    if main_rs
        .lines()
        .any(|l| l.trim() == format!("mod {module};"))
        || main_rs.contains(&format!("({name:?},"))
    {
        return refused(format!(
            "{file} already has `mod {module};` or a function named {name:?}: choose another name"
        ));
    }
    Ok(())
}

/// The file name of host.json's `defaultExecutablePath`, if readable.
fn handler_name(app: &Path) -> Option<String> {
    let text = std::fs::read_to_string(app.join("host.json")).ok()?;
    let json: Value = serde_json::from_str(&text).ok()?;
    let path = json
        .get("customHandler")?
        .get("description")?
        .get("defaultExecutablePath")?
        .as_str()?;
    Some(path.rsplit(['/', '\\']).next()?.to_owned())
}

/// Writes a new app into `spec.dir` (created; refused when it exists and is
/// not empty). Returns what it did and the next commands, line by line.
pub fn new_app(spec: &NewApp) -> Result<Vec<String>, ScaffoldError> {
    let dir = &spec.dir;
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map(|mut entries| entries.next().is_none())
            .unwrap_or(false);
        if !empty {
            return refused(format!(
                "{} exists and is not empty: give a new or empty folder",
                dir.display()
            ));
        }
    }
    let name = match &spec.name {
        Some(name) => name.clone(),
        None => {
            let folder = std::path::absolute(dir)
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default();
            crate_name_from_folder(&folder)
        }
    };
    if let Some(problem) = crate_name_problem(&name) {
        return refused(problem);
    }
    if name.eq_ignore_ascii_case("hello") {
        return refused(
            "\"hello\" is the name of the app's first function's folder (Hello), and the binary sits next to it: pass --name NAME",
        );
    }
    let dependency = library_dependency(spec.library.as_ref())?;
    let hello = Plan::new(&NewFunction {
        name: "Hello".into(),
        trigger: Trigger::Http {
            route: None,
            methods: vec!["get".into(), "post".into()],
        },
        blob_output: None,
        app: dir.clone(),
    })?;
    let files = [
        ("Cargo.toml", cargo_toml(&name, &dependency)),
        ("src/lib.rs", lib_rs(&name, &hello)),
        ("src/main.rs", main_rs(&name)),
        ("src/hello.rs", hello.source()),
        ("host.json", host_json(&name)),
        ("local.settings.json", LOCAL_SETTINGS.to_owned()),
        (".funcignore", FUNCIGNORE.to_owned()),
        (
            ".gitignore",
            format!(
                "target/\n# The release build, copied next to host.json to publish.\n/{name}\n"
            ),
        ),
        (".cargo/config.toml", CARGO_CONFIG.to_owned()),
        ("README.md", readme(&name)),
    ];
    for (file, text) in &files {
        write(&dir.join(file), text)?;
    }
    let shown = dir.display();
    Ok(vec![
        format!(
            "wrote the app {name} in {shown}: the function Hello (src/hello.rs), declared whole in src/lib.rs; `cargo azfunc start --build` writes its folder Hello/function.json"
        ),
        "next:".into(),
        format!("  cd {}", shell::quoted(&shown.to_string())),
        "  cargo test".into(),
        "  cargo azfunc start --build".into(),
        "  curl 'http://localhost:7071/api/Hello?name=Ada'".into(),
        "  cargo azfunc new function Squares --queue sides --output-queue squares".into(),
        "  cargo azfunc check --build".into(),
    ])
}

#[cfg(test)]
mod tests;
