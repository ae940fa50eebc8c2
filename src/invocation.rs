//! How the input of an HTTP-triggered function reaches the handler.
//!
//! The Functions host wraps the caller's request in an invocation envelope
//! (`{"Data": {"req": {...}}, "Metadata": {...}}`); a direct call, such as
//! `curl -d '{"radius": 2}' localhost:8080/RustFunction` while developing,
//! carries the caller's body and query itself. [`HttpInput::read`] turns
//! either into the same [`HttpInput`], so functions are written once.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::protocol::{EnvelopeError, HttpRequestData, HttpTriggerData, InvocationRequest};

/// The caller's request as a function sees it, however it arrived.
#[derive(Debug)]
pub struct HttpInput<'a> {
    /// The caller's body as text; `None` when there was none.
    pub body: Option<Cow<'a, str>>,
    /// The host's view of the caller's request; `None` for a direct call.
    request: Option<HttpRequestData<'a>>,
    /// Decoded `(name, value)` pairs from a direct call's URL.
    url_query: &'a [(&'a str, &'a str)],
}

/// Why the handler could not make out what the caller sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    NotUtf8 { valid_up_to: usize },
    MalformedJson(String),
    NotAnObject,
    Envelope(EnvelopeError),
    BodyTooLarge { size: usize, limit: usize },
}

/// Any JSON object that arrived, read in one pass: an envelope fills
/// `data` or `metadata`, while a direct caller's own keys are skipped.
#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "Data", borrow, default)]
    data: Option<HttpTriggerData<'a>>,
    #[serde(rename = "Metadata", borrow, default)]
    metadata: Option<&'a RawValue>,
}

impl<'a> HttpInput<'a> {
    /// Reads a request body (`bytes`) and the decoded query of the request
    /// URL (`url_query`). A body that is a JSON object with a `Data` or
    /// `Metadata` key is the host's envelope; anything else is a direct
    /// call. The caller's body may be at most `max_body` bytes.
    pub fn read(
        bytes: &'a [u8],
        url_query: &'a [(&'a str, &'a str)],
        max_body: usize,
    ) -> Result<HttpInput<'a>, InputError> {
        let text = std::str::from_utf8(bytes).map_err(|error| InputError::NotUtf8 {
            valid_up_to: error.valid_up_to(),
        })?;
        let direct = |text: &'a str| {
            let body = (!text.trim().is_empty()).then_some(Cow::Borrowed(text));
            check_size(&body, max_body)?;
            Ok(HttpInput {
                body,
                request: None,
                url_query,
            })
        };
        if !text.trim_start().starts_with('{') {
            // Not an object, so not an envelope: the function judges it.
            return direct(text);
        }
        let incoming: Incoming =
            serde_json::from_str(text).map_err(|error| explain(bytes, error))?;
        let mut req = match incoming {
            Incoming {
                data: Some(data), ..
            } => data.req,
            Incoming { metadata: None, .. } => return direct(text),
            Incoming { .. } => return Err(envelope_error(bytes, None)),
        };
        // Blank, as for a direct call: the same request must get the same
        // answer whether it came through the host or not.
        let body = req.body.take().filter(|body| !body.trim().is_empty());
        check_size(&body, max_body)?;
        Ok(HttpInput {
            body,
            request: Some(req),
            url_query,
        })
    }

    /// A query value. Repeated keys come comma-joined, as the host sends them.
    pub fn query(&self, name: &str) -> Option<Cow<'_, str>> {
        if let Some(req) = &self.request {
            return req.query(name).map(Cow::Borrowed);
        }
        let mut values = self.url_query.iter().filter(|(key, _)| *key == name);
        let first = values.next()?.1;
        Some(values.fold(Cow::Borrowed(first), |joined, (_, value)| {
            Cow::Owned(format!("{joined},{value}"))
        }))
    }

    /// The first value of a request header, when the host passed headers.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request.as_ref().and_then(|req| req.header(name))
    }
}

fn check_size(body: &Option<Cow<'_, str>>, limit: usize) -> Result<(), InputError> {
    match body {
        Some(body) if body.len() > limit => Err(InputError::BodyTooLarge {
            size: body.len(),
            limit,
        }),
        _ => Ok(()),
    }
}

/// Why a body that failed to parse failed: bad JSON, or else something
/// wrong inside a well-formed envelope, named by its path.
fn explain(bytes: &[u8], error: serde_json::Error) -> InputError {
    /// Checks the JSON and the top-level keys, not what they hold.
    #[derive(Deserialize)]
    struct Outline {
        #[serde(rename = "Data")]
        _data: Option<IgnoredAny>,
        #[serde(rename = "Metadata")]
        _metadata: Option<IgnoredAny>,
    }
    match serde_json::from_slice::<Outline>(bytes) {
        Err(outline) => malformed(&outline),
        Ok(_) => envelope_error(bytes, Some(error)),
    }
}

