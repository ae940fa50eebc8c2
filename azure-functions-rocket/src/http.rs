//! HTTP as a function sees it: [`HttpRequest`] in, [`HttpResponse`] out.
//!
//! The layer builds the request from the host's `Data.req` (or from a
//! direct call) and turns the response into the `$return` value the host
//! reads; a function never sees either envelope.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::envelope::{Pairs, Scalar, invalid, refuse_long_string};
use crate::error::Error;

/// The largest caller body a function is handed. Beyond it: 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The caller's request, however it reached the handler (through the
/// host, or a direct call to the handler), as an HTTP function gets it.
///
/// ```
/// use azure_functions_rocket::HttpRequest;
///
/// let req = HttpRequest {
///     query: vec![("radius".into(), "2".into())],
///     headers: vec![("Content-Type".into(), "application/json".into())],
///     body: br#"{"radius": 3}"#.to_vec(),
///     ..HttpRequest::default()
/// };
/// assert_eq!(req.query("radius"), Some("2"));
/// assert_eq!(req.header("content-type"), Some("application/json"));
/// #[derive(serde::Deserialize)]
/// struct Body { radius: f64 }
/// assert_eq!(req.json::<Body>().unwrap().map(|b| b.radius), Some(3.0));
/// assert_eq!(HttpRequest::default().json::<Body>().unwrap().map(|b| b.radius), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, ... as the caller sent it.
    pub method: String,
    /// The caller's URL, `/api/...` and the raw query included.
    pub url: String,
    /// Query values by name; the host joins a repeated name's values with
    /// commas, and so does a direct call.
    pub query: Vec<(String, String)>,
    /// One pair per header value.
    pub headers: Vec<(String, String)>,
    /// Route values of the function's `route` template; unmatched optional
    /// parameters are left out.
    pub params: Vec<(String, String)>,
    /// The body as the caller sent it: the host's base64 for binary and
    /// multipart bodies is already decoded.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A query value, repeats comma-joined. Should the host ever send a
    /// name twice, the last one counts, as in most JSON readers.
    pub fn query(&self, name: &str) -> Option<&str> {
        find(self.query.iter().rev(), name, str::eq)
    }

    /// The first value of a header, its name matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name, str::eq_ignore_ascii_case)
    }

    /// A route value.
    pub fn param(&self, name: &str) -> Option<&str> {
        find(self.params.iter().rev(), name, str::eq)
    }

    /// Whether the body holds anything but white space.
    pub fn has_body(&self) -> bool {
        !self.body.trim_ascii().is_empty()
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, Error> {
        std::str::from_utf8(&self.body).map_err(|error| {
            Error::BadRequest(format!(
                "the request body is not valid UTF-8 (from byte {})",
                error.valid_up_to()
            ))
        })
    }

    /// The body read as JSON, or `None` when there is no body (blank
    /// counts as none, so that `?radius=2` with an empty body works).
    pub fn json<'a, T: Deserialize<'a>>(&'a self) -> Result<Option<T>, Error> {
        if !self.has_body() {
            return Ok(None);
        }
        serde_json::from_str(self.text()?)
            .map(Some)
            .map_err(|error| Error::invalid_json("request body", &error))
    }

    /// The request as the host describes it in `Data.<binding>`. Fields a
    /// function may never read are taken leniently: a reshaped `Url` or
    /// `Identities` must not fail every call. The body is the caller's
    /// input, so a body that cannot be read is an error.
    /// `binding` is its name, for messages.
    pub fn from_host(req: &RawValue, binding: &str) -> Result<HttpRequest, Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Fields<'a> {
            // One pass: each field is read where it stands, leniently.
            #[serde(default)]
            method: Scalar,
            #[serde(default)]
            url: Scalar,
            #[serde(default)]
            query: Pairs,
            #[serde(default)]
            headers: Pairs,
            #[serde(default)]
            params: Pairs,
            #[serde(borrow, default)]
            body: Option<&'a RawValue>,
        }
        refuse_long_string(req, &format!("Data.{binding}"))?;
        let fields: Fields = serde_json::from_str(req.get())
            .map_err(|error| invalid(&format!("Data.{binding}"), &error))?;
        let headers = fields.headers.0;
        let body = match fields.body {
            None => Vec::new(),
            Some(raw) if raw.get() == "null" => Vec::new(),
            Some(raw) => 'body: {
                // Escapes only shorten a string: one whose JSON text fits
                // fits unescaped. A longer one is sized before it is
                // unescaped, so that a body over the limit is refused
                // without a copy of it; blank is no body, whatever its
                // length, as for a direct call.
                if raw.get().len() > MAX_BODY_BYTES + 2
                    && let Some((len, blank)) = unescaped_len(raw.get())
                {
                    if blank {
                        break 'body Vec::new();
                    }
                    check_size(len)?;
                }
                let text: Cow<str> = serde_json::from_str(raw.get())
                    .map_err(|error| invalid(&format!("Data.{binding}.Body"), &error))?;
                if is_base64_encoded(find(&headers, "Content-Type", str::eq_ignore_ascii_case)) {
                    BASE64.decode(text.trim_ascii()).map_err(|error| {
                        Error::BadRequest(format!(
                            "the request body is not the base64 the host sends for binary bodies: {error}"
                        ))
                    })?
                } else {
                    text.into_owned().into_bytes()
                }
            }
        };
        Ok(HttpRequest {
            method: fields.method.0.unwrap_or_default(),
            url: fields.url.0.unwrap_or_default(),
            query: fields.query.0,
            params: fields.params.0,
            headers,
            body,
        })
    }
}

