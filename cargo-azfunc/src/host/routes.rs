//! The host's HTTP routing (docs/host-protocol.md, "The app's files"):
//! each HTTP function's public path `/{routePrefix}/{route}`, parsed and
//! matched by function-app as the handler library matches it, most
//! specific first, and the `methods` filter.

use function_app::RouteTemplate;
use function_app::route::RouteValues;

use crate::app::{AppFolder, FunctionFolder, TriggerKind};
use crate::host::request_path::normalize;

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
        params: RouteValues,
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
            routes.push(route_of(function, &app.host.route_prefix)?);
        }
        // Most specific first, as ASP.NET Core orders routes: `items/new`
        // before `items/{id:int}` before `items/{id}`.
        routes.sort_by_key(|r| r.template.precedence());
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
        let method = method.to_ascii_lowercase();
        let mut path_matched = false;
        for route in &self.routes {
            if let Some(params) = route.template.matches_path(path) {
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
        route.template.as_str().to_owned()
    }
}

fn route_of(function: &FunctionFolder, prefix: &str) -> Result<Route, String> {
    let trigger = function.trigger();
    let text = trigger
        .route
        .clone()
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| function.name.clone());
    let template =
        RouteTemplate::parse(prefix, &text).map_err(|e| format!("{}: {e}", function.name))?;
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
            worker: None,
            root: ".".into(),
            host: HostJson {
                executable: Some("h".into()),
                route_prefix: prefix.into(),
                ..HostJson::default()
            },
            functions,
            settings: Default::default(),
            cors: None,
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
        // An empty segment is a segment, as ASP.NET Core's routing has it.
        for path in [
            "/api//RustyFunction",
            "//api/RustyFunction",
            "/api/RustyFunction//",
        ] {
            assert_eq!(r.find("GET", path), RouteMatch::NotFound, "{path}");
        }
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
    fn empty_prefix() {
        let r = router("", vec![function("F", Some("hello/{who}"), None)]);
        assert_eq!(
            r.find("GET", "/hello/ann"),
            found("F", &[("who", Some("ann"))])
        );
        assert_eq!(r.public_path(&r.routes[0]), "/hello/{who}");
    }
}
