//! The extension's rules for instance ids (`DurableClient.StartNewAsync`
//! in azure-functions-durable-extension; docs/durable.md, "The management
//! API").

use super::Refusal;

/// The longest instance id the extension takes.
pub const MAX_INSTANCE_ID: usize = 256;

/// A character no instance id or entity key may hold: it would not
/// survive as a storage key or in a URL path.
pub fn is_invalid_char(c: char) -> bool {
    matches!(c, '/' | '\\' | '?' | '#') || c.is_control()
}

/// `id` when the extension takes it as an instance id: 400 when it starts
/// with `@` (entities' ids), holds an invalid character or is longer
/// than [`MAX_INSTANCE_ID`] characters.
pub fn check_instance_id(id: String) -> Result<String, Refusal> {
    if id.starts_with('@') {
        return Err((400, "instance ids must not start with @".to_owned()));
    }
    if id.chars().any(is_invalid_char) {
        return Err((
            400,
            "instance ids must not contain /, \\, #, ? or control characters".to_owned(),
        ));
    }
    // .NET counts UTF-16 code units.
    let length = id.encode_utf16().count();
    if length > MAX_INSTANCE_ID {
        return Err((
            400,
            format!(
                "instance ids must not exceed {MAX_INSTANCE_ID} characters (this one has {length})"
            ),
        ));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_as_the_extension_checks_them() {
        let at_limit = "x".repeat(MAX_INSTANCE_ID);
        assert_eq!(check_instance_id(at_limit.clone()), Ok(at_limit));
        // Two UTF-16 units each: 128 of them are at the limit, 129 past it.
        assert!(check_instance_id("😀".repeat(128)).is_ok());
        for bad in [
            "x".repeat(MAX_INSTANCE_ID + 1),
            "😀".repeat(129),
            "@counter@x".to_owned(),
            "a/b".to_owned(),
            "a\\b".to_owned(),
            "a?b".to_owned(),
            "a#b".to_owned(),
            "a\u{7}b".to_owned(),
        ] {
            let refusal = check_instance_id(bad.clone()).expect_err(&bad);
            assert_eq!(refusal.0, 400, "{bad}");
        }
        assert!(check_instance_id("a@b".to_owned()).is_ok());
    }
}
