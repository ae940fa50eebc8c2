//! Queue-triggered functions fed from a real storage queue (Azurite) as the
//! host feeds them: batches hidden for a visibility timeout, base64 message
//! text by default, the real Metadata, deletion on success, release on
//! failure, the poison queue after `maxDequeueCount`, and polling that backs
//! off while the queue is empty. Outputs go to their queues and blobs.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

use crate::app::{AppFolder, FunctionFolder, TriggerKind};
use crate::base64;
use crate::console::Console;
use crate::envelope::{QueueMessage, Sys, Written, queue_invocation};
use crate::handler::Handler;
use crate::ids::new_guid;
use crate::invocation::{invoke, report};
use crate::storage::{Account, Message};

/// `extensions.queues` of host.json, with the host's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueSettings {
    pub batch_size: u32,
    pub max_dequeue_count: u32,
    /// How long a failed message stays hidden before its next attempt.
    pub visibility_timeout: Duration,
    pub max_polling_interval: Duration,
    /// `messageEncoding`: base64 (the default) or none.
    pub base64: bool,
}

impl Default for QueueSettings {
    fn default() -> QueueSettings {
        QueueSettings {
            batch_size: 16,
            max_dequeue_count: 5,
            visibility_timeout: Duration::ZERO,
            max_polling_interval: Duration::from_secs(60),
            base64: true,
        }
    }
}

/// The shortest wait between two polls of an empty queue.
const MIN_POLL: Duration = Duration::from_millis(100);

/// How long a fetched message stays hidden while it is being processed.
const PROCESSING_TIMEOUT: u64 = 600;

/// `HH:MM:SS` (optionally `D.HH:MM:SS`, fractional seconds) as .NET's
/// TimeSpan writes it.
pub fn parse_timespan(text: &str) -> Option<Duration> {
    let (days, rest) = match text.split_once('.') {
        Some((d, rest)) if rest.contains(':') && !d.contains(':') => (d.parse::<u64>().ok()?, rest),
        _ => (0, text),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return None;
    };
    let seconds: f64 = s
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
    let whole = days * 86_400 + h.parse::<u64>().ok()? * 3600 + m.parse::<u64>().ok()? * 60;
    Some(Duration::from_secs(whole) + Duration::from_secs_f64(seconds))
}

impl QueueSettings {
    /// Reads `extensions.queues` from the app's host.json; a value that is
    /// not what the host takes is an error naming it.
    pub fn of(app: &AppFolder) -> Result<QueueSettings, String> {
        let mut settings = QueueSettings::default();
        let Ok(text) = std::fs::read_to_string(app.root.join("host.json")) else {
            return Ok(settings);
        };
        let host: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let Some(queues) = host
            .pointer("/extensions/queues")
            .and_then(Value::as_object)
        else {
            return Ok(settings);
        };
        let count = |key: &str, max: u64| -> Result<Option<u32>, String> {
            match queues.get(key) {
                None => Ok(None),
                Some(v) => v
                    .as_u64()
                    .filter(|n| (1..=max).contains(n))
                    .map(|n| Some(n as u32))
                    .ok_or_else(|| {
                        format!("host.json extensions.queues.{key} must be a number from 1 to {max}, not {v}")
                    }),
            }
        };
        let span = |key: &str| -> Result<Option<Duration>, String> {
            match queues.get(key) {
                None => Ok(None),
                Some(v) => v.as_str().and_then(parse_timespan).map(Some).ok_or_else(|| {
                    format!("host.json extensions.queues.{key} must be a time span like \"00:00:30\", not {v}")
                }),
            }
        };
        if let Some(n) = count("batchSize", 32)? {
            settings.batch_size = n;
        }
        if let Some(n) = count("maxDequeueCount", u64::from(u32::MAX))? {
            settings.max_dequeue_count = n;
        }
        if let Some(d) = span("visibilityTimeout")? {
            settings.visibility_timeout = d;
        }
        if let Some(d) = span("maxPollingInterval")? {
            settings.max_polling_interval = d.max(MIN_POLL);
        }
        match queues.get("messageEncoding").and_then(Value::as_str) {
            None => {}
            Some(e) if e.eq_ignore_ascii_case("base64") => settings.base64 = true,
            Some(e) if e.eq_ignore_ascii_case("none") => settings.base64 = false,
            Some(other) => {
                return Err(format!(
                    "host.json extensions.queues.messageEncoding must be base64 or none, not {other:?}"
                ));
            }
        }
        Ok(settings)
    }
}

