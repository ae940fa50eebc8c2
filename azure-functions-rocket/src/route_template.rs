//! A function's public path as the host routes it: the route prefix, then
//! the function.json `route` template (or the folder name), matched
//! case-insensitively, with ASP.NET Core's parameters: `{name}`,
//! `{name?}`, `{name=default}`, `{name:constraint}` and `{*rest}`
//! (docs/host-protocol.md, "The app's files").

/// A parameter's constraint, as ASP.NET Core names it.
#[derive(Debug, Clone, PartialEq)]
enum Constraint {
    Int,
    Long,
    Double,
    Bool,
    Alpha,
    Guid,
    MinLength(usize),
    MaxLength(usize),
    Length(usize, usize),
    Min(i64),
    Max(i64),
    Range(i64, i64),
}

impl Constraint {
    fn parse(text: &str) -> Result<Constraint, String> {
        let (name, argument) = match text.split_once('(') {
            Some((name, rest)) => match rest.strip_suffix(')') {
                Some(argument) => (name, Some(argument)),
                None => return Err(format!("the constraint {text:?} is not closed")),
            },
            None => (text, None),
        };
        let numbers = || -> Result<Vec<i64>, String> {
            argument
                .unwrap_or_default()
                .split(',')
                .map(|n| n.trim().parse::<i64>())
                .collect::<Result<_, _>>()
                .map_err(|_| format!("the constraint {text:?} needs whole numbers"))
        };
        let size = |n: i64| usize::try_from(n).map_err(|_| format!("{text:?}: a negative length"));
        Ok(match (name.to_ascii_lowercase().as_str(), argument) {
            ("int", None) => Constraint::Int,
            ("long", None) => Constraint::Long,
            ("double" | "float" | "decimal", None) => Constraint::Double,
            ("bool", None) => Constraint::Bool,
            ("alpha", None) => Constraint::Alpha,
            ("guid", None) => Constraint::Guid,
            ("minlength", Some(_)) => match numbers()?[..] {
                [n] => Constraint::MinLength(size(n)?),
                _ => return Err(format!("{text:?} takes one number")),
            },
            ("maxlength", Some(_)) => match numbers()?[..] {
                [n] => Constraint::MaxLength(size(n)?),
                _ => return Err(format!("{text:?} takes one number")),
            },
            ("length", Some(_)) => match numbers()?[..] {
                [n] => Constraint::Length(size(n)?, size(n)?),
                [lo, hi] => Constraint::Length(size(lo)?, size(hi)?),
                _ => return Err(format!("{text:?} takes one or two numbers")),
            },
            ("min", Some(_)) => match numbers()?[..] {
                [n] => Constraint::Min(n),
                _ => return Err(format!("{text:?} takes one number")),
            },
            ("max", Some(_)) => match numbers()?[..] {
                [n] => Constraint::Max(n),
                _ => return Err(format!("{text:?} takes one number")),
            },
            ("range", Some(_)) => match numbers()?[..] {
                [lo, hi] => Constraint::Range(lo, hi),
                _ => return Err(format!("{text:?} takes two numbers")),
            },
            _ => {
                return Err(format!(
                    "the route constraint {text:?} is not one this handler checks (int, long, double, float, decimal, bool, alpha, guid, minlength, maxlength, length, min, max, range)"
                ));
            }
        })
    }

    fn accepts(&self, value: &str) -> bool {
        let whole = || value.parse::<i64>().ok();
        let chars = || value.chars().count();
        match self {
            Constraint::Int => value.parse::<i32>().is_ok(),
            Constraint::Long => whole().is_some(),
            Constraint::Double => value.parse::<f64>().is_ok_and(f64::is_finite),
            Constraint::Bool => {
                value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")
            }
            Constraint::Alpha => value.chars().all(|c| c.is_ascii_alphabetic()),
            Constraint::Guid => is_guid(value),
            Constraint::MinLength(n) => chars() >= *n,
            Constraint::MaxLength(n) => chars() <= *n,
            Constraint::Length(lo, hi) => (*lo..=*hi).contains(&chars()),
            Constraint::Min(n) => whole().is_some_and(|v| v >= *n),
            Constraint::Max(n) => whole().is_some_and(|v| v <= *n),
            Constraint::Range(lo, hi) => whole().is_some_and(|v| (*lo..=*hi).contains(&v)),
        }
    }
}

