//! A new function's files: its module, its function.json, its registry line.

use std::fmt::Write as _;

use serde_json::Value;

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

    /// The line added to the registry chain: the whole declaration, from
    /// which `cargo azfunc start --build` writes the function's folder;
    /// laid out as rustfmt lays it out, at the registry chain's indent.
    pub(super) fn registry_line(&self) -> String {
        let kind = match self.trigger {
            Trigger::Http { .. } => "http",
            Trigger::Queue { .. } => "queue",
            Trigger::Timer { .. } => "timer",
        };
        let mut chain = vec![format!(
            "Function::{kind}({:?}, {}::run)",
            self.name, self.module
        )];
        match &self.trigger {
            Trigger::Http { route, methods } => {
                if let Some(route) = route {
                    chain.push(format!(".route({route:?})"));
                }
                let methods: Vec<String> = methods.iter().map(|m| format!("{m:?}")).collect();
                chain.push(format!(".methods([{}])", methods.join(", ")));
                chain.push(".auth_level(AuthLevel::Anonymous)".to_owned());
            }
            // The queue and blob bindings' connection is the host's
            // default, AzureWebJobsStorage.
            Trigger::Queue {
                queue,
                output_queue,
            } => {
                chain.push(format!(".queue_name({queue:?})"));
                if let (Some(output), Some(binding)) = (output_queue, &self.queue_out) {
                    chain.push(format!(".output(Binding::queue({binding:?}, {output:?}))"));
                }
            }
            Trigger::Timer { schedule } => chain.push(format!(".schedule({schedule:?})")),
        }
        if let Some(path) = &self.blob_path {
            chain.push(format!(
                ".output(Binding::blob({BLOB_BINDING:?}, {path:?}))"
            ));
        }
        let one_line = chain.concat();
        // As rustfmt lays a registry line out: one call after the first
        // stays on its line if it fits in 100 columns at the chain's
        // indent; more go one per line.
        if chain.len() <= 2 && one_line.len() + 8 + ".with()".len() <= 100 {
            return format!(".with({one_line})");
        }
        let mut line = format!(".with(\n            {}", chain[0]);
        for link in &chain[1..] {
            let _ = write!(line, "\n                {link}");
        }
        line.push_str(",\n        )");
        line
    }

    /// The names the registry line uses from azure-functions-rocket.
    pub(super) fn imports(&self) -> Vec<&'static str> {
        let mut names = vec!["Function", "Registry"];
        if matches!(self.trigger, Trigger::Http { .. }) {
            names.push("AuthLevel");
        }
        if !self.outputs().is_empty() {
            names.push("Binding");
        }
        names.sort_unstable();
        names
    }
}
