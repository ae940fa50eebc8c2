//! A function's public path as the host routes it: the route prefix, then
//! function.json's `route` (the folder name when there is none), parsed and
//! matched as ASP.NET Core's routing does for the host
//! (docs/function-app.md, "Route templates"): `{name}`, `{name?}`,
//! `{name=default}`, `{name:constraint}`, `{*rest}` and `{**rest}`,
//! several parameters in one segment (`{name}.{ext?}`), literals in any
//! case.

mod constraint;
mod dotnet;
#[cfg(feature = "regex")]
mod dotnet_regex;
#[cfg(not(feature = "regex"))]
#[path = "dotnet_regex_absent.rs"]
mod dotnet_regex;
mod parse;

use constraint::Constraint;

/// A parameter's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Standard,
    /// `{name?}`: may be left out.
    Optional,
    /// `{*rest}` or `{**rest}`: the rest of the path, possibly none of it.
    CatchAll,
}

#[derive(Debug, Clone, PartialEq)]
struct Parameter {
    name: String,
    kind: Kind,
    /// `{name=value}`: the value when the path leaves it out.
    default: Option<String>,
    constraints: Vec<Constraint>,
}

impl Parameter {
    /// Whether the path may leave the parameter out.
    fn omissible(&self) -> bool {
        self.kind != Kind::Standard || self.default.is_some()
    }

    fn accepts(&self, value: &str) -> bool {
        self.constraints.iter().all(|c| c.accepts(value))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Parameter(Parameter),
}

/// One `/`-separated segment of a template: a literal, a parameter, or
/// several parts (`{name}.{ext}`).
type Segment = Vec<Part>;

/// The route values of a match, in the template's order: a parameter the
/// path left out is its default, or `None` without one.
pub type RouteValues = Vec<(String, Option<String>)>;

/// A public path: the route prefix and the route template, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteTemplate {
    /// As the host puts it together: `/prefix/route`.
    text: String,
    segments: Vec<Segment>,
}

impl RouteTemplate {
    /// The public path of a function: `prefix`, then `route` (give the
    /// folder name when the function.json has none). The host joins them
    /// with one `/` and parses the result, so what it refuses at start-up
    /// (a repeated parameter, `//`, a catch-all before the end, an unknown
    /// constraint, ...) is an error here, worded for function.json.
    pub fn parse(prefix: &str, route: &str) -> Result<RouteTemplate, String> {
        let prefix = prefix.trim_matches('/');
        let joined = if prefix.is_empty() {
            route.to_owned()
        } else {
            format!("{prefix}/{route}")
        };
        let segments =
            parse::template(&joined).map_err(|why| format!("the route {route:?}: {why}"))?;
        Ok(RouteTemplate {
            text: format!("/{}", joined.trim_start_matches(['~', '/'])),
            segments,
        })
    }

    /// The template as the host reads it, e.g. `/api/items/{id:int}`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The route values if `path` matches: the path as Kestrel hands it
    /// to routing (decoded, a `%2F` left as it is), split as ASP.NET Core's
    /// `PathTokenizer` splits it: the leading `/` and one trailing `/` are
    /// not segments, but an empty segment anywhere else is one, and
    /// matches nothing (docs/function-app.md, "Route templates").
    pub fn matches_path(&self, path: &str) -> Option<RouteValues> {
        let path = path.strip_prefix('/').unwrap_or(path);
        if path.is_empty() {
            return self.match_segments(&[], false);
        }
        let (path, trailing_slash) = match path.strip_suffix('/') {
            Some(path) => (path, true),
            None => (path, false),
        };
        let segments: Vec<&str> = path.split('/').collect();
        self.match_segments(&segments, trailing_slash)
    }