/// A GUID as .NET parses one: 32 hex digits, bare or in 8-4-4-4-12
/// groups, optionally in one pair of braces or parentheses.
fn is_guid(value: &str) -> bool {
    let bare = match value.as_bytes() {
        [b'{', .., b'}'] | [b'(', .., b')'] => &value[1..value.len() - 1],
        _ => value,
    };
    let groups: Vec<&str> = bare.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    (lengths == [8, 4, 4, 4, 12] || lengths == [32])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Parameter {
        name: String,
        /// Left out of the path: `None`, or its default.
        optional: Option<Option<String>>,
        constraints: Vec<Constraint>,
    },
    /// `{*rest}`: the rest of the path, possibly none of it.
    CatchAll(String),
}

impl Segment {
    /// How specific the segment is, as ASP.NET Core orders routes:
    /// lower first.
    fn precedence(&self) -> u8 {
        match self {
            Segment::Literal(_) => 1,
            Segment::Parameter { constraints, .. } if !constraints.is_empty() => 2,
            Segment::Parameter { .. } => 3,
            Segment::CatchAll(_) => 4,
        }
    }
}

/// A public path: the route prefix and the route template, parsed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RouteTemplate {
    text: String,
    segments: Vec<Segment>,
}

/// The route values of a match, in the template's order; a parameter
/// left out without a default is absent.
pub(crate) type Params = Vec<(String, String)>;

impl RouteTemplate {
    /// The public path of a function: `prefix` then `route` (the folder
    /// name when the function.json has no route). Fails on what the host's
    /// routing would take but this handler cannot match the same way.
    pub fn parse(prefix: &str, route: &str) -> Result<RouteTemplate, String> {
        let text =
            format!("/{}/{}", prefix.trim_matches('/'), route.trim_matches('/')).replace("//", "/");
        let parts: Vec<&str> = text.split('/').filter(|s| !s.is_empty()).collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (index, part) in parts.iter().enumerate() {
            let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
                if part.contains(['{', '}']) {
                    return Err(format!(
                        "the route {route:?}: the segment {part:?} mixes text and parameters, which this handler does not match: give each parameter a segment of its own"
                    ));
                }
                segments.push(Segment::Literal(part.to_string()));
                continue;
            };
            if let Some(name) = inner.strip_prefix('*') {
                if index + 1 != parts.len() {
                    return Err(format!(
                        "the route {route:?}: {{*{name}}} must be its last segment"
                    ));
                }
                segments.push(Segment::CatchAll(name.trim_start_matches('*').to_owned()));
                continue;
            }
            let (inner, default) = match inner.split_once('=') {
                Some((inner, default)) => (inner, Some(default.to_owned())),
                None => (inner, None),
            };
            let (inner, optional) = match inner.strip_suffix('?') {
                Some(inner) => (inner, true),
                None => (inner, false),
            };
            let mut pieces = inner.split(':');
            let name = pieces.next().unwrap_or_default().trim();
            if name.is_empty() || name.contains(['{', '}', '?', '*', '/']) {
                return Err(format!(
                    "the route {route:?}: the parameter {part:?} has no valid name"
                ));
            }
            let constraints = pieces
                .map(Constraint::parse)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| format!("the route {route:?}: {error}"))?;
            segments.push(Segment::Parameter {
                name: name.to_owned(),
                optional: (optional || default.is_some()).then_some(default),
                constraints,
            });
        }
        // A parameter left out must leave out everything after it.
        let first_optional = segments.iter().position(|s| {
            matches!(
                s,
                Segment::Parameter {
                    optional: Some(_),
                    ..
                } | Segment::CatchAll(_)
            )
        });
        if let Some(first) = first_optional
            && segments[first..].iter().any(|s| {
                matches!(
                    s,
                    Segment::Literal(_) | Segment::Parameter { optional: None, .. }
                )
            })
        {
            return Err(format!(
                "the route {route:?}: an optional parameter is followed by a required segment"
            ));
        }
        Ok(RouteTemplate { text, segments })
    }

    /// The template as written after the prefix, e.g. `/api/items/{id:int}`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The route values if `path` (decoded segments, none empty) matches.
    pub fn matches<'p>(&self, path: impl IntoIterator<Item = &'p str>) -> Option<Params> {
        let mut path = path.into_iter().peekable();
        let mut params = Params::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(literal) => {
                    let part = path.next()?;
                    if !same_text(literal, part) {
                        return None;
                    }
                }
                Segment::Parameter {
                    name,
                    optional,
                    constraints,
                } => match path.next() {
                    Some(part) => {
                        if !constraints.iter().all(|c| c.accepts(part)) {
                            return None;
                        }
                        params.push((name.clone(), part.to_owned()));
                    }
                    None => match optional {
                        Some(Some(default)) => params.push((name.clone(), default.clone())),
                        Some(None) => {}
                        None => return None,
                    },
                },
                Segment::CatchAll(name) => {
                    let rest: Vec<&str> = path.by_ref().collect();
                    if !rest.is_empty() {
                        params.push((name.clone(), rest.join("/")));
                    }
                }
            }
        }
        path.peek().is_none().then_some(params)
    }

    /// The order in which routes are tried: more specific ones first.
    pub fn precedence(&self) -> Vec<u8> {
        self.segments.iter().map(Segment::precedence).collect()
    }
}

