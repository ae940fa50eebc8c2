//! One invocation through a language worker: its answer (or its lack)
//! made into the host's outcome; HTTP for a worker that serves it itself
//! forwarded to its server alongside (`worker_proxy`).

use serde_json::Value;

use crate::app::{FunctionFolder, TriggerKind};
use crate::handler::worker_invocation::send;
use crate::handler::{Handler, within_function_timeout};
use crate::host::envelope::{Outcome, Verdict, Written};
use crate::worker_host::{Worker, capability};

use super::{worker_proxy as proxy, worker_reply};

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
            Ok(answer) => worker_reply::outcome(function, answer),
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
        Ok(answer) => worker_reply::outcome(function, answer),
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
