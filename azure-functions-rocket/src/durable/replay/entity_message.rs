//! The messages an orchestration exchanges with entities through the
//! extension: a request goes out as event `op` to instance `@name@key`,
//! its response comes back as an event named with the request's id (the
//! JSON of the Durable Task Framework's entity request and response
//! messages).

use serde_json::{Value, json};

use super::entity_order::{Label, MIN_VALUE, iso_ticks};
use crate::durable::errors::TaskError;
use crate::durable::proto::TaskFailureDetails;

/// The event name of every request to an entity.
pub(crate) const REQUEST_EVENT: &str = "op";

/// An entity call waiting for its response.
#[derive(Debug, Clone)]
pub(crate) struct EntityCall {
    pub(crate) entity: String,
    pub(crate) operation: String,
}

/// Who sends a request: the orchestration's instance and execution, and
/// the request's order label (`None` where the backend keeps order).
pub(crate) struct Sender<'a> {
    pub(crate) instance_id: &'a str,
    pub(crate) execution_id: Option<&'a str>,
    pub(crate) label: Option<Label>,
}

/// A request message: `op`, `signal` (only when true, as the framework
/// omits a false one), `input` (the input's JSON text), `id`, `parent`;
/// a labelled one adds `parentExecution`, `Timestamp` and `Predecessor`
/// (docs/durable.md, "Entity message order").
pub(crate) fn request(
    operation: &str,
    signal: bool,
    input: Option<String>,
    id: &str,
    sender: &Sender<'_>,
) -> String {
    let mut message = json!({"op": operation, "id": id, "parent": sender.instance_id});
    if signal {
        message["signal"] = Value::Bool(true);
    }
    if let Some(input) = input {
        message["input"] = Value::String(input);
    }
    if let Some(label) = sender.label {
        if let Some(execution_id) = sender.execution_id {
            message["parentExecution"] = Value::String(execution_id.to_owned());
        }
        message["Timestamp"] = Value::String(iso_ticks(label.timestamp));
        message["Predecessor"] = Value::String(
            label
                .predecessor
                .map_or_else(|| MIN_VALUE.to_owned(), iso_ticks),
        );
    }
    message.to_string()
}

/// What a response message means for the call: the result's JSON text,
/// or the operation's failure. A failure carries `exceptionType` or a
/// `failureDetails` object; the result is JSON text in a string.
pub(crate) fn outcome(call: &EntityCall, data: Option<&str>) -> Result<Option<String>, TaskError> {
    let response = data.and_then(|text| serde_json::from_str::<Value>(text).ok());
    let Some(Value::Object(response)) = response else {
        return Err(TaskError::new(
            format!(
                "the response of entity {} to operation {} is not a response message: {}",
                call.entity,
                call.operation,
                data.unwrap_or("nothing")
            ),
            None,
        ));
    };
    let details = response.get("failureDetails").filter(|d| d.is_object());
    if details.is_some() || response.contains_key("exceptionType") {
        let field = |names: [&str; 2]| {
            names
                .iter()
                .find_map(|name| details.and_then(|d| d.get(*name)).and_then(Value::as_str))
                .map(str::to_owned)
        };
        let message = field(["ErrorMessage", "errorMessage"])
            .or_else(|| result_text(&response).map(|text| unquoted(&text)))
            .unwrap_or_default();
        let error_type = field(["ErrorType", "errorType"])
            .or_else(|| {
                response
                    .get("exceptionType")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        return Err(TaskError::new(
            format!(
                "Operation '{}' of entity '{}' failed: {message}",
                call.operation, call.entity
            ),
            Some(TaskFailureDetails {
                error_type,
                error_message: message,
                ..TaskFailureDetails::default()
            }),
        ));
    }
    Ok(result_text(&response))
}

/// The `result` field: JSON text in a string (`None` for none).
fn result_text(response: &serde_json::Map<String, Value>) -> Option<String> {
    match response.get("result") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.is_empty() => None,
        Some(Value::String(text)) => Some(text.clone()),
        // (inferred) an embedded value rather than its text.
        Some(other) => Some(other.to_string()),
    }
}

/// A failure's message sent as a JSON string, without its quotes.
fn unquoted(text: &str) -> String {
    serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> EntityCall {
        EntityCall {
            entity: "@counter@a".to_owned(),
            operation: "add".to_owned(),
        }
    }

    #[test]
    fn a_request_omits_signal_when_false_and_input_when_absent() {
        let unlabelled = Sender {
            instance_id: "orch",
            execution_id: Some("e1"),
            label: None,
        };
        let text = request("add", false, None, "r1", &unlabelled);
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value, json!({"op": "add", "id": "r1", "parent": "orch"}));
        let text = request("add", true, Some("5".to_owned()), "r2", &unlabelled);
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["signal"], json!(true));
        assert_eq!(value["input"], json!("5"));
    }

    #[test]
    fn a_labelled_request_carries_its_execution_and_order() {
        let sender = |predecessor| Sender {
            instance_id: "orch",
            execution_id: Some("e1"),
            label: Some(Label {
                timestamp: 11,
                predecessor,
            }),
        };
        let value: Value =
            serde_json::from_str(&request("add", false, None, "r1", &sender(None))).unwrap();
        assert_eq!(
            value,
            json!({"op": "add", "id": "r1", "parent": "orch", "parentExecution": "e1",
                "Timestamp": "1970-01-01T00:00:00.0000011Z", "Predecessor": "0001-01-01T00:00:00"})
        );
        let value: Value =
            serde_json::from_str(&request("add", false, None, "r1", &sender(Some(10)))).unwrap();
        assert_eq!(value["Predecessor"], json!("1970-01-01T00:00:00.0000010Z"));
    }

    #[test]
    fn responses_give_the_result_or_the_failure() {
        assert_eq!(
            outcome(&call(), Some(r#"{"result":"3"}"#)),
            Ok(Some("3".to_owned()))
        );
        assert_eq!(outcome(&call(), Some(r#"{"result":null}"#)), Ok(None));
        let error = outcome(
            &call(),
            Some(r#"{"result":null,"failureDetails":{"ErrorType":"E","ErrorMessage":"boom"}}"#),
        )
        .unwrap_err();
        assert_eq!(
            error.message(),
            "Operation 'add' of entity '@counter@a' failed: boom"
        );
        assert_eq!(error.cause(), Some("boom"));
        let error = outcome(
            &call(),
            Some(r#"{"result":"\"too big\"","exceptionType":"System.Exception"}"#),
        )
        .unwrap_err();
        assert_eq!(error.cause(), Some("too big"));
        assert!(outcome(&call(), Some("[1]")).is_err());
        assert!(outcome(&call(), None).is_err());
    }
}
