use super::*;
use crate::{Error, HttpRequest, QueueMessage, TimerInfo, TriggerInput};

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
    Function::http("H", "req", nothing::<HttpRequest>)
}

fn queue() -> Function {
    Function::queue("Q", "msg", nothing::<QueueMessage>).output("areas")
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
            Registry::new().with(Function::timer("Tick", "timer", nothing::<TimerInfo>)),
            r#"Tick/function.json: missing: the registry declares "Tick", a timerTrigger function; create the folder "Tick" with its function.json"#,
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
            r#"Q/function.json: the trigger binding is named "message"; the registry reads "msg": set its "name" to "msg", or change the registry line"#,
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
            Registry::new().with(Function::queue("Q", "msg", nothing::<QueueMessage>)),
            r#"Q/function.json: the out binding "areas" is not declared, so nothing would be written to it: add .output("areas") to the registry line, or remove the binding"#,
        ),
        (
            "a declared output with no binding",
            vec![("Q", QUEUE.replace("\"areas\"", "\"area\""))],
            Registry::new().with(
                Function::queue("Q", "msg", nothing::<QueueMessage>)
                    .output("area")
                    .output("areas"),
            ),
            r#"Q/function.json: no out binding named "areas", which the registry declares, so the host would drop it: add the binding, or rename it to match"#,
        ),
        (
            "an HTTP function without its $return",
            vec![("H", HTTP.replace("$return", "res"))],
            Registry::new().with(http().output("res")),
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
            Registry::new().with(Function::timer("T", "timer", nothing::<TimerInfo>)),
            r#"T/function.json: trigger "timer" has "dataType": "binary", but the host sends a timerTrigger as an object, with no bytes to carry: remove "dataType""#,
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
    let registry = Registry::new().with(Function::trigger(
        "B",
        "blobTrigger",
        "blob",
        nothing::<TriggerInput>,
    ));
    assert_eq!(
        registry.mismatches(&AppFolder::read(root.path()).unwrap()),
        Vec::<String>::new()
    );
}
