//! The app folder as the host reads it, read once at start-up: host.json
//! (which binary the host starts, how it sends HTTP calls, the route
//! prefix) and each function folder's function.json
//! (`docs/host-protocol.md`, sections 4, 5 and 7).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// The variable the host sets to the app's folder.
const APP_ROOT_VARIABLE: &str = "FUNCTIONS_APP_ROOT_PATH";

/// How the host hands HTTP calls to the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HttpMode {
    /// The default: every invocation is an envelope POSTed to `/{FunctionName}`.
    Envelope,
    /// `customHandler.enableForwardingHttpRequest`: the caller's request
    /// itself, its response passed back whole.
    Forwarding,
    /// `customHandler.enableProxyingHttpRequest`: the same, the response
    /// streamed back.
    Proxying,
}

impl HttpMode {
    /// Whether callers' requests reach the handler as they are.
    pub fn forwards(self) -> bool {
        self != HttpMode::Envelope
    }

    /// The host.json setting that chose the mode, for messages.
    pub fn setting(self) -> &'static str {
        match self {
            HttpMode::Envelope => {
                "neither enableForwardingHttpRequest nor enableProxyingHttpRequest"
            }
            HttpMode::Forwarding => "\"enableForwardingHttpRequest\": true",
            HttpMode::Proxying => "\"enableProxyingHttpRequest\": true",
        }
    }
}

/// What host.json says that the handler must follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostJson {
    /// `customHandler.description.defaultExecutablePath`, as written.
    pub executable: Option<String>,
    pub mode: HttpMode,
    /// `extensions.http.routePrefix` without its slashes; `api` by default.
    pub route_prefix: String,
}

impl Default for HostJson {
    fn default() -> HostJson {
        HostJson {
            executable: None,
            mode: HttpMode::Envelope,
            route_prefix: "api".to_owned(),
        }
    }
}

impl HostJson {
    /// Reads host.json's text. The host matches its property names in any
    /// case, and its configuration reader takes `"true"` for `true`.
    pub fn parse(text: &str) -> Result<HostJson, String> {
        let json: Value =
            serde_json::from_str(text).map_err(|error| format!("not valid JSON: {error}"))?;
        let custom = field(&json, "customHandler");
        let executable = custom
            .and_then(|custom| field(custom, "description"))
            .and_then(|description| field(description, "defaultExecutablePath"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let flag = |name: &str| -> Result<bool, String> {
            match custom.and_then(|custom| field(custom, name)) {
                None | Some(Value::Null) => Ok(false),
                Some(Value::Bool(on)) => Ok(*on),
                Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(true),
                Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(false),
                Some(other) => Err(format!(
                    "customHandler.{name} is {other}; the host reads true or false there"
                )),
            }
        };
        // Proxying is the newer way to do what forwarding does, and the
        // handler serves both alike; only the host's streaming differs.
        let mode = if flag("enableProxyingHttpRequest")? {
            HttpMode::Proxying
        } else if flag("enableForwardingHttpRequest")? {
            HttpMode::Forwarding
        } else {
            HttpMode::Envelope
        };
        let route_prefix = match field(&json, "extensions")
            .and_then(|extensions| field(extensions, "http"))
            .and_then(|http| field(http, "routePrefix"))
        {
            None | Some(Value::Null) => "api".to_owned(),
            Some(Value::String(prefix)) => prefix.trim_matches('/').to_owned(),
            Some(other) => {
                return Err(format!(
                    "extensions.http.routePrefix is {other}; the host reads a string there"
                ));
            }
        };
        Ok(HostJson {
            executable,
            mode,
            route_prefix,
        })
    }

    /// Whether host.json names `binary` as the handler.
    fn starts(&self, binary: &str) -> bool {
        self.executable.as_deref().is_some_and(|path| {
            let name = path.rsplit(['/', '\\']).next().unwrap_or_default();
            name == binary || name.strip_suffix(".exe") == Some(binary)
        })
    }
}

/// A host.json property, its name matched in any case, as the host does.
fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// One entry of function.json's `bindings`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Binding {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub direction: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub data_type: Option<String>,
    /// An HTTP trigger's route template.
    #[serde(default)]
    pub route: Option<String>,
    /// An HTTP trigger's methods; none (or empty) allows every method.
    #[serde(default)]
    pub methods: Option<Vec<String>>,
}

impl Binding {
    pub fn is_trigger(&self) -> bool {
        self.direction == "in" && self.kind.ends_with("Trigger")
    }

    pub fn is_output(&self) -> bool {
        self.direction == "out" && self.name != "$return"
    }

    pub fn is_binary(&self) -> bool {
        self.data_type.as_deref() == Some("binary")
    }
}

/// A function folder's function.json.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct FunctionJson {
    #[serde(default)]
    pub bindings: Vec<Binding>,
}

