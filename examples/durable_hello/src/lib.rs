//! Durable Functions in Rust: the reference orchestrations and activities,
//! one function folder each.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use azure_functions_rocket::durable::{
    DurableClient, EntityContext, EntityId, OrchestrationContext, OrchestratorError, RetryPolicy,
    when_all, when_any,
};
use azure_functions_rocket::{AuthLevel, Error, Function, HttpRequest, HttpResponse, Registry};
use serde_json::{Value, json};

/// Every function of the app, declared whole: the hand-kept folders
/// beside Cargo.toml say the same.
pub fn registry() -> Registry {
    Registry::new()
        .with(Function::activity("say_hello", say_hello))
        .with(Function::activity("square", square))
        .with(Function::activity("flaky", flaky))
        .with(Function::activity("fail_twice", fail_twice))
        .with(Function::activity("increment", increment))
        .with(Function::orchestrator("chaining", chaining))
        .with(Function::orchestrator("fan_out_fan_in", fan_out_fan_in))
        .with(Function::orchestrator(
            "timer_then_activity",
            timer_then_activity,
        ))
        .with(Function::orchestrator(
            "external_event_timeout",
            external_event_timeout,
        ))
        .with(Function::orchestrator("retry_catch", retry_catch))
        .with(Function::orchestrator("retry_policy", retry_policy))
        .with(Function::orchestrator("continue_as_new", continue_as_new))
        .with(Function::orchestrator("monitor", monitor))
        .with(Function::orchestrator("echo", echo))
        .with(Function::orchestrator("uncaught_failure", uncaught_failure))
        .with(Function::orchestrator(
            "sub_orchestration",
            sub_orchestration,
        ))
        .with(Function::entity("counter", counter))
        .with(Function::orchestrator("counter_sum", counter_sum))
        .with(Function::orchestrator("counter_signals", counter_signals))
        .with(Function::orchestrator("counter_order", counter_order))
        .with(
            Function::http_with_client("HttpStart", http_start)
                .route("orchestrators/{name}")
                .methods(["post"])
                .auth_level(AuthLevel::Anonymous),
        )
}

/// `POST /api/orchestrators/{name}` with the input as body: starts the
/// orchestration and answers 202 with its management URLs.
pub async fn http_start(req: HttpRequest, client: DurableClient) -> Result<HttpResponse, Error> {
    let name = req.param("name").unwrap_or_default().to_owned();
    let input: Option<Value> = req.json()?;
    let id = client.start_new(&name, None, &input).await?;
    Ok(client.check_status_response(&id))
}

/// `"Hello, {name}!"`.
pub async fn say_hello(name: String) -> Result<String, Error> {
    Ok(format!("Hello, {name}!"))
}

/// `n * n`.
pub async fn square(n: i64) -> Result<i64, Error> {
    n.checked_mul(n)
        .ok_or_else(|| Error::bad_request(format_args!("{n} squared overflows")))
}

/// Fails for 0, else `"ok"`.
pub async fn flaky(n: i64) -> Result<String, Error> {
    if n == 0 {
        return Err(Error::internal("flaky fails for 0"));
    }
    Ok("ok".to_owned())
}

/// Fails on its first two attempts for an input, then succeeds. The count
/// lives in the process: enough for one local host run.
pub async fn fail_twice(x: Value) -> Result<String, Error> {
    static ATTEMPTS: Mutex<Option<HashMap<String, u32>>> = Mutex::new(None);
    let attempt = {
        let mut attempts = ATTEMPTS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = attempts
            .get_or_insert_with(HashMap::new)
            .entry(x.to_string())
            .or_insert(0);
        *count += 1;
        *count
    };
    if attempt <= 2 {
        return Err(Error::internal(format_args!("attempt {attempt} failed")));
    }
    Ok("succeeded on attempt 3".to_owned())
}

/// `n + 1`.
pub async fn increment(n: i64) -> Result<i64, Error> {
    Ok(n.saturating_add(1))
}

