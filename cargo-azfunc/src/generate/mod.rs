//! Function folders written from the registry: a built handler prints the
//! function.json of each of its functions ([`read_metadata`]), and
//! [`write_folders`] writes the folders the host reads from them, never
//! over a hand-kept one (docs/functions.md, "Functions declared in code").
//!
//! The folders cargo azfunc wrote are listed in the app folder's
//! [`MANIFEST`], each with a digest of the text it wrote: a folder not
//! listed, or whose file no longer has that digest (edited by hand), is
//! hand-kept. function.json itself holds nothing but what the host reads.

mod manifest;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use function_app::FunctionJson;
use function_app::environment::{
    APP_ROOT_VARIABLE, CHECK_VARIABLE, METADATA_VARIABLE, PORT_VARIABLES,
};
pub use function_app::{FunctionMetadata, Metadata};

use crate::console::Console;
use crate::process::limited::{Ran, run_limited};
pub use manifest::{MANIFEST, Manifest};

/// How long a handler gets to print its functions.
pub const METADATA_LIMIT: Duration = Duration::from_secs(20);

/// The functions the handler `executable` declares, as it prints them
/// with [`METADATA_VARIABLE`] set, run in the app folder `root`.
pub fn read_metadata(executable: &Path, root: &Path) -> Result<Metadata, String> {
    let shown = executable.display();
    let mut command = Command::new(executable);
    command
        .current_dir(root)
        .env(METADATA_VARIABLE, "1")
        // A handler on an older azure-functions-rocket checks and exits
        // instead of serving.
        .env(CHECK_VARIABLE, "1")
        .env_remove(APP_ROOT_VARIABLE)
        .env_remove(PORT_VARIABLES[0])
        .env_remove(PORT_VARIABLES[1]);
    let Ran {
        status,
        stdout,
        stderr,
    } = run_limited(&mut command, METADATA_LIMIT)
        .map_err(|e| format!("cannot run the handler {shown}: {e}"))?;
    let Some(status) = status else {
        return Err(format!(
            "the handler {shown} did not print its functions within {} s",
            METADATA_LIMIT.as_secs()
        ));
    };
    if !status.success() {
        let said: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        return Err(format!(
            "the handler {shown} could not print its functions ({status}): {}",
            if said.is_empty() {
                "it said nothing".to_owned()
            } else {
                said.join("; ")
            }
        ));
    }
    Metadata::parse(&stdout).map_err(|e| {
        format!(
            "the handler {shown} printed no function metadata ({e}): is it built on an azure-functions-rocket that prints them when {METADATA_VARIABLE}=1?"
        )
    })
}

/// What [`write_folders`] did, folder by folder.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Written {
    /// Written for the first time.
    pub created: Vec<String>,
    /// Written again: the registry changed.
    pub refreshed: Vec<String>,
    /// Removed: written before, no longer registered.
    pub removed: Vec<String>,
    /// Left alone: hand-kept (never written by cargo azfunc, or edited
    /// since).
    pub hand_kept: Vec<String>,
}

impl Written {
    /// One line per change, for the console.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (names, what) in [
            (&self.created, "wrote"),
            (&self.refreshed, "rewrote"),
            (&self.removed, "removed"),
        ] {
            lines.extend(
                names
                    .iter()
                    .map(|name| format!("{what} {name}/function.json from the registry")),
            );
        }
        lines
    }
}

