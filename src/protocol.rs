//! The Azure Functions custom-handler protocol, default (non-forwarding) mode.
//!
//! The Functions host POSTs every invocation to `/{FunctionFolderName}` as an
//! [`InvocationRequest`] and expects an [`InvocationResponse`] back, always with
//! HTTP 200 and a JSON content type: any other status makes the host answer the
//! caller with an empty 500 and drop the handler's logs. The caller-facing
//! status therefore travels inside the envelope, in [`HttpResponse`].
//!
//! These types know nothing of Rocket or of any one function: a second
//! function reuses them with its own `Data` type.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::text::excerpt;

/// The header by which the host names each invocation.
pub const INVOCATION_ID_HEADER: &str = "X-Azure-Functions-InvocationId";

/// The body of every invocation the host sends.
///
/// `D` holds the function's input bindings by name, e.g. [`HttpTriggerData`]
/// for a function whose HTTP trigger is called `req`. Unknown keys anywhere
/// are ignored, as the host adds fields between releases.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvocationRequest<'a, D> {
    pub data: D,
    /// Trigger metadata. Strings and numbers in it are JSON-encoded twice by
    /// the host, so it is kept raw for functions that want to decode it.
    #[serde(borrow, default)]
    pub metadata: Option<&'a RawValue>,
}

impl<'a, D: Deserialize<'a>> InvocationRequest<'a, D> {
    /// Parses an invocation, naming the offending field on failure.
    pub fn from_slice(bytes: &'a [u8]) -> Result<Self, EnvelopeError> {
        // Tracking the path costs about as much as the parse itself, so
        // only a parse that failed is repeated with it, to name the field.
        serde_json::from_slice(bytes).or_else(|_| {
            let mut deserializer = serde_json::Deserializer::from_slice(bytes);
            serde_path_to_error::deserialize(&mut deserializer).map_err(EnvelopeError::from)
        })
    }
}

/// The `Data` of an invocation whose only input is an HTTP trigger named `req`.
#[derive(Debug, Deserialize)]
pub struct HttpTriggerData<'a> {
    #[serde(borrow)]
    pub req: HttpRequestData<'a>,
}

/// The caller's HTTP request, as the host hands it to the function.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpRequestData<'a> {
    /// The caller's full URL, `/api/...` prefix and raw query included.
    #[serde(borrow, default)]
    pub url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub method: Option<Cow<'a, str>>,
    /// Query values; the host joins a repeated key's values with commas.
    #[serde(borrow, default)]
    pub query: Fields<'a, Text<'a>>,
    /// Header values are arrays, one element per value the caller sent.
    #[serde(borrow, default)]
    pub headers: Fields<'a, Vec<Text<'a>>>,
    /// Route values; unmatched optional route parameters are `null`.
    #[serde(borrow, default)]
    pub params: Fields<'a, Option<Text<'a>>>,
    /// Claims identities, kept raw: no function here needs them.
    #[serde(borrow, default)]
    pub identities: Vec<&'a RawValue>,
    /// The caller's body as text (base64 for binary and multipart bodies).
    /// Absent when the caller sent no body.
    #[serde(borrow, default)]
    pub body: Option<Cow<'a, str>>,
}

impl HttpRequestData<'_> {
    /// The first value of a header, matched case-insensitively as HTTP does.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, values)| values.first())
            .map(Text::as_str)
    }

    /// A query value, exactly as the host passed it (repeats comma-joined).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(Text::as_str)
    }
}

/// A JSON string, borrowed from the envelope unless it held escapes.
///
/// serde borrows a `Cow<str>` only where it is a field of its own, never
/// inside a map or a list; this type borrows everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// A JSON object as its `(name, value)` pairs, in order. The host's objects
/// are small: a scan beats hashing, and the names stay borrowed.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields<'a, V>(pub Vec<(Text<'a>, V)>);

impl<V> Default for Fields<'_, V> {
    fn default() -> Self {
        Fields(Vec::new())
    }
}

