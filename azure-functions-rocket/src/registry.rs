//! The functions a handler serves, each declared once: its folder name,
//! the names direct callers may use, its trigger, its other bindings, its
//! code. The builder methods that declare bindings are in `declare`.

mod declare;

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use function_app::{Binding, Direction, FunctionJson};

use crate::envelope::Envelope;
use crate::error::Error;
use crate::http::HttpRequest;
use crate::outputs::{IntoReply, Reply, Sealed};
use crate::trigger::{DirectCall, QueueMessage, TimerInfo, Trigger, TriggerInput};

/// How an invocation reached the handler.
pub(crate) enum Arrival<'a> {
    /// In the Functions host's envelope.
    Host(&'a Envelope<'a>),
    /// Sent to the handler by hand.
    Direct(DirectCall<'a>),
    /// A caller's request the host forwarded as it came (forwarding and
    /// proxying modes), already read.
    Forwarded(HttpRequest),
}

/// A function's work for one invocation, its input already read.
pub(crate) type Running = Pin<Box<dyn Future<Output = Result<Reply, Error>> + Send>>;

/// What a function reads an invocation by: its bindings' names and
/// `dataType`, as the host has them (see [`Function::follow`]).
pub(crate) struct Bound<'a> {
    /// The trigger binding's name.
    pub(crate) trigger: &'a str,
    /// The `durableClient` input binding's name, for a function that
    /// takes a client; empty for the others.
    pub(crate) client: &'a str,
    /// Its trigger is declared `"dataType": "binary"`.
    pub(crate) binary: bool,
}

/// Starts the function on an arrival.
pub(crate) type Start = dyn Fn(Arrival<'_>, &Bound<'_>) -> Result<Running, Error> + Send + Sync;

/// What a hand-kept function.json says where the host reads it and not
/// the registry line: the names the line leaves to their defaults, and
/// `dataType`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Followed {
    pub(crate) trigger: Option<String>,
    pub(crate) client: Option<String>,
    pub(crate) binary_input: bool,
    pub(crate) binary_outputs: Vec<String>,
}

/// One function, declared once on its registry line: its name (the
/// folder the host knows it by), its trigger with its settings, the other
/// bindings it reads or writes, and its code. The line is all the host
/// needs: [`Function::function_json`] is the function.json it reads, which
/// `cargo azfunc` writes from it, and the native worker answers the
/// host's metadata request with. Bindings get their usual names unless
/// the line gives others ([`Function::binding`]).
///
/// ```
/// use azure_functions_rocket::{Binding, Error, Function, Outputs, QueueMessage};
///
/// async fn copy(message: QueueMessage) -> Result<Outputs, Error> {
///     Ok(Outputs::new().text("copies", message.text))
/// }
///
/// let function = Function::queue("QueueCopy", copy)
///     .queue_name("originals")
///     .output(Binding::queue("copies", "copies"));
/// assert_eq!(function.name(), "QueueCopy");
/// assert_eq!(function.trigger_type(), "queueTrigger");
/// let json = function.function_json();
/// assert_eq!(json.bindings[0].name, "message");
/// assert_eq!(json.bindings[0].queue_name.as_deref(), Some("originals"));
/// ```
pub struct Function {
    /// The function's folder: the host POSTs to `/{name}`.
    pub(crate) name: &'static str,
    /// Other names direct callers may use.
    pub(crate) aliases: Vec<&'static str>,
    /// Its trigger binding, as declared.
    pub(crate) trigger: Binding,
    /// Its other bindings, as declared: inputs, outputs, an HTTP
    /// function's `$return`.
    pub(crate) others: Vec<Binding>,
    /// The line names the trigger binding ([`Function::binding`]).
    pub(crate) names_trigger: bool,
    /// The line names the durableClient binding.
    pub(crate) names_client: bool,
    /// What its hand-kept function.json says, if it has one.
    pub(crate) followed: Option<Followed>,
    /// Mistakes on the line itself, reported at start-up.
    pub(crate) misdeclared: Vec<String>,
    /// Failures travel inside a 200 envelope (HTTP) or fail the invocation.
    pub(crate) fails_in_envelope: bool,
    /// The app's own Rocket routes that serve this HTTP function in
    /// forwarding and proxying modes, instead of `start`.
    pub(crate) routes: Vec<rocket::Route>,
    start: Box<Start>,
}

