//! The custom-handler envelope on the wire (default mode, see
//! `docs/host-protocol.md`, "host -> handler", "handler -> host" and
//! "Non-HTTP triggers and output bindings").
//!
//! The host POSTs `{"Data": {<input binding>: value, ...}, "Metadata": {...}}`
//! to `/{FunctionName}` and reads back `{"Outputs": {...}, "Logs": [...],
//! "ReturnValue": ...}`. Nothing here knows one function or one trigger:
//! values are kept as raw JSON until a trigger type reads the one it needs,
//! and everything nobody reads is skipped whatever its shape, so a host
//! release that adds or reshapes a field changes nothing.

use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::error::Error;

/// The header by which the host names each invocation.
pub const INVOCATION_ID_HEADER: &str = "X-Azure-Functions-InvocationId";

/// One invocation as the host sent it, its values still raw JSON.
#[derive(Debug)]
pub struct Envelope<'a> {
    data: Vec<(String, &'a RawValue)>,
    metadata: Option<&'a RawValue>,
}

impl<'a> Envelope<'a> {
    /// Reads `body` as the host's envelope. `Ok(None)`: it is not one (not
    /// a JSON object, or one with neither `Data` nor `Metadata`), so it is
    /// a direct call. An object with those keys but the wrong shape is an
    /// envelope gone wrong: an error.
    pub fn parse(body: &'a [u8]) -> Result<Option<Envelope<'a>>, Error> {
        #[derive(Deserialize)]
        struct Outline<'a> {
            // `Data` is split into its bindings in the same pass.
            #[serde(rename = "Data", borrow, default)]
            data: Option<Data<'a>>,
            #[serde(rename = "Metadata", borrow, default)]
            metadata: Option<&'a RawValue>,
        }
        let starts_an_object = body
            .iter()
            .find(|byte| !byte.is_ascii_whitespace())
            .is_some_and(|&byte| byte == b'{');
        if !starts_an_object {
            return Ok(None);
        }
        let outline: Outline = match serde_json::from_slice(body) {
            Ok(outline) => outline,
            // Malformed JSON is the direct caller's to hear about.
            Err(error) if error.classify() != serde_json::error::Category::Data => {
                return Ok(None);
            }
            Err(error) => return Err(invalid("", &error)),
        };
        let data = match outline {
            Outline {
                data: None,
                metadata: None,
            } => return Ok(None),
            Outline { data: None, .. } => {
                return Err(Error::BadRequest(
                    "invalid invocation: the envelope has no Data".to_owned(),
                ));
            }
            Outline {
                data: Some(Data::Bindings(data)),
                ..
            } => data,
            Outline {
                data: Some(Data::NotAnObject),
                ..
            } => return Err(not_an_object(body)),
        };
        Ok(Some(Envelope {
            data,
            metadata: outline.metadata.filter(|raw| raw.get() != "null"),
        }))
    }

    /// The value of input binding `name` (exact case, as in function.json).
    pub fn binding(&self, name: &str) -> Option<&'a RawValue> {
        self.data
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| *value)
    }

    /// The trigger metadata, raw; `None` when the host sent none.
    pub fn metadata(&self) -> Option<&'a RawValue> {
        self.metadata
    }

    /// One metadata value, decoded from the host's double encoding (see
    /// [`decode_twice`]); `None` when absent or unreadable.
    /// The metadata's fields, read once for all the values a trigger
    /// wants (see [`Object::decoded`]); empty when absent or unreadable.
    pub fn metadata_fields(&self) -> Object<'a> {
        self.metadata
            .filter(|raw| !is_string(raw))
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .unwrap_or(OrderedMap(Vec::new()))
    }
}

/// The envelope's `Data`: its bindings, or the news that it is no object.
enum Data<'a> {
    Bindings(Vec<(String, &'a RawValue)>),
    NotAnObject,
}

impl<'de: 'a, 'a> Deserialize<'de> for Data<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DataVisitor;

        impl<'de> Visitor<'de> for DataVisitor {
            type Value = Data<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Data<'de>, M::Error> {
                let mut bindings = Vec::with_capacity(map.size_hint().unwrap_or(0).min(16));
                while let Some(binding) = map.next_entry()? {
                    bindings.push(binding);
                }
                Ok(Data::Bindings(bindings))
            }

            fn visit_seq<S: de::SeqAccess<'de>>(self, seq: S) -> Result<Data<'de>, S::Error> {
                skip_seq(seq).map(|()| Data::NotAnObject)
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<Data<'de>, E> {
                Ok(Data::NotAnObject)
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Data<'de>, E> {
                Ok(Data::NotAnObject)
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Data<'de>, E> {
                Ok(Data::NotAnObject)
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Data<'de>, E> {
                Ok(Data::NotAnObject)
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Data<'de>, E> {
                Ok(Data::NotAnObject)
            }
        }

        deserializer.deserialize_any(DataVisitor)
    }
}

