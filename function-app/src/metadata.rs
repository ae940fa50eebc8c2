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

    /// As the binary prints it: one line of JSON.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
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
                    bindings: vec![Binding::queue("copies", "copies").connection("Storage")],
                    disabled: false,
                },
            }],
        };
        assert_eq!(Metadata::parse(&metadata.to_text()).unwrap(), metadata);
        let error = Metadata::parse(r#"{"functions": [{"name": "X"}]}"#).unwrap_err();
        assert!(error.contains("missing field `function`"), "{error}");
        assert!(Metadata::parse("listening on 8080").is_err());
    }
}
