//! The `HttpUri` road (docs/native-worker.md, "HTTP"): the worker serves
//! its HTTP functions on a local port, and the host proxies each caller's
//! request there, with header `x-ms-invocation-id`, before it sends the
//! invocation over gRPC. The two halves meet here by that id, whichever
//! comes first: the invocation takes the caller's request, runs the
//! function with its other inputs, and hands the response back to the
//! caller's connection. Functions served by the app's own Rocket routes
//! answer the caller themselves; their invocation only learns that they
//! did.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::request::Request;
use rocket::shield::Shield;
use rocket::tokio::sync::oneshot;
use rocket::{Shutdown, tokio};

use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse};
use crate::registry::Registry;
use crate::server::forwarded::PublicRoutes;

/// The header by which the host names the invocation of a request it
/// proxies.
pub(crate) const INVOCATION_HEADER: &str = "x-ms-invocation-id";

/// How long one half waits for the other: the host gives up forwarding a
/// request after 240 s without activity.
const MEETING_WAIT: Duration = Duration::from_secs(240);

/// A caller's request, as read, and where its response goes.
type Caller = (Result<HttpRequest, Error>, oneshot::Sender<HttpResponse>);

enum Entry {
    /// The caller's request came first.
    Arrived(Caller),
    /// The invocation came first.
    Expected(oneshot::Sender<Caller>),
    /// An own route answered first, with this status.
    Answered(u16),
    /// The invocation of an own route's function came first.
    AwaitingAnswer(oneshot::Sender<u16>),
}

/// Where proxied requests and their invocations meet.
#[derive(Clone, Default)]
pub(crate) struct Handover(Arc<Mutex<HashMap<String, Entry>>>);

/// Marks a request handed to an invocation, which answers its caller.
struct HandedOver;

impl Handover {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The HTTP half: hands the caller's request to its invocation and
    /// waits for the response.
    pub(crate) async fn hand_over(
        &self,
        req: &Request<'_>,
        request: Result<HttpRequest, Error>,
    ) -> HttpResponse {
        req.local_cache(|| Some(HandedOver));
        let Some(id) = req.headers().get_one(INVOCATION_HEADER).map(str::to_owned) else {
            return HttpResponse::error(&Error::BadRequest(format!(
                "no {INVOCATION_HEADER} header: this server takes only the requests the Functions host proxies"
            )));
        };
        let (respond, response) = oneshot::channel();
        let caller = (request, respond);
        // Taken out first: the lock is held only for that.
        let entry = self.entries().remove(&id);
        let waiting = match entry {
            Some(Entry::Expected(invocation)) => invocation.send(caller).err().map(|_| ()),
            Some(other) => {
                self.entries().insert(id.clone(), other);
                return HttpResponse::error(&Error::BadRequest(format!(
                    "a second request for invocation {}",
                    crate::text::quote(&id)
                )));
            }
            None => {
                self.entries().insert(id.clone(), Entry::Arrived(caller));
                None
            }
        };
        if waiting.is_some() {
            return HttpResponse::error(&Error::Unavailable(
                "the invocation stopped waiting for this request".to_owned(),
            ));
        }
        let mut response = std::pin::pin!(response);
        if let Ok(answer) = tokio::time::timeout(MEETING_WAIT, &mut response).await {
            return answer.unwrap_or_else(|_| dropped());
        }
        // Still unclaimed: no invocation is coming for it.
        let unclaimed = matches!(self.entries().get(&id), Some(Entry::Arrived(_)));
        if unclaimed {
            self.entries().remove(&id);
            return HttpResponse::error(&Error::Unavailable(format!(
                "no invocation came for this request within {} s",
                MEETING_WAIT.as_secs()
            )));
        }
        response.await.unwrap_or_else(|_| dropped())
    }

    /// The invocation half: the caller's request of invocation `id`, and
    /// where its response goes; `None` if none came in time.
    pub(crate) async fn take(&self, id: &str) -> Option<Caller> {
        let (expect, arrival) = oneshot::channel();
        // Taken out first: the lock is held only for that.
        let entry = self.entries().remove(id);
        match entry {
            Some(Entry::Arrived(caller)) => return Some(caller),
            Some(other) => {
                self.entries().insert(id.to_owned(), other);
                return None;
            }
            None => {
                self.entries()
                    .insert(id.to_owned(), Entry::Expected(expect));
            }
        }
        let caller = tokio::time::timeout(MEETING_WAIT, arrival).await;
        self.forget_expected(id);
        caller.ok()?.ok()
    }

