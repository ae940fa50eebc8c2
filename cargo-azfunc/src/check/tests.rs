use std::path::Path;
use std::time::Instant;

use super::*;

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("dir");
    }
    std::fs::write(path, text).expect("write");
}

fn problems(found: &[Finding]) -> Vec<&str> {
    found
        .iter()
        .filter(|f| f.severity == Severity::Problem)
        .map(|f| f.text.as_str())
        .collect()
}

#[test]
fn reports_each_setting_the_host_would_mishandle() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"app"},"enableForwardingHttpRequest":true,"enableProxyingHttpRequest":true}}"#,
    );
    write(
        dir.path(),
        "local.settings.json",
        r#"{"IsEncrypted":true,"Values":{"FUNCTIONS_WORKER_RUNTIME":"node"}}"#,
    );
    write(
        dir.path(),
        "Tick/function.json",
        r#"{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"0 61 * * * *"}]}"#,
    );
    let app = AppFolder::load(dir.path()).expect("loads");
    let found = settings(&app, false);
    let listed = problems(&found);
    let has = |text: &str| listed.iter().any(|p| p.contains(text));
    // Forwarding and proxying are modes a handler may serve: notes.
    assert!(!has("enableForwardingHttpRequest"), "{listed:#?}");
    let noted = |text: &str| {
        found
            .iter()
            .any(|f| f.severity == Severity::Note && f.text.contains(text))
    };
    assert!(noted("enableForwardingHttpRequest is true"), "{found:#?}");
    assert!(noted("enableProxyingHttpRequest is true"), "{found:#?}");
    assert!(has("no extensionBundle"), "{listed:#?}");
    assert!(has("no such file in the app folder"), "{listed:#?}");
    assert!(has("\"IsEncrypted\" is true"), "{listed:#?}");
    assert!(has("FUNCTIONS_WORKER_RUNTIME is \"node\""), "{listed:#?}");
    assert!(has("Tick/function.json: schedule"), "{listed:#?}");
    assert_eq!(listed.len(), 5, "{listed:#?}");
    // With --build, the missing binary is only a note.
    assert_eq!(problems(&settings(&app, true)).len(), 4);
}

#[test]
fn routes_and_queue_names_the_host_refuses_are_problems() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"app"}}}"#,
    );
    write(
        dir.path(),
        "local.settings.json",
        r#"{"Values":{"FUNCTIONS_WORKER_RUNTIME":"custom","In":"Bad_Name!"}}"#,
    );
    let http = |route: &str| {
        format!(
            r#"{{"bindings":[{{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","route":{route:?}}},{{"type":"http","direction":"out","name":"$return"}}]}}"#
        )
    };
    write(dir.path(), "Twice/function.json", &http("{a}/{a}"));
    write(dir.path(), "Climb/function.json", &http("../../x"));
    write(dir.path(), "Fine/function.json", &http("items/{id:int}"));
    write(
        dir.path(),
        "Area/function.json",
        r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"m","queueName":"%In%"},{"type":"queue","direction":"out","name":"areas","queueName":"Bad_Name!"},{"type":"queue","direction":"out","name":"ok","queueName":"Areas-2"}]}"#,
    );
    let app = AppFolder::load(dir.path()).expect("loads");
    let found = settings(&app, true);
    let listed = problems(&found);
    let has = |text: &str| listed.iter().any(|p| p.contains(text));
    assert!(
        has(
            "Twice/function.json: the route \"{a}/{a}\": the parameter \"a\" appears more than once"
        ),
        "{listed:#?}"
    );
    assert!(
        has("Climb/function.json: /api/../../x: the segment \"..\" can never match"),
        "{listed:#?}"
    );
    assert!(
        has("Area/function.json: binding \"m\": the queue name \"Bad_Name!\" holds '_'"),
        "{listed:#?}"
    );
    assert!(
        has("Area/function.json: binding \"areas\": the queue name \"Bad_Name!\" holds '_'"),
        "{listed:#?}"
    );
    assert!(!has("Fine/") && !has("\"ok\""), "{listed:#?}");
    // A setting that is not there is named.
    write(
        dir.path(),
        "local.settings.json",
        r#"{"Values":{"FUNCTIONS_WORKER_RUNTIME":"custom","AzureWebJobsStorage":"UseDevelopmentStorage=true"}}"#,
    );
    let app = AppFolder::load(dir.path()).expect("loads");
    let found = settings(&app, true);
    assert!(
        problems(&found)
            .iter()
            .any(|p| p.contains("binding \"m\": %In% names no app setting")),
        "{found:#?}"
    );
}