/// The error for an envelope whose `Data` is no object, worded by serde
/// and naming where: found again on this rare path, off the common one.
fn not_an_object(body: &[u8]) -> Error {
    #[derive(Deserialize)]
    struct Outline<'a> {
        #[serde(rename = "Data", borrow)]
        data: &'a RawValue,
    }
    let data = match serde_json::from_slice::<Outline>(body) {
        Ok(outline) => outline.data,
        Err(error) => return invalid("", &error),
    };
    if let Err(error) = refuse_long_string(data, "Data") {
        return error;
    }
    match serde_json::from_str::<Object>(data.get()) {
        Err(error) => invalid("Data", &error),
        Ok(_) => Error::BadRequest("invalid invocation: Data must be a JSON object".to_owned()),
    }
}

/// A message for an envelope that is JSON but not of the host's shape.
/// `at` names where, e.g. `Data.req.Body`.
pub fn invalid(at: &str, error: &serde_json::Error) -> Error {
    let reason = crate::text::excerpt(&crate::error::for_callers(error), 160);
    Error::BadRequest(if at.is_empty() {
        format!("invalid invocation: {reason}")
    } else {
        format!("invalid invocation at {at}: {reason}")
    })
}

/// Whether `raw` is a JSON string.
fn is_string(raw: &RawValue) -> bool {
    raw.get().starts_with('"')
}

/// An error for a long string where an object belongs, the same as
/// serde's cut to size, but made from the start of the string only: serde
/// would first copy the whole string (32 MiB, say) into its message.
/// Strings short enough are left to serde.
pub fn refuse_long_string(raw: &RawValue, at: &str) -> Result<(), Error> {
    // Long enough that the message is cut within the string's quote.
    const LONG: usize = 1024;
    let text = raw.get();
    if text.len() <= LONG || !is_string(raw) {
        return Ok(());
    }
    let mut end = LONG;
    let start = loop {
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        // A cut inside an escape (at most 12 bytes: a surrogate pair)
        // does not parse: cut before it.
        if let Ok(start) = serde_json::from_str::<String>(&format!("{}\"", &text[..end])) {
            break start;
        }
        if end + 12 <= LONG {
            break String::new();
        }
        end -= 1;
    };
    let reason = format!("invalid type: string {start:?}, expected a JSON object");
    Err(Error::BadRequest(format!(
        "invalid invocation at {at}: {}",
        crate::text::excerpt(&reason, 160)
    )))
}

/// A JSON object as its `(name, raw value)` pairs, in order: values stay
/// unparsed until someone reads them.
pub type Object<'a> = OrderedMap<&'a RawValue>;

impl Object<'_> {
    /// The value of field `key` (the last one, as in any JSON reader),
    /// decoded from the host's double encoding (see [`decode_twice`]);
    /// `None` when absent or unreadable.
    pub fn decoded<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let raw = self.0.iter().rev().find(|(k, _)| k == key)?.1;
        decode_twice(raw)
    }
}

/// A value as the host encodes trigger data and metadata that are not
/// objects: a string holding the value's JSON (`"\"hello\""`, `"1"`). A
/// string that does not hold JSON is taken as it is; an object or array
/// is read directly. `None` when it cannot be read as `T`.
pub fn decode_twice<T: DeserializeOwned>(raw: &RawValue) -> Option<T> {
    if let Ok(text) = serde_json::from_str::<String>(raw.get()) {
        return serde_json::from_str(&text)
            .ok()
            .or_else(|| serde_json::from_value(serde_json::Value::String(text)).ok());
    }
    serde_json::from_str(raw.get()).ok()
}

/// `raw` read as `T`, or `None` when absent or of another shape: for the
/// fields a host release might reshape, which must not fail an invocation.
pub fn lenient<T: DeserializeOwned>(raw: Option<&RawValue>) -> Option<T> {
    serde_json::from_str(raw?.get()).ok()
}

/// The string values of a JSON object as `(name, value)` pairs, read
/// leniently in the same pass as the object around it: an array gives one
/// pair per string in it (the host's `Headers`), numbers and booleans their
/// JSON text; nulls, objects, deeper arrays and anything not an object at
/// all give nothing, and are skipped without a recursion limit.
#[derive(Debug, Default)]
pub struct Pairs(pub Vec<(String, String)>);

