//! host.json as the host reads it: which binary it starts and how, how it
//! hands HTTP calls over, the route prefix, the function timeout and the
//! Durable task hub (docs/host-protocol.md, "The app's files").

use std::time::Duration;

use serde_json::Value;

use crate::json::property;
use crate::timespan::{parse_timespan, timespan_to_string};

/// How the host hands HTTP calls to the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMode {
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

/// The host's functionTimeout when host.json sets none. It is 30 minutes on
/// every plan but Consumption (5 minutes there), and Core Tools runs the
/// host as such a plan; a handler tried locally against the shorter limit
/// would be cut where the user's Premium or Dedicated app is not.
pub const DEFAULT_FUNCTION_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The shortest functionTimeout the host starts with.
pub const MIN_FUNCTION_TIMEOUT: Duration = Duration::from_secs(1);

/// The Durable extension's task hub when host.json names none.
const DEFAULT_HUB_NAME: &str = "TestHubName";
const DEFAULT_REORDER_WINDOW_MINUTES: u32 = 30;
/// The Durable extension's storage connection when host.json names none:
/// the WebJobs SDK's `ConnectionStringNames.Storage`.
const DEFAULT_CONNECTION_NAME: &str = "Storage";

/// What host.json says about the handler, HTTP and timeouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostJson {
    /// `customHandler.description.defaultExecutablePath`, as written; the
    /// host cannot start a handler without it.
    pub executable: Option<String>,
    /// `customHandler.description.arguments`.
    pub arguments: Vec<String>,
    /// `customHandler.description.workingDirectory`.
    pub working_directory: Option<String>,
    pub mode: HttpMode,
    /// `extensions.http.routePrefix` without its slashes; `api` by default.
    pub route_prefix: String,
    /// `functionTimeout`: how long an invocation may run before the host
    /// fails it and restarts the handler; `None` for no limit (`"-1"`).
    pub function_timeout: Option<Duration>,
    /// `extensions.durableTask.hubName`, or the extension's default.
    pub hub_name: String,
    /// `extensions.durableTask.entityMessageReorderWindowInMinutes`: the
    /// window within which entity requests are reordered and deduplicated
    /// on the Azure Storage backend; 30 by default, as in the extension.
    pub entity_message_reorder_window_minutes: u32,
    /// `extensions.durableTask.storageProvider.connectionName` (or its old
    /// name `connectionStringName`), else `Storage`: the connection the
    /// extension's management URLs name when a binding names none.
    pub connection_name: String,
}

impl Default for HostJson {
    fn default() -> HostJson {
        HostJson {
            executable: None,
            arguments: Vec::new(),
            working_directory: None,
            mode: HttpMode::Envelope,
            route_prefix: "api".to_owned(),
            function_timeout: Some(DEFAULT_FUNCTION_TIMEOUT),
            hub_name: DEFAULT_HUB_NAME.to_owned(),
            entity_message_reorder_window_minutes: DEFAULT_REORDER_WINDOW_MINUTES,
            connection_name: DEFAULT_CONNECTION_NAME.to_owned(),
        }
    }
}

impl HostJson {
    /// Reads host.json's text. The host matches its property names in any
    /// case, and its configuration reader takes `"true"` for `true`; what
    /// it would refuse to start with is an error saying why.
    pub fn parse(text: &str) -> Result<HostJson, String> {
        let json: Value =
            serde_json::from_str(text).map_err(|error| format!("not valid JSON: {error}"))?;
        HostJson::from_json(&json)
    }

