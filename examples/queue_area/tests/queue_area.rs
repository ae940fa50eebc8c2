//! The example app `examples/queue_area` (an HTTP, a queue and a timer
//! function), run as the host runs it: its built binary started by the
//! host stand-in (`cargo-azfunc`), invocations in the host's payload shapes,
//! replies read as the host reads them. Each test runs the app both as a
//! custom handler and, built with `--features native`, as the native
//! language worker under the host's gRPC side: the same assertions.

use std::path::{Path, PathBuf};

use azure_functions_rocket::rocket;
use cargo_azfunc::app::AppFolder;
use cargo_azfunc::handler::{Handler, HandlerOptions};
use cargo_azfunc::host::envelope::{
    CallerRequest, Outcome, QueueMessage, Sys, Verdict, Written, http_invocation, queue_invocation,
    timer_invocation,
};
use cargo_azfunc::host::invocation::invoke;
use serde_json::json;

fn app_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn example_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_queue_area"))
}

/// How the host runs the app's binary.
#[derive(Clone, Copy, Debug)]
enum Road {
    CustomHandler,
    #[cfg_attr(not(feature = "native"), allow(dead_code))]
    Native,
}

async fn start(road: Road) -> (AppFolder, Handler) {
    let mut app = AppFolder::load(&app_root()).expect("the example app loads");
    if let Road::Native = road {
        app = app.into_native();
    }
    let options = HandlerOptions {
        executable: Some(example_binary()),
        ..HandlerOptions::default()
    };
    let handler = Handler::start(&app, options)
        .await
        .expect("the handler starts");
    // A worker declares its functions: from here on they are the ones used.
    handler.adopt_functions(&mut app);
    (app, handler)
}

/// The invocation's log lines as the function wrote them. A worker's
/// RpcLog carries its level apart from the text, which the host shows as
/// `Warning: ...` (docs/native-worker-host.md, "Invocations"): put back in
/// the custom handler's form, `[WARN] ...`.
fn lines(road: Road, outcome: &Outcome) -> Vec<String> {
    match road {
        Road::CustomHandler => outcome.logs.clone(),
        Road::Native => outcome
            .logs
            .iter()
            .map(|line| {
                [("Warning: ", "[WARN] "), ("Error: ", "[ERROR] ")]
                    .iter()
                    .find_map(|(shown, prefix)| {
                        line.strip_prefix(shown)
                            .map(|rest| format!("{prefix}{rest}"))
                    })
                    .unwrap_or_else(|| format!("[INFO] {line}"))
            })
            .collect(),
    }
}

/// Each test in both modes: `name` as a custom handler, `name_native` as
/// the native worker (with `--features native`).
macro_rules! both_roads {
    ($name:ident, $native:ident, $body:ident) => {
        #[rocket::async_test]
        async fn $name() {
            $body(Road::CustomHandler).await;
        }

        #[cfg(feature = "native")]
        #[rocket::async_test]
        async fn $native() {
            $body(Road::Native).await;
        }
    };
}

both_roads!(
    each_queue_message_gets_its_area_or_fails_for_the_host_to_retry,
    each_queue_message_gets_its_area_or_fails_for_the_host_to_retry_native,
    queue_messages
);
both_roads!(
    the_timer_logs_a_line_and_says_when_it_is_past_due,
    the_timer_logs_a_line_and_says_when_it_is_past_due_native,
    timer
);
both_roads!(
    area_answers_the_circles_area_or_400_with_the_reason,
    area_answers_the_circles_area_or_400_with_the_reason_native,
    area
);

