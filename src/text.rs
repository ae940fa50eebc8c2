//! Keeping caller input out of messages: errors and logs may quote what a
//! caller sent, but only a short, escaped prefix of it.

/// How many characters of caller input a message may quote.
pub const QUOTE_CHARS: usize = 32;

/// `text` cut to at most `max_chars` characters, with `…` where it was cut.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// Caller input as a short, double-quoted, escaped string, safe to put in a
/// message or a log line: control characters and quotes are escaped, and at
/// most [`QUOTE_CHARS`] characters of the input are kept.
pub fn quote(input: &str) -> String {
    let kept = excerpt(input, QUOTE_CHARS);
    let (head, cut) = match kept.strip_suffix('…') {
        Some(head) if kept.len() != input.len() => (head, "…"),
        _ => (kept.as_str(), ""),
    };
    format!("\"{}\"{cut}", head.escape_debug())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_keeps_short_text_and_cuts_long_text_on_a_char_boundary() {
        assert_eq!(excerpt("abc", 3), "abc");
        assert_eq!(excerpt("abcd", 3), "abc…");
        assert_eq!(excerpt("ééé", 2), "éé…");
    }

    #[test]
    fn quote_escapes_and_cuts() {
        assert_eq!(quote("abc"), r#""abc""#);
        assert_eq!(quote("a\"b\n"), r#""a\"b\n""#);
        let long = "x".repeat(1000);
        let quoted = quote(&long);
        assert_eq!(quoted, format!("\"{}\"…", "x".repeat(QUOTE_CHARS)));
    }

    #[test]
    fn quote_keeps_an_input_that_ends_with_an_ellipsis() {
        assert_eq!(quote("wait…"), "\"wait…\"");
    }
}
