//! The host's HTTP routing (docs/host-protocol.md, "The app's files"): `/{routePrefix}/
//! {route}`, templates with `{name}`, `{name?}`, `{name:constraint}` and
//! `{*rest}`, case-insensitive literals, and the `methods` filter.

use crate::app::{AppFolder, FunctionFolder, TriggerKind};
use crate::host::request_path::normalize;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Constraint {
    Int,
    Long,
    Alpha,
    Bool,
    Guid,
    Double,
    MinLength(usize),
    MaxLength(usize),
    Length(usize),
    Min(i64),
    Max(i64),
    Range(i64, i64),
}

impl Constraint {
    fn parse(text: &str) -> Result<Constraint, String> {
        let (name, arg) = match text.split_once('(') {
            Some((name, rest)) => (name, Some(rest.trim_end_matches(')'))),
            None => (text, None),
        };
        let number = |arg: Option<&str>| -> Result<i64, String> {
            arg.and_then(|a| a.trim().parse().ok())
                .ok_or_else(|| format!("constraint {text:?} needs a number"))
        };
        Ok(match name.to_ascii_lowercase().as_str() {
            "int" => Constraint::Int,
            "long" => Constraint::Long,
            "alpha" => Constraint::Alpha,
            "bool" => Constraint::Bool,
            "guid" => Constraint::Guid,
            "double" | "float" | "decimal" => Constraint::Double,
            "minlength" => Constraint::MinLength(number(arg)? as usize),
            "maxlength" => Constraint::MaxLength(number(arg)? as usize),
            "length" => Constraint::Length(number(arg)? as usize),
            "min" => Constraint::Min(number(arg)?),
            "max" => Constraint::Max(number(arg)?),
            "range" => {
                let (lo, hi) = arg
                    .and_then(|a| a.split_once(','))
                    .ok_or_else(|| format!("constraint {text:?} needs two numbers"))?;
                Constraint::Range(number(Some(lo))?, number(Some(hi))?)
            }
            _ => return Err(format!("unsupported route constraint {text:?}")),
        })
    }

    fn accepts(&self, value: &str) -> bool {
        let int = || value.parse::<i64>().ok();
        match self {
            Constraint::Int => value.parse::<i32>().is_ok(),
            Constraint::Long => int().is_some(),
            Constraint::Alpha => {
                !value.is_empty() && value.chars().all(|c| c.is_ascii_alphabetic())
            }
            Constraint::Bool => {
                value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")
            }
            Constraint::Guid => is_guid(value),
            Constraint::Double => value.parse::<f64>().is_ok_and(f64::is_finite),
            Constraint::MinLength(n) => value.chars().count() >= *n,
            Constraint::MaxLength(n) => value.chars().count() <= *n,
            Constraint::Length(n) => value.chars().count() == *n,
            Constraint::Min(n) => int().is_some_and(|v| v >= *n),
            Constraint::Max(n) => int().is_some_and(|v| v <= *n),
            Constraint::Range(lo, hi) => int().is_some_and(|v| (*lo..=*hi).contains(&v)),
        }
    }
}

/// .NET's `Guid.TryParse`: `D` (8-4-4-4-12 hex digits with hyphens), `N`
/// (32 hex digits), `B` (`D` in braces) or `P` (`D` in parentheses), with
/// whitespace around; a brace or parenthesis without its partner is not.
fn is_guid(value: &str) -> bool {
    let value = value.trim();
    let bare = match (value.as_bytes().first(), value.as_bytes().last()) {
        (Some(b'{'), Some(b'}')) | (Some(b'('), Some(b')')) if value.len() >= 2 => {
            let inner = &value[1..value.len() - 1];
            if inner.len() != 36 {
                return false;
            }
            inner
        }
        _ => value,
    };
    let groups: Vec<&str> = bare.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let hex = groups
        .iter()
        .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
    hex && (lengths == [8, 4, 4, 4, 12] || (lengths == [32] && bare.len() == value.len()))
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param {
        name: String,
        optional: bool,
        constraints: Vec<Constraint>,
    },
    /// `{*rest}`: the rest of the path, possibly empty.
    CatchAll(String),
}

/// A parsed route template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTemplate {
    segments: Vec<Segment>,
}

