//! Properties of the envelope parser and the function, for inputs no one
//! thought to write down: whatever the bytes, the answer is a proper
//! envelope (never a panic), and every valid radius gives exactly
//! `PI * r * r` however it is sent.

use std::f64::consts::PI;

use proptest::prelude::*;
use rocket::http::Header;
use rocket::local::blocking::Client;
use serde_json::{Value, json};

/// The longest error message a caller may get, in characters: enough to
/// say what and where, too short to echo their input back at length.
const MAX_MESSAGE_CHARS: usize = 512;

/// What the function answered, checked for what must hold of every answer.
#[derive(Debug)]
enum Outcome {
    Area { radius: f64, area: f64 },
    Refused { status: u16, message: String },
}

/// The app's answer, in this process, to a POST of `body` to
/// `/RustFunction` with `url_query`.
fn invoke(body: &[u8], url_query: &[(&str, &str)]) -> Outcome {
    let query: Vec<String> = url_query
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect();
    let response = client()
        .post(format!("/RustFunction?{}", query.join("&")))
        .header(Header::new("X-Azure-Functions-InvocationId", "prop"))
        .body(body)
        .dispatch();
    assert_eq!(response.status().code, 200, "the host needs 200");
    let envelope: Value = response.into_json().expect("an envelope");
    let logs = envelope["Logs"].as_array().expect("Logs");
    assert_eq!(logs.len(), 1);
    let log = logs[0].as_str().expect("a log line");
    assert!(
        !log.contains(['\n', '\r']),
        "a log line is one line: {log:?}"
    );
    assert!(log.chars().count() < 2 * MAX_MESSAGE_CHARS, "{log}");
    let ret = &envelope["ReturnValue"];
    outcome(
        ret["statusCode"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .expect("a status"),
        ret["headers"]["Content-Type"]
            .as_str()
            .expect("a content type"),
        ret["body"].as_str().expect("a body"),
    )
}

/// `text` percent-encoded for a URL query.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn outcome(status: u16, content_type: &str, body: &str) -> Outcome {
    assert_eq!(content_type, "application/json");
    let body: Value = serde_json::from_str(body).expect("the caller's body is JSON");
    match status {
        200 => {
            let radius = body["radius"].as_f64().expect("a radius");
            let area = body["area"].as_f64().expect("an area");
            assert_eq!(body.as_object().map(|fields| fields.len()), Some(2));
            Outcome::Area { radius, area }
        }
        400 | 413 => {
            let message = body["error"].as_str().expect("an error").to_owned();
            assert_eq!(body.as_object().map(|fields| fields.len()), Some(1));
            assert!(!message.is_empty());
            assert!(
                message.chars().count() <= MAX_MESSAGE_CHARS,
                "{} chars: {message}",
                message.chars().count()
            );
            assert!(!message.contains(['\n', '\r']), "{message:?}");
            Outcome::Refused { status, message }
        }
        other => panic!("status {other}: {body}"),
    }
}

/// The area must be PI * r * r to the bit, and -0 comes back as 0.
fn assert_area(outcome: &Outcome, radius: f64) {
    match outcome {
        Outcome::Area { radius: r, area } => {
            assert_eq!(r.to_bits(), (radius + 0.0).to_bits(), "{r} for {radius}");
            assert_eq!(area.to_bits(), (PI * radius * radius).to_bits(), "{area}");
        }
        Outcome::Refused { message, .. } => panic!("radius {radius:e} refused: {message}"),
    }
}

fn valid(radius: f64) -> bool {
    radius.is_finite() && radius >= 0.0 && (PI * radius * radius).is_finite()
}

/// Valid radii, from all over the range of f64.
fn valid_radius() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0..1e6,
        any::<f64>()
            .prop_map(f64::abs)
            .prop_filter("valid", |r| valid(*r)),
        (0u64..=4).prop_map(|ulps| f64::from_bits(7.5e153f64.to_bits() + ulps)),
        (1u64..1 << 20).prop_map(f64::from_bits),
        Just(0.0),
        Just(-0.0),
        Just(f64::MIN_POSITIVE),
    ]
    .prop_filter("valid", |r| valid(*r))
}

