//! Running an entity's batch (`entityTrigger`): the extension sends one
//! entity's state with a batch of operations; the function runs them in
//! order and answers with each one's result and the state afterwards. An
//! operation that fails leaves the state as it found it, and the next ones
//! still run (as the durabletask SDKs do).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::PoisonError;

use rocket::futures::FutureExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::entity::{EntityContext, EntityId};
use super::proto::{
    EntityBatchRequest, EntityBatchResult, OperationRequest, OperationResult,
    OperationResultFailure, OperationResultSuccess, OperationResultType, TaskFailureDetails,
};
use crate::error::Error;

/// Runs the batch's operations in order on entity function `name`. A
/// batch for another function's entity, or whose instance id is not an
/// entity's, is a 400 (it is not this function's to answer).
pub async fn run_entity<S, O, F, Fut>(
    request: &EntityBatchRequest,
    name: &str,
    handler: &F,
) -> Result<EntityBatchResult, Error>
where
    S: Serialize + DeserializeOwned + Clone,
    O: Serialize,
    F: Fn(EntityContext<S>) -> Fut,
    Fut: Future<Output = Result<O, Error>>,
{
    let id = EntityId::parse(&request.instance_id).ok_or_else(|| {
        Error::bad_request(format_args!(
            "the entity request's instance id {} is not @<entity name>@<key>",
            crate::text::quote(&request.instance_id)
        ))
    })?;
    if !id.name().eq_ignore_ascii_case(name) {
        return Err(Error::bad_request(format_args!(
            "the entity request is for {}, not an entity of {name}",
            crate::text::quote(&request.instance_id)
        )));
    }
    let stored = request.entity_state.clone().filter(|text| !text.is_empty());
    let mut state: Option<S> = match stored.as_deref().map(serde_json::from_str::<S>) {
        None => None,
        Some(Ok(state)) => Some(state),
        Some(Err(error)) => {
            // Nothing can run on a state the code cannot read; keeping it
            // as it is loses nothing.
            let message = format!(
                "the state of entity {id} ({}) is not of the expected type: {error}",
                crate::text::excerpt(stored.as_deref().unwrap_or_default(), 100)
            );
            return Ok(EntityBatchResult {
                results: request
                    .operations
                    .iter()
                    .map(|_| failure("EntityStateError", message.clone()))
                    .collect(),
                entity_state: stored,
                ..EntityBatchResult::default()
            });
        }
    };
    let mut encoded = stored;
    let mut results = Vec::with_capacity(request.operations.len());
    for operation in &request.operations {
        match run_operation(&id, operation, state.clone(), handler).await {
            Ok((result, new_state, new_encoded)) => {
                state = new_state;
                encoded = new_encoded;
                results.push(OperationResult {
                    result_type: Some(OperationResultType::Success(OperationResultSuccess {
                        result,
                        ..OperationResultSuccess::default()
                    })),
                });
            }
            Err((error_type, message)) => results.push(failure(error_type, message)),
        }
    }
    Ok(EntityBatchResult {
        results,
        entity_state: encoded,
        ..EntityBatchResult::default()
    })
}

