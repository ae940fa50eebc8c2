// examples/queue_area/src/queue_square.rs
use azure_functions_rocket::{Error, Outputs, QueueMessage};

pub async fn area(message: QueueMessage) -> Result<Outputs, Error> {
    let side: f64 = message.json()?;
    Outputs::new().json(
        "squares",
        &serde_json::json!({"side": side, "area": side * side}),
    )
}