/// The error of the typed envelope parse, which names the field at fault.
fn envelope_error(bytes: &[u8], first: Option<serde_json::Error>) -> InputError {
    match (
        InvocationRequest::<HttpTriggerData>::from_slice(bytes),
        first,
    ) {
        (Err(error), _) => InputError::Envelope(error),
        // Both parses read the same fields; should they ever disagree, the
        // first error still gets reported.
        (Ok(_), Some(error)) => malformed(&error),
        (Ok(_), None) => InputError::MalformedJson("the envelope has no Data".to_owned()),
    }
}

fn malformed(error: &serde_json::Error) -> InputError {
    InputError::MalformedJson(crate::text::excerpt(&error.to_string(), 160))
}

impl InputError {
    /// The HTTP status the caller should see.
    pub fn status(&self) -> u16 {
        match self {
            InputError::BodyTooLarge { .. } => 413,
            _ => 400,
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::NotUtf8 { valid_up_to } => {
                write!(
                    f,
                    "the request body is not valid UTF-8 (from byte {valid_up_to})"
                )
            }
            InputError::MalformedJson(reason) => {
                write!(f, "the request body is not valid JSON: {reason}")
            }
            InputError::NotAnObject => write!(f, "the request body must be a JSON object"),
            InputError::Envelope(error) => error.fmt(f),
            InputError::BodyTooLarge { size, limit } => write!(
                f,
                "the request body is {size} bytes; this function takes at most {limit}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1024;

    #[test]
    fn a_direct_call_keeps_its_body_and_url_query() {
        let query = [("radius", "1"), ("radius", "2"), ("other", "x")];
        let input = HttpInput::read(br#"{"radius": 2}"#, &query, LIMIT).unwrap();
        assert_eq!(input.body.as_deref(), Some(r#"{"radius": 2}"#));
        assert_eq!(input.query("radius").as_deref(), Some("1,2"));
        assert_eq!(input.query("other").as_deref(), Some("x"));
        assert_eq!(input.query("missing"), None);
    }

    #[test]
    fn a_blank_body_is_no_body_directly_and_in_an_envelope() {
        let input = HttpInput::read(b" \r\n", &[], LIMIT).unwrap();
        assert!(input.body.is_none());
        let envelope = br#"{"Data":{"req":{"Body":" \r\n"}},"Metadata":{}}"#;
        let input = HttpInput::read(envelope, &[], LIMIT).unwrap();
        assert!(input.body.is_none());
    }

    #[test]
    fn an_envelope_yields_the_callers_body_query_and_headers() {
        let envelope = br#"{"Data":{"req":{"Query":{"radius":"3"},"Headers":{"x-a":["1"]},"Body":"{\"radius\":2}"}},"Metadata":{}}"#;
        let input = HttpInput::read(envelope, &[("radius", "9")], LIMIT).unwrap();
        assert_eq!(input.body.as_deref(), Some(r#"{"radius":2}"#));
        assert_eq!(input.query("radius").as_deref(), Some("3"));
        assert_eq!(input.header("X-A"), Some("1"));
    }

    #[test]
    fn metadata_alone_marks_an_envelope_and_data_is_then_required() {
        let error = HttpInput::read(br#"{"Metadata":{}}"#, &[], LIMIT).unwrap_err();
        assert!(matches!(error, InputError::Envelope(_)), "{error:?}");
        assert!(error.to_string().contains("Data"), "{error}");
    }

    #[test]
    fn rejects_invalid_utf8_and_bad_json() {
        let error = HttpInput::read(b"{\"radius\": \xff}", &[], LIMIT).unwrap_err();
        assert_eq!(error, InputError::NotUtf8 { valid_up_to: 11 });
        let error = HttpInput::read(br#"{"Data": "#, &[], LIMIT).unwrap_err();
        assert!(matches!(error, InputError::MalformedJson(_)), "{error:?}");
        let error =
            HttpInput::read(br#"{"Data": {"req": {}}, "Data": {}}"#, &[], LIMIT).unwrap_err();
        assert!(
            error.to_string().contains("duplicate field `Data`"),
            "{error}"
        );
    }

    #[test]
    fn enforces_the_body_limit_on_the_callers_body() {
        let big = format!(r#"{{"radius": 1{}}}"#, " ".repeat(LIMIT));
        let error = HttpInput::read(big.as_bytes(), &[], LIMIT).unwrap_err();
        assert_eq!(error.status(), 413);
        let envelope = format!(
            r#"{{"Data":{{"req":{{"Body":"{}"}}}}}}"#,
            "a".repeat(LIMIT + 1)
        );
        let error = HttpInput::read(envelope.as_bytes(), &[], LIMIT).unwrap_err();
        assert_eq!(
            error,
            InputError::BodyTooLarge {
                size: LIMIT + 1,
                limit: LIMIT
            }
        );
        let envelope = format!(r#"{{"Data":{{"req":{{"Body":"{}"}}}}}}"#, "a".repeat(LIMIT));
        assert!(HttpInput::read(envelope.as_bytes(), &[], LIMIT).is_ok());
    }
}
