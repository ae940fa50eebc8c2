//! The host's `TypedData` in, as the custom-handler envelope the same host
//! would have sent for the invocation (docs/native-worker.md, "Invocations"),
//! so that every trigger kind reads native invocations with the code that
//! reads envelopes; and the function's values out, as `TypedData`.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use worker_proto::{ParameterBinding, TypedData, parameter_binding, typed_data::Data};

use crate::error::Error;
use crate::http::HttpRequest;
use crate::outputs::Output;

/// A JSON object kept as raw values, in order.
struct Object(Vec<(String, Box<RawValue>)>);

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The envelope `{"Data": {...}, "Metadata": {...}}` for the inputs and
/// trigger metadata of an invocation. `activity` names the trigger
/// binding of an activity, whose input the envelope carries in
/// `Metadata.data` (docs/durable.md, "Activities"), where the host may
/// send it as a binding only. `caller` is the caller's request when the
/// host proxied it to the worker's HTTP server, which its HTTP input then
/// stands for.
pub(crate) fn envelope(
    inputs: &[ParameterBinding],
    metadata: &HashMap<String, TypedData>,
    activity: Option<&str>,
    caller: Option<&HttpRequest>,
) -> Result<Vec<u8>, Error> {
    let mut data = Object(Vec::with_capacity(inputs.len()));
    for binding in inputs {
        let Some(typed) = typed(binding)? else {
            continue;
        };
        let value = match (&typed.data, caller) {
            // The caller's request as the worker's HTTP server read it.
            (Some(Data::Http(_)), Some(caller)) => {
                raw(super::rpc_http::envelope_value(caller)?.to_string())?
            }
            _ => data_value(typed, &binding.name)?,
        };
        data.0.push((binding.name.clone(), value));
    }
    let mut fields = Object(Vec::with_capacity(metadata.len() + 1));
    // Sorted, so that the same invocation always reads the same.
    let mut keys: Vec<&String> = metadata.keys().collect();
    keys.sort();
    for key in keys {
        fields
            .0
            .push((key.clone(), metadata_value(&metadata[key], key)?));
    }
    if let Some(trigger) = activity
        && !metadata.contains_key("data")
        && let Some((_, value)) = data.0.iter().find(|(name, _)| name == trigger)
    {
        let text = serde_json::to_string(value.get()).map_err(internal)?;
        fields.0.push(("data".to_owned(), raw(text)?));
    }
    #[derive(serde::Serialize)]
    struct Envelope {
        #[serde(rename = "Data")]
        data: Object,
        #[serde(rename = "Metadata")]
        metadata: Object,
    }
    serde_json::to_vec(&Envelope {
        data,
        metadata: fields,
    })
    .map_err(internal)
}

/// The data of a binding; shared memory is never used, as the worker does
/// not advertise it.
pub(crate) fn typed(binding: &ParameterBinding) -> Result<Option<&TypedData>, Error> {
    match &binding.rpc_data {
        Some(parameter_binding::RpcData::Data(data)) => Ok(Some(data)),
        Some(parameter_binding::RpcData::RpcSharedMemory(_)) => Err(Error::BadRequest(format!(
            "invalid invocation: input {} came in shared memory, which this worker does not take",
            crate::text::quote(&binding.name)
        ))),
        None => Ok(None),
    }
}

/// A binding's value as the custom-handler host writes it in `Data`:
/// strings encoded twice (`"\"hello\""`), JSON as it is, bytes in base64.
fn data_value(typed: &TypedData, name: &str) -> Result<Box<RawValue>, Error> {
    match &typed.data {
        Some(Data::String(text)) => twice(text),
        Some(Data::Json(text)) => RawValue::from_string(text.clone()).map_err(|error| {
            Error::BadRequest(format!(
                "invalid invocation: input {} is not JSON: {error}",
                crate::text::quote(name)
            ))
        }),
        Some(Data::Http(http)) => {
            let request = super::rpc_http::request(http)?;
            raw(super::rpc_http::envelope_value(&request)?.to_string())
        }
        _ => plain(typed, name),
    }
}

/// A metadata value as the custom-handler host writes it: the value's JSON
/// text in a string (`"3"`, `"\"m-1\""`).
fn metadata_value(typed: &TypedData, name: &str) -> Result<Box<RawValue>, Error> {
    match &typed.data {
        Some(Data::String(text)) => twice(text),
        Some(Data::Json(text)) => raw(serde_json::to_string(text).map_err(internal)?),
        Some(Data::Http(_)) => raw("null".to_owned()),
        _ => {
            let value = plain(typed, name)?;
            raw(serde_json::to_string(value.get()).map_err(internal)?)
        }
    }
}

/// Values with one JSON form wherever they stand.
fn plain(typed: &TypedData, name: &str) -> Result<Box<RawValue>, Error> {
    let value = match &typed.data {
        None => Value::Null,
        Some(Data::Bytes(bytes) | Data::Stream(bytes)) => Value::String(BASE64.encode(bytes)),
        Some(Data::Int(number)) => Value::from(*number),
        Some(Data::Double(number)) => Value::from(*number),
        Some(Data::CollectionString(list)) => Value::from(list.string.clone()),
        Some(Data::CollectionBytes(list)) => Value::Array(
            list.bytes
                .iter()
                .map(|bytes| Value::String(BASE64.encode(bytes)))
                .collect(),
        ),
        Some(Data::CollectionDouble(list)) => Value::from(list.double.clone()),
        Some(Data::CollectionSint64(list)) => Value::from(list.sint64.clone()),
        Some(Data::ModelBindingData(_) | Data::CollectionModelBindingData(_)) => {
            return Err(Error::BadRequest(format!(
                "invalid invocation: input {} is SDK-type binding data, which this worker does not read",
                crate::text::quote(name)
            )));
        }
        Some(Data::String(_) | Data::Json(_) | Data::Http(_)) => {
            return Err(Error::Internal("not a plain value".to_owned()));
        }
    };
    raw(value.to_string())
}

/// `text` encoded twice, as the custom-handler host sends strings.
fn twice(text: &str) -> Result<Box<RawValue>, Error> {
    let once = serde_json::to_string(text).map_err(internal)?;
    raw(serde_json::to_string(&once).map_err(internal)?)
}

fn raw(text: String) -> Result<Box<RawValue>, Error> {
    RawValue::from_string(text).map_err(internal)
}

fn internal(error: serde_json::Error) -> Error {
    Error::Internal(format!("cannot write the invocation as JSON: {error}"))
}

/// An output binding's value as `TypedData`: JSON as `json`, text as
/// `string`, bytes as `bytes`, an HTTP response as `http`. The host reads
/// each as it is, so nothing needs base64 here.
pub(crate) fn output(value: &Output) -> TypedData {
    let data = match value {
        Output::Json(value) => Data::Json(value.to_string()),
        Output::Text(text) => Data::String(text.clone()),
        Output::Bytes(bytes) => Data::Bytes(bytes.clone()),
        Output::Http(response) => Data::Http(Box::new(super::rpc_http::response(response))),
    };
    TypedData { data: Some(data) }
}

/// A `ReturnValue` that is not an HTTP response (Durable triggers): a
/// string as `string` (the base64 the Durable extension reads), any other
/// JSON as `json`.
pub(crate) fn return_value(value: &Value) -> TypedData {
    let data = match value {
        Value::String(text) => Data::String(text.clone()),
        other => Data::Json(other.to_string()),
    };
    TypedData { data: Some(data) }
}
