//! Route constraints as ASP.NET Core's default constraint map names and
//! checks them (docs/function-app.md, "Route constraints"): names in any
//! case, arguments read as .NET converts them, values checked with .NET's
//! invariant-culture parsers.

use super::dotnet;
use super::dotnet_regex::Regex;

/// One inline constraint of a route parameter, e.g. `int` or `range(1,9)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Constraint {
    Int,
    Long,
    Bool,
    DateTime,
    Decimal,
    Double,
    Float,
    Guid,
    Alpha,
    /// The value is there and not empty.
    Required,
    /// The last `/`-part of the value has a dot followed by something.
    File,
    NonFile,
    /// Lengths in UTF-16 code units, as .NET's `string.Length` counts.
    MinLength(usize),
    MaxLength(usize),
    Length(usize, usize),
    Min(i64),
    Max(i64),
    Range(i64, i64),
    /// Matched anywhere in the value, in any case, as .NET's
    /// `RegexRouteConstraint` matches it.
    Regex(Box<Regex>),
}

/// What the names of the constraints are, for messages.
const KNOWN: &str = "int, long, bool, datetime, decimal, double, float, guid, alpha, required, file, nonfile, minlength(n), maxlength(n), length(n), length(min,max), min(n), max(n), range(min,max), regex(pattern)";

impl Constraint {
    /// Reads one constraint, e.g. `length(2,5)`. What the host's constraint
    /// resolver would refuse (an unknown name, arguments it cannot convert,
    /// a range whose bounds are the wrong way round) is an error.
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let (name, argument) = match text.find('(') {
            Some(open) if text.ends_with(')') => {
                (&text[..open], Some(&text[open + 1..text.len() - 1]))
            }
            Some(_) => {
                return Err(format!(
                    "the constraint {text:?} has no closing parenthesis"
                ));
            }
            None => (text, None),
        };
        let name = name.to_ascii_lowercase();
        if name == "regex" {
            // The pattern is the whole argument, commas and all.
            let regex = Regex::parse(argument.unwrap_or_default())
                .map_err(|why| format!("the constraint {text:?}: {why}"))?;
            return Ok(Constraint::Regex(Box::new(regex)));
        }
        // The resolver splits the argument on commas and converts each
        // piece with the invariant culture: surrounding spaces are fine.
        let numbers: Vec<&str> = argument.map_or_else(Vec::new, |a| a.split(',').collect());
        let whole = |piece: &str| {
            dotnet::parse_integer(piece, i64::MIN as i128, i64::MAX as i128)
                .map(|n| n as i64)
                .ok_or_else(|| format!("the constraint {text:?} needs whole numbers"))
        };
        let size = |piece: &str| {
            dotnet::parse_integer(piece, i32::MIN as i128, i32::MAX as i128)
                .ok_or_else(|| format!("the constraint {text:?} needs whole numbers"))
                .and_then(|n| {
                    usize::try_from(n).map_err(|_| {
                        format!("the constraint {text:?}: a length cannot be negative")
                    })
                })
        };
        let constraint = match (name.as_str(), numbers.as_slice()) {
            ("int", []) => Constraint::Int,
            ("long", []) => Constraint::Long,
            ("bool", []) => Constraint::Bool,
            ("datetime", []) => Constraint::DateTime,
            ("decimal", []) => Constraint::Decimal,
            ("double", []) => Constraint::Double,
            ("float", []) => Constraint::Float,
            ("guid", []) => Constraint::Guid,
            ("alpha", []) => Constraint::Alpha,
            ("required", []) => Constraint::Required,
            ("file", []) => Constraint::File,
            ("nonfile", []) => Constraint::NonFile,
            ("minlength", [n]) => Constraint::MinLength(size(n)?),
            ("maxlength", [n]) => Constraint::MaxLength(size(n)?),
            ("length", [n]) => {
                let n = size(n)?;
                Constraint::Length(n, n)
            }
            ("length", [lo, hi]) => Constraint::Length(size(lo)?, size(hi)?),
            ("min", [n]) => Constraint::Min(whole(n)?),
            ("max", [n]) => Constraint::Max(whole(n)?),
            ("range", [lo, hi]) => Constraint::Range(whole(lo)?, whole(hi)?),
            _ => {
                return Err(format!(
                    "the route constraint {text:?} is not one the host knows with these arguments ({KNOWN})"
                ));
            }
        };
        match constraint {
            Constraint::Length(lo, hi) if hi < lo => Err(format!(
                "the constraint {text:?}: the maximum length is below the minimum"
            )),
            Constraint::Range(lo, hi) if hi < lo => Err(format!(
                "the constraint {text:?}: the maximum is below the minimum"
            )),
            constraint => Ok(constraint),
        }
    }

    /// Whether the route value `value` passes, as the host checks it.
    pub fn accepts(&self, value: &str) -> bool {
        let length = || value.encode_utf16().count();
        let long = || dotnet::parse_integer(value, i64::MIN as i128, i64::MAX as i128);
        match self {
            Constraint::Int => {
                dotnet::parse_integer(value, i32::MIN as i128, i32::MAX as i128).is_some()
            }
            Constraint::Long => long().is_some(),
            Constraint::Bool => dotnet::is_bool(value),
            Constraint::DateTime => dotnet::is_date_time(value),
            Constraint::Decimal => dotnet::is_decimal(value),
            Constraint::Double | Constraint::Float => dotnet::is_floating(value),
            Constraint::Guid => dotnet::is_guid(value),
            Constraint::Alpha => value.chars().all(|c| c.is_ascii_alphabetic()),
            Constraint::Required => !value.is_empty(),
            Constraint::File => is_file_name(value),
            Constraint::NonFile => !is_file_name(value),
            Constraint::MinLength(n) => length() >= *n,
            Constraint::MaxLength(n) => length() <= *n,
            Constraint::Length(lo, hi) => (*lo..=*hi).contains(&length()),
            Constraint::Min(n) => long().is_some_and(|v| v >= i128::from(*n)),
            Constraint::Max(n) => long().is_some_and(|v| v <= i128::from(*n)),
            Constraint::Range(lo, hi) => {
                long().is_some_and(|v| (i128::from(*lo)..=i128::from(*hi)).contains(&v))
            }
            Constraint::Regex(regex) => regex.is_match(value),
        }
    }
}

/// ASP.NET Core's file-name test: the last `/`-part has a dot with
/// something other than dots after it.
fn is_file_name(value: &str) -> bool {
    let last = value.rsplit('/').next().unwrap_or_default();
    last.find('.')
        .is_some_and(|dot| last[dot + 1..].chars().any(|c| c != '.'))
}
