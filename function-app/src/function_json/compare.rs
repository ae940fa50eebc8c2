//! A hand-kept function.json against what a registry declares, compared
//! as the host reads them: bindings by name, in any order; `type`,
//! `direction`, `authLevel` and `dataType` in any case, `methods` as a
//! set; every other setting as the same JSON value.

use serde_json::{Map, Value};

use super::{Binding, FunctionJson};

/// Settings whose text the host matches in any case.
const ANY_CASE: [&str; 4] = ["type", "direction", "authLevel", "dataType"];

impl FunctionJson {
    /// How this file (hand-kept) differs from `declared`, one line per
    /// binding and setting, naming both values; empty when the host would
    /// read them alike.
    pub fn differences(&self, declared: &FunctionJson) -> Vec<String> {
        let mut found = Vec::new();
        for wanted in &declared.bindings {
            match find(&self.bindings, &wanted.name) {
                Some(kept) => found.extend(binding_differences(kept, wanted)),
                None => found.push(format!(
                    "binding {:?} is missing: the registry declares {}",
                    wanted.name,
                    as_json(wanted)
                )),
            }
        }
        for kept in &self.bindings {
            if find(&declared.bindings, &kept.name).is_none() {
                found.push(format!(
                    "binding {:?} is not in the registry: {}; declare it on the registry line, or remove it",
                    kept.name,
                    as_json(kept)
                ));
            }
        }
        if self.disabled != declared.disabled {
            found.push(format!(
                "\"disabled\" is {} here; the registry declares {}",
                self.disabled, declared.disabled
            ));
        }
        found
    }
}

fn find<'a>(bindings: &'a [Binding], name: &str) -> Option<&'a Binding> {
    bindings
        .iter()
        .find(|binding| binding.name == name)
        .or_else(|| {
            bindings
                .iter()
                .find(|binding| binding.name.eq_ignore_ascii_case(name))
        })
}

fn settings(binding: &Binding) -> Map<String, Value> {
    match serde_json::to_value(binding) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The binding as JSON, its keys sorted, whatever order the map keeps.
fn as_json(binding: &Binding) -> String {
    let sorted: std::collections::BTreeMap<String, Value> = settings(binding).into_iter().collect();
    serde_json::to_string(&sorted).unwrap_or_default()
}

/// The settings of one binding that differ, by key.
fn binding_differences(kept: &Binding, wanted: &Binding) -> Vec<String> {
    let (kept_settings, wanted_settings) = (settings(kept), settings(wanted));
    let mut keys: Vec<&String> = wanted_settings.keys().chain(kept_settings.keys()).collect();
    keys.sort();
    keys.dedup();
    let name = &wanted.name;
    keys.into_iter()
        .filter_map(
            |key| match (kept_settings.get(key), wanted_settings.get(key)) {
                (Some(here), Some(there)) if same(key, here, there) => None,
                (Some(here), Some(there)) => Some(format!(
                    "binding {name:?}: {key:?} is {here} here; the registry declares {there}"
                )),
                (None, Some(there)) => Some(format!(
                    "binding {name:?}: no {key:?} here; the registry declares {there}"
                )),
                (Some(here), None) => Some(format!(
                    "binding {name:?}: {key:?} is {here} here; the registry does not declare it"
                )),
                (None, None) => None,
            },
        )
        .collect()
}

/// Whether the host reads `a` and `b`, the values of `key`, alike.
fn same(key: &str, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) if ANY_CASE.contains(&key) || key == "name" => {
            a.eq_ignore_ascii_case(b)
        }
        (Value::Array(a), Value::Array(b)) if key == "methods" => {
            let set = |list: &[Value]| {
                let mut methods: Vec<String> = list
                    .iter()
                    .map(|m| {
                        m.as_str()
                            .map_or_else(|| m.to_string(), str::to_ascii_lowercase)
                    })
                    .collect();
                methods.sort();
                methods.dedup();
                methods
            };
            set(a) == set(b)
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> FunctionJson {
        FunctionJson::parse(text).unwrap()
    }

    const DECLARED: &str = r#"{"bindings": [
        {"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous", "methods": ["get", "post"], "route": "RustFunction"},
        {"type": "http", "direction": "out", "name": "$return"}]}"#;

    #[test]
    fn order_case_and_method_order_do_not_matter() {
        let kept = parse(
            r#"{"bindings": [
            {"type": "http", "direction": "out", "name": "$return"},
            {"type": "HttpTrigger", "direction": "in", "name": "req", "authLevel": "Anonymous", "methods": ["POST", "get"], "route": "RustFunction"}]}"#,
        );
        assert_eq!(kept.differences(&parse(DECLARED)), Vec::<String>::new());
    }

    #[test]
    fn each_difference_is_one_line_naming_both_values() {
        let kept = parse(
            r#"{"bindings": [
            {"type": "httpTrigger", "direction": "in", "name": "req", "methods": ["get"], "route": "rust", "extra": 1},
            {"type": "queue", "direction": "out", "name": "log", "queueName": "log"}]}"#,
        );
        assert_eq!(
            kept.differences(&parse(DECLARED)),
            [
                r#"binding "req": no "authLevel" here; the registry declares "anonymous""#,
                r#"binding "req": "extra" is 1 here; the registry does not declare it"#,
                r#"binding "req": "methods" is ["get"] here; the registry declares ["get","post"]"#,
                r#"binding "req": "route" is "rust" here; the registry declares "RustFunction""#,
                r#"binding "$return" is missing: the registry declares {"direction":"out","name":"$return","type":"http"}"#,
                r#"binding "log" is not in the registry: {"direction":"out","name":"log","queueName":"log","type":"queue"}; declare it on the registry line, or remove it"#,
            ]
        );
    }
}