/// Fails with 413 when a caller body of `len` bytes is over the limit.
pub fn check_size(len: usize) -> Result<(), Error> {
    if len > MAX_BODY_BYTES {
        return Err(Error::PayloadTooLarge(format!(
            "the request body is {len} bytes; this function takes at most {MAX_BODY_BYTES}"
        )));
    }
    Ok(())
}

/// The length in bytes of the JSON string `raw` (quotes included) once its
/// escapes are undone, and whether it is blank (ASCII white space only),
/// found without undoing them. `None` when it is not a well-formed string:
/// serde then says what is wrong.
fn unescaped_len(raw: &str) -> Option<(usize, bool)> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let bytes = inner.as_bytes();
    let hex = |at: usize| {
        inner
            .get(at..at + 4)
            .and_then(|digits| u16::from_str_radix(digits, 16).ok())
    };
    let (mut len, mut blank, mut i) = (0, true, 0);
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            blank &= bytes[i].is_ascii_whitespace();
            len += 1;
            i += 1;
            continue;
        }
        match *bytes.get(i + 1)? {
            b'u' => {
                let unit = hex(i + 2)?;
                i += 6;
                len += match unit {
                    0xD800..=0xDBFF => {
                        let low = (inner.get(i..i + 2) == Some("\\u"))
                            .then(|| hex(i + 2))
                            .flatten()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        i += 6;
                        4
                    }
                    0xDC00..=0xDFFF => return None,
                    _ => char::from_u32(unit.into())?.len_utf8(),
                };
                blank &= u8::try_from(unit).is_ok_and(|byte| byte.is_ascii_whitespace());
            }
            escape @ (b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                blank &= matches!(escape, b'f' | b'n' | b'r' | b't');
                len += 1;
                i += 2;
            }
            _ => return None,
        }
    }
    Some((len, blank))
}

/// The host sends these bodies as base64 (docs/host-protocol.md, "host -> handler").
fn is_base64_encoded(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media_type == "application/octet-stream" || media_type.starts_with("multipart/")
}

fn find<'a>(
    pairs: impl IntoIterator<Item = &'a (String, String)>,
    name: &str,
    same: impl Fn(&str, &str) -> bool,
) -> Option<&'a str> {
    pairs
        .into_iter()
        .find(|(key, _)| same(key, name))
        .map(|(_, value)| value.as_str())
}

