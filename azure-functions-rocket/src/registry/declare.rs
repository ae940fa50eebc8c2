//! A registry line's bindings and their settings, each named once, and
//! the function.json they make (docs/functions.md, "Functions declared in
//! code").

use serde_json::Value;

use function_app::{AuthLevel, Binding, Direction, FunctionJson};

use super::{Followed, Function};

/// The trigger settings with a method of their own, each by the binding
/// type it belongs to.
const OWN_SETTINGS: [(&str, &str); 7] = [
    ("route", "httpTrigger"),
    ("methods", "httpTrigger"),
    ("authLevel", "httpTrigger"),
    ("queueName", "queueTrigger"),
    ("schedule", "timerTrigger"),
    ("runOnStartup", "timerTrigger"),
    ("useMonitor", "timerTrigger"),
];

impl Function {
    /// An HTTP trigger's route template, after the host's route prefix
    /// (`api` by default): `"items/{id:int}"`. Without one, the route is
    /// the function's name.
    pub fn route(self, template: &str) -> Function {
        self.own_setting("route", template)
    }

    /// The HTTP methods the function answers, e.g. `["get", "post"]`;
    /// without them, every method.
    pub fn methods<M: Into<String>>(self, methods: impl IntoIterator<Item = M>) -> Function {
        let methods: Vec<String> = methods.into_iter().map(Into::into).collect();
        self.own_setting("methods", methods)
    }

    /// Who may call an HTTP function on Azure; the host's default is
    /// [`AuthLevel::Function`] (a function key).
    pub fn auth_level(self, level: AuthLevel) -> Function {
        self.own_setting("authLevel", level.as_str())
    }

    /// A queue trigger's queue, or `%Setting%` for an app setting that
    /// holds it.
    pub fn queue_name(self, queue: &str) -> Function {
        self.own_setting("queueName", queue)
    }

    /// The app setting that holds the trigger's storage connection
    /// (`AzureWebJobsStorage` when none is given).
    pub fn connection(mut self, setting: &str) -> Function {
        self.trigger = self.trigger.connection(setting);
        self
    }

    /// A timer trigger's schedule: six NCRONTAB fields
    /// (`"0 */5 * * * *"`), a TimeSpan (`"00:05:00"`), or `%Setting%`.
    pub fn schedule(self, schedule: &str) -> Function {
        self.own_setting("schedule", schedule)
    }

    /// Whether a timer also fires as soon as the host starts.
    pub fn run_on_startup(self, on: bool) -> Function {
        self.own_setting("runOnStartup", on)
    }

    /// Whether the timer's schedule is kept in storage, so that a run
    /// missed while the app was down fires late (the host's default is
    /// true for schedules longer than a minute).
    pub fn use_monitor(self, on: bool) -> Function {
        self.own_setting("useMonitor", on)
    }

    /// The trigger's `"dataType": "binary"`: its input arrives as bytes,
    /// never text.
    pub fn binary(mut self) -> Function {
        self.trigger = self.trigger.binary();
        self
    }

    /// Any other setting of the trigger, as function.json holds it, e.g.
    /// `.setting("path", "uploads/{name}")` for a `blobTrigger`.
    pub fn setting(mut self, key: &str, value: impl Into<Value>) -> Function {
        self.trigger = self.trigger.setting(key, value);
        self
    }

    /// Names the trigger binding, instead of its usual name (`req`,
    /// `message`, `timer`, `context`, `input`): the name a hand-kept
    /// function.json must then have too.
    pub fn binding(mut self, name: &str) -> Function {
        self.trigger.name = name.to_owned();
        self.names_trigger = true;
        self
    }

    /// Names the `durableClient` input binding of a function that takes a
    /// client ([`Function::http_with_client`]), instead of `client`.
    pub fn client_binding(mut self, name: &str) -> Function {
        let Some(client) = self
            .others
            .iter_mut()
            .find(|b| b.direction == Direction::In && b.is_kind("durableClient"))
        else {
            self.misdeclared.push(format!(
                ".client_binding({name:?}): the function takes no Durable client"
            ));
            return self;
        };
        client.name = name.to_owned();
        self.names_client = true;
        self
    }

