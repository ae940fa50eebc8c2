//! The functions README.md shows how to add ("Add a function"): found
//! there word for word, compiled here, and run as the host runs them.

mod common;

#[path = "readme/queue_square.rs"]
mod queue_square;
#[path = "readme/rectangle.rs"]
mod rectangle;

use std::path::{Path, PathBuf};

use azure_functions_rocket::{Binding, Function, Registry};
use cargo_azfunc::app::AppFolder;
use cargo_azfunc::handler::client::HostClient;
use cargo_azfunc::host::envelope::{
    QueueMessage, Sys, Verdict, Written, queue_invocation, read_reply,
};
use common::spawn_rocket;
use rocket::http::Status;
use rocket::local::blocking::Client;
use serde_json::{Value, json};

#[test]
fn the_readme_shows_these_examples_word_for_word() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    for file in ["rectangle.rs", "queue_square.rs"] {
        let code = std::fs::read_to_string(root.join("tests/readme").join(file)).expect(file);
        assert!(
            readme.contains(&format!("```rust\n{code}```")),
            "README.md does not show tests/readme/{file} as it is"
        );
    }
}

/// The caller's status and body from a direct call's envelope.
fn caller_answer(envelope: &Value) -> (u64, Value) {
    let reply = &envelope["ReturnValue"];
    let body = reply["body"].as_str().expect("a body");
    (
        reply["statusCode"].as_u64().expect("a status"),
        serde_json::from_str(body).expect("a JSON body"),
    )
}

#[test]
fn the_rectangle_answers_its_area_and_says_what_to_send() {
    let registry = Registry::new().with(Function::http("Rectangle", rectangle::area));
    let client = Client::tracked(azure_functions_rocket::app(registry)).expect("valid app");
    let cases = [
        (r#"{"width": 2, "height": 3}"#, 200, json!({"area": 6.0})),
        (
            "",
            400,
            json!({"error": r#"send {"width": 2, "height": 3}"#}),
        ),
    ];
    for (body, status, answer) in cases {
        let response = client.post("/Rectangle").body(body).dispatch();
        assert_eq!(response.status(), Status::Ok);
        let envelope = response.into_json().expect("an envelope");
        assert_eq!(caller_answer(&envelope), (status, answer), "{body:?}");
    }
}

/// An app folder holding only QueueSquare, as README.md describes it.
struct QueueSquareApp(PathBuf);

impl QueueSquareApp {
    fn create() -> QueueSquareApp {
        let root = std::env::temp_dir().join(format!("rusty-readme-{}", std::process::id()));
        let folder = root.join("QueueSquare");
        std::fs::create_dir_all(&folder).expect("a temporary folder");
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/queue_area/host.json");
        std::fs::copy(example, root.join("host.json")).expect("host.json");
        let bindings = json!({"bindings": [
            {"type": "queueTrigger", "direction": "in", "name": "message", "queueName": "sides"},
            {"type": "queue", "direction": "out", "name": "squares", "queueName": "squares"}
        ]});
        std::fs::write(folder.join("function.json"), bindings.to_string()).expect("function.json");
        QueueSquareApp(root)
    }
}

impl Drop for QueueSquareApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[rocket::async_test]
async fn queue_square_writes_the_square_to_its_output_queue() {
    let folder = QueueSquareApp::create();
    let registry = Registry::new().with(
        Function::queue("QueueSquare", queue_square::area)
            .queue_name("sides")
            .output(Binding::queue("squares", "squares")),
    );
    let app = AppFolder::load(&folder.0).expect("the app loads");
    let function = app.function("QueueSquare").expect("QueueSquare");
    let served = spawn_rocket(azure_functions_rocket::app(registry)).await;
    let client = HostClient::new(served.port);
    let body = queue_invocation(function, &QueueMessage::new("3"), &Sys::new(function));
    let bytes = serde_json::to_vec(&body).expect("JSON");
    let reply = client.invoke("QueueSquare", &bytes, "q-1", 64).await;
    let outcome = read_reply(function, &reply);
    assert_eq!(outcome.verdict, Verdict::Succeeded);
    let written: Vec<_> = outcome
        .outputs
        .iter()
        .map(|output| (output.binding.as_str(), &output.value))
        .collect();
    assert_eq!(
        written,
        [("squares", &Written::Json(json!({"side": 3.0, "area": 9.0})))]
    );
}
