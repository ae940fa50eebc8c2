//! `new app` and `new function`: the files of a ready app on
//! azure-functions-rocket, and one more function in such an app (its
//! module, its folder, its registry line). Every check runs before the
//! first write, so a refusal leaves the folder as it was.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::ncrontab::Schedule;

/// Why nothing (or not everything) was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScaffoldError {
    /// The request cannot be done as asked; nothing was written.
    Refused(String),
    /// Reading or writing a file failed.
    Failed(String),
}

fn refused<T>(message: impl Into<String>) -> Result<T, ScaffoldError> {
    Err(ScaffoldError::Refused(message.into()))
}

/// Where the new app gets `azure-functions-rocket` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Library {
    Path(PathBuf),
    Version(String),
    Git(String),
}

/// What `new app` writes.
#[derive(Debug, Clone)]
pub struct NewApp {
    pub dir: PathBuf,
    /// The package name; by default the folder's name made a crate name.
    pub name: Option<String>,
    /// By default, by path, this workspace's copy.
    pub library: Option<Library>,
}

/// A new function's trigger and trigger-specific settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    Http {
        route: Option<String>,
        methods: Vec<String>,
    },
    Queue {
        queue: String,
        output_queue: Option<String>,
    },
    Timer {
        schedule: String,
    },
}

/// What `new function` writes.
#[derive(Debug, Clone)]
pub struct NewFunction {
    pub name: String,
    pub trigger: Trigger,
    /// A blob output's path, e.g. `results/{rand-guid}.json`.
    pub blob_output: Option<String>,
    pub app: PathBuf,
}

/// The HTTP methods function.json accepts.
pub const HTTP_METHODS: [&str; 8] = [
    "get", "post", "put", "delete", "patch", "head", "options", "trace",
];

const RUST_KEYWORDS: [&str; 52] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Names a package of this app cannot take: cargo's own folders and
/// targets, the crates it depends on, and the app's own folders (the
/// release binary sits next to them under the package's name).
const RESERVED_PACKAGE_NAMES: [&str; 14] = [
    "test",
    "deps",
    "examples",
    "build",
    "incremental",
    "std",
    "core",
    "alloc",
    "proc_macro",
    "azure_functions_rocket",
    "serde",
    "serde_json",
    "src",
    "target",
];

/// Why `name` cannot be a package name, if it cannot.
pub fn crate_name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let first = chars.next()?;
    let bad = if !(first.is_ascii_alphabetic() || first == '_') {
        "starts with a letter or `_`"
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        "has only ASCII letters, digits, `-` and `_`"
    } else if name.len() > 64 {
        "has at most 64 characters"
    } else {
        let normal = name.replace('-', "_");
        if RUST_KEYWORDS.contains(&normal.as_str())
            || RESERVED_PACKAGE_NAMES.contains(&normal.to_ascii_lowercase().as_str())
        {
            return Some(format!(
                "{name:?} is not a valid crate name here: it is a Rust keyword or a name cargo, the dependencies or the app's folders already use; pass --name NAME"
            ));
        }
        return None;
    };
    Some(format!(
        "{name:?} is not a valid crate name: a crate name {bad}; pass --name NAME"
    ))
}

/// The folder name made a crate name: lowercase, other characters `_`.
pub fn crate_name_from_folder(folder: &str) -> String {
    let mut name: String = folder
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert_str(0, "app_");
    }
    name
}

/// Why `name` cannot be a function name, if it cannot: Azure's rule is a
/// letter, then letters, digits, `_` and `-`, 127 characters at most.
pub fn function_name_problem(name: &str) -> Option<String> {
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= 127;
    if !valid {
        return Some(format!(
            "{name:?} is not a valid function name: it starts with a letter and has only letters, digits, `_` and `-`, at most 127 characters"
        ));
    }
    // Publishing leaves these folders out (.funcignore), so the host would
    // never see the function.
    if ["src", "target", "tests"].contains(&name.to_ascii_lowercase().as_str()) {
        return Some(format!(
            "{name:?} cannot be a function name here: the folder {name} is left out of what is published; choose another name"
        ));
    }
    None
}

