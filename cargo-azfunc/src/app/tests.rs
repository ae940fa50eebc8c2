use super::*;
use function_app::DEFAULT_FUNCTION_TIMEOUT;
use std::time::Duration;

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("dir");
    }
    std::fs::write(path, text).expect("write");
}

const HOST: &str = r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler","arguments":["-v"]}}}"#;

#[test]
fn loads_functions_settings_and_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "host.json", HOST);
    write(
        dir.path(),
        "Area/function.json",
        r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","methods":["post"],"route":"area/{id:int}"},{"type":"http","direction":"out","name":"$return"}]}"#,
    );
    write(
        dir.path(),
        "Tick/function.json",
        r#"{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"0 */5 * * * *"}]}"#,
    );
    write(dir.path(), "docs/readme.txt", "not a function");
    write(
        dir.path(),
        "local.settings.json",
        r#"{"IsEncrypted":false,"Values":{"FUNCTIONS_WORKER_RUNTIME":"custom","N":3}}"#,
    );
    let app = AppFolder::load(dir.path()).expect("loads");
    assert_eq!(app.executable(), "handler");
    assert_eq!(app.host.arguments, ["-v"]);
    assert_eq!(app.host.route_prefix, "api");
    assert_eq!(app.host.mode, function_app::HttpMode::Envelope);
    let names: Vec<&str> = app.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Area", "Tick"]);
    let area = app.function("area").expect("any case");
    assert_eq!(area.trigger_kind(), TriggerKind::Http);
    assert_eq!(area.trigger().route.as_deref(), Some("area/{id:int}"));
    assert_eq!(area.outputs().count(), 1);
    let tick = app.function("Tick").expect("tick");
    assert_eq!(tick.trigger().schedule.as_deref(), Some("0 */5 * * * *"));
    assert_eq!(
        app.settings.values,
        [
            ("FUNCTIONS_WORKER_RUNTIME".to_owned(), "custom".to_owned()),
            ("N".to_owned(), "3".to_owned())
        ]
    );
    assert_eq!(app.executable_path(), dir.path().join("handler"));
    assert_eq!(app.working_directory(), dir.path());
}

#[test]
fn functions_keeps_a_subset_in_any_case_and_refuses_unknown_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "host.json", HOST);
    for name in ["A", "B", "C"] {
        write(
            dir.path(),
            &format!("{name}/function.json"),
            r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"m","queueName":"q"}]}"#,
        );
    }
    let mut app = AppFolder::load(dir.path()).expect("loads");
    let only = |names: &[&str]| Overrides {
        functions: names.iter().map(|n| (*n).to_owned()).collect(),
        cors: None,
    };
    only(&["c", "A", "a"]).apply(&mut app).expect("applies");
    let names: Vec<&str> = app.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["A", "C"]);
    let error = only(&["B"]).apply(&mut app).expect_err("B is gone");
    assert!(error.0.contains("no function named \"B\""), "{error}");
    assert!(error.0.ends_with("it has: A, C"), "{error}");
    only(&[]).apply(&mut app).expect("no filter");
    assert_eq!(app.functions.len(), 2);
}

#[test]
fn route_prefix_and_hub_name_from_extensions() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "host.json",
        r#"{"customHandler":{"description":{"defaultExecutablePath":"h"}},"extensions":{"http":{"routePrefix":""},"durableTask":{"hubName":"Shapes"}}}"#,
    );
    let host = AppFolder::load(dir.path()).expect("loads").host;
    assert_eq!(
        (host.route_prefix.as_str(), host.hub_name.as_str()),
        ("", "Shapes")
    );
    write(dir.path(), "host.json", HOST);
    let host = AppFolder::load(dir.path()).expect("loads").host;
    assert_eq!(host.hub_name, "TestHubName");
}

