//! What a function gives back: its `$return` value and named output
//! bindings, written so that the host reads each exactly as meant.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::http::HttpResponse;

/// Values for a function's `out` bindings other than `$return`, by the
/// binding's exact name in function.json. Each name must be declared on
/// the function's registry line ([`crate::Function::output`]).
///
/// ```
/// use azure_functions_rocket::{Output, Outputs};
///
/// let outputs = Outputs::new()
///     .text("log", "hello")
///     .json("areas", &serde_json::json!({"area": 3.14}))
///     .unwrap();
/// assert_eq!(outputs.names().collect::<Vec<_>>(), ["log", "areas"]);
/// assert_eq!(outputs.get("log"), Some(&Output::Text("hello".into())));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs(Vec<(Cow<'static, str>, Output)>);

/// One output binding's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// An object, array, number or boolean: a queue message or blob of
    /// that JSON.
    Json(Value),
    /// A queue message's or blob's text.
    Text(String),
    /// A blob's bytes.
    Bytes(Vec<u8>),
    /// A named `http` output: a second response.
    Http(HttpResponse),
}

impl Outputs {
    /// No output yet.
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// `value` as JSON to binding `name`.
    pub fn json<T: Serialize + ?Sized>(
        self,
        name: impl Into<Cow<'static, str>>,
        value: &T,
    ) -> Result<Outputs, Error> {
        let value = serde_json::to_value(value)
            .map_err(|error| Error::Internal(format!("an output is not JSON: {error}")))?;
        Ok(match value {
            // A string is text to the host, and gets text's protection.
            Value::String(text) => self.set(name, Output::Text(text)),
            value => self.set(name, Output::Json(value)),
        })
    }

    /// `text` to binding `name`: a queue message's or blob's text.
    pub fn text(self, name: impl Into<Cow<'static, str>>, text: impl Into<String>) -> Outputs {
        self.set(name, Output::Text(text.into()))
    }

    /// `bytes` to binding `name`: a blob's content.
    pub fn bytes(self, name: impl Into<Cow<'static, str>>, bytes: impl Into<Vec<u8>>) -> Outputs {
        self.set(name, Output::Bytes(bytes.into()))
    }

    /// `response` to the `http` out binding `name`.
    pub fn http(self, name: impl Into<Cow<'static, str>>, response: HttpResponse) -> Outputs {
        self.set(name, Output::Http(response))
    }

    /// Sets binding `name`, replacing an earlier value for it.
    pub fn set(mut self, name: impl Into<Cow<'static, str>>, value: Output) -> Outputs {
        let name = name.into();
        self.0.retain(|(key, _)| *key != name);
        self.0.push((name, value));
        self
    }

    /// The bindings written to, in the order first set.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(name, _)| name.as_ref())
    }

    /// The value for binding `name`, if set.
    pub fn get(&self, name: &str) -> Option<&Output> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// Whether no binding is written to.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `Outputs` object of the reply; `binary` names the bindings
    /// declared `"dataType": "binary"`.
    pub(crate) fn to_wire(&self, binary: &[String]) -> Vec<(String, Value)> {
        self.0
            .iter()
            .map(|(name, value)| {
                let binary = binary.iter().any(|b| b == name);
                (name.to_string(), value.to_wire_as(binary))
            })
            .collect()
    }

    /// Why these outputs cannot be written as the host writes the
    /// bindings declared `"dataType": "binary"` (`binary`): there it takes
    /// a string's UTF-8 as the bytes, so bytes that are not UTF-8 have no
    /// way through.
    pub(crate) fn unwritable(&self, binary: &[String]) -> Option<Error> {
        let (name, _) = self.0.iter().find(|(name, value)| {
            binary.iter().any(|b| b == name)
                && matches!(value, Output::Bytes(bytes) if std::str::from_utf8(bytes).is_err())
        })?;
        Some(Error::Internal(format!(
            "output {} is declared \"dataType\": \"binary\", where the host writes a string's UTF-8 as the bytes, so bytes that are not UTF-8 cannot reach it: remove \"dataType\" (bytes then travel as base64)",
            crate::text::quote(name)
        )))
    }
}

impl Output {
    /// The value as the host must receive it. The host decodes every
    /// string output that is valid base64 into bytes (docs/host-protocol.md,
    /// "Non-HTTP triggers and output bindings"): text that could be taken for base64 ("1234", "true")
    /// is therefore sent as the base64 of its UTF-8 bytes, which the host
    /// decodes back into exactly that text. Bytes are always sent so.
    pub fn to_wire(&self) -> Value {
        self.to_wire_as(false)
    }

    /// [`Output::to_wire`], or for a binding declared `"dataType":
    /// "binary"` (`binary`), where the host passes strings through as
    /// their UTF-8 bytes: text and UTF-8 bytes as they are.
    pub(crate) fn to_wire_as(&self, binary: bool) -> Value {
        match self {
            Output::Text(text) if binary => Value::String(text.clone()),
            Output::Bytes(bytes) if binary => {
                Value::String(String::from_utf8_lossy(bytes).into_owned())
            }
            Output::Json(value) => value.clone(),
            Output::Text(text) if may_be_base64(text) => Value::String(BASE64.encode(text)),
            Output::Text(text) => Value::String(text.clone()),
            Output::Bytes(bytes) => Value::String(BASE64.encode(bytes)),
            Output::Http(response) => serde_json::to_value(response).unwrap_or(Value::Null),
        }
    }
}

