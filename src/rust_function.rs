//! RustFunction: the area of a circle from a radius.
//!
//! The radius comes from the caller's JSON body (`{"radius": 2.5}`) when
//! there is one, otherwise from the query (`?radius=2.5`). The caller gets
//! `{"radius": 2.5, "area": 19.634954084936208}`, or 400 with
//! `{"error": "..."}` saying what was wrong.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use azure_functions_rocket::text::{excerpt, quote};
use azure_functions_rocket::{Error, HttpRequest, HttpResponse, log};

use crate::circle::Circle;

#[derive(Debug, Deserialize)]
struct AreaRequest<'a> {
    #[serde(borrow)]
    radius: Option<&'a RawValue>,
}

#[derive(Debug, Serialize)]
struct Area {
    radius: f64,
    area: f64,
}

pub async fn area(req: HttpRequest) -> Result<HttpResponse, Error> {
    // serde reads a struct from an array too (`[2]`): only an object is
    // the documented body.
    if req.has_body() && !req.text()?.trim_start().starts_with('{') {
        req.json::<serde::de::IgnoredAny>()?;
        return Err(Error::BadRequest(
            "the request body must be a JSON object".to_owned(),
        ));
    }
    let radius = match req.json::<AreaRequest>()? {
        Some(body) => radius_from_json(body.radius.ok_or_else(missing_radius)?)?,
        None => radius_from_query(req.query("radius").ok_or_else(missing_radius)?)?,
    };
    let circle = Circle::new(radius).map_err(Error::bad_request)?;
    log::field("area", circle.area());
    HttpResponse::json(&Area {
        radius: circle.radius(),
        area: circle.area(),
    })
}

fn missing_radius() -> Error {
    Error::BadRequest(
        r#"missing radius: send {"radius": 2.5} as the JSON body, or ?radius=2.5"#.to_owned(),
    )
}

fn radius_from_json(raw: &RawValue) -> Result<f64, Error> {
    let text = raw.get();
    log::field("radius", text);
    let kind = match text.as_bytes().first() {
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'[') => "an array",
        Some(b'{') => "an object",
        Some(b'n') => return Err(missing_radius()),
        // serde_json has checked the JSON number grammar, a subset of
        // Rust's; out-of-range numbers parse to infinity and are caught by
        // the domain instead of failing as a JSON error.
        _ => {
            let radius = text.parse().map_err(|_| {
                Error::BadRequest(format!(
                    "radius must be a number, got {}",
                    excerpt(text, 32)
                ))
            })?;
            log::field("radius", radius);
            return Ok(radius);
        }
    };
    Err(Error::BadRequest(format!(
        "radius must be a number, not {kind}"
    )))
}

fn radius_from_query(text: &str) -> Result<f64, Error> {
    log::field("radius", text);
    if text.contains(',') {
        return Err(Error::BadRequest(format!(
            "radius was given more than once ({}); give it once",
            quote(text)
        )));
    }
    let radius = text
        .parse()
        .map_err(|_| Error::BadRequest(format!("radius must be a number, got {}", quote(text))))?;
    log::field("radius", radius);
    Ok(radius)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// The function called as the layer calls it, on a direct request.
    fn call(body: &str, query: &[(&str, &str)]) -> Result<Value, Error> {
        let req = HttpRequest {
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
            ..HttpRequest::default()
        };
        let response =
            azure_functions_rocket::rocket::tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a runtime")
                .block_on(area(req))?;
        assert_eq!(response.header("Content-Type"), Some("application/json"));
        Ok(serde_json::from_str(&response.body).expect("JSON"))
    }

    #[test]
    fn area_from_a_json_body_or_from_the_query() {
        let cases = [
            (r#"{"radius": 2.5}"#, &[][..], 2.5, 19.634954084936208),
            ("", &[("radius", "2")][..], 2.0, 12.566370614359172),
            (" \r\n", &[("radius", "1")][..], 1.0, std::f64::consts::PI),
            (
                r#"{"radius": 2}"#,
                &[("radius", "1")][..],
                2.0,
                12.566370614359172,
            ),
            (r#"{"radius": 2.5e0}"#, &[][..], 2.5, 19.634954084936208),
            (r#"{"radius": -0}"#, &[][..], 0.0, 0.0),
        ];
        for (body, query, radius, area) in cases {
            let value = call(body, query).unwrap();
            assert_eq!(value, json!({"radius": radius, "area": area}), "{body}");
        }
        assert_eq!(
            call(r#"{"radius": -0}"#, &[]).unwrap()["radius"].to_string(),
            "0.0"
        );
    }

    #[test]
    fn each_bad_radius_gets_400_with_a_message() {
        struct Case<'a> {
            body: &'a str,
            query: &'a [(&'a str, &'a str)],
            message: &'a str,
        }
        let case = |body, query, message| Case {
            body,
            query,
            message,
        };
        let cases = [
            case("", &[], "missing radius"),
            case("{}", &[], "missing radius"),
            case(r#"{"radius": null}"#, &[], "missing radius"),
            case(
                r#"{"radius": "2"}"#,
                &[],
                "radius must be a number, not a string",
            ),
            case(r#"{"radius": true}"#, &[], "not a boolean"),
            case(r#"{"radius": [2]}"#, &[], "not an array"),
            case(r#"{"radius": {"v": 2}}"#, &[], "not an object"),
            case(
                r#"{"radius": -1}"#,
                &[],
                "radius must not be negative, got -1",
            ),
            case(r#"{"radius": 1e400}"#, &[], "finite"),
            case(r#"{"radius": 1e200}"#, &[], "radius 1e200 is too large"),
            case(
                r#"{"radius": 1, "radius": 2}"#,
                &[],
                "duplicate field `radius`",
            ),
            case(r#"{"radius": 2"#, &[], "the request body is not valid JSON"),
            case("radius=2", &[], "the request body is not valid JSON"),
            case("[1]", &[], "the request body must be a JSON object"),
            case("2.5", &[], "the request body must be a JSON object"),
            case(
                "",
                &[("radius", "abc")],
                r#"radius must be a number, got "abc""#,
            ),
            case("", &[("radius", "")], "must be a number"),
            case("", &[("radius", "NaN")], "finite"),
            case("", &[("radius", "-2")], "must not be negative"),
            case("", &[("radius", "1,2")], "more than once"),
        ];
        for Case {
            body,
            query,
            message,
        } in cases
        {
            let error = call(body, query).unwrap_err();
            assert_eq!(error.status(), 400, "{body:?}: {error}");
            assert!(error.message().contains(message), "{body:?}: {error}");
        }
    }

    #[test]
    fn errors_quote_only_a_short_prefix_of_the_input() {
        let long = "9".repeat(5000);
        let error = call("", &[("radius", &format!("x{long}"))]).unwrap_err();
        assert!(error.message().len() < 120, "{error}");
        let error = call(&format!(r#"{{"radius": "{long}"}}"#), &[]).unwrap_err();
        assert!(error.message().len() < 120, "{error}");
    }
}
