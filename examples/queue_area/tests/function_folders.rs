//! The example's hand-kept function folders against its registry, as
//! `cargo azfunc` compares and writes them: they say the same, and a
//! difference of each kind is reported by `check`.

use std::path::{Path, PathBuf};

use cargo_azfunc::app::AppFolder;
use cargo_azfunc::check::{Finding, Severity, registry};
use cargo_azfunc::generate::{differences, missing, read_metadata, write_folders};
use function_app::Metadata;

fn app_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn example_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_queue_area"))
}

fn declared() -> Metadata {
    Metadata::from_functions(queue_area::registry().function_jsons())
}

#[test]
fn every_registered_function_has_its_folder_and_each_says_what_the_registry_declares() {
    let root = app_root();
    let metadata = declared();
    assert_eq!(missing(&root, &metadata), Vec::<String>::new());
    assert_eq!(differences(&root, &metadata).unwrap(), Vec::<String>::new());
    // The built binary prints the same registry.
    assert_eq!(read_metadata(&example_binary(), &root).unwrap(), metadata);
}

/// A copy of the example's app files in a temporary folder, with
/// QueueArea/function.json replaced by `edit` of it.
fn copy_with(edit: impl Fn(serde_json::Value) -> serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a folder");
    for file in ["host.json", "local.settings.json"] {
        std::fs::copy(app_root().join(file), dir.path().join(file)).expect("copied");
    }
    for folder in ["Area", "QueueArea", "TimerLog"] {
        std::fs::create_dir(dir.path().join(folder)).expect("a folder");
        let text =
            std::fs::read_to_string(app_root().join(folder).join("function.json")).expect("read");
        let text = if folder == "QueueArea" {
            edit(serde_json::from_str(&text).expect("JSON")).to_string()
        } else {
            text
        };
        std::fs::write(dir.path().join(folder).join("function.json"), text).expect("written");
    }
    dir
}

/// What `check` says of the folders against the built binary's registry.
fn checked(dir: &Path) -> Vec<Finding> {
    let app = AppFolder::load(dir).expect("the app loads");
    registry(&app, &example_binary())
}

fn problems(found: &[Finding]) -> Vec<&str> {
    found
        .iter()
        .filter(|f| f.severity == Severity::Problem)
        .map(|f| f.text.as_str())
        .collect()
}

#[test]
fn check_finds_nothing_in_the_example_as_it_is() {
    let dir = copy_with(|json| json);
    let found = checked(dir.path());
    assert_eq!(problems(&found), Vec::<&str>::new());
    assert!(
        found.iter().any(|f| f.severity == Severity::Ok),
        "{found:?}"
    );
}

#[test]
fn check_reports_a_binding_missing_from_a_hand_kept_file() {
    let dir = copy_with(|mut json| {
        json["bindings"].as_array_mut().expect("bindings").pop();
        json
    });
    assert_eq!(
        problems(&checked(dir.path())),
        [
            r#"QueueArea/function.json (hand-kept): binding "areas" is missing: the registry declares {"connection":"AzureWebJobsStorage","direction":"out","name":"areas","queueName":"areas","type":"queue"}"#
        ]
    );
}

#[test]
fn check_reports_a_changed_setting_in_a_hand_kept_file() {
    let dir = copy_with(|mut json| {
        json["bindings"][0]["queueName"] = "circles".into();
        json
    });
    assert_eq!(
        problems(&checked(dir.path())),
        [
            r#"QueueArea/function.json (hand-kept): binding "message": "queueName" is "circles" here; the registry declares "radii""#
        ]
    );
}

#[test]
fn check_reports_an_extra_binding_in_a_hand_kept_file() {
    let dir = copy_with(|mut json| {
        let extra = serde_json::json!({"type": "blob", "direction": "out", "name": "log", "path": "logs/{rand-guid}"});
        json["bindings"]
            .as_array_mut()
            .expect("bindings")
            .push(extra);
        json
    });
    assert_eq!(
        problems(&checked(dir.path())),
        [
            r#"QueueArea/function.json (hand-kept): binding "log" is not in the registry: {"direction":"out","name":"log","path":"logs/{rand-guid}","type":"blob"}; declare it on the registry line, or remove it"#
        ]
    );
}

/// Generation from the built binary writes the folder that is missing,
/// as the registry declares it, and leaves the hand-kept ones as they are.
#[test]
fn generation_writes_a_missing_folder_and_keeps_the_hand_kept_ones() {
    let dir = copy_with(|json| json);
    std::fs::remove_dir_all(dir.path().join("TimerLog")).expect("removed");
    let before = std::fs::read(dir.path().join("QueueArea/function.json")).expect("read");
    let metadata = read_metadata(&example_binary(), dir.path()).expect("metadata");
    let written = write_folders(dir.path(), &metadata).expect("written");
    assert_eq!(written.created, ["TimerLog"]);
    assert_eq!(written.hand_kept, ["Area", "QueueArea"]);
    assert_eq!(
        std::fs::read(dir.path().join("QueueArea/function.json")).expect("read"),
        before
    );
    assert_eq!(missing(dir.path(), &metadata), Vec::<String>::new());
    assert_eq!(
        differences(dir.path(), &metadata).unwrap(),
        Vec::<String>::new()
    );
}