impl FunctionJson {
    /// The one trigger binding, if there is exactly one.
    pub fn trigger(&self) -> Option<&Binding> {
        let mut triggers = self.bindings.iter().filter(|b| b.is_trigger());
        match (triggers.next(), triggers.next()) {
            (Some(trigger), None) => Some(trigger),
            _ => None,
        }
    }

    /// Whether the host forwards callers' requests to this function in
    /// forwarding and proxying modes: exactly one `httpTrigger` in and
    /// one `http` out, nothing else (docs/host-protocol.md, "Forwarding mode"). Any
    /// other function still gets the envelope.
    pub fn takes_forwarded_requests(&self) -> bool {
        matches!(
            self.bindings.as_slice(),
            [a, b] if [a, b].iter().any(|x| x.direction == "in" && x.kind == "httpTrigger")
                && [a, b].iter().any(|x| x.direction == "out" && x.kind == "http")
        )
    }
}

/// The app folder: its host.json and its function folders.
#[derive(Debug, Clone)]
pub(crate) struct AppFolder {
    pub host: HostJson,
    /// Each folder holding a function.json, by name, sorted; the file
    /// read, or why it could not be.
    pub functions: Vec<(String, Result<FunctionJson, String>)>,
}

impl AppFolder {
    /// The app folder to serve: the host's `FUNCTIONS_APP_ROOT_PATH`,
    /// else the working directory when its host.json starts this very
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
    /// defaults; one that cannot be read, or a folder that cannot be
    /// listed, is an error naming it.
    pub fn read(root: &Path) -> Result<AppFolder, String> {
        let host = match std::fs::read_to_string(root.join("host.json")) {
            Ok(text) => HostJson::parse(&text).map_err(|error| format!("host.json: {error}"))?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => HostJson::default(),
            Err(error) => return Err(format!("host.json: cannot read it: {error}")),
        };
        let entries = std::fs::read_dir(root)
            .map_err(|error| format!("{}: cannot read the app folder: {error}", root.display()))?;
        let mut functions: Vec<(String, Result<FunctionJson, String>)> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("function.json"))
            .filter(|path| path.is_file())
            .filter_map(|path| {
                let name = path.parent()?.file_name()?.to_str()?.to_owned();
                let json = std::fs::read_to_string(&path)
                    .map_err(|error| format!("cannot read it: {error}"))
                    .and_then(|text| {
                        serde_json::from_str(&text)
                            .map_err(|error| format!("not a function.json: {error}"))
                    });
                Some((name, json))
            })
            .collect();
        functions.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(AppFolder { host, functions })
    }

    /// The function.json of folder `name`, if the folder has one.
    pub fn function(&self, name: &str) -> Option<&Result<FunctionJson, String>> {
        self.functions
            .iter()
            .find(|(folder, _)| folder == name)
            .map(|(_, json)| json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_json_modes_prefix_and_case() {
        let host = HostJson::parse("{}").unwrap();
        assert_eq!(host, HostJson::default());
        let host = HostJson::parse(
            r#"{"customHandler":{"description":{"defaultExecutablePath":"bin/app.exe"},"enableForwardingHttpRequest":true},"extensions":{"http":{"routePrefix":"/v1/"}}}"#,
        )
        .unwrap();
        assert_eq!(host.mode, HttpMode::Forwarding);
        assert_eq!(host.route_prefix, "v1");
        assert!(host.starts("app"));
        let host = HostJson::parse(
            r#"{"CustomHandler":{"EnableProxyingHttpRequest":"True","enableForwardingHttpRequest":true},"Extensions":{"Http":{"RoutePrefix":""}}}"#,
        )
        .unwrap();
        assert_eq!(host.mode, HttpMode::Proxying);
        assert_eq!(host.route_prefix, "");
        for bad in [
            r#"{"customHandler":{"enableForwardingHttpRequest":1}}"#,
            r#"{"customHandler":{"enableProxyingHttpRequest":"yes"}}"#,
            r#"{"extensions":{"http":{"routePrefix":5}}}"#,
            "{",
        ] {
            assert!(HostJson::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_one_http_trigger_and_one_http_output_take_forwarded_requests() {
        let json = |text: &str| serde_json::from_str::<FunctionJson>(text).unwrap();
        let http = r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"req"},{"type":"http","direction":"out","name":"$return"}]}"#;
        assert!(json(http).takes_forwarded_requests());
        let more = r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"req"},{"type":"http","direction":"out","name":"$return"},{"type":"queue","direction":"out","name":"q"}]}"#;
        assert!(!json(more).takes_forwarded_requests());
        let queue = r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"m"},{"type":"http","direction":"out","name":"$return"}]}"#;
        assert!(!json(queue).takes_forwarded_requests());
    }
}
