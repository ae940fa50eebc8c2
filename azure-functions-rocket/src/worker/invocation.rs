//! One invocation: the host's `InvocationRequest` read as the function's
//! input, the function run (its own log, a panic caught), and its result
//! as the `InvocationResponse` and the `RpcLog`s that go before it
//! (docs/native-worker.md, "Invocations").

use worker_proto::rpc_log::{Level, RpcLogCategory};
use worker_proto::status_result::Status;
use worker_proto::{
    InvocationRequest, InvocationResponse, ParameterBinding, RpcException, RpcHttp, RpcLog,
    StatusResult, TypedData, parameter_binding, typed_data::Data,
};

use crate::envelope::Envelope;
use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse};
use crate::log::InvocationLog;
use crate::outputs::Reply;
use crate::registry::{Arrival, Function};

use super::http_uri::Handover;
use super::{rpc_http, typed_data};

/// What goes back to the host for one invocation, in this order.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The function's log lines, each routed to the invocation.
    pub logs: Vec<RpcLog>,
    pub response: InvocationResponse,
}

/// Runs `function` on `request`.
pub(crate) async fn run(function: &Function, request: &InvocationRequest) -> Answer {
    let started = start(function, request, None);
    let (result, log) = crate::adapter::execute(function, started, span(function, request)).await;
    answer(function, &request.invocation_id, result, log, false).0
}

/// Runs HTTP `function` on `request` when the host proxies callers'
/// requests to the worker's HTTP server (`HttpUri`): the function takes
/// the caller's request from there and answers the caller there; a
/// function served by the app's own routes has answered already.
pub(crate) async fn run_proxied(
    function: &Function,
    request: &InvocationRequest,
    handover: &Handover,
) -> Answer {
    let id = &request.invocation_id;
    if !function.routes.is_empty() {
        let response = match handover.answer_of(id).await {
            Some(_) => success(id, false, Reply::default()),
            None => failure(id, function.name(), never_came()),
        };
        return Answer {
            logs: Vec::new(),
            response,
        };
    }
    let Some((caller, respond)) = handover.take(id).await else {
        return Answer {
            logs: Vec::new(),
            response: failure(id, function.name(), never_came()),
        };
    };
    let started = caller.and_then(|caller| start(function, request, Some(caller)));
    let (result, log) = crate::adapter::execute(function, started, span(function, request)).await;
    let (answer, response) = answer(function, id, result, log, true);
    // A caller gone meanwhile does not change the invocation's outcome.
    let _ = respond.send(response.unwrap_or_else(|| HttpResponse::new(200, "")));
    answer
}

/// The invocation's span, child of the host's trace context.
fn span(function: &Function, request: &InvocationRequest) -> crate::trace::Span {
    let context = request.trace_context.clone().unwrap_or_default();
    crate::trace::traced_invocation_span(
        function.name(),
        &request.invocation_id,
        &context.trace_parent,
        &context.trace_state,
        context
            .attributes
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    )
}

fn never_came() -> String {
    "the caller's request for this invocation never reached the worker's HTTP server".to_owned()
}

/// Reads the input and starts the function. An HTTP function gets the
/// caller's request directly (`caller`, when the host proxied it);
/// every other function (and one that also takes a `durableClient`)
/// reads the envelope the custom-handler host would have sent, so that
/// each trigger kind reads both modes alike.
fn start(
    function: &Function,
    request: &InvocationRequest,
    caller: Option<HttpRequest>,
) -> Result<crate::registry::Running, Error> {
    let trigger = function
        .followed
        .as_ref()
        .and_then(|followed| followed.trigger.as_deref())
        .unwrap_or(&function.trigger.name);
    if function.trigger_type() == "httpTrigger" && function.client().is_none() {
        let request = match caller {
            Some(caller) => caller,
            None => rpc_http::request(http_input(request, trigger)?)?,
        };
        return crate::adapter::start(function, Arrival::Forwarded(request));
    }
    let activity = (function.trigger_type() == "activityTrigger").then_some(trigger);
    let body = typed_data::envelope(
        &request.input_data,
        &request.trigger_metadata,
        activity,
        caller.as_ref(),
    )?;
    let envelope = Envelope::parse(&body)?.ok_or_else(|| {
        Error::Internal("the invocation's envelope could not be read back".to_owned())
    })?;
    crate::adapter::start(function, Arrival::Host(&envelope))
}

/// The HTTP request in input `trigger` (any input, if its name is not
/// known).
fn http_input<'a>(request: &'a InvocationRequest, trigger: &str) -> Result<&'a RpcHttp, Error> {
    request
        .input_data
        .iter()
        .filter(|binding| binding.name == trigger || trigger.is_empty())
        .find_map(|binding| match &binding.rpc_data {
            Some(parameter_binding::RpcData::Data(TypedData {
                data: Some(Data::Http(http)),
            })) => Some(&**http),
            _ => None,
        })
        .ok_or_else(|| {
            Error::BadRequest(format!(
                "invalid invocation: no HTTP request in input {}",
                crate::text::quote(trigger)
            ))
        })
}