/// A number as text, in one of the ways people (and serializers) write it.
fn spell(radius: f64, style: u8) -> String {
    match style % 4 {
        0 => format!("{radius}"),
        1 => format!("{radius:e}"),
        2 => format!("{radius:E}"),
        _ => serde_json::to_string(&radius).unwrap(),
    }
}

/// Keys that mean something somewhere, and some that mean nothing.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "Data",
            "Metadata",
            "req",
            "Url",
            "Method",
            "Query",
            "Headers",
            "Params",
            "Identities",
            "Body",
            "radius",
        ])
        .prop_map(String::from),
        any::<String>(),
        // Long enough to be cut short wherever it is quoted.
        prop::collection::vec(any::<char>(), 100..400).prop_map(String::from_iter),
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::from),
        key().prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// An envelope with any value in any place: each field of `req` is either
/// left out, of the right shape, or arbitrary.
fn envelope() -> impl Strategy<Value = Value> {
    let field = |name: &'static str, right: Value| {
        prop_oneof![
            Just(None),
            Just(Some((name, right))),
            json_value().prop_map(move |value| Some((name, value))),
        ]
    };
    let body = prop_oneof![
        json_value().prop_map(|value| json!(value.to_string())),
        valid_radius().prop_map(|r| json!(format!(r#"{{"radius": {r}}}"#))),
        json_value(),
    ];
    (
        field(
            "Url",
            json!("http://localhost:7071/api/RustFunction?radius=2"),
        ),
        field("Method", json!("POST")),
        field("Query", json!({"radius": "2"})),
        field("Headers", json!({"Accept": ["*/*"]})),
        field("Params", json!({"id": null})),
        field("Identities", json!([{"IsAuthenticated": false}])),
        body.prop_map(|body| Some(("Body", body))),
        json_value(),
        prop::option::of(json_value()),
    )
        .prop_map(
            |(url, method, query, headers, params, ids, body, metadata, data)| {
                let req: serde_json::Map<String, Value> =
                    [url, method, query, headers, params, ids, body]
                        .into_iter()
                        .flatten()
                        .map(|(name, value)| (name.to_owned(), value))
                        .collect();
                // Now and then, something other than `{"req": {...}}` as Data.
                let data = data.unwrap_or_else(|| json!({ "req": req }));
                json!({"Data": data, "Metadata": metadata})
            },
        )
}

/// A valid envelope with a few of its bytes replaced, removed or added.
fn mangled_envelope() -> impl Strategy<Value = Vec<u8>> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6);
    edits.prop_map(|edits| {
        let mut bytes = br#"{"Data":{"req":{"Url":"http://localhost:7071/api/RustFunction","Method":"POST","Query":{"radius":"1"},"Headers":{"Accept":["*/*"]},"Params":{},"Identities":[],"Body":"{\"radius\": 2.5, \"x\": [1, {\"y\": null}]}"}},"Metadata":{"sys":{"MethodName":"RustyFunction"}}}"#.to_vec();
        for (at, byte, kind) in edits {
            let at = at.index(bytes.len());
            match kind {
                0 => bytes[at] = byte,
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, byte),
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_get_an_answer(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        repeated in any::<bool>(),
    ) {
        let query: &[(&str, &str)] = if repeated { &[("radius", "1"), ("radius", "2")] } else { &[] };
        invoke(&bytes, query);
    }

    #[test]
    fn arbitrary_query_values_get_an_answer(value in any::<String>(), long in "\\PC{0,2000}") {
        invoke(b"", &[("radius", &value)]);
        invoke(b"", &[("radius", &long), ("radius", &value)]);
        let wrapped = serde_json::to_vec(&json!({"Data": {"req": {"Query": {"radius": long}}}, "Metadata": {}})).unwrap();
        invoke(&wrapped, &[]);
    }

    #[test]
    fn mangled_envelopes_get_an_answer(bytes in mangled_envelope()) {
        invoke(&bytes, &[]);
    }

    #[test]
    fn arbitrary_json_in_every_part_of_an_envelope_gets_an_answer(envelope in envelope()) {
        let bytes = serde_json::to_vec(&envelope).unwrap();
        invoke(&bytes, &[]);
    }

    #[test]
    fn arbitrary_json_as_a_callers_body_gets_the_same_answer_both_ways(body in json_value()) {
        // A direct caller's object with these keys is taken for an
        // envelope, by design: that is how the two are told apart.
        prop_assume!(!["Data", "Metadata"].iter().any(|key| body.get(key).is_some()));
        let body = body.to_string();
        let direct = invoke(body.as_bytes(), &[]);
        let wrapped = serde_json::to_vec(&json!({"Data": {"req": {"Body": body}}, "Metadata": {}})).unwrap();
        let via_host = invoke(&wrapped, &[]);
        prop_assert_eq!(format!("{direct:?}"), format!("{via_host:?}"));
    }

    #[test]
    fn every_finite_radius_gets_its_area_or_says_why_not(radius in any::<f64>(), style in any::<u8>()) {
        prop_assume!(radius.is_finite());
        let outcome = invoke(format!(r#"{{"radius": {}}}"#, spell(radius, style)).as_bytes(), &[]);
        if valid(radius) {
            assert_area(&outcome, radius);
        } else {
            let Outcome::Refused { status: 400, message } = outcome else {
                panic!("{radius:e} accepted: {outcome:?}");
            };
            let why = if radius < 0.0 { "must not be negative" } else { "its area overflows" };
            prop_assert!(message.contains(why), "{}", message);
        }
    }

    #[test]
    fn every_valid_radius_in_a_json_body_gets_pi_r_squared(radius in valid_radius(), style in any::<u8>()) {
        let body = format!(r#"{{"radius": {}}}"#, spell(radius, style));
        assert_area(&invoke(body.as_bytes(), &[]), radius);
        let wrapped = serde_json::to_vec(&json!({"Data": {"req": {"Body": body}}, "Metadata": {}})).unwrap();
        assert_area(&invoke(&wrapped, &[]), radius);
    }

    #[test]
    fn every_valid_radius_in_a_query_gets_pi_r_squared(radius in valid_radius(), style in any::<u8>()) {
        let text = spell(radius, style);
        assert_area(&invoke(b"", &[("radius", &text)]), radius);
        let wrapped = serde_json::to_vec(&json!({"Data": {"req": {"Query": {"radius": text}}}, "Metadata": {}})).unwrap();
        assert_area(&invoke(&wrapped, &[]), radius);
    }
}

proptest! {
    // Through Rocket: fewer cases, each a whole HTTP request.
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_valid_radius_over_http_gets_pi_r_squared(radius in valid_radius(), style in any::<u8>()) {
        let client = client();
        let text = spell(radius, style);
        let answers = [
            // In a URL query `+` means a space.
            client.post(format!("/RustFunction?radius={}", text.replace('+', "%2B"))).dispatch(),
            client.post("/RustFunction").body(format!(r#"{{"radius": {text}}}"#)).dispatch(),
            client
                .post("/RustyFunction")
                .body(json!({"Data": {"req": {"Body": format!(r#"{{"radius": {text}}}"#)}}, "Metadata": {}}).to_string())
                .dispatch(),
        ];
        for response in answers {
            prop_assert_eq!(response.status().code, 200);
            let envelope: Value = response.into_json().expect("an envelope");
            let ret = &envelope["ReturnValue"];
            let status = ret["statusCode"].as_u64().and_then(|s| u16::try_from(s).ok()).expect("a status");
            let body = ret["body"].as_str().expect("a body");
            assert_area(&outcome(status, ret["headers"]["Content-Type"].as_str().unwrap(), body), radius);
        }
    }

    #[test]
    fn arbitrary_bytes_over_http_get_a_200_envelope(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let client = client();
        for path in ["/RustFunction", "/RustyFunction"] {
            let response = client.post(path).body(&bytes).dispatch();
            prop_assert_eq!(response.status().code, 200);
            let envelope: Value = response.into_json().expect("an envelope");
            let ret = &envelope["ReturnValue"];
            let status = ret["statusCode"].as_u64().and_then(|s| u16::try_from(s).ok()).expect("a status");
            outcome(status, ret["headers"]["Content-Type"].as_str().unwrap(), ret["body"].as_str().unwrap());
        }
    }
}

/// Every function of both apps, each served in-process with its registry.
fn every_function() -> &'static [(Client, Vec<(&'static str, bool)>)] {
    type Apps = Vec<(Client, Vec<(&'static str, bool)>)>;
    thread_local! {
        static APPS: &'static Apps = Box::leak(Box::new(apps()));
    }
    APPS.with(|apps| apps.as_slice())
}

fn apps() -> Vec<(Client, Vec<(&'static str, bool)>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        (rusty_function::registry(), root.to_owned()),
        (queue_area::registry(), root.join("examples/queue_area")),
    ]
    .into_iter()
    .map(|(registry, folder)| {
        // Each app's binding names are in its own folder's function.json.
        let registry = azure_functions_rocket::harness::in_app_folder(registry, &folder)
            .expect("the app agrees with its folder");
        let names = registry
            .iter()
            .map(|function| (function.name(), function.trigger_type() == "httpTrigger"))
            .collect();
        let client =
            Client::untracked(azure_functions_rocket::app(registry)).expect("the app builds");
        (client, names)
    })
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever a function is, any body, raw or as any input binding of an
    /// envelope, gets a JSON envelope with the status its trigger calls
    /// for: 200 for HTTP (the caller's status inside), and for any other
    /// trigger 200 or a 4xx/5xx that fails the invocation.
    #[test]
    fn every_registered_function_answers_any_input_with_an_envelope(
        raw in prop::collection::vec(any::<u8>(), 0..128),
        value in json_value(),
        binding in prop::sample::select(vec!["req", "message", "timer", "msg", "other"]),
    ) {
        let envelope = serde_json::to_vec(&json!({"Data": {binding: value}, "Metadata": {}})).unwrap();
        for (client, names) in every_function() {
            for (name, http) in names {
                for body in [&raw, &envelope] {
                    let response = client.post(format!("/{name}")).body(body).dispatch();
                    let status = response.status().code;
                    let envelope: Value = response.into_json().expect("a JSON envelope");
                    prop_assert!(envelope["Logs"].is_array() && envelope["Outputs"].is_object());
                    if *http {
                        prop_assert_eq!(status, 200);
                        let inner = envelope["ReturnValue"]["statusCode"].as_u64().expect("a status");
                        prop_assert!(matches!(inner, 200 | 400 | 413), "{}", inner);
                    } else {
                        prop_assert!(matches!(status, 200 | 400 | 413 | 500), "{} {}", name, status);
                        if status != 200 {
                            // A failure writes nothing and says why.
                            prop_assert_eq!(&envelope["Outputs"], &json!({}));
                            let logs = envelope["Logs"].as_array().expect("Logs");
                            let last = logs.last().and_then(Value::as_str).unwrap_or_default();
                            let expected = format!("status={status}");
                            prop_assert!(last.contains(&expected), "{}", last);
                        }
                    }
                }
            }
        }
    }
}

/// One in-process app per thread: building it is the slow part.
fn client() -> &'static Client {
    thread_local! {
        static CLIENT: &'static Client = Box::leak(Box::new(
            Client::tracked(azure_functions_rocket::app(rusty_function::registry()))
                .expect("the app builds"),
        ));
    }
    CLIENT.with(|client| *client)
}
