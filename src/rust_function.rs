//! The function RustFunction: the area of a circle from a radius.
//!
//! The radius comes from the caller's JSON body (`{"radius": 2.5}`) when
//! there is one, otherwise from the query (`?radius=2.5`). The caller gets
//! `{"radius": 2.5, "area": 19.634954084936208}`, or a 4xx status with
//! `{"error": "..."}`; either way the handler itself answers the host with a
//! 200 envelope so that the host keeps the logs and passes the status on.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::circle::Circle;
use crate::invocation::{HttpInput, InputError};
use crate::protocol::{HttpResponse, InvocationResponse, LogLevel};
use crate::text::{excerpt, quote, quote_id, quote_message};

/// The function's name, as the blog post and direct callers use it.
pub const NAME: &str = "RustFunction";

/// The largest caller body the function reads. Beyond it: 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// One invocation, as the route hands it over.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// The request body: the host's envelope or a direct caller's JSON.
    pub body: &'a [u8],
    /// Decoded query pairs of the request URL (direct calls only).
    pub url_query: &'a [(&'a str, &'a str)],
    /// `X-Azure-Functions-InvocationId`, when the host sent it.
    pub invocation_id: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct Area {
    radius: f64,
    area: f64,
}

#[derive(Debug, Deserialize)]
struct AreaRequest<'a> {
    #[serde(borrow)]
    radius: Option<&'a RawValue>,
}

/// A caller error: the status inside the envelope and what to tell them.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub status: u16,
    pub message: String,
}

impl From<InputError> for Rejection {
    fn from(error: InputError) -> Self {
        Rejection {
            status: error.status(),
            message: error.to_string(),
        }
    }
}

fn bad_request(message: impl Into<String>) -> Rejection {
    Rejection {
        status: 400,
        message: message.into(),
    }
}

/// Runs the function and builds the envelope for the host, logs included.
pub fn invoke(invocation: Invocation<'_>) -> InvocationResponse<HttpResponse> {
    let mut radius_seen = None;
    let outcome = circle_for(invocation, &mut radius_seen);
    let id = quote_id(invocation.invocation_id);
    let radius = radius_seen.as_deref().unwrap_or("-");
    let (response, log) = match outcome {
        Ok(circle) => {
            let body = Area {
                radius: circle.radius(),
                area: circle.area(),
            };
            let log = LogLevel::Info.line(format_args!(
                "{NAME} invocation={id} radius={radius} area={} status=200",
                body.area
            ));
            (HttpResponse::json(200, &body), log)
        }
        Err(rejection) => {
            let log = LogLevel::Warn.line(format_args!(
                "{NAME} invocation={id} radius={radius} status={} error={}",
                rejection.status,
                quote_message(&rejection.message)
            ));
            (
                HttpResponse::error(rejection.status, &rejection.message),
                log,
            )
        }
    };
    InvocationResponse::returning(response, vec![log])
}

/// Finds the radius and checks it, noting in `radius_seen` what the caller
/// gave (quoted, cut short) for the log line.
fn circle_for(
    invocation: Invocation<'_>,
    radius_seen: &mut Option<String>,
) -> Result<Circle, Rejection> {
    let input = HttpInput::read(invocation.body, invocation.url_query, MAX_BODY_BYTES)?;
    let radius = match input.body.as_deref() {
        Some(body) => {
            let raw = radius_in_body(body)?;
            *radius_seen = Some(excerpt(raw.get(), 32).escape_debug().to_string());
            radius_from_json(raw)?
        }
        None => {
            let text = input.query("radius").ok_or_else(missing_radius)?;
            *radius_seen = Some(quote(&text));
            radius_from_query(&text)?
        }
    };
    Circle::new(radius).map_err(|error| bad_request(error.to_string()))
}

