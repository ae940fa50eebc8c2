//! The `regex(...)` route constraint: a .NET regular expression as ASP.NET
//! Core's `RegexRouteConstraint` builds it (`IgnoreCase | CultureInvariant`,
//! matched anywhere in the value unless anchored), matched by the `regex`
//! crate, in time linear in the value's length (docs/function-app.md,
//! "Route constraints").
//!
//! .NET's `$` (and `\Z`) holds at the end and right before a final
//! newline; the crate's `$` only at the end, and its multi-line `$` before
//! every line terminator. So a value ending in a newline is matched with
//! that newline made the line terminator: the byte 0xFF, which no `&str`
//! holds, with every atom that takes a newline taking 0xFF too.

mod translate;

use translate::Piece;

/// The most memory one compiled pattern may take (the regex crate's own
/// default, made explicit): a pattern in function.json past it is refused,
/// not compiled. Unicode classes are large: `\w{1,100}` fits, `\w{1,300}`
/// does not.
pub(crate) const MAX_COMPILED_BYTES: usize = 10 << 20;

/// Stands for a value's final newline; never in UTF-8.
const FINAL_NEWLINE: u8 = 0xFF;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Regex {
    pattern: String,
    /// `$` and `\Z` as the end of the value.
    at_end: ::regex::Regex,
    /// For a value ending in a newline, when the pattern holds `$` or `\Z`:
    /// that newline as [`FINAL_NEWLINE`], the line terminator.
    before_final_newline: Option<::regex::bytes::Regex>,
}

/// Two patterns are the same constraint when written the same.
impl PartialEq for Regex {
    fn eq(&self, other: &Regex) -> bool {
        self.pattern == other.pattern
    }
}

impl Regex {
    pub(crate) fn parse(pattern: &str) -> Result<Regex, String> {
        let pieces = translate::translate(pattern)?;
        let at_end = ::regex::RegexBuilder::new(&render(&pieces, r"(?:\z)", false))
            .case_insensitive(true)
            .size_limit(MAX_COMPILED_BYTES)
            .build()
            .map_err(refusal)?;
        let before_final_newline = match pieces.contains(&Piece::End) {
            true => Some(
                ::regex::bytes::RegexBuilder::new(&render(&pieces, r"(?:(?m:$))", true))
                    .case_insensitive(true)
                    .line_terminator(FINAL_NEWLINE)
                    .size_limit(MAX_COMPILED_BYTES)
                    .build()
                    .map_err(refusal)?,
            ),
            false => None,
        };
        Ok(Regex {
            pattern: pattern.to_owned(),
            at_end,
            before_final_newline,
        })
    }

    /// Whether the pattern matches anywhere in `value`, ignoring case.
    pub(crate) fn is_match(&self, value: &str) -> bool {
        match &self.before_final_newline {
            Some(regex) if value.ends_with('\n') => {
                let mut bytes = value.as_bytes().to_vec();
                if let Some(last) = bytes.last_mut() {
                    *last = FINAL_NEWLINE;
                }
                regex.is_match(&bytes)
            }
            _ => self.at_end.is_match(value),
        }
    }
}

/// The pattern with `end` for `$`; `final_newline`: atoms that take a
/// newline take [`FINAL_NEWLINE`] too.
fn render(pieces: &[Piece], end: &str, final_newline: bool) -> String {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.clone(),
            Piece::Newline(text) if final_newline => format!(r"(?:{text}|(?-u:\xFF))"),
            Piece::Newline(text) => text.clone(),
            Piece::End => end.to_owned(),
        })
        .collect()
}

fn refusal(error: ::regex::Error) -> String {
    match error {
        ::regex::Error::CompiledTooBig(limit) => format!(
            "the pattern is too large to check on every request: compiled, it would take more than {} KiB",
            limit / 1024
        ),
        ::regex::Error::Syntax(text) => {
            let why = text.lines().last().unwrap_or_default();
            format!(
                "the pattern cannot be compiled: {}",
                why.trim_start_matches("error: ")
            )
        }
        other => format!("the pattern cannot be compiled: {other}"),
    }
}

#[cfg(test)]
mod tests;
