//! The handler as the Functions host sees it: invocations shaped and sent
//! exactly as `shared/host-protocol.md` describes (chunked bodies, `Body` as a
//! string, `Headers` as arrays, comma-joined `Query`, double-encoded
//! `Metadata`, concurrent calls over keep-alive connections).

mod common;

use common::spawn_app;
use local_host::client::{HostClient, Reply};
use serde_json::{Value, json};

/// An HTTP-trigger invocation as the host builds it for `/api/RustFunction`.
fn invocation(method: &str, query: &[(&str, &str)], body: Option<&str>) -> Vec<u8> {
    let query_string: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut url = "http://localhost:7071/api/RustFunction".to_owned();
    if !query.is_empty() {
        url = format!("{url}?{}", query_string.join("&"));
    }
    let query: serde_json::Map<String, Value> = query
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let mut req = json!({
        "Url": url,
        "Method": method,
        "Query": query,
        "Headers": {
            "Accept": ["*/*"],
            "Host": ["localhost:7071"],
            "User-Agent": ["curl/8.5.0"],
            "Content-Type": ["application/json"],
        },
        "Params": {},
        "Identities": [{"AuthenticationType": null, "IsAuthenticated": false, "Actor": null,
                        "BootstrapContext": null, "Claims": [], "Label": null, "Name": null,
                        "NameClaimType": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
                        "RoleClaimType": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}],
    });
    let mut metadata = json!({
        "Query": query,
        "Headers": {"Accept": "*/*", "Host": "localhost:7071"},
        "sys": {"MethodName": "RustyFunction", "UtcNow": "2026-11-27T10:00:00.0000000Z",
                "RandGuid": "0b4e8e2c-2d5b-4e63-9d7e-5b4cdd0e3f43"},
    });
    for (key, value) in &query {
        // Metadata strings are JSON-encoded a second time by the host.
        metadata[key] = json!(value.to_string());
    }
    if let Some(body) = body {
        req["Body"] = json!(body);
        if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(body) {
            for (key, value) in fields
                .iter()
                .filter(|(_, v)| !v.is_object() && !v.is_array())
            {
                metadata[key] = json!(value.to_string());
            }
        }
    }
    serde_json::to_vec(&json!({"Data": {"req": req}, "Metadata": metadata})).unwrap()
}

/// One invocation of RustyFunction on a fresh app, as the host sends it.
async fn invoke_once(envelope: &[u8], invocation_id: &str, piece: usize) -> Reply {
    let app = spawn_app().await;
    HostClient::new(app.port)
        .invoke("RustyFunction", envelope, invocation_id, piece)
        .await
}

#[rocket::async_test]
async fn a_post_with_a_json_body_gets_the_area() {
    let envelope = invocation("POST", &[], Some(r#"{"radius": 2.5}"#));
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
    let reply = invoke_once(&invocation("GET", &[("radius", "2")], None), "inv-2", 100).await;
    assert_eq!(
        reply.caller(),
        (200, json!({"radius": 2.0, "area": 12.566370614359172}))
    );
}

#[rocket::async_test]
async fn a_repeated_query_key_arrives_comma_joined_and_is_refused() {
    let reply = invoke_once(&invocation("GET", &[("radius", "1,2")], None), "inv-3", 100).await;
    let (status, body) = reply.caller();
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("more than once"),
        "{body}"
    );
    assert!(reply.logs()[0].starts_with("[WARN]"));
}

#[rocket::async_test]
async fn one_byte_chunks_split_escapes_and_multibyte_characters() {
    let body = r#"{"name": "Ünïcødé \"ø\" 🦀", "radius": 3}"#;
    let envelope = invocation("POST", &[("radius", "9")], Some(body));
    let reply = invoke_once(&envelope, "inv-4", 1).await;
    let (status, result) = reply.caller();
    assert_eq!((status, result["radius"].as_f64()), (200, Some(3.0)));
}

#[rocket::async_test]
async fn unknown_keys_at_every_level_are_ignored() {
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
    let app = spawn_app().await;
    let host = HostClient::new(app.port);
    let cases = [
        (
            invocation("POST", &[], Some("{\"radius\": ")),
            "not valid JSON",
        ),
        (
            invocation("POST", &[], Some("[2]")),
            "must be a JSON object",
        ),
        (
            invocation("POST", &[], Some(r#"{"radius": "two"}"#)),
            "not a string",
        ),
        (
            invocation("POST", &[], Some(r#"{"radius": -3}"#)),
            "negative",
        ),
        (
            invocation("POST", &[], Some(r#"{"radius": 1e999}"#)),
            "finite",
        ),
        (
            invocation("POST", &[], Some(r#"{"radius": 1e300}"#)),
            "overflows",
        ),
        (invocation("GET", &[], None), "missing radius"),
        (invocation("GET", &[("radius", "NaN")], None), "finite"),
    ];
    for (envelope, expected) in cases {
        let reply = host.invoke("RustyFunction", &envelope, "inv-6", 32).await;
        let (status, body) = reply.caller();
        assert_eq!(status, 400, "{body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(expected), "{error} lacks {expected}");
    }
}

#[rocket::async_test]
async fn a_malformed_envelope_names_the_field() {
    let app = spawn_app().await;
    let host = HostClient::new(app.port);
    let cases: [(&[u8], &str); 3] = [
        (
            br#"{"Data":{"req":"POST"},"Metadata":{}}"#,
            "invalid invocation at Data.req: invalid type: string",
        ),
        (
            br#"{"Data":{"req":{"Body":2}},"Metadata":{}}"#,
            "Data.req.Body",
        ),
        (br#"{"Data":{},"Metadata":{}}"#, r#"Data has no "req""#),
    ];
    for (envelope, expected) in cases {
        let (status, body) = host
            .invoke("RustyFunction", envelope, "inv-7", 8)
            .await
            .caller();
        assert_eq!(status, 400);
        assert!(body["error"].as_str().unwrap().contains(expected), "{body}");
    }
}

#[rocket::async_test]
async fn concurrent_invocations_each_get_their_own_answer() {
    let app = spawn_app().await;
    let host = HostClient::new(app.port);
    let calls = (0..64).map(|i| {
        let host = host.clone();
        rocket::tokio::spawn(async move {
            let body = format!(r#"{{"radius": {i}}}"#);
            let id = format!("inv-{i}");
            let reply = host
                .invoke(
                    "RustyFunction",
                    &invocation("POST", &[], Some(&body)),
                    &id,
                    7,
                )
                .await;
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
    let reply = invoke_once(&invocation("POST", &[], Some(&body)), "big", 64 * 1024).await;
    assert_eq!(reply.caller().0, 200);

    let body = fits(1024 * 1024 + 40);
    let reply = invoke_once(&invocation("POST", &[], Some(&body)), "big", 64 * 1024).await;
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
    let huge = format!(
        r#"{{"Data":{{"req":{{"Body":"{}"}}}}}}"#,
        "a".repeat(33 * 1024 * 1024)
    );
    let reply = host
        .invoke("RustyFunction", huge.as_bytes(), "huge", 1024 * 1024)
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
            &invocation("GET", &[("radius", "1")], None),
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