/// Completes with its input in its first step: the largest input a start
/// takes runs.
pub async fn echo(_: OrchestrationContext, input: Value) -> Result<Value, OrchestratorError> {
    Ok(input)
}

/// `say_hello` for each of the first three cities, in sequence.
pub async fn chaining(
    context: OrchestrationContext,
    cities: Option<Vec<String>>,
) -> Result<Vec<String>, OrchestratorError> {
    let cities =
        cities.unwrap_or_else(|| ["Tokyo", "Seattle", "London"].map(str::to_owned).to_vec());
    let mut greetings = Vec::new();
    for city in cities.iter().take(3) {
        greetings.push(context.call_activity("say_hello", city).await?);
    }
    Ok(greetings)
}

/// `square(1..=n)` in parallel; their sum.
pub async fn fan_out_fan_in(
    context: OrchestrationContext,
    n: Option<i64>,
) -> Result<i64, OrchestratorError> {
    let tasks = (1..=n.unwrap_or(3))
        .map(|i| context.call_activity::<_, i64>("square", &i))
        .collect();
    Ok(when_all(tasks).await?.into_iter().sum())
}

/// A timer `seconds` after the orchestration's time, then `say_hello`.
pub async fn timer_then_activity(
    context: OrchestrationContext,
    seconds: Option<u64>,
) -> Result<String, OrchestratorError> {
    let at = context.current_utc_datetime() + Duration::from_secs(seconds.unwrap_or(30));
    context.create_timer_at(at).await?;
    Ok(context.call_activity("say_hello", "after-timer").await?)
}

/// Waits for `approval` or a timeout, whichever comes first.
pub async fn external_event_timeout(
    context: OrchestrationContext,
    timeout_s: Option<u64>,
) -> Result<Value, OrchestratorError> {
    context.set_custom_status(&json!({"stage": "waiting"}));
    let event = context.wait_for_external_event::<Value>("approval");
    let timer = context.create_timer(Duration::from_secs(timeout_s.unwrap_or(60)));
    if when_any(&[&event, &timer]).await == 0 {
        context.set_custom_status(&json!({"stage": "approved"}));
        return Ok(json!({"approved": event.await?}));
    }
    context.set_custom_status(&json!({"stage": "timed-out"}));
    Ok(json!("timed out"))
}

/// `flaky(0)`, and on its failure `flaky(1)`, the failure's own message
/// in the custom status.
pub async fn retry_catch(
    context: OrchestrationContext,
    _: Value,
) -> Result<String, OrchestratorError> {
    match context.call_activity::<_, String>("flaky", &0).await {
        Ok(result) => Ok(result),
        Err(error) => {
            let cause = error.cause().unwrap_or(error.message());
            context.set_custom_status(&json!({"firstError": cause}));
            Ok(context.call_activity("flaky", &1).await?)
        }
    }
}

/// `fail_twice("x")`, 3 attempts, 5 s then 10 s apart.
pub async fn retry_policy(
    context: OrchestrationContext,
    _: Value,
) -> Result<String, OrchestratorError> {
    let policy = RetryPolicy::new(Duration::from_secs(5), 3).with_backoff(2.0);
    Ok(context
        .call_activity_with_retry("fail_twice", "x", policy)
        .await?)
}

/// Counts to 3, one execution per step.
pub async fn continue_as_new(
    context: OrchestrationContext,
    counter: Option<i64>,
) -> Result<Option<i64>, OrchestratorError> {
    let counter = counter.unwrap_or(0);
    if counter >= 3 {
        return Ok(Some(counter));
    }
    let next: i64 = context.call_activity("increment", &counter).await?;
    context.continue_as_new(&next);
    Ok(None)
}

