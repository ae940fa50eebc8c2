//! The conversions on their own: arguments, capabilities, TypedData in
//! and out, RpcHttp both ways.

use std::collections::HashMap;
use std::ffi::OsString;

use worker_proto::rpc_http_cookie::SameSite;
use worker_proto::typed_data::Data;
use worker_proto::{
    NullableString, ParameterBinding, RpcHttp, TypedData, nullable_bool, nullable_double,
    nullable_string, nullable_timestamp, parameter_binding,
};

use super::super::{arguments, capabilities, rpc_http, typed_data};
use crate::envelope::Envelope;
use crate::http::{HttpResponse, MAX_BODY_BYTES};
use crate::outputs::Output;
use crate::trigger::{QueueMessage, TimerInfo, Trigger, TriggerInput};

fn args(list: &[&str]) -> Vec<OsString> {
    std::iter::once("app")
        .chain(list.iter().copied())
        .map(OsString::from)
        .collect()
}

const BOTH: [&str; 18] = [
    "--host",
    "127.0.0.1",
    "--port",
    "5000",
    "--workerId",
    "legacy-w",
    "--requestId",
    "legacy-r",
    "--grpcMaxMessageLength",
    "100",
    "--functions-uri",
    "http://127.0.0.1:6000/",
    "--functions-worker-id",
    "w1",
    "--functions-request-id",
    "r1",
    "--functions-grpc-max-message-length",
    "2147483647",
];

#[test]
fn the_current_arguments_win_over_the_legacy_ones() {
    let parsed = arguments::parse(&args(&BOTH)).unwrap();
    assert_eq!(parsed.uri, "http://127.0.0.1:6000/");
    assert_eq!(parsed.worker_id, "w1");
    assert_eq!(parsed.request_id, "r1");
    assert_eq!(parsed.max_message_length, 2_147_483_647);
    assert!(super::super::requested(args(&BOTH).into_iter()));
    assert!(!super::super::requested(args(&["--verbose"]).into_iter()));
    assert!(!super::super::requested(args(&[]).into_iter()));
    assert!(super::super::requested(args(&["--workerId=w"]).into_iter()));
    assert!(!super::super::requested(
        args(&["--workerIdentity"]).into_iter()
    ));
}

#[test]
fn the_legacy_arguments_alone_are_enough() {
    let parsed = arguments::parse(&args(&BOTH[..10])).unwrap();
    assert_eq!(parsed.uri, "http://127.0.0.1:5000/");
    assert_eq!(parsed.worker_id, "legacy-w");
    assert_eq!(parsed.max_message_length, 100);
    let ipv6 = arguments::parse(&args(&[
        "--host",
        "::1",
        "--port",
        "5000",
        "--workerId",
        "w",
        "--requestId",
        "r",
        "--grpcMaxMessageLength",
        "10",
    ]))
    .unwrap();
    assert_eq!(ipv6.uri, "http://[::1]:5000/");
}

#[test]
fn missing_and_bad_arguments_are_each_named() {
    let error = arguments::parse(&args(&["--functions-uri", "http://h:1/"])).unwrap_err();
    assert!(
        error.contains("--functions-worker-id (or --workerId) is missing"),
        "{error}"
    );
    assert!(
        error.contains("--functions-request-id (or --requestId) is missing"),
        "{error}"
    );
    assert!(
        error.contains("--functions-grpc-max-message-length"),
        "{error}"
    );
    let error = arguments::parse(&args(&[
        "--functions-uri",
        "ftp://h/",
        "--functions-worker-id",
        "w",
        "--functions-request-id",
        "r",
        "--functions-grpc-max-message-length",
        "-3",
    ]))
    .unwrap_err();
    assert!(
        error.contains("--functions-uri is not an http:// URI"),
        "{error}"
    );
    assert!(
        error.contains("not a positive whole number: \"-3\""),
        "{error}"
    );
    // A flag at the very end, without its value.
    let error = arguments::parse(&args(&["--workerId"])).unwrap_err();
    assert!(error.contains("--workerId has no value"), "{error}");
    let error = arguments::parse(&args(&["--port", "99999", "--host", "h"])).unwrap_err();
    assert!(
        error.contains("--port is not a port number: \"99999\""),
        "{error}"
    );
}

#[test]
fn capabilities_are_the_ones_the_worker_honours() {
    let plain = capabilities::advertised(None);
    let mut names: Vec<&str> = plain.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "HandlesInvocationCancelMessage",
            "HandlesWorkerTerminateMessage",
            "RawHttpBodyBytes",
            "RpcHttpBodyOnly",
            "RpcHttpTriggerMetadataRemoved",
            "SupportsLoadResponseCollection",
            "TypedDataCollection",
            "WorkerStatus",
        ]
    );
    // The host tests a capability for a non-empty value.
    assert!(plain.values().all(|value| value == "true"));
    let proxied = capabilities::advertised(Some("http://127.0.0.1:7071/"));
    assert_eq!(proxied["HttpUri"], "http://127.0.0.1:7071/");
    assert!(!proxied.contains_key("RequiresRouteParameters"));
}

