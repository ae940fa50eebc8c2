//! Queue-triggered functions fed from a real storage queue (Azurite) as the
//! host feeds them: batches hidden while they run (see `renewal`), base64
//! message text by default, the real Metadata, deletion on success, release
//! on failure, the poison queue after `maxDequeueCount` (at once for a
//! message that does not decode), and polling that backs off while the
//! queue is empty. Outputs go to their queues and blobs.

mod outputs;
mod renewal;
mod settings;

use std::sync::Arc;

use function_app::normalize_queue_name;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use renewal::Visibility;
use settings::MIN_POLL;
pub use settings::QueueSettings;

use crate::app::{AppFolder, FunctionFolder, TriggerKind};
use crate::console::Console;
use crate::dotnet::base64;
use crate::handler::Handler;
use crate::host::envelope::{QueueMessage, Sys, Verdict, queue_invocation};
use crate::host::in_flight::InFlight;
use crate::host::invocation::{invoke, report};
use crate::ids::new_guid;
use crate::storage::{Account, Message};

/// An app setting: the environment first, as Core Tools does, then
/// local.settings.json's Values.
fn app_setting(app: &AppFolder, name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .or_else(|| app.settings.value(name).map(str::to_owned))
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
        .find_map(|key| app_setting(app, &key))
        .filter(|v| !v.trim().is_empty())
}

/// The running feeds. [`Feeds::stop`] lets the invocations in flight
/// finish; dropping them aborts everything at once.
pub struct Feeds {
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    in_flight: InFlight,
    console: Console,
}

impl Feeds {
    /// Stops fetching and waits until the invocations in flight, and their
    /// deletes, releases and poison moves, are done: an invocation cut
    /// half-way would see its message come back and run twice. Each is
    /// bounded by functionTimeout, unless host.json makes that -1.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        let running = self.in_flight.count();
        if running > 0 {
            self.console.info(format!(
                "[host] queue feeds stopping: waiting for {running} invocation(s) in flight"
            ));
        }
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
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
    start_with(app, handler, console, Visibility::default())
}

/// [`start`] with messages hidden and renewed as `visibility` says.
pub fn start_with(
    app: &AppFolder,
    handler: Arc<Handler>,
    console: &Console,
    visibility: Visibility,
) -> Result<Feeds, String> {
    let (stop, stopping) = watch::channel(false);
    let mut feeds = Feeds {
        tasks: Vec::new(),
        stop,
        in_flight: InFlight::default(),
        console: console.clone(),
    };
    let queue_functions: Vec<&FunctionFolder> = app
        .functions
        .iter()
        .filter(|f| f.trigger_kind() == TriggerKind::Queue)
        .collect();
    if queue_functions.is_empty() {
        return Ok(feeds);
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
        let queue = match normalize_queue_name(&queue, |name| app_setting(app, name)) {
            Ok(queue) => queue,
            Err(why) => {
                console.warning(format!(
                    "[host] {}: not fed from a queue: its queueTrigger's queueName: {why}",
                    function.name
                ));
                continue;
            }
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
            visibility,
            in_flight: feeds.in_flight.clone(),
        };
        feeds.tasks.push(tokio::spawn(feed.run(stopping.clone())));
    }
    Ok(feeds)
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
    visibility: Visibility,
    in_flight: InFlight,
}

impl Feed {
    /// Fetches and processes batches until `stop` says true. A fetch under
    /// way is finished, not cut off: its messages are hidden already, and
    /// are processed.
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let feed = Arc::new(self);
        let mut wait = MIN_POLL;
        let mut reported_error = false;
        let mut reported_missing = false;
        loop {
            if *stop.borrow() {
                return;
            }
            let fetched = feed
                .account
                .get_messages(
                    &feed.queue,
                    feed.settings.batch_size,
                    feed.visibility.hidden_seconds(),
                )
                .await;
            match fetched {
                Ok(Some(messages)) if !messages.is_empty() => {
                    reported_error = false;
                    wait = MIN_POLL;
                    let mut batch = tokio::task::JoinSet::new();
                    for message in messages {
                        let feed = feed.clone();
                        let counted = feed.in_flight.enter();
                        batch.spawn(async move {
                            feed.process(message).await;
                            drop(counted);
                        });
                    }
                    while batch.join_next().await.is_some() {}
                    continue;
                }
                Ok(Some(_)) => {
                    reported_error = false;
                    reported_missing = false;
                }
                // The host does not create a trigger's queue: it waits.
                Ok(None) => {
                    reported_error = false;
                    if !reported_missing {
                        feed.console.warning(format!(
                            "[host] {}: queue {} does not exist (yet): polling until it does",
                            feed.function.name, feed.queue
                        ));
                        reported_missing = true;
                    }
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
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                // Told to stop, or the feeds are gone.
                _ = stop.changed() => return,
            }
            wait = (wait * 2).min(feed.settings.max_polling_interval);
        }
    }

