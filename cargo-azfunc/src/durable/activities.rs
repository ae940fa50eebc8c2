//! Activity invocations: an activity function invoked with its input as
//! the extension invokes it, its result or failure delivered back to the
//! orchestration that scheduled it.

use std::sync::Arc;

use durable_proto::{EventType, TaskCompletedEvent, TaskFailedEvent};
use serde_json::{Value, json};

use super::{Durable, Execution, failure, sys};

impl Durable {
    /// One activity invocation; its result goes to the inbox of the
    /// execution that scheduled it, if that still runs.
    pub(super) async fn activity(
        self: Arc<Self>,
        execution: Execution,
        task_id: i32,
        name: &str,
        input: Option<String>,
    ) {
        let id = execution.instance_id.as_str();
        let outcome = match self
            .app
            .function(name)
            .filter(|function| function.trigger().is_kind("activityTrigger"))
        {
            None => Err(format!("no activity function named {name:?}")),
            Some(function) => {
                let input = input.unwrap_or_else(|| "null".to_owned());
                let data = Value::String(input);
                let body = json!({
                    "Data": {function.trigger().name.clone(): data.clone()},
                    "Metadata": {"data": data, "instanceId": Value::String(id.to_owned()).to_string(), "sys": sys(name)},
                });
                match self.send(function, &body).await {
                    Ok((200..=299, envelope)) => {
                        let value = envelope.get("ReturnValue").cloned().unwrap_or(Value::Null);
                        Ok((!value.is_null()).then(|| value.to_string()))
                    }
                    Ok((status, _)) => Err(format!(
                        "Function '{name}' failed: the handler answered {status} (its reason is on the handler's stderr)"
                    )),
                    Err(reason) => Err(format!("Function '{name}' failed: {reason}")),
                }
            }
        };
        let kind = match outcome {
            Ok(result) => {
                self.console.info(format!(
                    "[durable] activity {name} (task {task_id} of {id}) returned {}",
                    result.as_deref().unwrap_or("null")
                ));
                EventType::TaskCompleted(TaskCompletedEvent {
                    task_scheduled_id: task_id,
                    result,
                })
            }
            Err(reason) => {
                self.console.warning(format!(
                    "[durable] activity {name} (task {task_id} of {id}) failed: {reason}"
                ));
                EventType::TaskFailed(TaskFailedEvent {
                    task_scheduled_id: task_id,
                    failure_details: Some(failure("FunctionFailedException", reason)),
                })
            }
        };
        let _ = self.deliver_to(&execution, kind);
    }
}
