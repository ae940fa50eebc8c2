//! The example app run end to end by the local host, which plays the
//! Durable extension in memory: orchestrations started, polled, sent events
//! and terminated over the management API, activities and timers run for
//! real. Each test runs the app both as a custom handler and, built with
//! `--features native`, as the native language worker under the host's
//! gRPC side (`name_native`): the same assertions.

/// Each test in both modes.
macro_rules! both_roads {
    ($($name:ident, $native:ident, $body:ident;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                $body(Road::CustomHandler).await;
            }

            #[cfg(feature = "native")]
            #[tokio::test]
            async fn $native() {
                $body(Road::Native).await;
            }
        )*
    };
}

use std::path::Path;
use std::time::{Duration, Instant};

use cargo_azfunc::host::served::{Road, ServedApp};
use serde_json::{Value, json};

const API: &str = "/runtime/webhooks/durabletask";

/// The example app served by cargo-azfunc.
struct Running {
    app: ServedApp,
}

async fn serve(road: Road) -> Running {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let executable = Some(env!("CARGO_BIN_EXE_durable_hello").into());
    let app = ServedApp::start_on(root, executable, false, road)
        .await
        .expect("the example app is served");
    Running { app }
}

/// The host indexed every binding of every function the registry declares
/// (orchestrations, activities, entities, the HTTP starter's durable
/// client), as the worker declared them.
#[cfg(feature = "native")]
#[tokio::test]
async fn the_host_indexed_every_binding_the_registry_declares() {
    let running = serve(Road::Native).await;
    let indexed = running.app.handler.indexed_functions().expect("indexed");
    let received: Vec<_> = indexed
        .iter()
        .map(|f| (f.name.clone(), f.bindings.clone()))
        .collect();
    let mut declared: Vec<_> = durable_hello::registry()
        .function_jsons()
        .map(|(name, json)| (name.to_owned(), json.bindings))
        .collect();
    // The host keeps functions sorted by name.
    declared.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(received.len(), declared.len());
    assert_eq!(received, declared);
}

impl Running {
    async fn call(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let (status, _, value) = self.call_with(method, path, &[], body).await;
        (status, value)
    }

    /// As [`Running::call`], with `Content-Type: application/json`.
    async fn call_json(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let json = [("Content-Type", "application/json")];
        let (status, _, value) = self.call_with(method, path, &json, body).await;
        (status, value)
    }

