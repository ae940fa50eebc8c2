//! The orchestrator's wire: the host's base64 `OrchestratorRequest` in,
//! the base64 `OrchestratorResponse` out.

use std::future::Future;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::context::{OrchestrationContext, OrchestratorError, encode};
use super::proto::{OrchestratorRequest, OrchestratorResponse};
use super::replay::{self, Run};
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

/// Replays `request` through `orchestrator`, the orchestrator named
/// `name`, and gives the response with its new actions. A history that
/// starts another orchestrator, or that the code no longer matches,
/// fails the orchestration with the reason; it never panics.
pub fn run_orchestrator<I, O, F, Fut>(
    request: &OrchestratorRequest,
    name: &str,
    orchestrator: &F,
) -> OrchestratorResponse
where
    I: DeserializeOwned,
    O: Serialize,
    F: Fn(OrchestrationContext, I) -> Fut,
    Fut: Future<Output = Result<O, OrchestratorError>> + 'static,
{
    let start = |context: OrchestrationContext, input: Option<String>| -> Run {
        let text = input.as_deref().unwrap_or("null");
        let input = match serde_json::from_str::<I>(text) {
            Ok(input) => input,
            Err(error) => {
                let error = OrchestratorError::new(format_args!(
                    "the orchestration's input {text} is not of the expected type: {error}"
                ));
                return Box::pin(async move { Err(error) });
            }
        };
        let running = orchestrator(context, input);
        Box::pin(async move {
            let output = running.await?;
            encode(&output).map_err(OrchestratorError::from)
        })
    };
    replay::execute(request, name, &start)
}