/// The connection string a binding's `connection` names (default
/// `AzureWebJobsStorage`): the environment first, as Core Tools does, then
/// local.settings.json; `<name>` or `AzureWebJobs<name>`.
pub fn connection_string(
    app: &AppFolder,
    function: &FunctionFolder,
    binding_name: &str,
) -> Option<String> {
    let binding = function.bindings.iter().find(|b| b.name == binding_name)?;
    let name = binding
        .extra
        .get("connection")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .unwrap_or("AzureWebJobsStorage");
    [name.to_owned(), format!("AzureWebJobs{name}")]
        .into_iter()
        .find_map(|key| {
            std::env::var(&key).ok().or_else(|| {
                app.settings
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.clone())
            })
        })
        .filter(|v| !v.trim().is_empty())
}

/// The running feeds; they stop when this is dropped.
pub struct Feeds {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Feeds {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts feeding every queue-triggered function whose connection is
/// configured; says once on `console` which are not fed and why. Fails on
/// host.json queue settings the host would refuse.
pub fn start(app: &AppFolder, handler: Arc<Handler>, console: &Console) -> Result<Feeds, String> {
    let mut tasks = Vec::new();
    let queue_functions: Vec<&FunctionFolder> = app
        .functions
        .iter()
        .filter(|f| f.trigger_kind() == TriggerKind::Queue)
        .collect();
    if queue_functions.is_empty() {
        return Ok(Feeds { tasks });
    }
    let settings = QueueSettings::of(app)?;
    for function in queue_functions {
        let trigger = function.trigger();
        let Some(queue) = trigger.queue_name.clone().filter(|q| !q.is_empty()) else {
            console.warning(format!(
                "[host] {}: not fed from a queue: its queueTrigger has no queueName",
                function.name
            ));
            continue;
        };
        let Some(connection) = connection_string(app, function, &trigger.name) else {
            console.warning(format!(
                "[host] {}: not fed from queue {queue}: no storage connection (set AzureWebJobsStorage to UseDevelopmentStorage=true in local.settings.json and run Azurite); invoke it by hand instead",
                function.name
            ));
            continue;
        };
        let account = match Account::from_connection_string(&connection) {
            Ok(account) => account,
            Err(e) => {
                console.warning(format!(
                    "[host] {}: not fed from queue {queue}: its storage connection: {e}",
                    function.name
                ));
                continue;
            }
        };
        console.info(format!(
            "[host] {}: fed from queue {queue} at {}",
            function.name, account.queue_endpoint
        ));
        let feed = Feed {
            app: app.clone(),
            function: function.clone(),
            queue,
            account,
            settings: settings.clone(),
            handler: handler.clone(),
            console: console.clone(),
        };
        tasks.push(tokio::spawn(feed.run()));
    }
    Ok(Feeds { tasks })
}

#[derive(Clone)]
struct Feed {
    app: AppFolder,
    function: FunctionFolder,
    queue: String,
    account: Account,
    settings: QueueSettings,
    handler: Arc<Handler>,
    console: Console,
}

impl Feed {
    async fn run(self) {
        let feed = Arc::new(self);
        let mut wait = MIN_POLL;
        let mut reported_error = false;
        loop {
            let fetched = feed
                .account
                .get_messages(&feed.queue, feed.settings.batch_size, PROCESSING_TIMEOUT)
                .await;
            match fetched {
                Ok(messages) if !messages.is_empty() => {
                    reported_error = false;
                    wait = MIN_POLL;
                    let mut batch = tokio::task::JoinSet::new();
                    for message in messages {
                        let feed = feed.clone();
                        batch.spawn(async move { feed.process(message).await });
                    }
                    while batch.join_next().await.is_some() {}
                    continue;
                }
                Ok(_) => {
                    reported_error = false;
                }
                Err(e) => {
                    // Once per outage, not once per poll.
                    if !reported_error {
                        feed.console.error(format!(
                            "[host] {}: cannot read queue {}: {e}; retrying",
                            feed.function.name, feed.queue
                        ));
                        reported_error = true;
                    }
                }
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(feed.settings.max_polling_interval);
        }
    }

    async fn process(&self, message: Message) {
        let name = &self.function.name;
        let invocation_id = new_guid();
        self.console.info(format!(
            "[{name} {invocation_id}] Executing (queue {}, message {}, dequeue count {})",
            self.queue, message.id, message.dequeue_count
        ));
        let succeeded = match self.decode(&message) {
            Err(reason) => {
                self.console
                    .error(format!("[{name} {invocation_id}] Failed: {reason}"));
                false
            }
            Ok(text) => self.invoke(&message, text, &invocation_id).await,
        };
        let result = if succeeded {
            self.account.delete_message(&self.queue, &message).await
        } else if message.dequeue_count >= self.settings.max_dequeue_count {
            let poison = format!("{}-poison", self.queue);
            let moved = self.account.put_message(&poison, &message.text).await;
            if moved.is_ok() {
                self.console.warning(format!(
                    "[{name} {invocation_id}] message {} failed {} times: moved to {poison}",
                    message.id, message.dequeue_count
                ));
                self.account.delete_message(&self.queue, &message).await
            } else {
                moved
            }
        } else {
            let seconds = self.settings.visibility_timeout.as_secs();
            self.account
                .release_message(&self.queue, &message, seconds)
                .await
        };
        if let Err(e) = result {
            self.console.error(format!("[{name} {invocation_id}] {e}"));
        }
    }

    /// The message's text as the function gets it.
    fn decode(&self, message: &Message) -> Result<String, String> {
        if !self.settings.base64 {
            return Ok(message.text.clone());
        }
        let bytes = base64::decode(message.text.trim()).ok_or_else(|| {
            format!(
                "message {} is not base64, and host.json's extensions.queues.messageEncoding is base64 (the default): put it base64-encoded or set messageEncoding to none",
                message.id
            )
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Runs the function on one message and writes its outputs; whether
    /// it all succeeded.
    async fn invoke(&self, message: &Message, text: String, invocation_id: &str) -> bool {
        let queued = QueueMessage {
            text,
            id: message.id.clone(),
            pop_receipt: message.pop_receipt.clone(),
            dequeue_count: message.dequeue_count,
            insertion_time: message.insertion_time,
            expiration_time: message.expiration_time,
            next_visible_time: message.next_visible_time,
        };
        let sys = Sys::new(&self.function);
        let body = queue_invocation(&self.function, &queued, &sys);
        let outcome = invoke(&self.handler, &self.function, &body, invocation_id).await;
        report(&self.console, &self.function, invocation_id, &outcome);
        if !outcome.succeeded() {
            return false;
        }
        for output in &outcome.outputs {
            if let Err(e) = self.write(output, &queued, &sys).await {
                self.console.error(format!(
                    "[{} {invocation_id}] Failed: output {}: {e}",
                    self.function.name, output.binding
                ));
                return false;
            }
        }
        true
    }

    async fn write(
        &self,
        output: &crate::envelope::Output,
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
pub fn resolve_path(path: &str, message: &QueueMessage, sys: &Sys) -> String {
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

    #[test]
    fn time_spans() {
        assert_eq!(parse_timespan("00:00:30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_timespan("00:01:00"), Some(Duration::from_secs(60)));
        assert_eq!(
            parse_timespan("1.00:00:01"),
            Some(Duration::from_secs(86_401))
        );
        assert_eq!(
            parse_timespan("00:00:00.5"),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_timespan("30"), None);
        assert_eq!(parse_timespan("a:b:c"), None);
    }

    #[test]
    fn blob_paths() {
        let message = QueueMessage::new("hello");
        let function: FunctionFolder = FunctionFolder {
            name: "F".into(),
            bindings: Vec::new(),
        };
        let sys = Sys {
            method_name: function.name.clone(),
            utc_now: crate::clock::UtcTime { unix: 0 },
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
