//! A new function's source file: a working body for its trigger, with a
//! unit test, that returns what its function.json declares.

use std::fmt::Write as _;

use super::*;

impl Plan {
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
