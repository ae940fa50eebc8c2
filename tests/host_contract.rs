//! The handler as the Functions host sees it: invocations built by
//! `cargo_azfunc` exactly as `docs/host-protocol.md` describes (`Body` as a
//! string, `Headers` as arrays, comma-joined `Query`, double-encoded
//! `Metadata`) and sent as the host sends them (chunked bodies, concurrent
//! calls over keep-alive connections).

mod common;

use std::path::Path;
use std::sync::LazyLock;

use cargo_azfunc::app::{AppFolder, FunctionFolder};
use cargo_azfunc::handler::client::{HostClient, HttpReply};
use cargo_azfunc::host::envelope::{CallerRequest, Sys, http_invocation};
use common::spawn_app;
use serde_json::json;

/// RustyFunction as `RustyFunction/function.json` declares it.
fn rusty_function() -> &'static FunctionFolder {
    static APP: LazyLock<AppFolder> = LazyLock::new(|| {
        AppFolder::load(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the app folder loads")
    });
    APP.function("RustyFunction").expect("RustyFunction")
}

/// The invocation the host sends RustyFunction when a caller (curl) calls
/// `/api/RustFunction?{query}` with `body` as JSON.
fn host_sends(method: &str, query: &str, body: Option<&str>) -> Vec<u8> {
    let mut url = "http://localhost:7071/api/RustFunction".to_owned();
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    let mut headers = vec![
        ("Accept".to_owned(), "*/*".to_owned()),
        ("Host".to_owned(), "localhost:7071".to_owned()),
        ("User-Agent".to_owned(), "curl/8.5.0".to_owned()),
    ];
    if body.is_some() {
        headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    }
    let caller = CallerRequest {
        method: method.to_owned(),
        url,
        headers,
        body: body.map(|body| body.as_bytes().to_vec()),
    };
    let function = rusty_function();
    let envelope = http_invocation(function, &caller, &[], &Sys::new(function));
    serde_json::to_vec(&envelope).expect("an envelope is JSON")
}

/// One invocation of RustyFunction on a fresh app, as the host sends it.
async fn invoke_once(envelope: &[u8], invocation_id: &str, piece: usize) -> HttpReply {
    let app = spawn_app().await;
    HostClient::new(app.port)
        .invoke("RustyFunction", envelope, invocation_id, piece)
        .await
}

/// An invocation the caller gets a 400 for, and a stable part of the error.
struct Mistake {
    envelope: Vec<u8>,
    error_part: &'static str,
}

fn mistake(envelope: impl Into<Vec<u8>>, error_part: &'static str) -> Mistake {
    Mistake {
        envelope: envelope.into(),
        error_part,
    }
}

/// Sends each mistake to one app; each must come back as a 400 inside a 200
/// envelope, with an error that says what was wrong.
async fn assert_refused(mistakes: Vec<Mistake>, piece: usize) {
    let app = spawn_app().await;
    let host = HostClient::new(app.port);
    for Mistake {
        envelope,
        error_part,
    } in mistakes
    {
        let reply = host.invoke("RustyFunction", &envelope, "", piece).await;
        let (status, body) = reply.caller();
        assert_eq!(status, 400, "{body}");
        let error = body["error"].as_str().expect("an error message");
        assert!(error.contains(error_part), "{error} lacks {error_part}");
    }
}

