//! One invocation sent to a language worker and its answer awaited,
//! under host.json's functionTimeout (past it the worker is restarted).

use serde_json::Value;

use crate::app::FunctionFolder;
use crate::worker_host::request::{Shape, invocation_request};
use crate::worker_host::{Answer, Worker};

use super::{Handler, within_function_timeout};

/// Sends the invocation body `body` of `function` to `worker`; its answer.
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