impl<V> Fields<'_, V> {
    /// The value of the field called exactly `name`; the last one wins, as
    /// in any JSON map.
    pub fn get(&self, name: &str) -> Option<&V> {
        self.iter()
            .rev()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &V)> {
        self.0.iter().map(|(key, value)| (key.as_str(), value))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de: 'a, 'a, V: Deserialize<'de>> Deserialize<'de> for Fields<'a, V> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor<'a, V>(PhantomData<Fields<'a, V>>);

        impl<'de: 'a, 'a, V: Deserialize<'de>> Visitor<'de> for FieldsVisitor<'a, V> {
            type Value = Fields<'a, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(field) = map.next_entry()? {
                    fields.push(field);
                }
                Ok(Fields(fields))
            }
        }

        deserializer.deserialize_map(FieldsVisitor(PhantomData))
    }
}

/// Why an invocation body could not be read as an [`InvocationRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeError {
    /// Where in the envelope the problem is, e.g. `Data.req.Headers.Accept`.
    pub path: String,
    /// What was wrong there, with any quoted input cut short.
    pub reason: String,
}

impl From<serde_path_to_error::Error<serde_json::Error>> for EnvelopeError {
    fn from(error: serde_path_to_error::Error<serde_json::Error>) -> Self {
        // Map keys in the path are the sender's (query and header names),
        // so the path is caller input too: escaped and cut short.
        let path = excerpt(&error.path().to_string().escape_debug().to_string(), 80);
        EnvelopeError {
            path,
            reason: excerpt(&error.into_inner().to_string(), 160),
        }
    }
}

impl std::fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path == "." {
            write!(f, "invalid invocation: {}", self.reason)
        } else {
            write!(f, "invalid invocation at {}: {}", self.path, self.reason)
        }
    }
}

/// What the handler answers to every invocation, with HTTP 200.
///
/// `R` is the value of the function's `$return` binding, usually an
/// [`HttpResponse`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvocationResponse<R> {
    /// Values for named output bindings; keys must equal binding names.
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// Lines the host writes to the function's log at Information level.
    pub logs: Vec<String>,
    pub return_value: R,
}

impl<R> InvocationResponse<R> {
    /// A response that only sets `$return`.
    pub fn returning(return_value: R, logs: Vec<String>) -> Self {
        InvocationResponse {
            outputs: BTreeMap::new(),
            logs,
            return_value,
        }
    }
}

/// An HTTP response for the caller, as the host reads it from `$return`.
///
/// The body is always a string: the host passes a string through verbatim,
/// whereas a bare string `ReturnValue` that happens to be valid base64 would
/// be decoded, and object bodies may be re-formatted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpResponse {
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    pub headers: BTreeMap<&'static str, &'static str>,
    pub body: String,
}

impl HttpResponse {
    /// A JSON response: `body` serialised, `Content-Type: application/json`.
    pub fn json<T: Serialize>(status_code: u16, body: &T) -> Self {
        HttpResponse {
            status_code,
            headers: BTreeMap::from([("Content-Type", "application/json")]),
            // Serialising plain data structs into a string cannot fail.
            body: serde_json::to_string(body).unwrap_or_default(),
        }
    }
}

/// The project's error body, `{"error": "<message>"}`, used by every
/// function and by the handler's own catchers.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
}

impl HttpResponse {
    /// A JSON error response: `{"error": message}`.
    pub fn error(status_code: u16, message: &str) -> Self {
        HttpResponse::json(status_code, &ErrorBody { error: message })
    }
}