/// The module of function `name`: snake case (`QueueArea` -> `queue_area`),
/// with `_function` after a name Rust or `main.rs` keeps for itself.
pub fn module_name(name: &str) -> String {
    let mut module = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '-' || c == '_' {
            if !module.ends_with('_') {
                module.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() {
            let previous = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            // A new word: after a lowercase letter or a digit, or at the
            // last capital of an acronym (`HTTPThing` -> `http_thing`).
            let starts_word = previous
                .is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (previous.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(|n| n.is_ascii_lowercase()));
            if starts_word && !module.ends_with('_') {
                module.push('_');
            }
            module.push(c.to_ascii_lowercase());
        } else {
            module.push(c);
        }
    }
    let module = module.trim_end_matches('_').to_owned();
    if RUST_KEYWORDS.contains(&module.as_str())
        || ["main", "lib", "tests"].contains(&module.as_str())
    {
        format!("{module}_function")
    } else {
        module
    }
}

/// Why `queue` cannot be a queue name, if it cannot: 3 to 63 lowercase
/// letters, digits and single hyphens, or an app setting's `%NAME%`.
pub fn queue_name_problem(queue: &str) -> Option<String> {
    if queue.len() > 2 && queue.starts_with('%') && queue.ends_with('%') {
        let setting = &queue[1..queue.len() - 1];
        if setting
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':')
        {
            return None;
        }
    }
    let valid = (3..=63).contains(&queue.len())
        && queue
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !queue.starts_with('-')
        && !queue.ends_with('-')
        && !queue.contains("--");
    (!valid).then(|| {
        format!(
            "{queue:?} is not a valid queue name: 3 to 63 lowercase letters, digits and single hyphens, not at either end (or %SETTING% for an app setting)"
        )
    })
}

/// The binding name for an output queue: its name as an identifier.
fn queue_binding(queue: &str) -> String {
    let name: String = queue
        .trim_matches('%')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("queue_{name}")
    } else {
        name
    }
}

/// The name of the blob output binding.
const BLOB_BINDING: &str = "blob";

/// A new function worked out: every name and text it needs.
struct Plan {
    name: String,
    module: String,
    trigger: Trigger,
    /// The queue output's binding name.
    queue_out: Option<String>,
    blob_path: Option<String>,
}

impl Plan {
    fn new(spec: &NewFunction) -> Result<Plan, ScaffoldError> {
        if let Some(problem) = function_name_problem(&spec.name) {
            return refused(problem);
        }
        let mut queue_out = None;
        match &spec.trigger {
            Trigger::Http { route, methods } => {
                if let Some(route) = route
                    && (route.trim().is_empty() || route.chars().any(char::is_control))
                {
                    return refused(format!(
                        "--route {route:?} is not a route: give a path such as items/{{id}}"
                    ));
                }
                if methods.is_empty() {
                    return refused("--methods needs at least one method, e.g. get,post");
                }
                if let Some(bad) = methods.iter().find(|m| !HTTP_METHODS.contains(&m.as_str())) {
                    return refused(format!(
                        "--methods: {bad:?} is not an HTTP method function.json knows ({})",
                        HTTP_METHODS.join(", ")
                    ));
                }
            }
            Trigger::Queue {
                queue,
                output_queue,
            } => {
                if let Some(problem) = queue_name_problem(queue) {
                    return refused(format!("--queue: {problem}"));
                }
                if let Some(output) = output_queue {
                    if let Some(problem) = queue_name_problem(output) {
                        return refused(format!("--output-queue: {problem}"));
                    }
                    queue_out = Some(queue_binding(output));
                }
            }
            Trigger::Timer { schedule } => {
                if let Err(problem) = Schedule::parse(schedule) {
                    return refused(format!("--timer: {problem}"));
                }
            }
        }
        if let Some(path) = &spec.blob_output
            && (!path.contains('/') || path.starts_with('/') || path.chars().any(char::is_control))
        {
            return refused(format!(
                "--blob-output {path:?} is not a blob path: container/name, e.g. results/{{rand-guid}}.json"
            ));
        }
        if spec.blob_output.is_some() && queue_out.as_deref() == Some(BLOB_BINDING) {
            return refused(
                "the output queue's binding would be named \"blob\", as the blob output's is: choose another output queue name",
            );
        }
        Ok(Plan {
            name: spec.name.clone(),
            module: module_name(&spec.name),
            trigger: spec.trigger.clone(),
            queue_out,
            blob_path: spec.blob_output.clone(),
        })
    }

    fn outputs(&self) -> Vec<&str> {
        let mut outputs: Vec<&str> = self.queue_out.iter().map(String::as_str).collect();
        if self.blob_path.is_some() {
            outputs.push(BLOB_BINDING);
        }
        outputs
    }

