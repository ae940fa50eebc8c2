//! Words printed for the user to paste into a POSIX shell.

use std::borrow::Cow;

/// `word` as one POSIX sh word: as is when every character is one the
/// shell takes literally, else in single quotes (inside which nothing is
/// special but the quote itself, written `'\''`).
pub fn quoted(word: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.into();
    }
    format!("'{}'", word.replace('\'', r"'\''")).into()
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn quotes_only_what_the_shell_would_split_or_expand() {
        assert_eq!(quoted("/tmp/my-app_2.0"), "/tmp/my-app_2.0");
        assert_eq!(quoted("with space"), "'with space'");
        assert_eq!(quoted("it's"), r"'it'\''s'");
        assert_eq!(quoted(""), "''");
        for special in [
            "$HOME", "a*b", "~x", "a;b", "a\"b", "a\\b", "a\nb", "ü", "a#b",
        ] {
            assert_eq!(quoted(special), format!("'{special}'"), "{special}");
        }
    }
}
