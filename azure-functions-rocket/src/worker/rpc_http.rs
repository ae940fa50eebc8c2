//! HTTP in the host's messages (`RpcHttp`, docs/native-worker.md, "HTTP"):
//! the caller's request in, the function's response out.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};
use worker_proto::rpc_http_cookie::SameSite;
use worker_proto::{
    NullableBool, NullableDouble, NullableString, NullableTimestamp, RpcHttp, RpcHttpCookie,
    TypedData, nullable_bool, nullable_double, nullable_string, nullable_timestamp,
    typed_data::Data,
};

use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse, check_size};

/// The caller's request as a function gets it. Headers come lower-cased
/// from the host, one value each; the body is bytes (the worker asks for
/// `RawHttpBodyBytes`) or, from hosts that ignore that, text.
pub(crate) fn request(http: &RpcHttp) -> Result<HttpRequest, Error> {
    let body = match http.body.as_deref().and_then(|body| body.data.as_ref()) {
        None => Vec::new(),
        Some(Data::Bytes(bytes) | Data::Stream(bytes)) => bytes.clone(),
        Some(Data::String(text) | Data::Json(text)) => text.clone().into_bytes(),
        Some(_) => {
            return Err(Error::BadRequest(
                "invalid invocation: the HTTP body is neither bytes nor text".to_owned(),
            ));
        }
    };
    if !body.trim_ascii().is_empty() {
        check_size(body.len())?;
    }
    Ok(HttpRequest {
        method: http.method.clone(),
        url: http.url.clone(),
        query: pairs(&http.query, &http.nullable_query),
        headers: pairs(&http.headers, &http.nullable_headers),
        params: pairs(&http.params, &http.nullable_params),
        body: if body.trim_ascii().is_empty() {
            Vec::new()
        } else {
            body
        },
    })
}

/// A map's pairs, sorted by name so that a request always reads the same;
/// the nullable form (`UseNullableValueDictionaryForHttp`, which this
/// worker does not ask for) is read too, should a host send it.
fn pairs(
    plain: &HashMap<String, String>,
    nullable: &HashMap<String, NullableString>,
) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = plain
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .chain(nullable.iter().filter_map(|(name, value)| {
            let nullable_string::String::Value(value) = value.string.as_ref()?;
            Some((name.clone(), value.clone()))
        }))
        .collect();
    pairs.sort();
    pairs
}

/// The request as the custom-handler host writes it in `Data.<binding>`,
/// for the functions that read it from an envelope (those with a
/// `durableClient` input).
pub(crate) fn envelope_value(request: &HttpRequest) -> Result<Value, Error> {
    let object = |pairs: &[(String, String)]| {
        Value::Object(
            pairs
                .iter()
                .map(|(name, value)| (name.clone(), Value::String(value.clone())))
                .collect::<Map<String, Value>>(),
        )
    };
    let headers: Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), Value::from(vec![value.clone()])))
        .collect();
    let base64_type = request.header("content-type").is_some_and(|value| {
        let media = value.split(';').next().unwrap_or_default().trim();
        media.eq_ignore_ascii_case("application/octet-stream")
            || media.to_ascii_lowercase().starts_with("multipart/")
    });
    let body = if base64_type {
        Value::String(BASE64.encode(&request.body))
    } else {
        match std::str::from_utf8(&request.body) {
            Ok(text) => Value::String(text.to_owned()),
            Err(error) => {
                return Err(Error::BadRequest(format!(
                    "the request body is not valid UTF-8 (from byte {}); send binary bodies as application/octet-stream",
                    error.valid_up_to()
                )));
            }
        }
    };
    Ok(serde_json::json!({
        "Method": request.method,
        "Url": request.url,
        "Query": object(&request.query),
        "Headers": headers,
        "Params": object(&request.params),
        "Body": body,
    }))
}

