//! The layer between the host and a function, done once for every
//! function: read the input, run the function with its own log and with
//! panics caught, and answer in the envelope with the meaning of failure
//! that fits the trigger (docs/host-protocol.md, "handler -> host" and "Non-HTTP triggers and output bindings").

use std::panic::AssertUnwindSafe;

use rocket::futures::FutureExt;

use crate::config::LARGE_INVOCATION;
use crate::envelope::{Envelope, Pairs, ReplyEnvelope};
use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse};
use crate::log::InvocationLog;
use crate::outputs::Reply;
use crate::registry::{Arrival, Function};
use crate::trace;
use crate::trigger::DirectCall;

/// What goes back to the host: the HTTP status of the reply itself and
/// the JSON envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The reply's HTTP status: 200, or for a failed non-HTTP invocation
    /// the error's status.
    pub status: u16,
    /// The JSON envelope (`Outputs`, `Logs`, `ReturnValue`).
    pub body: Vec<u8>,
}

/// Runs `function` on the invocation `body`: the host's envelope, or else
/// a direct call, which `direct` describes from the body.
pub async fn invoke<'a>(
    function: &Function,
    body: &'a [u8],
    direct: impl FnOnce(&'a [u8]) -> DirectCall<'a>,
    invocation_id: Option<&str>,
) -> Answer {
    let span = trace::invocation_span(function.name, invocation_id);
    let read = || match Envelope::parse(body) {
        Ok(Some(envelope)) => {
            follow_caller(&span, |name| {
                envelope
                    .metadata_fields()
                    .decoded::<Pairs>("Headers")
                    .and_then(|headers| find_header(headers.0, name))
            });
            start(function, Arrival::Host(&envelope))
        }
        Ok(None) => start(function, Arrival::Direct(direct(body))),
        Err(error) => Err(error),
    };
    let started = if body.len() >= LARGE_INVOCATION {
        off_the_workers(read)
    } else {
        read()
    };
    let (result, log) = execute(function, started, span).await;
    answer(function, invocation_id, result, log)
}

/// Makes the caller's trace context the parent of `span`. The host sends
/// none of its own to a custom handler (docs/host-protocol.md, "Default
/// mode (enableForwardingHttpRequest false or absent): host -> handler"), so an HTTP caller's
/// `traceparent` and `tracestate` headers are the nearest parent there is.
fn follow_caller(span: &trace::Span, header: impl Fn(&str) -> Option<String>) {
    if !trace::is_recorded(span) {
        return;
    }
    if let Some(traceparent) = header("traceparent") {
        let tracestate = header("tracestate").unwrap_or_default();
        trace::follow(span, &traceparent, &tracestate, []);
    }
}

