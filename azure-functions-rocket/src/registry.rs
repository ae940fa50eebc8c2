//! The functions a handler serves, each declared once: its folder name,
//! the names direct callers may use, its trigger, its outputs, its code.

use std::future::Future;
use std::pin::Pin;

use function_app::Direction;

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

/// What a function reads an invocation by: its bindings' names, given on
/// its registry line or read from its function.json at start-up.
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

/// One function, as its registry line declares it: the name of its folder
/// (where its `function.json` is), its trigger binding's type, the `out`
/// bindings it writes, and its code. The names of its trigger and input
/// bindings come from its function.json at start-up, unless the line
/// gives them ([`Function::binding`]).
///
/// ```
/// use azure_functions_rocket::{Error, Function, Outputs, QueueMessage};
///
/// async fn copy(message: QueueMessage) -> Result<Outputs, Error> {
///     Ok(Outputs::new().text("copies", message.text))
/// }
///
/// // QueueCopy/function.json: a queueTrigger and a queue out binding
/// // named "copies".
/// let function = Function::queue("QueueCopy", copy).output("copies");
/// assert_eq!(function.name(), "QueueCopy");
/// assert_eq!(function.trigger_type(), "queueTrigger");
/// ```
pub struct Function {
    /// The function's folder: the host POSTs to `/{name}`.
    pub(crate) name: &'static str,
    /// Other names direct callers may use, e.g. the route.
    pub(crate) aliases: Vec<&'static str>,
    /// The trigger binding's `type` in function.json.
    pub(crate) trigger_type: &'static str,
    /// The trigger binding's `name` in function.json, once known.
    pub(crate) binding: Option<String>,
    /// Whether it takes a `durableClient` input binding.
    pub(crate) takes_client: bool,
    /// That binding's `name` in function.json, once known.
    pub(crate) client_binding: Option<String>,
    /// The `out` bindings it writes, other than `$return`.
    pub(crate) outputs: Vec<&'static str>,
    /// Its trigger is declared `"dataType": "binary"` in function.json.
    pub(crate) binary_input: bool,
    /// Its `out` bindings declared `"dataType": "binary"`.
    pub(crate) binary_outputs: Vec<String>,
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
    /// // Ticks/function.json: an httpTrigger with "route": "ticks" and
    /// // "methods": ["get"], and an http $return.
    /// #[get("/api/ticks")]
    /// fn ticks() -> EventStream![] {
    ///     EventStream! {
    ///         for n in 1..=3 {
    ///             yield Event::data(n.to_string());
    ///         }
    ///     }
    /// }
    ///
    /// let registry = Registry::new().with(Function::routes("Ticks", routes![ticks]));
    /// assert_eq!(registry.find("Ticks").unwrap().trigger_type(), "httpTrigger");
    /// ```
    pub fn routes(name: &'static str, routes: Vec<rocket::Route>) -> Function {
        let start = move |_: Arrival<'_>, _: &Bound<'_>| -> Result<Running, Error> {
            Err(Error::NotFound(format!(
                "{name} is served by its own Rocket routes, at its public path"
            )))
        };
        Function {
            name,
            aliases: Vec::new(),
            trigger_type: "httpTrigger",
            binding: None,
            takes_client: false,
            client_binding: None,
            outputs: Vec::new(),
            binary_input: false,
            binary_outputs: Vec::new(),
            fails_in_envelope: true,
            routes,
            start: Box::new(start),
        }
    }

    /// A function whose `start` reads its own input: every trigger kind
    /// builds on this.
    pub(crate) fn custom(
        name: &'static str,
        trigger_type: &'static str,
        fails_in_envelope: bool,
        start: Box<Start>,
    ) -> Function {
        Function {
            name,
            aliases: Vec::new(),
            trigger_type,
            binding: None,
            takes_client: false,
            client_binding: None,
            outputs: Vec::new(),
            binary_input: false,
            binary_outputs: Vec::new(),
            fails_in_envelope,
            routes: Vec::new(),
            start,
        }
    }

    /// Another name direct callers may use.
    pub fn alias(mut self, name: &'static str) -> Function {
        self.aliases.push(name);
        self
    }

    /// Names its trigger binding, instead of reading the name from its
    /// function.json: for an app served without its folder.
    pub fn binding(mut self, name: &'static str) -> Function {
        self.binding = Some(name.to_owned());
        self
    }

    /// Names its `durableClient` input binding, instead of reading the
    /// name from its function.json ([`Function::http_with_client`]).
    pub fn client_binding(mut self, name: &'static str) -> Function {
        self.client_binding = Some(name.to_owned());
        self
    }

    /// Declares an `out` binding the function writes.
    pub fn output(mut self, binding: &'static str) -> Function {
        self.outputs.push(binding);
        self
    }

    /// The function's name: its folder's, which the host calls it by.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its trigger binding's `type` in function.json, e.g. `httpTrigger`.
    pub fn trigger_type(&self) -> &'static str {
        self.trigger_type
    }

    /// Reads the input from `arrival` and starts the function on it.
    pub(crate) fn start(&self, arrival: Arrival<'_>) -> Result<Running, Error> {
        let bound = Bound {
            trigger: self.binding.as_deref().unwrap_or_default(),
            client: self.client_binding.as_deref().unwrap_or_default(),
            binary: self.binary_input,
        };
        // Only the host's envelope is read by binding name.
        if matches!(arrival, Arrival::Host(_)) && !self.unnamed().is_empty() {
            return Err(Error::Internal(format!(
                "the binding names of {} are not known, so the host envelope cannot be read: serve the app from its folder, or give them on its registry line (.binding)",
                self.name
            )));
        }
        (self.start)(arrival, &bound)
    }

    /// The bindings whose names are not known yet: neither the registry
    /// line nor a function.json gave them.
    pub(crate) fn unnamed(&self) -> Vec<&'static str> {
        let mut unnamed = Vec::new();
        if self.binding.is_none() && self.routes.is_empty() {
            unnamed.push(self.trigger_type);
        }
        if self.takes_client && self.client_binding.is_none() {
            unnamed.push("durableClient");
        }
        unnamed
    }

    /// Whether `name` calls this function (exact case, as the host sends).
    pub(crate) fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
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

    /// Takes from the app folder the names of the bindings each function's
    /// registry line does not give, and the `dataType` of its bindings:
    /// binary triggers and outputs are read and written as the host
    /// carries them.
    pub(crate) fn follow(&mut self, app: &function_app::AppFolder) {
        for function in &mut self.functions {
            let Some(Ok(json)) = app.function(function.name) else {
                continue;
            };
            if function.binding.is_none()
                && let Some(trigger) = json.trigger()
            {
                function.binding = Some(trigger.name.clone());
            }
            let mut clients = json
                .bindings
                .iter()
                .filter(|b| b.direction == Direction::In && b.kind == "durableClient");
            if function.takes_client
                && function.client_binding.is_none()
                && let (Some(client), None) = (clients.next(), clients.next())
            {
                function.client_binding = Some(client.name.clone());
            }
            function.binary_input = json.trigger().is_some_and(|t| t.is_binary());
            function.binary_outputs = json
                .bindings
                .iter()
                .filter(|b| b.is_output() && b.is_binary())
                .map(|b| b.name.clone())
                .collect();
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
