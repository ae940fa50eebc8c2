use super::*;
use crate::{Binding, Error, HttpRequest, QueueMessage, TimerInfo, TriggerInput};

async fn nothing<T>(_: T) -> Result<(), Error> {
    Ok(())
}

const HTTP: &str = r#"{"bindings":[
    {"type":"httpTrigger","direction":"in","name":"req"},
    {"type":"http","direction":"out","name":"$return"}]}"#;
const QUEUE: &str = r#"{"bindings":[
    {"type":"queueTrigger","direction":"in","name":"msg"},
    {"type":"queue","direction":"out","name":"areas"}]}"#;

/// An app folder holding `files` (folder, function.json text).
fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("a temporary folder");
    for (folder, json) in files {
        std::fs::create_dir_all(root.path().join(folder)).expect("a folder");
        std::fs::write(root.path().join(folder).join("function.json"), json).expect("a file");
    }
    root
}

fn http() -> Function {
    Function::http("H", nothing::<HttpRequest>).binding("req")
}

fn queue() -> Function {
    Function::queue("Q", nothing::<QueueMessage>)
        .binding("msg")
        .output(Binding::queue("areas", "areas"))
}

#[test]
fn an_app_that_matches_its_registry_has_no_mismatch() {
    let root = app(&[("H", HTTP), ("Q", QUEUE)]);
    let registry = Registry::new().with(http()).with(queue());
    assert_eq!(
        registry.mismatches(&AppFolder::read(root.path()).unwrap()),
        Vec::<String>::new()
    );
}

