//! An invocation's outputs written as the host writes them: queue
//! messages to their queues, blobs to their paths with the path's binding
//! expressions filled in.

use serde_json::Value;

use function_app::normalize_queue_name;

use super::{Feed, app_setting, connection_string};
use crate::dotnet::base64;
use crate::host::envelope::{Output, QueueMessage, Sys, Written};
use crate::storage::Account;

impl Feed {
    pub(super) async fn write(
        &self,
        output: &Output,
        message: &QueueMessage,
        sys: &Sys,
    ) -> Result<(), String> {
        let bytes = match &output.value {
            Written::Nothing | Written::Http(_) => return Ok(()),
            Written::Text(text) => text.clone().into_bytes(),
            Written::Json(value) => value.to_string().into_bytes(),
            Written::Bytes(bytes) => bytes.clone(),
        };
        let Some(binding) = self.function.output(&output.binding) else {
            return Ok(());
        };
        let account = match connection_string(&self.app, &self.function, &binding.name) {
            Some(connection) => Account::from_connection_string(&connection)?,
            None => self.account.clone(),
        };
        if binding.is_kind("queue") {
            let queue = binding
                .queue_name
                .clone()
                .filter(|q| !q.is_empty())
                .ok_or("the queue output has no queueName")?;
            let queue = normalize_queue_name(&queue, |name| app_setting(&self.app, name))?;
            let text = if self.settings.base64 {
                base64::encode(&bytes)
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            };
            account.put_message(&queue, &text).await
        } else if binding.is_kind("blob") {
            let path = binding
                .extra
                .get("path")
                .and_then(Value::as_str)
                .ok_or("the blob output has no path")?;
            let path = resolve_path(path, message, sys);
            account.put_blob(&path, bytes).await?;
            self.console.info(format!(
                "[{}] blob {} written to {path}",
                self.function.name, binding.name
            ));
            Ok(())
        } else {
            // Other output kinds are shown by `report`, not written.
            Ok(())
        }
    }
}

/// A blob path with its binding expressions filled in: `{rand-guid}`,
/// `{sys.randguid}`, `{sys.utcnow}`, `{DateTime}`, `{queueTrigger}` and
/// the message's metadata (`{Id}`, `{DequeueCount}`); an unknown one is
/// left as written.
fn resolve_path(path: &str, message: &QueueMessage, sys: &Sys) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let expression = &rest[start + 1..start + end];
        let value = match expression.to_ascii_lowercase().as_str() {
            "rand-guid" | "sys.randguid" => Some(sys.rand_guid.clone()),
            "sys.utcnow" | "datetime" => Some(sys.utc_now.iso().replace(':', "-")),
            "queuetrigger" => Some(message.text.clone()),
            "id" => Some(message.id.clone()),
            "dequeuecount" => Some(message.dequeue_count.to_string()),
            _ => None,
        };
        match value {
            Some(value) => out.push_str(&value),
            None => out.push_str(&rest[start..=start + end]),
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::FunctionFolder;

    #[test]
    fn blob_paths() {
        let message = QueueMessage::new("hello");
        let function: FunctionFolder = FunctionFolder {
            name: "F".into(),
            bindings: Vec::new(),
        };
        let sys = Sys {
            method_name: function.name.clone(),
            utc_now: crate::timers::clock::UtcTime { unix: 0 },
            rand_guid: "g-1".into(),
        };
        assert_eq!(
            resolve_path("out/{rand-guid}-{DequeueCount}-{nope}.txt", &message, &sys),
            "out/g-1-1-{nope}.txt"
        );
        assert_eq!(
            resolve_path("out/{queueTrigger}", &message, &sys),
            "out/hello"
        );
    }
}
