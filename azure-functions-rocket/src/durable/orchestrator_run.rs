//! An orchestrator function run over its history: the author's code, on
//! an [`OrchestrationContext`] over the replay engine's state.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::errors::OrchestratorError;
use super::orchestration::OrchestrationContext;
use super::proto::{OrchestratorRequest, OrchestratorResponse};
use super::replay::state::encode;
use super::replay::{self, Run};

/// Replays `request` through `orchestrator`, the orchestrator named
/// `name`, and gives the response with its new actions. A history that
/// starts another orchestrator, or that the code no longer matches,
/// fails the orchestration with the reason; it never panics.
pub fn run_orchestrator<I, O, F, Fut>(
    request: &OrchestratorRequest,
    name: &str,
    orchestrator: &F,
) -> OrchestratorResponse
where
    I: DeserializeOwned,
    O: Serialize,
    F: Fn(OrchestrationContext, I) -> Fut,
    Fut: Future<Output = Result<O, OrchestratorError>> + 'static,
{
    let start = |state, input: Option<String>| -> Run {
        let context = OrchestrationContext { state };
        let text = input.as_deref().unwrap_or("null");
        let input = match serde_json::from_str::<I>(text) {
            Ok(input) => input,
            Err(error) => {
                let error = OrchestratorError::new(format_args!(
                    "the orchestration's input {text} is not of the expected type: {error}"
                ));
                return Box::pin(async move { Err(error) });
            }
        };
        let running = orchestrator(context, input);
        Box::pin(async move {
            let output = running.await?;
            encode(&output).map_err(OrchestratorError::from)
        })
    };
    replay::execute(request, name, &start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::durable::proto::{
        ActionType, CompleteOrchestrationAction, EventType, ExecutionStartedEvent, HistoryEvent,
        OrchestrationStatus, OrchestratorStartedEvent, TimerFiredEvent, Timestamp,
    };

    fn history(more: Vec<EventType>) -> OrchestratorRequest {
        let mut events = vec![
            EventType::OrchestratorStarted(OrchestratorStartedEvent {}),
            EventType::ExecutionStarted(ExecutionStartedEvent {
                name: "o".to_owned(),
                ..ExecutionStartedEvent::default()
            }),
        ];
        events.extend(more);
        OrchestratorRequest {
            instance_id: "i".to_owned(),
            new_events: events
                .into_iter()
                .map(|kind| HistoryEvent {
                    event_id: -1,
                    timestamp: Some(Timestamp {
                        seconds: 1,
                        nanos: 0,
                    }),
                    event_type: Some(kind),
                })
                .collect(),
            ..OrchestratorRequest::default()
        }
    }

    fn completion(response: &OrchestratorResponse) -> &CompleteOrchestrationAction {
        match response
            .actions
            .last()
            .and_then(|action| action.action_type.as_ref())
        {
            Some(ActionType::CompleteOrchestration(done)) => done,
            other => panic!("no completion: {other:?}"),
        }
    }

    async fn panics(_: OrchestrationContext, _: ()) -> Result<(), OrchestratorError> {
        panic!("boom")
    }

    async fn waits(context: OrchestrationContext, _: ()) -> Result<(), OrchestratorError> {
        context
            .create_timer(std::time::Duration::from_secs(1))
            .await?;
        Ok(())
    }

    #[test]
    fn a_panicking_orchestrator_fails_its_orchestration() {
        let response = run_orchestrator(&history(Vec::new()), "o", &panics);
        let done = completion(&response);
        assert_eq!(
            done.orchestration_status,
            OrchestrationStatus::Failed as i32
        );
        let details = done.failure_details.as_ref().unwrap();
        assert_eq!(details.error_message, "the orchestrator panicked");
    }

    #[test]
    fn a_timer_fired_for_no_timer_is_ignored() {
        let stray = EventType::TimerFired(TimerFiredEvent {
            fire_at: None,
            timer_id: 42,
        });
        let response = run_orchestrator(&history(vec![stray]), "o", &waits);
        assert_eq!(response.actions.len(), 1, "{response:?}");
        assert!(matches!(
            response.actions[0].action_type,
            Some(ActionType::CreateTimer(_))
        ));
    }

    #[test]
    fn a_request_without_its_start_asks_for_the_history() {
        let fired = EventType::TimerFired(TimerFiredEvent {
            fire_at: None,
            timer_id: 1,
        });
        // An extended session's request: only the new events.
        let mut request = history(vec![fired]);
        request.new_events.remove(1);
        let response = run_orchestrator(&request, "o", &waits);
        assert!(response.requires_history, "{response:?}");
        assert!(response.actions.is_empty(), "{response:?}");
        assert_eq!(response.instance_id, "i");

        // The start among the past events is history enough.
        let mut whole = history(Vec::new());
        whole.past_events = std::mem::take(&mut whole.new_events);
        whole.new_events = request.new_events;
        let response = run_orchestrator(&whole, "o", &waits);
        assert!(!response.requires_history, "{response:?}");
        let done = completion(&response);
        assert_eq!(
            done.orchestration_status,
            OrchestrationStatus::Completed as i32
        );
    }

    async fn calls_counter(context: OrchestrationContext, _: ()) -> Result<i64, OrchestratorError> {
        let counter = crate::durable::EntityId::new("Counter", "a");
        context.signal_entity(&counter, "add", &1);
        Ok(context.call_entity(&counter, "get", &()).await?)
    }

    /// The first step's actions: the signal, then the call.
    fn entity_requests(response: &OrchestratorResponse) -> Vec<serde_json::Value> {
        response
            .actions
            .iter()
            .filter_map(|action| match &action.action_type {
                Some(ActionType::SendEvent(send)) => {
                    let target = send.instance.as_ref().map(|i| i.instance_id.as_str());
                    assert_eq!(target, Some("@counter@a"));
                    assert_eq!(send.name, "op");
                    serde_json::from_str(send.data.as_deref().unwrap_or_default()).ok()
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn an_entity_call_is_an_op_event_answered_by_its_request_id() {
        use crate::durable::proto::{EventRaisedEvent, EventSentEvent};
        let first = run_orchestrator(&history(Vec::new()), "o", &calls_counter);
        let requests = entity_requests(&first);
        assert_eq!(requests.len(), 2, "{first:?}");
        assert_eq!(requests[0]["signal"], serde_json::json!(true));
        assert_eq!(requests[0]["input"], serde_json::json!("1"));
        assert_eq!(requests[1]["op"], serde_json::json!("get"));
        assert_eq!(requests[1]["parent"], serde_json::json!("i"));
        assert!(requests[1].get("signal").is_none() && requests[1].get("input").is_none());
        let request_id = requests[1]["id"].as_str().unwrap().to_owned();
        assert_ne!(request_id, requests[0]["id"].as_str().unwrap());

        let sent = |id: i32| HistoryEvent {
            event_id: id,
            timestamp: None,
            event_type: Some(EventType::EventSent(EventSentEvent {
                instance_id: "@counter@a".to_owned(),
                name: "op".to_owned(),
                input: None,
            })),
        };
        let answer = |response: &str| {
            let mut request = history(Vec::new());
            request.past_events = std::mem::take(&mut request.new_events);
            request.past_events.extend([sent(1), sent(2)]);
            request.new_events = vec![HistoryEvent {
                event_id: -1,
                timestamp: None,
                event_type: Some(EventType::EventRaised(EventRaisedEvent {
                    name: request_id.to_uppercase(),
                    input: Some(response.to_owned()),
                })),
            }];
            run_orchestrator(&request, "o", &calls_counter)
        };
        let done = answer(r#"{"result":"7"}"#);
        assert_eq!(done.actions.len(), 1, "no request is sent again: {done:?}");
        assert_eq!(completion(&done).result.as_deref(), Some("7"));

        let failed =
            answer(r#"{"result":null,"failureDetails":{"ErrorType":"E","ErrorMessage":"no"}}"#);
        let done = completion(&failed);
        assert_eq!(
            done.orchestration_status,
            OrchestrationStatus::Failed as i32
        );
        let details = done.failure_details.as_ref().unwrap();
        assert_eq!(
            details.error_message,
            "Operation 'get' of entity '@counter@a' failed: no"
        );
    }

    /// The extension's default reorder window, as it sends it.
    fn thirty_minute_window() -> crate::durable::proto::OrchestratorEntityParameters {
        crate::durable::proto::OrchestratorEntityParameters {
            entity_message_reorder_window: Some(prost_types::Duration {
                seconds: 1800,
                nanos: 0,
            }),
        }
    }

    #[test]
    fn with_a_reorder_window_requests_carry_their_order_and_execution() {
        use crate::durable::proto::EventSentEvent;
        let mut request = history(Vec::new());
        request.execution_id = Some("e1".to_owned());
        request.entity_parameters = Some(thirty_minute_window());
        let first = entity_requests(&run_orchestrator(&request, "o", &calls_counter));
        assert_eq!(first.len(), 2);
        let at_one_second = "1970-01-01T00:00:01.0000000Z";
        assert_eq!(first[0]["Timestamp"], serde_json::json!(at_one_second));
        assert_eq!(
            first[0]["Predecessor"],
            serde_json::json!("0001-01-01T00:00:00")
        );
        assert_eq!(
            first[1]["Timestamp"],
            serde_json::json!("1970-01-01T00:00:01.0000001Z")
        );
        assert_eq!(first[1]["Predecessor"], serde_json::json!(at_one_second));
        assert!(first.iter().all(|r| r["parentExecution"] == "e1"));

        // Replayed at a later step, the labels come from history's time.
        request.past_events = std::mem::take(&mut request.new_events);
        request.past_events.extend((1..=2).map(|id| HistoryEvent {
            event_id: id,
            timestamp: None,
            event_type: Some(EventType::EventSent(EventSentEvent {
                instance_id: "@counter@a".to_owned(),
                name: "op".to_owned(),
                input: None,
            })),
        }));
        request.new_events = history(Vec::new()).new_events[..1].to_vec();
        request.new_events[0].timestamp = Some(Timestamp {
            seconds: 60,
            nanos: 0,
        });
        let replayed = run_orchestrator(&request, "o", &calls_counter);
        assert!(replayed.actions.is_empty(), "{replayed:?}");

        // Without the parameters nothing is labelled, as today's hosts expect.
        let plain = entity_requests(&run_orchestrator(&history(Vec::new()), "o", &calls_counter));
        assert!(
            plain
                .iter()
                .all(|r| r.get("Timestamp").is_none() && r.get("parentExecution").is_none())
        );
    }

    async fn calls_twice(context: OrchestrationContext, _: ()) -> Result<i64, OrchestratorError> {
        let counter = crate::durable::EntityId::new("Counter", "a");
        context.call_entity::<_, ()>(&counter, "add", &1).await?;
        Ok(context.call_entity(&counter, "get", &()).await?)
    }

    #[test]
    fn a_later_steps_request_names_the_replayed_one_as_its_predecessor() {
        use crate::durable::proto::{EventRaisedEvent, EventSentEvent};
        let mut request = history(Vec::new());
        request.entity_parameters = Some(thirty_minute_window());
        let first = entity_requests(&run_orchestrator(&request, "o", &calls_twice));
        assert_eq!(first.len(), 1);
        let request_id = first[0]["id"].as_str().unwrap().to_owned();
        request.past_events = std::mem::take(&mut request.new_events);
        request.past_events.push(HistoryEvent {
            event_id: 1,
            timestamp: None,
            event_type: Some(EventType::EventSent(EventSentEvent {
                instance_id: "@counter@a".to_owned(),
                name: "op".to_owned(),
                input: None,
            })),
        });
        let at = |seconds| Some(Timestamp { seconds, nanos: 0 });
        request.new_events = vec![
            HistoryEvent {
                event_id: -1,
                timestamp: at(60),
                event_type: Some(EventType::OrchestratorStarted(OrchestratorStartedEvent {})),
            },
            HistoryEvent {
                event_id: -1,
                timestamp: at(60),
                event_type: Some(EventType::EventRaised(EventRaisedEvent {
                    name: request_id,
                    input: Some(r#"{"result":null}"#.to_owned()),
                })),
            },
        ];
        let second = entity_requests(&run_orchestrator(&request, "o", &calls_twice));
        assert_eq!(second.len(), 1, "{second:?}");
        assert_eq!(second[0]["op"], "get");
        assert_eq!(second[0]["Timestamp"], "1970-01-01T00:01:00.0000000Z");
        assert_eq!(second[0]["Predecessor"], first[0]["Timestamp"]);
        assert_eq!(first[0]["Timestamp"], "1970-01-01T00:00:01.0000000Z");
    }
}