/// A case: what it shows, the folders (name, function.json), the
/// registry, and the one line expected.
type Case = (
    &'static str,
    Vec<(&'static str, String)>,
    Registry,
    &'static str,
);

/// One case per kind of mismatch.
#[test]
fn each_kind_of_mismatch_has_its_line() {
    let cases: Vec<Case> = vec![
        (
            "a folder nobody registered",
            vec![("H", HTTP.into()), ("Stray", QUEUE.into())],
            Registry::new().with(http()),
            r#"Stray/function.json: no function named "Stray" is registered: add it to the registry, or remove the folder"#,
        ),
        (
            "a registered function without its folder",
            vec![],
            Registry::new().with(Function::timer("Tick", nothing::<TimerInfo>).binding("timer")),
            r#"Tick/function.json: missing: the registry declares "Tick", a timerTrigger function; create the folder "Tick" with its function.json (`cargo azfunc start` writes it from the registry)"#,
        ),
        (
            "a function.json that is not one",
            vec![("H", "{\"bindings\": [".into())],
            Registry::new().with(http()),
            "H/function.json: not valid JSON: EOF while parsing a list at line 1 column 14",
        ),
        (
            "another trigger type",
            vec![("Q", QUEUE.replace("queueTrigger", "timerTrigger"))],
            Registry::new().with(queue()),
            r#"Q/function.json: the trigger is of type "timerTrigger"; the registry declares a queueTrigger function: change the binding's "type" to "queueTrigger", or the registry line"#,
        ),
        (
            "a renamed trigger binding",
            vec![("Q", QUEUE.replace("\"msg\"", "\"message\""))],
            Registry::new().with(queue()),
            r#"Q/function.json: the trigger binding is named "message"; the registry line names it "msg" (.binding): set its "name" to "msg", or change the registry line"#,
        ),
        (
            "no trigger",
            vec![("Q", QUEUE.replace("queueTrigger", "queue"))],
            Registry::new().with(queue()),
            r#"Q/function.json: 0 trigger bindings; a function has exactly one: an "in" binding of type "queueTrigger" named "msg""#,
        ),
        (
            "an out binding the registry does not declare",
            vec![("Q", QUEUE.into())],
            Registry::new().with(Function::queue("Q", nothing::<QueueMessage>).binding("msg")),
            r#"Q/function.json: the out binding "areas" is not declared, so nothing would be written to it: declare it on the registry line with .output(Binding::...), or remove the binding"#,
        ),
        (
            "a declared output with no binding",
            vec![("Q", QUEUE.replace("\"areas\"", "\"area\""))],
            Registry::new().with(
                Function::queue("Q", nothing::<QueueMessage>).binding("msg")
                    .output(Binding::queue("area", "area"))
                    .output(Binding::queue("areas", "areas")),
            ),
            r#"Q/function.json: no out binding named "areas", which the registry declares, so the host would drop it: add the binding, or rename it to match"#,
        ),
        (
            "an HTTP function without its $return",
            vec![("H", HTTP.replace("$return", "res"))],
            Registry::new().with(http().output(Binding::queue("res", "res"))),
            r#"H/function.json: an HTTP function answers through its return value: add {"type": "http", "direction": "out", "name": "$return"}"#,
        ),
        (
            "an unknown dataType",
            vec![(
                "Q",
                QUEUE.replace(r#""name":"areas""#, r#""name":"areas","dataType":"text""#),
            )],
            Registry::new().with(queue()),
            r#"Q/function.json: binding "areas" has "dataType": "text"; the host knows "string", "binary" and "stream""#,
        ),
        (
            "a binary timer trigger",
            vec![(
                "T",
                r#"{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","dataType":"binary"}]}"#.into(),
            )],
            Registry::new().with(Function::timer("T", nothing::<TimerInfo>).binding("timer")),
            r#"T/function.json: trigger "timer" has "dataType": "binary", but the host sends a timerTrigger as an object, with no bytes to carry: remove "dataType""#,
        ),
        (
            "two bindings of one name in any case",
            vec![("Q", QUEUE.replace(r#""name":"areas""#, r#""name":"MSG""#))],
            Registry::new().with(
                Function::queue("Q", nothing::<QueueMessage>)
                    .binding("msg")
                    .output(Binding::queue("MSG", "areas")),
            ),
            r#"Q/function.json: binding "MSG": more than one binding has this name (in any case), and the host refuses a function whose binding names are not unique: rename one"#,
        ),
        (
            "an unknown authLevel",
            vec![("H", HTTP.replace(r#""name":"req""#, r#""name":"req","authLevel":"anonymus""#))],
            Registry::new().with(http()),
            r#"H/function.json: binding "req": "authLevel" is "anonymus", which the host does not know: use "anonymous", "function", "admin""#,
        ),
        (
            "a name two functions answer to",
            vec![("H", HTTP.into()), ("Q", QUEUE.into())],
            Registry::new().with(http()).with(queue().alias("H")),
            "H: more than one function answers to this name: give each function its own name and aliases",
        ),
    ];
    for (case, files, registry, expected) in cases {
        let files: Vec<(&str, &str)> = files.iter().map(|(f, j)| (*f, j.as_str())).collect();
        let root = app(&files);
        assert_eq!(
            registry.mismatches(&AppFolder::read(root.path()).unwrap()),
            [expected],
            "{case}"
        );
    }
}

#[test]
fn binary_queue_triggers_and_outputs_are_fine() {
    let binary = QUEUE.replace(r#""name":"areas""#, r#""name":"areas","dataType":"binary""#);
    let binary = binary.replace(r#""name":"msg""#, r#""name":"msg","dataType":"binary""#);
    let root = app(&[("Q", binary.as_str())]);
    let registry = Registry::new().with(queue());
    assert_eq!(
        registry.mismatches(&AppFolder::read(root.path()).unwrap()),
        Vec::<String>::new()
    );
}

#[test]
fn a_binary_blob_trigger_is_fine() {
    let blob = r#"{"bindings":[{"type":"blobTrigger","direction":"in","name":"blob","dataType":"binary"}]}"#;
    let root = app(&[("B", blob)]);
    let registry = Registry::new()
        .with(Function::trigger("B", "blobTrigger", nothing::<TriggerInput>).binding("blob"));
    assert_eq!(
        registry.mismatches(&AppFolder::read(root.path()).unwrap()),
        Vec::<String>::new()
    );
}

const STARTER: &str = r#"{"bindings":[
    {"type":"httpTrigger","direction":"in","name":"request"},
    {"type":"durableClient","direction":"in","name":"starter"},
    {"type":"http","direction":"out","name":"$return"}]}"#;

async fn start(
    _: HttpRequest,
    _: crate::durable::DurableClient,
) -> Result<crate::HttpResponse, Error> {
    Ok(crate::HttpResponse::new(200, ""))
}

/// A registry line that leaves its binding names to their defaults reads
/// invocations by the names in a hand-kept folder; one that gives them
/// keeps them.
#[test]
fn binding_names_come_from_function_json_unless_the_line_gives_them() {
    let root = app(&[("S", STARTER), ("Q", QUEUE), ("H", HTTP)]);
    let folder = AppFolder::read(root.path()).unwrap();
    let mut registry = Registry::new()
        .with(Function::http_with_client("S", start))
        .with(
            Function::queue("Q", nothing::<QueueMessage>).output(Binding::queue("areas", "areas")),
        )
        .with(Function::http("H", nothing::<HttpRequest>).binding("request"));
    registry.follow(&folder);
    let followed = |name: &str| {
        let followed = registry.find(name).unwrap().followed.clone().unwrap();
        (followed.trigger, followed.client)
    };
    assert_eq!(
        followed("S"),
        (Some("request".into()), Some("starter".into()))
    );
    assert_eq!(followed("Q"), (Some("msg".into()), None));
    assert_eq!(followed("H"), (None, None), "the line names it");
    assert_eq!(
        registry.mismatches(&folder),
        [
            r#"H/function.json: the trigger binding is named "req"; the registry line names it "request" (.binding): set its "name" to "request", or change the registry line"#
        ]
    );
}

/// Declared in code only, each function has the names Microsoft's
/// templates use.
#[test]
fn a_function_declared_in_code_is_complete() {
    let json = |function: Function| {
        let json = function.function_json();
        assert_eq!(json.problems(), Vec::<String>::new());
        serde_json::to_value(&json).unwrap()
    };
    assert_eq!(
        json(
            Function::http_with_client("S", start)
                .route("orchestrators/{name}")
                .methods(["post"])
        ),
        serde_json::json!({"bindings": [
            {"type": "httpTrigger", "direction": "in", "name": "req", "route": "orchestrators/{name}", "methods": ["post"]},
            {"type": "http", "direction": "out", "name": "$return"},
            {"type": "durableClient", "direction": "in", "name": "client"},
        ]})
    );
    assert_eq!(
        json(
            Function::timer("T", nothing::<TimerInfo>)
                .schedule("0 */5 * * * *")
                .run_on_startup(true)
                .use_monitor(false)
        ),
        serde_json::json!({"bindings": [
            {"type": "timerTrigger", "direction": "in", "name": "timer", "schedule": "0 */5 * * * *", "runOnStartup": true, "useMonitor": false},
        ]})
    );
    assert_eq!(
        json(
            Function::queue("Q", nothing::<QueueMessage>)
                .queue_name("radii")
                .connection("Storage")
                .binary()
        ),
        serde_json::json!({"bindings": [
            {"type": "queueTrigger", "direction": "in", "name": "message", "queueName": "radii", "connection": "Storage", "dataType": "binary"},
        ]})
    );
    assert_eq!(
        json(
            Function::trigger("B", "blobTrigger", nothing::<TriggerInput>)
                .setting("path", "in/{name}")
        ),
        serde_json::json!({"bindings": [
            {"type": "blobTrigger", "direction": "in", "name": "blob", "path": "in/{name}"},
        ]})
    );
}

/// Each mistake on a registry line is one start-up line naming the
/// function, never a panic.
#[test]
fn a_registry_line_the_host_would_refuse_is_named() {
    let problems = |function: Function| function.declaration_problems();
    assert_eq!(
        problems(queue().output(Binding::queue("Msg", "copies"))),
        [
            r#"Q (registry): binding "Msg": more than one binding has this name (in any case), and the host refuses a function whose binding names are not unique: rename one"#
        ]
    );
    assert_eq!(
        problems(http().setting("authLevel", "anonymus")),
        [
            r#"H (registry): binding "req": "authLevel" is "anonymus", which the host does not know: use "anonymous", "function", "admin""#
        ]
    );
    assert_eq!(
        problems(queue().route("x").client_binding("c")),
        [
            r#"Q (registry): route is a setting of a httpTrigger, not of a queueTrigger: give it with .setting if the binding takes it"#,
            r#"Q (registry): .client_binding("c"): the function takes no Durable client"#,
        ]
    );
    assert_eq!(
        problems(queue().output(Binding::new("blob", crate::Direction::In, "b"))),
        [r#"Q (registry): .output: binding "b" has "direction": "in": declare it with .input"#]
    );
}

#[test]
fn a_durable_client_the_folder_lacks_or_names_otherwise_is_a_mismatch() {
    let without = STARTER.replace(
        r#"{"type":"durableClient","direction":"in","name":"starter"},"#,
        "",
    );
    let root = app(&[("S", without.as_str())]);
    let registry = Registry::new().with(Function::http_with_client("S", start));
    assert_eq!(
        registry.mismatches(&AppFolder::read(root.path()).unwrap()),
        [
            r#"S/function.json: 0 durableClient input bindings; "S" takes a Durable client from exactly one: add {"type": "durableClient", "direction": "in", "name": "client"}"#
        ]
    );
    let root = app(&[("S", STARTER)]);
    let registry = Registry::new().with(
        Function::http_with_client("S", start)
            .binding("request")
            .client_binding("client"),
    );
    assert_eq!(
        registry.mismatches(&AppFolder::read(root.path()).unwrap()),
        [
            r#"S/function.json: the durableClient binding is named "starter"; the registry line names it "client" (.client_binding): set its "name" to "client", or change the registry line"#
        ]
    );
}

/// Served with `app` outside any app folder (the library's own folder has
/// no host.json), a registry line the host would refuse stops the launch;
/// a line with no names given launches and reads the default names.
#[test]
fn app_launches_only_when_the_registry_is_valid() {
    use rocket::local::blocking::Client;
    assert!(std::env::var_os("FUNCTIONS_APP_ROOT_PATH").is_none());
    assert!(!std::path::Path::new("host.json").exists());
    let bad = Registry::new()
        .with(Function::http("H", nothing::<HttpRequest>).output(Binding::http("REQ")));
    match Client::untracked(crate::app(bad)) {
        // Reading the kind marks Rocket's error handled.
        Err(error) => assert!(
            matches!(error.kind(), rocket::error::ErrorKind::FailedFairings(_)),
            "{error}"
        ),
        Ok(_) => panic!("it launched with two bindings of one name"),
    }
    let unnamed = Registry::new().with(Function::http("H", nothing::<HttpRequest>));
    let client = Client::untracked(crate::app(unnamed)).expect("it launches");
    let response = client.post("/H").body(r#"{"Data":{"req":{}}}"#).dispatch();
    assert_eq!(response.status().code, 200);
    let response = client
        .post("/H")
        .body(r#"{"Data":{"request":{}}}"#)
        .dispatch();
    let envelope: serde_json::Value = response.into_json().unwrap();
    assert_eq!(envelope["ReturnValue"]["statusCode"], 400, "{envelope}");
}