    async fn process(&self, mut message: Message) {
        let name = &self.function.name;
        // A message the storage client cannot decode never reaches the
        // function: the extension moves it to the poison queue at its first
        // dequeue (docs/host-protocol.md, "Queue messages that cannot be
        // decoded").
        let text = match self.decode(&message) {
            Ok(text) => text,
            Err(reason) => {
                let then = "; the function is not invoked, as with the host (put messages base64-encoded, or set messageEncoding to none)";
                self.poison(&message, &format!("[{name}] {reason}"), then)
                    .await;
                return;
            }
        };
        let invocation_id = new_guid();
        let tag = format!("[{name} {invocation_id}]");
        self.console.info(format!(
            "{tag} Executing (queue {}, message {}, dequeue count {})",
            self.queue, message.id, message.dequeue_count
        ));
        // The function sees the receipt it was fetched with, as with the
        // host; the calls below need the newest.
        let fetched = message.clone();
        let work = self.invoke(&fetched, text, &invocation_id);
        let (account, queue, console) = (&self.account, &self.queue, &self.console);
        let succeeded = renewal::keep_hidden(
            account,
            queue,
            &mut message,
            self.visibility,
            console,
            &tag,
            work,
        )
        .await;
        let result = if succeeded {
            self.account.delete_message(&self.queue, &message).await
        } else if message.dequeue_count >= self.settings.max_dequeue_count {
            let why = format!(
                "{tag} message {} failed {} times",
                message.id, message.dequeue_count
            );
            self.poison(&message, &why, "").await;
            return;
        } else {
            let seconds = self.settings.visibility_timeout.as_secs();
            self.account
                .release_message(&self.queue, &message, seconds)
                .await
        };
        if let Err(e) = result {
            self.console.error(format!("{tag} {e}"));
        }
    }

    /// Moves `message`, its text as it was on the queue, to the poison
    /// queue; `why` begins the line that says so, `then` ends it.
    async fn poison(&self, message: &Message, why: &str, then: &str) {
        let poison = format!("{}-poison", self.queue);
        let moved = match self.account.put_message(&poison, &message.text).await {
            Ok(()) => {
                self.console
                    .warning(format!("{why}: moved to {poison}{then}"));
                self.account.delete_message(&self.queue, message).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = moved {
            self.console.error(format!("{why}: {e}"));
        }
    }

    /// The message's text as the function gets it.
    fn decode(&self, message: &Message) -> Result<String, String> {
        if !self.settings.base64 {
            return Ok(message.text.clone());
        }
        let bytes = base64::decode(message.text.trim()).ok_or_else(|| {
            format!(
                "message {} is not base64, and host.json's extensions.queues.messageEncoding is base64 (the default)",
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
        let started = std::time::Instant::now();
        let mut outcome = invoke(&self.handler, &self.function, &body, invocation_id).await;
        // The host counts the output bindings' writes as part of the
        // invocation: one that fails fails the invocation, so the verdict
        // is reported only once they are written.
        if outcome.succeeded() {
            for output in &outcome.outputs {
                if let Err(e) = self.write(output, &queued, &sys).await {
                    outcome.verdict = Verdict::Failed(format!("output {}: {e}", output.binding));
                    break;
                }
            }
            outcome.duration = started.elapsed();
        }
        report(&self.console, &self.function, invocation_id, &outcome);
        outcome.succeeded()
    }
}