fn missing_radius() -> Rejection {
    bad_request(r#"missing radius: send {"radius": 2.5} as the JSON body, or ?radius=2.5"#)
}

fn radius_in_body(body: &str) -> Result<&RawValue, Rejection> {
    if !body.trim_start().starts_with('{') {
        // Also catches JSON that is valid but not an object: `[1]`, `2.5`.
        return Err(match serde_json::from_str::<&RawValue>(body) {
            Ok(_) => InputError::NotAnObject.into(),
            Err(error) => InputError::MalformedJson(excerpt(&error.to_string(), 160)).into(),
        });
    }
    let request: AreaRequest =
        serde_json::from_str(body).map_err(|error| match error.classify() {
            serde_json::error::Category::Data => bad_request(format!(
                "invalid request body: {}",
                excerpt(&error.to_string(), 160)
            )),
            _ => InputError::MalformedJson(excerpt(&error.to_string(), 160)).into(),
        })?;
    request.radius.ok_or_else(missing_radius)
}

fn radius_from_json(raw: &RawValue) -> Result<f64, Rejection> {
    let text = raw.get();
    let kind = match text.as_bytes().first() {
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'[') => "an array",
        Some(b'{') => "an object",
        // serde_json has checked the JSON number grammar, a subset of
        // Rust's; out-of-range numbers parse to infinity and are caught by
        // the domain instead of failing as a JSON error.
        _ => {
            return text.parse().map_err(|_| {
                bad_request(format!(
                    "radius must be a number, got {}",
                    excerpt(text, 32)
                ))
            });
        }
    };
    Err(bad_request(format!("radius must be a number, not {kind}")))
}

