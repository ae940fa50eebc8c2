//! A language worker's invocations both ways (the body to an
//! InvocationRequest, the answer to the host's outcome), for what
//! Microsoft's Python worker does not exercise: bodies without RpcHttpBodyOnly, binary bodies, HttpUri, each
//! kind of output and failure.

use serde_json::{Value, json};
use worker_proto::parameter_binding::RpcData;
use worker_proto::status_result::Status;
use worker_proto::typed_data::Data;
use worker_proto::{
    InvocationRequest, InvocationResponse, ParameterBinding, RpcException, RpcHttp, StatusResult,
    TypedData,
};

use super::worker_reply;
use crate::app::{Binding, FunctionFolder};
use crate::host::envelope::{
    CallerRequest, QueueMessage, Sys, Verdict, Written, http_invocation, queue_invocation,
    timer_invocation,
};
use crate::worker_host::Answer;
use crate::worker_host::request::{Shape, invocation_request};

fn function(name: &str, bindings: Value) -> FunctionFolder {
    FunctionFolder {
        name: name.to_owned(),
        bindings: serde_json::from_value::<Vec<Binding>>(bindings).expect("bindings"),
    }
}

fn http_function() -> FunctionFolder {
    function(
        "Area",
        json!([{"type": "httpTrigger", "direction": "in", "name": "req", "route": "area/{shape}"},
               {"type": "http", "direction": "out", "name": "$return"}]),
    )
}

fn http_request(shape: Shape, content_type: &str, body: &[u8]) -> InvocationRequest {
    let function = http_function();
    let caller = CallerRequest {
        method: "post".into(),
        url: "http://localhost:7071/api/area/disc?radius=2&empty=&radius=3".into(),
        headers: vec![
            ("Content-Type".into(), content_type.into()),
            ("X-Many".into(), "a".into()),
            ("x-many".into(), "b".into()),
            (
                "traceparent".into(),
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
            ),
        ],
        body: Some(body.to_vec()),
    };
    let params = vec![("shape".to_owned(), Some("disc".to_owned()))];
    let body = http_invocation(&function, &caller, &params, &Sys::new(&function));
    invocation_request(&function, "fid", "iid", &body, shape)
}

fn input(request: &InvocationRequest, name: &str) -> Data {
    let binding = request
        .input_data
        .iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no input {name}: {request:?}"));
    match &binding.rpc_data {
        Some(RpcData::Data(TypedData { data: Some(data) })) => data.clone(),
        other => panic!("{other:?}"),
    }
}

fn http_of(data: Data) -> RpcHttp {
    match data {
        Data::Http(http) => *http,
        other => panic!("not RpcHttp: {other:?}"),
    }
}

fn data(typed: Option<&TypedData>) -> Option<Data> {
    typed.and_then(|t| t.data.clone())
}

