//! Bindings declared in code: what a registry line writes, and what the
//! CLI writes to function.json from it (docs/functions.md, "Functions
//! declared in code").

use serde_json::Value;

use super::{Binding, Direction};

/// An HTTP trigger's `authLevel`: who may call the function on Azure. The
/// host's default, when function.json says nothing, is
/// [`AuthLevel::Function`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthLevel {
    /// Anyone: no key needed.
    Anonymous,
    /// A function key or the host key.
    Function,
    /// The master key only.
    Admin,
}

impl AuthLevel {
    /// The levels a function.json may name, as it spells them.
    pub const ALL: [AuthLevel; 3] = [AuthLevel::Anonymous, AuthLevel::Function, AuthLevel::Admin];

    /// As function.json spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthLevel::Anonymous => "anonymous",
            AuthLevel::Function => "function",
            AuthLevel::Admin => "admin",
        }
    }

    /// The level `text` names, in any case, as the host reads it.
    pub fn parse(text: &str) -> Option<AuthLevel> {
        AuthLevel::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(text))
    }
}

/// The settings function-app reads into their own fields, by their
/// function.json key.
pub(crate) const TYPED_KEYS: [&str; 9] = [
    "type",
    "direction",
    "name",
    "route",
    "methods",
    "authLevel",
    "schedule",
    "queueName",
    "dataType",
];

impl Binding {
    /// A binding of type `kind` (`"table"`, `"sendGrid"`, ...), for the
    /// bindings the library has no constructor for; its settings with
    /// [`Binding::setting`].
    pub fn new(kind: impl Into<String>, direction: Direction, name: impl Into<String>) -> Binding {
        Binding {
            kind: kind.into(),
            direction,
            name: name.into(),
            route: None,
            methods: None,
            auth_level: None,
            schedule: None,
            queue_name: None,
            data_type: None,
            extra: Default::default(),
        }
    }

    /// A storage queue output `name` that writes to `queue_name` (the
    /// queue, or `%Setting%`).
    pub fn queue(name: impl Into<String>, queue_name: impl Into<String>) -> Binding {
        Binding {
            queue_name: Some(queue_name.into()),
            ..Binding::new("queue", Direction::Out, name)
        }
    }

    /// A blob output `name` that writes the blob at `path`
    /// (`container/{rand-guid}.txt`, ...).
    pub fn blob(name: impl Into<String>, path: impl Into<String>) -> Binding {
        let mut binding = Binding::new("blob", Direction::Out, name);
        binding
            .extra
            .insert("path".into(), Value::String(path.into()));
        binding
    }

    /// An `http` output `name`: a second response.
    pub fn http(name: impl Into<String>) -> Binding {
        Binding::new("http", Direction::Out, name)
    }

    /// Its `connection`: the app setting that holds the storage account's
    /// connection (`AzureWebJobsStorage` when none is given).
    pub fn connection(mut self, setting: impl Into<String>) -> Binding {
        self.extra
            .insert("connection".into(), Value::String(setting.into()));
        self
    }

    /// `"dataType": "binary"`: bytes, never text.
    pub fn binary(mut self) -> Binding {
        self.data_type = Some("binary".to_owned());
        self
    }

    /// Sets `key` to `value` as function.json would hold it, e.g.
    /// `.setting("tableName", "rows")`. A setting function-app reads into
    /// a field of its own goes there; one whose value is not of that
    /// field's type is kept as written, for the start-up check to refuse
    /// by name.
    pub fn setting(self, key: &str, value: impl Into<Value>) -> Binding {
        self.set(key, value.into())
    }

