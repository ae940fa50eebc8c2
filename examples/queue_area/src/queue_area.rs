//! QueueArea: a radius from the queue, its circle's area to another queue.

use azure_functions_rocket::text::quote;
use azure_functions_rocket::{Error, Outputs, QueueMessage, log};
use rusty_function::circle::Circle;
use serde::{Deserialize, Serialize};

/// A message is a bare number or an object with a radius.
#[derive(Deserialize)]
#[serde(untagged)]
enum Radius {
    Bare(f64),
    Object { radius: f64 },
}

#[derive(Serialize)]
struct Area {
    radius: f64,
    area: f64,
}

pub async fn area(message: QueueMessage) -> Result<Outputs, Error> {
    if let Some(count) = message.dequeue_count {
        log::field("dequeue_count", count);
    }
    let radius = match message.json::<Radius>() {
        Ok(Radius::Bare(radius) | Radius::Object { radius }) => radius,
        Err(_) => {
            return Err(Error::BadRequest(format!(
                r#"a message is a radius: 2 or {{"radius": 2}}, not {}"#,
                quote(&message.text)
            )));
        }
    };
    log::field("radius", radius);
    let circle = Circle::new(radius).map_err(Error::bad_request)?;
    log::field("area", circle.area());
    // An object, never a bare string: the host would decode a string that
    // happens to be valid base64.
    Outputs::new().json(
        "areas",
        &Area {
            radius: circle.radius(),
            area: circle.area(),
        },
    )
}