#[test]
fn duplicate_binding_names_and_an_unknown_auth_level_are_problems() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"app"}}}"#,
    );
    write(
        dir.path(),
        "Twice/function.json",
        r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous"},{"type":"http","direction":"out","name":"Req"}]}"#,
    );
    write(
        dir.path(),
        "Secret/function.json",
        r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"private"},{"type":"http","direction":"out","name":"$return"}]}"#,
    );
    let app = AppFolder::load(dir.path()).expect("loads");
    let found = settings(&app, true);
    let listed = problems(&found);
    assert!(
        listed.contains(&r#"Twice/function.json: binding "Req": more than one binding has this name (in any case), and the host refuses a function whose binding names are not unique: rename one"#),
        "{listed:#?}"
    );
    assert!(
        listed.contains(&r#"Secret/function.json: binding "req": "authLevel" is "private", which the host does not know: use "anonymous", "function", "admin""#),
        "{listed:#?}"
    );
}

#[test]
fn a_function_timeout_past_the_consumption_limit_is_a_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let notes = |timeout: &str| {
        write(
            dir.path(),
            "host.json",
            &format!(
                r#"{{"version":"2.0","customHandler":{{"description":{{"defaultExecutablePath":"app"}}}},"functionTimeout":"{timeout}"}}"#
            ),
        );
        let app = AppFolder::load(dir.path()).expect("loads");
        settings(&app, true)
            .into_iter()
            .filter(|f| f.text.contains("functionTimeout"))
            .map(|f| (f.severity, f.text))
            .collect::<Vec<_>>()
    };
    // The Consumption plan's limit itself is fine everywhere.
    assert_eq!(notes("00:10:00"), []);
    let over = notes("00:10:00.0000001");
    assert_eq!(over.len(), 1, "{over:?}");
    assert_eq!(over[0].0, Severity::Note);
    assert!(
        over[0]
            .1
            .starts_with("host.json: functionTimeout 00:10:00.0000001 is fine on Premium"),
        "{over:?}"
    );
    let unbounded = notes("-1");
    assert_eq!(unbounded.len(), 1, "{unbounded:?}");
    assert!(
        unbounded[0].1.contains("\"-1\" (no limit)"),
        "{unbounded:?}"
    );
}

#[test]
fn a_handler_that_ignores_the_check_is_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler"}}}"#,
    );
    // exec: the process killed is the one holding the pipes.
    write(dir.path(), "handler", "#!/bin/sh\nexec sleep 30\n");
    let executable = dir.path().join("handler");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&executable, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let app = AppFolder::load(dir.path()).expect("loads");
    let started = Instant::now();
    let found = handler(&app, &executable, Duration::from_millis(200));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(found.len(), 1);
    assert!(
        found[0].text.contains("did not finish its check"),
        "{found:?}"
    );
}

#[test]
fn a_native_worker_app_needs_no_custom_handler_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","extensionBundle":{"id":"Microsoft.Azure.Functions.ExtensionBundle","version":"[4.*, 5.0.0)"}}"#,
    );
    write(
        dir.path(),
        "local.settings.json",
        r#"{"IsEncrypted":false,"Values":{"FUNCTIONS_WORKER_RUNTIME":"native"}}"#,
    );
    let app = AppFolder::load(dir.path()).expect("loads without customHandler");
    let found = settings(&app, false);
    assert!(
        found.iter().any(|f| f.severity == Severity::Note
            && f.text.contains("runs as a language worker")
            && f.text.contains("worker indexing")),
        "{found:#?}"
    );
    let listed = problems(&found);
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert!(
        listed[0].contains("the worker") && listed[0].contains("is not there"),
        "{listed:#?}"
    );
    // With --build the fresh build is checked instead.
    assert!(problems(&settings(&app, true)).is_empty());
}