#[test]
fn http_with_the_python_workers_capabilities() {
    let shape = Shape {
        raw_body_bytes: true,
        body_only: true,
        trigger_metadata_removed: true,
        ..Shape::default()
    };
    let request = http_request(shape, "application/json", br#"{"radius": 2}"#);
    assert_eq!(
        (request.function_id.as_str(), request.invocation_id.as_str()),
        ("fid", "iid")
    );
    let http = http_of(input(&request, "req"));
    assert_eq!(http.method, "POST");
    assert_eq!(
        http.url,
        "http://localhost:7071/api/area/disc?radius=2&empty=&radius=3"
    );
    assert_eq!(http.headers.get("x-many").map(String::as_str), Some("a,b"));
    assert_eq!(
        http.headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    assert!(http.headers.keys().all(|k| *k == k.to_ascii_lowercase()));
    assert_eq!(http.query.get("radius").map(String::as_str), Some("2,3"));
    assert!(!http.query.contains_key("empty"), "{:?}", http.query);
    assert_eq!(http.params.get("shape").map(String::as_str), Some("disc"));
    assert_eq!(
        data(http.body.as_deref()),
        Some(Data::Bytes(br#"{"radius": 2}"#.to_vec()))
    );
    assert_eq!(http.raw_body, None);
    // Without the request itself, and never sys.
    assert!(!request.trigger_metadata.contains_key("req"));
    assert!(!request.trigger_metadata.contains_key("sys"));
    assert_eq!(
        data(request.trigger_metadata.get("shape")),
        Some(Data::String("disc".into()))
    );
    assert_eq!(
        request
            .trace_context
            .as_ref()
            .map(|t| t.trace_parent.as_str()),
        Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    );
}

#[test]
fn http_without_capabilities_gets_body_and_raw_body_and_the_request_in_metadata() {
    let request = http_request(
        Shape::default(),
        "application/json; charset=utf-8",
        br#"{"radius": 2}"#,
    );
    let http = http_of(input(&request, "req"));
    assert_eq!(
        data(http.body.as_deref()),
        Some(Data::Json(r#"{"radius":2}"#.into()))
    );
    assert_eq!(
        data(http.raw_body.as_deref()),
        Some(Data::String(r#"{"radius": 2}"#.into()))
    );
    for name in ["req", "$request"] {
        let Some(Data::Http(metadata)) = data(request.trigger_metadata.get(name)) else {
            panic!("no {name} in {:?}", request.trigger_metadata);
        };
        assert_eq!(metadata.method, "POST");
    }
    // Text that is not JSON stays a string.
    let request = http_request(Shape::default(), "text/plain", b"two");
    let http = http_of(input(&request, "req"));
    assert_eq!(data(http.body.as_deref()), Some(Data::String("two".into())));
}

#[test]
fn a_binary_body_arrives_as_its_bytes() {
    let bytes = vec![0u8, 159, 146, 150, 255];
    for shape in [
        Shape::default(),
        Shape {
            body_only: true,
            ..Shape::default()
        },
    ] {
        let request = http_request(shape, "application/octet-stream", &bytes);
        let http = http_of(input(&request, "req"));
        assert_eq!(
            data(http.body.as_deref()),
            Some(Data::Bytes(bytes.clone())),
            "{shape:?}"
        );
    }
}

#[test]
fn a_worker_with_its_own_http_server_gets_an_empty_request() {
    let request = http_request(
        Shape {
            http_uri: true,
            ..Shape::default()
        },
        "text/plain",
        b"x",
    );
    assert_eq!(http_of(input(&request, "req")), RpcHttp::default());
    let shape = Shape {
        http_uri: true,
        route_parameters: true,
        ..Shape::default()
    };
    let http = http_of(input(&http_request(shape, "text/plain", b"x"), "req"));
    assert_eq!(http.params.get("shape").map(String::as_str), Some("disc"));
    assert_eq!((http.method.as_str(), http.body), ("", None));
}

#[test]
fn queue_and_timer_triggers_as_the_host_types_them() {
    let queue = function(
        "Squares",
        json!([{"type": "queueTrigger", "direction": "in", "name": "msg", "queueName": "sides"}]),
    );
    let message = QueueMessage::new("7");
    let body = queue_invocation(&queue, &message, &Sys::new(&queue));
    let request = invocation_request(&queue, "f", "i", &body, Shape::default());
    assert_eq!(input(&request, "msg"), Data::String("7".into()));
    let metadata = |name: &str| data(request.trigger_metadata.get(name));
    assert_eq!(metadata("DequeueCount"), Some(Data::Json("1".into())));
    assert_eq!(metadata("Id"), Some(Data::String(message.id.clone())));
    assert_eq!(
        metadata("InsertionTime"),
        Some(Data::Json(format!("\"{}\"", message.insertion_time.iso())))
    );
    assert_eq!(metadata("sys"), None);

    let timer = function(
        "Tick",
        json!([{"type": "timerTrigger", "direction": "in", "name": "timer", "schedule": "* * * * * *"}]),
    );
    let body = timer_invocation(&timer, None, true, &Sys::new(&timer));
    let request = invocation_request(&timer, "f", "i", &body, Shape::default());
    let Data::Json(text) = input(&request, "timer") else {
        panic!("the timer is not JSON")
    };
    let value: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(value["IsPastDue"], true);
    assert_eq!(value["Schedule"]["AdjustForDST"], true);
}

fn typed(data: Data) -> Option<TypedData> {
    Some(TypedData { data: Some(data) })
}

fn binding(name: &str, data: Data) -> ParameterBinding {
    ParameterBinding {
        name: name.into(),
        rpc_data: Some(RpcData::Data(TypedData { data: Some(data) })),
    }
}

fn success() -> Option<StatusResult> {
    Some(StatusResult {
        status: Status::Success as i32,
        ..StatusResult::default()
    })
}

fn answer(response: InvocationResponse) -> Answer {
    Answer {
        response,
        logs: vec!["a log".into()],
    }
}

#[test]
fn each_output_is_written_as_its_typed_data() {
    let outputs = function(
        "Many",
        json!([{"type": "queueTrigger", "direction": "in", "name": "msg"},
               {"type": "queue", "direction": "out", "name": "text"},
               {"type": "queue", "direction": "out", "name": "object"},
               {"type": "blob", "direction": "out", "name": "bytes"},
               {"type": "queue", "direction": "out", "name": "unset"},
               {"type": "queue", "direction": "out", "name": "$return"}]),
    );
    let response = InvocationResponse {
        invocation_id: "i".into(),
        output_data: vec![
            // Text that happens to be base64 stays text, unlike a custom
            // handler's reply.
            binding("text", Data::String("test".into())),
            binding("object", Data::Json(r#"{"area": 4}"#.into())),
            binding("bytes", Data::Bytes(vec![1, 2, 3])),
            binding("stray", Data::String("x".into())),
        ],
        return_value: typed(Data::Int(49)),
        result: success(),
    };
    let outcome = worker_reply::outcome(&outputs, answer(response));
    assert_eq!(outcome.verdict, Verdict::Succeeded);
    // Kept for the invocation; shown as they came, not again at the end.
    assert_eq!(outcome.logs, ["a log"]);
    assert!(outcome.logs_shown);
    let console = crate::console::Console::quiet();
    crate::host::invocation::report(&console, &outputs, "i", &outcome);
    assert!(
        !console.lines().iter().any(|l| l.text.contains("a log")),
        "{:?}",
        console.lines()
    );
    let written: Vec<(&str, &Written)> = outcome
        .outputs
        .iter()
        .map(|o| (o.binding.as_str(), &o.value))
        .collect();
    assert_eq!(
        written,
        vec![
            ("text", &Written::Text("test".into())),
            ("object", &Written::Json(json!({"area": 4}))),
            ("bytes", &Written::Bytes(vec![1, 2, 3])),
            ("unset", &Written::Nothing),
            ("$return", &Written::Json(json!(49))),
        ]
    );
    assert_eq!(outcome.warnings.len(), 1, "{:?}", outcome.warnings);
    assert!(outcome.warnings[0].to_string().contains("stray"));
}

#[test]
fn an_http_reply_keeps_its_status_headers_and_bytes() {
    let mut http = RpcHttp {
        status_code: "201".into(),
        body: Some(Box::new(TypedData {
            data: Some(Data::Bytes(vec![0, 255, 1])),
        })),
        ..RpcHttp::default()
    };
    http.headers.insert("X-Shape".into(), "disc".into());
    http.headers
        .insert("Content-Type".into(), "application/octet-stream".into());
    let response = InvocationResponse {
        return_value: typed(Data::Http(Box::new(http.clone()))),
        result: success(),
        ..InvocationResponse::default()
    };
    let outcome = worker_reply::outcome(&http_function(), answer(response));
    let caller = outcome.response.expect("a response");
    assert_eq!(
        (caller.status, caller.body.as_slice()),
        (201, &[0u8, 255, 1][..])
    );
    assert!(
        caller
            .headers
            .contains(&("X-Shape".to_owned(), "disc".to_owned()))
    );
    assert_eq!(caller.content_type(), Some("application/octet-stream"));

    // A status the host cannot send: its empty 500, and a warning.
    http.status_code = "99".into();
    let response = InvocationResponse {
        return_value: typed(Data::Http(Box::new(http))),
        result: success(),
        ..InvocationResponse::default()
    };
    let outcome = worker_reply::outcome(&http_function(), answer(response));
    assert_eq!(outcome.response.expect("a response").status, 500);
    assert!(!outcome.warnings.is_empty());
}

#[test]
fn a_failure_carries_the_workers_exception() {
    let response = InvocationResponse {
        result: Some(StatusResult {
            status: Status::Failure as i32,
            exception: Some(RpcException {
                source: "ValueError".into(),
                message: "no area".into(),
                stack_trace: "line 3".into(),
                ..RpcException::default()
            }),
            ..StatusResult::default()
        }),
        ..InvocationResponse::default()
    };
    let outcome = worker_reply::outcome(&http_function(), answer(response));
    assert_eq!(
        outcome.verdict,
        Verdict::Failed("the worker failed the invocation: ValueError: no area\nline 3".into())
    );
    assert_eq!(outcome.response.map(|r| r.status), Some(500));
    // No result at all is no success.
    let outcome = worker_reply::outcome(&http_function(), answer(InvocationResponse::default()));
    assert!(matches!(outcome.verdict, Verdict::Failed(ref why) if why.contains("no result")));
}
