//! The app folder as the host reads it: host.json and the function
//! folders, each a folder holding a function.json.

use std::path::{Path, PathBuf};

use crate::environment::APP_ROOT_VARIABLE;
use crate::function_json::FunctionJson;
use crate::host_json::HostJson;

/// A function folder: its name, in its exact case, and its function.json
/// read, or why it could not be.
pub type FunctionFolder = (String, Result<FunctionJson, String>);

/// An app folder, read once.
#[derive(Debug, Clone)]
pub struct AppFolder {
    /// host.json; the host's defaults when there is none.
    pub host: HostJson,
    /// Whether there was a host.json to read.
    pub has_host_json: bool,
    /// As [`AppFolder::read_functions`] reads them.
    pub functions: Vec<FunctionFolder>,
}

impl AppFolder {
    /// The app folder a handler serves: the host's `FUNCTIONS_APP_ROOT_PATH`,
    /// else the working directory when its host.json starts the running
    /// binary; `None` when run by hand elsewhere (e.g. `cargo run` from
    /// another folder).
    pub fn root() -> Option<PathBuf> {
        if let Some(root) = std::env::var_os(APP_ROOT_VARIABLE).filter(|root| !root.is_empty()) {
            return Some(PathBuf::from(root));
        }
        let here = std::env::current_dir().ok()?;
        let exe = std::env::current_exe().ok()?;
        let text = std::fs::read_to_string(here.join("host.json")).ok()?;
        let host = HostJson::parse(&text).ok()?;
        host.starts(exe.file_name()?.to_str()?).then_some(here)
    }

    /// Reads the folder `root`. A missing host.json reads as the host's
    /// defaults; one the host would refuse, or a folder that cannot be
    /// listed, is an error naming it. A function.json that cannot be read
    /// is kept as the reason, for the caller to report with the others.
    pub fn read(root: &Path) -> Result<AppFolder, String> {
        let (host, has_host_json) = match std::fs::read_to_string(root.join("host.json")) {
            Ok(text) => (
                HostJson::parse(&text).map_err(|error| format!("host.json: {error}"))?,
                true,
            ),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                (HostJson::default(), false)
            }
            Err(error) => return Err(format!("host.json: cannot read it: {error}")),
        };
        Ok(AppFolder {
            host,
            has_host_json,
            functions: AppFolder::read_functions(root)?,
        })
    }

    /// The function folders of the app at `root`: each folder holding a
    /// function.json, by name in its exact case, sorted; the file read,
    /// or why it could not be.
    pub fn read_functions(root: &Path) -> Result<Vec<FunctionFolder>, String> {
        let entries = std::fs::read_dir(root)
            .map_err(|error| format!("{}: cannot read the app folder: {error}", root.display()))?;
        let mut functions: Vec<FunctionFolder> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("function.json"))
            .filter(|path| path.is_file())
            .filter_map(|path| {
                let name = path.parent()?.file_name()?.to_string_lossy().into_owned();
                let json = std::fs::read_to_string(&path)
                    .map_err(|error| format!("cannot read it: {error}"))
                    .and_then(|text| FunctionJson::parse(&text));
                Some((name, json))
            })
            .collect();
        functions.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(functions)
    }

    /// The function.json of folder `name`, if the folder has one.
    pub fn function(&self, name: &str) -> Option<&Result<FunctionJson, String>> {
        self.functions
            .iter()
            .find(|(folder, _)| folder == name)
            .map(|(_, json)| json)
    }
}
