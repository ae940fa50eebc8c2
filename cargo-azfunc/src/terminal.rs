//! What reaches the terminal: text from the handler (its output lines,
//! `Logs`, outputs and bodies) and from callers (URLs) is shown with every
//! control and escape character written out visibly, so none can clear the
//! screen, set the title, move the cursor or forge a line.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is: C0 controls (tab and
/// newline too), DEL, C1 controls (U+0080-U+009F: U+009B starts an escape
/// sequence on some terminals) and the bidirectional overrides that
/// reorder what is shown.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with each such character written as an escape: `\n`, `\r`,
/// `\t`, `\x1b` for the ASCII ones, `\u{202e}` for the others.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\t' => shown.push_str("\\t"),
            c if hidden(c) && (c as u32) < 0x80 => {
                shown.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if hidden(c) => shown.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_escape_characters_are_written_out() {
        assert_eq!(visible("plain text, ünïcode ✓"), "plain text, ünïcode ✓");
        assert_eq!(
            visible("\u{1b}[2J\u{1b}]0;title\u{7}"),
            "\\x1b[2J\\x1b]0;title\\x07"
        );
        assert_eq!(visible("ok\r\n[F 1] Succeeded"), "ok\\r\\n[F 1] Succeeded");
        assert_eq!(visible("a\tb\u{0}c\u{7f}"), "a\\tb\\x00c\\x7f");
        assert_eq!(visible("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(visible("abc\u{202e}def"), "abc\\u{202e}def");
    }
}
