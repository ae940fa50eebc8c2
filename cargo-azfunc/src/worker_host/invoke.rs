//! One invocation through a worker: the body converted to an
//! InvocationRequest, the answer (or its lack) to the host's outcome,
//! under host.json's functionTimeout. HTTP for a worker that serves it
//! itself is forwarded to its server alongside (see `proxy`).

use serde_json::Value;

use crate::app::{FunctionFolder, TriggerKind};
use crate::handler::{Handler, within_function_timeout};
use crate::host::envelope::{Outcome, Verdict, Written};

use super::request::{Shape, invocation_request};
use super::{Answer, Worker, capability, proxy};

/// Invokes `function` on `worker` with the invocation body `body`.
pub async fn invoke(
    handler: &Handler,
    worker: &Worker,
    function: &FunctionFolder,
    body: &Value,
    invocation_id: &str,
) -> Outcome {
    let proxied = worker
        .channel
        .capabilities
        .get(capability::HTTP_URI)
        .filter(|uri| !uri.is_empty() && function.trigger_kind() == TriggerKind::Http);
    let Some(base) = proxied else {
        return match send(handler, worker, function, body, invocation_id).await {
            Ok(answer) => super::reply::outcome(function, answer),
            Err(reason) => Outcome::no_reply(function, reason),
        };
    };
    let request = body
        .get("Data")
        .and_then(|data| data.get(&function.trigger().name))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let forwarded = proxy::forward(base, &request, invocation_id);
    let (answer, forwarded) = tokio::join!(
        send(handler, worker, function, body, invocation_id),
        within_function_timeout(handler, worker.pid, function, forwarded)
    );
    let mut outcome = match answer {
        Ok(answer) => super::reply::outcome(function, answer),
        Err(reason) => return Outcome::no_reply(function, reason),
    };
    if outcome.succeeded() {
        match forwarded.and_then(|forwarded| forwarded) {
            Ok(response) => {
                for output in &mut outcome.outputs {
                    if matches!(output.value, Written::Http(_)) {
                        output.value = Written::Http(response.clone());
                    }
                }
                outcome.response = Some(response);
            }
            Err(reason) => {
                outcome.verdict = Verdict::Failed(reason);
                outcome.response = Some(crate::host::envelope::CallerResponse::failed());
            }
        }
    }
    outcome
}

/// The worker's answer, for callers that read it themselves.
pub async fn send(
    handler: &Handler,
    worker: &Worker,
    function: &FunctionFolder,
    body: &Value,
    invocation_id: &str,
) -> Result<Answer, String> {
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
    let request = invocation_request(function, &loaded.id, invocation_id, body, shape);
    let tag = format!("[{} {invocation_id}]", function.name);
    handler
        .console
        .envelope(&tag, "sent", format!("{request:?}").as_bytes());
    let sent = worker.channel.invoke(request, tag.clone());
    let answer = within_function_timeout(handler, worker.pid, function, sent).await??;
    handler
        .console
        .envelope(&tag, "answer", format!("{:?}", answer.response).as_bytes());
    Ok(answer)
}
