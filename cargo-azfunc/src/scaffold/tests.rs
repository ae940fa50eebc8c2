use super::*;

#[test]
fn module_names_are_snake_case() {
    assert_eq!(module_name("Hello"), "hello");
    assert_eq!(module_name("QueueArea"), "queue_area");
    assert_eq!(module_name("HTTPThing"), "http_thing");
    assert_eq!(module_name("my-func_2"), "my_func_2");
    assert_eq!(module_name("Area51Count"), "area51_count");
    assert_eq!(module_name("Match"), "match_function");
    assert_eq!(module_name("Main"), "main_function");
}

#[test]
fn names_checked() {
    assert_eq!(crate_name_problem("my-app"), None);
    assert!(crate_name_problem("1app").is_some());
    assert!(crate_name_problem("my app").is_some());
    assert!(crate_name_problem("serde").is_some());
    assert!(crate_name_problem("fn").is_some());
    assert_eq!(crate_name_from_folder("My App"), "my_app");
    assert_eq!(crate_name_from_folder("2024"), "app_2024");
    assert_eq!(function_name_problem("Squares"), None);
    assert!(function_name_problem("9lives").is_some());
    assert!(function_name_problem("a.b").is_some());
    assert!(function_name_problem(&"a".repeat(128)).is_some());
    assert!(function_name_problem("Target").is_some());
    assert_eq!(queue_name_problem("sides"), None);
    assert_eq!(queue_name_problem("%QueueName%"), None);
    assert!(queue_name_problem("Sides").is_some());
    assert!(queue_name_problem("a--b").is_some());
}

#[test]
fn toml_strings_are_escaped() {
    assert_eq!(toml_string(r#"C:\a "b""#), r#""C:\\a \"b\"""#);
}

fn plan(trigger: Trigger, blob: Option<&str>) -> Plan {
    Plan::new(&NewFunction {
        name: "Squares".into(),
        trigger,
        blob_output: blob.map(str::to_owned),
        app: PathBuf::from("."),
    })
    .expect("a plan")
}

#[test]
fn the_registry_line_declares_every_binding() {
    let queue = plan(
        Trigger::Queue {
            queue: "sides".into(),
            output_queue: Some("squares".into()),
        },
        Some("out/{rand-guid}"),
    );
    assert_eq!(
        queue.registry_line(),
        r#".with(
            Function::queue("Squares", squares::run)
                .queue_name("sides")
                .output(Binding::queue("squares", "squares"))
                .output(Binding::blob("blob", "out/{rand-guid}")),
        )"#
    );
    assert_eq!(queue.imports(), ["Binding", "Function", "Registry"]);
    let http = plan(
        Trigger::Http {
            route: Some("items/{id}".into()),
            methods: vec!["get".into(), "post".into()],
        },
        None,
    );
    assert_eq!(
        http.registry_line(),
        r#".with(
            Function::http("Squares", squares::run)
                .route("items/{id}")
                .methods(["get", "post"])
                .auth_level(AuthLevel::Anonymous),
        )"#
    );
    assert_eq!(http.imports(), ["AuthLevel", "Function", "Registry"]);
    let timer = plan(
        Trigger::Timer {
            schedule: "0 */5 * * * *".into(),
        },
        None,
    );
    assert_eq!(
        timer.registry_line(),
        r#".with(Function::timer("Squares", squares::run).schedule("0 */5 * * * *"))"#
    );
}

#[test]
fn the_names_a_line_needs_join_the_one_line_import() {
    let text = "mod a;\n\nuse azure_functions_rocket::{Function, Registry};\n\nfn f() {}\n";
    assert_eq!(
        add_imports(text, &["Binding", "Function", "Registry"]),
        "mod a;\n\nuse azure_functions_rocket::{Binding, Function, Registry};\n\nfn f() {}\n"
    );
    let other = "use std::fmt;\n";
    assert_eq!(add_imports(other, &["Binding"]), other);
}

const MAIN: &str = "//! app\n\nmod hello;\nmod zeta;\n\nuse x;\n\npub fn registry() -> Registry {\n    Registry::new()\n        .with(Function::http(\"Hello\", hello::run))\n}\n\nfn main() {}\n";

