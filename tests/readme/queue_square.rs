// examples/queue_area/queue_square.rs
use rusty_function::error::Error;
use rusty_function::outputs::Outputs;
use rusty_function::trigger::QueueMessage;

pub async fn area(message: QueueMessage) -> Result<Outputs, Error> {
    let side: f64 = message.json()?;
    Outputs::new().json(
        "squares",
        &serde_json::json!({"side": side, "area": side * side}),
    )
}
