// src/rectangle.rs
use serde::{Deserialize, Serialize};

use azure_functions_rocket::{Error, HttpRequest, HttpResponse};

#[derive(Deserialize)]
struct Rectangle {
    width: f64,
    height: f64,
}

#[derive(Serialize)]
struct Area {
    area: f64,
}

pub async fn area(req: HttpRequest) -> Result<HttpResponse, Error> {
    let Some(Rectangle { width, height }) = req.json()? else {
        return Err(Error::bad_request(r#"send {"width": 2, "height": 3}"#));
    };
    HttpResponse::json(&Area {
        area: width * height,
    })
}
