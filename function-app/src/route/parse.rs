//! Reading a route template as ASP.NET Core's `RoutePatternParser` reads
//! it for the host, refusing what it refuses (docs/function-app.md,
//! "Route templates").

use super::constraint::Constraint;
use super::{Kind, Parameter, Part, Segment};

/// The segments of `template` (prefix and route joined).
pub(super) fn template(template: &str) -> Result<Vec<Segment>, String> {
    let text = if let Some(rest) = template.strip_prefix("~/") {
        rest
    } else if let Some(rest) = template.strip_prefix('/') {
        rest
    } else if template.starts_with('~') {
        return Err("a template may start with \"~\" only as \"~/\"".to_owned());
    } else {
        template
    };
    let mut segments = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for raw in split_segments(text) {
        if raw.is_empty() {
            return Err(
                "\"/\" appears twice in a row in the public path (the host joins the route prefix and the route with one \"/\"): remove the extra \"/\"".to_owned(),
            );
        }
        let segment = parts(raw, &mut names)?;
        check_segment(&segment)?;
        segments.push(segment);
    }
    let last = segments.len().saturating_sub(1);
    for (index, segment) in segments.iter().enumerate() {
        let catch_all = segment
            .iter()
            .any(|part| matches!(part, Part::Parameter(p) if p.kind == Kind::CatchAll));
        if catch_all && index != last {
            return Err("a catch-all parameter ({*name}) must be the last segment".to_owned());
        }
    }
    Ok(segments)
}

/// `text` cut at each `/` outside a parameter; a trailing `/` ends the
/// template.
fn split_segments(text: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' if depth == 0 && bytes.get(i + 1) == Some(&b'{') => i += 1,
            b'{' if depth == 0 => depth = 1,
            b'}' if depth == 1 && bytes.get(i + 1) == Some(&b'}') => i += 1,
            b'}' if depth == 1 => depth = 0,
            b'/' if depth == 0 => {
                segments.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        segments.push(&text[start..]);
    }
    segments
}

/// The literals and parameters of one segment.
fn parts(segment: &str, names: &mut Vec<String>) -> Result<Segment, String> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = segment.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '}' => {
                return Err(format!(
                    "the segment {segment:?} has a \"}}\" without its \"{{\" (write \"}}}}\" for a brace)"
                ));
            }
            '{' => {
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                }
                let mut inside = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(format!(
                                "the segment {segment:?} has a \"{{\" without its \"}}\""
                            ));
                        }
                        Some('}') if chars.peek() == Some(&'}') => {
                            chars.next();
                            inside.push('}');
                        }
                        Some('}') => break,
                        Some('{') if chars.peek() == Some(&'{') => {
                            chars.next();
                            inside.push('{');
                        }
                        Some('{') => {
                            return Err(format!(
                                "the parameter in {segment:?} has a \"{{\" inside: write \"{{{{\" for a brace"
                            ));
                        }
                        Some(c) => inside.push(c),
                    }
                }
                let parameter = parameter(&inside)?;
                if names
                    .iter()
                    .any(|name| name.eq_ignore_ascii_case(&parameter.name))
                {
                    return Err(format!(
                        "the parameter {:?} appears more than once: give each its own name",
                        parameter.name
                    ));
                }
                names.push(parameter.name.clone());
                parts.push(Part::Parameter(parameter));
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    for part in &parts {
        if let Part::Literal(text) = part
            && text.contains('?')
        {
            return Err(format!(
                "the literal {text:?} holds a \"?\", which would start the query string: remove it"
            ));
        }
    }
    Ok(parts)
}