    /// Declares an output binding the function writes: its values go in
    /// [`crate::Outputs`] under the binding's name.
    ///
    /// ```
    /// use azure_functions_rocket::{Binding, Function, HttpRequest, HttpResponse, Outputs};
    ///
    /// async fn log(_: HttpRequest) -> azure_functions_rocket::Result<(HttpResponse, Outputs)> {
    ///     Ok((HttpResponse::new(200, "ok"), Outputs::new().text("audit", "called")))
    /// }
    ///
    /// let function = Function::http("Log", log)
    ///     .output(Binding::queue("audit", "audit").connection("AzureWebJobsStorage"))
    ///     .output(Binding::blob("copy", "copies/{rand-guid}.txt"));
    /// assert_eq!(function.function_json().bindings.len(), 4);
    /// ```
    pub fn output(mut self, binding: Binding) -> Function {
        if binding.direction == Direction::In {
            self.misdeclared.push(format!(
                ".output: binding {:?} has \"direction\": \"in\": declare it with .input",
                binding.name
            ));
        }
        self.others.push(binding);
        self
    }

    /// Declares another input binding, e.g.
    /// `Binding::new("blob", Direction::In, "original").setting("path", ...)`.
    pub fn input(mut self, binding: Binding) -> Function {
        if binding.direction != Direction::In {
            self.misdeclared.push(format!(
                ".input: binding {:?} has \"direction\": {:?}: declare it with .output",
                binding.name,
                binding.direction.as_str()
            ));
        }
        self.others.push(binding);
        self
    }

    /// The function.json the host reads for this function: its trigger,
    /// then its other bindings, in the order the line declares them.
    pub fn function_json(&self) -> FunctionJson {
        FunctionJson {
            bindings: std::iter::once(&self.trigger)
                .chain(&self.others)
                .cloned()
                .collect(),
            disabled: false,
        }
    }

    /// `key` on the trigger, which should be of the type the setting
    /// belongs to; on another, a start-up error says so.
    fn own_setting(mut self, key: &str, value: impl Into<Value>) -> Function {
        if let Some((_, kind)) = OWN_SETTINGS.iter().find(|(k, _)| *k == key)
            && !self.trigger.is_kind(kind)
        {
            self.misdeclared.push(format!(
                "{key} is a setting of a {kind}, not of a {}: give it with .setting if the binding takes it",
                self.trigger.kind
            ));
        }
        self.trigger = self.trigger.setting(key, value);
        self
    }

    /// What a hand-kept `json` says that the host reads there: the names
    /// this line leaves to their defaults, and `dataType`.
    pub(crate) fn follow(&self, json: &FunctionJson) -> Followed {
        let trigger = json
            .trigger()
            .filter(|_| !self.names_trigger)
            .map(|trigger| trigger.name.clone());
        let mut clients = json
            .bindings
            .iter()
            .filter(|b| b.direction == Direction::In && b.is_kind("durableClient"));
        let client = match (clients.next(), clients.next()) {
            (Some(client), None) if !self.names_client && self.client().is_some() => {
                Some(client.name.clone())
            }
            _ => None,
        };
        Followed {
            trigger,
            client,
            binary_input: json.trigger().is_some_and(Binding::is_binary),
            binary_outputs: json
                .bindings
                .iter()
                .filter(|b| b.is_output() && b.is_binary())
                .map(|b| b.name.clone())
                .collect(),
        }
    }

    /// What is wrong with the line itself, one line each: what the host
    /// would refuse in its function.json (two bindings of one name, an
    /// unknown `authLevel`, ...), a route under `route_prefix` or a queue
    /// name the host refuses, a setting on a trigger it does not belong
    /// to. `%Setting%` queue names are judged through `setting`, when it
    /// has them.
    pub(crate) fn declaration_problems(
        &self,
        route_prefix: &str,
        setting: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<String> {
        let at = format!("{} (registry)", self.name);
        let json = self.function_json();
        let mut found: Vec<String> = self.misdeclared.clone();
        found.extend(json.problems());
        if self.trigger.is_kind("httpTrigger") {
            let route = self
                .trigger
                .route
                .as_deref()
                .filter(|route| !route.trim().is_empty())
                .unwrap_or(self.name);
            found.extend(function_app::RouteTemplate::problem(route_prefix, route));
        }
        for binding in &json.bindings {
            let queue = binding
                .queue_name
                .as_deref()
                .filter(|_| binding.is_kind("queue") || binding.is_kind("queueTrigger"));
            if let Some(queue) = queue
                && let Ok(resolved) = function_app::resolve_setting(queue, setting)
                && let Some(problem) = function_app::queue_name_problem(&resolved)
            {
                found.push(format!("binding {:?}: {problem}", binding.name));
            }
        }
        found
            .into_iter()
            .map(|problem| format!("{at}: {problem}"))
            .collect()
    }
}