impl RouteTemplate {
    pub fn parse(template: &str) -> Result<RouteTemplate, String> {
        let mut segments = Vec::new();
        let parts: Vec<&str> = template
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        for (index, part) in parts.iter().enumerate() {
            let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
                if part.contains(['{', '}']) {
                    return Err(format!(
                        "route {template:?}: segment {part:?} mixes text and parameters, which cargo-azfunc does not support"
                    ));
                }
                segments.push(Segment::Literal(part.to_string()));
                continue;
            };
            if let Some(name) = inner.strip_prefix('*') {
                if index + 1 != parts.len() {
                    return Err(format!(
                        "route {template:?}: {{*{name}}} must be the last segment"
                    ));
                }
                segments.push(Segment::CatchAll(name.trim_start_matches('*').to_owned()));
                continue;
            }
            let (inner, optional) = match inner.strip_suffix('?') {
                Some(inner) => (inner, true),
                None => (inner, false),
            };
            let mut pieces = inner.split(':');
            let name = pieces.next().unwrap_or("").trim();
            if name.is_empty() {
                return Err(format!("route {template:?}: a parameter has no name"));
            }
            let constraints = pieces
                .map(Constraint::parse)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("route {template:?}: {e}"))?;
            segments.push(Segment::Param {
                name: name.to_owned(),
                optional,
                constraints,
            });
        }
        Ok(RouteTemplate { segments })
    }

    /// Every parameter name, in order.
    pub fn parameters(&self) -> Vec<String> {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Param { name, .. } | Segment::CatchAll(name) => Some(name.clone()),
                Segment::Literal(_) => None,
            })
            .collect()
    }

    /// The literal text with parameters left out, e.g. for a sample URL.
    pub fn literal_path(&self) -> String {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Literal(text) => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    fn literal_count(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }

    /// The route values when `path` (no prefix, no query, decoded as
    /// [`crate::host::request_path::normalize`] does) matches; an optional
    /// parameter the path leaves out is `None`.
    pub fn matches(&self, path: &str) -> Option<Vec<(String, Option<String>)>> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut values = Vec::new();
        let mut position = 0;
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => {
                    if !parts.get(position)?.eq_ignore_ascii_case(text) {
                        return None;
                    }
                    position += 1;
                }
                Segment::Param {
                    name,
                    optional,
                    constraints,
                } => match parts.get(position) {
                    Some(part) => {
                        // The path is decoded already (request_path), a
                        // %2F left as it is.
                        if !constraints.iter().all(|c| c.accepts(part)) {
                            return None;
                        }
                        values.push((name.clone(), Some((*part).to_owned())));
                        position += 1;
                    }
                    None if *optional => values.push((name.clone(), None)),
                    None => return None,
                },
                Segment::CatchAll(name) => {
                    let rest: Vec<&str> = parts[position.min(parts.len())..].to_vec();
                    position = parts.len();
                    let value = (!rest.is_empty()).then(|| rest.join("/"));
                    values.push((name.clone(), value));
                }
            }
        }
        (position == parts.len()).then_some(values)
    }
}

/// One HTTP function's route.
#[derive(Clone, Debug)]
pub struct Route {
    pub function: String,
    pub template: RouteTemplate,
    /// The route as written (the function name by default).
    pub text: String,
    /// Lower-case; empty means every method.
    pub methods: Vec<String>,
}

/// What a request path and method lead to.
#[derive(Debug, PartialEq, Eq)]
pub enum RouteMatch {
    Found {
        function: String,
        params: Vec<(String, Option<String>)>,
    },
    /// A route matches the path, but not with this method.
    MethodNotAllowed,
    NotFound,
}

/// Every HTTP function's route under the app's prefix.
#[derive(Clone, Debug)]
pub struct Router {
    /// Without slashes; may be empty.
    pub prefix: String,
    pub routes: Vec<Route>,
}

impl Router {
    pub fn new(app: &AppFolder) -> Result<Router, String> {
        let mut routes = Vec::new();
        for function in app
            .functions
            .iter()
            .filter(|f| f.trigger_kind() == TriggerKind::Http)
        {
            routes.push(route_of(function)?);
        }
        // More literal segments first, so `items/new` beats `items/{id}`.
        routes.sort_by_key(|r| std::cmp::Reverse(r.template.literal_count()));
        Ok(Router {
            prefix: app.host.route_prefix.clone(),
            routes,
        })
    }

    /// Routes the raw URL path (with the prefix) and `method`; a path
    /// Kestrel would refuse matches nothing.
    pub fn find(&self, method: &str, raw_path: &str) -> RouteMatch {
        match normalize(raw_path) {
            Ok(path) => self.find_path(method, &path),
            Err(_) => RouteMatch::NotFound,
        }
    }

