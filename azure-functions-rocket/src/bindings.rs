//! The app's function folders checked against its registry at start-up,
//! so that a renamed folder, trigger or output stops the handler with the
//! reason instead of failing each invocation later.

use function_app::{AppFolder, Binding, Direction, FunctionJson};

use crate::registry::{Function, Registry};

/// The values of `dataType` the host knows.
const DATA_TYPES: [&str; 3] = ["string", "binary", "stream"];

/// Triggers the host hands over as an object whatever `dataType` says:
/// there are no bytes for `"binary"` to carry.
const OBJECT_TRIGGERS: [&str; 2] = ["httpTrigger", "timerTrigger"];

impl Registry {
    /// The bindings whose names nothing gave, one line each: for an app
    /// served without its folder, whose function.json files cannot say.
    pub(crate) fn unnamed(&self) -> Vec<String> {
        self.iter()
            .flat_map(|function| {
                function.unnamed().into_iter().map(move |kind| {
                    let how = if kind == "durableClient" {
                        ".client_binding(\"client\")"
                    } else {
                        ".binding(\"<name>\")"
                    };
                    format!(
                        "{}: the name of its {kind} binding is not known without its function.json: serve the app from its folder (where host.json is), or give the name on its registry line with {how}",
                        function.name
                    )
                })
            })
            .collect()
    }

    /// How the registry and the function folders of the app at `root`
    /// disagree, one line each, naming the file and what to change; empty
    /// when they agree.
    pub(crate) fn mismatches(&self, app: &AppFolder) -> Vec<String> {
        let mut found = Vec::new();
        for (folder, _) in &app.functions {
            if self.iter().all(|function| function.name != folder) {
                found.push(format!(
                    "{folder}/function.json: no function named {folder:?} is registered: add it to the registry, or remove the folder"
                ));
            }
        }
        for function in self.iter() {
            found.extend(function.mismatches(app));
        }
        for name in self.clashes() {
            found.push(format!(
                "{name}: more than one function answers to this name: give each function its own name and aliases"
            ));
        }
        found
    }
}

impl Function {
    /// How the function's folder disagrees with this declaration.
    fn mismatches(&self, app: &AppFolder) -> Vec<String> {
        let at = format!("{}/function.json", self.name);
        let json = match app.function(self.name) {
            Some(Ok(json)) => json,
            Some(Err(error)) => return vec![format!("{at}: {error}")],
            None => {
                return vec![format!(
                    "{at}: missing: the registry declares {:?}, a {} function; create the folder {:?} with its function.json",
                    self.name, self.trigger_type, self.name
                )];
            }
        };
        let bindings = &json.bindings;
        let mut found = Vec::new();
        let triggers: Vec<&Binding> = bindings.iter().filter(|b| b.is_trigger()).collect();
        match triggers.as_slice() {
            [trigger] => found.extend(self.trigger_mismatch(&at, trigger)),
            _ => found.push(format!(
                "{at}: {} trigger bindings; a function has exactly one: an \"in\" binding of type {:?}{}",
                triggers.len(),
                self.trigger_type,
                self.binding
                    .as_deref()
                    .map(|name| format!(" named {name:?}"))
                    .unwrap_or_default()
            )),
        }
        found.extend(self.client_mismatch(&at, bindings));
        for binding in bindings.iter().filter(|b| b.is_output()) {
            if !self.outputs.contains(&binding.name.as_str()) {
                found.push(format!(
                    "{at}: the out binding {:?} is not declared, so nothing would be written to it: add .output({:?}) to the registry line, or remove the binding",
                    binding.name, binding.name
                ));
            }
        }
        for output in &self.outputs {
            if !bindings.iter().any(|b| b.is_output() && b.name == *output) {
                found.push(format!(
                    "{at}: no out binding named {output:?}, which the registry declares, so the host would drop it: add the binding, or rename it to match"
                ));
            }
        }
        let returns_http = bindings
            .iter()
            .any(|b| b.direction == Direction::Out && b.name == "$return" && b.kind == "http");
        if self.trigger_type == "httpTrigger" && !returns_http {
            found.push(format!(
                "{at}: an HTTP function answers through its return value: add {{\"type\": \"http\", \"direction\": \"out\", \"name\": \"$return\"}}"
            ));
        }
        for binding in bindings {
            found.extend(data_type_mismatch(&at, binding));
        }
        found.extend(self.mode_mismatch(&at, app, json));
        found
    }