    /// A call with extra headers: status, reply headers, JSON body.
    async fn call_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, Vec<(String, String)>, Value) {
        let reply = self
            .app
            .caller
            .request_with(method, path, headers, body.as_bytes(), body.len().max(1))
            .await;
        let value = if reply.body.is_empty() {
            Value::Null
        } else {
            reply.json()
        };
        let headers = reply
            .headers
            .iter()
            .map(|(name, value)| {
                let value = value.to_str().unwrap_or_default().to_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        (reply.status, headers, value)
    }

    /// Starts orchestrator `name`; its instance id.
    async fn start(&self, name: &str, input: &str) -> String {
        let (status, body) = self
            .call("POST", &format!("{API}/orchestrators/{name}"), input)
            .await;
        assert_eq!(status, 202, "{body}");
        let id = body["id"].as_str().expect("an id").to_owned();
        let port = self.app.caller.port();
        assert_eq!(
            body["statusQueryGetUri"],
            format!(
                "http://127.0.0.1:{port}{API}/instances/{id}?taskHub=DurableHello&connection=Storage"
            )
        );
        id
    }

    /// Polls the status until `done` holds for it, at most `limit`.
    async fn poll(
        &self,
        id: &str,
        limit: Duration,
        done: impl Fn(u16, &Value) -> bool,
    ) -> (u16, Value) {
        let deadline = Instant::now() + limit;
        loop {
            let (status, body) = self.call("GET", &format!("{API}/instances/{id}"), "").await;
            if done(status, &body) {
                return (status, body);
            }
            assert!(
                Instant::now() < deadline,
                "gave up on {id}: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn finished(&self, id: &str) -> Value {
        let (status, body) = self
            .poll(id, Duration::from_secs(20), |status, _| status == 200)
            .await;
        assert_eq!(status, 200);
        body
    }
}

async fn chaining_runs_to_completion_and_the_console_shows_each_step_on(road: Road) {
    let running = serve(road).await;
    let id = running.start("chaining", "").await;
    let status = running.finished(&id).await;
    assert_eq!(status["runtimeStatus"], "Completed", "{status}");
    assert_eq!(
        status["output"],
        json!(["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!"])
    );
    assert_eq!(status["name"], "chaining");
    assert!(
        running
            .app
            .console
            .contains("calls activity say_hello (task 1) with \"Tokyo\"")
    );
    assert!(running.app.console.contains("returned \"Hello, London!\""));
    assert!(running.app.console.contains("events replayed"));
}

async fn every_quick_reference_orchestration_ends_as_it_should_on(road: Road) {
    let running = serve(road).await;
    let cases = [
        ("fan_out_fan_in", "4", "Completed", json!(30)),
        (
            "timer_then_activity",
            "1",
            "Completed",
            json!("Hello, after-timer!"),
        ),
        ("retry_catch", "", "Completed", json!("ok")),
        ("continue_as_new", "0", "Completed", json!(3)),
        (
            "sub_orchestration",
            "",
            "Completed",
            json!({"child": ["Hello, Paris!", "Hello, Rome!", "Hello, Oslo!"]}),
        ),
        (
            "external_event_timeout",
            "1",
            "Completed",
            json!("timed out"),
        ),
    ];
    let mut ids = Vec::new();
    for (name, input, _, _) in &cases {
        ids.push(running.start(name, input).await);
    }
    for ((name, _, runtime, output), id) in cases.iter().zip(&ids) {
        let status = running.finished(id).await;
        assert_eq!(status["runtimeStatus"], *runtime, "{name}: {status}");
        assert_eq!(status["output"], *output, "{name}: {status}");
    }
    let failed = running.start("uncaught_failure", "").await;
    let status = running.finished(&failed).await;
    assert_eq!(status["runtimeStatus"], "Failed", "{status}");
    let message = status["output"]["errorMessage"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("Activity task #1 failed"), "{status}");
    let (_, caught) = running
        .call("GET", &format!("{API}/instances/{}", ids[2]), "")
        .await;
    // The activity's own failure, not the message that wraps it.
    let first_error = caught["customStatus"]["firstError"]
        .as_str()
        .unwrap_or_default();
    assert!(
        !first_error.is_empty() && !first_error.contains("Activity task #"),
        "{caught}"
    );
}

async fn an_approval_event_completes_the_waiting_orchestration_on(road: Road) {
    let running = serve(road).await;
    let id = running.start("external_event_timeout", "60").await;
    let (status, waiting) = running
        .poll(&id, Duration::from_secs(20), |_, body| {
            body["customStatus"] == json!({"stage": "waiting"})
        })
        .await;
    assert_eq!(status, 202);
    assert_eq!(waiting["runtimeStatus"], "Running");
    let raise = format!("{API}/instances/{id}/raiseEvent/approval");
    let (status, _) = running.call_json("POST", &raise, r#"{"by": "test"}"#).await;
    assert_eq!(status, 202);
    let done = running.finished(&id).await;
    assert_eq!(done["runtimeStatus"], "Completed");
    assert_eq!(done["output"], json!({"approved": {"by": "test"}}));
    assert_eq!(done["customStatus"], json!({"stage": "approved"}));
    // Too late now.
    let (status, body) = running.call("POST", &raise, "1").await;
    assert_eq!(status, 410, "{body}");
}

async fn a_terminated_instance_reports_terminated_on(road: Road) {
    let running = serve(road).await;
    let id = running.start("external_event_timeout", "600").await;
    running
        .poll(&id, Duration::from_secs(20), |_, body| {
            body["runtimeStatus"] == "Running"
        })
        .await;
    let (status, _) = running
        .call(
            "POST",
            &format!("{API}/instances/{id}/terminate?reason=enough"),
            "",
        )
        .await;
    assert_eq!(status, 202);
    let done = running.finished(&id).await;
    assert_eq!(done["runtimeStatus"], "Terminated", "{done}");
    assert_eq!(done["output"], "enough");
    let (status, _) = running
        .call("POST", &format!("{API}/instances/{id}/terminate"), "")
        .await;
    assert_eq!(status, 410);
    // The reason is stored as raw text, and the status reads it as JSON
    // where it parses, as the extension does.
    let id = running.start("external_event_timeout", "600").await;
    running
        .poll(&id, Duration::from_secs(20), |_, body| {
            body["runtimeStatus"] == "Running"
        })
        .await;
    let reason = "%7B%22why%22%3A5%7D";
    let (status, _) = running
        .call(
            "POST",
            &format!("{API}/instances/{id}/terminate?reason={reason}"),
            "",
        )
        .await;
    assert_eq!(status, 202);
    let done = running.finished(&id).await;
    assert_eq!(done["output"], serde_json::json!({"why": 5}), "{done}");
}

async fn the_management_api_refuses_what_it_cannot_do_with_a_reason_on(road: Road) {
    let running = serve(road).await;
    let cases = [
        ("GET", format!("{API}/instances/nope"), "", 404),
        (
            "POST",
            format!("{API}/instances/nope/raiseEvent/approval"),
            "1",
            404,
        ),
        ("POST", format!("{API}/instances/nope/terminate"), "", 404),
        ("DELETE", format!("{API}/instances/nope"), "", 404),
        (
            "POST",
            format!("{API}/orchestrators/no_such_orchestrator"),
            "",
            400,
        ),
        ("POST", format!("{API}/orchestrators/say_hello"), "", 400),
        (
            "POST",
            format!("{API}/orchestrators/chaining"),
            "{not json",
            400,
        ),
        ("PUT", format!("{API}/whatever"), "", 404),
    ];
    for (method, path, body, expected) in cases {
        let (status, answer) = running.call(method, &path, body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
    }
    let id = running.start("chaining", r#"["Oslo"]"#).await;
    running.finished(&id).await;
    // Finished comes before the body's checks.
    let (status, _) = running
        .call(
            "POST",
            &format!("{API}/instances/{id}/raiseEvent/x"),
            "not json",
        )
        .await;
    assert_eq!(status, 410);
    let (status, list) = running.call("GET", &format!("{API}/instances"), "").await;
    assert_eq!(status, 200);
    assert!(
        list.as_array()
            .is_some_and(|l| l.iter().any(|s| s["instanceId"] == id.as_str()))
    );
    let (status, purged) = running
        .call("DELETE", &format!("{API}/instances/{id}"), "")
        .await;
    assert_eq!((status, purged), (200, json!({"instancesDeleted": 1})));
    let (status, _) = running
        .call("GET", &format!("{API}/instances/{id}"), "")
        .await;
    assert_eq!(status, 404);
}

async fn the_http_starter_answers_202_and_its_status_url_leads_to_the_result_on(road: Road) {
    let running = serve(road).await;
    let (status, started) = running
        .call(
            "POST",
            "/api/orchestrators/chaining",
            r#"["Kyiv", "Accra"]"#,
        )
        .await;
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_str().expect("an id").to_owned();
    let url = started["statusQueryGetUri"].as_str().expect("a status URL");
    let port = running.app.caller.port();
    let path = url
        .strip_prefix(&format!("http://127.0.0.1:{port}"))
        .expect("a URL on this host");
    // As the extension builds them: every URL names the hub and the
    // connection; terminate, suspend and resume take a reason.
    let at = format!("{API}/instances/{id}");
    assert_eq!(
        path,
        format!("{at}?taskHub=DurableHello&connection=Storage")
    );
    let suffix = "taskHub=DurableHello&connection=Storage";
    for (key, tail) in [
        (
            "sendEventPostUri",
            format!("/raiseEvent/{{eventName}}?{suffix}"),
        ),
        (
            "terminatePostUri",
            format!("/terminate?reason={{text}}&{suffix}"),
        ),
        ("purgeHistoryDeleteUri", format!("?{suffix}")),
        ("restartPostUri", format!("/restart?{suffix}")),
        (
            "suspendPostUri",
            format!("/suspend?reason={{text}}&{suffix}"),
        ),
        ("resumePostUri", format!("/resume?reason={{text}}&{suffix}")),
    ] {
        assert_eq!(
            started[key],
            format!("http://127.0.0.1:{port}{at}{tail}"),
            "{key}: {started}"
        );
    }
    let done = running.finished(&id).await;
    assert_eq!(done["output"], json!(["Hello, Kyiv!", "Hello, Accra!"]));
    // An orchestrator the app does not have: the starter's error reaches
    // the caller.
    let (status, body) = running.call("POST", "/api/orchestrators/nothing", "").await;
    assert_eq!(status, 400, "{body}");
}

async fn the_durable_client_drives_instances_through_the_management_api_on(road: Road) {
    use azure_functions_rocket::durable::DurableClient;
    let running = serve(road).await;
    let client = DurableClient {
        task_hub: "DurableHello".to_owned(),
        base_url: format!("http://127.0.0.1:{}{API}", running.app.caller.port()),
        query: String::new(),
        connection: "Storage".to_owned(),
    };
    let id = client
        .start_new("external_event_timeout", Some("client-1"), &600)
        .await
        .expect("started");
    assert_eq!(id, "client-1");
    running
        .poll(&id, Duration::from_secs(20), |_, body| {
            body["runtimeStatus"] == "Running"
        })
        .await;
    let status = client.status(&id).await.expect("a status").expect("known");
    assert_eq!(
        (status.name.as_str(), status.runtime_status.as_str()),
        ("external_event_timeout", "Running")
    );
    assert_eq!(status.input, json!(600));
    client
        .raise_event(&id, "APPROVAL", &json!({"by": "client"}))
        .await
        .expect("raised");
    let done = running.finished(&id).await;
    assert_eq!(done["output"], json!({"approved": {"by": "client"}}));
    // Done: no more events, and no terminating.
    let error = client.raise_event(&id, "approval", &1).await.unwrap_err();
    assert!(error.message().contains("410"), "{error:?}");
    let error = client.terminate(&id, "late").await.unwrap_err();
    assert!(error.message().contains("410"), "{error:?}");

    let other = client
        .start_new("external_event_timeout", None, &600)
        .await
        .expect("started");
    running
        .poll(&other, Duration::from_secs(20), |_, body| {
            body["runtimeStatus"] == "Running"
        })
        .await;
    client.terminate(&other, "stop").await.expect("terminated");
    let done = running.finished(&other).await;
    assert_eq!(done["runtimeStatus"], "Terminated");

    assert!(client.purge(&id).await.expect("purged"));
    assert!(!client.purge(&id).await.expect("answered"));
    assert_eq!(client.status(&id).await.expect("answered"), None);
    assert_eq!(client.status("never").await.expect("answered"), None);
    let error = client
        .raise_event("never", "approval", &1)
        .await
        .unwrap_err();
    assert_eq!(error.status(), 404);
    let error = client.start_new("no_such", None, &()).await.unwrap_err();
    assert_eq!(error.status(), 400);
}

async fn a_retried_activity_succeeds_on_its_third_attempt_after_real_waits_on(road: Road) {
    let running = serve(road).await;
    let started = Instant::now();
    let id = running.start("retry_policy", "").await;
    let (_, done) = running
        .poll(&id, Duration::from_secs(40), |status, _| status == 200)
        .await;
    assert_eq!(done["runtimeStatus"], "Completed", "{done}");
    assert_eq!(done["output"], "succeeded on attempt 3");
    // 5 s, then 5 s * 2.0, on the real clock.
    assert!(
        started.elapsed() >= Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(running.app.console.contains("(task 1 of"));
    assert!(running.app.console.contains("timer 2 set"));
    assert!(running.app.console.contains("timer 3 set"));
}

/// The instance ids of a list answer, in order.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|all| {
            all.iter()
                .filter_map(|s| s["instanceId"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn the_list_filters_by_status_and_time_and_pages_with_a_continuation_token_on(road: Road) {
    let running = serve(road).await;
    let done: Vec<String> = {
        let mut done = Vec::new();
        for city in ["Oslo", "Lima", "Rome"] {
            let id = running.start("chaining", &format!(r#"["{city}"]"#)).await;
            running.finished(&id).await;
            done.push(id);
        }
        done
    };
    let waiting = running.start("external_event_timeout", "60").await;
    running
        .poll(&waiting, Duration::from_secs(20), |_, body| {
            body["runtimeStatus"] == "Running"
        })
        .await;

    let list = |query: &str| format!("{API}/instances{query}");
    let (status, completed) = running
        .call("GET", &list("?runtimeStatus=completed,Failed"), "")
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids(&completed), done);
    // The list shows inputs unless told not to.
    assert_eq!(completed[0]["input"], json!(["Oslo"]));
    let (_, hidden) = running
        .call("GET", &list("?runtimeStatus=Completed&showInput=false"), "")
        .await;
    assert_eq!(hidden[0]["input"], Value::Null);
    let (_, running_only) = running
        .call("GET", &list("?runtimeStatus=Running"), "")
        .await;
    assert_eq!(ids(&running_only), std::slice::from_ref(&waiting));
    let (_, future) = running
        .call("GET", &list("?createdTimeFrom=2999-01-01T00:00:00Z"), "")
        .await;
    assert_eq!(future, json!([]));
    let (_, past) = running
        .call(
            "GET",
            &list("?createdTimeFrom=2000-01-01&createdTimeTo=2999-01-01T00:00:00Z"),
            "",
        )
        .await;
    assert_eq!(ids(&past).len(), 4);

    // Pages of two: the token leads to the rest, and the last page has none.
    let first = running
        .app
        .caller
        .request_with("GET", &list("?top=2"), &[], b"", 0)
        .await;
    let token = first
        .headers
        .get("x-ms-continuation-token")
        .and_then(|t| t.to_str().ok())
        .expect("a continuation token")
        .to_owned();
    let second = running
        .app
        .caller
        .request_with(
            "GET",
            &list("?top=2"),
            &[("x-ms-continuation-token", &token)],
            b"",
            0,
        )
        .await;
    assert!(second.headers.get("x-ms-continuation-token").is_none());
    let mut paged = ids(&first.json());
    paged.extend(ids(&second.json()));
    assert_eq!(paged, ids(&past));

    for (query, said) in [
        ("?runtimeStatus=Sleeping", "runtimeStatus \"Sleeping\""),
        (
            "?createdTimeFrom=yesterday",
            "createdTimeFrom \"yesterday\"",
        ),
        ("?top=0", "top \"0\""),
        ("?showInput=maybe", "showInput must be true or false"),
    ] {
        let (status, body) = running.call("GET", &list(query), "").await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| m.contains(said)),
            "{query}: {body}"
        );
    }
}

/// One page of the list: its instance ids and the next page's token.
async fn page(running: &Running, token: Option<&str>) -> (Vec<String>, Option<String>) {
    let headers: Vec<(&str, &str)> = token
        .map(|token| ("x-ms-continuation-token", token))
        .into_iter()
        .collect();
    let (status, headers, body) = running
        .call_with("GET", &format!("{API}/instances?top=2"), &headers, "")
        .await;
    assert_eq!(status, 200, "{body}");
    (
        ids(&body),
        header(&headers, "x-ms-continuation-token").map(str::to_owned),
    )
}

async fn a_purge_or_a_new_instance_between_pages_neither_skips_nor_repeats_on(road: Road) {
    let running = serve(road).await;
    let mut started = Vec::new();
    for n in 0..4 {
        let id = running.start("chaining", &format!(r#"["c{n}"]"#)).await;
        running.finished(&id).await;
        started.push(id);
    }
    let (first, token) = page(&running, None).await;
    assert_eq!(first, started[..2]);
    let token = token.expect("a token after the first page");
    // The first page's instances purged: the next page still starts after
    // them (a token that counted places would skip two).
    for id in &first {
        let (status, body) = running
            .call("DELETE", &format!("{API}/instances/{id}"), "")
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let late = running.start("chaining", r#"["late"]"#).await;
    running.finished(&late).await;
    let (second, token) = page(&running, Some(&token)).await;
    assert_eq!(second, started[2..]);
    // The instance started meanwhile comes last, once.
    let (third, token) = page(&running, token.as_deref()).await;
    assert_eq!(third, [late]);
    assert_eq!(token, None);

    // A token this host did not give: 400, with what to do.
    let (_, Some(real)) = page(&running, None).await else {
        panic!("two pages");
    };
    let mut forged = real.clone();
    forged.replace_range(..16, &format!("{:016x}", 0));
    for bad in ["2", "not a token", forged.as_str()] {
        let (status, _, body) = running
            .call_with(
                "GET",
                &format!("{API}/instances?top=2"),
                &[("x-ms-continuation-token", bad)],
                "",
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("not one this host gave"), "{message}");
    }
}

async fn restart_runs_an_instance_again_under_a_new_id_or_its_own_on(road: Road) {
    let running = serve(road).await;
    let id = running.start("chaining", r#"["Oslo"]"#).await;
    let first = running.finished(&id).await;

    let (status, again) = running
        .call("POST", &format!("{API}/instances/{id}/restart"), "")
        .await;
    assert_eq!(status, 202, "{again}");
    let new_id = again["id"].as_str().expect("an id").to_owned();
    assert_ne!(new_id, id);
    let rerun = running.finished(&new_id).await;
    assert_eq!(rerun["output"], first["output"]);
    assert_eq!(rerun["input"], json!(["Oslo"]));

    let same = format!("{API}/instances/{id}/restart?restartWithNewInstanceId=false");
    let (status, again) = running.call("POST", &same, "").await;
    assert_eq!((status, again["id"].as_str()), (202, Some(id.as_str())));
    assert_eq!(running.finished(&id).await["output"], first["output"]);

    let waiting = running.start("external_event_timeout", "60").await;
    running
        .poll(&waiting, Duration::from_secs(20), |_, body| {
            body["runtimeStatus"] == "Running"
        })
        .await;
    let (status, body) = running
        .call(
            "POST",
            &format!("{API}/instances/{waiting}/restart?restartWithNewInstanceId=false"),
            "",
        )
        .await;
    assert_eq!(status, 500, "{body}");
    let (status, _) = running
        .call("POST", &format!("{API}/instances/nope/restart"), "")
        .await;
    assert_eq!(status, 400);
}

impl Running {
    /// Polls the entity's state until `done` holds for it, at most 20 s.
    async fn entity_state(&self, path: &str, done: impl Fn(u16, &Value) -> bool) -> (u16, Value) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, body) = self
                .call("GET", &format!("{API}/entities/{path}"), "")
                .await;
            if done(status, &body) {
                return (status, body);
            }
            assert!(
                Instant::now() < deadline,
                "gave up on entity {path}: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signals `op` with `body` of `content_type`; the status.
    async fn signal(&self, path: &str, content_type: &str, body: &str) -> u16 {
        self.app
            .caller
            .request_with(
                "POST",
                &format!("{API}/entities/{path}"),
                &[("Content-Type", content_type)],
                body.as_bytes(),
                body.len(),
            )
            .await
            .status
    }
}

async fn the_counter_takes_signals_over_the_api_in_order_and_shows_its_state_on(road: Road) {
    let running = serve(road).await;
    let (status, _) = running
        .call("GET", &format!("{API}/entities/counter/t1"), "")
        .await;
    assert_eq!(status, 404, "no state yet");
    let json = "application/json";
    assert_eq!(running.signal("counter/t1?op=add", json, "5").await, 202);
    assert_eq!(running.signal("counter/t1?op=add", json, "5").await, 202);
    // Not JSON by its type: the input is the string "7", which `add`
    // refuses; the failure must leave the state alone.
    assert_eq!(
        running.signal("Counter/t1?op=add", "text/plain", "7").await,
        202
    );
    assert_eq!(running.signal("counter/t1?op=add", json, "5").await, 202);
    let (_, state) = running
        .entity_state("counter/t1", |status, body| {
            status == 200 && *body == json!(15)
        })
        .await;
    assert_eq!(state, json!(15));
    assert!(running.app.console.contains("operation add failed"));

    assert_eq!(running.signal("counter/t1?op=reset", json, "").await, 202);
    running
        .entity_state("counter/t1", |status, _| status == 404)
        .await;

    let (status, body) = running
        .call("POST", &format!("{API}/entities/counter/t1?op=add"), "{")
        .await;
    assert_eq!(
        status, 202,
        "a body without a JSON type is a string: {body}"
    );
    assert_eq!(running.signal("counter/t2?op=add", json, "{").await, 400);
    assert_eq!(running.signal("nope/t1?op=add", json, "1").await, 400);
}

async fn the_durable_client_signals_entities_and_reads_their_state_on(road: Road) {
    use azure_functions_rocket::durable::{DurableClient, EntityId};
    let running = serve(road).await;
    let client = DurableClient {
        task_hub: "DurableHello".to_owned(),
        base_url: format!("http://127.0.0.1:{}{API}", running.app.caller.port()),
        query: String::new(),
        connection: "Storage".to_owned(),
    };
    let counter = EntityId::new("counter", "client key+1");
    assert_eq!(
        client.read_entity_state::<i64>(&counter).await.unwrap(),
        None
    );
    for amount in [1, 2, 3] {
        client
            .signal_entity(&counter, "add", &amount)
            .await
            .unwrap();
    }
    running
        .entity_state("counter/client%20key%2B1", |status, body| {
            status == 200 && *body == json!(6)
        })
        .await;
    assert_eq!(
        client.read_entity_state::<i64>(&counter).await.unwrap(),
        Some(6)
    );
    let error = client
        .signal_entity(&EntityId::new("nope", "a"), "add", &1)
        .await
        .unwrap_err();
    assert_eq!(error.status(), 400);
}

async fn an_orchestration_calls_the_counter_and_completes_with_its_value_on(road: Road) {
    let running = serve(road).await;
    let id = running
        .start("counter_sum", r#"{"key": "sum", "numbers": [4, 5, 6]}"#)
        .await;
    let status = running.finished(&id).await;
    assert_eq!(status["runtimeStatus"], "Completed", "{status}");
    assert_eq!(status["output"], json!(15));
    let (status, state) = running
        .call("GET", &format!("{API}/entities/counter/sum"), "")
        .await;
    assert_eq!((status, state), (200, json!(15)));

    // Again on the same counter: the calls see the state the first left.
    let id = running
        .start("counter_sum", r#"{"key": "sum", "numbers": [1]}"#)
        .await;
    assert_eq!(running.finished(&id).await["output"], json!(16));

    // Keyed by its own instance id, with the default numbers.
    let id = running.start("counter_sum", "").await;
    assert_eq!(running.finished(&id).await["output"], json!(6));
}

async fn signals_from_several_orchestrations_lose_no_update_and_add_none_on(road: Road) {
    let running = serve(road).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(
            running
                .start("counter_signals", r#"{"key": "shared", "times": 5}"#)
                .await,
        );
    }
    for id in &ids {
        assert_eq!(running.finished(id).await["runtimeStatus"], "Completed");
    }
    running
        .entity_state("counter/shared", |status, body| {
            status == 200 && body.as_i64() >= Some(20)
        })
        .await;
    // Nothing sent twice: it stays at 20.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, state) = running
        .call("GET", &format!("{API}/entities/counter/shared"), "")
        .await;
    assert_eq!(state, json!(20));
}

/// With the reorder window on, as on the Azure Storage backend, every
/// request of every step and execution reaches the counter exactly once:
/// unlabelled requests would be dropped (the call hangs) and duplicates
/// would add twice.
async fn every_entity_request_is_delivered_once_through_the_reorder_window_on(road: Road) {
    let running = serve(road).await;
    let ids = [
        running.start("counter_order", r#"{"key": "order"}"#).await,
        running.start("counter_order", r#"{"key": "order"}"#).await,
    ];
    let mut outputs = Vec::new();
    for id in &ids {
        let status = running.finished(id).await;
        assert_eq!(status["runtimeStatus"], "Completed", "{status}");
        outputs.push(status["output"].as_i64());
    }
    // Two instances of two executions each, 1113 apiece.
    assert!(outputs.contains(&Some(4 * 1113)), "{outputs:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, state) = running
        .call("GET", &format!("{API}/entities/counter/order"), "")
        .await;
    assert_eq!((status, state), (200, json!(4 * 1113)));
}

async fn a_failed_entity_call_fails_the_orchestration_and_leaves_the_state_on(road: Road) {
    let running = serve(road).await;
    let id = running
        .start(
            "counter_sum",
            r#"{"key": "big", "numbers": [9223372036854775807, 1]}"#,
        )
        .await;
    let status = running.finished(&id).await;
    assert_eq!(status["runtimeStatus"], "Failed", "{status}");
    assert!(
        status["output"].to_string().contains(
            "Operation 'add' of entity '@counter@big' failed: the counter would overflow"
        ),
        "{status}"
    );
    let (status, state) = running
        .call("GET", &format!("{API}/entities/counter/big"), "")
        .await;
    assert_eq!((status, state), (200, json!(i64::MAX)));
}

impl Running {
    /// Starts `name` under instance id `id` with `input`.
    async fn start_as(&self, name: &str, id: &str, input: &str) {
        let (status, body) = self
            .call("POST", &format!("{API}/orchestrators/{name}/{id}"), input)
            .await;
        assert_eq!(status, 202, "{body}");
    }

    /// Waits until `id` runs, then terminates it and waits until it is
    /// Terminated.
    async fn terminate(&self, id: &str) {
        self.poll(id, Duration::from_secs(20), |_, body| {
            body["runtimeStatus"] == "Running"
        })
        .await;
        let path = format!("{API}/instances/{id}/terminate");
        assert_eq!(self.call("POST", &path, "").await.0, 202);
        let done = self.finished(id).await;
        assert_eq!(done["runtimeStatus"], "Terminated", "{done}");
    }

    /// `id` is still Running after the old execution's 1-3 s timer and
    /// activity would have come back, then is terminated.
    async fn still_running_after_the_old_timer(&self, id: &str) {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let (status, body) = self.call("GET", &format!("{API}/instances/{id}"), "").await;
        assert_eq!(
            (status, &body["runtimeStatus"]),
            (202, &json!("Running")),
            "the new execution saw the old one's results: {body}"
        );
        self.terminate(id).await;
    }
}

async fn a_new_execution_under_the_same_id_sees_none_of_the_old_ones_results_on(road: Road) {
    let running = serve(road).await;
    // Terminated: the 3 s timer of the first run is still pending.
    running.start_as("timer_then_activity", "T1", "3").await;
    running.terminate("T1").await;
    running.start_as("timer_then_activity", "T1", "60").await;
    running.still_running_after_the_old_timer("T1").await;

    // Purged after terminate: the same, with no instance left between.
    running.start_as("timer_then_activity", "T2", "3").await;
    running.terminate("T2").await;
    let (status, _) = running
        .call("DELETE", &format!("{API}/instances/T2"), "")
        .await;
    assert_eq!(status, 200);
    running.start_as("timer_then_activity", "T2", "60").await;
    running.still_running_after_the_old_timer("T2").await;

    // Restarted under its own id: input 60, while the 3 s timer of the
    // execution before the last one is still pending.
    running.start_as("timer_then_activity", "T3", "3").await;
    running.terminate("T3").await;
    running.start_as("timer_then_activity", "T3", "60").await;
    running.terminate("T3").await;
    let restart = format!("{API}/instances/T3/restart?restartWithNewInstanceId=false");
    assert_eq!(running.call("POST", &restart, "").await.0, 202);
    running.still_running_after_the_old_timer("T3").await;

    // Continued as new with a 1 s timer and an activity pending.
    running.start_as("monitor", "M1", "").await;
    running
        .poll("M1", Duration::from_secs(20), |_, body| body["input"] == 30)
        .await;
    running.still_running_after_the_old_timer("M1").await;
    assert!(running.app.console.contains("a message dropped"));
}

/// The value of header `name` (any case) among `headers`.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

async fn the_management_api_answers_with_the_extensions_status_codes_and_headers_on(road: Road) {
    let running = serve(road).await;
    let port = running.app.caller.port();
    let base = format!("http://127.0.0.1:{port}{API}");
    // A running instance (W), a finished one (C) and a failed one (F).
    running.start_as("external_event_timeout", "W", "600").await;
    running.start_as("chaining", "C", r#"["Oslo"]"#).await;
    running.start_as("uncaught_failure", "F", "").await;
    running
        .poll("W", Duration::from_secs(20), |_, body| {
            body["runtimeStatus"] == "Running"
        })
        .await;
    running.finished("C").await;
    running.finished("F").await;

    let long = "x".repeat(257);
    let at_limit = "y".repeat(256);
    let json = ("Content-Type", "application/json");
    let text = ("Content-Type", "text/plain");
    /// Method, path, content type, body, status.
    type Case<'a> = (&'a str, String, Option<(&'a str, &'a str)>, &'a str, u16);
    let cases: Vec<Case> = vec![
        ("POST", format!("{API}/orchestrators/nope"), None, "", 400),
        (
            "POST",
            format!("{API}/orchestrators/say_hello"),
            None,
            "",
            400,
        ),
        (
            "POST",
            format!("{API}/orchestrators/chaining/W"),
            None,
            "",
            500,
        ),
        (
            "POST",
            format!("{API}/orchestrators/chaining/@counter@x"),
            None,
            "",
            400,
        ),
        // `@` decoded is still `@`: refused.
        (
            "POST",
            format!("{API}/orchestrators/chaining/%40counter%40x"),
            None,
            "",
            400,
        ),
        // Kestrel refuses a NUL in the path.
        (
            "POST",
            format!("{API}/orchestrators/chaining/a%00b"),
            None,
            "",
            400,
        ),
        (
            "POST",
            format!("{API}/orchestrators/chaining/{long}"),
            None,
            "",
            400,
        ),
        (
            "POST",
            format!("{API}/instances/nope/restart"),
            None,
            "",
            400,
        ),
        (
            "POST",
            format!("{API}/instances/W/restart?restartWithNewInstanceId=false"),
            None,
            "",
            500,
        ),
        (
            "POST",
            format!("{API}/entities/nope/k?op=add"),
            Some(json),
            "1",
            400,
        ),
        (
            "POST",
            format!("{API}/instances/nope/raiseEvent/e"),
            Some(text),
            "x",
            404,
        ),
        (
            "POST",
            format!("{API}/instances/C/raiseEvent/e"),
            Some(text),
            "x",
            410,
        ),
        (
            "POST",
            format!("{API}/instances/F/raiseEvent/e"),
            Some(json),
            "1",
            410,
        ),
        (
            "POST",
            format!("{API}/instances/W/raiseEvent/e"),
            Some(text),
            "1",
            400,
        ),
        (
            "POST",
            format!("{API}/instances/W/raiseEvent/e"),
            None,
            "1",
            400,
        ),
        (
            "POST",
            format!("{API}/instances/W/raiseEvent/e"),
            Some(json),
            "{",
            400,
        ),
        (
            "POST",
            format!("{API}/instances/C/terminate"),
            None,
            "",
            410,
        ),
        ("POST", format!("{API}/instances/F/suspend"), None, "", 410),
        ("DELETE", format!("{API}/instances"), None, "", 400),
        (
            "DELETE",
            format!("{API}/instances?createdTimeFrom=2100-01-01T00:00:00Z"),
            None,
            "",
            404,
        ),
        ("DELETE", format!("{API}/instances/nope"), None, "", 404),
    ];
    for (method, path, content_type, body, expected) in cases {
        let headers: Vec<(&str, &str)> = content_type.into_iter().collect();
        let (status, _, answer) = running.call_with(method, &path, &headers, body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
    }

    // A started instance: 202 with Location and Retry-After 10; an id of
    // 256 characters is taken; a percent-encoded id is stored decoded.
    let (status, headers, body) = running
        .call_with(
            "POST",
            &format!("{API}/orchestrators/chaining/{at_limit}"),
            &[],
            "",
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        header(&headers, "Location"),
        Some(
            format!("{base}/instances/{at_limit}?taskHub=DurableHello&connection=Storage").as_str()
        )
    );
    assert_eq!(header(&headers, "Retry-After"), Some("10"));
    // Route values are the escaped form, as the extension matches them:
    // `%2F` is never decoded, `%23` comes back escaped, `%41` does not.
    for (raw, id) in [
        ("a%20b", "a%20b"),
        ("a%2Fb", "a%2Fb"),
        ("a%23b", "a%23b"),
        ("a%41b", "aAb"),
    ] {
        let (status, body) = running
            .call(
                "POST",
                &format!("{API}/orchestrators/chaining/{raw}"),
                r#"["Oslo"]"#,
            )
            .await;
        assert_eq!(status, 202, "{raw}: {body}");
        let done = running.finished(raw).await;
        assert_eq!(done["instanceId"], id, "{raw}");
        // The status URL names it as WebUtility.UrlEncode does, and leads
        // back to it.
        let url = body["statusQueryGetUri"].as_str().unwrap_or_default();
        let path = &url[url.find(API).unwrap_or(0)..];
        let (status, again) = running.call("GET", path, "").await;
        assert_eq!(
            (status, &again["instanceId"]),
            (200, &done["instanceId"]),
            "{url}"
        );
    }

    // A running instance's status: 202, Location is the request, Retry-After 5.
    let status_path = format!("{API}/instances/W?showHistory=false");
    let (status, headers, body) = running.call_with("GET", &status_path, &[], "").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        header(&headers, "Location"),
        Some(format!("http://127.0.0.1:{port}{status_path}").as_str())
    );
    assert_eq!(header(&headers, "Retry-After"), Some("5"));
    // A failed one: 200, no Location.
    let (status, headers, body) = running
        .call_with("GET", &format!("{API}/instances/F"), &[], "")
        .await;
    assert_eq!((status, &body["runtimeStatus"]), (200, &json!("Failed")));
    assert_eq!(header(&headers, "Location"), None);

    // The list shows inputs unless told not to.
    let (_, list) = running
        .call(
            "GET",
            &format!("{API}/instances?runtimeStatus=Completed"),
            "",
        )
        .await;
    let c = list
        .as_array()
        .and_then(|l| l.iter().find(|s| s["instanceId"] == "C"))
        .cloned();
    assert_eq!(c.map(|c| c["input"].clone()), Some(json!(["Oslo"])));

    // A JSON event to a running instance is taken.
    let (status, _) = running
        .call_json(
            "POST",
            &format!("{API}/instances/W/raiseEvent/approval"),
            "1",
        )
        .await;
    assert_eq!(status, 202);
    running.finished("W").await;

    // Purge by filter: only finished instances of the statuses named.
    let from = "createdTimeFrom=2000-01-01T00:00:00Z";
    running.start_as("external_event_timeout", "R", "600").await;
    let (status, body) = running
        .call(
            "DELETE",
            &format!("{API}/instances?{from}&runtimeStatus=Running,Failed"),
            "",
        )
        .await;
    assert_eq!((status, body), (200, json!({"instancesDeleted": 1})));
    assert_eq!(
        running
            .call("GET", &format!("{API}/instances/F"), "")
            .await
            .0,
        404
    );
    assert_eq!(
        running
            .call("GET", &format!("{API}/instances/R"), "")
            .await
            .0,
        202
    );
    running.terminate("R").await;
}

both_roads! {
    chaining_runs_to_completion_and_the_console_shows_each_step,
    chaining_runs_to_completion_and_the_console_shows_each_step_native,
    chaining_runs_to_completion_and_the_console_shows_each_step_on;
    every_quick_reference_orchestration_ends_as_it_should,
    every_quick_reference_orchestration_ends_as_it_should_native,
    every_quick_reference_orchestration_ends_as_it_should_on;
    an_approval_event_completes_the_waiting_orchestration,
    an_approval_event_completes_the_waiting_orchestration_native,
    an_approval_event_completes_the_waiting_orchestration_on;
    a_terminated_instance_reports_terminated,
    a_terminated_instance_reports_terminated_native,
    a_terminated_instance_reports_terminated_on;
    the_management_api_refuses_what_it_cannot_do_with_a_reason,
    the_management_api_refuses_what_it_cannot_do_with_a_reason_native,
    the_management_api_refuses_what_it_cannot_do_with_a_reason_on;
    the_http_starter_answers_202_and_its_status_url_leads_to_the_result,
    the_http_starter_answers_202_and_its_status_url_leads_to_the_result_native,
    the_http_starter_answers_202_and_its_status_url_leads_to_the_result_on;
    the_durable_client_drives_instances_through_the_management_api,
    the_durable_client_drives_instances_through_the_management_api_native,
    the_durable_client_drives_instances_through_the_management_api_on;
    a_retried_activity_succeeds_on_its_third_attempt_after_real_waits,
    a_retried_activity_succeeds_on_its_third_attempt_after_real_waits_native,
    a_retried_activity_succeeds_on_its_third_attempt_after_real_waits_on;
    the_list_filters_by_status_and_time_and_pages_with_a_continuation_token,
    the_list_filters_by_status_and_time_and_pages_with_a_continuation_token_native,
    the_list_filters_by_status_and_time_and_pages_with_a_continuation_token_on;
    a_purge_or_a_new_instance_between_pages_neither_skips_nor_repeats,
    a_purge_or_a_new_instance_between_pages_neither_skips_nor_repeats_native,
    a_purge_or_a_new_instance_between_pages_neither_skips_nor_repeats_on;
    restart_runs_an_instance_again_under_a_new_id_or_its_own,
    restart_runs_an_instance_again_under_a_new_id_or_its_own_native,
    restart_runs_an_instance_again_under_a_new_id_or_its_own_on;
    the_counter_takes_signals_over_the_api_in_order_and_shows_its_state,
    the_counter_takes_signals_over_the_api_in_order_and_shows_its_state_native,
    the_counter_takes_signals_over_the_api_in_order_and_shows_its_state_on;
    the_durable_client_signals_entities_and_reads_their_state,
    the_durable_client_signals_entities_and_reads_their_state_native,
    the_durable_client_signals_entities_and_reads_their_state_on;
    an_orchestration_calls_the_counter_and_completes_with_its_value,
    an_orchestration_calls_the_counter_and_completes_with_its_value_native,
    an_orchestration_calls_the_counter_and_completes_with_its_value_on;
    signals_from_several_orchestrations_lose_no_update_and_add_none,
    signals_from_several_orchestrations_lose_no_update_and_add_none_native,
    signals_from_several_orchestrations_lose_no_update_and_add_none_on;
    every_entity_request_is_delivered_once_through_the_reorder_window,
    every_entity_request_is_delivered_once_through_the_reorder_window_native,
    every_entity_request_is_delivered_once_through_the_reorder_window_on;
    a_failed_entity_call_fails_the_orchestration_and_leaves_the_state,
    a_failed_entity_call_fails_the_orchestration_and_leaves_the_state_native,
    a_failed_entity_call_fails_the_orchestration_and_leaves_the_state_on;
    a_new_execution_under_the_same_id_sees_none_of_the_old_ones_results,
    a_new_execution_under_the_same_id_sees_none_of_the_old_ones_results_native,
    a_new_execution_under_the_same_id_sees_none_of_the_old_ones_results_on;
    the_management_api_answers_with_the_extensions_status_codes_and_headers,
    the_management_api_answers_with_the_extensions_status_codes_and_headers_native,
    the_management_api_answers_with_the_extensions_status_codes_and_headers_on;
}