/// The function's response as the host sends it to the caller: status,
/// headers (a repeated name's values joined with commas), the body as
/// bytes, and each `Set-Cookie` as a cookie, since the header map holds
/// one value per name.
pub(crate) fn response(response: &HttpResponse) -> RpcHttp {
    let mut headers: HashMap<String, String> = HashMap::new();
    let mut cookies = Vec::new();
    for (name, value) in &response.headers {
        if name.eq_ignore_ascii_case("set-cookie") {
            // One the host could not set is passed on as a header.
            if let Some(parsed) = cookie(value) {
                cookies.push(parsed);
                continue;
            }
        }
        // Names are case-insensitive: the host's header dictionary too.
        match headers
            .iter_mut()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
        {
            Some((_, joined)) => {
                joined.push_str(", ");
                joined.push_str(value);
            }
            None => {
                headers.insert(name.to_string(), value.to_string());
            }
        }
    }
    RpcHttp {
        status_code: response.status.to_string(),
        headers,
        cookies,
        body: Some(Box::new(TypedData {
            data: Some(Data::Bytes(response.body.clone().into_bytes())),
        })),
        ..RpcHttp::default()
    }
}

/// A `Set-Cookie` value as the host's cookie; `None` when it is not one
/// (no `name=`, or an attribute that cannot be read as the host's).
fn cookie(header: &str) -> Option<RpcHttpCookie> {
    let mut parts = header.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let text = |value: &str| {
        Some(NullableString {
            string: Some(nullable_string::String::Value(value.to_owned())),
        })
    };
    let flag = || {
        Some(NullableBool {
            r#bool: Some(nullable_bool::Bool::Value(true)),
        })
    };
    let mut cookie = RpcHttpCookie {
        name: name.to_owned(),
        value: value.trim().to_owned(),
        ..RpcHttpCookie::default()
    };
    for attribute in parts {
        let (key, value) = match attribute.split_once('=') {
            Some((key, value)) => (key.trim(), value.trim()),
            None => (attribute.trim(), ""),
        };
        match key.to_ascii_lowercase().as_str() {
            "" => {}
            "domain" => cookie.domain = text(value),
            "path" => cookie.path = text(value),
            "secure" => cookie.secure = flag(),
            "httponly" => cookie.http_only = flag(),
            "samesite" => {
                cookie.same_site = match value.to_ascii_lowercase().as_str() {
                    "lax" => SameSite::Lax,
                    "strict" => SameSite::Strict,
                    "none" => SameSite::ExplicitNone,
                    _ => return None,
                } as i32;
            }
            "max-age" => {
                let seconds: f64 = value.parse().ok()?;
                cookie.max_age = Some(NullableDouble {
                    double: Some(nullable_double::Double::Value(seconds)),
                });
            }
            "expires" => {
                cookie.expires = Some(NullableTimestamp {
                    timestamp: Some(nullable_timestamp::Timestamp::Value(
                        worker_proto::Timestamp {
                            seconds: http_date(value)?,
                            nanos: 0,
                        },
                    )),
                });
            }
            _ => return None,
        }
    }
    Some(cookie)
}

/// Seconds since 1970 of an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`,
/// RFC 9110's preferred form, the one `Set-Cookie` uses).
fn http_date(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let fields: Vec<&str> = text.split_ascii_whitespace().collect();
    let [_weekday, day, month, year, clock, "GMT"] = fields.as_slice() else {
        return None;
    };
    let day: i64 = day.parse().ok()?;
    let month = MONTHS
        .iter()
        .position(|name| name.eq_ignore_ascii_case(month))? as i64
        + 1;
    let year: i64 = year.parse().ok()?;
    let mut clock = clock.split(':').map(|part| part.parse::<i64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if clock.next().is_some()
        || !(1..=31).contains(&day)
        || !(0..=23).contains(&hour)
        || !(0..=59).contains(&minute)
        || !(0..=60).contains(&second)
    {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}