    // One copy for every caller: registry lines build many bindings, and
    // the handler's binary has a size budget.
    #[inline(never)]
    fn set(mut self, key: &str, value: Value) -> Binding {
        let text = value.as_str().map(str::to_owned);
        let fits = match (key, text) {
            ("type", Some(text)) => {
                self.kind = text;
                true
            }
            ("name", Some(text)) => {
                self.name = text;
                true
            }
            ("route", Some(text)) => {
                self.route = Some(text);
                true
            }
            ("authLevel", Some(text)) => {
                self.auth_level = Some(text);
                true
            }
            ("schedule", Some(text)) => {
                self.schedule = Some(text);
                true
            }
            ("queueName", Some(text)) => {
                self.queue_name = Some(text);
                true
            }
            ("dataType", Some(text)) => {
                self.data_type = Some(text);
                true
            }
            ("direction", Some(text)) => match Direction::parse(&text) {
                Some(direction) => {
                    self.direction = direction;
                    true
                }
                None => false,
            },
            ("methods", _) => match strings(&value) {
                Some(methods) => {
                    self.methods = Some(methods);
                    true
                }
                None => false,
            },
            (key, _) if TYPED_KEYS.contains(&key) => false,
            (key, _) => {
                self.extra.insert(key.to_owned(), value);
                return self;
            }
        };
        // A misfit kept earlier stays among the other settings, but the
        // field, now set, is what is written and checked.
        if fits { self } else { self.keep(key, value) }
    }

    /// Whether the typed setting `key` is set in its own field.
    pub(crate) fn has_field(&self, key: &str) -> bool {
        match key {
            "route" => self.route.is_some(),
            "methods" => self.methods.is_some(),
            "authLevel" => self.auth_level.is_some(),
            "schedule" => self.schedule.is_some(),
            "queueName" => self.queue_name.is_some(),
            "dataType" => self.data_type.is_some(),
            // type, direction and name keep their last fitting value, and
            // a misfit among the others is still a mistake.
            _ => false,
        }
    }

    /// `value` for a typed key it does not fit: among the other settings,
    /// the field cleared so that the key is written once.
    fn keep(mut self, key: &str, value: Value) -> Binding {
        match key {
            "route" => self.route = None,
            "methods" => self.methods = None,
            "authLevel" => self.auth_level = None,
            "schedule" => self.schedule = None,
            "queueName" => self.queue_name = None,
            "dataType" => self.data_type = None,
            _ => {}
        }
        self.extra.insert(key.to_owned(), value);
        self
    }
}

/// A JSON array of strings, as its strings.
fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FunctionJson;
    use serde_json::json;

    #[test]
    fn typed_constructors_write_what_the_host_reads() {
        let json = FunctionJson {
            bindings: vec![
                Binding::queue("areas", "areas").connection("AzureWebJobsStorage"),
                Binding::blob("copy", "copies/{rand-guid}").binary(),
                Binding::http("res"),
                Binding::new("table", Direction::Out, "row").setting("tableName", "rows"),
            ],
            disabled: false,
        };
        let written: Value = serde_json::from_str(&json.to_text()).unwrap();
        assert_eq!(
            written,
            json!({"bindings": [
                {"type": "queue", "direction": "out", "name": "areas", "queueName": "areas", "connection": "AzureWebJobsStorage"},
                {"type": "blob", "direction": "out", "name": "copy", "path": "copies/{rand-guid}", "dataType": "binary"},
                {"type": "http", "direction": "out", "name": "res"},
                {"type": "table", "direction": "out", "name": "row", "tableName": "rows"},
            ]})
        );
        assert_eq!(FunctionJson::parse(&json.to_text()).unwrap(), json);
    }

    #[test]
    fn a_typed_setting_of_the_wrong_type_is_kept_for_the_check() {
        let binding = Binding::new("httpTrigger", Direction::In, "req")
            .setting("methods", json!(["get"]))
            .setting("methods", 5)
            .setting("route", "a");
        assert_eq!(binding.methods, None);
        assert_eq!(binding.extra.get("methods"), Some(&json!(5)));
        assert_eq!(binding.route.as_deref(), Some("a"));
        let text = serde_json::to_string(&binding).unwrap();
        assert_eq!(text.matches("methods").count(), 1, "{text}");
        let fixed = binding.setting("methods", json!(["post"]));
        assert_eq!(fixed.methods, Some(vec!["post".to_owned()]));
        assert_eq!(fixed.to_value()["methods"], json!(["post"]));
        let json = FunctionJson {
            bindings: vec![fixed],
            disabled: false,
        };
        assert_eq!(json.problems(), Vec::<String>::new());
    }

    #[test]
    fn auth_levels_in_any_case() {
        assert_eq!(AuthLevel::parse("Anonymous"), Some(AuthLevel::Anonymous));
        assert_eq!(AuthLevel::parse("ADMIN"), Some(AuthLevel::Admin));
        assert_eq!(AuthLevel::parse("anonymus"), None);
    }
}
