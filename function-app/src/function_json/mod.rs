//! A function folder's function.json: its bindings, as the host reads them
//! (docs/host-protocol.md, "The app's files"). Binding types and
//! `dataType` match in any case, as the host matches them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

mod compare;
mod declare;
mod problems;

pub use declare::AuthLevel;
pub use problems::binding_problems;

/// A function.json. Written back ([`serde::Serialize`]) it is the file the
/// host reads: the settings left unset are left out.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct FunctionJson {
    #[serde(default)]
    pub bindings: Vec<Binding>,
    /// `"disabled": true`: the host loads the function but never runs it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// A binding's `direction`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
    InOut,
}

impl Direction {
    /// As function.json spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::InOut => "inout",
        }
    }

    /// The direction function.json spells `text`.
    pub fn parse(text: &str) -> Option<Direction> {
        [Direction::In, Direction::Out, Direction::InOut]
            .into_iter()
            .find(|direction| direction.as_str() == text)
    }
}

/// One entry of function.json's `bindings`; also how a function declared
/// in code declares one ([`Binding::queue`], [`Binding::new`], ...).
/// Written back, its settings come in this order, unset ones left out.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    #[serde(rename = "type")]
    pub kind: String,
    pub direction: Direction,
    pub name: String,
    /// An HTTP trigger's route template.
    #[serde(default)]
    pub route: Option<String>,
    /// An HTTP trigger's methods; none (or empty) allows every method.
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    #[serde(default)]
    pub auth_level: Option<String>,
    /// A timer trigger's schedule.
    #[serde(default)]
    pub schedule: Option<String>,
    /// A queue trigger's or output's queue, possibly `%SettingName%`.
    #[serde(default)]
    pub queue_name: Option<String>,
    #[serde(default)]
    pub data_type: Option<String>,
    /// Everything else (connection, path, ...), as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Through [`Binding::to_value`]: the handler writes JSON values already,
/// and a derived flattened map would cost its size budget more.
impl Serialize for Binding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl Binding {
    /// The binding as function.json holds it: `type`, `direction`, `name`,
    /// then the settings that are set.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("type".into(), Value::String(self.kind.clone()));
        map.insert("direction".into(), self.direction.as_str().into());
        map.insert("name".into(), Value::String(self.name.clone()));
        if let Some(methods) = &self.methods {
            let methods = methods.iter().map(|m| Value::String(m.clone())).collect();
            map.insert("methods".into(), Value::Array(methods));
        }
        for (key, value) in self.texts() {
            if let Some(value) = value {
                map.insert(key.into(), Value::String(value.clone()));
            }
        }
        for (key, value) in &self.extra {
            map.entry(key.clone()).or_insert_with(|| value.clone());
        }
        Value::Object(map)
    }

    /// Its text settings with their own fields, by key.
    pub(crate) fn texts(&self) -> [(&'static str, &Option<String>); 5] {
        [
            ("route", &self.route),
            ("authLevel", &self.auth_level),
            ("schedule", &self.schedule),
            ("queueName", &self.queue_name),
            ("dataType", &self.data_type),
        ]
    }

    /// Whether the binding is of type `kind`, in any case.
    pub fn is_kind(&self, kind: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind)
    }

    pub fn is_trigger(&self) -> bool {
        self.direction == Direction::In && self.kind.to_ascii_lowercase().ends_with("trigger")
    }

    /// An output the handler's reply names: `out` or `inout`, but not
    /// `$return`.
    pub fn is_output(&self) -> bool {
        self.direction != Direction::In && self.name != "$return"
    }

    /// `"dataType": "binary"`: bytes, never text.
    pub fn is_binary(&self) -> bool {
        self.data_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("binary"))
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
}

impl FunctionJson {
    /// The file as JSON: its bindings, and `disabled` when set.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        let bindings = self.bindings.iter().map(Binding::to_value).collect();
        map.insert("bindings".into(), Value::Array(bindings));
        if self.disabled {
            map.insert("disabled".into(), Value::Bool(true));
        }
        Value::Object(map)
    }

    /// The file's text as the CLI writes it: two-space indents and a
    /// final newline, as the hand-kept files are written.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a function.json's text.
    pub fn parse(text: &str) -> Result<FunctionJson, String> {
        let json: Value =
            serde_json::from_str(text).map_err(|error| format!("not valid JSON: {error}"))?;
        serde_json::from_value(json).map_err(|error| {
            format!(
                "not a valid function.json: {error} (each binding needs \"type\", \"direction\" and \"name\")"
            )
        })
    }

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
    /// one `http` out, nothing else (docs/host-protocol.md, "Forwarding
    /// mode"). Any other function still gets the envelope.
    pub fn takes_forwarded_requests(&self) -> bool {
        takes_forwarded_requests(&self.bindings)
    }
}

/// [`FunctionJson::takes_forwarded_requests`] for a function's bindings.
pub fn takes_forwarded_requests(bindings: &[Binding]) -> bool {
    matches!(
        bindings,
        [a, b] if [a, b].iter().any(|x| x.direction == Direction::In && x.is_kind("httpTrigger"))
            && [a, b].iter().any(|x| x.direction == Direction::Out && x.is_kind("http"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_http_trigger_and_one_http_output_take_forwarded_requests() {
        let json = |text: &str| FunctionJson::parse(text).unwrap();
        let http = r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"req"},{"type":"http","direction":"out","name":"$return"}]}"#;
        assert!(json(http).takes_forwarded_requests());
        let more = r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"req"},{"type":"http","direction":"out","name":"$return"},{"type":"queue","direction":"out","name":"q"}]}"#;
        assert!(!json(more).takes_forwarded_requests());
        let queue = r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"m"},{"type":"http","direction":"out","name":"$return"}]}"#;
        assert!(!json(queue).takes_forwarded_requests());
    }

    #[test]
    fn a_binding_without_its_direction_is_refused_by_name() {
        let error = FunctionJson::parse(r#"{"bindings":[{"type":"httpTrigger","name":"req"}]}"#)
            .unwrap_err();
        assert!(error.contains("missing field `direction`"), "{error}");
        assert!(
            FunctionJson::parse("[")
                .unwrap_err()
                .starts_with("not valid JSON")
        );
    }
}