/// Text of any JSON value that has one; `None` for the rest, skipped.
#[derive(Debug, Default)]
pub struct Scalar(pub Option<String>);

/// One value of a [`Pairs`] object: a scalar or an array of them.
struct Values(Vec<String>);

/// Drains the rest of a sequence or map a lenient reader does not want.
fn skip_seq<'de, S: de::SeqAccess<'de>>(mut seq: S) -> Result<(), S::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_map<'de, M: MapAccess<'de>>(mut map: M) -> Result<(), M::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Visitor methods that turn a scalar into `Some(text)`, as `$make` wraps it.
macro_rules! scalar_visits {
    ($value:ty, $make:expr) => {
        fn visit_str<E: de::Error>(self, v: &str) -> Result<$value, E> {
            Ok($make(Some(v.to_owned())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<$value, E> {
            Ok($make(Some(v)))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<$value, E> {
            Ok($make(Some(v.to_string())))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<$value, E> {
            Ok($make(Some(v.to_string())))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<$value, E> {
            Ok($make(Some(v.to_string())))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<$value, E> {
            Ok($make(Some(v.to_string())))
        }
        fn visit_unit<E: de::Error>(self) -> Result<$value, E> {
            Ok($make(None))
        }
        fn visit_none<E: de::Error>(self) -> Result<$value, E> {
            Ok($make(None))
        }
    };
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;

        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }

            scalar_visits!(Scalar, Scalar);

            fn visit_seq<S: de::SeqAccess<'de>>(self, seq: S) -> Result<Scalar, S::Error> {
                skip_seq(seq).map(|()| Scalar(None))
            }

            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Scalar, M::Error> {
                skip_map(map).map(|()| Scalar(None))
            }
        }

        deserializer.deserialize_any(ScalarVisitor)
    }
}

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValuesVisitor;

        impl<'de> Visitor<'de> for ValuesVisitor {
            type Value = Values;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }

            scalar_visits!(Values, |text: Option<String>| Values(
                text.into_iter().collect()
            ));

            fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<Values, S::Error> {
                let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(16));
                while let Some(Scalar(value)) = seq.next_element()? {
                    values.extend(value);
                }
                Ok(Values(values))
            }

            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Values, M::Error> {
                skip_map(map).map(|()| Values(Vec::new()))
            }
        }

        deserializer.deserialize_any(ValuesVisitor)
    }
}

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor;

        impl<'de> Visitor<'de> for PairsVisitor {
            type Value = Pairs;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }

            scalar_visits!(Pairs, |_: Option<String>| Pairs::default());

            fn visit_seq<S: de::SeqAccess<'de>>(self, seq: S) -> Result<Pairs, S::Error> {
                skip_seq(seq).map(|()| Pairs::default())
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Pairs, M::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(16));
                while let Some((name, Values(mut values))) = map.next_entry::<String, Values>()? {
                    // The usual one value takes the name without a copy.
                    let last = values.pop();
                    pairs.extend(values.into_iter().map(|value| (name.clone(), value)));
                    pairs.extend(last.map(|value| (name, value)));
                }
                Ok(Pairs(pairs))
            }
        }

        deserializer.deserialize_any(PairsVisitor)
    }
}

/// A JSON object read as ordered `(name, V)` pairs.
#[derive(Debug)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(std::marker::PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = OrderedMap<V>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                // The host's objects are small: pairs in order beat hashing.
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0).min(16));
                while let Some(field) = map.next_entry()? {
                    fields.push(field);
                }
                Ok(OrderedMap(fields))
            }
        }

        deserializer.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

/// What the handler answers the host for one invocation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplyEnvelope<'a, R: Serialize> {
    /// Output binding values by exact binding name.
    #[serde(serialize_with = "as_map")]
    pub outputs: &'a [(String, serde_json::Value)],
    /// Lines the host writes to the function's log at Information level.
    pub logs: &'a [String],
    /// The `$return` binding's value; `null` for functions without one.
    pub return_value: Option<R>,
}