/// Runs one operation on a copy of the state: its result's JSON, the new
/// state and its JSON, or the failure's type and message.
#[allow(clippy::type_complexity)]
async fn run_operation<S, O, F, Fut>(
    id: &EntityId,
    operation: &OperationRequest,
    state: Option<S>,
    handler: &F,
) -> Result<(Option<String>, Option<S>, Option<String>), (&'static str, String)>
where
    S: Serialize + Clone,
    O: Serialize,
    F: Fn(EntityContext<S>) -> Fut,
    Fut: Future<Output = Result<O, Error>>,
{
    let (context, left) = EntityContext::new(
        id.clone(),
        operation.operation.clone(),
        operation.input.clone().filter(|input| !input.is_empty()),
        state,
    );
    let panicked = || {
        (
            "EntityOperationPanicked",
            format!("operation {} panicked", operation.operation),
        )
    };
    let running =
        std::panic::catch_unwind(AssertUnwindSafe(|| handler(context))).map_err(|_| panicked())?;
    let output = AssertUnwindSafe(running)
        .catch_unwind()
        .await
        .map_err(|_| panicked())?
        .map_err(|error| ("EntityOperationError", error.message().to_owned()))?;
    let state = left.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let result = json_text(&output).map_err(|error| {
        (
            "EntityOperationError",
            format!(
                "the result of operation {} is not JSON: {error}",
                operation.operation
            ),
        )
    })?;
    let encoded = match &state {
        None => None,
        Some(state) => Some(serde_json::to_string(state).map_err(|error| {
            (
                "EntityStateError",
                format!(
                    "the entity's state is not JSON after operation {}: {error}",
                    operation.operation
                ),
            )
        })?),
    };
    Ok((result, state, encoded))
}

/// JSON text of `value`, `None` for `null` (no payload, as the SDKs send it).
fn json_text<T: Serialize>(value: &T) -> Result<Option<String>, serde_json::Error> {
    serde_json::to_string(value).map(|text| (text != "null").then_some(text))
}

fn failure(error_type: &str, message: String) -> OperationResult {
    OperationResult {
        result_type: Some(OperationResultType::Failure(OperationResultFailure {
            failure_details: Some(TaskFailureDetails {
                error_type: error_type.to_owned(),
                error_message: message,
                ..TaskFailureDetails::default()
            }),
            ..OperationResultFailure::default()
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::durable::proto::OrchestratorRequest;
    use crate::durable::wire::{decode_entity_request, encode_entity_result};
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use prost::Message;
    use serde_json::Value;

    /// A counter that fails `add` past 10 after changing its state and
    /// waiting, so a failure that did not roll back would show.
    async fn counter(context: EntityContext<i64>) -> Result<Option<i64>, Error> {
        match context.operation() {
            "add" => {
                let amount: i64 = context.input()?;
                let value = context.update(|value| {
                    *value += amount;
                    *value
                });
                rocket::tokio::task::yield_now().await;
                if value > 10 {
                    return Err(Error::bad_request(format_args!("{value} is too big")));
                }
            }
            "reset" => context.delete_state(),
            "get" => return Ok(Some(context.state().unwrap_or(0))),
            "panic" => {
                context.set_state(-1);
                rocket::tokio::task::yield_now().await;
                panic!("boom")
            }
            other => return Err(Error::bad_request(format_args!("no operation {other}"))),
        }
        Ok(None)
    }

    /// Runs the batch on `counter` as entity function `name`.
    fn run(request: &EntityBatchRequest, name: &str) -> Result<EntityBatchResult, Error> {
        rocket::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(run_entity(request, name, &counter))
    }

    fn batch(state: Option<&str>, operations: &[(&str, Option<&str>)]) -> EntityBatchRequest {
        EntityBatchRequest {
            instance_id: "@counter@a".to_owned(),
            entity_state: state.map(str::to_owned),
            operations: operations
                .iter()
                .enumerate()
                .map(|(at, (operation, input))| OperationRequest {
                    operation: (*operation).to_owned(),
                    request_id: format!("r{at}"),
                    input: input.map(str::to_owned),
                })
                .collect(),
        }
    }

    /// Each result: `Ok(result)` or `Err(message)`.
    fn outcomes(result: &EntityBatchResult) -> Vec<Result<Option<String>, String>> {
        result
            .results
            .iter()
            .map(|result| match &result.result_type {
                Some(OperationResultType::Success(success)) => Ok(success.result.clone()),
                Some(OperationResultType::Failure(failure)) => Err(failure
                    .failure_details
                    .as_ref()
                    .map(|details| details.error_message.clone())
                    .unwrap_or_default()),
                None => Err("no result".to_owned()),
            })
            .collect()
    }

    #[test]
    fn a_batch_runs_in_order_and_returns_each_result() {
        let request = batch(
            Some("1"),
            &[
                ("get", None),
                ("add", Some("2")),
                ("get", None),
                ("add", Some("4")),
                ("get", None),
            ],
        );
        let result = run(&request, "counter").unwrap();
        assert_eq!(
            outcomes(&result),
            vec![
                Ok(Some("1".to_owned())),
                Ok(None),
                Ok(Some("3".to_owned())),
                Ok(None),
                Ok(Some("7".to_owned())),
            ]
        );
        assert_eq!(result.entity_state.as_deref(), Some("7"));
        assert!(result.failure_details.is_none());
    }

    #[test]
    fn a_failing_operation_rolls_back_its_own_change_only() {
        let request = batch(
            Some("5"),
            &[
                ("add", Some("1")),
                ("add", Some("100")),
                ("get", None),
                ("panic", None),
                ("get", None),
                ("add", Some("\"x\"")),
                ("nope", None),
                ("add", Some("2")),
            ],
        );
        let result = run(&request, "Counter").unwrap();
        let outcomes = outcomes(&result);
        assert_eq!(outcomes[0], Ok(None));
        assert_eq!(outcomes[1], Err("106 is too big".to_owned()));
        assert_eq!(outcomes[2], Ok(Some("6".to_owned())));
        assert_eq!(outcomes[3], Err("operation panic panicked".to_owned()));
        assert_eq!(outcomes[4], Ok(Some("6".to_owned())));
        assert!(
            outcomes[5]
                .as_ref()
                .unwrap_err()
                .contains("not of the expected type")
        );
        assert_eq!(outcomes[6], Err("no operation nope".to_owned()));
        assert_eq!(outcomes[7], Ok(None));
        assert_eq!(result.entity_state.as_deref(), Some("8"));
    }

    #[test]
    fn an_absent_or_empty_state_is_none_and_a_deleted_one_is_sent_as_none() {
        for state in [None, Some("")] {
            let request = batch(state, &[("get", None)]);
            let result = run(&request, "counter").unwrap();
            assert_eq!(outcomes(&result), vec![Ok(Some("0".to_owned()))]);
            assert_eq!(result.entity_state, None, "reading creates no state");
        }
        let request = batch(Some("4"), &[("reset", None), ("get", None)]);
        let result = run(&request, "counter").unwrap();
        assert_eq!(outcomes(&result)[1], Ok(Some("0".to_owned())));
        assert_eq!(result.entity_state, None);
        let empty = run(&batch(Some("4"), &[]), "counter").unwrap();
        assert!(empty.results.is_empty());
        assert_eq!(empty.entity_state.as_deref(), Some("4"));
    }

    #[test]
    fn a_state_of_another_type_fails_every_operation_and_is_kept() {
        let request = batch(Some("{\"a\":1}"), &[("get", None), ("add", Some("1"))]);
        let result = run(&request, "counter").unwrap();
        let outcomes = outcomes(&result);
        assert_eq!(outcomes.len(), 2);
        assert!(outcomes.iter().all(|outcome| {
            outcome
                .as_ref()
                .is_err_and(|message| message.contains("not of the expected type"))
        }));
        assert_eq!(result.entity_state.as_deref(), Some("{\"a\":1}"));
    }

    #[test]
    fn the_request_comes_through_the_hosts_string_layers() {
        let request = batch(Some("2"), &[("get", None)]);
        let text = BASE64.encode(request.encode_to_vec());
        let twice = Value::String(Value::String(text.clone()).to_string()).to_string();
        assert_eq!(decode_entity_request(&text).unwrap(), request);
        assert_eq!(decode_entity_request(&twice).unwrap(), request);
        let result = EntityBatchResult {
            entity_state: Some("2".to_owned()),
            ..EntityBatchResult::default()
        };
        let bytes = BASE64.decode(encode_entity_result(&result)).unwrap();
        assert_eq!(EntityBatchResult::decode(bytes.as_slice()).unwrap(), result);
    }

    #[test]
    fn bad_input_is_a_400_with_the_reason() {
        let error = decode_entity_request("\"not base64!\"").unwrap_err();
        assert_eq!(error.status(), 400);
        assert!(
            error.message().contains("not base64"),
            "{}",
            error.message()
        );

        let wrong = OrchestratorRequest {
            instance_id: "abc".to_owned(),
            past_events: vec![crate::durable::proto::HistoryEvent {
                event_id: 7,
                ..Default::default()
            }],
            ..OrchestratorRequest::default()
        };
        let error = decode_entity_request(&BASE64.encode(wrong.encode_to_vec())).unwrap_err();
        assert_eq!(error.status(), 400);
        assert!(
            error.message().contains("not an EntityBatchRequest"),
            "{}",
            error.message()
        );

        let mut request = batch(None, &[("get", None)]);
        request.instance_id = "counter".to_owned();
        let error = run(&request, "counter").unwrap_err();
        assert_eq!(error.status(), 400);
        assert!(error.message().contains("not @<entity name>@<key>"));
        request.instance_id = "@other@a".to_owned();
        let error = run(&request, "counter").unwrap_err();
        assert_eq!(error.status(), 400);
        assert!(error.message().contains("not an entity of counter"));
    }
}