    /// As [`HostJson::parse`], from the JSON already read.
    pub fn from_json(json: &Value) -> Result<HostJson, String> {
        let custom = property(json, "customHandler");
        let description = custom.and_then(|custom| property(custom, "description"));
        let executable = description
            .and_then(|description| property(description, "defaultExecutablePath"))
            .and_then(Value::as_str)
            .filter(|path| !path.trim().is_empty())
            .map(str::to_owned);
        let arguments = match description.and_then(|d| property(d, "arguments")) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(text) => Ok(text.clone()),
                    other => Err(format!(
                        "customHandler.description.arguments must be strings, found {other}"
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(format!(
                    "customHandler.description.arguments must be an array of strings, found {other}"
                ));
            }
        };
        let working_directory = description
            .and_then(|d| property(d, "workingDirectory"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let flag = |name: &str| -> Result<bool, String> {
            match custom.and_then(|custom| property(custom, name)) {
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
        let extensions = property(json, "extensions");
        let route_prefix = match extensions
            .and_then(|extensions| property(extensions, "http"))
            .and_then(|http| property(http, "routePrefix"))
        {
            None | Some(Value::Null) => "api".to_owned(),
            Some(Value::String(prefix)) => prefix.trim_matches('/').to_owned(),
            Some(other) => {
                return Err(format!(
                    "extensions.http.routePrefix is {other}; the host reads a string there"
                ));
            }
        };
        let hub_name = extensions
            .and_then(|extensions| property(extensions, "durableTask"))
            .and_then(|durable| property(durable, "hubName"))
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_HUB_NAME)
            .to_owned();
        let storage = extensions
            .and_then(|extensions| property(extensions, "durableTask"))
            .and_then(|durable| property(durable, "storageProvider"));
        let connection_name = ["connectionName", "connectionStringName"]
            .into_iter()
            .find_map(|name| storage.and_then(|storage| property(storage, name)))
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_CONNECTION_NAME)
            .to_owned();
        let entity_message_reorder_window_minutes = match extensions
            .and_then(|extensions| property(extensions, "durableTask"))
            .and_then(|durable| property(durable, "entityMessageReorderWindowInMinutes"))
        {
            None | Some(Value::Null) => DEFAULT_REORDER_WINDOW_MINUTES,
            Some(value) => value
                .as_u64()
                .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
                .and_then(|minutes| u32::try_from(minutes).ok())
                .ok_or_else(|| {
                    format!(
                        "extensions.durableTask.entityMessageReorderWindowInMinutes is {value}; \
                         the extension reads a whole number of minutes there"
                    )
                })?,
        };
        let timeout = property(json, "functionTimeout");
        let function_timeout = parse_function_timeout(timeout).map_err(|why| {
            let mut shown = timeout.map_or(String::new(), Value::to_string);
            // Enough to recognise it; a pasted blob need not fill the screen.
            if let Some((cut, _)) = shown.char_indices().nth(60) {
                shown.truncate(cut);
                shown.push_str("...");
            }
            format!("functionTimeout {shown} {why}; the host refuses to start with it")
        })?;
        Ok(HostJson {
            executable,
            arguments,
            working_directory,
            mode,
            route_prefix,
            function_timeout,
            hub_name,
            entity_message_reorder_window_minutes,
            connection_name,
        })
    }

    /// Whether host.json names `binary` as the handler.
    pub fn starts(&self, binary: &str) -> bool {
        self.executable.as_deref().is_some_and(|path| {
            let name = path.rsplit(['/', '\\']).next().unwrap_or_default();
            name == binary || name.strip_suffix(".exe") == Some(binary)
        })
    }
}

/// `functionTimeout` as the host reads it: a .NET TimeSpan (`hh:mm:ss`,
/// `d.hh:mm:ss`, fractional seconds, `d` alone for days); `-1` (a TimeSpan
/// of minus one day) for no limit; absent or null for the default. The host
/// refuses to start on anything else and on less than a second: the reason
/// why, for the caller to name the file and the value.
fn parse_function_timeout(value: Option<&Value>) -> Result<Option<Duration>, String> {
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
        let span = parse_timespan(magnitude).ok_or_else(unreadable)?;
        if span == Duration::from_secs(86_400) {
            return Ok(None);
        }
        return Err(
            "is negative: the only negative value the host takes is \"-1\" (no limit)".into(),
        );
    }
    let span = parse_timespan(&text).ok_or_else(unreadable)?;
    if span < MIN_FUNCTION_TIMEOUT {
        return Err(format!(
            "is shorter than the host's minimum of {}",
            timespan_to_string(MIN_FUNCTION_TIMEOUT)
        ));
    }
    Ok(Some(span))
}

#[cfg(test)]
mod tests;