/// A monitor that moves on before its work is done: the first execution
/// (no input) sets a 1 s timer and calls `say_hello("old")`, and continues
/// as new at once with both still pending; the next waits `seconds` on
/// its own timer, then calls `say_hello("new")`.
pub async fn monitor(
    context: OrchestrationContext,
    seconds: Option<u64>,
) -> Result<String, OrchestratorError> {
    let Some(seconds) = seconds else {
        let _timer = context.create_timer(Duration::from_secs(1));
        let _hello = context.call_activity::<_, String>("say_hello", "old");
        context.continue_as_new(&30);
        return Ok(String::new());
    };
    context.create_timer(Duration::from_secs(seconds)).await?;
    Ok(context.call_activity("say_hello", "new").await?)
}

/// `flaky(0)`, its failure not caught.
pub async fn uncaught_failure(
    context: OrchestrationContext,
    _: Value,
) -> Result<String, OrchestratorError> {
    Ok(context.call_activity("flaky", &0).await?)
}

/// `chaining(["Paris", "Rome", "Oslo"])` as a sub-orchestration.
pub async fn sub_orchestration(
    context: OrchestrationContext,
    _: Value,
) -> Result<Value, OrchestratorError> {
    let child: Value = context
        .call_sub_orchestrator("chaining", &["Paris", "Rome", "Oslo"], None)
        .await?;
    Ok(json!({"child": child}))
}

/// A counter entity: `add` a number, `reset` (deletes its state), `get`.
pub async fn counter(context: EntityContext<i64>) -> Result<Option<i64>, Error> {
    match context.operation() {
        "add" => {
            let amount: i64 = context.input()?;
            let value = context
                .state()
                .unwrap_or(0)
                .checked_add(amount)
                .ok_or_else(|| Error::bad_request("the counter would overflow"))?;
            context.set_state(value);
        }
        "reset" => context.delete_state(),
        "get" => return Ok(Some(context.state().unwrap_or(0))),
        other => {
            return Err(Error::bad_request(format_args!(
                "the counter has no operation {other}"
            )));
        }
    }
    Ok(None)
}

/// Adds `numbers` (default 1, 2, 3) to counter `key` (default this
/// instance's id) one call at a time, then gives its value.
pub async fn counter_sum(
    context: OrchestrationContext,
    input: Option<Value>,
) -> Result<i64, OrchestratorError> {
    let input = input.unwrap_or(Value::Null);
    let key = input["key"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| context.instance_id());
    let numbers: Vec<i64> =
        serde_json::from_value(input["numbers"].clone()).unwrap_or_else(|_| vec![1, 2, 3]);
    let counter = EntityId::new("counter", &key);
    for number in numbers {
        context
            .call_entity::<_, ()>(&counter, "add", &number)
            .await?;
    }
    Ok(context.call_entity(&counter, "get", &()).await?)
}

/// Signals `add 1` to counter `key` `times` times, without waiting.
pub async fn counter_signals(
    context: OrchestrationContext,
    input: Value,
) -> Result<(), OrchestratorError> {
    let key = input["key"].as_str().unwrap_or("shared");
    let counter = EntityId::new("counter", key);
    for _ in 0..input["times"].as_u64().unwrap_or(1) {
        context.signal_entity(&counter, "add", &1);
    }
    Ok(())
}

/// Every way an orchestration sends several requests to one counter
/// (`key`), in each of two executions: a signal then a call in one step,
/// two calls in one step, then calls in later steps; the first continues
/// as new. Each execution adds 1113; the result is the counter's value.
pub async fn counter_order(
    context: OrchestrationContext,
    input: Value,
) -> Result<i64, OrchestratorError> {
    let key = input["key"].as_str().unwrap_or("order");
    let counter = EntityId::new("counter", key);
    context.signal_entity(&counter, "add", &1);
    let first = context.call_entity::<_, ()>(&counter, "add", &2);
    let both = vec![
        context.call_entity::<_, ()>(&counter, "add", &10),
        context.call_entity::<_, ()>(&counter, "add", &100),
    ];
    first.await?;
    when_all(both).await?;
    context.call_entity::<_, ()>(&counter, "add", &1000).await?;
    if input["continued"] != json!(true) {
        context.continue_as_new(&json!({"key": key, "continued": true}));
        return Ok(0);
    }
    Ok(context.call_entity(&counter, "get", &()).await?)
}