fn radius_from_query(text: &str) -> Result<f64, Rejection> {
    if text.contains(',') {
        return Err(bad_request(format!(
            "radius was given more than once ({}); give it once",
            quote(text)
        )));
    }
    text.parse()
        .map_err(|_| bad_request(format!("radius must be a number, got {}", quote(text))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn call(body: &[u8], url_query: &[(&str, &str)]) -> (u16, Value, Vec<String>) {
        let response = invoke(Invocation {
            body,
            url_query,
            invocation_id: Some("id-1"),
        });
        let ret = response.return_value;
        assert_eq!(ret.headers["Content-Type"], "application/json");
        let body: Value = serde_json::from_str(&ret.body).unwrap();
        (ret.status_code, body, response.logs)
    }

    fn envelope(req: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({"Data": {"req": req}, "Metadata": {}})).unwrap()
    }

    fn error_of(body: &[u8], url_query: &[(&str, &str)]) -> (u16, String) {
        let (status, body, _) = call(body, url_query);
        (status, body["error"].as_str().unwrap().to_owned())
    }

    #[test]
    fn area_from_a_direct_json_body() {
        let (status, body, logs) = call(br#"{"radius": 2.5}"#, &[]);
        assert_eq!(status, 200);
        assert_eq!(body, json!({"radius": 2.5, "area": 19.634954084936208}));
        assert_eq!(logs.len(), 1);
        assert!(logs[0].starts_with("[INFO] RustFunction"), "{logs:?}");
        assert!(
            logs[0].contains("\"id-1\"") && logs[0].contains("radius=2.5"),
            "{logs:?}"
        );
    }

    #[test]
    fn area_from_a_direct_query() {
        let (status, body, _) = call(b"", &[("radius", "2")]);
        assert_eq!(
            (status, body),
            (200, json!({"radius": 2.0, "area": 12.566370614359172}))
        );
    }

    #[test]
    fn area_from_the_hosts_body_string() {
        let (status, body, _) = call(&envelope(json!({"Body": "{\"radius\": 2.5}"})), &[]);
        assert_eq!(
            (status, body["area"].as_f64()),
            (200, Some(19.634954084936208))
        );
    }

    #[test]
    fn area_from_the_hosts_query_when_there_is_no_body() {
        let req = json!({"Method": "GET", "Query": {"radius": "1"}, "Headers": {}});
        let (status, body, _) = call(&envelope(req), &[]);
        assert_eq!(
            (status, body["area"].as_f64()),
            (200, Some(std::f64::consts::PI))
        );
    }

    #[test]
    fn the_body_wins_over_the_query() {
        let req = json!({"Query": {"radius": "1"}, "Body": "{\"radius\": 2}"});
        let (_, body, _) = call(&envelope(req), &[]);
        assert_eq!(body["radius"], 2.0);
        let (status, error) = error_of(
            &envelope(json!({"Query": {"radius": "1"}, "Body": "{}"})),
            &[],
        );
        assert_eq!(status, 400);
        assert!(error.starts_with("missing radius"), "{error}");
    }

    #[test]
    fn exponents_and_negative_zero_are_numbers() {
        let (_, body, _) = call(br#"{"radius": 2.5e0}"#, &[]);
        assert_eq!(body["radius"], 2.5);
        let (_, body, _) = call(br#"{"radius": -0}"#, &[]);
        assert_eq!(body, json!({"radius": 0.0, "area": 0.0}));
        assert_eq!(body["radius"].to_string(), "0.0");
    }

    #[test]
    fn rejects_each_bad_radius_with_a_message() {
        type Case<'a> = (&'a [u8], &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case] = &[
            (b"", &[], "missing radius"),
            (b"{}", &[], "missing radius"),
            (br#"{"radius": null}"#, &[], "missing radius"),
            (
                br#"{"radius": "2"}"#,
                &[],
                "radius must be a number, not a string",
            ),
            (br#"{"radius": true}"#, &[], "not a boolean"),
            (br#"{"radius": [2]}"#, &[], "not an array"),
            (br#"{"radius": {"v": 2}}"#, &[], "not an object"),
            (br#"{"radius": -1}"#, &[], "must not be negative"),
            (br#"{"radius": 1e400}"#, &[], "finite"),
            (br#"{"radius": 1e200}"#, &[], "overflows"),
            (
                br#"{"radius": 1, "radius": 2}"#,
                &[],
                "duplicate field `radius`",
            ),
            (br#"{"radius": 2"#, &[], "not valid JSON"),
            (b"radius=2", &[], "not valid JSON"),
            (b"[1]", &[], "must be a JSON object"),
            (b"2.5", &[], "must be a JSON object"),
            (b"", &[("radius", "abc")], r#"must be a number, got "abc""#),
            (b"", &[("radius", "")], "must be a number"),
            (b"", &[("radius", "NaN")], "finite"),
            (b"", &[("radius", "inf")], "finite"),
            (b"", &[("radius", "-2")], "must not be negative"),
            (b"", &[("radius", "1"), ("radius", "2")], "more than once"),
        ];
        for (body, query, expected) in cases {
            let (status, error) = error_of(body, query);
            assert_eq!(status, 400, "{error}");
            assert!(
                error.contains(expected),
                "{:?}: {error}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn the_hosts_comma_joined_repeats_are_rejected() {
        let (status, error) = error_of(&envelope(json!({"Query": {"radius": "1,2"}})), &[]);
        assert_eq!(status, 400);
        assert!(error.contains("more than once"), "{error}");
    }

    #[test]
    fn errors_log_a_warning_with_the_outcome() {
        let (_, _, logs) = call(br#"{"radius": -1}"#, &[]);
        assert!(
            logs[0].starts_with("[WARN] RustFunction invocation=\"id-1\" radius=-1 status=400"),
            "{logs:?}"
        );
    }

    #[test]
    fn errors_quote_only_a_short_prefix_of_the_input() {
        let long = "9".repeat(5000);
        let (_, error) = error_of(b"", &[("radius", &format!("x{long}"))]);
        assert!(error.len() < 120, "{error}");
        let (_, body, logs) = call(format!(r#"{{"radius": "{long}"}}"#).as_bytes(), &[]);
        assert!(body["error"].as_str().unwrap().len() < 120);
        assert!(logs[0].len() < 300, "{logs:?}");
    }

    #[test]
    fn a_caller_body_over_the_limit_is_413() {
        let body = format!(r#"{{"radius": 1{}}}"#, " ".repeat(MAX_BODY_BYTES));
        let (status, error) = error_of(body.as_bytes(), &[]);
        assert_eq!(status, 413);
        assert!(error.contains("at most 1048576"), "{error}");
    }
}