/// Severity prefixes for [`InvocationResponse::logs`]. The host logs every
/// line at Information level; a bracketed prefix is how users filter them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// Formats one `Logs` line with its level prefix.
    pub fn line(self, message: impl std::fmt::Display) -> String {
        let prefix = match self {
            LogLevel::Info => "[INFO]",
            LogLevel::Warn => "[WARN]",
            LogLevel::Error => "[ERROR]",
        };
        format!("{prefix} {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_http_trigger_as_the_host_sends_it() {
        let body = br#"{"Data":{"req":{"Url":"http://localhost:7071/api/RustFunction?radius=2","Method":"GET","Query":{"radius":"2","a":"1,2"},"Headers":{"Accept":["*/*"],"X-Multi":["a","b"]},"Params":{"opt":null},"Identities":[{"AuthenticationType":null,"IsAuthenticated":false}],"NewField":1}},"Metadata":{"radius":"\"2\"","sys":{"MethodName":"RustyFunction"}}}"#;
        let request = InvocationRequest::<HttpTriggerData>::from_slice(body).unwrap();
        let req = request.data.req;
        assert_eq!(req.method.as_deref(), Some("GET"));
        assert_eq!(req.query("radius"), Some("2"));
        assert_eq!(req.query("a"), Some("1,2"));
        assert_eq!(req.header("accept"), Some("*/*"));
        assert_eq!(req.headers.get("X-Multi").unwrap(), &["a", "b"]);
        assert_eq!(req.params.get("opt"), Some(&None));
        assert_eq!(req.identities.len(), 1);
        assert!(req.body.is_none());
        assert!(request.metadata.unwrap().get().contains("MethodName"));
    }

    #[test]
    fn strings_without_escapes_are_borrowed_from_the_envelope() {
        let body = br#"{"Data":{"req":{"Query":{"radius":"2"},"Headers":{"Accept":["*/*"]}}}}"#;
        let request = InvocationRequest::<HttpTriggerData>::from_slice(body).unwrap();
        let (key, value) = &request.data.req.query.0[0];
        assert!(matches!(
            (&key.0, &value.0),
            (Cow::Borrowed("radius"), Cow::Borrowed("2"))
        ));
        let (_, values) = &request.data.req.headers.0[0];
        assert!(matches!(&values[0].0, Cow::Borrowed("*/*")));
        let body = br#"{"Data":{"req":{"Query":{"q":"a\"b"}}}}"#;
        let request = InvocationRequest::<HttpTriggerData>::from_slice(body).unwrap();
        assert_eq!(request.data.req.query("q"), Some("a\"b"));
    }

    #[test]
    fn body_is_text_with_escapes_undone() {
        let body = br#"{"Data":{"req":{"Body":"{\"radius\": 2.5}"}},"Metadata":{}}"#;
        let request = InvocationRequest::<HttpTriggerData>::from_slice(body).unwrap();
        assert_eq!(request.data.req.body.as_deref(), Some(r#"{"radius": 2.5}"#));
    }

    #[test]
    fn errors_name_the_field_that_is_wrong() {
        let cases: [(&[u8], &str); 4] = [
            (
                br#"{"Data":{"req":{"Headers":{"Accept":"*/*"}}}}"#,
                "Data.req.Headers.Accept",
            ),
            (br#"{"Data":{"req":{"Query":"{}"}}}"#, "Data.req.Query"),
            (br#"{"Data":{"req":{"Body":5}}}"#, "Data.req.Body"),
            (br#"{"Data":{}}"#, "Data"),
        ];
        for (body, path) in cases {
            let error = InvocationRequest::<HttpTriggerData>::from_slice(body).unwrap_err();
            assert_eq!(error.path, path, "{error}");
            assert!(error.to_string().contains(path), "{error}");
        }
    }

    #[test]
    fn errors_do_not_echo_long_input() {
        let long = "x".repeat(10_000);
        let body = format!(r#"{{"Data":{{"req":{{"Query":"{long}"}}}}}}"#);
        let error = InvocationRequest::<HttpTriggerData>::from_slice(body.as_bytes()).unwrap_err();
        assert!(error.to_string().len() < 300, "{error}");
    }

    #[test]
    fn a_long_key_in_the_path_is_escaped_and_cut() {
        // In the JSON text: `k\n\"` escapes, i.e. a newline and a quote.
        let key = r#"k\n\""#.repeat(3_000);
        let body = format!(r#"{{"Data":{{"req":{{"Headers":{{"{key}":"x"}}}}}}}}"#);
        let error = InvocationRequest::<HttpTriggerData>::from_slice(body.as_bytes()).unwrap_err();
        let path = format!("Data.req.Headers.{key}");
        let expected: String = path.chars().take(80).chain(['…']).collect();
        assert_eq!(error.path, expected);
        assert!(!error.to_string().contains('\n'), "{error}");
    }

    #[test]
    fn response_envelope_has_the_names_the_host_reads() {
        let response = InvocationResponse::returning(
            HttpResponse::json(400, &serde_json::json!({"error": "bad"})),
            vec![LogLevel::Warn.line("bad")],
        );
        let value = serde_json::to_value(&response).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "Outputs": {},
                "Logs": ["[WARN] bad"],
                "ReturnValue": {
                    "statusCode": 400,
                    "headers": {"Content-Type": "application/json"},
                    "body": "{\"error\":\"bad\"}"
                }
            })
        );
    }
}
