//! The library against azure-functions-durable 2.x, the Python SDK the
//! Functions host runs (built on durabletask-python; the same base64 wire
//! for orchestrators and entity batches): every request recorded by
//! `record_histories.py` and every entity batch of the counter go through
//! its `DurableFunctionsWorker` (`functions_v2.py`) and through ours, and
//! the responses are compared byte for byte. Where they cannot be equal,
//! field for field, and the test says which and why.
//!
//! 2.x needs Python 3.13 or newer; the venv is made with the newest one
//! found (`python3.N` on PATH, else pyenv's).

mod reference;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use azure_functions_rocket::durable::proto::{
    ActionType, EntityBatchResult, EventType, OperationResultType, OrchestratorResponse,
    TaskFailureDetails,
};
use azure_functions_rocket::durable::{
    decode_request, encode_entity_result, encode_response, run_entity,
};
use base64::Engine;
use prost::Message;
use reference::{b64, entity_batches, record, run_rust};
use serde_json::{Value, json};

/// Pinned, with the durabletask release it is built on: the recorder runs
/// in the same venv.
const SDK: [&str; 2] = ["azure-functions-durable==2.0.0rc3", "durabletask==1.12.0"];

fn python() -> PathBuf {
    let interpreter = test_tools::python3_at_least(13).unwrap_or_else(|| {
        panic!(
            "azure-functions-durable 2.x requires Python 3.13 or newer: \
             install one as python3.13 (or newer) on PATH, or with pyenv"
        )
    });
    test_tools::python_venv_of(&interpreter, "functions-durable-v2-venv", &SDK)
}

/// The base64 responses of 2.x, in the order given.
fn run_v2(orchestrations: &[Value], batches: &[String]) -> (Vec<String>, Vec<String>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/functions_v2.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the 2.x runner starts");
    let input = json!({"orchestrations": orchestrations, "entityBatches": batches});
    let mut stdin = child.stdin.take().expect("the runner's stdin");
    stdin
        .write_all(input.to_string().as_bytes())
        .expect("the runner reads its input");
    drop(stdin);
    let out = child.wait_with_output().expect("the 2.x runner ends");
    assert!(out.status.success(), "the 2.x runner failed");
    let out: Value = serde_json::from_slice(&out.stdout).expect("JSON from the 2.x runner");
    let texts = |key: &str| -> Vec<String> {
        out[key]
            .as_array()
            .expect("a list of responses")
            .iter()
            .map(|response| match response.as_str() {
                Some(text) => text.to_owned(),
                None => panic!("2.x failed on a {key} request: {response}"),
            })
            .collect()
    };
    (texts("orchestrations"), texts("entityBatches"))
}

/// `bytes` without its top-level field `number`, which must be an empty
/// length-delimited one wherever it occurs.
fn without_empty_field(bytes: &[u8], number: u64) -> Vec<u8> {
    fn varint(bytes: &[u8], at: &mut usize) -> u64 {
        let mut value = 0;
        for shift in (0..64).step_by(7) {
            let byte = bytes[*at];
            *at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        value
    }
    let mut kept = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let tag = varint(bytes, &mut at);
        match tag & 7 {
            0 => {
                varint(bytes, &mut at);
            }
            2 => {
                let length = usize::try_from(varint(bytes, &mut at)).expect("a length");
                if tag >> 3 == number {
                    assert_eq!(length, 0, "field {number} is not empty");
                }
                at += length;
            }
            other => panic!("wire type {other} in an OrchestratorResponse"),
        }
        if tag >> 3 != number {
            kept.extend_from_slice(&bytes[start..at]);
        }
    }
    kept
}

/// A JSON payload in one form: Python's `json.dumps` writes `", "` and
/// `": "` where serde_json writes `","` and `":"`, the same value.
fn one_form(text: &mut Option<String>) {
    if let Some(value) = text
        .as_deref()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
    {
        *text = Some(value.to_string());
    }
}

/// The response with its JSON payloads in one form.
fn json_in_one_form(response: &OrchestratorResponse) -> OrchestratorResponse {
    let mut response = response.clone();
    one_form(&mut response.custom_status);
    for action in &mut response.actions {
        match &mut action.action_type {
            Some(ActionType::ScheduleTask(task)) => one_form(&mut task.input),
            Some(ActionType::CreateSubOrchestration(sub)) => one_form(&mut sub.input),
            Some(ActionType::SendEvent(send)) => one_form(&mut send.data),
            Some(ActionType::CompleteOrchestration(done)) => {
                one_form(&mut done.result);
                for event in &mut done.carryover_events {
                    if let Some(EventType::EventRaised(raised)) = &mut event.event_type {
                        one_form(&mut raised.input);
                    }
                }
            }
            _ => {}
        }
    }
    response
}

/// The response with its failure details as both languages must agree on
/// them: the error type's last segment (the SDK qualifies it with its
/// module), the message and the inner failure; the stack trace is each
/// language's own.
fn failure_in_one_form(response: &OrchestratorResponse) -> OrchestratorResponse {
    fn details(failure: &mut TaskFailureDetails) {
        let short = failure.error_type.rsplit('.').next().unwrap_or_default();
        failure.error_type = short.to_owned();
        failure.stack_trace = None;
        if let Some(inner) = failure.inner_failure.as_deref_mut() {
            details(inner);
        }
    }
    let mut response = response.clone();
    for action in &mut response.actions {
        if let Some(ActionType::CompleteOrchestration(done)) = &mut action.action_type
            && let Some(failure) = done.failure_details.as_mut()
        {
            details(failure);
        }
    }
    response
}

/// How far two responses agree.
#[derive(Debug, PartialEq)]
enum Agreement {
    Bytes,
    /// Equal once the JSON payloads are in one form.
    JsonText,
    /// Equal once the JSON payloads and the failure details are.
    FailureDetails,
}