/// Writes the function folder of each function of `metadata` into the
/// app folder `root`: a missing one is written, one cargo azfunc wrote is
/// rewritten when the registry changed, a hand-kept one is never touched
/// (`cargo azfunc check` shows how it differs). The folders cargo azfunc
/// wrote for functions no longer registered are removed.
pub fn write_folders(root: &Path, metadata: &Metadata) -> Result<Written, String> {
    let mut manifest = Manifest::load(root)?;
    let mut written = Written::default();
    for function in &metadata.functions {
        let name = &function.name;
        if let Some(problem) = folder_name_problem(name) {
            return Err(problem);
        }
        let path = root.join(name).join("function.json");
        let text = function.function.to_text();
        let current = match std::fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        match current {
            None => {
                write(&path, &text)?;
                manifest.record(name, &text);
                written.created.push(name.clone());
            }
            Some(bytes) if manifest.wrote(name, &bytes) => {
                if bytes != text.as_bytes() {
                    write(&path, &text)?;
                    manifest.record(name, &text);
                    written.refreshed.push(name.clone());
                }
            }
            Some(_) => {
                // Never written here, or edited since: the person's now.
                manifest.forget(name);
                written.hand_kept.push(name.clone());
            }
        }
    }
    for name in manifest.names() {
        if metadata.function(&name).is_some() {
            continue;
        }
        let folder = root.join(&name);
        let path = folder.join("function.json");
        if let Ok(bytes) = std::fs::read(&path)
            && manifest.wrote(&name, &bytes)
        {
            std::fs::remove_file(&path)
                .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            // Only when nothing else was put there.
            let _ = std::fs::remove_dir(&folder);
            written.removed.push(name.clone());
        }
        manifest.forget(&name);
    }
    manifest.save(root)?;
    Ok(written)
}

/// Writes the function folders of the app at `root` from the functions
/// its built handler `executable` declares, saying on `console` what it
/// wrote, and which hand-kept folders differ from the registry.
pub fn generate(root: &Path, executable: &Path, console: &Console) -> Result<(), String> {
    let metadata = read_metadata(executable, root)?;
    let written = write_folders(root, &metadata)?;
    for line in written.lines() {
        console.info(line);
    }
    let differing: Vec<String> = differences(root, &metadata)?
        .iter()
        .filter_map(|line| line.split_once(" (hand-kept)").map(|(at, _)| at.to_owned()))
        .fold(Vec::new(), |mut folders, at| {
            if !folders.contains(&at) {
                folders.push(at);
            }
            folders
        });
    if !differing.is_empty() {
        console.warning(format!(
            "hand-kept {} differ from the registry, and the host reads the files: `cargo azfunc check` shows each difference",
            differing.join(", ")
        ));
    }
    Ok(())
}

/// The functions of `metadata` without a function folder in `root`, one
/// line each.
pub fn missing(root: &Path, metadata: &Metadata) -> Vec<String> {
    metadata
        .functions
        .iter()
        .filter(|function| !root.join(&function.name).join("function.json").is_file())
        .map(|function| {
            format!(
                "{}/function.json: missing: `cargo azfunc start --build` and scripts/release write it from the registry",
                function.name
            )
        })
        .collect()
}

/// How the function folders in `root` differ from what `metadata`
/// declares, one line per binding and setting, naming the file and
/// whether it is hand-kept, and one per folder the registry does not
/// declare (the host would load it); a function without its folder is
/// left to [`missing`].
pub fn differences(root: &Path, metadata: &Metadata) -> Result<Vec<String>, String> {
    let manifest = Manifest::load(root)?;
    let mut found = Vec::new();
    for (name, _) in function_app::AppFolder::read_functions(root)? {
        if !metadata.functions.iter().any(|f| f.name == name) {
            found.push(format!(
                "{name}/function.json (hand-kept): not in the registry: the host would load a function the handler does not serve; declare it on a registry line, or remove the folder"
            ));
        }
    }
    for function in &metadata.functions {
        let name = &function.name;
        let path = root.join(name).join("function.json");
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let at = if manifest.wrote(name, &bytes) {
            format!("{name}/function.json (written by cargo azfunc, rewritten at the next build)")
        } else {
            format!("{name}/function.json (hand-kept)")
        };
        let kept = String::from_utf8(bytes)
            .map_err(|_| "not UTF-8 text".to_owned())
            .and_then(|text| FunctionJson::parse(&text));
        match kept {
            Ok(kept) => found.extend(
                kept.differences(&function.function)
                    .into_iter()
                    .map(|difference| format!("{at}: {difference}")),
            ),
            Err(e) => found.push(format!("{at}: {e}")),
        }
    }
    Ok(found)
}

/// Why `name` cannot be a function folder's name, if it cannot.
fn folder_name_problem(name: &str) -> Option<String> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '\0'])
        || name.starts_with('.');
    bad.then(|| {
        format!("the registry declares a function named {name:?}, which cannot be a folder's name")
    })
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)
            .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    }
    manifest::write_atomically(path, text.as_bytes())
}

#[cfg(test)]
mod tests;
