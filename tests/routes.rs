//! The handler's HTTP surface, served in-process: readiness, both names
//! of a function, envelopes, limits and the JSON 404 and 405.

use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::Client;
use serde_json::{Value, json};

fn client() -> Client {
    Client::tracked(azure_functions_rocket::app(rusty_function::registry())).unwrap()
}

/// The caller-facing status and body inside an envelope, and its logs.
fn unwrap_envelope(envelope: &Value) -> (u64, Value, Vec<String>) {
    let ret = &envelope["ReturnValue"];
    assert_eq!(ret["headers"]["Content-Type"], "application/json");
    let body = serde_json::from_str(ret["body"].as_str().unwrap()).unwrap();
    let logs = serde_json::from_value(envelope["Logs"].clone()).unwrap();
    (ret["statusCode"].as_u64().unwrap(), body, logs)
}

#[test]
fn readiness_probe_answers_200() {
    assert_eq!(client().get("/").dispatch().status(), Status::Ok);
}

#[test]
fn both_function_names_answer_with_a_json_envelope() {
    let client = client();
    for path in ["/RustFunction", "/RustyFunction"] {
        let response = client.post(path).body(r#"{"radius": 2.5}"#).dispatch();
        assert_eq!(response.status(), Status::Ok);
        assert_eq!(response.content_type(), Some(ContentType::JSON));
        let envelope: Value = response.into_json().unwrap();
        assert_eq!(envelope["Outputs"], json!({}));
        let (status, body, _) = unwrap_envelope(&envelope);
        assert_eq!(
            (status, body),
            (200, json!({"radius": 2.5, "area": 19.634954084936208}))
        );
    }
}

#[test]
fn a_direct_query_works_without_a_body() {
    let client = client();
    let response = client.post("/RustFunction?radius=2").dispatch();
    let (status, body, _) = unwrap_envelope(&response.into_json().unwrap());
    assert_eq!(
        (status, body["area"].as_f64()),
        (200, Some(12.566370614359172))
    );
}

#[test]
fn the_invocation_id_header_reaches_the_logs() {
    let client = client();
    let response = client
        .post("/RustyFunction")
        .header(Header::new("X-Azure-Functions-InvocationId", "abc-123"))
        .body(r#"{"Data":{"req":{"Body":"{\"radius\":1}"}},"Metadata":{}}"#)
        .dispatch();
    let (_, _, logs) = unwrap_envelope(&response.into_json().unwrap());
    assert!(logs[0].contains("invocation=\"abc-123\""), "{logs:?}");
}

#[test]
fn caller_errors_keep_http_200_and_carry_400_inside() {
    let client = client();
    let response = client
        .post("/RustFunction")
        .body(r#"{"radius": -1}"#)
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    let (status, body, logs) = unwrap_envelope(&response.into_json().unwrap());
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("negative"),
        "{body}"
    );
    assert!(logs[0].starts_with("[WARN]"), "{logs:?}");
}

#[test]
fn an_invocation_over_the_json_limit_gets_413_in_its_envelope() {
    let app = azure_functions_rocket::app(rusty_function::registry());
    let figment = app.figment().clone().merge(("limits.json", 1024));
    let client = Client::tracked(app.configure(figment)).unwrap();
    let response = client
        .post("/RustyFunction")
        .body(vec![b' '; 5000])
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    let (status, body, logs) = unwrap_envelope(&response.into_json().unwrap());
    assert_eq!(status, 413);
    assert!(
        body["error"].as_str().unwrap().contains("limits.json"),
        "{body}"
    );
    assert!(logs[0].starts_with("[WARN] RustyFunction"), "{logs:?}");
    // Our own message is logged whole, not cut like caller input.
    assert!(logs[0].contains("limits.json"), "{logs:?}");
}

#[test]
fn other_methods_on_a_function_path_get_a_json_405_naming_post() {
    let client = client();
    for response in [
        client.get("/RustFunction").dispatch(),
        client.put("/RustyFunction").dispatch(),
        client.options("/RustFunction").dispatch(),
    ] {
        assert_eq!(response.status(), Status::MethodNotAllowed);
        assert_eq!(response.headers().get_one("Allow"), Some("POST"));
        assert_eq!(response.content_type(), Some(ContentType::JSON));
        let body: Value = response.into_json().unwrap();
        assert!(
            body["error"].as_str().unwrap().ends_with("use POST"),
            "{body}"
        );
    }
    let response = client.head("/RustFunction").dispatch();
    assert_eq!(response.status(), Status::MethodNotAllowed);
    assert_eq!(response.headers().get_one("Allow"), Some("POST"));
}

#[test]
fn unknown_paths_get_a_json_404() {
    let client = client();
    for response in [
        client.post("/Nope").dispatch(),
        client.get("/Nope").dispatch(),
        client.delete("/rustfunction").dispatch(),
    ] {
        assert_eq!(response.status(), Status::NotFound);
        assert_eq!(response.content_type(), Some(ContentType::JSON));
        let body: Value = response.into_json().unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("not found"),
            "{body}"
        );
    }
}
