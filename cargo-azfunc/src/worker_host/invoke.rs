//! One invocation through a worker: the body converted to an
//! InvocationRequest, the answer (or its lack) to the host's outcome,
//! under host.json's functionTimeout.

use serde_json::Value;

use crate::app::FunctionFolder;
use crate::handler::{Handler, within_function_timeout};
use crate::host::envelope::Outcome;

use super::Worker;
use super::request::{Shape, invocation_request};

/// Invokes `function` on `worker` with the invocation body `body`.
pub async fn invoke(
    handler: &Handler,
    worker: &Worker,
    function: &FunctionFolder,
    body: &Value,
    invocation_id: &str,
) -> Outcome {
    match send(handler, worker, function, body, invocation_id).await {
        Ok(answer) => super::reply::outcome(function, answer),
        Err(reason) => Outcome::no_reply(function, reason),
    }
}

/// The worker's answer, for callers that read it themselves.
pub async fn send(
    handler: &Handler,
    worker: &Worker,
    function: &FunctionFolder,
    body: &Value,
    invocation_id: &str,
) -> Result<super::Answer, String> {
    let Some(loaded) = worker.loaded(&function.name) else {
        return Err(format!(
            "the worker did not load function {}",
            function.name
        ));
    };
    if let Some(error) = &loaded.error {
        return Err(format!(
            "function {} failed to load: {error}",
            function.name
        ));
    }
    let shape = Shape::of(&worker.channel);
    if shape.http_uri && function.trigger_kind() == crate::app::TriggerKind::Http {
        return Err(format!(
            "the worker serves HTTP itself (it advertised {}): cargo-azfunc does not proxy callers' requests to a worker's HTTP server",
            super::capability::HTTP_URI
        ));
    }
    let request = invocation_request(function, &loaded.id, invocation_id, body, shape);
    let tag = format!("[{} {invocation_id}]", function.name);
    handler
        .console
        .envelope(&tag, "sent", format!("{request:?}").as_bytes());
    let answer = within_function_timeout(
        handler,
        worker.pid,
        function,
        worker.channel.invoke(request),
    )
    .await??;
    handler
        .console
        .envelope(&tag, "answer", format!("{:?}", answer.response).as_bytes());
    Ok(answer)
}