async fn queue_messages(road: Road) {
    let (app, handler) = start(road).await;
    let function = app.function("QueueArea").expect("QueueArea");
    let sys = Sys::new(function);
    struct Case {
        message: &'static str,
        area: Option<f64>,
        log: &'static str,
    }
    let cases = [
        Case {
            message: "2",
            area: Some(12.566370614359172),
            log: "radius=2 area=12.566370614359172 status=200",
        },
        Case {
            message: r#"{"radius": 1}"#,
            area: Some(std::f64::consts::PI),
            log: "radius=1 area=3.141592653589793 status=200",
        },
        Case {
            message: "abc",
            area: None,
            log: r#"status=400 error="a message is a radius: 2 or {\"radius\": 2}, not \"abc\"""#,
        },
        Case {
            message: "-1",
            area: None,
            log: r#"radius=-1 status=400 error="radius must not be negative, got -1""#,
        },
        Case {
            message: r#"{"radius": "2"}"#,
            area: None,
            log: "status=400",
        },
    ];
    for case in cases {
        let body = queue_invocation(function, &QueueMessage::new(case.message), &sys);
        let outcome = invoke(&handler, function, &body, "q-1").await;
        assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
        let last = lines(road, &outcome).last().cloned().unwrap_or_default();
        assert!(
            last.starts_with(r#"["#)
                && last.contains(r#"QueueArea invocation="q-1" dequeue_count=1"#),
            "{last}"
        );
        assert!(last.contains(case.log), "{}: {last}", case.message);
        match case.area {
            Some(area) => {
                assert_eq!(outcome.verdict, Verdict::Succeeded, "{}", case.message);
                let written: Vec<_> = outcome
                    .outputs
                    .iter()
                    .map(|o| (o.binding.as_str(), &o.value))
                    .collect();
                let radius = if case.message == "2" { 2.0 } else { 1.0 };
                assert_eq!(
                    written,
                    [(
                        "areas",
                        &Written::Json(json!({"radius": radius, "area": area}))
                    )]
                );
                if case.message == "2" {
                    // The line `cargo-azfunc` prints for it.
                    assert_eq!(
                        outcome.outputs[0].to_string(),
                        r#"queue areas <- {"area":12.566370614359172,"radius":2.0}"#
                    );
                }
            }
            None => {
                // A non-2xx reply: the message is retried, then poisoned.
                assert!(
                    matches!(outcome.verdict, Verdict::Failed(_)),
                    "{}: {:?}",
                    case.message,
                    outcome.verdict
                );
                assert!(
                    outcome.outputs.iter().all(|o| o.value == Written::Nothing),
                    "{:?}",
                    outcome.outputs
                );
            }
        }
    }
    handler.stop().await;
}

async fn timer(road: Road) {
    let (app, handler) = start(road).await;
    let function = app.function("TimerLog").expect("TimerLog");
    let sys = Sys::new(function);
    let outcome = invoke(
        &handler,
        function,
        &timer_invocation(function, None, true, &sys),
        "t-1",
    )
    .await;
    assert_eq!(outcome.verdict, Verdict::Succeeded);
    assert_eq!(
        lines(road, &outcome),
        [
            r#"[WARN] TimerLog invocation="t-1" message="the timer is past due: a run was missed or ran long""#,
            r#"[INFO] TimerLog invocation="t-1" next="unknown" status=200"#,
        ]
    );
    handler.stop().await;
}

/// Area answers as the blog's RustFunction does, from the body or the
/// query, and a bad radius gets 400 with the reason.
async fn area(road: Road) {
    let (app, handler) = start(road).await;
    let function = app.function("Area").expect("Area");
    let cases: [(&str, &str, Option<&str>, u16, serde_json::Value); 5] = [
        (
            "POST",
            "",
            Some(r#"{"radius": 2}"#),
            200,
            json!({"radius": 2.0, "area": 12.566370614359172}),
        ),
        (
            "GET",
            "?radius=1",
            None,
            200,
            json!({"radius": 1.0, "area": std::f64::consts::PI}),
        ),
        (
            "POST",
            "",
            Some(r#"{"radius": -1}"#),
            400,
            json!({"error": "radius must not be negative, got -1"}),
        ),
        (
            "GET",
            "?radius=abc",
            None,
            400,
            json!({"error": r#"radius must be a number, got "abc""#}),
        ),
        (
            "GET",
            "",
            None,
            400,
            json!({"error": r#"missing radius: send {"radius": 2.5} as the JSON body, or ?radius=2.5"#}),
        ),
    ];
    for (index, (method, query, body, status, answer)) in cases.into_iter().enumerate() {
        let request = CallerRequest {
            method: method.into(),
            url: format!("http://localhost:7071/api/area{query}"),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.map(|b| b.as_bytes().to_vec()),
        };
        let invocation = http_invocation(function, &request, &[], &Sys::new(function));
        let outcome = invoke(&handler, function, &invocation, &format!("area-{index}")).await;
        assert_eq!(outcome.verdict, Verdict::Succeeded, "{method} {query}");
        let response = outcome.response.clone().expect("a response");
        let got: serde_json::Value = serde_json::from_slice(&response.body).expect("JSON");
        assert_eq!(
            (response.status, got),
            (status, answer),
            "{method} {query} {body:?}"
        );
        // Its log line, the error's included, belongs to its invocation.
        let id = format!("invocation=\"area-{index}\"");
        assert!(
            lines(road, &outcome)
                .iter()
                .any(|l| l.contains(&id) && l.contains(&format!("status={status}"))),
            "{method} {query}: {:?}",
            outcome.logs
        );
    }
    handler.stop().await;
}
