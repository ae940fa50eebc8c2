//! The functions a handler serves, each declared once: its folder name,
//! the names direct callers may use, its trigger, its outputs, its code.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use crate::envelope::Envelope;
use crate::error::Error;
use crate::http::HttpRequest;
use crate::outputs::{IntoReply, Reply};
use crate::trigger::{DirectCall, QueueMessage, TimerInfo, Trigger, TriggerInput};

/// How an invocation reached the handler.
pub enum Arrival<'a> {
    /// In the Functions host's envelope.
    Host(&'a Envelope<'a>),
    /// Sent to the handler by hand.
    Direct(DirectCall<'a>),
}

/// A function's work for one invocation, its input already read.
pub type Running = Pin<Box<dyn Future<Output = Result<Reply, Error>> + Send>>;

type Start = dyn Fn(Arrival<'_>) -> Result<Running, Error> + Send + Sync;

/// One function, as its registry line declares it.
pub struct Function {
    /// The function's folder: the host POSTs to `/{name}`.
    pub name: &'static str,
    /// Other names direct callers may use, e.g. the route.
    pub aliases: Vec<&'static str>,
    /// The trigger binding's `type` in function.json.
    pub trigger_type: &'static str,
    /// The trigger binding's `name` in function.json.
    pub binding: &'static str,
    /// The `out` bindings it writes, other than `$return`.
    pub outputs: Vec<&'static str>,
    /// Failures travel inside a 200 envelope (HTTP) or fail the invocation.
    pub fails_in_envelope: bool,
    start: Box<Start>,
}

impl Function {
    /// An HTTP-triggered function: `handler(HttpRequest)`.
    pub fn http<F, Fut, R>(name: &'static str, binding: &'static str, handler: F) -> Function
    where
        F: Fn(HttpRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoReply,
    {
        Function::of::<HttpRequest, _, _, _>(name, "httpTrigger", binding, handler)
    }

    /// A timer-triggered function: `handler(TimerInfo)`.
    pub fn timer<F, Fut, R>(name: &'static str, binding: &'static str, handler: F) -> Function
    where
        F: Fn(TimerInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoReply,
    {
        Function::of::<TimerInfo, _, _, _>(name, "timerTrigger", binding, handler)
    }

    /// A storage-queue-triggered function: `handler(QueueMessage)`.
    pub fn queue<F, Fut, R>(name: &'static str, binding: &'static str, handler: F) -> Function
    where
        F: Fn(QueueMessage) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoReply,
    {
        Function::of::<QueueMessage, _, _, _>(name, "queueTrigger", binding, handler)
    }

    /// A function on any other trigger (`blobTrigger`, `eventHubTrigger`,
    /// ...): `handler(TriggerInput)` gets the binding's raw JSON.
    pub fn trigger<F, Fut, R>(
        name: &'static str,
        trigger_type: &'static str,
        binding: &'static str,
        handler: F,
    ) -> Function
    where
        F: Fn(TriggerInput) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoReply,
    {
        Function::of::<TriggerInput, _, _, _>(name, trigger_type, binding, handler)
    }

    fn of<I, F, Fut, R>(
        name: &'static str,
        trigger_type: &'static str,
        binding: &'static str,
        handler: F,
    ) -> Function
    where
        I: Trigger,
        F: Fn(I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoReply,
    {
        let start = move |arrival: Arrival<'_>| -> Result<Running, Error> {
            let input = match arrival {
                Arrival::Host(envelope) => I::from_host(envelope, binding)?,
                Arrival::Direct(call) => I::from_direct(call)?,
            };
            let running = handler(input);
            Ok(Box::pin(async move { running.await.map(IntoReply::into_reply) }) as Running)
        };
        Function {
            name,
            aliases: Vec::new(),
            trigger_type,
            binding,
            outputs: Vec::new(),
            fails_in_envelope: I::FAILS_IN_ENVELOPE,
            start: Box::new(start),
        }
    }

    /// Another name direct callers may use.
    pub fn alias(mut self, name: &'static str) -> Function {
        self.aliases.push(name);
        self
    }

    /// Declares an `out` binding the function writes.
    pub fn output(mut self, binding: &'static str) -> Function {
        self.outputs.push(binding);
        self
    }

    /// Reads the input from `arrival` and starts the function on it.
    pub fn start(&self, arrival: Arrival<'_>) -> Result<Running, Error> {
        (self.start)(arrival)
    }

    /// Whether `name` calls this function (exact case, as the host sends).
    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }
}

impl Function {
    /// How the function's folder disagrees with this declaration.
    fn mismatches(&self, root: &Path) -> Vec<String> {
        #[derive(serde::Deserialize)]
        struct FunctionJson {
            bindings: Vec<Binding>,
        }
        #[derive(serde::Deserialize)]
        struct Binding {
            #[serde(rename = "type", default)]
            kind: String,
            #[serde(default)]
            direction: String,
            #[serde(default)]
            name: String,
        }
        let path = root.join(self.name).join("function.json");
        let at = format!("{}/function.json", self.name);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => return vec![format!("{at}: {error}")],
        };
        let bindings = match serde_json::from_str::<FunctionJson>(&text) {
            Ok(json) => json.bindings,
            Err(error) => return vec![format!("{at}: {error}")],
        };
        let mut found = Vec::new();
        let triggers: Vec<&Binding> = bindings
            .iter()
            .filter(|b| b.direction == "in" && b.kind.ends_with("Trigger"))
            .collect();
        match triggers.as_slice() {
            [trigger] if trigger.kind == self.trigger_type && trigger.name == self.binding => {}
            [trigger] => found.push(format!(
                "{at}: the trigger is {} named {:?}; the registry says {} named {:?}",
                trigger.kind, trigger.name, self.trigger_type, self.binding
            )),
            _ => found.push(format!(
                "{at}: {} trigger bindings, expected one",
                triggers.len()
            )),
        }
        let mut outs: Vec<&str> = bindings
            .iter()
            .filter(|b| b.direction == "out" && b.name != "$return")
            .map(|b| b.name.as_str())
            .collect();
        let mut declared = self.outputs.clone();
        outs.sort_unstable();
        declared.sort_unstable();
        if outs != declared {
            found.push(format!(
                "{at}: out bindings {outs:?}; the registry declares {declared:?}"
            ));
        }
        let returns_http = bindings
            .iter()
            .any(|b| b.direction == "out" && b.name == "$return" && b.kind == "http");
        if self.fails_in_envelope && !returns_http {
            found.push(format!(
                "{at}: an HTTP function needs an http out binding named $return"
            ));
        }
        found
    }
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.name)
            .field("aliases", &self.aliases)
            .field("trigger_type", &self.trigger_type)
            .field("binding", &self.binding)
            .field("outputs", &self.outputs)
            .finish_non_exhaustive()
    }
}

