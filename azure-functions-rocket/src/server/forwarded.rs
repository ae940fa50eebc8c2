//! Forwarding and proxying modes (docs/host-protocol.md, "Forwarding mode" and "Newer host options"):
//! the host sends an HTTP function the caller's request itself, at its
//! public path, and hands the handler's response back to the caller. Each
//! such function gets a Rocket route there, tried after the readiness
//! probe and the app's own routes and before the envelope route, so that
//! functions the host still sends envelopes keep them.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;

use rocket::data::{Data, ToByteUnit};
use rocket::http::{Method, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::route::{self, Handler, Route};
use rocket::tokio::io;

use function_app::{AppFolder, FunctionJson, RouteTemplate};

use super::routes::{Invocations, Patient, direct_call, read_up_to};
use crate::adapter;
use crate::envelope::INVOCATION_ID_HEADER;
use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse, MAX_BODY_BYTES};
use crate::registry::Registry;
use crate::trigger::Trigger;

/// After the readiness probe (-9) and apps' own static routes, before
/// the envelope route `POST /<name>` (-1), which gets what no public path
/// matches.
const RANK: isize = -5;

/// One HTTP function at its public path.
#[derive(Debug)]
struct PublicRoute {
    /// Its place in the registry.
    function: usize,
    template: RouteTemplate,
    /// `None`: every method.
    methods: Option<Vec<Method>>,
}

impl PublicRoute {
    fn allows(&self, method: Method) -> bool {
        self.methods
            .as_ref()
            .is_none_or(|methods| methods.contains(&method))
    }
}

/// The HTTP functions the host forwards callers' requests to, most
/// specific path first, as the host's routing orders them.
#[derive(Debug, Clone, Default)]
pub(crate) struct PublicRoutes(Arc<[PublicRoute]>);

impl PublicRoutes {
    /// The public routes of `registry`'s HTTP functions in `app`'s mode
    /// (none in envelope mode), or why the handler cannot serve them, one
    /// line each.
    pub fn plan(registry: &Registry, app: &AppFolder) -> Result<PublicRoutes, Vec<String>> {
        if !app.host.mode.forwards() {
            return Ok(PublicRoutes::default());
        }
        let json_of = |function: &crate::registry::Function| match app.function(function.name) {
            Some(Ok(json)) => Some(Cow::Borrowed(json)),
            _ => None,
        };
        PublicRoutes::plan_with(
            registry,
            &app.host.route_prefix,
            &format!("{} in host.json", app.host.mode.setting()),
            true,
            json_of,
        )
    }