impl Function {
    /// An HTTP-triggered function: `handler(HttpRequest)`.
    pub fn http<F, Fut, R>(name: &'static str, handler: F) -> Function
    where
        F: Fn(HttpRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoReply,
    {
        Function::of::<HttpRequest, _, _, _>(name, "httpTrigger", handler)
    }

    /// A timer-triggered function: `handler(TimerInfo)`.
    pub fn timer<F, Fut, R>(name: &'static str, handler: F) -> Function
    where
        F: Fn(TimerInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoReply,
    {
        Function::of::<TimerInfo, _, _, _>(name, "timerTrigger", handler)
    }

    /// A storage-queue-triggered function: `handler(QueueMessage)`.
    pub fn queue<F, Fut, R>(name: &'static str, handler: F) -> Function
    where
        F: Fn(QueueMessage) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoReply,
    {
        Function::of::<QueueMessage, _, _, _>(name, "queueTrigger", handler)
    }

    /// A function on any other trigger (`blobTrigger`, `eventHubTrigger`,
    /// ...): `handler(TriggerInput)` gets the binding's raw JSON.
    pub fn trigger<F, Fut, R>(
        name: &'static str,
        trigger_type: &'static str,
        handler: F,
    ) -> Function
    where
        F: Fn(TriggerInput) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoReply,
    {
        Function::of::<TriggerInput, _, _, _>(name, trigger_type, handler)
    }

    fn of<I, F, Fut, R>(name: &'static str, trigger_type: &'static str, handler: F) -> Function
    where
        I: Trigger,
        F: Fn(I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoReply,
    {
        let start = move |arrival: Arrival<'_>, bound: &Bound<'_>| -> Result<Running, Error> {
            let input = match arrival {
                Arrival::Host(envelope) if bound.binary => I::from_binary(envelope, bound.trigger)?,
                Arrival::Host(envelope) => I::from_host(envelope, bound.trigger)?,
                Arrival::Direct(call) => I::from_direct(call)?,
                Arrival::Forwarded(request) => I::from_request(request)?,
            };
            let running = handler(input);
            Ok(Box::pin(async move { running.await.map(Sealed::into_reply) }) as Running)
        };
        Function::custom(name, trigger_type, I::FAILS_IN_ENVELOPE, Box::new(start))
    }

    /// An HTTP function served by the app's own Rocket routes, for when
    /// host.json has the host forward callers' requests
    /// (`"enableForwardingHttpRequest": true` or
    /// `"enableProxyingHttpRequest": true` under `customHandler`): the
    /// routes are mounted next to the registry's, with their own paths
    /// (the route prefix included), and answer with anything Rocket can
    /// send, streams included. Without either setting the host would send
    /// the function envelopes, so the handler refuses to start.
    ///
    /// ```
    /// use azure_functions_rocket::rocket::response::stream::{Event, EventStream};
    /// use azure_functions_rocket::rocket::{get, routes};
    /// use azure_functions_rocket::{Function, Registry};
    ///
    /// #[get("/api/ticks")]
    /// fn ticks() -> EventStream![] {
    ///     EventStream! {
    ///         for n in 1..=3 {
    ///             yield Event::data(n.to_string());
    ///         }
    ///     }
    /// }
    ///
    /// // Its route and methods on the line: the host's function.json.
    /// let ticks = Function::routes("Ticks", routes![ticks]).route("ticks").methods(["get"]);
    /// let registry = Registry::new().with(ticks);
    /// assert_eq!(registry.find("Ticks").unwrap().trigger_type(), "httpTrigger");
    /// ```
    pub fn routes(name: &'static str, routes: Vec<rocket::Route>) -> Function {
        let start = move |_: Arrival<'_>, _: &Bound<'_>| -> Result<Running, Error> {
            Err(Error::NotFound(format!(
                "{name} is served by its own Rocket routes, at its public path"
            )))
        };
        let mut function = Function::custom(name, "httpTrigger", true, Box::new(start));
        function.routes = routes;
        function
    }

    /// A function whose `start` reads its own input: every trigger kind
    /// builds on this.
    pub(crate) fn custom(
        name: &'static str,
        trigger_type: &'static str,
        fails_in_envelope: bool,
        start: Box<Start>,
    ) -> Function {
        let mut others = Vec::new();
        if trigger_type.eq_ignore_ascii_case("httpTrigger") {
            // The caller's response.
            others.push(Binding::http("$return"));
        }
        Function {
            name,
            aliases: Vec::new(),
            trigger: Binding::new(trigger_type, Direction::In, default_name(trigger_type)),
            others,
            names_trigger: false,
            names_client: false,
            followed: None,
            misdeclared: Vec::new(),
            fails_in_envelope,
            routes: Vec::new(),
            start,
        }
    }

    /// Another name direct callers may use. A function whose route is
    /// one plain segment (`"route": "RustFunction"`) answers to it
    /// without one.
    pub fn alias(mut self, name: &'static str) -> Function {
        self.aliases.push(name);
        self
    }

    /// The function's name: its folder's, which the host calls it by.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its trigger binding's `type` in function.json, e.g. `httpTrigger`.
    pub fn trigger_type(&self) -> &str {
        &self.trigger.kind
    }

    /// Reads the input from `arrival` and starts the function on it.
    pub(crate) fn start(&self, arrival: Arrival<'_>) -> Result<Running, Error> {
        let followed = self.followed.as_ref();
        let bound = Bound {
            trigger: followed
                .and_then(|f| f.trigger.as_deref())
                .unwrap_or(&self.trigger.name),
            client: followed
                .and_then(|f| f.client.as_deref())
                .or_else(|| self.client().map(|client| client.name.as_str()))
                .unwrap_or_default(),
            binary: followed.map_or(self.trigger.is_binary(), |f| f.binary_input),
        };
        (self.start)(arrival, &bound)
    }

    /// Its `durableClient` input binding, if it takes one.
    pub(crate) fn client(&self) -> Option<&Binding> {
        self.others
            .iter()
            .find(|b| b.direction == Direction::In && b.is_kind("durableClient"))
    }

    /// Whether the function may write the output `name`: an out binding
    /// its line declares, other than `$return`.
    pub(crate) fn writes(&self, name: &str) -> bool {
        self.others.iter().any(|b| b.is_output() && b.name == name)
    }

    /// The outputs declared `"dataType": "binary"` where the host reads
    /// them: in the hand-kept function.json if there is one.
    pub(crate) fn binary_outputs(&self) -> Cow<'_, [String]> {
        match &self.followed {
            Some(followed) => Cow::Borrowed(&followed.binary_outputs),
            None => Cow::Owned(
                self.others
                    .iter()
                    .filter(|b| b.is_output() && b.is_binary())
                    .map(|b| b.name.clone())
                    .collect(),
            ),
        }
    }

    /// Whether `name` calls this function (exact case, as the host sends):
    /// its name, an alias, or a route of one plain segment.
    pub(crate) fn answers_to(&self, name: &str) -> bool {
        self.name == name
            || self.aliases.contains(&name)
            || self.trigger.route.as_deref().is_some_and(|route| {
                route == name && !route.contains(['/', '{', '}', '?', '*', '~'])
            })
    }
}

/// The name a binding of type `kind` gets unless its line names it: the
/// names Microsoft's templates and this repository's examples use.
fn default_name(kind: &str) -> String {
    let known = [
        ("httpTrigger", "req"),
        ("queueTrigger", "message"),
        ("timerTrigger", "timer"),
        ("orchestrationTrigger", "context"),
        ("entityTrigger", "context"),
        ("activityTrigger", "input"),
    ];
    if let Some((_, name)) = known.iter().find(|(k, _)| k.eq_ignore_ascii_case(kind)) {
        return (*name).to_owned();
    }
    // `blobTrigger` -> `blob`: the trigger's value, named for its kind.
    let stem = kind.strip_suffix("Trigger").unwrap_or(kind);
    if stem.is_empty() {
        "trigger".to_owned()
    } else {
        stem.to_owned()
    }
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.name)
            .field("aliases", &self.aliases)
            .field("trigger", &self.trigger)
            .field("others", &self.others)
            .finish_non_exhaustive()
    }
}

/// Every function of an app, each declared once; [`crate::run`] serves
/// them.
///
/// ```
/// use azure_functions_rocket::{Error, Function, HttpRequest, HttpResponse, Registry, TimerInfo};
///
/// async fn hello(_: HttpRequest) -> Result<HttpResponse, Error> {
///     Ok(HttpResponse::new(200, "hello"))
/// }
/// async fn tick(_: TimerInfo) -> Result<(), Error> {
///     Ok(())
/// }
///
/// let registry = Registry::new()
///     .with(Function::http("Hello", hello))
///     .with(Function::timer("Tick", tick));
/// assert_eq!(registry.iter().map(Function::name).collect::<Vec<_>>(), ["Hello", "Tick"]);
/// ```
#[derive(Debug, Default)]
pub struct Registry {
    functions: Vec<Function>,
}

impl Registry {
    /// A registry with no function yet.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds `function`. A name that another function already answers to
    /// stops the handler at start-up, with the name.
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

    /// The functions, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &Function> {
        self.functions.iter()
    }

    /// The functions, to name their bindings once they are known.
    #[cfg(feature = "native")]
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Function> {
        self.functions.iter_mut()
    }

    /// The function.json of each function, as the host would read it,
    /// in the order they were added.
    pub fn function_jsons(&self) -> impl Iterator<Item = (&'static str, FunctionJson)> + '_ {
        self.functions
            .iter()
            .map(|function| (function.name, function.function_json()))
    }

    /// Takes from the app folder what the host reads there rather than in
    /// the registry: the names of the bindings each line leaves to their
    /// defaults, and the `dataType` of its bindings, so that binary
    /// triggers and outputs are read and written as the host carries them.
    /// A function without a function.json keeps its declaration.
    pub(crate) fn follow(&mut self, app: &function_app::AppFolder) {
        for function in &mut self.functions {
            function.followed = match app.function(function.name) {
                Some(Ok(json)) => Some(function.follow(json)),
                _ => None,
            };
        }
    }

    /// Names used twice: each should call one function only.
    pub(crate) fn clashes(&self) -> Vec<&'static str> {
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