    /// Routes a path already normalized ([`normalize`]) and `method`.
    pub fn find_path(&self, method: &str, path: &str) -> RouteMatch {
        let Some(rest) = strip_prefix(path, &self.prefix) else {
            return RouteMatch::NotFound;
        };
        let method = method.to_ascii_lowercase();
        let mut path_matched = false;
        for route in &self.routes {
            if let Some(params) = route.template.matches(rest) {
                if route.methods.is_empty() || route.methods.contains(&method) {
                    return RouteMatch::Found {
                        function: route.function.clone(),
                        params,
                    };
                }
                path_matched = true;
            }
        }
        if path_matched {
            RouteMatch::MethodNotAllowed
        } else {
            RouteMatch::NotFound
        }
    }

    /// The public path of a route, e.g. `/api/RustFunction`.
    pub fn public_path(&self, route: &Route) -> String {
        if self.prefix.is_empty() {
            format!("/{}", route.text.trim_matches('/'))
        } else {
            format!("/{}/{}", self.prefix, route.text.trim_matches('/'))
        }
    }
}

fn route_of(function: &FunctionFolder) -> Result<Route, String> {
    let trigger = function.trigger();
    let text = trigger
        .route
        .clone()
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| function.name.clone());
    let template = RouteTemplate::parse(&text).map_err(|e| format!("{}: {e}", function.name))?;
    let methods = trigger
        .methods
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|m| m.to_ascii_lowercase())
        .collect();
    Ok(Route {
        function: function.name.clone(),
        template,
        text,
        methods,
    })
}