    /// The public routes of `registry`'s HTTP functions, whose bindings
    /// `json_of` gives, under `route_prefix`; `setting` names what asks
    /// for them, in messages. With `envelopes`, the host also POSTs
    /// envelopes to `/{FunctionName}`, which no public path may take.
    pub(crate) fn plan_with<'a>(
        registry: &Registry,
        route_prefix: &str,
        setting: &str,
        envelopes: bool,
        json_of: impl Fn(&crate::registry::Function) -> Option<Cow<'a, FunctionJson>>,
    ) -> Result<PublicRoutes, Vec<String>> {
        let mut problems = Vec::new();
        let mut routes = Vec::new();
        let mut enveloped = Vec::new();
        for (index, function) in registry.iter().enumerate() {
            let Some(json) = json_of(function) else {
                continue;
            };
            let forwarded =
                function.trigger.is_kind("httpTrigger") && json.takes_forwarded_requests();
            if !forwarded {
                enveloped.push(function.name);
                continue;
            }
            if !function.routes.is_empty() {
                // Served by the app's own Rocket routes.
                continue;
            }
            let Some(trigger) = json.trigger() else {
                continue;
            };
            let at = format!("{}/function.json", function.name);
            let route = trigger.route.as_deref().unwrap_or(function.name);
            let route = if route.trim().is_empty() {
                function.name
            } else {
                route
            };
            let template = match RouteTemplate::parse(route_prefix, route) {
                Ok(template) => template,
                Err(error) => {
                    problems.push(format!(
                        "{at}: {error}; with {setting} the handler serves this function at that path itself"
                    ));
                    continue;
                }
            };
            let methods = match &trigger.methods {
                None => None,
                Some(methods) if methods.is_empty() => None,
                Some(methods) => {
                    let mut known = Vec::with_capacity(methods.len());
                    for method in methods {
                        match Method::from_str(method) {
                            Ok(method) => known.push(method),
                            Err(()) => problems.push(format!(
                                "{at}: the method {method:?} is not an HTTP method this handler serves"
                            )),
                        }
                    }
                    Some(known)
                }
            };
            routes.push(PublicRoute {
                function: index,
                template,
                methods,
            });
        }
        // The host POSTs envelopes to `/{FunctionName}`: no caller's path
        // may be taken for one, nor one for a caller's.
        if !envelopes {
            enveloped.clear();
        }
        for name in enveloped {
            let clash = routes.iter().find(|route| {
                route.allows(Method::Post) && route.template.matches([name]).is_some()
            });
            if let Some(route) = clash {
                let owner = registry.iter().nth(route.function).map_or("", |f| f.name);
                problems.push(format!(
                    "{owner}/function.json: its public path {} also matches POST /{name}, where the host sends {name}'s invocations: set a route prefix (\"extensions\": {{\"http\": {{\"routePrefix\": \"api\"}}}} in host.json) or another route",
                    route.template.as_str()
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        routes.sort_by_key(|route| route.template.precedence());
        Ok(PublicRoutes(routes.into()))
    }

    /// One catch-all Rocket route per method, which passes on what no
    /// function's public path matches; none when no function has one.
    pub fn rocket_routes(&self) -> Vec<Route> {
        if self.0.is_empty() {
            return Vec::new();
        }
        [
            Method::Get,
            Method::Put,
            Method::Post,
            Method::Delete,
            Method::Options,
            Method::Head,
            Method::Patch,
        ]
        .into_iter()
        .map(|method| Route::ranked(RANK, method, "/<path..>", self.clone()))
        .collect()
    }
}

#[rocket::async_trait]
impl Handler for PublicRoutes {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        let mut path_matched = false;
        let found = self.0.iter().find_map(|route| {
            let params = route.template.matches(req.uri().path().segments())?;
            path_matched = true;
            route.allows(req.method()).then_some((route, params))
        });
        let invocation_id = req.headers().get_one(INVOCATION_ID_HEADER);
        // A native worker's HTTP server: the invocation that runs the
        // function comes over gRPC, and takes the request there.
        #[cfg(feature = "native")]
        if let (Some(handover), Some((_, params))) = (
            req.rocket().state::<crate::worker::Handover>(),
            found.as_ref(),
        ) {
            let request = read_body(data, std::time::Duration::from_secs(30))
                .await
                .and_then(|body| caller_request(req, &body, params.clone()));
            let response = handover.hand_over(req, request).await;
            return route::Outcome::from(req, Forwarded(response));
        }
        let registry = req.rocket().state::<Registry>();
        let Some((function, params)) =
            found.and_then(|(route, params)| Some((registry?.iter().nth(route.function)?, params)))
        else {
            let status = match path_matched {
                true => Status::MethodNotAllowed,
                false => Status::NotFound,
            };
            return route::Outcome::forward(data, status);
        };
        let invocations = req.rocket().state::<Invocations>();
        let in_flight = invocations.map(Invocations::begin);
        let patience = invocations.map_or(std::time::Duration::from_secs(30), |i| i.body_timeout());
        let response = match read_body(data, patience).await {
            Ok(body) => match caller_request(req, &body, params) {
                Ok(request) => adapter::respond(function, request, invocation_id).await,
                Err(error) => adapter::refuse_request(function, invocation_id, error),
            },
            Err(error) => adapter::refuse_request(function, invocation_id, error),
        };
        if let Some(in_flight) = in_flight {
            in_flight.done();
        }
        route::Outcome::from(req, Forwarded(response))
    }
}

/// The caller's request as an HTTP function gets it, with the route
/// values of its public path.
fn caller_request(
    req: &Request<'_>,
    body: &[u8],
    params: Vec<(String, Option<String>)>,
) -> Result<HttpRequest, Error> {
    let mut call = direct_call(req, body);
    let host = req
        .host()
        .map_or_else(|| "localhost".to_owned(), |h| h.to_string());
    call.url = format!("http://{host}{}", call.url);
    let mut request = HttpRequest::from_direct(call)?;
    // A parameter left out without a default has no value.
    request.params = params
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect();
    Ok(request)
}

/// The caller's body, up to the most a function takes; a larger one is
/// read to its end (up to the envelope route's drain limit) so that the
/// 413 reaches the caller instead of a broken connection.
async fn read_body(data: Data<'_>, patience: std::time::Duration) -> Result<Vec<u8>, Error> {
    let mut stream = Patient::new(data.open(1.gibibytes()), patience);
    let mut bytes = Vec::new();
    let unreadable = |error: io::Error| {
        Error::BadRequest(format!("the request body could not be read: {error}"))
    };
    read_up_to(&mut stream, &mut bytes, MAX_BODY_BYTES + 1)
        .await
        .map_err(unreadable)?;
    if bytes.len() > MAX_BODY_BYTES {
        drop(bytes);
        io::copy(&mut stream, &mut io::sink())
            .await
            .map_err(unreadable)?;
        return Err(Error::PayloadTooLarge(format!(
            "the request body is larger than {MAX_BODY_BYTES} bytes, the most this function takes"
        )));
    }
    Ok(bytes)
}

/// A function's response as the caller's HTTP response: its status,
/// headers and body; `text/plain; charset=utf-8` when it names no content
/// type, as the host's envelope mode gives callers.
struct Forwarded(HttpResponse);

impl<'r> Responder<'r, 'static> for Forwarded {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let HttpResponse {
            status,
            headers,
            body,
        } = self.0;
        let mut response = Response::build();
        if (200..=999).contains(&status) {
            response.status(Status::new(status));
        } else {
            complain(format_args!(
                "the function's status {status} is not one a caller can get: answered 500"
            ));
            response.status(Status::InternalServerError);
        }
        let mut typed = false;
        for (name, value) in headers {
            // The server frames the body itself.
            let framing = ["content-length", "transfer-encoding", "connection"]
                .iter()
                .any(|hop| name.eq_ignore_ascii_case(hop));
            if framing {
                continue;
            }
            if !is_token(&name) || !is_header_value(&value) {
                complain(format_args!(
                    "left out the response header {}: not a valid HTTP header",
                    crate::text::quote(&name)
                ));
                continue;
            }
            typed |= name.eq_ignore_ascii_case("content-type");
            response.raw_header_adjoin(name, value);
        }
        if !typed {
            response.raw_header("Content-Type", "text/plain; charset=utf-8");
        }
        response
            .sized_body(body.len(), std::io::Cursor::new(body))
            .ok()
    }
}

fn complain(message: std::fmt::Arguments<'_>) {
    eprintln!("{}: warn: {message}", env!("CARGO_PKG_NAME"));
}

/// An HTTP token (RFC 9110), as a header name must be.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Visible characters, spaces and tabs only: no line breaks to split it.
fn is_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_and_values_that_could_split_a_response_are_refused() {
        assert!(is_token("X-Request-Id"));
        assert!(!is_token("Bad Name") && !is_token("") && !is_token("a:b"));
        assert!(is_header_value("text/plain; charset=utf-8\tok"));
        assert!(!is_header_value("a\r\nSet-Cookie: x") && !is_header_value("\u{0}"));
    }
}