fn input(name: &str, data: Data) -> ParameterBinding {
    ParameterBinding {
        name: name.to_owned(),
        rpc_data: Some(parameter_binding::RpcData::Data(TypedData {
            data: Some(data),
        })),
    }
}

fn typed(data: Data) -> TypedData {
    TypedData { data: Some(data) }
}

#[test]
fn a_queue_message_and_its_metadata_read_as_in_the_envelope() {
    let metadata = HashMap::from([
        ("DequeueCount".to_owned(), typed(Data::Json("3".into()))),
        ("Id".to_owned(), typed(Data::String("m-1".into()))),
        (
            "InsertionTime".to_owned(),
            typed(Data::Json("\"2026-11-27T10:00:00+00:00\"".into())),
        ),
    ]);
    // Text that is itself JSON, quotes and all, arrives exactly.
    for text in ["hello", "\"quoted\"", "{\"radius\":2}", "", "1234"] {
        let body = typed_data::envelope(
            &[input("msg", Data::String(text.into()))],
            &metadata,
            None,
            None,
        )
        .unwrap();
        let envelope = Envelope::parse(&body).unwrap().unwrap();
        let message = QueueMessage::from_host(&envelope, "msg").unwrap();
        assert_eq!(message.text, text);
        assert_eq!(message.dequeue_count, Some(3));
        assert_eq!(message.id.as_deref(), Some("m-1"));
        assert_eq!(
            message.insertion_time.as_deref(),
            Some("2026-11-27T10:00:00+00:00")
        );
    }
    // Bytes for a binary trigger.
    let body = typed_data::envelope(
        &[input("msg", Data::Bytes(vec![0, 255, 7]))],
        &metadata,
        None,
        None,
    )
    .unwrap();
    let envelope = Envelope::parse(&body).unwrap().unwrap();
    let message = QueueMessage::from_binary(&envelope, "msg").unwrap();
    assert_eq!(message.bytes, Some(vec![0, 255, 7]));
}