    /// As [`RouteTemplate::matches_path`], from the decoded segments.
    pub fn matches<'p>(&self, segments: impl IntoIterator<Item = &'p str>) -> Option<RouteValues> {
        let segments: Vec<&str> = segments.into_iter().collect();
        self.match_segments(&segments, false)
    }

    /// `trailing_slash`: the path ended in a `/`, which a catch-all keeps.
    fn match_segments(&self, path: &[&str], trailing_slash: bool) -> Option<RouteValues> {
        let mut values = RouteValues::new();
        let mut at = 0;
        for segment in &self.segments {
            if let [Part::Parameter(parameter)] = segment.as_slice()
                && parameter.kind == Kind::CatchAll
            {
                // ASP.NET Core refuses an empty segment up to the
                // catch-all's first; after that, the rest is taken as it is.
                let rest = match path.get(at..).unwrap_or_default() {
                    [] => None,
                    ["", ..] => return None,
                    rest => Some(rest.join("/") + if trailing_slash { "/" } else { "" }),
                };
                at = path.len();
                values.push(fill(parameter, rest)?);
                continue;
            }
            match path.get(at) {
                Some(&"") => return None,
                Some(part) => {
                    values.extend(match_segment(segment, part)?);
                    at += 1;
                }
                // The path ends here: what is left must be omissible.
                None => match segment.as_slice() {
                    [Part::Parameter(parameter)] if parameter.omissible() => {
                        values.push(fill(parameter, None)?);
                    }
                    _ => return None,
                },
            }
        }
        (at == path.len()).then_some(values)
    }

    /// Every parameter name, in order.
    pub fn parameters(&self) -> Vec<&str> {
        self.parts()
            .filter_map(|part| match part {
                Part::Parameter(parameter) => Some(parameter.name.as_str()),
                Part::Literal(_) => None,
            })
            .collect()
    }

    /// The path with the parameter segments left out, e.g. for a sample
    /// URL: `/api/items` for `/api/items/{id}`.
    pub fn literal_path(&self) -> String {
        let literals: Vec<&str> = self
            .segments
            .iter()
            .filter_map(|segment| match segment.as_slice() {
                [Part::Literal(text)] => Some(text.as_str()),
                _ => None,
            })
            .collect();
        format!("/{}", literals.join("/"))
    }

    /// The order in which the host's routing tries templates: lower first
    /// (ASP.NET Core's inbound precedence, a digit per segment).
    pub fn precedence(&self) -> Vec<u8> {
        self.segments
            .iter()
            .map(|segment| match segment.as_slice() {
                [Part::Literal(_)] => 1,
                [Part::Parameter(p)] if p.kind == Kind::CatchAll => 5,
                [Part::Parameter(p)] if !p.constraints.is_empty() => 3,
                [Part::Parameter(_)] => 4,
                _ => 2,
            })
            .collect()
    }

    /// Why no request can ever reach this template, if so: a `.` or `..`
    /// segment, which Kestrel removes from every path before routing
    /// (docs/function-app.md, "Routes that never match"). The host starts
    /// with such a route and answers 404 to every caller.
    pub fn unmatchable(&self) -> Option<String> {
        self.segments.iter().find_map(|segment| match segment.as_slice() {
            [Part::Literal(text)] if text == "." || text == ".." => Some(format!(
                "{}: the segment {text:?} can never match, because the host removes \".\" and \"..\" from every request path before routing: write the path as callers will see it",
                self.text
            )),
            _ => None,
        })
    }

    /// Why the host would refuse the public path `prefix`/`route`, or no
    /// caller could ever reach it; `None` when it serves.
    pub fn problem(prefix: &str, route: &str) -> Option<String> {
        match RouteTemplate::parse(prefix, route) {
            Ok(template) => template.unmatchable(),
            Err(error) => Some(error),
        }
    }

    fn parts(&self) -> impl Iterator<Item = &Part> {
        self.segments.iter().flatten()
    }
}

/// The value of `parameter` from the path, or its default; `None` when a
/// constraint refuses it. A parameter left out without a default has no
/// value and is not checked, as ASP.NET Core's optional constraints do.
fn fill(parameter: &Parameter, value: Option<String>) -> Option<(String, Option<String>)> {
    let value = value.or_else(|| parameter.default.clone());
    if let Some(value) = &value
        && !parameter.accepts(value)
    {
        return None;
    }
    Some((parameter.name.clone(), value))
}

/// Literals match in any case, as the host's routing does.
fn same_text(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || (!a.is_ascii() && a.to_lowercase() == b.to_lowercase())
}

/// The route values of one path segment, if it matches.
fn match_segment(segment: &[Part], part: &str) -> Option<RouteValues> {
    match segment {
        [Part::Literal(literal)] => same_text(literal, part).then(RouteValues::new),
        [Part::Parameter(parameter)] => Some(vec![fill(parameter, Some(part.to_owned()))?]),
        parts => match_complex(parts, part).or_else(|| {
            // `{name}.{ext?}`: the optional last parameter and the "."
            // before it may both be left out, but a path ending in the
            // "." has left out only the parameter, which ASP.NET Core
            // does not match.
            match parts {
                [head @ .., Part::Literal(period), Part::Parameter(last)]
                    if last.kind == Kind::Optional && !part.ends_with(period.as_str()) =>
                {
                    let mut values = if let [only] = head {
                        match_segment(std::slice::from_ref(only), part)?
                    } else {
                        match_complex(head, part)?
                    };
                    values.push(fill(last, None)?);
                    Some(values)
                }
                _ => None,
            }
        }),
    }
}

/// A segment of several parts, matched as ASP.NET Core matches one: from
/// the right, each literal at its last place that leaves every parameter
/// at least one character.
fn match_complex(parts: &[Part], segment: &str) -> Option<RouteValues> {
    let lower = segment.to_ascii_lowercase();
    let mut end = segment.len();
    let mut pending: Option<&Parameter> = None;
    let mut values = RouteValues::new();
    for (index, part) in parts.iter().enumerate().rev() {
        match part {
            Part::Parameter(parameter) => pending = Some(parameter),
            Part::Literal(literal) => {
                let limit = end.checked_sub(usize::from(pending.is_some()))?;
                let window = lower.get(..limit)?;
                let at = window.rfind(&literal.to_ascii_lowercase())?;
                if index == parts.len() - 1 && at + literal.len() != end {
                    return None;
                }
                if let Some(parameter) = pending.take() {
                    let value = segment.get(at + literal.len()..end)?;
                    values.push(fill(parameter, Some(value.to_owned()))?);
                }
                end = at;
            }
        }
    }
    match pending {
        Some(parameter) if end > 0 => {
            values.push(fill(parameter, Some(segment.get(..end)?.to_owned()))?)
        }
        Some(_) => return None,
        None if end != 0 => return None,
        None => {}
    }
    values.reverse();
    Some(values)
}

#[cfg(test)]
mod tests;
