//! A new function's files: its module, its function.json, its registry line.

use std::fmt::Write as _;

use serde_json::{Value, json};

use function_app::{HostJson, LocalSettings, RouteTemplate};

use super::*;
use crate::timers::ncrontab::Schedule;

/// The route prefix of the app at `app`: its host.json's, or the host's
/// default when that cannot be read (`new function` refuses a folder
/// without one later, with its own message).
fn route_prefix(app: &Path) -> String {
    std::fs::read_to_string(app.join("host.json"))
        .ok()
        .and_then(|text| HostJson::parse(&text).ok())
        .unwrap_or_default()
        .route_prefix
}

/// Why the host would refuse `queue` as a queue binding's `queueName`:
/// written as `new function` takes it, and, when it names an app setting
/// that the app's local.settings.json holds, that setting's value.
fn queue_problem(app: &Path, queue: &str) -> Option<String> {
    if let Some(problem) = queue_name_problem(queue) {
        return Some(problem);
    }
    let settings = std::fs::read_to_string(app.join("local.settings.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|json| LocalSettings::from_json(&json).ok())
        .unwrap_or_default();
    let value =
        function_app::resolve_setting(queue, |name| settings.value(name).map(str::to_owned))
            .ok()?;
    function_app::queue_name_problem(&value)
        .map(|problem| format!("{queue} is {value:?}: {problem}"))
}

/// A new function worked out: every name and text it needs.
pub(super) struct Plan {
    pub(super) name: String,
    pub(super) module: String,
    pub(super) trigger: Trigger,
    /// The queue output's binding name.
    pub(super) queue_out: Option<String>,
    pub(super) blob_path: Option<String>,
}

impl Plan {
    pub(super) fn new(spec: &NewFunction) -> Result<Plan, ScaffoldError> {
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
                if let Some(route) = route
                    && let Some(problem) = RouteTemplate::problem(&route_prefix(&spec.app), route)
                {
                    return refused(format!("--route: {problem}"));
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
                if let Some(problem) = queue_problem(&spec.app, queue) {
                    return refused(format!("--queue: {problem}"));
                }
                if let Some(output) = output_queue {
                    if let Some(problem) = queue_problem(&spec.app, output) {
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

    pub(super) fn outputs(&self) -> Vec<&str> {
        let mut outputs: Vec<&str> = self.queue_out.iter().map(String::as_str).collect();
        if self.blob_path.is_some() {
            outputs.push(BLOB_BINDING);
        }
        outputs
    }

    /// The line added to the registry chain: the binding names come from
    /// the function.json written beside it.
    pub(super) fn registry_line(&self) -> String {
        let kind = match self.trigger {
            Trigger::Http { .. } => "http",
            Trigger::Queue { .. } => "queue",
            Trigger::Timer { .. } => "timer",
        };
        let mut line = format!(
            ".with(Function::{kind}({:?}, {}::run)",
            self.name, self.module
        );
        for output in self.outputs() {
            let _ = write!(line, ".output({output:?})");
        }
        line.push(')');
        line
    }

    pub(super) fn function_json(&self) -> String {
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

    pub(super) fn source(&self) -> String {
        match &self.trigger {
            Trigger::Http { route, methods } => self.http_source(route.as_deref(), methods),
            Trigger::Queue { queue, .. } => self.queue_source(queue),
            Trigger::Timer { schedule } => self.timer_source(schedule),
        }
    }

    /// `Outputs::new()` with the value `value` written to each output.
    pub(super) fn outputs_expression(&self, value: &str) -> String {
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

    pub(super) fn http_source(&self, route: Option<&str>, methods: &[String]) -> String {
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

    pub(super) fn queue_source(&self, queue: &str) -> String {
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

    pub(super) fn timer_source(&self, schedule: &str) -> String {
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
    let next = timer.next.clone().unwrap_or_else(|| "unknown".to_owned());
    log::field("next", next);
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
