//! The wire: the host's base64 protobuf requests in (an orchestrator's
//! `OrchestratorRequest`, an entity's `EntityBatchRequest`), the base64
//! responses out.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use prost::Message;

use super::proto::{
    EntityBatchRequest, EntityBatchResult, OrchestratorRequest, OrchestratorResponse,
};
use crate::error::Error;

/// Reads the request from the trigger binding's value: JSON strings
/// around base64 (the host encodes it twice), or the base64 text itself.
pub fn decode_request(value: &str) -> Result<OrchestratorRequest, Error> {
    let bytes = base64_of_binding(value, "the orchestration request")?;
    OrchestratorRequest::decode(bytes.as_slice()).map_err(|error| {
        Error::bad_request(format_args!(
            "the orchestration request is not an OrchestratorRequest ({error})"
        ))
    })
}

/// The bytes of a durable trigger's value: base64 inside as many JSON
/// string layers as the host wrapped it in; `what` names it in the 400.
pub(crate) fn base64_of_binding(value: &str, what: &str) -> Result<Vec<u8>, Error> {
    let mut text = value.trim().to_owned();
    // Unwraps each JSON string layer; base64 text itself is not one.
    while let Ok(inner) = serde_json::from_str::<String>(&text) {
        text = inner;
    }
    BASE64
        .decode(text.trim())
        .map_err(|error| Error::bad_request(format_args!("{what} is not base64 ({error})")))
}

/// The reply's `ReturnValue`: the response's protobuf in base64.
pub fn encode_response(response: &OrchestratorResponse) -> String {
    BASE64.encode(response.encode_to_vec())
}

/// Reads the batch from the trigger binding's value: base64 inside as many
/// JSON strings as the host wrapped it in.
pub fn decode_entity_request(value: &str) -> Result<EntityBatchRequest, Error> {
    let bytes = base64_of_binding(value, "the entity request")?;
    EntityBatchRequest::decode(bytes.as_slice()).map_err(|error| {
        Error::bad_request(format_args!(
            "the entity request is not an EntityBatchRequest ({error})"
        ))
    })
}

/// The reply's `ReturnValue`: the result's protobuf in base64.
pub fn encode_entity_result(result: &EntityBatchResult) -> String {
    BASE64.encode(result.encode_to_vec())
}