#[rocket::async_test]
async fn a_post_with_a_json_body_gets_the_area() {
    let envelope = host_sends("POST", "", Some(r#"{"radius": 2.5}"#));
    let reply = invoke_once(&envelope, "inv-1", 64).await;
    assert_eq!(
        reply.caller(),
        (200, json!({"radius": 2.5, "area": 19.634954084936208}))
    );
    assert_eq!(reply.json()["Outputs"], json!({}));
    let logs = reply.logs();
    assert!(
        logs[0].starts_with("[INFO] RustyFunction invocation=\"inv-1\" radius=2.5"),
        "{logs:?}"
    );
}

#[rocket::async_test]
async fn a_get_without_body_uses_the_query() {
    let reply = invoke_once(&host_sends("GET", "radius=2", None), "inv-2", 100).await;
    assert_eq!(
        reply.caller(),
        (200, json!({"radius": 2.0, "area": 12.566370614359172}))
    );
}

#[rocket::async_test]
async fn a_repeated_query_key_arrives_comma_joined_and_is_refused() {
    let envelope = host_sends("GET", "radius=1&radius=2", None);
    let reply = invoke_once(&envelope, "inv-3", 100).await;
    assert_eq!(
        reply.caller(),
        (
            400,
            json!({"error": r#"radius was given more than once ("1,2"); give it once"#})
        )
    );
    assert!(reply.logs()[0].starts_with("[WARN]"));
}

#[rocket::async_test]
async fn one_byte_chunks_split_escapes_and_multibyte_characters() {
    let body = r#"{"name": "Ünïcødé \"ø\" 🦀", "radius": 3}"#;
    let envelope = host_sends("POST", "radius=9", Some(body));
    let reply = invoke_once(&envelope, "inv-4", 1).await;
    let (status, result) = reply.caller();
    assert_eq!((status, result["radius"].as_f64()), (200, Some(3.0)));
}

#[rocket::async_test]
async fn unknown_keys_at_every_level_are_ignored() {
    // Written by hand: fields a future host might add, at every level.
    let envelope = json!({
        "Data": {"req": {"Body": "{\"radius\": 1, \"extra\": {}}", "Future": [1], "Method": "POST"},
                 "otherBinding": "\"x\""},
        "Metadata": {"anything": {"nested": true}},
        "NewTopLevel": 42,
    });
    let reply = invoke_once(&serde_json::to_vec(&envelope).unwrap(), "inv-5", 16).await;
    assert_eq!(reply.caller().0, 200);
}

#[rocket::async_test]
async fn caller_mistakes_come_back_as_400_inside_a_200_envelope() {
    let post = |body| host_sends("POST", "", Some(body));
    let mistakes = vec![
        mistake(post("{\"radius\": "), "not valid JSON"),
        mistake(post("[2]"), "must be a JSON object"),
        mistake(post(r#"{"radius": "two"}"#), "not a string"),
        mistake(post(r#"{"radius": -3}"#), "negative"),
        mistake(post(r#"{"radius": 1e999}"#), "finite"),
        mistake(post(r#"{"radius": 1e300}"#), "overflows"),
        mistake(host_sends("GET", "", None), "missing radius"),
        mistake(host_sends("GET", "radius=NaN", None), "finite"),
    ];
    assert_refused(mistakes, 32).await;
}

#[rocket::async_test]
async fn a_malformed_envelope_names_the_field() {
    // Written by hand: no host sends these.
    let mistakes = vec![
        mistake(
            br#"{"Data":{"req":"POST"},"Metadata":{}}"#,
            "invalid invocation at Data.req: invalid type: string",
        ),
        mistake(
            br#"{"Data":{"req":{"Body":2}},"Metadata":{}}"#,
            "Data.req.Body",
        ),
        mistake(br#"{"Data":{},"Metadata":{}}"#, r#"Data has no "req""#),
    ];
    assert_refused(mistakes, 8).await;
}

#[rocket::async_test]
async fn concurrent_invocations_each_get_their_own_answer() {
    let app = spawn_app().await;
    let host = HostClient::new(app.port);
    let calls = (0..64).map(|i| {
        let host = host.clone();
        rocket::tokio::spawn(async move {
            let envelope = host_sends("POST", "", Some(&format!(r#"{{"radius": {i}}}"#)));
            let id = format!("inv-{i}");
            let reply = host.invoke("RustyFunction", &envelope, &id, 7).await;
            (i, reply)
        })
    });
    let calls: Vec<_> = calls.collect();
    for call in calls {
        let (i, reply) = call.await.unwrap();
        let radius = f64::from(i);
        let (status, body) = reply.caller();
        assert_eq!(status, 200);
        assert_eq!(
            body,
            json!({"radius": radius, "area": std::f64::consts::PI * radius * radius})
        );
        assert!(reply.logs()[0].contains(&format!("invocation=\"inv-{i}\"")));
    }
}

#[rocket::async_test]
async fn a_1_mib_caller_body_gets_a_proper_answer_and_more_gets_413() {
    // Quotes and newlines double in the envelope, and the top-level string
    // is repeated, encoded twice, in Metadata: the worst plain-text case.
    let fits = |len: usize| format!(r#"{{"radius": 2, "pad": "{}"}}"#, "\\\"\\n".repeat(len / 4));
    let body = fits(1024 * 1024 - 40);
    assert!(body.len() <= 1024 * 1024);
    let envelope = host_sends("POST", "", Some(&body));
    let reply = invoke_once(&envelope, "big", 64 * 1024).await;
    assert_eq!(reply.caller().0, 200);

    let body = fits(1024 * 1024 + 40);
    let envelope = host_sends("POST", "", Some(&body));
    let reply = invoke_once(&envelope, "big", 64 * 1024).await;
    let (status, error) = reply.caller();
    assert_eq!(status, 413);
    assert!(
        error["error"].as_str().unwrap().contains("at most 1048576"),
        "{error}"
    );
}

#[rocket::async_test]
async fn an_envelope_over_the_json_limit_is_read_to_the_end_and_answered_413() {
    let app = spawn_app().await;
    let host = HostClient::new(app.port);
    // A 33 MiB caller body: the host passes it on, over Rocket's 32 MiB.
    let huge = host_sends("POST", "", Some(&"a".repeat(33 * 1024 * 1024)));
    let reply = host
        .invoke("RustyFunction", &huge, "huge", 1024 * 1024)
        .await;
    let (status, body) = reply.caller();
    assert_eq!(status, 413);
    assert!(
        body["error"].as_str().unwrap().contains("limits.json"),
        "{body}"
    );
    // The same pooled connection still serves the next invocation.
    let reply = host
        .invoke(
            "RustyFunction",
            &host_sends("GET", "radius=1", None),
            "next",
            64,
        )
        .await;
    assert_eq!(reply.caller().0, 200);
}

#[rocket::async_test]
async fn direct_calls_and_the_readiness_probe() {
    let app = spawn_app().await;
    let host = HostClient::new(app.port);
    assert_eq!(host.request("GET", "/", b"").await.status, 200);
    let reply = host
        .request("POST", "/RustFunction", br#"{"radius":2}"#)
        .await;
    assert_eq!(
        reply.caller(),
        (200, json!({"radius": 2.0, "area": 12.566370614359172}))
    );
    let reply = host.request("POST", "/RustFunction?radius=2", b"").await;
    assert_eq!(reply.caller().0, 200);
    let reply = host.request("POST", "/rustfunction", b"").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
}