/// Whether .NET's `Convert.FromBase64String` could accept `text`: only
/// base64 characters (and white space, which it skips), in a multiple of
/// four. Errs on the side of yes: a yes costs only the encoding.
pub fn may_be_base64(text: &str) -> bool {
    let mut count = 0usize;
    for byte in text.bytes() {
        match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'=' => count += 1,
            _ => return false,
        }
    }
    count.is_multiple_of(4)
}

/// A function's whole result: an HTTP response for `$return` (HTTP
/// triggers) and named outputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    pub response: Option<HttpResponse>,
    pub outputs: Outputs,
    /// A `ReturnValue` that is not an HTTP response (Durable triggers).
    pub value: Option<Value>,
}

/// What a function may return: an [`HttpResponse`], [`Outputs`], both as
/// a pair, or `()`. Sealed: these are the shapes the host can read.
///
/// ```
/// use azure_functions_rocket::{Error, HttpRequest, HttpResponse, Outputs};
///
/// // An HTTP function that also writes a queue message ("audit" is an
/// // out binding declared with `.output(Binding::queue("audit", "audit"))`).
/// async fn order(req: HttpRequest) -> Result<(HttpResponse, Outputs), Error> {
///     let audit = Outputs::new().text("audit", req.text()?);
///     Ok((HttpResponse::new(202, "accepted"), audit))
/// }
/// ```
pub trait IntoReply: sealed::Sealed {}

mod sealed {
    /// The conversion behind [`super::IntoReply`], out of users' reach.
    pub trait Sealed {
        fn into_reply(self) -> super::Reply;
    }
}

impl<T: sealed::Sealed> IntoReply for T {}

pub(crate) use sealed::Sealed;

impl Sealed for HttpResponse {
    fn into_reply(self) -> Reply {
        Reply {
            response: Some(self),
            ..Reply::default()
        }
    }
}

impl Sealed for Outputs {
    fn into_reply(self) -> Reply {
        Reply {
            outputs: self,
            ..Reply::default()
        }
    }
}

impl Sealed for (HttpResponse, Outputs) {
    fn into_reply(self) -> Reply {
        Reply {
            response: Some(self.0),
            outputs: self.1,
            value: None,
        }
    }
}

impl Sealed for () {
    fn into_reply(self) -> Reply {
        Reply::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the host makes of a string output (docs/host-protocol.md, "Non-HTTP triggers and
    /// output bindings").
    fn as_the_host_writes_it(value: &Value) -> Vec<u8> {
        match value {
            Value::String(text) if may_be_base64(text) => {
                let compact: String = text.split_ascii_whitespace().collect();
                BASE64.decode(compact).expect("we only send real base64")
            }
            Value::String(text) => text.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        }
    }

    #[test]
    fn text_that_looks_like_base64_still_reaches_the_queue_as_itself() {
        for text in [
            "abcd",
            "1234",
            "true",
            "hello",
            "a b",
            "{\"a\":1}",
            "",
            "ab==",
        ] {
            let wire = Output::Text(text.to_owned()).to_wire();
            assert_eq!(
                as_the_host_writes_it(&wire),
                text.as_bytes(),
                "{text:?} -> {wire}"
            );
        }
        assert_eq!(Output::Text("hello".into()).to_wire(), json!("hello"));
    }

    #[test]
    fn bytes_are_sent_as_base64_and_json_passes_through() {
        let wire = Output::Bytes(vec![0, 255, 1]).to_wire();
        assert_eq!(as_the_host_writes_it(&wire), [0, 255, 1]);
        let outputs = Outputs::new()
            .json("areas", &json!({"radius": 2}))
            .unwrap()
            .json("count", &3)
            .unwrap()
            .json("name", "1234")
            .unwrap();
        let wire = outputs.to_wire(&[]);
        assert_eq!(wire[0], ("areas".to_owned(), json!({"radius": 2})));
        assert_eq!(wire[1], ("count".to_owned(), json!(3)));
        assert_eq!(wire[2], ("name".to_owned(), json!(BASE64.encode("1234"))));
    }

    #[test]
    fn a_binary_binding_gets_text_and_utf8_bytes_as_they_are() {
        let binary = ["blob".to_owned()];
        let outputs = Outputs::new().text("blob", "1234").text("other", "1234");
        let wire = outputs.to_wire(&binary);
        assert_eq!(wire[0], ("blob".to_owned(), json!("1234")));
        assert_eq!(wire[1], ("other".to_owned(), json!(BASE64.encode("1234"))));
        let utf8 = Outputs::new().bytes("blob", "héllo".as_bytes());
        assert_eq!(utf8.to_wire(&binary)[0].1, json!("héllo"));
        assert!(utf8.unwritable(&binary).is_none());
        let raw = Outputs::new().bytes("blob", vec![0xff, 0]);
        let error = raw.unwritable(&binary).expect("refused");
        assert!(
            error.message().contains(r#"output "blob" is declared"#),
            "{error}"
        );
        assert!(raw.unwritable(&[]).is_none());
    }

    #[test]
    fn a_second_value_for_a_binding_replaces_the_first() {
        let outputs = Outputs::new().text("q", "a").text("q", "b");
        assert_eq!(outputs.names().collect::<Vec<_>>(), ["q"]);
        assert_eq!(outputs.get("q"), Some(&Output::Text("b".into())));
    }

    #[test]
    fn a_named_http_output_uses_status_code() {
        let wire = Output::Http(HttpResponse::new(202, "ok")).to_wire();
        assert_eq!(
            wire,
            json!({"statusCode": 202, "headers": {}, "body": "ok"})
        );
    }
}
