//! Replies the real host would mishandle, each tied to the rule of
//! docs/host-protocol.md ("handler -> host", "Non-HTTP triggers and output
//! bindings") that bites. The handler's author sees them next to the
//! invocation that triggered them.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// A string `ReturnValue` or output that happens to be valid base64 is
    /// decoded to bytes by the host.
    Base64String,
    /// An `Outputs` key that names no output binding is ignored.
    UnknownOutput,
    /// An `Outputs` key that names a binding only case-insensitively is
    /// ignored: keys inside `Outputs` must match exactly.
    OutputCase,
    /// `Outputs["$return"]` is overwritten by `ReturnValue`.
    ReturnInOutputs,
    /// A reply without a JSON content type (application/json or text/json)
    /// fails the invocation.
    NotJson,
    /// A reply that is not a JSON object fails the invocation.
    InvalidJson,
    /// An empty body, `null` or 204: the host waits until the function
    /// timeout, then kills and restarts the handler.
    EmptyReply,
    /// A non-2xx reply to an HTTP trigger: the caller gets an empty 500 and
    /// the logs are lost.
    HttpNon2xx,
    /// A reply larger than local-host reads (`limits::REPLY_LIMIT`).
    ReplyTooLarge,
    /// A response status the host cannot send as a final response: below
    /// 200, past 999, past an int, or a body with 204, 205 or 304.
    BadStatus,
    /// A null header value: the host's ScriptObjectResult throws.
    NullHeader,
    /// A header name or value Kestrel refuses (not a token; control or
    /// non-ASCII characters).
    BadHeader,
    /// A Content-Length header that disagrees with the body: Kestrel
    /// refuses to send it.
    ContentLength,
}

impl Rule {
    /// A short stable name, shown in brackets.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Base64String => "base64-string",
            Rule::UnknownOutput => "unknown-output",
            Rule::OutputCase => "output-case",
            Rule::ReturnInOutputs => "return-in-outputs",
            Rule::NotJson => "not-json",
            Rule::InvalidJson => "invalid-json",
            Rule::EmptyReply => "empty-reply",
            Rule::HttpNon2xx => "http-non-2xx",
            Rule::ReplyTooLarge => "reply-too-large",
            Rule::BadStatus => "bad-status",
            Rule::NullHeader => "null-header",
            Rule::BadHeader => "bad-header",
            Rule::ContentLength => "content-length",
        }
    }

    /// What the host does, in one sentence.
    pub fn explanation(self) -> &'static str {
        match self {
            Rule::Base64String => {
                "the host decodes a string that is valid base64 to bytes before writing it: send an object, or an HTTP response object with a body"
            }
            Rule::UnknownOutput => "the host ignores an Outputs key that names no output binding",
            Rule::OutputCase => {
                "keys inside Outputs must equal binding names exactly; the host ignores this one"
            }
            Rule::ReturnInOutputs => {
                "the host takes $return from ReturnValue and overwrites Outputs[\"$return\"]"
            }
            Rule::NotJson => {
                "the host fails an invocation whose reply is not application/json or text/json; an HTTP caller gets 500"
            }
            Rule::InvalidJson => {
                "the host fails an invocation whose reply is not a JSON object; an HTTP caller gets 500"
            }
            Rule::EmptyReply => {
                "an empty body, null or 204 never completes the invocation: the host waits for the function timeout, then kills and restarts the handler"
            }
            Rule::HttpNon2xx => {
                "a non-2xx reply fails the invocation: the caller gets an empty 500 and the Logs are lost; send the error status inside ReturnValue with a 200 reply"
            }
            Rule::ReplyTooLarge => {
                "local-host stops reading a reply that large and fails the invocation (an HTTP caller gets 500); the host would read on and hold it all in memory: is the reply endless?"
            }
            Rule::BadStatus => {
                "the host cannot send that as a final response: the caller gets an empty 500; use a status from 200 to 999, with no body for 204, 205 and 304"
            }
            Rule::NullHeader => {
                "the host fails the response on a null header value (NullReferenceException): the caller gets an empty 500; header values must be strings"
            }
            Rule::BadHeader => {
                "Kestrel refuses a header name that is not a token, or a value with control or non-ASCII characters: the caller gets an empty 500"
            }
            Rule::ContentLength => {
                "Kestrel refuses a body that disagrees with the Content-Length header: the caller gets an empty 500; leave Content-Length out, the host sets it"
            }
        }
    }
}

/// One warning about one reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub rule: Rule,
    /// What in the reply triggered it.
    pub detail: String,
}

impl Warning {
    pub fn new(rule: Rule, detail: impl Into<String>) -> Warning {
        Warning {
            rule,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}: {}",
            self.rule.name(),
            self.detail,
            self.rule.explanation()
        )
    }
}

#[cfg(test)]
mod tests {
    //! One test per rule: a reply that breaks it, read as the host would.

