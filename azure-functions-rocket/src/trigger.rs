//! The trigger kinds: what each hands its function, read from the host's
//! payload shapes (`docs/host-protocol.md`, "Non-HTTP triggers and
//! output bindings") or a direct call.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::envelope::{Envelope, decode_twice, lenient};
use crate::error::Error;
use crate::http::{HttpRequest, check_size};

/// An invocation that did not come through the host: someone POSTed to
/// the handler by hand, e.g. `curl -d '{"radius": 2}' localhost:8080/RustFunction`.
#[derive(Debug, Clone, Default)]
pub struct DirectCall<'a> {
    /// The caller's method, e.g. `POST`.
    pub method: String,
    /// The caller's path and query.
    pub url: String,
    /// Decoded query pairs; repeated names stay separate here.
    pub query: Vec<(String, String)>,
    /// One pair per header value.
    pub headers: Vec<(String, String)>,
    /// The request's body.
    pub body: &'a [u8],
}

/// A function's input, as one trigger kind provides it.
pub trait Trigger: Sized + Send + 'static {
    /// An HTTP trigger's failure is the caller's answer, inside a 200
    /// envelope; any other trigger's must fail the invocation itself.
    const FAILS_IN_ENVELOPE: bool = false;

    /// Reads the input from binding `binding` of the host's envelope.
    fn from_host(envelope: &Envelope<'_>, binding: &str) -> Result<Self, Error>;

    /// Reads the input from a direct call.
    fn from_direct(call: DirectCall<'_>) -> Result<Self, Error>;

    /// Reads the input from a trigger declared `"dataType": "binary"`,
    /// which the host sends as a plain base64 string (docs/host-protocol.md,
    /// "Non-HTTP triggers and output bindings"). The start-up check refuses it where a trigger has no
    /// bytes to carry.
    fn from_binary(_: &Envelope<'_>, binding: &str) -> Result<Self, Error> {
        Err(Error::Internal(format!(
            "the trigger {} is declared binary, which this kind of function does not read",
            crate::text::quote(binding)
        )))
    }

    /// Takes a caller's request forwarded by the host: HTTP functions only.
    fn from_request(_: HttpRequest) -> Result<Self, Error> {
        Err(Error::Internal(
            "a forwarded HTTP request reached a function of another trigger".to_owned(),
        ))
    }
}

/// A binary trigger's bytes: the host sends them as one base64 string.
fn bytes(envelope: &Envelope<'_>, binding: &str) -> Result<Vec<u8>, Error> {
    use base64::Engine;
    let raw = value(envelope, binding)?;
    let text: String = serde_json::from_str(raw.get()).map_err(|_| {
        Error::BadRequest(format!(
            "invalid invocation: the binary trigger {} is not a base64 string",
            crate::text::quote(binding)
        ))
    })?;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim_ascii())
        .map_err(|error| {
            Error::BadRequest(format!(
                "invalid invocation: the binary trigger {} is not base64: {error}",
                crate::text::quote(binding)
            ))
        })
}

/// The binding's value, or a clear error when the host did not send it.
fn value<'a>(envelope: &Envelope<'a>, binding: &str) -> Result<&'a RawValue, Error> {
    envelope.binding(binding).ok_or_else(|| {
        Error::BadRequest(format!(
            "invalid invocation: Data has no {}, the function's trigger binding",
            crate::text::quote(binding)
        ))
    })
}

impl Trigger for HttpRequest {
    const FAILS_IN_ENVELOPE: bool = true;

    fn from_request(request: HttpRequest) -> Result<Self, Error> {
        Ok(request)
    }

    fn from_host(envelope: &Envelope<'_>, binding: &str) -> Result<Self, Error> {
        HttpRequest::from_host(value(envelope, binding)?, binding)
    }

    fn from_direct(call: DirectCall<'_>) -> Result<Self, Error> {
        // Blank is no body, whatever its length.
        let body = if call.body.trim_ascii().is_empty() {
            Vec::new()
        } else {
            check_size(call.body.len())?;
            call.body.to_vec()
        };
        let mut query: Vec<(String, String)> = Vec::with_capacity(call.query.len());
        for (name, value) in call.query {
            // Joined as the host joins them, so both paths read the same.
            match query.iter_mut().find(|(key, _)| *key == name) {
                Some((_, joined)) => {
                    joined.push(',');
                    joined.push_str(&value);
                }
                None => query.push((name, value)),
            }
        }
        Ok(HttpRequest {
            method: call.method,
            url: call.url,
            query,
            headers: call.headers,
            params: Vec::new(),
            body,
        })
    }
}

