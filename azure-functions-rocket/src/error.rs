//! The one error type of every function, and its one mapping to a status.
//!
//! A function returns `Err(Error::bad_request(..))`, or lets `?` convert
//! any other error into one; the layer turns it into the caller's status
//! for an HTTP trigger, or into a failed invocation for any other trigger.

use std::any::Any;
use std::fmt;

/// Why an invocation failed, named after the status the caller gets.
///
/// `?` converts any error type: a [`serde_json::Error`] into a 400 that
/// says what was wrong with the JSON (without Rust type names), any other
/// into a 500 whose message is logged but never shown to callers.
///
/// ```
/// use azure_functions_rocket::{Error, HttpRequest};
///
/// fn radius(req: &HttpRequest) -> Result<f64, Error> {
///     let text = req.query("radius").ok_or_else(|| Error::bad_request("missing radius"))?;
///     let radius: f64 = serde_json::from_str(text)?; // a 400 if it is not JSON
///     std::fs::metadata("/")?; // an io::Error: a 500
///     Ok(radius)
/// }
///
/// let err = serde_json::from_str::<f64>("x").map_err(Error::from).unwrap_err();
/// assert_eq!(err.status(), 400);
/// let err = Error::from(std::io::Error::other("disk on fire"));
/// assert_eq!((err.status(), err.message()), (500, "disk on fire"));
/// assert_eq!(err.caller_message(), "the function failed unexpectedly");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// 400: the input is wrong; the message says how.
    BadRequest(String),
    /// 404: what the input names does not exist.
    NotFound(String),
    /// 413: the input is larger than the function takes.
    PayloadTooLarge(String),
    /// 500: the function failed; the message is logged, and the caller
    /// learns nothing more.
    Internal(String),
    /// 503: the handler is too busy right now; trying again later may work.
    Unavailable(String),
}

/// A function's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What callers of an HTTP function hear of an [`Error::Internal`].
const INTERNAL: &str = "the function failed unexpectedly";

impl Error {
    /// A 400: the input is wrong; `message` says how.
    pub fn bad_request(message: impl fmt::Display) -> Error {
        Error::BadRequest(message.to_string())
    }

    /// A 404: what the input names does not exist.
    pub fn not_found(message: impl fmt::Display) -> Error {
        Error::NotFound(message.to_string())
    }

    /// A 413: the input is larger than the function takes.
    pub fn payload_too_large(message: impl fmt::Display) -> Error {
        Error::PayloadTooLarge(message.to_string())
    }

    /// A 500: `message` is logged; callers learn nothing more.
    pub fn internal(message: impl fmt::Display) -> Error {
        Error::Internal(message.to_string())
    }

    /// A 503: too busy right now; trying again later may work.
    pub fn unavailable(message: impl fmt::Display) -> Error {
        Error::Unavailable(message.to_string())
    }

    /// The HTTP status this error stands for.
    pub fn status(&self) -> u16 {
        match self {
            Error::BadRequest(_) => 400,
            Error::NotFound(_) => 404,
            Error::PayloadTooLarge(_) => 413,
            Error::Internal(_) => 500,
            Error::Unavailable(_) => 503,
        }
    }

    /// The whole message, as the invocation's log records it.
    pub fn message(&self) -> &str {
        match self {
            Error::BadRequest(message)
            | Error::NotFound(message)
            | Error::PayloadTooLarge(message)
            | Error::Internal(message)
            | Error::Unavailable(message) => message,
        }
    }

    /// What the caller of an HTTP function is told: the message, but for
    /// a 500, which may hold anything from a file path to a secret.
    pub fn caller_message(&self) -> &str {
        match self {
            Error::Internal(_) => INTERNAL,
            _ => self.message(),
        }
    }

    /// A `BadRequest` for input that is not valid JSON of the expected
    /// shape, worded for callers: `what` names the input ("request body",
    /// "queue message").
    pub fn invalid_json(what: &str, error: &serde_json::Error) -> Error {
        let reason = crate::text::excerpt(&for_callers(error), 160);
        Error::BadRequest(match error.classify() {
            serde_json::error::Category::Data => format!("invalid {what}: {reason}"),
            _ => format!("the {what} is not valid JSON: {reason}"),
        })
    }
}

/// Any error converts with `?`: JSON errors are the caller's (400), the
/// rest the function's (500). `Error` itself is not a
/// `std::error::Error`, so that this impl can exist.
impl<E> From<E> for Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Error {
        match (&error as &dyn Any).downcast_ref::<serde_json::Error>() {
            Some(json) => Error::invalid_json("input", json),
            None => Error::Internal(error.to_string()),
        }
    }
}

/// serde's message without Rust type names: callers never wrote
/// `struct AreaRequest`, they sent something that was not an object.
pub(crate) fn for_callers(error: &serde_json::Error) -> String {
    let mut message = error.to_string();
    for (rust, plain) in [
        ("expected struct ", "expected a JSON object"),
        ("expected enum ", "expected one of the allowed values"),
    ] {
        while let Some(at) = message.find(rust) {
            let name_start = at + rust.len();
            let name_len = message[name_start..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(message.len() - name_start);
            message.replace_range(at..name_start + name_len, plain);
        }
    }
    message
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status(), self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct AreaRequest {
        radius: f64,
    }

    #[test]
    fn each_error_has_one_status() {
        let cases = [
            (Error::BadRequest("b".into()), 400),
            (Error::NotFound("n".into()), 404),
            (Error::PayloadTooLarge("p".into()), 413),
            (Error::Internal("i".into()), 500),
            (Error::Unavailable("u".into()), 503),
        ];
        for (error, status) in cases {
            assert_eq!(error.status(), status, "{error}");
        }
    }

    #[test]
    fn json_errors_name_no_rust_types() {
        let cases = [
            ("\"x\"", "expected a JSON object"),
            ("5", "expected a JSON object"),
            (
                "{\"radius\": \"x\"}",
                "invalid type: string \"x\", expected f64",
            ),
            ("{", "the body is not valid JSON"),
        ];
        for (input, expected) in cases {
            let error = serde_json::from_str::<AreaRequest>(input).unwrap_err();
            let message = Error::invalid_json("body", &error).to_string();
            assert!(message.contains(expected), "{input}: {message}");
            assert!(!message.contains("AreaRequest"), "{input}: {message}");
            assert!(!message.contains("struct"), "{input}: {message}");
        }
    }
}