/// Every function of an app.
#[derive(Debug, Default)]
pub struct Registry {
    functions: Vec<Function>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds `function`; a name already taken is a programming error,
    /// caught by the app's registry test.
    pub fn with(mut self, function: Function) -> Registry {
        self.functions.push(function);
        self
    }

    /// The function `name` calls, by folder name or alias.
    pub fn find(&self, name: &str) -> Option<&Function> {
        self.functions
            .iter()
            .find(|function| function.answers_to(name))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Function> {
        self.functions.iter()
    }

    /// How the registry and the function folders of the app at `root`
    /// disagree, one line each; empty when every folder with a
    /// function.json is registered and every registered function has a
    /// folder whose trigger type, trigger name and `out` bindings match.
    /// Call it from a test: the host would otherwise find out at run time.
    pub fn mismatches(&self, root: &Path) -> Vec<String> {
        let mut found = Vec::new();
        let folders = match std::fs::read_dir(root) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.join("function.json").is_file())
                .filter_map(|path| Some(path.file_name()?.to_str()?.to_owned()))
                .collect::<Vec<_>>(),
            Err(error) => return vec![format!("{}: {error}", root.display())],
        };
        for folder in &folders {
            if !self
                .functions
                .iter()
                .any(|function| function.name == folder)
            {
                found.push(format!(
                    "{folder}/function.json: no function of that name is registered"
                ));
            }
        }
        for function in &self.functions {
            found.extend(function.mismatches(root));
        }
        for name in self.clashes() {
            found.push(format!("{name}: more than one function answers to it"));
        }
        found
    }

    /// Names used twice: each should call one function only.
    pub fn clashes(&self) -> Vec<&'static str> {
        let mut seen: Vec<&'static str> = Vec::new();
        let mut clashes = Vec::new();
        for function in &self.functions {
            for name in std::iter::once(function.name).chain(function.aliases.iter().copied()) {
                if seen.contains(&name) {
                    clashes.push(name);
                }
                seen.push(name);
            }
        }
        clashes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn nothing<T>(_: T) -> Result<(), Error> {
        Ok(())
    }

    fn app(files: &[(&str, &str)]) -> std::path::PathBuf {
        let root = std::env::temp_dir().join(format!(
            "rusty-registry-{}-{}",
            std::process::id(),
            files.len()
        ));
        let _ = std::fs::remove_dir_all(&root);
        for (folder, json) in files {
            std::fs::create_dir_all(root.join(folder)).unwrap();
            std::fs::write(root.join(folder).join("function.json"), json).unwrap();
        }
        root
    }

    #[test]
    fn mismatches_are_found_in_both_directions() {
        let queue = r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"msg"},{"type":"queue","direction":"out","name":"areas"}]}"#;
        let http = r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"request"}]}"#;
        let root = app(&[("Q", queue), ("H", http), ("Stray", queue)]);
        let registry = Registry::new()
            .with(Function::queue("Q", "msg", nothing::<QueueMessage>).output("area"))
            .with(Function::http("H", "req", nothing::<HttpRequest>))
            .with(Function::timer("Gone", "timer", nothing::<TimerInfo>).alias("H"));
        let found = registry.mismatches(&root);
        let expected = [
            "Stray/function.json: no function of that name is registered",
            r#"Q/function.json: out bindings ["areas"]; the registry declares ["area"]"#,
            r#"H/function.json: the trigger is httpTrigger named "request"; the registry says httpTrigger named "req""#,
            "H/function.json: an HTTP function needs an http out binding named $return",
            "Gone/function.json: No such file or directory (os error 2)",
            "H: more than one function answers to it",
        ];
        assert_eq!(found, expected);
        let _ = std::fs::remove_dir_all(root);
    }
}