#[test]
fn json_collections_and_numbers_keep_their_values() {
    let big = "123456789012345678901234567890";
    let inputs = [
        input(
            "timer",
            Data::Json(r#"{"IsPastDue":true,"ScheduleStatus":{"Next":"n"}}"#.into()),
        ),
        input("big", Data::Json(big.into())),
        input(
            "list",
            Data::CollectionString(worker_proto::CollectionString {
                string: vec!["a".into(), "b".into()],
            }),
        ),
        input("n", Data::Int(-7)),
    ];
    let body = typed_data::envelope(&inputs, &HashMap::new(), None, None).unwrap();
    let envelope = Envelope::parse(&body).unwrap().unwrap();
    let timer = TimerInfo::from_host(&envelope, "timer").unwrap();
    assert!(timer.is_past_due);
    assert_eq!(timer.next.as_deref(), Some("n"));
    let generic = TriggerInput::from_host(&envelope, "big").unwrap();
    assert_eq!(generic.value.get(), big);
    let list = TriggerInput::from_host(&envelope, "list").unwrap();
    assert_eq!(list.json::<Vec<String>>().unwrap(), ["a", "b"]);
    assert_eq!(
        TriggerInput::from_host(&envelope, "n")
            .unwrap()
            .json::<i64>()
            .unwrap(),
        -7
    );
}

#[test]
fn bad_typed_data_is_a_clear_error() {
    let error = typed_data::envelope(
        &[input("x", Data::Json("{not json".into()))],
        &HashMap::new(),
        None,
        None,
    )
    .unwrap_err();
    assert_eq!(error.status(), 400);
    assert!(
        error.message().contains("input \"x\" is not JSON"),
        "{error}"
    );
    let shared = ParameterBinding {
        name: "s".into(),
        rpc_data: Some(parameter_binding::RpcData::RpcSharedMemory(
            Default::default(),
        )),
    };
    let error = typed_data::envelope(&[shared], &HashMap::new(), None, None).unwrap_err();
    assert!(error.message().contains("shared memory"), "{error}");
}

#[test]
fn an_activity_input_is_put_in_metadata_data() {
    let body = typed_data::envelope(
        &[input("name", Data::Json("\"Tokyo\"".into()))],
        &HashMap::new(),
        Some("name"),
        None,
    )
    .unwrap();
    let envelope: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(envelope["Metadata"]["data"], "\"Tokyo\"");
}

#[test]
fn an_rpc_http_request_reads_as_the_functions_request() {
    let http = RpcHttp {
        method: "POST".into(),
        url: "http://localhost/api/area?radius=2".into(),
        headers: HashMap::from([("content-type".into(), "application/json".into())]),
        query: HashMap::from([("radius".into(), "2".into())]),
        params: HashMap::from([("id".into(), "7".into())]),
        nullable_query: HashMap::from([(
            "extra".into(),
            NullableString {
                string: Some(nullable_string::String::Value("x".into())),
            },
        )]),
        body: Some(Box::new(typed(Data::Bytes(vec![0xff, b'{'])))),
        ..RpcHttp::default()
    };
    let request = rpc_http::request(&http).unwrap();
    assert_eq!(request.method, "POST");
    assert_eq!(request.query("radius"), Some("2"));
    assert_eq!(request.query("extra"), Some("x"));
    assert_eq!(request.param("id"), Some("7"));
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    assert_eq!(request.body, [0xff, b'{']);
    // The envelope form refuses what it cannot carry, with the reason.
    let error = rpc_http::envelope_value(&request).unwrap_err();
    assert!(error.message().contains("not valid UTF-8"), "{error}");
}

#[test]
fn an_oversized_http_body_is_refused_at_the_limit() {
    let at_limit = RpcHttp {
        body: Some(Box::new(typed(Data::Bytes(vec![b'a'; MAX_BODY_BYTES])))),
        ..RpcHttp::default()
    };
    assert_eq!(
        rpc_http::request(&at_limit).unwrap().body.len(),
        MAX_BODY_BYTES
    );
    let over = RpcHttp {
        body: Some(Box::new(typed(Data::Bytes(vec![b'a'; MAX_BODY_BYTES + 1])))),
        ..RpcHttp::default()
    };
    assert_eq!(rpc_http::request(&over).unwrap_err().status(), 413);
}

#[test]
fn a_response_becomes_rpc_http_with_its_cookies() {
    let response = HttpResponse::new(201, "made")
        .with_header("Content-Type", "text/plain")
        .with_header("Vary", "a")
        .with_header("vary", "b")
        .with_header(
            "Set-Cookie",
            "id=42; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Strict; Max-Age=60; Expires=Sun, 06 Nov 1994 08:49:37 GMT",
        )
        .with_header("Set-Cookie", "bad; nonsense");
    let http = rpc_http::response(&response);
    assert_eq!(http.status_code, "201");
    assert_eq!(http.headers["Content-Type"], "text/plain");
    assert_eq!(http.headers["Vary"], "a, b");
    assert!(!http.headers.contains_key("vary"));
    assert_eq!(
        http.body.as_deref().and_then(|b| b.data.clone()),
        Some(Data::Bytes(b"made".to_vec()))
    );
    assert_eq!(http.cookies.len(), 1);
    let cookie = &http.cookies[0];
    assert_eq!((cookie.name.as_str(), cookie.value.as_str()), ("id", "42"));
    assert_eq!(cookie.same_site, SameSite::Strict as i32);
    assert!(matches!(
        cookie.http_only.as_ref().and_then(|b| b.r#bool),
        Some(nullable_bool::Bool::Value(true))
    ));
    assert!(matches!(
        cookie.max_age.as_ref().and_then(|d| d.double),
        Some(nullable_double::Double::Value(60.0))
    ));
    // RFC 9110's example date.
    assert!(matches!(
        cookie.expires.as_ref().and_then(|t| t.timestamp),
        Some(nullable_timestamp::Timestamp::Value(t)) if t.seconds == 784_111_777
    ));
    // What is not a cookie the host can set stays a header.
    assert_eq!(http.headers["Set-Cookie"], "bad; nonsense");
}

#[test]
fn outputs_and_return_values_keep_their_types() {
    assert_eq!(
        typed_data::output(&Output::Text("1234".into())).data,
        Some(Data::String("1234".into()))
    );
    assert_eq!(
        typed_data::output(&Output::Bytes(vec![0, 1])).data,
        Some(Data::Bytes(vec![0, 1]))
    );
    assert_eq!(
        typed_data::output(&Output::Json(serde_json::json!({"a": 1}))).data,
        Some(Data::Json(r#"{"a":1}"#.into()))
    );
    assert_eq!(
        typed_data::return_value(&serde_json::json!("b64")).data,
        Some(Data::String("b64".into()))
    );
    assert_eq!(
        typed_data::return_value(&serde_json::json!(5)).data,
        Some(Data::Json("5".into()))
    );
}