    /// An own route answered the request of invocation `id`.
    fn answered(&self, id: &str, status: u16) {
        // Taken out first: the lock is held only for that.
        let entry = self.entries().remove(id);
        match entry {
            Some(Entry::AwaitingAnswer(invocation)) => {
                let _ = invocation.send(status);
            }
            Some(other) => {
                self.entries().insert(id.to_owned(), other);
            }
            None => {
                self.entries()
                    .insert(id.to_owned(), Entry::Answered(status));
            }
        }
    }

    /// The invocation half for an own route's function: the status it
    /// answered with; `None` if it did not answer in time.
    pub(crate) async fn answer_of(&self, id: &str) -> Option<u16> {
        let (expect, answer) = oneshot::channel();
        // Taken out first: the lock is held only for that.
        let entry = self.entries().remove(id);
        match entry {
            Some(Entry::Answered(status)) => return Some(status),
            Some(other) => {
                self.entries().insert(id.to_owned(), other);
                return None;
            }
            None => {
                self.entries()
                    .insert(id.to_owned(), Entry::AwaitingAnswer(expect));
            }
        }
        let status = tokio::time::timeout(MEETING_WAIT, answer).await;
        self.forget_expected(id);
        status.ok()?.ok()
    }

    /// Drops what an invocation left waiting for `id`, once it stops.
    fn forget_expected(&self, id: &str) {
        let mut entries = self.entries();
        if matches!(
            entries.get(id),
            Some(Entry::Expected(_) | Entry::AwaitingAnswer(_))
        ) {
            entries.remove(id);
        }
    }
}

fn dropped() -> HttpResponse {
    HttpResponse::error(&Error::Internal(
        "the invocation ended without a response".to_owned(),
    ))
}

/// Where the host proxies callers' requests, and where they meet their
/// invocations.
#[derive(Clone)]
pub(crate) struct Proxied {
    /// What the worker advertises as `HttpUri`.
    pub uri: String,
    pub handover: Handover,
}

/// The worker's HTTP server, up and listening.
pub(crate) struct Server {
    pub proxied: Proxied,
    pub shutdown: Shutdown,
}

/// Serves `registry`'s HTTP functions, at their public paths under
/// `route_prefix`, and the app's own routes on a local port the OS picks.
pub(crate) async fn serve(
    registry: &Registry,
    route_prefix: &str,
    figment: Figment,
) -> Result<Server, String> {
    let public = PublicRoutes::plan_with(
        registry,
        route_prefix,
        "the native worker's HttpUri",
        false,
        |function| Some(std::borrow::Cow::Owned(function.function_json())),
    )
    .map_err(|problems| problems.join("; "))?;
    let own: Vec<rocket::Route> = registry
        .iter()
        .flat_map(|function| function.routes.iter().cloned())
        .collect();
    let handover = Handover::default();
    let (port_sender, port) = oneshot::channel::<u16>();
    let port_sender = Mutex::new(Some(port_sender));
    let answers = handover.clone();
    let rocket = rocket::custom(figment.merge(("address", "127.0.0.1")).merge(("port", 0)))
        .mount("/", own)
        .mount("/", public.rocket_routes())
        .manage(handover.clone())
        .attach(Shield::new())
        .attach(AdHoc::on_response(
            "invocation answered",
            move |req, res| {
                let answers = answers.clone();
                Box::pin(async move {
                    let handed_over = req.local_cache(|| None::<HandedOver>).is_some();
                    if let (false, Some(id)) =
                        (handed_over, req.headers().get_one(INVOCATION_HEADER))
                    {
                        answers.answered(id, res.status().code);
                    }
                })
            },
        ))
        .attach(AdHoc::on_liftoff("port", move |rocket| {
            let port = rocket.config().port;
            let sender = port_sender.lock().ok().and_then(|mut sender| sender.take());
            Box::pin(async move {
                if let Some(sender) = sender {
                    let _ = sender.send(port);
                }
            })
        }));
    let rocket = rocket
        .ignite()
        .await
        .map_err(|error| format!("cannot start the HTTP server: {error}"))?;
    let shutdown = rocket.shutdown();
    tokio::spawn(rocket.launch());
    let port = tokio::time::timeout(Duration::from_secs(30), port)
        .await
        .map_err(|_| "the HTTP server did not start within 30 s".to_owned())?
        .map_err(|_| "the HTTP server stopped as it started".to_owned())?;
    Ok(Server {
        proxied: Proxied {
            uri: format!("http://127.0.0.1:{port}/"),
            handover,
        },
        shutdown,
    })
}
