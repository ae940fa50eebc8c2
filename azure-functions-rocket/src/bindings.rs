//! The app's function folders checked against its registry at start-up,
//! so that a renamed folder, trigger or output stops the handler with the
//! reason instead of failing each invocation later.

use function_app::{AppFolder, Binding, Direction, FunctionJson};

use crate::registry::{Function, Registry};

impl Registry {
    /// What is wrong with the registry lines themselves, one line each
    /// ([`Function::declaration_problems`]).
    pub(crate) fn declaration_problems(&self) -> Vec<String> {
        self.iter()
            .flat_map(Function::declaration_problems)
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
                    "{at}: missing: the registry declares {:?}, a {} function; create the folder {:?} with its function.json (`cargo azfunc start` writes it from the registry)",
                    self.name, self.trigger.kind, self.name
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
                self.trigger.kind,
                Some(&self.trigger.name)
                    .filter(|_| self.names_trigger)
                    .map(|name| format!(" named {name:?}"))
                    .unwrap_or_default()
            )),
        }
        found.extend(self.client_mismatch(&at, bindings));
        for binding in bindings.iter().filter(|b| b.is_output()) {
            if !self.writes(&binding.name) {
                found.push(format!(
                    "{at}: the out binding {:?} is not declared, so nothing would be written to it: declare it on the registry line with .output(Binding::...), or remove the binding",
                    binding.name
                ));
            }
        }
        let declared = self.others.iter().filter(|b| b.is_output());
        for output in declared.map(|b| &b.name) {
            if !bindings.iter().any(|b| b.is_output() && b.name == *output) {
                found.push(format!(
                    "{at}: no out binding named {output:?}, which the registry declares, so the host would drop it: add the binding, or rename it to match"
                ));
            }
        }
        let returns_http = bindings
            .iter()
            .any(|b| b.direction == Direction::Out && b.name == "$return" && b.kind == "http");
        if self.trigger.is_kind("httpTrigger") && !returns_http {
            found.push(format!(
                "{at}: an HTTP function answers through its return value: add {{\"type\": \"http\", \"direction\": \"out\", \"name\": \"$return\"}}"
            ));
        }
        found.extend(
            json.problems()
                .into_iter()
                .map(|problem| format!("{at}: {problem}")),
        );
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
        let declared = &self.trigger.kind;
        if !trigger.is_kind(declared) {
            Some(format!(
                "{at}: the trigger is of type {:?}; the registry declares a {declared} function: change the binding's \"type\" to {declared:?}, or the registry line",
                trigger.kind
            ))
        } else if let Some(binding) = Some(&self.trigger.name).filter(|_| self.names_trigger)
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
        let declared = self.client()?;
        let clients: Vec<&Binding> = bindings
            .iter()
            .filter(|b| b.direction == Direction::In && b.kind == "durableClient")
            .collect();
        let named = Some(&declared.name).filter(|_| self.names_client);
        match (clients.as_slice(), named) {
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

#[cfg(test)]
mod tests;
