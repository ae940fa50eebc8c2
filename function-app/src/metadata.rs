//! A built app's functions as its binary prints them when asked
//! ([`crate::environment::METADATA_VARIABLE`]): each function's name and
//! the function.json its registry declares, for `cargo azfunc` to write
//! and compare without linking the app.

use serde::{Deserialize, Serialize};

use crate::FunctionJson;

/// The functions of an app, in registry order.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub functions: Vec<FunctionMetadata>,
}

/// One function: its name (its folder's) and its function.json.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionMetadata {
    pub name: String,
    pub function: FunctionJson,
}

impl Metadata {
    /// From each function's name and function.json, e.g. a registry's
    /// `function_jsons()`.
    pub fn from_functions<'a>(
        functions: impl IntoIterator<Item = (&'a str, FunctionJson)>,
    ) -> Metadata {
        Metadata {
            functions: functions
                .into_iter()
                .map(|(name, function)| FunctionMetadata {
                    name: name.to_owned(),
                    function,
                })
                .collect(),
        }
    }

    /// As the binary prints it: one line of JSON, written out directly
    /// (building JSON values first would cost the handler's binary more).
    pub fn to_text(&self) -> String {
        metadata_text(self.functions.iter().map(|function| {
            let bindings = function.function.bindings.iter().collect();
            (function.name.as_str(), bindings, function.function.disabled)
        }))
    }

    /// Reads what a binary printed; anything else is an error saying so.
    pub fn parse(text: &str) -> Result<Metadata, String> {
        serde_json::from_str(text.trim()).map_err(|error| {
            format!("not the functions' metadata azure-functions-rocket prints: {error}")
        })
    }

    /// The function `name`, in its exact case.
    pub fn function(&self, name: &str) -> Option<&FunctionJson> {
        self.functions
            .iter()
            .find(|function| function.name == name)
            .map(|function| &function.function)
    }
}

/// [`Metadata::to_text`] of functions given as their name, their
/// bindings and whether they are disabled, written without copying them.
pub fn metadata_text<'a>(
    functions: impl IntoIterator<Item = (&'a str, Vec<&'a crate::Binding>, bool)>,
) -> String {
    let mut out = String::from("{\"functions\":[");
    for (index, (name, bindings, disabled)) in functions.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        push_string(&mut out, name);
        out.push_str(",\"function\":{\"bindings\":[");
        for (index, binding) in bindings.into_iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            push_binding(&mut out, binding);
        }
        out.push(']');
        if disabled {
            out.push_str(",\"disabled\":true");
        }
        out.push_str("}}");
    }
    out.push_str("]}");
    out
}

/// `text` as a JSON string.
fn push_string(out: &mut String, text: &str) {
    out.push_str(&serde_json::Value::String(text.to_owned()).to_string());
}

/// `binding` as a JSON object, as [`crate::Binding::to_value`] has it.
fn push_binding(out: &mut String, binding: &crate::Binding) {
    out.push_str("{\"type\":");
    push_string(out, &binding.kind);
    out.push_str(",\"direction\":\"");
    out.push_str(binding.direction.as_str());
    out.push_str("\",\"name\":");
    push_string(out, &binding.name);
    if let Some(methods) = &binding.methods {
        out.push_str(",\"methods\":[");
        for (index, method) in methods.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            push_string(out, method);
        }
        out.push(']');
    }
    for (key, value) in binding.texts() {
        if let Some(value) = value {
            out.push(',');
            push_string(out, key);
            out.push(':');
            push_string(out, value);
        }
    }
    for (key, value) in &binding.extra {
        if !binding.has_field(key) && !["type", "direction", "name"].contains(&key.as_str()) {
            out.push(',');
            push_string(out, key);
            out.push(':');
            out.push_str(&value.to_string());
        }
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Binding;

    #[test]
    fn what_is_printed_reads_back_the_same() {
        let metadata = Metadata {
            functions: vec![FunctionMetadata {
                name: "Copy".into(),
                function: FunctionJson {
                    bindings: vec![
                        Binding::new("httpTrigger", crate::Direction::In, "r\"eq")
                            .setting("methods", serde_json::json!(["get", "post"]))
                            .setting("route", "a/{b}")
                            .setting("x", serde_json::json!({"deep": [1, "\u{1}"]})),
                        Binding::queue("copies", "copies").connection("Storage"),
                    ],
                    disabled: false,
                },
            }],
        };
        assert_eq!(Metadata::parse(&metadata.to_text()).unwrap(), metadata);
        let printed: serde_json::Value = serde_json::from_str(&metadata.to_text()).unwrap();
        assert_eq!(
            printed["functions"][0]["function"],
            metadata.functions[0].function.to_value()
        );
        let error = Metadata::parse(r#"{"functions": [{"name": "X"}]}"#).unwrap_err();
        assert!(error.contains("missing field `function`"), "{error}");
        assert!(Metadata::parse("listening on 8080").is_err());
    }
}