/// A timer trigger's invocation (binding type `timerTrigger`).
///
/// ```
/// use azure_functions_rocket::{Error, TimerInfo, log};
///
/// async fn tick(timer: TimerInfo) -> Result<(), Error> {
///     if timer.is_past_due {
///         log::warn("a run was missed");
///     }
///     log::info(format_args!("next run: {}", timer.next.as_deref().unwrap_or("unknown")));
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimerInfo {
    /// The run is late: the previous one was missed or ran long.
    pub is_past_due: bool,
    /// When the schedule last fired (ISO-8601), when the host keeps a
    /// schedule monitor; `None` on a first run or without one.
    pub last: Option<String>,
    /// When it fires next (ISO-8601), likewise.
    pub next: Option<String>,
}

impl Trigger for TimerInfo {
    fn from_host(envelope: &Envelope<'_>, binding: &str) -> Result<Self, Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Timer<'a> {
            #[serde(borrow, default)]
            is_past_due: Option<&'a RawValue>,
            #[serde(borrow, default)]
            schedule_status: Option<&'a RawValue>,
        }
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "PascalCase")]
        struct Status {
            last: Option<String>,
            next: Option<String>,
        }
        // Nothing in it is essential: a reshaped timer still runs.
        let raw = value(envelope, binding)?;
        let Ok(timer) = serde_json::from_str::<Timer>(raw.get()) else {
            return Ok(TimerInfo::default());
        };
        let status: Status = lenient(timer.schedule_status).unwrap_or_default();
        Ok(TimerInfo {
            is_past_due: lenient(timer.is_past_due).unwrap_or(false),
            last: status.last,
            next: status.next,
        })
    }

    fn from_direct(_: DirectCall<'_>) -> Result<Self, Error> {
        Ok(TimerInfo::default())
    }
}

/// A storage queue message (binding type `queueTrigger`).
///
/// ```
/// use azure_functions_rocket::QueueMessage;
///
/// let message = QueueMessage { text: r#"{"radius": 2}"#.into(), ..QueueMessage::default() };
/// let value: serde_json::Value = message.json().unwrap();
/// assert_eq!(value["radius"], 2);
/// // Not JSON: a 400, which fails the invocation so that the host retries.
/// let bad = QueueMessage { text: "two".into(), ..QueueMessage::default() };
/// assert_eq!(bad.json::<f64>().unwrap_err().status(), 400);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueMessage {
    /// The message as text, the host's double encoding undone. For a
    /// trigger declared `"dataType": "binary"`: the bytes as UTF-8 when
    /// they are, else empty.
    pub text: String,
    /// For a trigger declared `"dataType": "binary"`: the message's bytes,
    /// decoded from the host's base64; `None` otherwise.
    pub bytes: Option<Vec<u8>>,
    /// How often the message has been handed out, this time included;
    /// after 5 failures the host moves it to `<queue>-poison`.
    pub dequeue_count: Option<u32>,
    /// The message's id in its queue.
    pub id: Option<String>,
    /// When it was put in the queue (ISO-8601).
    pub insertion_time: Option<String>,
    /// When the queue drops it unread (ISO-8601).
    pub expiration_time: Option<String>,
}

impl QueueMessage {
    /// The message read as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.text)
            .map_err(|error| Error::invalid_json("queue message", &error))
    }
}

impl QueueMessage {
    fn with_metadata(text: String, bytes: Option<Vec<u8>>, envelope: &Envelope<'_>) -> Self {
        let metadata = envelope.metadata_fields();
        QueueMessage {
            text,
            bytes,
            dequeue_count: metadata.decoded("DequeueCount"),
            id: metadata.decoded("Id"),
            insertion_time: metadata.decoded("InsertionTime"),
            expiration_time: metadata.decoded("ExpirationTime"),
        }
    }
}

impl Trigger for QueueMessage {
    fn from_host(envelope: &Envelope<'_>, binding: &str) -> Result<Self, Error> {
        let raw = value(envelope, binding)?;
        // Text arrives encoded twice (`"\"hello\""`); a message the host
        // read as JSON may arrive as the object itself.
        let text = match serde_json::from_str::<String>(raw.get()) {
            Ok(once) => serde_json::from_str::<String>(&once).unwrap_or(once),
            Err(_) => raw.get().to_owned(),
        };
        Ok(QueueMessage::with_metadata(text, None, envelope))
    }

    fn from_binary(envelope: &Envelope<'_>, binding: &str) -> Result<Self, Error> {
        let bytes = bytes(envelope, binding)?;
        let text = String::from_utf8(bytes.clone()).unwrap_or_default();
        Ok(QueueMessage::with_metadata(text, Some(bytes), envelope))
    }

