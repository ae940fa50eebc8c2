//! The `regex(...)` route constraint in a build without the `regex`
//! feature: a route that uses one is refused when it is read, with what to
//! turn on, rather than matched some other way.

/// No value of this type exists: without the feature no pattern parses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Regex {}

impl Regex {
    pub(crate) fn parse(_pattern: &str) -> Result<Regex, String> {
        Err(
            "regex(...) constraints are not in this build: turn on the `regex` feature \
             of azure-functions-rocket (it adds about 1.4 MB to the binary)"
                .to_string(),
        )
    }

    pub(crate) fn is_match(&self, _value: &str) -> bool {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use super::Regex;

    #[test]
    fn a_pattern_is_refused_with_the_feature_to_turn_on() {
        let refusal = Regex::parse("^[a-z]+$").expect_err("no regex support in this build");
        assert!(refusal.contains("`regex` feature"), "{refusal}");
    }
}
