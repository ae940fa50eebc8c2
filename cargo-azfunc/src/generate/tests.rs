use super::*;
use function_app::{Binding, Direction, FunctionMetadata};

fn function(name: &str, queue: &str) -> FunctionMetadata {
    FunctionMetadata {
        name: name.into(),
        function: FunctionJson {
            bindings: vec![
                Binding::new("queueTrigger", Direction::In, "message").setting("queueName", queue),
            ],
            disabled: false,
        },
    }
}

fn metadata(functions: Vec<FunctionMetadata>) -> Metadata {
    Metadata { functions }
}

fn read(root: &Path, name: &str) -> String {
    std::fs::read_to_string(root.join(name).join("function.json")).expect("the file")
}

const HAND_KEPT: &str = r#"{"bindings": [{"type": "queueTrigger", "direction": "in", "name": "msg", "queueName": "kept"}]}"#;

#[test]
fn missing_folders_are_written_hand_kept_ones_never_and_written_ones_refreshed() {
    let root = tempfile::tempdir().expect("a folder");
    let root = root.path();
    std::fs::create_dir(root.join("Kept")).unwrap();
    std::fs::write(root.join("Kept/function.json"), HAND_KEPT).unwrap();
    let first = metadata(vec![function("New", "one"), function("Kept", "declared")]);
    let written = write_folders(root, &first).unwrap();
    assert_eq!(written.created, ["New"]);
    assert_eq!(written.hand_kept, ["Kept"]);
    assert_eq!(
        read(root, "Kept"),
        HAND_KEPT,
        "a hand-kept file is never written"
    );
    let new = FunctionJson::parse(&read(root, "New")).unwrap();
    assert_eq!(new, first.functions[0].function);

    // The registry changes: the written folder follows, the hand-kept one
    // does not; a second run with no change writes nothing.
    let second = metadata(vec![function("New", "two"), function("Kept", "declared")]);
    let written = write_folders(root, &second).unwrap();
    assert_eq!(written.refreshed, ["New"]);
    assert!(read(root, "New").contains("\"two\""));
    assert_eq!(read(root, "Kept"), HAND_KEPT);
    assert_eq!(
        write_folders(root, &second).unwrap().lines(),
        Vec::<String>::new()
    );
}

#[test]
fn a_written_file_edited_by_hand_becomes_hand_kept() {
    let root = tempfile::tempdir().expect("a folder");
    let root = root.path();
    write_folders(root, &metadata(vec![function("F", "one")])).unwrap();
    let edited = read(root, "F").replace("\"one\"", "\"mine\"");
    std::fs::write(root.join("F/function.json"), &edited).unwrap();
    let written = write_folders(root, &metadata(vec![function("F", "two")])).unwrap();
    assert_eq!(written.hand_kept, ["F"]);
    assert_eq!(read(root, "F"), edited);
    assert!(!root.join(MANIFEST).exists(), "nothing left to list");
}

#[test]
fn a_written_folder_no_longer_registered_is_removed_a_hand_kept_one_stays() {
    let root = tempfile::tempdir().expect("a folder");
    let root = root.path();
    std::fs::create_dir(root.join("Kept")).unwrap();
    std::fs::write(root.join("Kept/function.json"), HAND_KEPT).unwrap();
    write_folders(root, &metadata(vec![function("Gone", "one")])).unwrap();
    assert!(root.join("Gone/function.json").is_file());
    let written = write_folders(root, &metadata(vec![])).unwrap();
    assert_eq!(written.removed, ["Gone"]);
    assert!(!root.join("Gone").exists());
    assert_eq!(read(root, "Kept"), HAND_KEPT);
}

#[test]
fn a_name_that_is_no_folder_and_a_broken_manifest_are_errors() {
    let root = tempfile::tempdir().expect("a folder");
    let root = root.path();
    let error = write_folders(root, &metadata(vec![function("../x", "q")])).unwrap_err();
    assert!(error.contains("cannot be a folder's name"), "{error}");
    assert!(!root.join("../x").exists());
    std::fs::write(root.join(MANIFEST), "[").unwrap();
    let error = write_folders(root, &metadata(vec![function("F", "q")])).unwrap_err();
    assert!(
        error.contains("is not the list of folders cargo azfunc wrote"),
        "{error}"
    );
    assert!(
        !root.join("F").exists(),
        "nothing written on a broken manifest"
    );
}

#[test]
fn differences_name_each_hand_kept_setting_and_each_missing_folder() {
    let root = tempfile::tempdir().expect("a folder");
    let root = root.path();
    std::fs::create_dir(root.join("Kept")).unwrap();
    std::fs::write(root.join("Kept/function.json"), HAND_KEPT).unwrap();
    let declared = metadata(vec![function("Kept", "declared"), function("Missing", "q")]);
    assert_eq!(
        differences(root, &declared).unwrap(),
        [
            r#"Kept/function.json (hand-kept): binding "message" is missing: the registry declares {"direction":"in","name":"message","queueName":"declared","type":"queueTrigger"}"#,
            r#"Kept/function.json (hand-kept): binding "msg" is not in the registry: {"direction":"in","name":"msg","queueName":"kept","type":"queueTrigger"}; declare it on the registry line, or remove it"#,
        ]
    );
    assert_eq!(
        missing(root, &declared),
        [
            "Missing/function.json: missing: `cargo azfunc start --build` and scripts/release write it from the registry"
        ]
    );
    write_folders(root, &declared).unwrap();
    assert_eq!(missing(root, &declared), Vec::<String>::new());
    assert_eq!(
        differences(root, &declared).unwrap().len(),
        2,
        "only the hand-kept file differs"
    );
}

#[test]
fn a_hand_kept_folder_the_registry_does_not_declare_is_a_difference() {
    let root = tempfile::tempdir().expect("a folder");
    let root = root.path();
    std::fs::create_dir(root.join("Stray")).unwrap();
    std::fs::write(root.join("Stray/function.json"), HAND_KEPT).unwrap();
    assert_eq!(
        differences(root, &metadata(vec![])).unwrap(),
        [
            "Stray/function.json (hand-kept): not in the registry: the host would load a function the handler does not serve; declare it on a registry line, or remove the folder"
        ]
    );
}
