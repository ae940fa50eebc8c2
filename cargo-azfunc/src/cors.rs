//! Cross-origin requests, as Core Tools answers them with `--cors` or
//! local.settings.json's `Host.CORS`: ASP.NET Core's CORS middleware with
//! the listed origins, any method and any header. Without either, the host
//! has no CORS at all (a browser's preflight `OPTIONS` gets 404). The
//! middleware's rules followed here are in docs/core-tools.md.

use hyper::HeaderMap;
use hyper::header::{self, HeaderValue};

/// Which origins may call, and whether with credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cors {
    /// `None`: any origin (`*` in the list).
    origins: Option<Vec<String>>,
    credentials: bool,
}

impl Cors {
    /// From a comma-separated list (`--cors` or `Host.CORS`); `None` when
    /// it names no origin. An origin must be `scheme://host[:port]`, or
    /// `*`; `*` with credentials is refused, as ASP.NET Core refuses it.
    pub fn parse(list: &str, credentials: bool) -> Result<Option<Cors>, String> {
        let mut origins = Vec::new();
        let mut any = false;
        for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            if origin == "*" {
                any = true;
            } else {
                origins.push(normalized(origin)?);
            }
        }
        if !any && origins.is_empty() {
            return Ok(None);
        }
        if any && credentials {
            return Err("CORS origin \"*\" cannot go with credentials (browsers refuse it): list the origins instead".into());
        }
        Ok(Some(Cors {
            origins: (!any).then_some(origins),
            credentials,
        }))
    }

    /// The answer to a preflight request (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`): 204, with the CORS headers when
    /// the origin is allowed and none when it is not. `None` for any other
    /// request.
    pub fn preflight(&self, method: &str, request: &HeaderMap) -> Option<HeaderMap> {
        if method != "OPTIONS" {
            return None;
        }
        let origin = request.get(header::ORIGIN)?;
        let requested = request.get(header::ACCESS_CONTROL_REQUEST_METHOD)?;
        let mut answer = HeaderMap::new();
        if self.allow(origin, &mut answer) {
            // Any method and any header: the requested ones are echoed.
            answer.insert(header::ACCESS_CONTROL_ALLOW_METHODS, requested.clone());
            if let Some(headers) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
                answer.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, headers.clone());
            }
        }
        Some(answer)
    }

    /// Adds the CORS headers to the response of an actual request whose
    /// `Origin` header was `origin`, when that origin is allowed.
    pub fn decorate(&self, origin: Option<&HeaderValue>, response: &mut HeaderMap) {
        if let Some(origin) = origin {
            self.allow(origin, response);
        }
    }

    /// Writes `Access-Control-Allow-Origin` (and `-Credentials`, `Vary`)
    /// into `headers` when `origin` may call; whether it may.
    fn allow(&self, origin: &HeaderValue, headers: &mut HeaderMap) -> bool {
        let allowed = match &self.origins {
            None => HeaderValue::from_static("*"),
            Some(list) => {
                let Ok(text) = origin.to_str() else {
                    return false;
                };
                let Ok(given) = normalized(text) else {
                    return false;
                };
                if !list.contains(&given) {
                    return false;
                }
                if list.len() > 1 {
                    headers.append(header::VARY, HeaderValue::from_static("Origin"));
                }
                origin.clone()
            }
        };
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
        if self.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        true
    }
}

/// `origin` compared as browsers send it: scheme and host lower-cased, no
/// trailing slash, no path.
fn normalized(origin: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "CORS origin {origin:?} is not scheme://host[:port] (for example http://localhost:3000) or *"
        )
    };
    let origin = origin.strip_suffix('/').unwrap_or(origin);
    let (scheme, rest) = origin.split_once("://").ok_or_else(bad)?;
    let valid_scheme = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let valid_rest = !rest.is_empty()
        && !rest.contains(['/', '?', '#', ' ', ','])
        && rest.chars().all(|c| c.is_ascii_graphic());
    if !valid_scheme || !valid_rest {
        return Err(bad());
    }
    Ok(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        rest.to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        map
    }

    fn get<'a>(map: &'a HeaderMap, name: &str) -> Option<&'a str> {
        map.get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn lists_parse_or_say_why() {
        assert_eq!(Cors::parse("", false), Ok(None));
        assert_eq!(Cors::parse(" , ", false), Ok(None));
        let cors = Cors::parse("HTTP://LocalHost:3000/, https://a.example", true)
            .expect("parses")
            .expect("some");
        assert_eq!(
            cors.origins.as_deref(),
            Some(
                &[
                    "http://localhost:3000".to_owned(),
                    "https://a.example".to_owned()
                ][..]
            )
        );
        for bad in [
            "localhost:3000",
            "http://a/b",
            "://a",
            "http://",
            "http://a b",
        ] {
            let error = Cors::parse(bad, false).expect_err(bad);
            assert!(error.contains("is not scheme://host"), "{bad}: {error}");
        }
        let error = Cors::parse("*", true).expect_err("star with credentials");
        assert!(error.contains("cannot go with credentials"), "{error}");
    }

    #[test]
    fn a_preflight_echoes_what_was_asked_for_an_allowed_origin() {
        let cors = Cors::parse("http://localhost:3000,https://b.example", true)
            .expect("parses")
            .expect("some");
        let request = headers(&[
            ("Origin", "http://localhost:3000"),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "content-type,x-trace"),
        ]);
        let answer = cors.preflight("OPTIONS", &request).expect("a preflight");
        assert_eq!(
            get(&answer, "access-control-allow-origin"),
            Some("http://localhost:3000")
        );
        assert_eq!(get(&answer, "access-control-allow-methods"), Some("PUT"));
        assert_eq!(
            get(&answer, "access-control-allow-headers"),
            Some("content-type,x-trace")
        );
        assert_eq!(
            get(&answer, "access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(get(&answer, "vary"), Some("Origin"));

        let other = headers(&[
            ("Origin", "http://evil.example"),
            ("Access-Control-Request-Method", "PUT"),
        ]);
        let answer = cors
            .preflight("OPTIONS", &other)
            .expect("still a preflight");
        assert!(answer.is_empty(), "{answer:?}");

        let plain_options = headers(&[("Origin", "http://localhost:3000")]);
        assert!(cors.preflight("OPTIONS", &plain_options).is_none());
        assert!(cors.preflight("GET", &request).is_none());
    }

    #[test]
    fn actual_requests_get_the_origin_back_when_allowed() {
        let any = Cors::parse("*", false).expect("parses").expect("some");
        let mut response = HeaderMap::new();
        any.decorate(
            Some(&HeaderValue::from_static("http://x.example")),
            &mut response,
        );
        assert_eq!(get(&response, "access-control-allow-origin"), Some("*"));
        assert!(get(&response, "access-control-allow-credentials").is_none());

        let one = Cors::parse("http://x.example", false)
            .expect("parses")
            .expect("some");
        let mut response = HeaderMap::new();
        one.decorate(
            Some(&HeaderValue::from_static("HTTP://X.example")),
            &mut response,
        );
        assert_eq!(
            get(&response, "access-control-allow-origin"),
            Some("HTTP://X.example")
        );
        assert!(get(&response, "vary").is_none());
        let mut response = HeaderMap::new();
        one.decorate(
            Some(&HeaderValue::from_static("http://y.example")),
            &mut response,
        );
        assert!(response.is_empty());
        one.decorate(None, &mut response);
        assert!(response.is_empty());
    }
}
