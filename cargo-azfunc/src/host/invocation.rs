//! One invocation from start to finish: send the body to the handler as the
//! host does, read the reply back, and show what the host would log.

use function_app::RouteTemplate;

use serde_json::Value;

use crate::app::{FunctionFolder, TriggerKind};
use crate::console::{Console, Finished};
use crate::handler::client::{Failure, HttpReply};
use crate::handler::{Handler, Link, within_function_timeout};
use crate::host::envelope::{CallerRequest, Outcome, Verdict, Written, read_reply};
use crate::host::warnings::{Rule, Warning};

/// How the host cuts a body into chunks on the wire.
const PIECE: usize = 16 * 1024;

/// Sends `body` to `function` and reads the reply as the host would. An
/// invocation that outlives host.json's functionTimeout fails with the
/// host's words, and its handler process is killed and started again, as
/// the host does (every other invocation in flight on it dies too).
pub async fn invoke(
    handler: &Handler,
    function: &FunctionFolder,
    body: &Value,
    invocation_id: &str,
) -> Outcome {
    let started = std::time::Instant::now();
    let mut outcome = send(handler, function, body, invocation_id).await;
    outcome.duration = started.elapsed();
    outcome
}

async fn send(
    handler: &Handler,
    function: &FunctionFolder,
    body: &Value,
    invocation_id: &str,
) -> Outcome {
    let (client, pid) = match handler.ready().await {
        Ok((Link::Http(client), pid)) => (*client, pid),
        Ok((Link::Worker(worker), _)) => {
            return crate::host::worker_invocation::invoke(
                handler,
                &worker,
                function,
                body,
                invocation_id,
            )
            .await;
        }
        Err(reason) => {
            return Outcome::no_reply(function, format!("the handler is not running: {reason}"));
        }
    };
    let bytes = match serde_json::to_vec(body) {
        Ok(bytes) => bytes,
        Err(e) => return Outcome::no_reply(function, format!("cannot encode the invocation: {e}")),
    };
    let tag = format!("[{} {invocation_id}]", function.name);
    handler.console.envelope(&tag, "sent", &bytes);
    let sent = client.try_invoke(&function.name, &bytes, invocation_id, PIECE);
    match within_function_timeout(handler, pid, function, sent).await {
        Ok(result) => answered(handler, &tag, function, result),
        Err(reason) => Outcome::no_reply(function, reason),
    }
}

/// What the host makes of the handler's reply, or of its lack.
fn answered(
    handler: &Handler,
    tag: &str,
    function: &FunctionFolder,
    result: Result<HttpReply, Failure>,
) -> Outcome {
    match result {
        Ok(reply) => {
            let what = format!("reply {}", reply.status);
            handler.console.envelope(tag, &what, &reply.body);
            read_reply(function, &reply)
        }
        Err(failure) => {
            let mut outcome = Outcome::no_reply(function, failure.to_string());
            if let Failure::TooLarge { limit, .. } = failure {
                outcome.warnings.push(Warning::new(
                    Rule::ReplyTooLarge,
                    format!("the reply is larger than {}", crate::limits::size(limit)),
                ));
            }
            outcome
        }
    }
}

/// Prints the outcome the way the host logs it: each `Logs` line with the
/// function name and invocation id, every output's value, the warnings and
/// the verdict.
pub fn report(
    console: &Console,
    function: &FunctionFolder,
    invocation_id: &str,
    outcome: &Outcome,
) {
    let tag = format!("[{} {invocation_id}]", function.name);
    for line in outcome.logs.iter().filter(|_| !outcome.logs_shown) {
        if outcome.logs_kept {
            console.info(format!("{tag} {line}"));
        } else {
            console.info(format!("{tag} (log the host discards) {line}"));
        }
    }
    for output in &outcome.outputs {
        if !matches!(output.value, Written::Nothing) || output.kind != "http" {
            console.info(format!("{tag} {output}"));
        }
    }
    for warning in &outcome.warnings {
        console.warning(format!("{tag} {warning}"));
    }
    let (outcome_name, reason) = match &outcome.verdict {
        Verdict::Succeeded => ("Succeeded", None),
        Verdict::Failed(reason) => ("Failed", Some(reason.as_str())),
        Verdict::Hangs(reason) => ("NeverCompletes", Some(reason.as_str())),
    };
    console.finished(Finished {
        function: &function.name,
        invocation_id,
        duration: outcome.duration,
        outcome: outcome_name,
        reason,
    });
}

/// The request a caller makes when they POST `input` to an HTTP function
/// (the admin endpoint and `invoke --data-file`): its route with the
/// parameters left out, JSON content type when the input is JSON.
pub fn http_request_for_input(
    function: &FunctionFolder,
    route_prefix: &str,
    authority: &str,
    input: &[u8],
) -> (CallerRequest, Vec<(String, Option<String>)>) {
    let route = function
        .trigger()
        .route
        .clone()
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| function.name.clone());
    let template = RouteTemplate::parse(route_prefix, &route).ok();
    let path = template.as_ref().map_or_else(
        || {
            let prefix = route_prefix.trim_matches('/');
            format!("/{prefix}/{}", route.trim_matches('/')).replace("//", "/")
        },
        RouteTemplate::literal_path,
    );
    let params = template
        .map(|t| {
            t.parameters()
                .into_iter()
                .map(|name| (name.to_owned(), None))
                .collect()
        })
        .unwrap_or_default();
    let content_type = if serde_json::from_slice::<Value>(input).is_ok() {
        "application/json"
    } else {
        "text/plain"
    };
    let mut headers = vec![
        ("Host".to_owned(), authority.to_owned()),
        ("Content-Type".to_owned(), content_type.to_owned()),
    ];
    if !input.is_empty() {
        headers.push(("Content-Length".to_owned(), input.len().to_string()));
    }
    let request = CallerRequest {
        method: "POST".into(),
        url: format!("http://{authority}{path}"),
        headers,
        body: (!input.is_empty()).then(|| input.to_vec()),
    };
    (request, params)
}

/// Whether `function` is HTTP-triggered.
pub fn is_http(function: &FunctionFolder) -> bool {
    function.trigger_kind() == TriggerKind::Http
}
