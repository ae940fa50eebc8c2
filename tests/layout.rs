//! The Azure Functions app around the binary: the files `func start` and
//! publishing read must agree with what the handler serves.

use std::fs;
use std::path::Path;

use azure_functions_rocket::FunctionJson;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: impl AsRef<Path>) -> Value {
    let path = root().join(path);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn host_json_starts_the_cargo_binary_in_default_mode() {
    let host = read_json("host.json");
    assert_eq!(host["version"], "2.0");
    let binary = Path::new(env!("CARGO_BIN_EXE_rusty_function"))
        .file_name()
        .unwrap();
    assert_eq!(
        host["customHandler"]["description"]["defaultExecutablePath"],
        binary.to_str().unwrap()
    );
    assert_ne!(host["customHandler"]["enableForwardingHttpRequest"], true);
    assert_eq!(
        host["extensionBundle"]["id"],
        "Microsoft.Azure.Functions.ExtensionBundle"
    );
    assert_eq!(host["extensionBundle"]["version"], "[4.*, 5.0.0)");
}

#[test]
fn the_binary_finds_its_function_folders_as_registered() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rusty_function"))
        .current_dir(root())
        .env("AZURE_FUNCTIONS_ROCKET_CHECK", "1")
        .env_remove("FUNCTIONS_APP_ROOT_PATH")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.starts_with("rusty_function: 1 function(s) match their folders in "),
        "{stdout}"
    );
}

#[test]
fn rusty_function_is_an_anonymous_http_trigger_at_api_rust_function() {
    let function = read_json("RustyFunction/function.json");
    let bindings = function["bindings"].as_array().unwrap();
    let trigger = bindings
        .iter()
        .find(|b| b["type"] == "httpTrigger")
        .unwrap();
    assert_eq!(trigger["direction"], "in");
    assert_eq!(trigger["name"], "req", "the handler reads Data.req");
    assert_eq!(trigger["authLevel"], "anonymous");
    let registry = rusty_function::registry();
    assert_eq!(trigger["route"], "RustFunction");
    assert_eq!(
        registry.find("RustFunction").map(|f| f.name()),
        Some("RustyFunction"),
        "direct callers use the route's name"
    );
    let methods: Vec<&str> = trigger["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(methods, ["get", "post"]);
    let output = bindings.iter().find(|b| b["type"] == "http").unwrap();
    assert_eq!(
        (&output["direction"], &output["name"]),
        (&"out".into(), &"$return".into())
    );
}

/// The blog's folder stays in the repository, hand-kept: the host reads it,
/// so it must say exactly what the registry declares.
#[test]
fn rusty_function_json_is_what_the_registry_generates() {
    let text = fs::read_to_string(root().join("RustyFunction/function.json")).expect("the file");
    let kept = FunctionJson::parse(&text).expect("a function.json");
    let declared: Vec<_> = rusty_function::registry().function_jsons().collect();
    let [(name, generated)] = declared.as_slice() else {
        panic!("one function, not {declared:?}");
    };
    assert_eq!(*name, "RustyFunction");
    assert_eq!(kept.differences(generated), Vec::<String>::new());
    // Semantically equal as JSON too: the same bindings, each the same
    // object, in any order.
    let objects = |json: &FunctionJson| {
        let mut objects: Vec<String> = json
            .bindings
            .iter()
            .map(|b| serde_json::to_value(b).expect("JSON").to_string())
            .collect();
        objects.sort();
        objects
    };
    assert_eq!(objects(&kept), objects(generated));
}

#[test]
fn local_settings_say_custom_and_hold_no_secrets() {
    let settings = read_json("local.settings.json");
    let runtime = settings["Values"]["FUNCTIONS_WORKER_RUNTIME"]
        .as_str()
        .unwrap();
    assert!(runtime.eq_ignore_ascii_case("custom"));
    for (key, value) in settings["Values"].as_object().unwrap() {
        let value = value.as_str().unwrap();
        assert!(
            !value.contains("AccountKey=") && !value.contains("SharedAccessKey"),
            "{key}"
        );
    }
}

#[test]
fn the_readme_shows_the_envelope_the_app_really_answers() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let sample = readme
        .split("```json\n")
        .nth(1)
        .and_then(|block| block.split("\n```").next())
        .expect("a JSON block after the first commands");
    let client = rocket::local::blocking::Client::tracked(azure_functions_rocket::app(
        rusty_function::registry(),
    ))
    .expect("the app");
    let answer = client
        .post("/RustFunction")
        .body(r#"{"radius": 2}"#)
        .dispatch()
        .into_string()
        .expect("a body");
    assert_eq!(answer, sample);
}

/// What `func azure functionapp publish` packs: every file of the app
/// folder that no `.funcignore` rule leaves out (gitignore rules: a name
/// without a slash matches at any depth, a trailing slash only folders,
/// `*` any run of characters but `/`).
fn packed(root: &Path) -> Vec<String> {
    let rules: Vec<String> = fs::read_to_string(root.join(".funcignore"))
        .expect(".funcignore")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();
    fn glob(pattern: &str, name: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == name,
            Some((head, tail)) => {
                name.len() >= head.len()
                    && name.starts_with(head)
                    && (0..=name.len() - head.len()).any(|at| glob(tail, &name[head.len() + at..]))
            }
        }
    }
    let ignored = |name: &str, is_dir: bool| {
        rules.iter().any(|rule| match rule.strip_suffix('/') {
            Some(folder) => is_dir && glob(folder, name),
            None => glob(rule, name),
        })
    };
    let mut kept = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).expect("a folder").flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = path.is_dir();
            if ignored(&name, is_dir) {
                continue;
            }
            if is_dir {
                folders.push(path);
            } else {
                let relative = path.strip_prefix(root).expect("inside");
                kept.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    kept.sort();
    kept
}

#[test]
fn funcignore_leaves_only_host_json_the_function_folders_and_the_binary() {
    let mut kept = packed(root());
    // The binary is there once `scripts/release` has copied it.
    kept.retain(|file| file != "rusty_function");
    assert_eq!(kept, ["RustyFunction/function.json", "host.json"]);
}
