//! An app in proxying mode (`"enableProxyingHttpRequest": true` in
//! host.json, the mode Flex Consumption is built for): the host sends HTTP
//! functions the caller's request itself and streams the response back.
//!
//! - Hello is a function of the registry, as in any mode: `GET
//!   /api/hello/{name?}` answers `hello, <name>`.
//! - Ticks is served by a Rocket route of the app's own, mounted next to
//!   the registry's: `GET /api/ticks?count=3` streams one Server-Sent Event
//!   every 200 ms, each reaching the caller as it is sent.

use std::time::Duration;

use azure_functions_rocket::{AuthLevel, Error, Function, HttpRequest, HttpResponse, Registry};
use rocket::response::stream::{Event, EventStream};
use rocket::tokio::time::sleep;
use rocket::{get, routes};

/// `hello, <name>`, the name from the route (`world` without one).
pub async fn hello(req: HttpRequest) -> Result<HttpResponse, Error> {
    let name = req.param("name").unwrap_or("world");
    Ok(HttpResponse::new(200, format!("hello, {name}")))
}

/// `count` events (5 by default, at most 100), 200 ms apart: `tick 1`, ...
#[get("/api/ticks?<count>")]
pub fn ticks(count: Option<u32>) -> EventStream![] {
    let count = count.unwrap_or(5).min(100);
    EventStream! {
        for n in 1..=count {
            yield Event::data(format!("tick {n}"));
            if n < count {
                sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Every function of the app, declared whole; each also has its hand-kept
/// folder beside Cargo.toml, which must say the same.
pub fn registry() -> Registry {
    Registry::new()
        .with(
            Function::http("Hello", hello)
                .route("hello/{name?}")
                .methods(["get"])
                .auth_level(AuthLevel::Anonymous),
        )
        .with(
            Function::routes("Ticks", routes![ticks])
                .route("ticks")
                .methods(["get"])
                .auth_level(AuthLevel::Anonymous),
        )
}