fn find_header(headers: Vec<(String, String)>, name: &str) -> Option<String> {
    headers
        .into_iter()
        .rev()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// Runs the started function in its span with its own log, a panic caught.
pub(crate) async fn execute(
    function: &Function,
    started: Result<crate::registry::Running, Error>,
    span: trace::Span,
) -> (Result<Reply, Error>, InvocationLog) {
    let (result, log) = match started {
        Ok(running) => trace::observed(span, AssertUnwindSafe(running).catch_unwind()).await,
        Err(error) => (Ok(Err(error)), InvocationLog::default()),
    };
    // Nothing is shared between invocations, so a panic leaves nothing
    // half-updated behind: only its own invocation fails. The panic
    // message went to stderr, which the host logs as an error.
    let result = result
        .unwrap_or_else(|_| {
            Err(Error::Internal(
                "the function failed unexpectedly".to_owned(),
            ))
        })
        .and_then(|reply| declared(function, reply));
    (result, log)
}

/// Runs HTTP `function` on a caller's request that the host forwarded as
/// it came (forwarding and proxying modes, docs/host-protocol.md "Forwarding mode"
/// and "Newer host options"): the caller gets the function's response itself, or the same
/// error response the envelope would carry; the log lines go to stdout
/// (information) and stderr (warnings and errors), as no `Logs` travel.
pub async fn respond(
    function: &Function,
    request: HttpRequest,
    invocation_id: Option<&str>,
) -> HttpResponse {
    let span = trace::invocation_span(function.name, invocation_id);
    follow_caller(&span, |name| request.header(name).map(str::to_owned));
    let started = start(function, Arrival::Forwarded(request));
    let (result, log) = execute(function, started, span).await;
    let (response, error) = match result {
        Ok(reply) => (
            reply.response.unwrap_or_else(|| HttpResponse::new(200, "")),
            None,
        ),
        Err(error) => (HttpResponse::error(&error), Some(error)),
    };
    let message = error.as_ref().map(Error::message);
    log.print(function.name, invocation_id, response.status, message);
    response
}

/// Runs `work` (parsing a large invocation: up to seconds of CPU) so that
/// the async workers go on serving other invocations and health pings:
/// tokio hands this worker's other tasks to a new worker meanwhile. On a
/// current-thread runtime (`ROCKET_WORKERS=1`) there is no other worker.
fn off_the_workers<T>(work: impl FnOnce() -> T) -> T {
    use rocket::tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            rocket::tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// Starts the function, a panic while reading its input included.
pub(crate) fn start(
    function: &Function,
    arrival: Arrival<'_>,
) -> Result<crate::registry::Running, Error> {
    std::panic::catch_unwind(AssertUnwindSafe(|| function.start(arrival))).unwrap_or_else(|_| {
        Err(Error::Internal(
            "the function failed unexpectedly".to_owned(),
        ))
    })
}

/// The reply, if it writes only the outputs the function declares: the
/// host would silently drop any other.
fn declared(function: &Function, reply: Reply) -> Result<Reply, Error> {
    let undeclared = reply
        .outputs
        .names()
        .find(|name| !function.writes(name))
        .map(crate::text::quote);
    if let Some(error) = reply.outputs.unwritable(&function.binary_outputs()) {
        return Err(error);
    }
    match undeclared {
        None => Ok(reply),
        Some(name) => Err(Error::Internal(format!(
            "the function wrote output {name}, which its registry entry does not declare"
        ))),
    }
}

/// The answer for an invocation the handler refused before the function
/// ran, e.g. one over the size limit.
pub fn refuse(function: &Function, invocation_id: Option<&str>, error: Error) -> Answer {
    answer(
        function,
        invocation_id,
        Err(error),
        InvocationLog::default(),
    )
}

/// The caller's error response for a forwarded request the handler
/// refused before the function ran, its reason logged on stderr.
pub fn refuse_request(
    function: &Function,
    invocation_id: Option<&str>,
    error: Error,
) -> HttpResponse {
    let response = HttpResponse::error(&error);
    InvocationLog::default().print(
        function.name,
        invocation_id,
        response.status,
        Some(error.message()),
    );
    response
}

fn answer(
    function: &Function,
    invocation_id: Option<&str>,
    result: Result<Reply, Error>,
    log: InvocationLog,
) -> Answer {
    match result {
        // A non-HTTP function's failure must fail the invocation, whether
        // it was returned as an error or as a 4xx/5xx response.
        Ok(Reply {
            response: Some(response),
            ..
        }) if !function.fails_in_envelope && response.status >= 400 => {
            let reason = format!("the function returned a {} response", response.status);
            let logs = log.lines(function.name, invocation_id, response.status, Some(&reason));
            failed(logs, response.status)
        }
        Ok(reply) => {
            let status = reply
                .response
                .as_ref()
                .map_or(200, |response| response.status);
            let logs = log.lines(function.name, invocation_id, status, None);
            if let Some(value) = &reply.value {
                return Answer {
                    status: 200,
                    body: envelope(
                        &reply.outputs.to_wire(&function.binary_outputs()),
                        &logs,
                        Some(value),
                    ),
                };
            }
            Answer {
                status: 200,
                body: envelope(
                    &reply.outputs.to_wire(&function.binary_outputs()),
                    &logs,
                    reply.response.as_ref(),
                ),
            }
        }
        Err(error) => {
            let logs = log.lines(
                function.name,
                invocation_id,
                error.status(),
                Some(error.message()),
            );
            if function.fails_in_envelope {
                // The caller's status travels inside a 200: a non-2xx reply
                // would reach the caller as an empty 500, logs lost.
                let response = HttpResponse::error(&error);
                return Answer {
                    status: 200,
                    body: envelope(&[], &logs, Some(&response)),
                };
            }
            failed(logs, error.status())
        }
    }
}

/// A failed non-HTTP invocation: a non-2xx reply fails it, so the host
/// retries the message instead of losing it, and writes no output; it
/// drops `Logs` then, so the reason goes to stderr too.
fn failed(logs: Vec<String>, status: u16) -> Answer {
    if let Some(last) = logs.last() {
        eprintln!("{last}");
    }
    Answer {
        status,
        body: envelope(&[], &logs, None::<()>),
    }
}

fn envelope<R: serde::Serialize>(
    outputs: &[(String, serde_json::Value)],
    logs: &[String],
    response: Option<R>,
) -> Vec<u8> {
    let reply = ReplyEnvelope {
        outputs,
        logs,
        return_value: response,
    };
    // Serialising strings, numbers and JSON values into a Vec cannot fail.
    serde_json::to_vec(&reply).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use rocket::http::{ContentType, Header, Status};
    use rocket::local::blocking::Client;
    use serde::Deserialize;
    use serde_json::{Value, json};

    use crate::Binding;
    use crate::error::Error;
    use crate::http::{HttpRequest, HttpResponse};
    use crate::log;
    use crate::outputs::Outputs;
    use crate::registry::{Function, Registry};
    use crate::server;
    use crate::trigger::{QueueMessage, TimerInfo, TriggerInput};

    #[derive(Deserialize)]
    struct Radius {
        radius: f64,
    }

    async fn echo(req: HttpRequest) -> Result<(HttpResponse, Outputs), Error> {
        let body = json!({
            "method": req.method, "x": req.query("x"), "id": req.param("id"),
            "accept": req.header("accept"), "body": req.text()?,
        });
        let copy = Outputs::new().text("copy", req.text()?);
        Ok((HttpResponse::json(&body)?.with_status(201), copy))
    }

    async fn queue_area(message: QueueMessage) -> Result<Outputs, Error> {
        let Radius { radius } = message.json()?;
        log::field("dequeue_count", message.dequeue_count.unwrap_or(0));
        if radius < 0.0 {
            return Err(Error::bad_request(format_args!(
                "radius must not be negative, got {radius}"
            )));
        }
        Outputs::new().json(
            "areas",
            &json!({"radius": radius, "area": std::f64::consts::PI * radius * radius}),
        )
    }

    async fn tick(timer: TimerInfo) -> Result<(), Error> {
        log::info(format_args!("past due: {}", timer.is_past_due));
        Ok(())
    }

    async fn blob(input: TriggerInput) -> Result<Outputs, Error> {
        Ok(Outputs::new().text("out", input.json::<String>()?))
    }

    async fn panics<T>(_: T) -> Result<(), Error> {
        panic!("boom")
    }

    /// `?` on a JSON error, then on any other error, then log fields of
    /// every integer type and bool.
    async fn questioning(req: HttpRequest) -> Result<HttpResponse, Error> {
        log::field("len", req.text()?.len());
        log::field("big", u64::MAX);
        log::field("signed", -3i16);
        log::field("flag", true);
        let radius: f64 = serde_json::from_str(req.text()?)?;
        std::fs::read(format!("/nonexistent/{radius}"))?;
        Ok(HttpResponse::new(200, "unreachable"))
    }

    /// A queue function that answers with a failing response, and an
    /// output the host must not write.
    async fn refuses(message: QueueMessage) -> Result<(HttpResponse, Outputs), Error> {
        let status = message.text.parse().unwrap_or(503);
        let outputs = Outputs::new().text("areas", "never written");
        Ok((HttpResponse::new(status, "busy"), outputs))
    }

    async fn sneaky(_: QueueMessage) -> Result<Outputs, Error> {
        Ok(Outputs::new().text("Areas", "x"))
    }

    fn client() -> Client {
        let registry = Registry::new()
            .with(
                Function::http("Echo", echo)
                    .binding("req")
                    .output(Binding::queue("copy", "copy")),
            )
            .with(
                Function::queue("QueueArea", queue_area)
                    .binding("msg")
                    .output(Binding::queue("areas", "areas")),
            )
            .with(Function::timer("Tick", tick).binding("timer"))
            .with(
                Function::trigger("Blob", "blobTrigger", blob)
                    .binding("blob")
                    .output(Binding::blob("out", "out/{rand-guid}")),
            )
            .with(Function::http("HttpBoom", panics::<HttpRequest>).binding("req"))
            .with(Function::queue("QueueBoom", panics::<QueueMessage>).binding("msg"))
            .with(
                Function::queue("Sneaky", sneaky)
                    .binding("msg")
                    .output(Binding::queue("areas", "areas")),
            )
            .with(
                Function::queue("QueueRefuses", refuses)
                    .binding("msg")
                    .output(Binding::queue("areas", "areas")),
            )
            .with(Function::http("Questioning", questioning).binding("req"));
        Client::tracked(server::app(registry)).expect("valid app")
    }

    /// What the host gets back: the reply's HTTP status and its envelope.
    fn invoke(client: &Client, function: &str, data: Value, metadata: Value) -> (u16, Value) {
        let response = client
            .post(format!("/{function}"))
            .header(Header::new("X-Azure-Functions-InvocationId", "id-7"))
            .body(json!({"Data": data, "Metadata": metadata}).to_string())
            .dispatch();
        assert_eq!(response.content_type(), Some(ContentType::JSON));
        let status = response.status().code;
        (status, response.into_json().expect("a JSON envelope"))
    }

    fn caller(envelope: &Value) -> (u64, Value) {
        let ret = &envelope["ReturnValue"];
        let body = serde_json::from_str(ret["body"].as_str().expect("a string body"));
        (
            ret["statusCode"].as_u64().expect("statusCode"),
            body.expect("a JSON body"),
        )
    }

    #[test]
    fn question_marks_give_400_for_json_and_500_for_the_rest_with_the_reason_logged() {
        let (_, envelope) = invoke(
            &client(),
            "Questioning",
            json!({"req": {"Body": "x"}}),
            json!({}),
        );
        let (status, body) = caller(&envelope);
        assert_eq!(status, 400);
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("the input is not valid JSON: expected value"),
            "{body}"
        );
        let (_, envelope) = invoke(
            &client(),
            "Questioning",
            json!({"req": {"Body": "2"}}),
            json!({}),
        );
        assert_eq!(
            caller(&envelope),
            (500, json!({"error": "the function failed unexpectedly"}))
        );
        let logs = envelope["Logs"].to_string();
        assert!(
            logs.contains(r#"len=1 big=18446744073709551615 signed=-3 flag=true status=500 error=\"No such file or directory (os error 2)\""#),
            "{logs}"
        );
    }

    #[test]
    fn an_http_function_sees_the_request_and_sets_return_and_outputs() {
        let req = json!({"Method": "POST", "Query": {"x": "1,2"}, "Params": {"id": "9"},
                         "Headers": {"Accept": ["*/*"]}, "Body": "hello"});
        let (status, envelope) = invoke(&client(), "Echo", json!({"req": req}), json!({}));
        assert_eq!(status, 200);
        let expected =
            json!({"method": "POST", "x": "1,2", "id": "9", "accept": "*/*", "body": "hello"});
        assert_eq!(caller(&envelope), (201, expected));
        assert_eq!(envelope["Outputs"], json!({"copy": "hello"}));
        assert_eq!(
            envelope["Logs"],
            json!([r#"[INFO] Echo invocation="id-7" status=201"#])
        );
    }

    #[test]
    fn an_http_failure_travels_inside_a_200_envelope() {
        let req =
            json!({"Body": "\u{0}", "Headers": {"Content-Type": ["application/octet-stream"]}});
        let (status, envelope) = invoke(&client(), "Echo", json!({"req": req}), json!({}));
        assert_eq!(status, 200);
        let (inner, body) = caller(&envelope);
        assert_eq!(inner, 400);
        assert!(body["error"].as_str().unwrap().contains("base64"), "{body}");
        assert_eq!(envelope["Outputs"], json!({}));
        let (status, envelope) = invoke(&client(), "HttpBoom", json!({"req": {}}), json!({}));
        assert_eq!(status, 200);
        assert_eq!(
            caller(&envelope),
            (500, json!({"error": "the function failed unexpectedly"}))
        );
        assert_eq!(
            envelope["Logs"][0],
            r#"[ERROR] HttpBoom invocation="id-7" status=500 error="the function failed unexpectedly""#
        );
    }

    #[test]
    fn a_queue_message_becomes_an_output_message() {
        let metadata = json!({"DequeueCount": "2", "Id": "\"m\"", "sys": {}});
        let data = json!({"msg": "\"{\\\"radius\\\":2}\""});
        let (status, envelope) = invoke(&client(), "QueueArea", data, metadata);
        assert_eq!(status, 200);
        assert_eq!(
            envelope["Outputs"],
            json!({"areas": {"radius": 2.0, "area": 12.566370614359172}})
        );
        assert_eq!(envelope["ReturnValue"], Value::Null);
        assert_eq!(
            envelope["Logs"],
            json!([r#"[INFO] QueueArea invocation="id-7" dequeue_count=2 status=200"#])
        );
    }

    #[test]
    fn a_failed_queue_invocation_is_a_non_2xx_reply_without_outputs() {
        let client = client();
        let cases = [
            (
                "QueueArea",
                json!({"msg": "\"not json\""}),
                400,
                "queue message is not valid JSON",
            ),
            (
                "QueueArea",
                json!({"msg": "\"{\\\"radius\\\":-1}\""}),
                400,
                "must not be negative",
            ),
            (
                "QueueArea",
                json!({"other": "\"x\""}),
                400,
                r#"Data has no \"msg\""#,
            ),
            (
                "QueueBoom",
                json!({"msg": "\"x\""}),
                500,
                "failed unexpectedly",
            ),
            (
                "Sneaky",
                json!({"msg": "\"x\""}),
                500,
                r#"output \"Areas\", which"#,
            ),
            (
                "QueueRefuses",
                json!({"msg": "\"x\""}),
                503,
                r#"error="the function returned a 503 response""#,
            ),
            (
                "QueueRefuses",
                json!({"msg": "\"404\""}),
                404,
                r#"[WARN] QueueRefuses invocation="id-7" status=404"#,
            ),
        ];
        for (function, data, expected, message) in cases {
            let (status, envelope) = invoke(&client, function, data, json!({}));
            assert_eq!(status, expected, "{function}: {envelope}");
            assert_eq!(envelope["Outputs"], json!({}), "{function}");
            let log = envelope["Logs"][0].as_str().unwrap();
            assert!(log.contains(message), "{function}: {log}");
        }
    }

    #[test]
    fn a_timer_function_logs_its_own_lines() {
        let timer =
            json!({"Schedule": {"AdjustForDST": true}, "ScheduleStatus": null, "IsPastDue": true});
        let (status, envelope) = invoke(&client(), "Tick", json!({"timer": timer}), json!({}));
        assert_eq!(status, 200);
        assert_eq!(
            envelope["Logs"],
            json!([
                r#"[INFO] Tick invocation="id-7" message="past due: true""#,
                r#"[INFO] Tick invocation="id-7" status=200"#
            ])
        );
    }

    #[test]
    fn any_other_trigger_gets_the_raw_binding_value() {
        let (status, envelope) = invoke(&client(), "Blob", json!({"blob": "\"1234\""}), json!({}));
        assert_eq!(status, 200);
        // "1234" is valid base64: it goes out encoded so that the host
        // writes the text "1234", not three bytes.
        assert_eq!(envelope["Outputs"], json!({"out": "MTIzNA=="}));
    }

    /// A queue function declared binary both ways, from its folder: the
    /// host's base64 arrives as bytes, and bytes leave as the host writes
    /// them under `"dataType": "binary"`, as their UTF-8 text.
    #[test]
    fn a_binary_trigger_and_output_round_trip_as_the_host_carries_them() {
        async fn copy(message: QueueMessage) -> Result<Outputs, Error> {
            let bytes = message.bytes.clone().unwrap_or_default();
            log::field("text", message.text);
            Ok(Outputs::new().bytes("copy", bytes))
        }
        let root = tempfile::tempdir().expect("a folder");
        std::fs::create_dir(root.path().join("Copy")).expect("a function folder");
        std::fs::write(
            root.path().join("Copy/function.json"),
            r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"msg","dataType":"binary"},
                           {"type":"queue","direction":"out","name":"copy","dataType":"binary"}]}"#,
        )
        .expect("function.json");
        let mut registry = Registry::new().with(
            Function::queue("Copy", copy)
                .binding("msg")
                .output(Binding::queue("copy", "copy")),
        );
        let folder = function_app::AppFolder::read(root.path()).expect("the folder");
        assert_eq!(registry.mismatches(&folder), Vec::<String>::new());
        registry.follow(&folder);
        let client = Client::tracked(server::app(registry)).expect("valid app");
        // "1234" is valid base64 text: under "binary" it is written as is.
        let (status, envelope) = invoke(&client, "Copy", json!({"msg": "MTIzNA=="}), json!({}));
        assert_eq!(status, 200, "{envelope}");
        assert_eq!(envelope["Outputs"], json!({"copy": "1234"}));
        assert!(
            envelope["Logs"][0]
                .as_str()
                .unwrap()
                .contains(r#"text="1234""#)
        );
        // Bytes that are no UTF-8 cannot be carried there: the invocation
        // fails, saying so, instead of storing garbled bytes.
        let (status, envelope) = invoke(&client, "Copy", json!({"msg": "/wA="}), json!({}));
        assert_eq!(status, 500);
        assert_eq!(envelope["Outputs"], json!({}));
        assert!(
            envelope["Logs"][0].as_str().unwrap().contains("not UTF-8"),
            "{envelope}"
        );
        let (status, _) = invoke(&client, "Copy", json!({"msg": "\"not base64\""}), json!({}));
        assert_eq!(status, 400);
    }

    #[test]
    fn direct_calls_reach_every_kind() {
        let client = client();
        let response = client
            .post("/QueueArea")
            .body(r#"{"radius": 1}"#)
            .dispatch();
        assert_eq!(response.status(), Status::Ok);
        let envelope: Value = response.into_json().unwrap();
        assert_eq!(envelope["Outputs"]["areas"]["area"], std::f64::consts::PI);
        let response = client.post("/Echo?x=1&x=2").body("hi").dispatch();
        let envelope: Value = response.into_json().unwrap();
        assert_eq!(caller(&envelope).1["x"], "1,2");
        assert_eq!(client.post("/Tick").dispatch().status(), Status::Ok);
    }
}
