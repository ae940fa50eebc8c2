//! The app's function folders checked against its registry at start-up,
//! so that a renamed folder, trigger or output stops the handler with the
//! reason instead of failing each invocation later.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::registry::{Function, Registry};

/// The variable the host sets to the app's folder.
const APP_ROOT_VARIABLE: &str = "FUNCTIONS_APP_ROOT_PATH";

/// The values of `dataType` the host knows.
const DATA_TYPES: [&str; 3] = ["string", "binary", "stream"];

/// Trigger types whose input this library reads as text or JSON: base64
/// from `"dataType": "binary"` would reach the function as text.
const TYPED_TRIGGERS: [&str; 3] = ["httpTrigger", "queueTrigger", "timerTrigger"];

/// The app folder to check: the host's `FUNCTIONS_APP_ROOT_PATH`, else the
/// working directory when its host.json starts this very binary; `None`
/// when run by hand elsewhere (e.g. `cargo run` from another folder).
pub(crate) fn app_root() -> Option<PathBuf> {
    if let Some(root) = std::env::var_os(APP_ROOT_VARIABLE).filter(|root| !root.is_empty()) {
        return Some(PathBuf::from(root));
    }
    let here = std::env::current_dir().ok()?;
    let exe = std::env::current_exe().ok()?;
    starts(&here, exe.file_name()?.to_str()?).then_some(here)
}

/// Whether the host.json in `dir` names `binary` as the handler.
fn starts(dir: &Path, binary: &str) -> bool {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct HostJson {
        custom_handler: CustomHandler,
    }
    #[derive(Deserialize)]
    struct CustomHandler {
        description: Description,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Description {
        default_executable_path: String,
    }
    let Ok(text) = std::fs::read_to_string(dir.join("host.json")) else {
        return false;
    };
    serde_json::from_str::<HostJson>(&text).is_ok_and(|host| {
        let path = host.custom_handler.description.default_executable_path;
        let name = path.rsplit(['/', '\\']).next().unwrap_or_default();
        name == binary || name.strip_suffix(".exe") == Some(binary)
    })
}

#[derive(Deserialize)]
struct FunctionJson {
    #[serde(default)]
    bindings: Vec<Binding>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Binding {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    data_type: Option<String>,
}

impl Binding {
    fn is_trigger(&self) -> bool {
        self.direction == "in" && self.kind.ends_with("Trigger")
    }

    fn is_output(&self) -> bool {
        self.direction == "out" && self.name != "$return"
    }
}

impl Registry {
    /// How the registry and the function folders of the app at `root`
    /// disagree, one line each, naming the file and what to change; empty
    /// when they agree.
    pub(crate) fn mismatches(&self, root: &Path) -> Vec<String> {
        let mut found = Vec::new();
        let mut folders = match std::fs::read_dir(root) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.join("function.json").is_file())
                .filter_map(|path| Some(path.file_name()?.to_str()?.to_owned()))
                .collect::<Vec<_>>(),
            Err(error) => {
                return vec![format!(
                    "{}: cannot read the app folder: {error}",
                    root.display()
                )];
            }
        };
        folders.sort();
        for folder in &folders {
            if self.iter().all(|function| function.name != folder) {
                found.push(format!(
                    "{folder}/function.json: no function named {folder:?} is registered: add it to the registry, or remove the folder"
                ));
            }
        }
        for function in self.iter() {
            found.extend(function.mismatches(root));
        }
        for name in self.clashes() {
            found.push(format!(
                "{name}: more than one function answers to this name: give each function its own name and aliases"
            ));
        }
        found
    }
}

impl Function {
    /// How the function's folder disagrees with this declaration.
    fn mismatches(&self, root: &Path) -> Vec<String> {
        let at = format!("{}/function.json", self.name);
        let text = match std::fs::read_to_string(root.join(self.name).join("function.json")) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return vec![format!(
                    "{at}: missing: the registry declares {:?}, a {} function; create the folder {:?} with its function.json",
                    self.name, self.trigger_type, self.name
                )];
            }
            Err(error) => return vec![format!("{at}: cannot read it: {error}")],
        };
        let bindings = match serde_json::from_str::<FunctionJson>(&text) {
            Ok(json) => json.bindings,
            Err(error) => return vec![format!("{at}: not a function.json: {error}")],
        };
        let mut found = Vec::new();
        let triggers: Vec<&Binding> = bindings.iter().filter(|b| b.is_trigger()).collect();
        match triggers.as_slice() {
            [trigger] => found.extend(self.trigger_mismatch(&at, trigger)),
            _ => found.push(format!(
                "{at}: {} trigger bindings; a function has exactly one: an \"in\" binding of type {:?} named {:?}",
                triggers.len(),
                self.trigger_type,
                self.binding
            )),
        }
        for binding in bindings.iter().filter(|b| b.is_output()) {
            if !self.outputs.contains(&binding.name.as_str()) {
                found.push(format!(
                    "{at}: the out binding {:?} is not declared, so nothing would be written to it: add .output({:?}) to the registry line, or remove the binding",
                    binding.name, binding.name
                ));
            }
        }
        for output in &self.outputs {
            if !bindings.iter().any(|b| b.is_output() && b.name == *output) {
                found.push(format!(
                    "{at}: no out binding named {output:?}, which the registry declares, so the host would drop it: add the binding, or rename it to match"
                ));
            }
        }
        let returns_http = bindings
            .iter()
            .any(|b| b.direction == "out" && b.name == "$return" && b.kind == "http");
        if self.fails_in_envelope && !returns_http {
            found.push(format!(
                "{at}: an HTTP function answers through its return value: add {{\"type\": \"http\", \"direction\": \"out\", \"name\": \"$return\"}}"
            ));
        }
        for binding in &bindings {
            found.extend(data_type_mismatch(&at, binding));
        }
        found
    }

    fn trigger_mismatch(&self, at: &str, trigger: &Binding) -> Option<String> {
        if trigger.kind != self.trigger_type {
            Some(format!(
                "{at}: the trigger is of type {:?}; the registry declares a {} function: change the binding's \"type\" to {:?}, or the registry line",
                trigger.kind, self.trigger_type, self.trigger_type
            ))
        } else if trigger.name != self.binding {
            Some(format!(
                "{at}: the trigger binding is named {:?}; the registry reads {:?}: set its \"name\" to {:?}, or change the registry line",
                trigger.name, self.binding, self.binding
            ))
        } else {
            None
        }
    }
}

/// A `dataType` the host does not know, or `binary` where it would hand
/// this library base64 or store the base64 text it writes.
fn data_type_mismatch(at: &str, binding: &Binding) -> Option<String> {
    let data_type = binding.data_type.as_deref()?;
    let name = &binding.name;
    if !DATA_TYPES.contains(&data_type) {
        return Some(format!(
            "{at}: binding {name:?} has \"dataType\": {data_type:?}; the host knows \"string\", \"binary\" and \"stream\""
        ));
    }
    if data_type != "binary" {
        return None;
    }
    if binding.is_output() {
        Some(format!(
            "{at}: out binding {name:?} has \"dataType\": \"binary\", under which the host would store the base64 text this library sends for bytes: remove \"dataType\""
        ))
    } else if binding.is_trigger() && TYPED_TRIGGERS.contains(&binding.kind.as_str()) {
        Some(format!(
            "{at}: trigger {name:?} has \"dataType\": \"binary\", under which the function would get base64 instead of the text: remove \"dataType\""
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