fn agreement(case: &str, ours: &[u8], theirs: &[u8]) -> Agreement {
    if ours == theirs {
        return Agreement::Bytes;
    }
    let [ours, theirs] = [ours, theirs]
        .map(|bytes| OrchestratorResponse::decode(bytes).expect("a response decodes"));
    let [ours, theirs] = [&ours, &theirs].map(json_in_one_form);
    if ours == theirs {
        return Agreement::JsonText;
    }
    assert_eq!(
        failure_in_one_form(&ours),
        failure_in_one_form(&theirs),
        "{case}: the responses differ"
    );
    Agreement::FailureDetails
}

#[test]
fn orchestrator_responses_match_azure_functions_durable_2() {
    let steps = record(&python());
    let requests: Vec<Value> = steps
        .iter()
        .map(|step| json!({"case": step["case"], "request": step["request"]}))
        .collect();
    let (theirs, _) = run_v2(&requests, &[]);
    assert_eq!(theirs.len(), steps.len());
    let mut agreements: Vec<(String, Agreement)> = Vec::new();
    for (step, theirs) in steps.iter().zip(&theirs) {
        let case = step["case"].as_str().expect("case");
        // 2.x adds an empty orchestrationTraceContext (field 6): the trace
        // context of a worker that traces nothing. Ours sends none.
        let theirs = without_empty_field(&b64(theirs), 6);
        // 2.x answers as durabletask 1.12's executor, which recorded it.
        assert_eq!(
            theirs,
            b64(step["response"].as_str().expect("response")),
            "{case}: 2.x differs from durabletask 1.12"
        );
        let read = OrchestratorResponse::decode(theirs.as_slice()).expect("theirs decodes");
        assert_eq!(
            read.encode_to_vec(),
            theirs,
            "{case}: our messages drop a field 2.x sends"
        );
        let request = decode_request(step["request"].as_str().expect("request"))
            .expect("the recorded request decodes");
        let ours = b64(&encode_response(&run_rust(case, &request)));
        agreements.push((case.to_owned(), agreement(case, &ours, &theirs)));
    }
    let count = |kind: Agreement| agreements.iter().filter(|(_, a)| *a == kind).count();
    let (bytes, json_text) = (count(Agreement::Bytes), count(Agreement::JsonText));
    eprintln!(
        "{} steps: {bytes} byte for byte, {json_text} after the JSON text, \
         the rest after the failure details",
        agreements.len()
    );
    // Only the steps that fail the orchestration differ in their failure.
    let failed: Vec<&str> = agreements
        .iter()
        .filter(|(_, a)| *a == Agreement::FailureDetails)
        .map(|(case, _)| case.as_str())
        .collect();
    assert_eq!(failed, ["uncaught_failure", "non_determinism"]);
    assert!(bytes > 0 && json_text > 0);
}

/// The counter's batches through 2.x's entity entry point and ours. 2.x
/// stamps each operation's result with its start and end on the wall
/// clock (`startTimeUtc`, `endTimeUtc`), which ours leaves out, and gives
/// an operation that returns nothing an empty `result` where ours has
/// none. Without those, the same bytes for every
/// batch whose operations all succeed; where one fails, the same bytes
/// once the failure details are left out too (their type and message are
/// each language's).
#[test]
fn entity_batch_results_match_azure_functions_durable_2() {
    let batches = entity_batches();
    let wire: Vec<String> = batches
        .iter()
        .map(|batch| base64::engine::general_purpose::STANDARD.encode(batch.encode_to_vec()))
        .collect();
    let (_, theirs) = run_v2(&[], &wire);
    assert_eq!(theirs.len(), batches.len());
    let runtime = rocket::tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let without = |result: &EntityBatchResult, details: bool| {
        let mut result = result.clone();
        for one in &mut result.results {
            match &mut one.result_type {
                Some(OperationResultType::Success(success)) => {
                    success.start_time_utc = None;
                    success.end_time_utc = None;
                    if success.result.as_deref() == Some("") {
                        success.result = None;
                    }
                }
                Some(OperationResultType::Failure(failure)) => {
                    failure.start_time_utc = None;
                    failure.end_time_utc = None;
                    if details {
                        failure.failure_details = None;
                    }
                }
                None => {}
            }
        }
        result.encode_to_vec()
    };
    let mut byte_equal = 0;
    for (at, (batch, theirs)) in batches.iter().zip(&theirs).enumerate() {
        let ours = runtime
            .block_on(run_entity(batch, "counter", &durable_hello::counter))
            .expect("the counter runs the batch");
        let ours = b64(&encode_entity_result(&ours));
        let theirs = b64(theirs);
        let read = EntityBatchResult::decode(theirs.as_slice()).expect("a batch result");
        assert_eq!(
            read.encode_to_vec(),
            theirs,
            "batch {at}: a field is dropped"
        );
        assert!(
            read.results.iter().all(|one| match &one.result_type {
                Some(OperationResultType::Success(s)) => s.start_time_utc.is_some(),
                Some(OperationResultType::Failure(f)) => f.start_time_utc.is_some(),
                None => false,
            }),
            "batch {at}: 2.x's results carry their times"
        );
        let ours_read = EntityBatchResult::decode(ours.as_slice()).expect("ours decodes");
        assert_eq!(ours_read.encode_to_vec(), without(&ours_read, false));
        if ours == without(&read, false) {
            byte_equal += 1;
        } else {
            assert_eq!(
                without(&ours_read, true),
                without(&read, true),
                "batch {at}"
            );
        }
    }
    // Batches 1 and 4 hold failing operations; the others are equal bytes.
    assert_eq!(byte_equal, batches.len() - 2);
}
