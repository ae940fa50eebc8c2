//! Orchestrator and activity functions as registry entries.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::client::DurableClient;
use super::entity::EntityContext;
use super::entity_batch::run_entity;
use super::errors::OrchestratorError;
use super::orchestration::OrchestrationContext;
use super::orchestrator_run::run_orchestrator;
use super::wire::{decode_entity_request, decode_request, encode_entity_result, encode_response};
use function_app::{Binding, Direction};

use crate::error::Error;
use crate::http::HttpRequest;
use crate::outputs::{IntoReply, Reply, Sealed};
use crate::registry::{Arrival, Bound, Function, Running};
use crate::trigger::Trigger;

impl Function {
    /// An orchestrator function (binding type `orchestrationTrigger`):
    /// `handler(context, input)` runs from the start on every step of the
    /// orchestration, replaying its history. Its input is its start's
    /// input as `I` (`Option<_>` when it may be absent).
    ///
    /// ```
    /// use azure_functions_rocket::Function;
    /// use azure_functions_rocket::durable::{OrchestrationContext, OrchestratorError};
    ///
    /// async fn hello(context: OrchestrationContext, name: Option<String>) -> Result<String, OrchestratorError> {
    ///     let name = name.unwrap_or_else(|| "Tokyo".to_owned());
    ///     Ok(context.call_activity("say_hello", &name).await?)
    /// }
    ///
    /// let function = Function::orchestrator("hello", hello);
    /// assert_eq!(function.trigger_type(), "orchestrationTrigger");
    /// ```
    pub fn orchestrator<I, O, F, Fut>(name: &'static str, handler: F) -> Function
    where
        I: DeserializeOwned + 'static,
        O: Serialize + 'static,
        F: Fn(OrchestrationContext, I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, OrchestratorError>> + 'static,
    {
        let handler = Arc::new(handler);
        let start = move |arrival: Arrival<'_>, bound: &Bound<'_>| -> Result<Running, Error> {
            let request = decode_request(&trigger_text(arrival, name, bound.trigger)?)?;
            let handler = handler.clone();
            Ok(Box::pin(async move {
                let response = run_orchestrator(&request, name, &*handler);
                Ok(Reply {
                    value: Some(Value::String(encode_response(&response))),
                    ..Reply::default()
                })
            }) as Running)
        };
        Function::custom(name, "orchestrationTrigger", false, Box::new(start))
    }

    /// An activity function (binding type `activityTrigger`):
    /// `handler(input)` gives its result, which the orchestrator receives
    /// as JSON. A failure fails the invocation, and the orchestrator's
    /// call.
    ///
    /// ```
    /// use azure_functions_rocket::{Error, Function};
    ///
    /// async fn square(n: i64) -> Result<i64, Error> {
    ///     Ok(n * n)
    /// }
    ///
    /// let function = Function::activity("square", square);
    /// assert_eq!(function.trigger_type(), "activityTrigger");
    /// ```
    pub fn activity<I, O, F, Fut>(name: &'static str, handler: F) -> Function
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + 'static,
        F: Fn(I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, Error>> + Send + 'static,
    {
        let start = move |arrival: Arrival<'_>, _: &Bound<'_>| -> Result<Running, Error> {
            let value: Value = match arrival {
                Arrival::Host(envelope) => envelope
                    .metadata()
                    .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
                    .and_then(|mut metadata| metadata.get_mut("data").map(Value::take))
                    .unwrap_or(Value::Null),
                Arrival::Direct(call) => serde_json::from_slice(call.body).unwrap_or_else(|_| {
                    Value::String(String::from_utf8_lossy(call.body).into_owned())
                }),
                Arrival::Forwarded(_) => return Err(not_forwarded(name)),
            };
            let input: I = activity_input(value)?;
            let running = handler(input);
            Ok(Box::pin(async move {
                let output = running.await?;
                let value = serde_json::to_value(&output).map_err(|error| {
                    Error::internal(format_args!("the activity's result is not JSON: {error}"))
                })?;
                Ok(Reply {
                    value: Some(value),
                    ..Reply::default()
                })
            }) as Running)
        };
        Function::custom(name, "activityTrigger", false, Box::new(start))
    }
}

impl Function {
    /// An entity function (binding type `entityTrigger`):
    /// `handler(context)` runs one operation on the entity, whose state is
    /// an `S`, and gives its result. An operation that fails (returns an
    /// error or panics) leaves the state as it was before it and fails
    /// only its caller's call.
    ///
    /// ```
    /// use azure_functions_rocket::{Error, Function};
    /// use azure_functions_rocket::durable::EntityContext;
    ///
    /// async fn counter(context: EntityContext<i64>) -> Result<Option<i64>, Error> {
    ///     match context.operation() {
    ///         "add" => {
    ///             let amount: i64 = context.input()?;
    ///             context.update(|value| *value += amount);
    ///         }
    ///         "get" => return Ok(Some(context.state().unwrap_or(0))),
    ///         other => return Err(Error::bad_request(format_args!("no operation {other}"))),
    ///     }
    ///     Ok(None)
    /// }
    ///
    /// let function = Function::entity("counter", counter);
    /// assert_eq!(function.trigger_type(), "entityTrigger");
    /// ```
    pub fn entity<S, O, F, Fut>(name: &'static str, handler: F) -> Function
    where
        S: Serialize + DeserializeOwned + Clone + Send + 'static,
        O: Serialize + 'static,
        F: Fn(EntityContext<S>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, Error>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let start = move |arrival: Arrival<'_>, bound: &Bound<'_>| -> Result<Running, Error> {
            let request = decode_entity_request(&trigger_text(arrival, name, bound.trigger)?)?;
            let handler = handler.clone();
            Ok(Box::pin(async move {
                let result = run_entity(&request, name, &*handler).await?;
                Ok(Reply {
                    value: Some(Value::String(encode_entity_result(&result))),
                    ..Reply::default()
                })
            }) as Running)
        };
        Function::custom(name, "entityTrigger", false, Box::new(start))
    }
}

impl Function {
    /// An HTTP function with a `durableClient` input binding:
    /// `handler(request, client)`, e.g. a starter that starts an
    /// orchestration and answers with its check-status response.
    ///
    /// ```
    /// use azure_functions_rocket::{Error, Function, HttpRequest, HttpResponse};
    /// use azure_functions_rocket::durable::DurableClient;
    ///
    /// async fn start(req: HttpRequest, client: DurableClient) -> Result<HttpResponse, Error> {
    ///     let name = req.param("name").unwrap_or_default().to_owned();
    ///     let input: Option<serde_json::Value> = req.json()?;
    ///     let id = client.start_new(&name, None, &input).await?;
    ///     Ok(client.check_status_response(&id))
    /// }
    ///
    /// let function = Function::http_with_client("HttpStart", start);
    /// assert_eq!(function.trigger_type(), "httpTrigger");
    /// ```
    pub fn http_with_client<F, Fut, R>(name: &'static str, handler: F) -> Function
    where
        F: Fn(HttpRequest, DurableClient) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoReply,
    {
        let start = move |arrival: Arrival<'_>, bound: &Bound<'_>| -> Result<Running, Error> {
            let Arrival::Host(envelope) = arrival else {
                return Err(Error::bad_request(format_args!(
                    "{name} needs the durableClient binding {}, which only the host supplies: call it through the host",
                    crate::text::quote(bound.client)
                )));
            };
            let request = <HttpRequest as Trigger>::from_host(envelope, bound.trigger)?;
            let raw = envelope.binding(bound.client).ok_or_else(|| {
                Error::bad_request(format_args!(
                    "invalid invocation: Data has no {}, the function's durableClient binding",
                    crate::text::quote(bound.client)
                ))
            })?;
            let client = DurableClient::from_binding(raw.get())?;
            let running = handler(request, client);
            Ok(Box::pin(async move { running.await.map(Sealed::into_reply) }) as Running)
        };
        Function::custom(name, "httpTrigger", true, Box::new(start)).input(Binding::new(
            "durableClient",
            Direction::In,
            "client",
        ))
    }
}

/// Durable triggers always come in the host's envelope.
/// The text a Durable trigger's binding holds: from the host's envelope,
/// or the body of a direct call. The host never forwards a request to a
/// Durable function.
fn trigger_text<'a>(
    arrival: Arrival<'a>,
    name: &str,
    binding: &str,
) -> Result<Cow<'a, str>, Error> {
    match arrival {
        Arrival::Host(envelope) => envelope
            .binding(binding)
            .map(|raw| Cow::Borrowed(raw.get()))
            .ok_or_else(|| {
                Error::bad_request(format_args!(
                    "invalid invocation: Data has no {}, the function's trigger binding",
                    crate::text::quote(binding)
                ))
            }),
        Arrival::Direct(call) => Ok(String::from_utf8_lossy(call.body)),
        Arrival::Forwarded(_) => Err(not_forwarded(name)),
    }
}

fn not_forwarded(name: &str) -> Error {
    Error::bad_request(format_args!(
        "{name} is a Durable function: the host sends it envelopes, never forwarded requests"
    ))
}

/// The activity's input from `Metadata.data`: JSON text inside as many
/// JSON strings as the host wrapped it in. The innermost reading that
/// fits `I` wins, so a string input whose text is itself JSON ("123")
/// still reads as that string.
fn activity_input<I: DeserializeOwned>(value: Value) -> Result<I, Error> {
    let mut layers = vec![value];
    while let Some(Value::String(text)) = layers.last() {
        match serde_json::from_str::<Value>(text) {
            Ok(inner) => layers.push(inner),
            Err(_) => break,
        }
    }
    let mut last_error = None;
    for layer in layers.into_iter().rev() {
        match serde_json::from_value::<I>(layer) {
            Ok(input) => return Ok(input),
            Err(error) => last_error = Some(error),
        }
    }
    Err(Error::bad_request(format_args!(
        "the activity's input is not of the expected type: {}",
        last_error
            .map(|error| error.to_string())
            .unwrap_or_default()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn activity_input_unwraps_the_hosts_string_layers() {
        assert_eq!(
            activity_input::<String>(json!("\"Tokyo\"")).unwrap(),
            "Tokyo"
        );
        assert_eq!(
            activity_input::<String>(json!("\"\\\"Tokyo\\\"\"")).unwrap(),
            "Tokyo"
        );
        assert_eq!(activity_input::<i64>(json!("3")).unwrap(), 3);
        assert_eq!(activity_input::<String>(json!("\"123\"")).unwrap(), "123");
        assert_eq!(
            activity_input::<Value>(json!({"a": 1})).unwrap(),
            json!({"a": 1})
        );
        let error = activity_input::<i64>(json!("\"x\"")).unwrap_err();
        assert_eq!(error.status(), 400);
    }
}
