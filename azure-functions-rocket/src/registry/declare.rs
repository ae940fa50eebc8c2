//! A registry line's bindings and their settings, each named once, and
//! the function.json they make (docs/functions.md, "Functions declared in
//! code").

use serde_json::Value;

use function_app::{AuthLevel, Binding, Direction, FunctionJson};

use super::{Followed, Function};

impl Function {
    /// An HTTP trigger's route template, after the host's route prefix
    /// (`api` by default): `"items/{id:int}"`. Without one, the route is
    /// the function's name.
    pub fn route(mut self, template: &str) -> Function {
        self.belongs("route", "httpTrigger");
        self.trigger.route = Some(template.to_owned());
        self
    }

    /// The HTTP methods the function answers, e.g. `["get", "post"]`;
    /// without them, every method.
    pub fn methods<M: Into<String>>(mut self, methods: impl IntoIterator<Item = M>) -> Function {
        self.belongs("methods", "httpTrigger");
        self.trigger.methods = Some(methods.into_iter().map(Into::into).collect());
        self
    }

    /// Who may call an HTTP function on Azure; the host's default is
    /// [`AuthLevel::Function`] (a function key).
    pub fn auth_level(mut self, level: AuthLevel) -> Function {
        self.belongs("authLevel", "httpTrigger");
        self.trigger.auth_level = Some(level.as_str().to_owned());
        self
    }

    /// A queue trigger's queue, or `%Setting%` for an app setting that
    /// holds it.
    pub fn queue_name(mut self, queue: &str) -> Function {
        self.belongs("queueName", "queueTrigger");
        self.trigger.queue_name = Some(queue.to_owned());
        self
    }

    /// The app setting that holds the trigger's storage connection
    /// (`AzureWebJobsStorage` when none is given).
    pub fn connection(mut self, setting: &str) -> Function {
        self.trigger = self.trigger.connection(setting);
        self
    }

    /// A timer trigger's schedule: six NCRONTAB fields
    /// (`"0 */5 * * * *"`), a TimeSpan (`"00:05:00"`), or `%Setting%`.
    pub fn schedule(mut self, schedule: &str) -> Function {
        self.belongs("schedule", "timerTrigger");
        self.trigger.schedule = Some(schedule.to_owned());
        self
    }

    /// Whether a timer also fires as soon as the host starts.
    pub fn run_on_startup(mut self, on: bool) -> Function {
        self.belongs("runOnStartup", "timerTrigger");
        self.trigger
            .extra
            .insert("runOnStartup".into(), Value::Bool(on));
        self
    }

    /// Whether the timer's schedule is kept in storage, so that a run
    /// missed while the app was down fires late (the host's default is
    /// true for schedules longer than a minute).
    pub fn use_monitor(mut self, on: bool) -> Function {
        self.belongs("useMonitor", "timerTrigger");
        self.trigger
            .extra
            .insert("useMonitor".into(), Value::Bool(on));
        self
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

    /// Notes a start-up error when the trigger is not of type `kind`, the
    /// one setting `key` belongs to. Not inlined: one copy for every
    /// setting method (the binary's size budget).
    #[inline(never)]
    fn belongs(&mut self, key: &str, kind: &str) {
        if !self.trigger.is_kind(kind) {
            self.misdeclared.push(format!(
                "{key} is a setting of a {kind}, not of a {}: give it with .setting if the binding takes it",
                self.trigger.kind
            ));
        }
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
    /// unknown `authLevel`, a `dataType` it does not know), a setting on a
    /// trigger it does not belong to, an output declared as an input.
    /// Routes and queue names are judged where the function.json is read:
    /// by `cargo azfunc check` and, for routes served in forwarding mode,
    /// at start-up.
    #[inline(never)]
    pub(crate) fn declaration_problems(&self) -> Vec<String> {
        let bindings: Vec<&Binding> = std::iter::once(&self.trigger).chain(&self.others).collect();
        self.misdeclared
            .iter()
            .cloned()
            .chain(function_app::binding_problems(&bindings))
            .map(|problem| format!("{} (registry): {problem}", self.name))
            .collect()
    }
}