/// The inside of `{...}`: `*`/`**`, the name, `:constraint`s, `=default`, `?`.
fn parameter(inside: &str) -> Result<Parameter, String> {
    let (kind, body) = if let Some(rest) = inside.strip_prefix("**") {
        (Kind::CatchAll, rest)
    } else if let Some(rest) = inside.strip_prefix('*') {
        (Kind::CatchAll, rest)
    } else {
        (Kind::Standard, inside)
    };
    let (kind, body) = match body.strip_suffix('?') {
        Some(_) if kind == Kind::CatchAll => {
            return Err(format!(
                "{{{inside}}}: a catch-all parameter cannot be optional"
            ));
        }
        Some(rest) => (Kind::Optional, rest),
        None => (kind, body),
    };
    // A name may start with ':' or '=' (ASP.NET Core reads `{:x}` as a
    // name); after its first character they start constraints or the
    // default.
    let name_end = body
        .char_indices()
        .skip(1)
        .find(|(_, c)| matches!(c, ':' | '='))
        .map_or(body.len(), |(at, _)| at);
    let name = &body[..name_end];
    if name.is_empty() || name.contains(['/', '{', '}', '?', '*']) {
        return Err(format!(
            "{{{inside}}}: the parameter name {name:?} is not valid: it must not be empty nor hold '/', '{{', '}}', '?' or '*' ('?' may end a parameter, '*' start one)"
        ));
    }
    let (constraints, default) =
        constraints_and_default(&body[name_end..]).map_err(|why| format!("{{{inside}}}: {why}"))?;
    if kind == Kind::Optional && default.is_some() {
        return Err(format!(
            "{{{inside}}}: an optional parameter cannot have a default value: drop the \"?\" or the \"=...\""
        ));
    }
    Ok(Parameter {
        name: name.to_owned(),
        kind,
        default,
        constraints,
    })
}

/// `:int:range(1,9)=5` -> the constraints and the default. A `(` keeps
/// `:` and `=` in the constraint's argument until its `)`.
fn constraints_and_default(mut rest: &str) -> Result<(Vec<Constraint>, Option<String>), String> {
    let mut constraints = Vec::new();
    loop {
        if let Some(default) = rest.strip_prefix('=') {
            return Ok((constraints, Some(default.to_owned())));
        }
        let Some(body) = rest.strip_prefix(':') else {
            return Ok((constraints, None));
        };
        let mut end = body.len();
        let mut open = false;
        for (at, c) in body.char_indices() {
            match c {
                '(' if !open => open = true,
                ')' if open => {
                    let next = body[at + 1..].chars().next();
                    if matches!(next, None | Some(':') | Some('=')) {
                        open = false;
                    }
                }
                ':' | '=' if !open => {
                    end = at;
                    break;
                }
                _ => {}
            }
        }
        let text = &body[..end];
        if !text.is_empty() {
            constraints.push(Constraint::parse(text)?);
        }
        rest = &body[end..];
    }
}

/// What ASP.NET Core refuses within one segment of several parts.
fn check_segment(parts: &[Part]) -> Result<(), String> {
    if parts.len() < 2 {
        return Ok(());
    }
    let shown = || {
        parts
            .iter()
            .map(|part| match part {
                Part::Literal(text) => text.clone(),
                Part::Parameter(p) => format!("{{{}}}", p.name),
            })
            .collect::<String>()
    };
    for (index, part) in parts.iter().enumerate() {
        let Part::Parameter(parameter) = part else {
            continue;
        };
        if parameter.kind == Kind::CatchAll {
            return Err(format!(
                "the segment {:?}: a catch-all parameter must have its segment to itself",
                shown()
            ));
        }
        if parameter.kind == Kind::Optional {
            let after_period = index == parts.len() - 1
                && matches!(&parts[index - 1], Part::Literal(text) if text == ".");
            if !after_period {
                return Err(format!(
                    "the segment {:?}: an optional parameter sharing a segment must come last, right after a \".\"",
                    shown()
                ));
            }
        }
        if index > 0 && matches!(parts[index - 1], Part::Parameter(_)) {
            return Err(format!(
                "the segment {:?}: two parameters in a row cannot be told apart: put a literal between them",
                shown()
            ));
        }
    }
    Ok(())
}