    /// The line added to the registry chain.
    fn registry_line(&self) -> String {
        let (kind, binding) = match self.trigger {
            Trigger::Http { .. } => ("http", "req"),
            Trigger::Queue { .. } => ("queue", "message"),
            Trigger::Timer { .. } => ("timer", "timer"),
        };
        let mut line = format!(
            ".with(Function::{kind}({:?}, {binding:?}, {}::run)",
            self.name, self.module
        );
        for output in self.outputs() {
            let _ = write!(line, ".output({output:?})");
        }
        line.push(')');
        line
    }

    fn function_json(&self) -> String {
        let mut bindings = Vec::new();
        match &self.trigger {
            Trigger::Http { route, methods } => {
                let mut trigger = json!({
                    "type": "httpTrigger",
                    "direction": "in",
                    "name": "req",
                    "authLevel": "anonymous",
                    "methods": methods,
                });
                if let (Some(route), Some(object)) = (route, trigger.as_object_mut()) {
                    object.insert("route".into(), Value::String(route.clone()));
                }
                bindings.push(trigger);
                bindings.push(json!({"type": "http", "direction": "out", "name": "$return"}));
            }
            Trigger::Queue {
                queue,
                output_queue,
            } => {
                bindings.push(json!({
                    "type": "queueTrigger",
                    "direction": "in",
                    "name": "message",
                    "queueName": queue,
                    "connection": "AzureWebJobsStorage",
                }));
                if let (Some(output), Some(binding)) = (output_queue, &self.queue_out) {
                    bindings.push(json!({
                        "type": "queue",
                        "direction": "out",
                        "name": binding,
                        "queueName": output,
                        "connection": "AzureWebJobsStorage",
                    }));
                }
            }
            Trigger::Timer { schedule } => bindings.push(json!({
                "type": "timerTrigger",
                "direction": "in",
                "name": "timer",
                "schedule": schedule,
            })),
        }
        if let Some(path) = &self.blob_path {
            bindings.push(json!({
                "type": "blob",
                "direction": "out",
                "name": BLOB_BINDING,
                "path": path,
                "connection": "AzureWebJobsStorage",
            }));
        }
        let text = serde_json::to_string_pretty(&json!({ "bindings": bindings }))
            .unwrap_or_else(|_| String::from("{}"));
        text + "\n"
    }

    fn source(&self) -> String {
        match &self.trigger {
            Trigger::Http { route, methods } => self.http_source(route.as_deref(), methods),
            Trigger::Queue { queue, .. } => self.queue_source(queue),
            Trigger::Timer { schedule } => self.timer_source(schedule),
        }
    }

    /// `Outputs::new()` with the value `value` written to each output.
    fn outputs_expression(&self, value: &str) -> String {
        let outputs = self.outputs();
        match outputs.as_slice() {
            [] => String::new(),
            [one] => format!("Outputs::new().json({one:?}, &{value})"),
            many => {
                let mut text = String::from("Outputs::new()");
                for (i, output) in many.iter().enumerate() {
                    let question = if i + 1 < many.len() { "?" } else { "" };
                    let _ = write!(text, "\n        .json({output:?}, &{value}){question}");
                }
                text
            }
        }
    }

