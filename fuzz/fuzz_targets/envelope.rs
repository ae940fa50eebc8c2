//! Arbitrary bytes as an invocation body, as the route hands them over: the
//! envelope parser and the function must answer every input with a proper
//! envelope, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rusty_function::invocation::HttpInput;
use rusty_function::rust_function::{self, Invocation, MAX_BODY_BYTES};

/// A direct call's URL query, so that the query path is reached too.
const URL_QUERIES: [&[(&str, &str)]; 4] = [
    &[],
    &[("radius", "2")],
    &[("radius", "1"), ("radius", "2")],
    &[("radius", "-0e5")],
];

fuzz_target!(|data: &[u8]| {
    // Chosen by length so that every byte stays body and seeds stay plain JSON.
    let url_query = URL_QUERIES[data.len() % URL_QUERIES.len()];
    let body = data;

    if let Ok(input) = HttpInput::read(body, url_query, MAX_BODY_BYTES) {
        let _ = input.query("radius");
        let _ = input.header("content-type");
    }

    let response = rust_function::invoke(Invocation {
        body,
        url_query,
        invocation_id: Some("fuzz"),
    });
    let ret = response.return_value;
    assert!(matches!(ret.status_code, 200 | 400 | 413), "{}", ret.status_code);
    let answer: serde_json::Value =
        serde_json::from_str(&ret.body).expect("the caller's body is always JSON");
    if ret.status_code == 200 {
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
    assert_eq!(response.logs.len(), 1);
    assert!(!response.logs[0].contains(['\n', '\r']), "{:?}", response.logs);
});