/// `/api/x` -> `x` for the prefix `api` (any case).
fn strip_prefix<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let path = path.trim_start_matches('/');
    if prefix.is_empty() {
        return Some(path);
    }
    let head = path.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = &path[prefix.len()..];
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Binding, HostJson};
    use serde_json::json;

    fn function(name: &str, route: Option<&str>, methods: Option<&[&str]>) -> FunctionFolder {
        let trigger: Binding = serde_json::from_value(json!({
            "type": "httpTrigger", "direction": "in", "name": "req",
            "route": route, "methods": methods,
        }))
        .expect("binding");
        FunctionFolder {
            name: name.into(),
            bindings: vec![trigger],
        }
    }

    fn router(prefix: &str, functions: Vec<FunctionFolder>) -> Router {
        let app = AppFolder {
            root: ".".into(),
            host: HostJson {
                executable: "h".into(),
                arguments: vec![],
                working_directory: None,
                forwarding: false,
                proxying: false,
                route_prefix: prefix.into(),
                function_timeout: None,
                hub_name: "TestHubName".into(),
            },
            functions,
            settings: vec![],
            local: Default::default(),
        };
        Router::new(&app).expect("router")
    }

    fn found(function: &str, params: &[(&str, Option<&str>)]) -> RouteMatch {
        RouteMatch::Found {
            function: function.into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(str::to_owned)))
                .collect(),
        }
    }

    #[test]
    fn default_route_is_the_function_name_any_case() {
        let r = router("api", vec![function("RustyFunction", None, None)]);
        assert_eq!(
            r.find("POST", "/api/RustyFunction"),
            found("RustyFunction", &[])
        );
        assert_eq!(
            r.find("delete", "/API/rustyfunction/"),
            found("RustyFunction", &[])
        );
        assert_eq!(r.find("GET", "/RustyFunction"), RouteMatch::NotFound);
        assert_eq!(r.find("GET", "/api/RustyFunction/x"), RouteMatch::NotFound);
        assert_eq!(r.find("GET", "/apix/RustyFunction"), RouteMatch::NotFound);
    }

    #[test]
    fn methods_filter() {
        let r = router(
            "api",
            vec![function("F", Some("RustFunction"), Some(&["get", "POST"]))],
        );
        assert_eq!(r.find("get", "/api/rustfunction"), found("F", &[]));
        assert_eq!(r.find("POST", "/api/RustFunction"), found("F", &[]));
        assert_eq!(
            r.find("PUT", "/api/RustFunction"),
            RouteMatch::MethodNotAllowed
        );
    }

    #[test]
    fn parameters_optional_and_constraints() {
        let r = router(
            "api",
            vec![
                function("Item", Some("items/{id:int}/{name?}"), None),
                function("New", Some("items/new"), None),
                function("Files", Some("files/{*path}"), None),
            ],
        );
        assert_eq!(
            r.find("GET", "/api/items/7/bolt"),
            found("Item", &[("id", Some("7")), ("name", Some("bolt"))])
        );
        assert_eq!(
            r.find("GET", "/api/items/7"),
            found("Item", &[("id", Some("7")), ("name", None)])
        );
        assert_eq!(r.find("GET", "/api/items/new"), found("New", &[]));
        assert_eq!(r.find("GET", "/api/items/x"), RouteMatch::NotFound);
        assert_eq!(
            r.find("GET", "/api/items/99999999999"),
            RouteMatch::NotFound
        );
        assert_eq!(
            r.find("GET", "/api/items/1/a%20b"),
            found("Item", &[("id", Some("1")), ("name", Some("a b"))])
        );
        assert_eq!(
            r.find("GET", "/api/files/a/b.txt"),
            found("Files", &[("path", Some("a/b.txt"))])
        );
        assert_eq!(
            r.find("GET", "/api/files"),
            found("Files", &[("path", None)])
        );
    }

    #[test]
    fn other_constraints() {
        let t = |template: &str, path: &str| {
            RouteTemplate::parse(template)
                .expect("parses")
                .matches(path)
                .is_some()
        };
        assert!(t("{x:alpha}", "abc") && !t("{x:alpha}", "ab1"));
        assert!(t("{x:bool}", "True") && !t("{x:bool}", "yes"));
        assert!(
            t("{x:guid}", "0f8fad5b-d9cb-469f-a165-70867728950e") && !t("{x:guid}", "0f8fad5b")
        );
        assert!(t("{x:double}", "2.5") && !t("{x:double}", "two"));
        assert!(t("{x:int:min(3)}", "3") && !t("{x:int:min(3)}", "2"));
        assert!(t("{x:range(1,5)}", "5") && !t("{x:range(1,5)}", "6"));
        assert!(t("{x:maxlength(2)}", "ab") && !t("{x:maxlength(2)}", "abc"));
        assert!(t("{x:long}", "99999999999"));
        assert!(RouteTemplate::parse("{x:regex(^a$)}").is_err());
        assert!(RouteTemplate::parse("a{x}").is_err());
        assert!(RouteTemplate::parse("{}").is_err());
    }

    #[test]
    fn paths_as_kestrel_hands_them_over() {
        let r = router(
            "api",
            vec![
                function("Files", Some("files/{*path}"), None),
                function("Item", Some("items/{name}"), None),
            ],
        );
        // Dot segments are resolved before routing: no climbing out.
        assert_eq!(
            r.find("GET", "/api/files/../../etc/passwd"),
            RouteMatch::NotFound
        );
        assert_eq!(
            r.find("GET", "/api/files/%2e%2e/%2e%2e/etc/passwd"),
            RouteMatch::NotFound
        );
        assert_eq!(
            r.find("GET", "/api/files/a/../b.txt"),
            found("Files", &[("path", Some("b.txt"))])
        );
        // %2F stays in the value, never a separator.
        assert_eq!(
            r.find("GET", "/api/items/a%2Fb"),
            found("Item", &[("name", Some("a%2Fb"))])
        );
        assert_eq!(
            r.find("GET", "/api/files/a%2F..%2F..%2Fb"),
            found("Files", &[("path", Some("a%2F..%2F..%2Fb"))])
        );
        // A NUL never reaches a route value.
        assert_eq!(r.find("GET", "/api/items/a%00b"), RouteMatch::NotFound);
    }

    #[test]
    fn guids_as_dotnet_parses_them() {
        let guid = |value: &str| is_guid(value);
        let d = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert!(guid(d));
        assert!(guid("0f8fad5bd9cb469fa16570867728950e"));
        assert!(guid(&format!("{{{d}}}")));
        assert!(guid(&format!("({d})")));
        assert!(guid(&format!(" {d} ")));
        assert!(!guid(&format!("{{{d}")));
        assert!(!guid(&format!("{d}}}")));
        assert!(!guid(&format!("{{{{{d}}}}}")));
        assert!(!guid(&format!("({d}}}")));
        assert!(!guid("{0f8fad5bd9cb469fa16570867728950e}"));
        assert!(!guid("0f8fad5b-d9cb-469f-a165-70867728950"));
        assert!(!guid("0f8fad5g-d9cb-469f-a165-70867728950e"));
    }

    #[test]
    fn empty_prefix() {
        let r = router("", vec![function("F", Some("hello/{who}"), None)]);
        assert_eq!(
            r.find("GET", "/hello/ann"),
            found("F", &[("who", Some("ann"))])
        );
        assert_eq!(r.public_path(&r.routes[0]), "/hello/{who}");
    }
}