fn as_map<S: Serializer>(
    pairs: &&[(String, serde_json::Value)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(pairs.iter().map(|(key, value)| (key, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message for a long string where an object
    /// belongs is serde's, cut to size, but made from the string's start.
    #[test]
    fn a_long_string_is_refused_as_serde_would_from_its_start_only() {
        for text in ["x".repeat(5000), "\"\n\u{1}é😀".repeat(900)] {
            let raw = RawValue::from_string(serde_json::to_string(&text).unwrap()).unwrap();
            let ours = refuse_long_string(&raw, "Data.req").unwrap_err();
            let serde = serde_json::from_str::<OrderedMap<&RawValue>>(raw.get()).unwrap_err();
            assert_eq!(ours, invalid("Data.req", &serde));
            assert!(ours.message().chars().count() < 200, "{ours}");
        }
        let short = RawValue::from_string(r#""abc""#.to_owned()).unwrap();
        assert!(refuse_long_string(&short, "Data").is_ok());
        let object = RawValue::from_string(format!(r#"{{"a":"{}"}}"#, "x".repeat(5000))).unwrap();
        assert!(refuse_long_string(&object, "Data").is_ok());
    }

    #[test]
    fn a_host_envelope_keeps_each_binding_raw() {
        let body = br#"{"Data":{"req":{"Method":"GET"},"other":"\"x\""},"Metadata":{"DequeueCount":"2","Id":"\"abc\""}}"#;
        let envelope = Envelope::parse(body).unwrap().unwrap();
        assert_eq!(
            envelope.binding("req").unwrap().get(),
            r#"{"Method":"GET"}"#
        );
        assert!(envelope.binding("Req").is_none());
        let metadata = envelope.metadata_fields();
        assert_eq!(metadata.decoded::<u32>("DequeueCount"), Some(2));
        assert_eq!(metadata.decoded::<String>("Id").as_deref(), Some("abc"));
        assert_eq!(metadata.decoded::<String>("Missing"), None);
    }

    #[test]
    fn bodies_that_are_not_envelopes_are_direct_calls() {
        for body in [
            &b"{\"radius\": 2}"[..],
            b"",
            b"   ",
            b"[1]",
            b"2.5",
            b"{\"radius\": 2",
            b"\xff",
        ] {
            assert!(
                Envelope::parse(body).unwrap().is_none(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn an_envelope_of_the_wrong_shape_is_an_error_naming_where() {
        let cases: [(&[u8], &str); 4] = [
            (br#"{"Metadata":{}}"#, "the envelope has no Data"),
            (
                br#"{"Data":"{}","Metadata":{}}"#,
                "at Data: invalid type: string",
            ),
            (br#"{"Data":5}"#, "at Data: invalid type: integer"),
            (br#"{"Data":{},"Data":{}}"#, "duplicate field `Data`"),
        ];
        for (body, expected) in cases {
            let error = Envelope::parse(body).unwrap_err();
            assert_eq!(error.status(), 400);
            assert!(error.message().contains(expected), "{error}");
        }
    }

    #[test]
    fn values_encoded_twice_are_decoded_once_more() {
        let raw = |text: &str| RawValue::from_string(text.to_owned()).unwrap();
        assert_eq!(
            decode_twice::<String>(&raw(r#""\"hello\"""#)).as_deref(),
            Some("hello")
        );
        assert_eq!(decode_twice::<u32>(&raw(r#""1""#)), Some(1));
        assert_eq!(
            decode_twice::<String>(&raw(r#""2026-11-27T10:00:00Z""#)).as_deref(),
            Some("2026-11-27T10:00:00Z")
        );
        assert_eq!(decode_twice::<u32>(&raw("7")), Some(7));
    }

    #[test]
    fn pairs_read_any_shape_without_failing() {
        let text =
            r#"{"a":"1","h":["x","y",["deep"],{"o":1}],"n":2,"b":true,"z":null,"o":{"k":1}}"#;
        let Pairs(pairs) = serde_json::from_str(text).unwrap();
        let expected = [
            ("a", "1"),
            ("h", "x"),
            ("h", "y"),
            ("n", "2"),
            ("b", "true"),
        ];
        assert_eq!(
            pairs,
            expected.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec()
        );
        for not_an_object in [r#""{}""#, "[1]", "null", "5"] {
            let Pairs(pairs) = serde_json::from_str(not_an_object).unwrap();
            assert!(pairs.is_empty(), "{not_an_object}");
        }
        let deep = format!(
            r#"{{"a":[{}],"b":"2"}}"#,
            "[".repeat(10_000) + &"]".repeat(10_000)
        );
        let Pairs(pairs) = serde_json::from_str(&deep).unwrap();
        assert_eq!(pairs, [("b".to_owned(), "2".to_owned())]);
    }

    #[test]
    fn the_reply_has_the_names_the_host_reads() {
        let outputs = [("areas".to_owned(), serde_json::json!({"area": 1.0}))];
        let logs = ["[INFO] x".to_owned()];
        let reply = ReplyEnvelope {
            outputs: &outputs,
            logs: &logs,
            return_value: None::<()>,
        };
        assert_eq!(
            serde_json::to_string(&reply).unwrap(),
            r#"{"Outputs":{"areas":{"area":1.0}},"Logs":["[INFO] x"],"ReturnValue":null}"#
        );
    }
}