/// The response for `result`, with the meaning of failure that fits the
/// trigger, as in the custom-handler envelope (docs/host-protocol.md,
/// "handler -> host"): an HTTP function's failure is the caller's error
/// response; any other function's fails the invocation, so that the host
/// retries its message.
pub(crate) fn answer(
    function: &Function,
    invocation_id: &str,
    result: Result<Reply, Error>,
    log: InvocationLog,
    proxied: bool,
) -> (Answer, Option<HttpResponse>) {
    let http = function.fails_in_envelope;
    let (status, error, outcome) = match result {
        Ok(Reply {
            response: Some(response),
            ..
        }) if !http && response.status >= 400 => {
            let reason = format!("the function returned a {} response", response.status);
            (response.status, Some(reason.clone()), Err(reason))
        }
        Ok(reply) => {
            let status = reply.response.as_ref().map_or(200, |r| r.status);
            (status, None, Ok(reply))
        }
        Err(error) if http => {
            let response = HttpResponse::error(&error);
            let reply = Reply {
                response: Some(response),
                ..Reply::default()
            };
            (error.status(), Some(error.message().to_owned()), Ok(reply))
        }
        Err(error) => (
            error.status(),
            Some(error.message().to_owned()),
            Err(error.message().to_owned()),
        ),
    };
    let logs = log
        .lines(
            function.name(),
            Some(invocation_id),
            status,
            error.as_deref(),
        )
        .into_iter()
        .map(|line| record(invocation_id, function.name(), &line))
        .collect();
    let mut caller = None;
    let response = match outcome {
        // The caller gets the response from the worker's HTTP server.
        Ok(mut reply) if proxied && http => {
            caller = reply.response.take();
            success(invocation_id, false, reply)
        }
        Ok(reply) => success(invocation_id, http, reply),
        Err(message) => failure(invocation_id, function.name(), message),
    };
    (Answer { logs, response }, caller)
}

fn success(invocation_id: &str, http: bool, reply: Reply) -> InvocationResponse {
    let output_data = reply
        .outputs
        .names()
        .filter_map(|name| {
            let value = reply.outputs.get(name)?;
            Some(ParameterBinding {
                name: name.to_owned(),
                rpc_data: Some(parameter_binding::RpcData::Data(typed_data::output(value))),
            })
        })
        .collect();
    let return_value = match (&reply.value, reply.response) {
        (Some(value), _) => Some(typed_data::return_value(value)),
        (None, Some(response)) => Some(http_value(&response)),
        // An HTTP function that returned no response answers 200, empty.
        (None, None) if http => Some(http_value(&HttpResponse::new(200, ""))),
        (None, None) => None,
    };
    InvocationResponse {
        invocation_id: invocation_id.to_owned(),
        output_data,
        return_value,
        result: Some(StatusResult {
            status: Status::Success as i32,
            ..StatusResult::default()
        }),
    }
}

fn http_value(response: &HttpResponse) -> TypedData {
    TypedData {
        data: Some(Data::Http(Box::new(rpc_http::response(response)))),
    }
}

/// A failed invocation: the host raises `message` as its exception.
pub(crate) fn failure(invocation_id: &str, source: &str, message: String) -> InvocationResponse {
    status(invocation_id, Status::Failure, source, message)
}

/// An invocation with `status` and `message` as its exception.
pub(crate) fn status(
    invocation_id: &str,
    status: Status,
    source: &str,
    message: String,
) -> InvocationResponse {
    InvocationResponse {
        invocation_id: invocation_id.to_owned(),
        result: Some(StatusResult {
            status: status as i32,
            exception: Some(RpcException {
                source: source.to_owned(),
                message,
                ..RpcException::default()
            }),
            ..StatusResult::default()
        }),
        ..InvocationResponse::default()
    }
}

/// One line of the invocation's log as the host's user log record, its
/// level read back from the line's `[LEVEL]` prefix.
fn record(invocation_id: &str, function: &str, line: &str) -> RpcLog {
    let (level, message) = [
        ("[INFO] ", Level::Information),
        ("[WARN] ", Level::Warning),
        ("[ERROR] ", Level::Error),
    ]
    .iter()
    .find_map(|(prefix, level)| line.strip_prefix(prefix).map(|rest| (*level, rest)))
    .unwrap_or((Level::Information, line));
    RpcLog {
        invocation_id: invocation_id.to_owned(),
        category: format!("Function.{function}.User"),
        level: level as i32,
        message: message.to_owned(),
        log_category: RpcLogCategory::User as i32,
        ..RpcLog::default()
    }
}