/// What the caller gets back.
///
/// ```
/// use azure_functions_rocket::HttpResponse;
///
/// let created = HttpResponse::json(&serde_json::json!({"id": 7}))
///     .unwrap()
///     .with_status(201)
///     .with_header("Location", "/api/items/7");
/// assert_eq!(created.status, 201);
/// assert_eq!(created.header("content-type"), Some("application/json"));
/// assert_eq!(created.body, r#"{"id":7}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpResponse {
    /// The caller's status.
    #[serde(rename = "statusCode")]
    pub status: u16,
    /// Header names and values, in order.
    #[serde(serialize_with = "headers_as_map")]
    pub headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    /// Always a string: the host passes a string body through verbatim,
    /// where an object body would be re-formatted.
    pub body: String,
}

impl HttpResponse {
    /// `status` with a text body and no content type.
    pub fn new(status: u16, body: impl Into<String>) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// 200 with `value` as JSON.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<HttpResponse, Error> {
        let body = serde_json::to_string(value)
            .map_err(|error| Error::Internal(format!("the response is not JSON: {error}")))?;
        Ok(HttpResponse::new(200, body).with_header("Content-Type", "application/json"))
    }

    /// The JSON error body every function and the handler itself answer
    /// with: `{"error": "<message>"}`.
    pub fn error(error: &Error) -> HttpResponse {
        #[derive(Serialize)]
        struct ErrorBody<'a> {
            error: &'a str,
        }
        let body = serde_json::to_string(&ErrorBody {
            error: error.caller_message(),
        })
        .unwrap_or_default();
        HttpResponse::new(error.status(), body).with_header("Content-Type", "application/json")
    }

    /// The same response with another status.
    pub fn with_status(mut self, status: u16) -> HttpResponse {
        self.status = status;
        self
    }

    /// The same response with one more header.
    pub fn with_header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) -> HttpResponse {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first value of a header, its name matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_ref())
    }
}

