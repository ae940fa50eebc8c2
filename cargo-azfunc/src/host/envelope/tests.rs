use super::*;
use serde_json::json;

use crate::app::{Binding, Direction, FunctionFolder};
use crate::dotnet::base64;
use crate::handler::client::HttpReply;
use crate::timers::clock::UtcTime;

pub(crate) fn binding(kind: &str, direction: Direction, name: &str) -> Binding {
    serde_json::from_value(json!({
        "type": kind,
        "direction": direction.as_str(),
        "name": name,
    }))
    .expect("binding")
}

pub(crate) fn http_function() -> FunctionFolder {
    FunctionFolder {
        name: "Area".into(),
        bindings: vec![
            binding("httpTrigger", Direction::In, "req"),
            binding("http", Direction::Out, "$return"),
        ],
    }
}

pub(crate) fn queue_function() -> FunctionFolder {
    FunctionFolder {
        name: "Areas".into(),
        bindings: vec![
            binding("queueTrigger", Direction::In, "item"),
            binding("queue", Direction::Out, "areas"),
        ],
    }
}

fn sys() -> Sys {
    Sys {
        method_name: "Area".into(),
        utc_now: UtcTime { unix: 0 },
        rand_guid: "g".into(),
    }
}

pub(crate) fn reply(status: u16, content_type: Option<&str>, body: &str) -> HttpReply {
    HttpReply {
        status,
        content_type: content_type.map(str::to_owned),
        headers: Default::default(),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn http_request_envelope() {
    let request = CallerRequest {
        method: "post".into(),
        url: "http://localhost:7071/api/Area/7?a=1&a=2&name=At%20las".into(),
        headers: vec![
            ("accept".into(), "*/*".into()),
            ("x-many".into(), "one".into()),
            ("X-Many".into(), "two".into()),
            ("content-type".into(), "application/json".into()),
        ],
        body: Some(br#"{"radius":2,"label":"r","nested":{"x":1}}"#.to_vec()),
    };
    let params = vec![
        ("id".to_owned(), Some("7".to_owned())),
        ("opt".to_owned(), None),
    ];
    let body = http_invocation(&http_function(), &request, &params, &sys());
    assert_eq!(body.as_object().map(|o| o.len()), Some(2));
    let req = &body["Data"]["req"];
    assert_eq!(
        req["Url"],
        "http://localhost:7071/api/Area/7?a=1&a=2&name=At%20las"
    );
    assert_eq!(req["Method"], "POST");
    assert_eq!(req["Query"], json!({"a": "1,2", "name": "At las"}));
    assert_eq!(req["Headers"]["Accept"], json!(["*/*"]));
    assert_eq!(req["Headers"]["X-Many"], json!(["one", "two"]));
    assert_eq!(req["Params"], json!({"id": "7", "opt": null}));
    assert_eq!(req["Identities"][0]["IsAuthenticated"], false);
    assert_eq!(req["Body"], r#"{"radius":2,"label":"r","nested":{"x":1}}"#);
    let meta = &body["Metadata"];
    // The last of a repeated query value, double-encoded.
    assert_eq!(meta["a"], "\"2\"");
    assert_eq!(meta["name"], "\"At las\"");
    assert_eq!(meta["id"], "\"7\"");
    // A JSON body's number turned to text, then double-encoded.
    assert_eq!(meta["radius"], "\"2\"");
    assert_eq!(meta["label"], "\"r\"");
    // Objects are kept as JSON.
    assert_eq!(meta["nested"], json!({"x": 1}));
    assert!(meta.get("opt").is_none());
    assert_eq!(meta["Query"], json!({"a": "2", "name": "At las"}));
    assert_eq!(meta["Headers"]["X-Many"], "one,two");
    assert_eq!(
        meta["sys"],
        json!({"MethodName": "Area", "UtcNow": "1970-01-01T00:00:00Z", "RandGuid": "g"})
    );
}

#[test]
fn metadata_as_the_host_builds_it() {
    let request = CallerRequest {
        method: "POST".into(),
        url: "http://localhost:7071/api/Area?code=secret&x=1&X=2&list=a&list=b".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: Some(
            br#"{"n":2,"f":2.5,"big":1e20,"yes":true,"no":false,"s":"t","arr":[1],"nil":null,"obj":{"deep":{"z":true}}}"#
                .to_vec(),
        ),
    };
    let body = http_invocation(&http_function(), &request, &[], &sys());
    let meta = &body["Metadata"];
    assert_eq!(meta["n"], "\"2\"");
    assert_eq!(meta["f"], "\"2.5\"");
    assert_eq!(meta["big"], "\"1E+20\"");
    assert_eq!(meta["yes"], "\"True\"");
    assert_eq!(meta["no"], "\"False\"");
    assert_eq!(meta["s"], "\"t\"");
    assert!(meta.get("arr").is_none());
    assert_eq!(meta["obj"], json!({"deep": {"z": true}}));
    // The key `code` is left out at the top; the last value wins.
    assert!(meta.get("code").is_none());
    assert_eq!(meta["x"], "\"2\"");
    assert_eq!(meta["list"], "\"b\"");
    assert_eq!(
        meta["Query"],
        json!({"code": "secret", "x": "2", "list": "b"})
    );
    // Data keeps the comma-joined values.
    assert_eq!(
        body["Data"]["req"]["Query"],
        json!({"code": "secret", "x": "1,2", "list": "a,b"})
    );
}

#[test]
fn http_body_only_when_sent_and_binary_as_base64() {
    let mut request = CallerRequest {
        method: "GET".into(),
        url: "http://localhost:7071/api/Area".into(),
        ..CallerRequest::default()
    };
    let body = http_invocation(&http_function(), &request, &[], &sys());
    assert!(body["Data"]["req"].get("Body").is_none());
    assert_eq!(body["Data"]["req"]["Query"], json!({}));
    assert_eq!(body["Data"]["req"]["Params"], json!({}));
    request.headers = vec![("Content-Type".into(), "application/octet-stream".into())];
    request.body = Some(vec![0, 255, 1]);
    let body = http_invocation(&http_function(), &request, &[], &sys());
    assert_eq!(body["Data"]["req"]["Body"], "AP8B");
    request.headers = vec![(
        "Content-Type".into(),
        "multipart/form-data; boundary=x".into(),
    )];
    request.body = Some(b"hi".to_vec());
    let body = http_invocation(&http_function(), &request, &[], &sys());
    assert_eq!(body["Data"]["req"]["Body"], "aGk=");
}

#[test]
fn queue_envelope_double_encodes_the_text() {
    let message = QueueMessage::new(r#"{"a":1}"#);
    let body = queue_invocation(&queue_function(), &message, &sys());
    let wire = serde_json::to_string(&body["Data"]).expect("json");
    assert_eq!(wire, r#"{"item":"\"{\\\"a\\\":1}\""}"#);
    let meta = &body["Metadata"];
    assert_eq!(meta["DequeueCount"], "1");
    assert_eq!(meta["Id"], format!("\"{}\"", message.id));
    assert_eq!(meta["PopReceipt"], format!("\"{}\"", message.pop_receipt));
    assert_eq!(meta["InsertionTime"], message.insertion_time.iso());
    assert!(meta.get("QueueTrigger").is_none());
    assert_eq!(meta["sys"]["MethodName"], "Area");
    let hello = queue_invocation(&queue_function(), &QueueMessage::new("hello"), &sys());
    assert_eq!(hello["Data"]["item"], "\"hello\"");
}

#[test]
fn a_binary_trigger_gets_its_bytes_as_one_plain_base64_string() {
    let mut function = queue_function();
    function.bindings[0].data_type = Some("binary".into());
    let body = queue_invocation(&function, &QueueMessage::new("hi"), &sys());
    assert_eq!(body["Data"]["item"], "aGk=");
    function.bindings[0].kind = "blobTrigger".into();
    let body = other_invocation(&function, r#"{"a":1}"#, &sys());
    assert_eq!(body["Data"]["item"], base64::encode(br#"{"a":1}"#));
}

#[test]
fn timer_and_other_envelopes() {
    let mut timer = queue_function();
    timer.bindings = vec![binding("timerTrigger", Direction::In, "timer")];
    let body = timer_invocation(&timer, None, false, &sys());
    assert_eq!(
        body["Data"]["timer"],
        json!({"Schedule": {"AdjustForDST": true}, "ScheduleStatus": null, "IsPastDue": false})
    );
    assert_eq!(body["Metadata"].as_object().map(|m| m.len()), Some(1));
    let status = ScheduleStatus {
        last: UtcTime { unix: 0 },
        next: UtcTime { unix: 300 },
        last_updated: UtcTime { unix: 0 },
    };
    let body = timer_invocation(&timer, Some(status), false, &sys());
    assert_eq!(
        body["Data"]["timer"]["ScheduleStatus"]["Next"],
        "1970-01-01T00:05:00Z"
    );

    let mut other = queue_function();
    other.bindings = vec![binding("blobTrigger", Direction::In, "blob")];
    assert_eq!(
        other_invocation(&other, r#"{"x":1}"#, &sys())["Data"]["blob"],
        json!({"x": 1})
    );
    assert_eq!(
        other_invocation(&other, "hi", &sys())["Data"]["blob"],
        "\"hi\""
    );
    assert_eq!(
        other_invocation(&other, "3", &sys())["Data"]["blob"],
        "\"3\""
    );
}

#[test]
fn http_return_value_with_body() {
    let outcome = read_reply(
        &http_function(),
        &reply(
            200,
            Some("application/json"),
            r#"{"Outputs":{},"Logs":["one"],"ReturnValue":{"statusCode":"201","headers":{"Content-Type":"application/json"},"body":"{\"a\":1}"}}"#,
        ),
    );
    assert!(outcome.succeeded());
    assert_eq!(outcome.logs, ["one"]);
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    let response = outcome.response.expect("response");
    assert_eq!(response.status, 201);
    assert_eq!(
        response.content_type(),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(response.body, br#"{"a":1}"#);
}

#[test]
fn http_return_value_shapes() {
    let read = |body: &str| {
        read_reply(
            &http_function(),
            &reply(200, Some("application/json; charset=utf-8"), body),
        )
        .response
        .expect("response")
    };
    let r = read(r#"{"returnvalue":{"status":404,"body":"gone"}}"#);
    assert_eq!((r.status, r.body.as_slice()), (404, b"gone".as_slice()));
    assert_eq!(r.content_type(), Some("text/plain; charset=utf-8"));
    let r = read(r#"{"ReturnValue":{"radius":2}}"#);
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, b"{\n  \"radius\": 2\n}".as_slice())
    );
    assert_eq!(r.content_type(), Some("text/plain; charset=utf-8"));
    let r = read(r#"{"ReturnValue":"test"}"#);
    assert_eq!(r.body, vec![0xb5, 0xeb, 0x2d]);
    let r = read(r#"{"ReturnValue":"hello"}"#);
    assert_eq!(r.body, b"hello");
}

#[test]
fn named_http_output_ignores_status_and_pretty_prints() {
    let mut function = http_function();
    function.bindings[1].name = "res".into();
    let outcome = read_reply(
        &function,
        &reply(
            200,
            Some("application/json"),
            r#"{"Outputs":{"res":{"status":404,"body":{"a":1}}}}"#,
        ),
    );
    let response = outcome.response.expect("response");
    assert_eq!(response.status, 200);
    assert_eq!(String::from_utf8_lossy(&response.body), "{\n  \"a\": 1\n}");
    let outcome = read_reply(
        &function,
        &reply(
            200,
            Some("application/json"),
            r#"{"Outputs":{"res":{"statusCode":404,"body":"x"}}}"#,
        ),
    );
    assert_eq!(outcome.response.map(|r| r.status), Some(404));
}

#[test]
fn queue_outputs() {
    let read = |body: &str| {
        read_reply(
            &queue_function(),
            &reply(200, Some("application/json"), body),
        )
    };
    let outcome = read(r#"{"Outputs":{"areas":{"radius":2}},"Logs":[]}"#);
    assert!(outcome.succeeded());
    assert!(outcome.response.is_none());
    assert_eq!(
        outcome.outputs[0].value,
        Written::Json(json!({"radius": 2}))
    );
    assert_eq!(
        outcome.outputs[0].to_string(),
        r#"queue areas <- {"radius":2}"#
    );
    assert_eq!(
        read(r#"{"Outputs":{"areas":null}}"#).outputs[0].value,
        Written::Nothing
    );
    assert_eq!(read(r#"{"Outputs":{}}"#).outputs[0].value, Written::Nothing);
    assert_eq!(
        read(r#"{"Outputs":{"areas":"hello world"}}"#).outputs[0].value,
        Written::Text("hello world".into())
    );
    assert_eq!(
        read(r#"{"Outputs":{"areas":"abcd"}}"#).outputs[0].value,
        Written::Bytes(vec![0x69, 0xb7, 0x1d])
    );
    let mut binary = queue_function();
    binary.bindings[1].data_type = Some("binary".into());
    let outcome = read_reply(
        &binary,
        &reply(
            200,
            Some("application/json"),
            r#"{"Outputs":{"areas":"abcd"}}"#,
        ),
    );
    assert_eq!(outcome.outputs[0].value, Written::Text("abcd".into()));
    assert!(outcome.warnings.is_empty());
}

#[test]
fn failures_and_hangs() {
    let outcome = read_reply(
        &queue_function(),
        &reply(500, Some("application/json"), r#"{"Logs":["boom"]}"#),
    );
    assert!(matches!(outcome.verdict, Verdict::Failed(_)));
    assert!(!outcome.logs_kept);
    assert_eq!(outcome.logs, ["boom"]);
    assert!(outcome.outputs.is_empty());
    let outcome = read_reply(&http_function(), &reply(200, Some("application/json"), ""));
    assert!(matches!(outcome.verdict, Verdict::Hangs(_)));
    let outcome = read_reply(
        &http_function(),
        &reply(200, Some("application/json"), "[1]"),
    );
    assert!(matches!(outcome.verdict, Verdict::Failed(_)));
    assert_eq!(outcome.response, Some(CallerResponse::failed()));
}

#[test]
fn long_values_are_shown_cut() {
    let long = "é".repeat(SHOWN_VALUE);
    let output = Output {
        kind: "queue".into(),
        binding: "q".into(),
        value: Written::Text(long.clone()),
    };
    let line = output.to_string();
    assert!(line.len() < SHOWN_VALUE + 64, "{}", line.len());
    assert!(line.ends_with(&format!("... ({} bytes in all)", long.len())));
    let short = Output {
        value: Written::Text("x".repeat(SHOWN_VALUE)),
        ..output
    };
    assert!(!short.to_string().contains("bytes in all"));
}

#[test]
fn header_helpers() {
    assert_eq!(
        canonical_header_name("x-azure-functions-invocationid"),
        "X-Azure-Functions-Invocationid"
    );
    assert_eq!(double_encode(&json!(1)), json!("1"));
    assert_eq!(double_encode(&json!(true)), json!("true"));
}
