//! Azure Storage queue names as the queue extension takes them
//! (docs/function-app.md, "Queue names"): `%Setting%` references resolved
//! from the app settings first, then lower-cased, then checked against
//! the storage service's rules.

/// `text` with each `%NAME%` replaced by the app setting `NAME`, as the
/// host's name resolver does before it reads a binding's value; a setting
/// that is not there is an error naming it.
pub fn resolve_setting(
    text: &str,
    setting: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut resolved = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        let Some(length) = rest[start + 1..].find('%') else {
            break;
        };
        let name = &rest[start + 1..start + 1 + length];
        let value = setting(name)
            .ok_or_else(|| format!("%{name}% names no app setting: add {name:?} to local.settings.json's Values (and to the app settings on Azure)"))?;
        resolved.push_str(&rest[..start]);
        resolved.push_str(&value);
        rest = &rest[start + length + 2..];
    }
    resolved.push_str(rest);
    Ok(resolved)
}

/// Why the storage service would refuse the queue `name` (already
/// resolved), if it would: after lower-casing, as the extension does, 3 to
/// 63 letters, digits and single hyphens, starting and ending with a
/// letter or digit. A name with `{...}` is bound per invocation and can
/// only be judged then.
pub fn queue_name_problem(name: &str) -> Option<String> {
    if name.contains('{') {
        return None;
    }
    let lower = name.to_lowercase();
    let why = if !(3..=63).contains(&lower.chars().count()) {
        "it must be 3 to 63 characters long"
    } else if let Some(bad) = lower
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "the queue name {name:?} holds {bad:?}: Azure Storage takes only letters, digits and hyphens"
        ));
    } else if lower.starts_with('-') || lower.ends_with('-') {
        "it must start and end with a letter or a digit"
    } else if lower.contains("--") {
        "it must not hold two hyphens in a row"
    } else {
        return None;
    };
    Some(format!(
        "the queue name {name:?} is not one Azure Storage takes: {why}"
    ))
}

/// Why the host would refuse a queue binding's `queueName` as written:
/// `%Setting%` references resolved through `setting` (the app settings),
/// then the storage service's rules.
pub fn queue_binding_problem(
    queue_name: &str,
    setting: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    match resolve_setting(queue_name, setting) {
        Ok(name) => queue_name_problem(&name),
        Err(error) => Some(error),
    }
}

/// The queue a binding's `queueName` names, as the extension reads it
/// (`NormalizeAndValidate`): `%Setting%` references resolved through
/// `setting`, then lower-cased, so that `Orders` is the queue `orders`; an
/// error when the storage service would refuse the name.
pub fn normalize_queue_name(
    queue_name: &str,
    setting: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let name = resolve_setting(queue_name, setting)?;
    match queue_name_problem(&name) {
        Some(problem) => Err(problem),
        None => Ok(name.to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_storage_services_rules_after_lower_casing() {
        for good in ["abc", "areas", "Areas-2", "a1-b2-c3", &"q".repeat(63)] {
            assert_eq!(queue_name_problem(good), None, "{good}");
        }
        for (bad, why) in [
            ("Bad_Name!", "holds '_'"),
            ("ab", "3 to 63"),
            (&"q".repeat(64), "3 to 63"),
            ("-abc", "start and end"),
            ("abc-", "start and end"),
            ("a--b", "two hyphens"),
            ("a b c", "holds ' '"),
            ("é-queue", "holds 'é'"),
        ] {
            let problem = queue_name_problem(bad).unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(problem.contains(why), "{bad}: {problem}");
        }
        // Bound per invocation: judged only then.
        assert_eq!(queue_name_problem("{name}"), None);
    }

    #[test]
    fn settings_are_resolved_first_and_a_missing_one_is_named() {
        let setting = |name: &str| (name == "Queue").then(|| "Bad_Name!".to_owned());
        assert_eq!(resolve_setting("%Queue%", setting).unwrap(), "Bad_Name!");
        assert_eq!(
            resolve_setting("x-%Queue%-y", setting).unwrap(),
            "x-Bad_Name!-y"
        );
        assert_eq!(resolve_setting("plain", setting).unwrap(), "plain");
        assert_eq!(resolve_setting("50%", setting).unwrap(), "50%");
        let error = resolve_setting("%Missing%", setting).unwrap_err();
        assert!(
            error.starts_with("%Missing% names no app setting"),
            "{error}"
        );
    }

    #[test]
    fn the_queue_read_is_the_resolved_name_lower_cased() {
        let setting = |name: &str| (name == "Queue").then(|| "Areas-In".to_owned());
        assert_eq!(normalize_queue_name("Orders", setting).unwrap(), "orders");
        assert_eq!(
            normalize_queue_name("%Queue%", setting).unwrap(),
            "areas-in"
        );
        assert_eq!(
            normalize_queue_name("x-%Queue%", setting).unwrap(),
            "x-areas-in"
        );
        let error = normalize_queue_name("Bad_Name!", setting).unwrap_err();
        assert!(error.contains("holds '_'"), "{error}");
        let error = normalize_queue_name("%Missing%", setting).unwrap_err();
        assert!(
            error.starts_with("%Missing% names no app setting"),
            "{error}"
        );
    }
}
