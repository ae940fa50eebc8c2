//! Arbitrary bytes as an invocation body, as the route hands them over: the
//! function layer and the function must answer every input with a proper
//! envelope, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use azure_functions_rocket::Registry;
use azure_functions_rocket::harness::{self, DirectCall};

/// A direct call's URL query, so that the query path is reached too.
const URL_QUERIES: [&[(&str, &str)]; 4] = [
    &[],
    &[("radius", "2")],
    &[("radius", "1"), ("radius", "2")],
    &[("radius", "-0e5")],
];

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        // The blog app's folder, where its function.json files name the
        // bindings its registry lines leave out.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        harness::in_app_folder(rusty_function::registry(), &root)
            .unwrap_or_else(|problems| panic!("the app folder disagrees: {problems:?}"))
    })
}

fn runtime() -> &'static rocket::tokio::runtime::Runtime {
    static RUNTIME: OnceLock<rocket::tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        rocket::tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    // Chosen by length so that every byte stays body and seeds stay plain JSON.
    let url_query = URL_QUERIES[data.len() % URL_QUERIES.len()];
    let function = registry().find("RustyFunction").expect("registered");
    let direct = |body| DirectCall {
        method: "POST".to_owned(),
        query: url_query
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        body,
        ..DirectCall::default()
    };
    let answer = runtime().block_on(harness::invoke(function, data, direct, Some("fuzz")));
    assert_eq!(answer.status, 200, "an HTTP function always answers 200");
    let envelope: serde_json::Value =
        serde_json::from_slice(&answer.body).expect("the envelope is JSON");
    let ret = &envelope["ReturnValue"];
    let status = ret["statusCode"].as_u64().expect("a status");
    assert!(matches!(status, 200 | 400 | 413), "{status}");
    let answer: serde_json::Value = serde_json::from_str(ret["body"].as_str().expect("a body"))
        .expect("the caller's body is always JSON");
    if status == 200 {
        let radius = answer["radius"].as_f64().expect("a radius");
        let area = answer["area"].as_f64().expect("an area");
        assert!(radius >= 0.0 && radius.is_sign_positive() && area.is_finite());
        assert_eq!(area.to_bits(), (std::f64::consts::PI * radius * radius).to_bits());
    } else {
        // Errors say what was wrong without echoing the input at length.
        let error = answer["error"].as_str().expect("an error message");
        assert!(!error.is_empty() && error.chars().count() <= 512, "{error}");
        assert!(!error.contains(['\n', '\r']), "{error:?}");
    }
    let logs = envelope["Logs"].as_array().expect("Logs");
    assert_eq!(logs.len(), 1);
    assert!(!logs[0].as_str().expect("a line").contains(['\n', '\r']), "{logs:?}");
});
