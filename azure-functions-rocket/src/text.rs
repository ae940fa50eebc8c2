//! Keeping caller input out of messages: errors and logs may quote what a
//! caller sent, but only a short, escaped prefix of it.

/// How many characters of caller input a message may quote.
pub(crate) const QUOTE_CHARS: usize = 32;

/// `text` cut to at most `max_chars` characters, with `…` where it was cut.
///
/// ```
/// assert_eq!(azure_functions_rocket::text::excerpt("abcdef", 3), "abc…");
/// ```
pub fn excerpt(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// Caller input as a short, double-quoted, escaped string, safe to put in a
/// message or a log line: control characters and quotes are escaped, and at
/// most 32 characters of the input are kept.
///
/// ```
/// use azure_functions_rocket::text::quote;
///
/// assert_eq!(quote("2,5"), r#""2,5""#);
/// assert_eq!(quote("a\n\"b"), r#""a\n\"b""#);
/// assert_eq!(quote(&"9".repeat(40)), format!("\"{}\"…", "9".repeat(32)));
/// ```
pub fn quote(input: &str) -> String {
    quote_at_most(input, QUOTE_CHARS)
}

/// [`quote`] with another length limit, for values known to run longer,
/// such as the host's invocation ids (GUIDs, 36 characters).
pub(crate) fn quote_at_most(input: &str, max_chars: usize) -> String {
    // Every invocation logs its id: most input needs no escaping and no
    // cut, and is then copied as it is.
    let plain = |b: u8| (b.is_ascii_graphic() || b == b' ') && b != b'"' && b != b'\\';
    if input.len() <= max_chars && input.bytes().all(plain) {
        return format!("\"{input}\"");
    }
    let (head, cut) = match input.char_indices().nth(max_chars) {
        Some((end, _)) => (&input[..end], "…"),
        None => (input, ""),
    };
    format!("\"{}\"{cut}", head.escape_debug())
}

/// One of our own messages for a log line, quoted and escaped whole so that
/// the line stays one line. Messages only ever quote caller input through
/// [`quote`], so they are short already.
pub(crate) fn quote_message(message: &str) -> String {
    format!("\"{}\"", message.escape_debug())
}

/// An invocation id for a log line: quoted whole (the host's are GUIDs),
/// or `-` when there is none, as for direct calls.
pub(crate) fn quote_id(id: Option<&str>) -> String {
    id.map_or_else(|| "-".to_owned(), |id| quote_at_most(id, 64))
}

/// A number as people write it, except where that runs to hundreds of
/// digits (`-1e300`, `5e-324`): then in scientific notation.
///
/// ```
/// use azure_functions_rocket::text::Number;
///
/// assert_eq!(Number(2.5).to_string(), "2.5");
/// assert_eq!(Number(-1e300).to_string(), "-1e300");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(pub f64);

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let magnitude = self.0.abs();
        if magnitude == 0.0 || (1e-6..1e16).contains(&magnitude) {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{:e}", self.0)
        }
    }
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
    fn quote_at_most_keeps_a_whole_guid_and_escapes_like_quote() {
        let guid = "0f8e3c1a-7b2d-4c5e-9f10-1a2b1c2d3e4f";
        assert_eq!(quote_at_most(guid, 64), format!("\"{guid}\""));
        assert_eq!(quote_at_most("a\tb", 64), quote("a\tb"));
        assert_eq!(quote_at_most("abcdef", 3), "\"abc\"…");
    }

    #[test]
    fn quote_keeps_an_input_that_ends_with_an_ellipsis() {
        assert_eq!(quote("wait…"), "\"wait…\"");
    }

    #[test]
    fn numbers_are_short_at_both_ends_of_the_range() {
        assert_eq!(Number(2.0).to_string(), "2");
        assert_eq!(Number(12.566370614359172).to_string(), "12.566370614359172");
        assert_eq!(Number(-1e300).to_string(), "-1e300");
        assert_eq!(Number(7.5e153).to_string(), "7.5e153");
        assert_eq!(Number(5e-324).to_string(), "5e-324");
        assert_eq!(Number(-0.0).to_string(), "-0");
    }
}
