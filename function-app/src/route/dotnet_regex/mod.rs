//! The `regex(...)` route constraint: a .NET regular expression as ASP.NET
//! Core's `RegexRouteConstraint` builds it (`IgnoreCase | CultureInvariant`,
//! matched anywhere in the value unless anchored), matched by the `regex`
//! crate, in time linear in the value's length (docs/function-app.md,
//! "Route constraints").

mod translate;

use translate::Piece;

/// The most memory one compiled pattern may take (the regex crate's own
/// default, made explicit): a pattern in function.json past it is refused,
/// not compiled. Unicode classes are large: `\w{1,100}` fits, `\w{1,300}`
/// does not.
pub(crate) const MAX_COMPILED_BYTES: usize = 10 << 20;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Regex {
    pattern: String,
    /// `$` and `\Z` as the end of the value.
    at_end: ::regex::Regex,
    /// For a value ending in a newline, when the pattern holds `$` or `\Z`,
    /// which .NET also takes right before that newline.
    before_final_newline: Option<::regex::Regex>,
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
        let before_final_newline = pieces
            .contains(&Piece::End)
            .then(|| compile(&pieces, r"(?:(?m:$))"))
            .transpose()?;
        Ok(Regex {
            pattern: pattern.to_owned(),
            at_end: compile(&pieces, r"(?:\z)")?,
            before_final_newline,
        })
    }

    /// Whether the pattern matches anywhere in `value`, ignoring case.
    pub(crate) fn is_match(&self, value: &str) -> bool {
        match &self.before_final_newline {
            // `(?m:$)` holds before every newline; .NET's `$` only before
            // the last character, which it is when there is no other.
            Some(regex) if value.ends_with('\n') && value.matches('\n').count() == 1 => {
                regex.is_match(value)
            }
            _ => self.at_end.is_match(value),
        }
    }
}

fn compile(pieces: &[Piece], end: &str) -> Result<::regex::Regex, String> {
    let text: String = pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.as_str(),
            Piece::End => end,
        })
        .collect();
    ::regex::RegexBuilder::new(&text)
        .case_insensitive(true)
        .size_limit(MAX_COMPILED_BYTES)
        .build()
        .map_err(|error| match error {
            ::regex::Error::CompiledTooBig(limit) => format!(
                "the pattern is too large to check on every request: compiled, it would take more than {} KiB",
                limit / 1024
            ),
            ::regex::Error::Syntax(text) => {
                let why = text.lines().last().unwrap_or_default();
                format!("the pattern cannot be compiled: {}", why.trim_start_matches("error: "))
            }
            other => format!("the pattern cannot be compiled: {other}"),
        })
}

#[cfg(test)]
mod tests;
