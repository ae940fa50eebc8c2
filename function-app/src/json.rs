//! Reading the host's JSON files: property names match in any case, as
//! the host's configuration reader matches them.

use serde_json::Value;

/// The property `name` of the object `value`, its name in any case.
pub fn property<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}