    /// A function served by the app's own Rocket routes is reached only
    /// when the host forwards callers' requests to it.
    fn mode_mismatch(&self, at: &str, app: &AppFolder, json: &FunctionJson) -> Option<String> {
        if self.routes.is_empty() {
            return None;
        }
        if !app.host.mode.forwards() {
            Some(format!(
                "{at}: {:?} is served by its own Rocket routes, which the host calls only with \"enableForwardingHttpRequest\": true or \"enableProxyingHttpRequest\": true under \"customHandler\" in host.json; host.json has {}",
                self.name,
                app.host.mode.setting()
            ))
        } else if !json.takes_forwarded_requests() {
            Some(format!(
                "{at}: {:?} is served by its own Rocket routes, but the host forwards callers' requests only to a function with exactly one httpTrigger and one http out binding: remove the other bindings",
                self.name
            ))
        } else {
            None
        }
    }

    fn trigger_mismatch(&self, at: &str, trigger: &Binding) -> Option<String> {
        if trigger.kind != self.trigger_type {
            Some(format!(
                "{at}: the trigger is of type {:?}; the registry declares a {} function: change the binding's \"type\" to {:?}, or the registry line",
                trigger.kind, self.trigger_type, self.trigger_type
            ))
        } else if let Some(binding) = &self.binding
            && trigger.name != *binding
            && self.routes.is_empty()
        {
            Some(format!(
                "{at}: the trigger binding is named {:?}; the registry line names it {binding:?} (.binding): set its \"name\" to {binding:?}, or change the registry line",
                trigger.name
            ))
        } else {
            None
        }
    }

    /// A function that takes a Durable client needs exactly one
    /// `durableClient` input binding, named as the line names it if it does.
    fn client_mismatch(&self, at: &str, bindings: &[Binding]) -> Option<String> {
        if !self.takes_client {
            return None;
        }
        let clients: Vec<&Binding> = bindings
            .iter()
            .filter(|b| b.direction == Direction::In && b.kind == "durableClient")
            .collect();
        match (clients.as_slice(), &self.client_binding) {
            ([client], Some(name)) if client.name != *name => Some(format!(
                "{at}: the durableClient binding is named {:?}; the registry line names it {name:?} (.client_binding): set its \"name\" to {name:?}, or change the registry line",
                client.name
            )),
            ([_], _) => None,
            (found, _) => Some(format!(
                "{at}: {} durableClient input bindings; {:?} takes a Durable client from exactly one: add {{\"type\": \"durableClient\", \"direction\": \"in\", \"name\": \"client\"}}",
                found.len(),
                self.name
            )),
        }
    }
}

/// A `dataType` the host does not know, or `binary` on a trigger that
/// has no bytes to carry. Binary queue and other triggers arrive as
/// bytes; binary outputs get text and UTF-8 bytes as they are.
fn data_type_mismatch(at: &str, binding: &Binding) -> Option<String> {
    let data_type = binding.data_type.as_deref()?;
    let name = &binding.name;
    if !DATA_TYPES.contains(&data_type) {
        return Some(format!(
            "{at}: binding {name:?} has \"dataType\": {data_type:?}; the host knows \"string\", \"binary\" and \"stream\""
        ));
    }
    (data_type == "binary" && binding.is_trigger() && OBJECT_TRIGGERS.contains(&binding.kind.as_str()))
        .then(|| {
            format!(
                "{at}: trigger {name:?} has \"dataType\": \"binary\", but the host sends a {} as an object, with no bytes to carry: remove \"dataType\"",
                binding.kind
            )
        })
}

#[cfg(test)]
mod tests;