    fn from_direct(call: DirectCall<'_>) -> Result<Self, Error> {
        let text = std::str::from_utf8(call.body).map_err(|error| {
            Error::BadRequest(format!(
                "the queue message is not valid UTF-8 (from byte {})",
                error.valid_up_to()
            ))
        })?;
        Ok(QueueMessage {
            text: text.to_owned(),
            ..QueueMessage::default()
        })
    }
}

/// Any other trigger (blob, Event Hubs, Service Bus, Cosmos DB, ...): the
/// binding's JSON as the host sent it, and the trigger metadata, both as
/// raw JSON text: any JSON the host can send is taken, however deep, its
/// numbers exactly as written.
///
/// ```
/// use azure_functions_rocket::TriggerInput;
/// use serde_json::value::RawValue;
///
/// // The host encodes strings twice: `json` undoes it.
/// let value = RawValue::from_string(r#""\"hello\"""#.to_owned()).unwrap();
/// let input = TriggerInput { value, ..TriggerInput::default() };
/// assert_eq!(input.json::<String>().unwrap(), "hello");
/// // Big numbers stay exact in the raw text.
/// let value = RawValue::from_string("123456789012345678901234567890".to_owned()).unwrap();
/// let input = TriggerInput { value, ..TriggerInput::default() };
/// assert_eq!(input.value.get(), "123456789012345678901234567890");
/// assert_eq!(input.json::<u128>().unwrap(), 123456789012345678901234567890);
/// ```
#[derive(Debug, Clone)]
pub struct TriggerInput {
    /// The trigger binding's value in `Data`, as the host sent it.
    pub value: Box<RawValue>,
    /// The invocation's `Metadata` (trigger properties and `sys`), as the
    /// host sent it; `null` when it sent none.
    pub metadata: Box<RawValue>,
    /// For a trigger declared `"dataType": "binary"` (a blob's content,
    /// say): its bytes, decoded from the host's base64; `None` otherwise.
    pub bytes: Option<Vec<u8>>,
}

fn null() -> Box<RawValue> {
    RawValue::from_string("null".to_owned()).unwrap_or_else(|_| unreachable!("null is JSON"))
}

impl Default for TriggerInput {
    fn default() -> Self {
        TriggerInput {
            value: null(),
            metadata: null(),
            bytes: None,
        }
    }
}

impl PartialEq for TriggerInput {
    fn eq(&self, other: &Self) -> bool {
        self.value.get() == other.value.get()
            && self.metadata.get() == other.metadata.get()
            && self.bytes == other.bytes
    }
}

impl TriggerInput {
    /// The value as `T`, undoing the host's double encoding of strings
    /// and numbers where there is one. Reading it as a type of its own
    /// depth is the function's choice: serde_json then stops at 128
    /// levels, with a 400.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        decode_twice(&self.value).ok_or_else(|| {
            Error::BadRequest("the trigger input is not of the expected shape".to_owned())
        })
    }

    /// The metadata as `T` (e.g. `serde_json::Value`).
    pub fn metadata<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(self.metadata.get())
            .map_err(|error| Error::invalid_json("trigger metadata", &error))
    }

    fn from_envelope(
        envelope: &Envelope<'_>,
        binding: &str,
        bytes: Option<Vec<u8>>,
    ) -> Result<Self, Error> {
        Ok(TriggerInput {
            value: value(envelope, binding)?.to_owned(),
            metadata: envelope.metadata().map_or_else(null, RawValue::to_owned),
            bytes,
        })
    }
}

impl Trigger for TriggerInput {
    fn from_host(envelope: &Envelope<'_>, binding: &str) -> Result<Self, Error> {
        TriggerInput::from_envelope(envelope, binding, None)
    }

    fn from_binary(envelope: &Envelope<'_>, binding: &str) -> Result<Self, Error> {
        let bytes = bytes(envelope, binding)?;
        TriggerInput::from_envelope(envelope, binding, Some(bytes))
    }