#[test]
fn clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = AppFolder::load(dir.path()).expect_err("no host.json");
    assert!(err.0.contains("no host.json"), "{err}");

    write(dir.path(), "host.json", "{ nope");
    let err = AppFolder::load(dir.path()).expect_err("broken");
    assert!(err.0.contains("host.json is not valid JSON"), "{err}");

    write(
        dir.path(),
        "host.json",
        r#"{"customHandler":{"description":{}}}"#,
    );
    let err = AppFolder::load(dir.path()).expect_err("no path");
    assert!(err.0.contains("defaultExecutablePath"), "{err}");

    write(dir.path(), "host.json", HOST);
    write(
        dir.path(),
        "F/function.json",
        r#"{"bindings":[{"type":"queue","direction":"out","name":"q"}]}"#,
    );
    let err = AppFolder::load(dir.path()).expect_err("no trigger");
    assert!(err.0.contains("0 trigger bindings"), "{err}");

    write(
        dir.path(),
        "F/function.json",
        r#"{"bindings":[{"type":"httpTrigger","name":"req"}]}"#,
    );
    let err = AppFolder::load(dir.path()).expect_err("no direction");
    assert!(
        err.0
            .contains("F/function.json is not a valid function.json"),
        "{err}"
    );

    write(dir.path(), "F/function.json", "[");
    let err = AppFolder::load(dir.path()).expect_err("broken");
    assert!(err.0.contains("function.json is not valid JSON"), "{err}");

    std::fs::remove_dir_all(dir.path().join("F")).expect("remove F");
    write(
        dir.path(),
        "local.settings.json",
        r#"{"Values":{},"Host":{"CORS":7}}"#,
    );
    let err = AppFolder::load(dir.path()).expect_err("a bad Host.CORS");
    assert!(
        err.0.contains("local.settings.json: Host.CORS must be"),
        "{err}"
    );
    write(dir.path(), "local.settings.json", "{");
    let err = AppFolder::load(dir.path()).expect_err("broken");
    assert!(
        err.0.contains("local.settings.json is not valid JSON"),
        "{err}"
    );
}

#[test]
fn a_bad_function_timeout_stops_the_load_naming_file_and_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = |timeout: &str| {
        format!(
            r#"{{"customHandler":{{"description":{{"defaultExecutablePath":"h"}}}},"functionTimeout":{timeout}}}"#
        )
    };
    write(dir.path(), "host.json", &host(r#""5 minutes""#));
    let err = AppFolder::load(dir.path()).expect_err("refused");
    assert!(
        err.0
            .contains("host.json: functionTimeout \"5 minutes\" is not a time span"),
        "{err}"
    );
    assert!(err.0.contains("the host refuses to start"), "{err}");
    let long = format!(r#""{}""#, "9".repeat(10_000));
    write(dir.path(), "host.json", &host(&long));
    let err = AppFolder::load(dir.path()).expect_err("refused");
    assert!(
        err.0
            .contains(&format!("functionTimeout \"{}... is not", "9".repeat(59))),
        "{err}"
    );
    assert!(err.0.len() < 400, "{err}");
    write(dir.path(), "host.json", &host(r#""00:00:02""#));
    let app = AppFolder::load(dir.path()).expect("loads");
    assert_eq!(app.host.function_timeout, Some(Duration::from_secs(2)));
    write(dir.path(), "host.json", HOST);
    let app = AppFolder::load(dir.path()).expect("loads");
    assert_eq!(app.host.function_timeout, Some(DEFAULT_FUNCTION_TIMEOUT));
}

#[test]
fn expands_environment_variables() {
    // PATH is set in every test environment.
    let path = std::env::var("PATH").unwrap_or_default();
    assert_eq!(expand_env("%PATH%/x"), format!("{path}/x"));
    assert_eq!(expand_env("${PATH}"), path);
    assert_eq!(
        expand_env("a%NOT_SET_ANYWHERE_42%b"),
        "a%NOT_SET_ANYWHERE_42%b"
    );
    assert_eq!(expand_env("plain"), "plain");
}

mod relative_root_tests {
    use super::*;

    #[test]
    fn a_relative_app_folder_gives_an_absolute_executable_path() {
        // Tests run in the crate's folder; the example app is a sibling.
        let app = AppFolder::load(Path::new("../examples/queue_area")).expect("the example app");
        let executable = app.executable_path();
        assert!(executable.is_absolute(), "{}", executable.display());
        assert!(executable.ends_with("examples/queue_area/queue_area"));
    }
}
