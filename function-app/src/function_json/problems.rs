//! What the host refuses in a function's bindings, or reads otherwise than
//! meant, whoever wrote them: a hand-kept function.json or a registry line
//! (docs/function-app.md, "Binding checks").

use super::declare::AuthLevel;
use super::{Binding, FunctionJson};

/// The values of `dataType` the host knows.
const DATA_TYPES: [&str; 3] = ["string", "binary", "stream"];

/// Triggers the host hands over as an object whatever `dataType` says:
/// there are no bytes for `"binary"` to carry.
const OBJECT_TRIGGERS: [&str; 2] = ["httpTrigger", "timerTrigger"];

impl FunctionJson {
    /// Why the host would refuse these bindings or misread them, one line
    /// each, starting with the binding's name: two bindings of one name
    /// (the host's names match in any case), an unknown `authLevel` or
    /// `dataType`, `binary` on a trigger that carries no bytes. (A setting
    /// of the wrong JSON type is refused where the file is read back.)
    pub fn problems(&self) -> Vec<String> {
        let bindings: Vec<&Binding> = self.bindings.iter().collect();
        binding_problems(&bindings)
    }
}

/// [`FunctionJson::problems`] of a function's `bindings`.
#[inline(never)]
pub fn binding_problems(bindings: &[&Binding]) -> Vec<String> {
    let mut found = Vec::new();
    for (index, binding) in bindings.iter().enumerate() {
        let name = &binding.name;
        if name.trim().is_empty() {
            found.push(format!(
                "a {} binding has no name: give it one",
                binding.kind
            ));
        } else if bindings[..index]
            .iter()
            .any(|earlier| earlier.name.eq_ignore_ascii_case(name))
        {
            found.push(format!(
                    "binding {name:?}: more than one binding has this name (in any case), and the host refuses a function whose binding names are not unique: rename one"
                ));
        }
        found.extend(auth_level_problem(binding));
        found.extend(data_type_problem(binding));
    }
    found
}

fn auth_level_problem(binding: &Binding) -> Option<String> {
    let level = binding.auth_level.as_deref()?;
    AuthLevel::parse(level).is_none().then(|| {
        format!(
            "binding {:?}: \"authLevel\" is {level:?}, which the host does not know: use \"anonymous\", \"function\", \"admin\"",
            binding.name
        )
    })
}

/// A `dataType` the host does not know, or `binary` on a trigger that has
/// no bytes to carry. Binary queue and other triggers arrive as bytes;
/// binary outputs get text and UTF-8 bytes as they are.
fn data_type_problem(binding: &Binding) -> Option<String> {
    let data_type = binding.data_type.as_deref()?;
    let name = &binding.name;
    if !DATA_TYPES.contains(&data_type) {
        return Some(format!(
            "binding {name:?} has \"dataType\": {data_type:?}; the host knows \"string\", \"binary\" and \"stream\""
        ));
    }
    (data_type == "binary"
        && binding.is_trigger()
        && OBJECT_TRIGGERS.contains(&binding.kind.as_str()))
    .then(|| {
        format!(
            "trigger {name:?} has \"dataType\": \"binary\", but the host sends a {} as an object, with no bytes to carry: remove \"dataType\"",
            binding.kind
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Direction;

    fn problems(bindings: Vec<Binding>) -> Vec<String> {
        FunctionJson {
            bindings,
            disabled: false,
        }
        .problems()
    }

    #[test]
    fn names_must_differ_in_more_than_case() {
        let found = problems(vec![
            Binding::new("queueTrigger", Direction::In, "message"),
            Binding::queue("Message", "areas"),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("binding \"Message\": more than one binding has this name"),
            "{found:?}"
        );
        let found = problems(vec![Binding::new("queueTrigger", Direction::In, " ")]);
        assert_eq!(found, ["a queueTrigger binding has no name: give it one"]);
    }

    #[test]
    fn an_unknown_auth_level_is_named_with_the_known_ones() {
        let trigger = Binding::new("httpTrigger", Direction::In, "req");
        assert_eq!(
            problems(vec![trigger.clone().setting("authLevel", "Anonymous")]),
            Vec::<String>::new()
        );
        assert_eq!(
            problems(vec![trigger.setting("authLevel", "anonymus")]),
            [
                r#"binding "req": "authLevel" is "anonymus", which the host does not know: use "anonymous", "function", "admin""#
            ]
        );
    }

    #[test]
    fn a_bad_data_type_is_named_and_a_mistyped_setting_is_refused_when_read_back() {
        let found = problems(vec![
            Binding::new("httpTrigger", Direction::In, "req").binary(),
            Binding::queue("out", "q").setting("dataType", "bytes"),
        ]);
        assert_eq!(
            found,
            [
                r#"trigger "req" has "dataType": "binary", but the host sends a httpTrigger as an object, with no bytes to carry: remove "dataType""#,
                r#"binding "out" has "dataType": "bytes"; the host knows "string", "binary" and "stream""#,
            ]
        );
        let mistyped = FunctionJson {
            bindings: vec![
                Binding::new("httpTrigger", Direction::In, "req").setting("methods", "get"),
            ],
            disabled: false,
        };
        let error = FunctionJson::parse(&mistyped.to_text()).unwrap_err();
        assert!(
            error.contains("invalid type: string \"get\", expected a sequence"),
            "{error}"
        );
    }
}