#[test]
fn adds_the_module_in_order_and_the_line_to_the_chain() {
    let out = add_to_main(MAIN, "squares", ".with(X)").expect("the shape");
    assert_eq!(
        out,
        "//! app\n\nmod hello;\nmod squares;\nmod zeta;\n\nuse x;\n\npub fn registry() -> Registry {\n    Registry::new()\n        .with(Function::http(\"Hello\", hello::run))\n        .with(X)\n}\n\nfn main() {}\n"
    );
    // The main.rs of apps made before the registry moved to lib.rs.
    let private = MAIN.replace("pub fn registry", "fn registry");
    let out = add_to_main(&private, "squares", ".with(X)").expect("the older shape");
    assert!(
        out.contains("mod squares;\n") && out.contains("        .with(X)\n}"),
        "{out}"
    );
    let without_mods = MAIN.replace("mod hello;\nmod zeta;\n\n", "");
    let out = add_to_main(&without_mods, "a", ".with(X)").expect("the shape");
    assert!(out.starts_with("//! app\n\nmod a;\n\nuse x;"), "{out}");
}

#[test]
fn refuses_another_shape() {
    assert_eq!(add_to_main("fn main() {}\n", "a", ".with(X)"), None);
    let statement = MAIN.replace("    Registry::new()", "    let r = 1;\n    Registry::new()");
    assert_eq!(add_to_main(&statement, "a", ".with(X)"), None);
    let twice = format!("{MAIN}\n{MAIN}");
    assert_eq!(add_to_main(&twice, "a", ".with(X)"), None);
}

/// The reason `new function` gives for `trigger` in the app at `app`.
fn refusal(app: &Path, trigger: Trigger) -> String {
    match Plan::new(&NewFunction {
        name: "Squares".into(),
        trigger,
        blob_output: None,
        app: app.to_owned(),
    }) {
        Err(ScaffoldError::Refused(reason)) => reason,
        Err(ScaffoldError::Failed(reason)) => panic!("failed, not refused: {reason}"),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn routes_the_host_refuses_or_never_matches_are_refused() {
    let app = tempfile::tempdir().expect("tempdir");
    let http = |route: &str| Trigger::Http {
        route: Some(route.into()),
        methods: vec!["get".into()],
    };
    let twice = refusal(app.path(), http("{a}/{a}"));
    assert!(
        twice.starts_with(
            "--route: the route \"{a}/{a}\": the parameter \"a\" appears more than once"
        ),
        "{twice}"
    );
    let climb = refusal(app.path(), http("../../x"));
    assert!(
        climb.contains("the segment \"..\" can never match"),
        "{climb}"
    );
    // With the default prefix the host reads `api//x`; with none it trims.
    assert!(refusal(app.path(), http("/x")).contains("appears twice in a row"));
    std::fs::write(
        app.path().join("host.json"),
        r#"{"extensions":{"http":{"routePrefix":""}}}"#,
    )
    .expect("host.json");
    assert!(
        Plan::new(&NewFunction {
            name: "Squares".into(),
            trigger: http("/x"),
            blob_output: None,
            app: app.path().to_owned(),
        })
        .is_ok()
    );
}

#[test]
fn queue_names_the_storage_service_refuses_are_refused_settings_resolved() {
    let app = tempfile::tempdir().expect("tempdir");
    let queue = |input: &str, output: &str| Trigger::Queue {
        queue: input.into(),
        output_queue: Some(output.into()),
    };
    let bad = refusal(app.path(), queue("sides", "Bad_Name!"));
    assert!(
        bad.starts_with("--output-queue: the queue name \"Bad_Name!\" holds '_'"),
        "{bad}"
    );
    std::fs::write(
        app.path().join("local.settings.json"),
        r#"{"Values":{"Out":"Bad_Name!","In":"sides"}}"#,
    )
    .expect("local.settings.json");
    let resolved = refusal(app.path(), queue("%In%", "%Out%"));
    assert!(
        resolved.starts_with(
            "--output-queue: %Out% is \"Bad_Name!\": the queue name \"Bad_Name!\" holds '_'"
        ),
        "{resolved}"
    );
    // A setting the app does not hold yet is judged by `check` later.
    assert!(
        Plan::new(&NewFunction {
            name: "Squares".into(),
            trigger: queue("%In%", "%Later%"),
            blob_output: None,
            app: app.path().to_owned(),
        })
        .is_ok()
    );
}

#[test]
fn a_new_app_builds_for_size_the_crates_the_blog_builds_for_size() {
    let headers = |text: &str| -> Vec<String> {
        let mut found: Vec<String> = text
            .lines()
            .filter(|line| line.starts_with("[profile.release.package."))
            .map(str::to_owned)
            .collect();
        found.sort();
        found
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let blog = std::fs::read_to_string(root).expect("the workspace's Cargo.toml");
    let new_app = super::app_files::cargo_toml("shapes", "\"0.1\"");
    assert!(!headers(&blog).is_empty());
    assert_eq!(headers(&new_app), headers(&blog));
    assert_eq!(
        new_app.matches("opt-level = \"s\"").count(),
        headers(&blog).len()
    );
}