    fn from_direct(call: DirectCall<'_>) -> Result<Self, Error> {
        // Valid JSON is taken as it is, without a depth limit; anything
        // else as a JSON string of its text.
        let value = std::str::from_utf8(call.body)
            .ok()
            .and_then(|text| serde_json::from_str::<Box<RawValue>>(text).ok())
            .unwrap_or_else(|| {
                let text = serde_json::to_string(&String::from_utf8_lossy(call.body))
                    .unwrap_or_else(|_| "null".to_owned());
                RawValue::from_string(text).unwrap_or_else(|_| null())
            });
        Ok(TriggerInput {
            value,
            ..TriggerInput::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(body: &str) -> Envelope<'_> {
        Envelope::parse(body.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn queue_text_and_json_messages_arrive_decoded() {
        let body = r#"{"Data":{"msg":"\"hello\""},"Metadata":{"DequeueCount":"3","Id":"\"m-1\"","InsertionTime":"2026-11-27T10:00:00+00:00","sys":{}}}"#;
        let message = QueueMessage::from_host(&envelope(body), "msg").unwrap();
        assert_eq!(message.text, "hello");
        assert_eq!(message.dequeue_count, Some(3));
        assert_eq!(message.id.as_deref(), Some("m-1"));
        assert_eq!(
            message.insertion_time.as_deref(),
            Some("2026-11-27T10:00:00+00:00")
        );
        let body = r#"{"Data":{"msg":"\"{\\\"radius\\\":2}\""},"Metadata":{}}"#;
        let message = QueueMessage::from_host(&envelope(body), "msg").unwrap();
        assert_eq!(message.text, r#"{"radius":2}"#);
        let value: serde_json::Value = message.json().unwrap();
        assert_eq!(value["radius"], 2);
        let body = r#"{"Data":{"msg":{"radius":3}},"Metadata":{}}"#;
        let message = QueueMessage::from_host(&envelope(body), "msg").unwrap();
        assert_eq!(message.text, r#"{"radius":3}"#);
    }

    #[test]
    fn a_missing_binding_is_named() {
        let error =
            QueueMessage::from_host(&envelope(r#"{"Data":{},"Metadata":{}}"#), "msg").unwrap_err();
        assert_eq!(error.status(), 400);
        assert!(error.message().contains(r#"Data has no "msg""#), "{error}");
    }

    #[test]
    fn timer_info_is_read_and_a_null_status_is_none() {
        let body = r#"{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-27T10:00:00Z","Next":"2026-11-27T10:05:00Z","LastUpdated":"2026-11-27T10:00:00Z"},"IsPastDue":true}},"Metadata":{"sys":{}}}"#;
        let timer = TimerInfo::from_host(&envelope(body), "timer").unwrap();
        assert!(timer.is_past_due);
        assert_eq!(timer.next.as_deref(), Some("2026-11-27T10:05:00Z"));
        let body = r#"{"Data":{"timer":{"ScheduleStatus":null,"IsPastDue":false}},"Metadata":{}}"#;
        assert_eq!(
            TimerInfo::from_host(&envelope(body), "timer").unwrap(),
            TimerInfo::default()
        );
    }

    #[test]
    fn the_generic_trigger_hands_over_the_raw_value() {
        let body = r#"{"Data":{"blob":"42"},"Metadata":{"Uri":"\"u\""}}"#;
        let input = TriggerInput::from_host(&envelope(body), "blob").unwrap();
        assert_eq!(input.value.get(), r#""42""#);
        assert_eq!(input.json::<u32>().unwrap(), 42);
        let metadata: serde_json::Value = input.metadata().unwrap();
        assert_eq!(metadata["Uri"], "\"u\"");
    }

    #[test]
    fn the_generic_trigger_takes_any_json_the_host_can_send() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        let huge = "1e400";
        let big = "123456789012345678901234567890.000000000000000000001";
        for value in [deep.as_str(), huge, big] {
            let body =
                format!(r#"{{"Data":{{"blob":{{"v":{value}}}}},"Metadata":{{"m":{value}}}}}"#);
            let input = TriggerInput::from_host(&envelope(&body), "blob").unwrap();
            assert_eq!(input.value.get(), format!(r#"{{"v":{value}}}"#));
            assert_eq!(input.metadata.get(), format!(r#"{{"m":{value}}}"#));
        }
        let call = DirectCall {
            body: deep.as_bytes(),
            ..DirectCall::default()
        };
        assert_eq!(TriggerInput::from_direct(call).unwrap().value.get(), deep);
        let call = DirectCall {
            body: b"not json",
            ..DirectCall::default()
        };
        let input = TriggerInput::from_direct(call).unwrap();
        assert_eq!(input.json::<String>().unwrap(), "not json");
    }

    #[test]
    fn a_direct_http_call_joins_repeated_query_names_like_the_host() {
        let call = DirectCall {
            method: "POST".into(),
            query: vec![
                ("radius".into(), "1".into()),
                ("radius".into(), "2".into()),
                ("x".into(), "y".into()),
            ],
            body: b"{}",
            ..DirectCall::default()
        };
        let req = HttpRequest::from_direct(call).unwrap();
        assert_eq!(req.query("radius"), Some("1,2"));
        assert_eq!(req.query("x"), Some("y"));
        assert_eq!(req.body, b"{}");
    }
}