fn headers_as_map<S: Serializer>(
    headers: &[(Cow<'static, str>, Cow<'static, str>)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(headers.iter().map(|(name, value)| (name, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_host(req: &str) -> Result<HttpRequest, Error> {
        HttpRequest::from_host(&RawValue::from_string(req.to_owned()).unwrap(), "req")
    }

    #[test]
    fn reads_the_request_as_the_host_sends_it() {
        let req = from_host(
            r#"{"Url":"http://localhost:7071/api/Area/7?radius=2","Method":"POST","Query":{"radius":"2","a":"1,2"},"Headers":{"Accept":["*/*"],"X-Multi":["a","b"],"Content-Type":["application/json"]},"Params":{"id":"7","opt":null},"Identities":[{"AuthenticationType":null,"IsAuthenticated":false}],"Body":"{\"radius\": 2.5}","NewField":1}"#,
        )
        .unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "http://localhost:7071/api/Area/7?radius=2");
        assert_eq!(req.query("radius"), Some("2"));
        assert_eq!(req.query("a"), Some("1,2"));
        assert_eq!(req.header("accept"), Some("*/*"));
        assert_eq!(req.header("x-multi"), Some("a"));
        assert_eq!(req.param("id"), Some("7"));
        assert_eq!(req.param("opt"), None);
        assert_eq!(req.text().unwrap(), r#"{"radius": 2.5}"#);
    }

    #[test]
    fn binary_and_multipart_bodies_arrive_decoded() {
        for content_type in [
            "application/octet-stream",
            "multipart/form-data; boundary=x",
        ] {
            let req = from_host(&format!(
                r#"{{"Headers":{{"Content-Type":["{content_type}"]}},"Body":"AAEC/w=="}}"#
            ))
            .unwrap();
            assert_eq!(req.body, [0, 1, 2, 255], "{content_type}");
        }
        let error = from_host(
            r#"{"Headers":{"Content-Type":["application/octet-stream"]},"Body":"not base64!"}"#,
        )
        .unwrap_err();
        assert_eq!(error.status(), 400);
        assert!(error.message().contains("base64"), "{error}");
    }

    #[test]
    fn fields_nobody_needs_may_change_shape() {
        let req = from_host(
            r#"{"Url":5,"Method":["GET"],"Query":"{}","Headers":{"Accept":"*/*"},"Params":[],"Identities":{"x":1},"Body":"hi"}"#,
        )
        .unwrap();
        assert_eq!((req.method.as_str(), req.url.as_str()), ("", "5"));
        assert!(req.query.is_empty() && req.params.is_empty());
        assert_eq!(req.header("Accept"), Some("*/*"));
        assert_eq!(req.body, b"hi");
    }

    #[test]
    fn an_unreadable_body_is_an_error_naming_it() {
        let error = from_host(r#"{"Body":5}"#).unwrap_err();
        assert_eq!(error.status(), 400);
        assert!(
            error
                .message()
                .starts_with("invalid invocation at Data.req.Body"),
            "{error}"
        );
    }

    #[test]
    fn a_blank_body_over_the_limit_is_no_body_and_the_rest_stays() {
        let blank = " ".repeat(MAX_BODY_BYTES + 10);
        let req = from_host(&format!(
            r#"{{"Method":"POST","Query":{{"radius":"2"}},"Body":"{blank}"}}"#
        ))
        .unwrap();
        assert!(req.body.is_empty());
        assert_eq!(
            (req.method.as_str(), req.query("radius")),
            ("POST", Some("2"))
        );
    }

    #[test]
    fn a_body_over_the_limit_is_413() {
        let body = "a".repeat(MAX_BODY_BYTES + 1);
        let error = from_host(&format!(r#"{{"Body":"{body}"}}"#)).unwrap_err();
        assert_eq!(error.status(), 413);
        assert!(from_host(&format!(r#"{{"Body":"{}"}}"#, &body[1..])).is_ok());
    }

    #[test]
    fn the_unescaped_length_is_found_without_unescaping() {
        for text in ["", "abc", "a\"b\\c/", "é€😀", " \t\n\r\u{c}", "\u{0}\u{1f}"] {
            let raw = serde_json::to_string(text).unwrap();
            let blank = text.trim_ascii().is_empty();
            assert_eq!(unescaped_len(&raw), Some((text.len(), blank)), "{raw}");
        }
        assert_eq!(unescaped_len(r#""\/\u00e9\ud83d\ude00""#), Some((7, false)));
        assert_eq!(unescaped_len(r#""\u0020\u0009""#), Some((2, true)));
        for bad in [
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\x""#,
            r#""\u12""#,
            "5",
            r#""a"#,
        ] {
            assert_eq!(unescaped_len(bad), None, "{bad}");
        }
    }

    #[test]
    fn json_reads_the_body_and_blank_is_none() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Radius {
            radius: f64,
        }
        let mut req = HttpRequest {
            body: br#"{"radius": 2}"#.to_vec(),
            ..HttpRequest::default()
        };
        assert_eq!(req.json::<Radius>().unwrap(), Some(Radius { radius: 2.0 }));
        req.body = b" \r\n".to_vec();
        assert_eq!(req.json::<Radius>().unwrap(), None);
        req.body = b"{\"radius\": \xff}".to_vec();
        let error = req.json::<Radius>().unwrap_err();
        assert!(
            error.message().contains("not valid UTF-8 (from byte 11)"),
            "{error}"
        );
        req.body = b"2.5".to_vec();
        let error = req.json::<Radius>().unwrap_err();
        assert!(
            error.message().contains("expected a JSON object"),
            "{error}"
        );
    }

    #[test]
    fn responses_serialise_as_the_host_reads_them() {
        let response = HttpResponse::json(&serde_json::json!({"a": 1}))
            .unwrap()
            .with_status(201);
        assert_eq!(
            serde_json::to_string(&response).unwrap(),
            r#"{"statusCode":201,"headers":{"Content-Type":"application/json"},"body":"{\"a\":1}"}"#
        );
        let error = HttpResponse::error(&Error::NotFound("no such \"x\"".into()));
        assert_eq!(error.status, 404);
        assert_eq!(error.body, r#"{"error":"no such \"x\""}"#);
    }
}