    fn http_source(&self, route: Option<&str>, methods: &[String]) -> String {
        let name = &self.name;
        let path = route.unwrap_or(name);
        let methods = methods
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join("/");
        let blob = self.blob_path.is_some();
        let (imports, returns, answer, call) = if blob {
            (
                "Error, HttpRequest, HttpResponse, Outputs, log",
                "(HttpResponse, Outputs)",
                format!(
                    "    // The greeting is also written to the blob, as JSON: an object, never a\n    // bare string, which the host would decode when it happens to be base64.\n    let outputs = {}?;\n    Ok((HttpResponse::json(&reply)?, outputs))\n",
                    self.outputs_expression("reply")
                ),
                ".block_on(run(req))\n            .map(|(response, _)| response)",
            )
        } else {
            (
                "Error, HttpRequest, HttpResponse, log",
                "HttpResponse",
                "    HttpResponse::json(&reply)\n".to_owned(),
                ".block_on(run(req))",
            )
        };
        format!(
            r##"//! {name}: an HTTP function ({methods} /api/{path}). It greets the `name`
//! of a JSON body `{{"name": "Ada"}}`, else of the query `?name=Ada`, else
//! the world: `{{"message": "Hello, Ada!"}}`.

use azure_functions_rocket::{{{imports}}};
use serde::{{Deserialize, Serialize}};

#[derive(Deserialize)]
struct Greeting {{
    name: Option<String>,
}}

#[derive(Serialize)]
struct Reply {{
    message: String,
}}

pub async fn run(req: HttpRequest) -> Result<{returns}, Error> {{
    // A body that is not JSON is the caller's mistake: `?` answers 400.
    let from_body = req.json::<Greeting>()?.and_then(|body| body.name);
    let name = from_body
        .or_else(|| req.query("name").map(str::to_owned))
        .unwrap_or_else(|| "world".to_owned());
    log::field("name", name.as_str());
    let reply = Reply {{
        message: format!("Hello, {{name}}!"),
    }};
{answer}}}

#[cfg(test)]
mod tests {{
    use super::*;

    /// The function called directly, without a host or a server.
    fn call(req: HttpRequest) -> Result<HttpResponse, Error> {{
        azure_functions_rocket::rocket::tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            {call}
    }}

    #[test]
    fn greets_the_name_from_the_body_or_the_query() {{
        let by_query = HttpRequest {{
            query: vec![("name".to_owned(), "Ada".to_owned())],
            ..HttpRequest::default()
        }};
        let response = call(by_query).expect("an answer");
        assert_eq!(response.status, 200);
        assert_eq!(response.body, r#"{{"message":"Hello, Ada!"}}"#);

        let by_body = HttpRequest {{
            body: br#"{{"name": "Bob"}}"#.to_vec(),
            ..HttpRequest::default()
        }};
        let response = call(by_body).expect("an answer");
        assert_eq!(response.body, r#"{{"message":"Hello, Bob!"}}"#);

        let broken = HttpRequest {{
            body: b"{{".to_vec(),
            ..HttpRequest::default()
        }};
        assert_eq!(call(broken).expect_err("not JSON").status(), 400);
    }}
}}
"##
        )
    }

    fn queue_source(&self, queue: &str) -> String {
        let name = &self.name;
        let outputs = self.outputs();
        let (what, imports, returns, answer, check) = if outputs.is_empty() {
            (
                String::from("logs it"),
                "Error, QueueMessage, log",
                "()",
                "    Ok(())\n".to_owned(),
                "        call(message).expect(\"succeeds\");\n".to_owned(),
            )
        } else {
            let mut check =
                String::from("        let outputs = call(message).expect(\"succeeds\");\n");
            for output in &outputs {
                let _ = writeln!(
                    check,
                    "        assert_eq!(\n            outputs.get({output:?}),\n            Some(&Output::Json(json!({{\"received\": 3}})))\n        );"
                );
            }
            (
                format!(
                    "sends it on as `{{\"received\": <the message>}}` to {}",
                    outputs
                        .iter()
                        .map(|o| format!("`{o}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
                "Error, Outputs, QueueMessage, log",
                "Outputs",
                format!(
                    "    // An object, never a bare string: the host would decode a string that\n    // happens to be valid base64.\n    let received = Received {{ received }};\n    {}\n",
                    self.outputs_expression("received")
                ),
                check,
            )
        };
        let test_imports = if outputs.is_empty() {
            ""
        } else {
            "    use azure_functions_rocket::Output;\n    use serde_json::json;\n"
        };
        let received_type = if outputs.is_empty() {
            ""
        } else {
            "\n#[derive(Serialize)]\nstruct Received {\n    received: Value,\n}\n"
        };
        let serde_import = if outputs.is_empty() {
            "use serde_json::Value;\n"
        } else {
            "use serde::Serialize;\nuse serde_json::Value;\n"
        };
        let test_returns = if outputs.is_empty() { "()" } else { "Outputs" };
        format!(
            r#"//! {name}: a queue function. It reads each message of the queue
//! `{queue}` (JSON, or any text) and {what}.

use azure_functions_rocket::{{{imports}}};
{serde_import}{received_type}
pub async fn run(message: QueueMessage) -> Result<{returns}, Error> {{
    if let Some(count) = message.dequeue_count {{
        log::field("dequeue_count", count);
    }}
    // A JSON message as its value, any other text as a string.
    let received =
        serde_json::from_str(&message.text).unwrap_or_else(|_| Value::String(message.text.clone()));
    log::info(format_args!("received {{received}}"));
{answer}}}

#[cfg(test)]
mod tests {{
    use super::*;
{test_imports}
    /// The function called directly, without a host or a queue.
    fn call(message: QueueMessage) -> Result<{test_returns}, Error> {{
        azure_functions_rocket::rocket::tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(run(message))
    }}

    #[test]
    fn reads_a_json_message() {{
        let message = QueueMessage {{
            text: "3".to_owned(),
            ..QueueMessage::default()
        }};
{check}    }}
}}
"#
        )
    }

    fn timer_source(&self, schedule: &str) -> String {
        let name = &self.name;
        let outputs = self.outputs();
        let (imports, returns, answer, what) = if outputs.is_empty() {
            ("Error, TimerInfo, log", "()", "    Ok(())\n".to_owned(), "")
        } else {
            (
                "Error, Outputs, TimerInfo, log",
                "Outputs",
                format!(
                    "    let tick = Tick {{\n        past_due: timer.is_past_due,\n        next: timer.next,\n    }};\n    {}\n",
                    self.outputs_expression("tick")
                ),
                " It writes each tick to the blob output as JSON.",
            )
        };
        let tick_type = if outputs.is_empty() {
            ""
        } else {
            "use serde::Serialize;\n\n#[derive(Serialize)]\nstruct Tick {\n    past_due: bool,\n    next: Option<String>,\n}\n"
        };
        format!(
            r#"//! {name}: a timer function on the schedule `{schedule}` (NCRONTAB, UTC:
//! second minute hour day month day-of-week).{what}

use azure_functions_rocket::{{{imports}}};
{tick_type}
pub async fn run(timer: TimerInfo) -> Result<{returns}, Error> {{
    if timer.is_past_due {{
        log::warn("the timer is past due: a run was missed or ran long");
    }}
    let next = timer.next.as_deref().unwrap_or("an unknown time");
    log::info(format_args!("tick; next at {{next}}"));
{answer}}}

#[cfg(test)]
mod tests {{
    use super::*;

    #[test]
    fn ticks() {{
        azure_functions_rocket::rocket::tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(run(TimerInfo::default()))
            .expect("succeeds");
    }}
}}
"#
        )
    }
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> ScaffoldError {
    ScaffoldError::Failed(format!("cannot {what} {}: {error}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), ScaffoldError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_error("create", parent, e))?;
    }
    std::fs::write(path, text).map_err(|e| io_error("write", path, e))
}

/// The opening line of the registry function in the main.rs `new app`
/// writes.
const REGISTRY_FN: &str = "fn registry() -> Registry {";

/// `main_rs` with `mod <module>;` and the registry line added, when it has
/// the shape `new app` writes: a `fn registry() -> Registry` whose body is
/// one `Registry::new()` chain, closed by a `}` line.
pub fn add_to_main(main_rs: &str, module: &str, registry_line: &str) -> Option<String> {
    let lines: Vec<&str> = main_rs.lines().collect();
    let mut openings = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim() == REGISTRY_FN);
    let (open, _) = openings.next()?;
    if openings.next().is_some() {
        return None;
    }
    let close = open + 1 + lines[open + 1..].iter().position(|l| *l == "}")?;
    let body = lines[open + 1..close].join("\n");
    let chain = body.trim();
    if !chain.starts_with("Registry::new()") || !chain.ends_with(')') || chain.contains(';') {
        return None;
    }
    // The last non-blank line of the body ends the chain.
    let last = (open + 1..close)
        .rev()
        .find(|&i| !lines[i].trim().is_empty())?;
    let mod_line = format!("mod {module};");
    let mod_lines: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| is_mod_line(l))
        .map(|(i, _)| i)
        .collect();
    // rustfmt keeps a block of `mod` lines sorted: insert in order.
    let mod_at = match mod_lines.first() {
        Some(&first) => {
            let block_end = (first..lines.len())
                .find(|&i| !is_mod_line(lines[i]))
                .unwrap_or(lines.len());
            (first..block_end)
                .find(|&i| lines[i] > mod_line.as_str())
                .unwrap_or(block_end)
        }
        None => lines
            .iter()
            .position(|l| !(l.starts_with("//!") || l.trim().is_empty()))
            .unwrap_or(0),
    };
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i == mod_at {
            out.push_str(&mod_line);
            out.push('\n');
            if mod_lines.is_empty() {
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
        if i == last {
            out.push_str("        ");
            out.push_str(registry_line);
            out.push('\n');
        }
    }
    Some(out)
}

fn is_mod_line(line: &str) -> bool {
    line.starts_with("mod ") && line.ends_with(';') && !line.contains('{')
}

/// Writes function `spec` into its app: `src/<module>.rs`, `<Name>/function.json`,
/// and its `mod` and registry lines in `src/main.rs`. Returns what it did,
/// line by line.
pub fn new_function(spec: &NewFunction) -> Result<Vec<String>, ScaffoldError> {
    let plan = Plan::new(spec)?;
    let app = &spec.app;
    if !app.join("host.json").is_file() {
        return refused(format!(
            "no host.json in {}: not an app folder (create one with `local-host new app DIR`, or pass --app DIR)",
            app.display()
        ));
    }
    let main_path = app.join("src").join("main.rs");
    let main_rs = match std::fs::read_to_string(&main_path) {
        Ok(text) => text,
        Err(e) => {
            return refused(format!(
                "cannot read {}: {e}: `local-host new function` adds to the src/main.rs that `local-host new app` writes",
                main_path.display()
            ));
        }
    };
    check_free(app, &plan, &main_rs)?;
    let registry_line = plan.registry_line();
    let Some(new_main) = add_to_main(&main_rs, &plan.module, &registry_line) else {
        return refused(format!(
            "{} is not in the shape `local-host new app` writes (a `fn registry() -> Registry` whose body is one `Registry::new()` chain), so nothing was written; to add the function by hand, write src/{}.rs and {}/function.json, and add `mod {};` and, to the registry, `{registry_line}`",
            main_path.display(),
            plan.module,
            plan.name,
            plan.module
        ));
    };
    let source_path = app.join("src").join(format!("{}.rs", plan.module));
    let json_path = app.join(&plan.name).join("function.json");
    write(&source_path, &plan.source())?;
    write(&json_path, &plan.function_json())?;
    write(&main_path, &new_main)?;
    Ok(vec![
        format!(
            "wrote src/{}.rs and {}/function.json",
            plan.module, plan.name
        ),
        format!("added to src/main.rs: mod {}; {registry_line}", plan.module),
    ])
}

/// Refuses a function whose name, folder or module the app already has.
fn check_free(app: &Path, plan: &Plan, main_rs: &str) -> Result<(), ScaffoldError> {
    let name = &plan.name;
    if app.join(name).exists() {
        return refused(format!(
            "{name} already exists in {}: a function named {name:?} needs that folder; choose another name",
            app.display()
        ));
    }
    // The host's function names are case-insensitive.
    if let Ok(entries) = std::fs::read_dir(app) {
        for entry in entries.flatten() {
            let folder = entry.file_name().to_string_lossy().into_owned();
            if folder.eq_ignore_ascii_case(name) {
                return refused(format!(
                    "the folder {folder} already exists in {}, and function names are case-insensitive; choose another name",
                    app.display()
                ));
            }
        }
    }
    if let Some(binary) = handler_name(app)
        && binary.eq_ignore_ascii_case(name)
    {
        return refused(format!(
            "{name:?} is the handler binary's name (defaultExecutablePath), which sits next to the function folders; choose another name"
        ));
    }
    let module = &plan.module;
    let src = app.join("src");
    if src.join(format!("{module}.rs")).exists() || src.join(module).exists() {
        return refused(format!(
            "the module {module} already exists (src/{module}.rs or src/{module}/): choose another function name"
        ));
    }
    if main_rs
        .lines()
        .any(|l| l.trim() == format!("mod {module};"))
        || main_rs.contains(&format!("({name:?},"))
    {
        return refused(format!(
            "src/main.rs already has `mod {module};` or a function named {name:?}: choose another name"
        ));
    }
    Ok(())
}

/// The file name of host.json's `defaultExecutablePath`, if readable.
fn handler_name(app: &Path) -> Option<String> {
    let text = std::fs::read_to_string(app.join("host.json")).ok()?;
    let json: Value = serde_json::from_str(&text).ok()?;
    let path = json
        .get("customHandler")?
        .get("description")?
        .get("defaultExecutablePath")?
        .as_str()?;
    Some(path.rsplit(['/', '\\']).next()?.to_owned())
}

/// This workspace's `azure-functions-rocket`, found from where local-host
/// was built.
pub fn default_library_path() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../azure-functions-rocket");
    let path = std::fs::canonicalize(path).ok()?;
    path.join("Cargo.toml").is_file().then_some(path)
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn library_dependency(library: Option<&Library>) -> Result<String, ScaffoldError> {
    Ok(match library {
        None => {
            let Some(path) = default_library_path() else {
                return refused(format!(
                    "azure-functions-rocket is not at {}/../azure-functions-rocket, where this local-host was built: pass --library-path PATH, --library-version VERSION or --library-git URL",
                    env!("CARGO_MANIFEST_DIR")
                ));
            };
            format!("{{ path = {} }}", toml_string(&path.to_string_lossy()))
        }
        Some(Library::Path(path)) => {
            let Ok(path) = std::fs::canonicalize(path) else {
                return refused(format!("--library-path {}: no such folder", path.display()));
            };
            if !path.join("Cargo.toml").is_file() {
                return refused(format!(
                    "--library-path {}: no Cargo.toml there (give the azure-functions-rocket folder)",
                    path.display()
                ));
            }
            format!("{{ path = {} }}", toml_string(&path.to_string_lossy()))
        }
        Some(Library::Version(version)) => {
            if version.trim().is_empty() {
                return refused("--library-version needs a version, e.g. 0.1");
            }
            toml_string(version)
        }
        Some(Library::Git(url)) => {
            if url.trim().is_empty() {
                return refused("--library-git needs a repository URL");
            }
            format!("{{ git = {} }}", toml_string(url))
        }
    })
}

/// Writes a new app into `spec.dir` (created; refused when it exists and is
/// not empty). Returns what it did and the next commands, line by line.
pub fn new_app(spec: &NewApp) -> Result<Vec<String>, ScaffoldError> {
    let dir = &spec.dir;
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map(|mut entries| entries.next().is_none())
            .unwrap_or(false);
        if !empty {
            return refused(format!(
                "{} exists and is not empty: give a new or empty folder",
                dir.display()
            ));
        }
    }
    let name = match &spec.name {
        Some(name) => name.clone(),
        None => {
            let folder = std::path::absolute(dir)
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default();
            crate_name_from_folder(&folder)
        }
    };
    if let Some(problem) = crate_name_problem(&name) {
        return refused(problem);
    }
    if name.eq_ignore_ascii_case("hello") {
        return refused(
            "\"hello\" is the name of the app's first function's folder (Hello), and the binary sits next to it: pass --name NAME",
        );
    }
    let dependency = library_dependency(spec.library.as_ref())?;
    let hello = Plan::new(&NewFunction {
        name: "Hello".into(),
        trigger: Trigger::Http {
            route: None,
            methods: vec!["get".into(), "post".into()],
        },
        blob_output: None,
        app: dir.clone(),
    })?;
    let files = [
        ("Cargo.toml", cargo_toml(&name, &dependency)),
        ("src/main.rs", main_rs(&name, &hello)),
        ("src/hello.rs", hello.source()),
        ("Hello/function.json", hello.function_json()),
        ("host.json", host_json(&name)),
        ("local.settings.json", LOCAL_SETTINGS.to_owned()),
        (".funcignore", FUNCIGNORE.to_owned()),
        (
            ".gitignore",
            format!(
                "target/\n# The release build, copied next to host.json to publish.\n/{name}\n"
            ),
        ),
        (".cargo/config.toml", CARGO_CONFIG.to_owned()),
        ("README.md", readme(&name)),
    ];
    for (file, text) in &files {
        write(&dir.join(file), text)?;
    }
    let shown = dir.display();
    Ok(vec![
        format!(
            "wrote the app {name} in {shown}: the function Hello (src/hello.rs, Hello/function.json)"
        ),
        "next:".into(),
        format!("  cd {shown}"),
        "  cargo test".into(),
        "  local-host start --build".into(),
        "  curl 'http://localhost:7071/api/Hello?name=Ada'".into(),
        "  local-host new function Squares --queue sides --output-queue squares".into(),
        "  local-host check --build".into(),
    ])
}

fn cargo_toml(name: &str, dependency: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

# A workspace of its own, so that the app builds alone even inside another
# workspace's folder.
[workspace]

[dependencies]
azure-functions-rocket = {dependency}
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"

# The release build is what ships to Azure: small and fast. Unwinding stays
# on, so that a panic fails only the invocation it happened in.
[profile.release]
lto = true
codegen-units = 1
strip = true
"#
    )
}

fn main_rs(name: &str, hello: &Plan) -> String {
    format!(
        r#"//! {name}: an Azure Functions custom handler on azure-functions-rocket.
//! Each function is a module here and a folder beside Cargo.toml with its
//! function.json; `local-host new function` adds both and its registry line.

mod {module};

use std::process::ExitCode;

use azure_functions_rocket::{{Function, Registry}};

/// Every function of the app, one line each, named as its folder.
fn registry() -> Registry {{
    Registry::new()
        {line}
}}

fn main() -> ExitCode {{
    azure_functions_rocket::run(registry())
}}
"#,
        module = hello.module,
        line = hello.registry_line(),
    )
}

fn host_json(name: &str) -> String {
    let host = json!({
        "version": "2.0",
        "extensionBundle": {
            "id": "Microsoft.Azure.Functions.ExtensionBundle",
            "version": "[4.*, 5.0.0)"
        },
        "customHandler": {
            "description": {
                "defaultExecutablePath": name
            },
            "enableForwardingHttpRequest": false
        }
    });
    serde_json::to_string_pretty(&host).unwrap_or_default() + "\n"
}

const LOCAL_SETTINGS: &str = r#"{
  "IsEncrypted": false,
  "Values": {
    "FUNCTIONS_WORKER_RUNTIME": "custom",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true"
  }
}
"#;

const FUNCIGNORE: &str = "\
# What publishing leaves out: only host.json, the function folders and the
# handler binary belong in the app.
.git*
.vscode
.cargo
local.settings.json
target/
src/
tests/
Cargo.toml
Cargo.lock
README.md
*.rs
";

const CARGO_CONFIG: &str = r#"# `cargo build --release --target x86_64-unknown-linux-musl` gives a static
# binary that runs on any Linux Functions image. Rust's musl target brings
# its own C runtime, so the linker that ships with rustup is all it needs.
# A non-PIE build has no interpreter and no dynamic section at all.
[target.x86_64-unknown-linux-musl]
linker = "rust-lld"
rustflags = ["-C", "relocation-model=static"]
"#;

fn readme(name: &str) -> String {
    format!(
        r#"# {name}

An Azure Functions custom handler in Rust, on azure-functions-rocket. Each
function is a module in `src/` and a folder here with its `function.json`;
`src/main.rs` registers them, and the handler checks at start-up that the
two agree.

```sh
cargo test                                   # the functions, called directly
local-host start --build                     # serve on http://localhost:7071
curl 'http://localhost:7071/api/Hello?name=Ada'
curl -X POST http://localhost:7071/api/Hello -d '{{"name": "Ada"}}'
local-host new function Squares --queue sides --output-queue squares
local-host invoke Squares --data-file message.txt --build
local-host check --build                     # host.json, settings, folders
```

To publish, build the static release binary, put it next to host.json, and
publish the folder (`.funcignore` leaves the sources out):

```sh
rustup target add x86_64-unknown-linux-musl  # once
cargo build --release --target x86_64-unknown-linux-musl
cp target/x86_64-unknown-linux-musl/release/{name} .
func azure functionapp publish <APP_NAME>
```
"#
    )
}

#[cfg(test)]
mod tests {
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
    fn the_registry_line_declares_every_output() {
        let queue = plan(
            Trigger::Queue {
                queue: "sides".into(),
                output_queue: Some("squares".into()),
            },
            Some("out/{rand-guid}"),
        );
        assert_eq!(
            queue.registry_line(),
            r#".with(Function::queue("Squares", "message", squares::run).output("squares").output("blob"))"#
        );
        let json: Value = serde_json::from_str(&queue.function_json()).expect("JSON");
        let names: Vec<&str> = json["bindings"]
            .as_array()
            .expect("bindings")
            .iter()
            .filter_map(|b| b["name"].as_str())
            .collect();
        assert_eq!(names, ["message", "squares", "blob"]);
    }

    const MAIN: &str = "//! app\n\nmod hello;\nmod zeta;\n\nuse x;\n\nfn registry() -> Registry {\n    Registry::new()\n        .with(Function::http(\"Hello\", \"req\", hello::run))\n}\n\nfn main() {}\n";

    #[test]
    fn adds_the_module_in_order_and_the_line_to_the_chain() {
        let out = add_to_main(MAIN, "squares", ".with(X)").expect("the shape");
        assert_eq!(
            out,
            "//! app\n\nmod hello;\nmod squares;\nmod zeta;\n\nuse x;\n\nfn registry() -> Registry {\n    Registry::new()\n        .with(Function::http(\"Hello\", \"req\", hello::run))\n        .with(X)\n}\n\nfn main() {}\n"
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
}