/// Literal segments match in any case, as the host's routing does.
fn same_text(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || (!a.is_ascii() && a.to_lowercase() == b.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(prefix: &str, route: &str, path: &str) -> Option<Params> {
        RouteTemplate::parse(prefix, route)
            .unwrap()
            .matches(path.split('/').filter(|s| !s.is_empty()))
    }

    fn pairs(pairs: &[(&str, &str)]) -> Option<Params> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn literals_match_in_any_case_under_the_prefix() {
        assert_eq!(
            matches("api", "RustFunction", "/API/rustfunction"),
            pairs(&[])
        );
        assert_eq!(matches("api", "RustFunction", "/api/RustFunction/x"), None);
        assert_eq!(matches("", "RustFunction", "/rustFunction"), pairs(&[]));
        assert_eq!(matches("api", "RustFunction", "/RustFunction"), None);
        assert_eq!(matches("v1/x", "a", "/v1/X/A"), pairs(&[]));
    }

    #[test]
    fn parameters_constraints_defaults_and_the_rest() {
        let route = "items/{id:int}/{name?}";
        assert_eq!(matches("api", route, "/api/items/7"), pairs(&[("id", "7")]));
        assert_eq!(
            matches("api", route, "/api/items/7/bolt"),
            pairs(&[("id", "7"), ("name", "bolt")])
        );
        assert_eq!(matches("api", route, "/api/items/seven"), None);
        assert_eq!(matches("api", route, "/api/items"), None);
        assert_eq!(
            matches("api", "page/{n:range(1,9)=1}", "/api/page"),
            pairs(&[("n", "1")])
        );
        assert_eq!(
            matches("api", "page/{n:range(1,9)=1}", "/api/page/10"),
            None
        );
        assert_eq!(
            matches("api", "files/{*path}", "/api/files/a/b.txt"),
            pairs(&[("path", "a/b.txt")])
        );
        assert_eq!(matches("api", "files/{**path}", "/api/files"), pairs(&[]));
        assert_eq!(
            matches(
                "api",
                "{kind:alpha}/{id:guid}",
                "/api/x/{0f8e3c1a-7b2d-4c5e-9f10-1a2b1c2d3e4f}"
            ),
            pairs(&[
                ("kind", "x"),
                ("id", "{0f8e3c1a-7b2d-4c5e-9f10-1a2b1c2d3e4f}")
            ])
        );
        assert_eq!(
            matches("api", "{id:guid}", "/api/{0f8e3c1a7b2d4c5e9f101a2b1c2d3e4f"),
            None
        );
    }

    #[test]
    fn what_the_handler_cannot_match_is_refused_by_name() {
        for (route, expected) in [
            ("file.{ext}", "mixes text and parameters"),
            ("{id:regex(^a$)}", "not one this handler checks"),
            ("{*rest}/more", "must be its last segment"),
            ("{a?}/b", "followed by a required segment"),
            ("{}", "no valid name"),
            ("{n:min(x)}", "whole numbers"),
        ] {
            let error = RouteTemplate::parse("api", route).unwrap_err();
            assert!(error.contains(expected), "{route}: {error}");
        }
    }

    #[test]
    fn literals_come_before_parameters() {
        let literal = RouteTemplate::parse("api", "items/new").unwrap();
        let constrained = RouteTemplate::parse("api", "items/{id:int}").unwrap();
        let parameter = RouteTemplate::parse("api", "items/{id}").unwrap();
        let rest = RouteTemplate::parse("api", "{*rest}").unwrap();
        assert!(literal.precedence() < constrained.precedence());
        assert!(constrained.precedence() < parameter.precedence());
        assert!(parameter.precedence() < rest.precedence());
    }
}