    use super::*;
    use crate::app::{Binding, FunctionFolder};
    use crate::client::HttpReply;
    use crate::envelope::read_reply;

    fn function(bindings: &[(&str, &str, &str)]) -> FunctionFolder {
        FunctionFolder {
            name: "F".into(),
            bindings: bindings
                .iter()
                .map(|(kind, direction, name)| {
                    serde_json::from_value::<Binding>(serde_json::json!({
                        "type": kind, "direction": direction, "name": name
                    }))
                    .expect("binding")
                })
                .collect(),
        }
    }

    fn http() -> FunctionFolder {
        function(&[("httpTrigger", "in", "req"), ("http", "out", "$return")])
    }

    fn queue() -> FunctionFolder {
        function(&[("queueTrigger", "in", "item"), ("queue", "out", "areas")])
    }

    fn rules(
        function: &FunctionFolder,
        status: u16,
        content_type: Option<&str>,
        body: &str,
    ) -> Vec<Rule> {
        let reply = HttpReply {
            status,
            content_type: content_type.map(str::to_owned),
            headers: Default::default(),
            body: body.as_bytes().to_vec(),
        };
        read_reply(function, &reply)
            .warnings
            .iter()
            .map(|w| w.rule)
            .collect()
    }

    const JSON: Option<&str> = Some("application/json");

    #[test]
    fn bare_string_return_value_that_is_base64() {
        assert_eq!(
            rules(&http(), 200, JSON, r#"{"ReturnValue":"true"}"#),
            [Rule::Base64String]
        );
        assert_eq!(
            rules(&http(), 200, JSON, r#"{"ReturnValue":"not base64!"}"#),
            []
        );
    }

    #[test]
    fn string_output_that_is_base64() {
        assert_eq!(
            rules(&queue(), 200, JSON, r#"{"Outputs":{"areas":"1234"}}"#),
            [Rule::Base64String]
        );
        assert_eq!(
            rules(&queue(), 200, JSON, r#"{"Outputs":{"areas":{"n":1234}}}"#),
            []
        );
    }

    #[test]
    fn output_that_names_no_binding() {
        assert_eq!(
            rules(&queue(), 200, JSON, r#"{"Outputs":{"areaz":{}}}"#),
            [Rule::UnknownOutput]
        );
    }

    #[test]
    fn output_that_differs_in_case() {
        assert_eq!(
            rules(&queue(), 200, JSON, r#"{"Outputs":{"Areas":{}}}"#),
            [Rule::OutputCase]
        );
    }

    #[test]
    fn return_through_outputs() {
        let body =
            r#"{"Outputs":{"$return":{"statusCode":200,"body":"x"}},"ReturnValue":{"body":"y"}}"#;
        assert_eq!(rules(&http(), 200, JSON, body), [Rule::ReturnInOutputs]);
    }

    #[test]
    fn non_json_content_type() {
        assert_eq!(
            rules(
                &http(),
                200,
                Some("text/plain"),
                r#"{"ReturnValue":{"body":"x"}}"#
            ),
            [Rule::NotJson]
        );
        assert_eq!(rules(&http(), 200, None, "{}"), [Rule::NotJson]);
        assert_eq!(
            rules(&http(), 200, Some("application/json; charset=utf-8"), "{}"),
            []
        );
        // The host takes text/json as JSON too.
        assert_eq!(rules(&http(), 200, Some("text/json"), "{}"), []);
    }

    #[test]
    fn reply_that_is_not_a_json_object() {
        assert_eq!(rules(&queue(), 200, JSON, "{oops"), [Rule::InvalidJson]);
        assert_eq!(rules(&queue(), 200, JSON, "[]"), [Rule::InvalidJson]);
    }

    #[test]
    fn empty_reply() {
        assert_eq!(rules(&queue(), 200, JSON, ""), [Rule::EmptyReply]);
        assert_eq!(rules(&queue(), 200, JSON, "null"), [Rule::EmptyReply]);
        assert_eq!(rules(&queue(), 204, None, ""), [Rule::EmptyReply]);
    }

    #[test]
    fn non_2xx_reply_to_an_http_trigger() {
        assert_eq!(
            rules(&http(), 400, JSON, r#"{"Logs":["bad"]}"#),
            [Rule::HttpNon2xx]
        );
        // A failing queue function must answer non-2xx: no warning there.
        assert_eq!(rules(&queue(), 500, JSON, "{}"), []);
    }

    #[test]
    fn display_names_the_rule_and_what_the_host_does() {
        let text = Warning::new(Rule::OutputCase, "Outputs[\"Areas\"]").to_string();
        assert!(
            text.starts_with("[output-case] Outputs[\"Areas\"]: "),
            "{text}"
        );
        assert!(
            text.ends_with(
                ": keys inside Outputs must equal binding names exactly; the host ignores this one"
            ),
            "{text}"
        );
    }
}
