//! No panic is reachable from any file cargo-azfunc reads or any text a
//! caller or handler sends: every parser, fed arbitrary input, answers
//! with a value or an error. (The command line's own property test is in
//! src/command_line.rs.)

use cargo_azfunc::app::{AppFolder, FunctionFolder};
use cargo_azfunc::dotnet::parse_timespan;
use cargo_azfunc::handler::client::HttpReply;
use cargo_azfunc::host::envelope::{CallerRequest, Sys, http_invocation, read_reply};
use cargo_azfunc::query::query_values;
use cargo_azfunc::timers::clock::UtcTime;
use cargo_azfunc::timers::schedule::TimerSchedule;
use function_app::RouteTemplate;
use proptest::prelude::*;
use serde_json::json;

/// Text made mostly of the characters schedules are written with.
fn schedule_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9*/,\\- ]{0,40}",
        "[0-9*/,\\-a-zA-Z%:. ]{0,40}",
        "([0-9]{1,25}(/[0-9]{1,25})? ){5,6}",
        // Steps near u32::MAX, where adding a step once overflowed.
        "[0-5]?[0-9](-[0-5]?[0-9])?/42949672[0-9]{2}( \\*){5}",
        any::<String>(),
    ]
}

fn http_function() -> FunctionFolder {
    serde_json::from_value::<Vec<cargo_azfunc::app::Binding>>(json!([
        {"type": "httpTrigger", "direction": "in", "name": "req"},
        {"type": "http", "direction": "out", "name": "$return"},
        {"type": "queue", "direction": "out", "name": "q"}
    ]))
    .map(|bindings| FunctionFolder {
        name: "F".into(),
        bindings,
    })
    .expect("bindings")
}

/// Arbitrary JSON, a few levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)),
        ".{0,12}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("statusCode"),
            Just("status"),
            Just("body"),
            Just("headers"),
            Just("Content-Length"),
            Just("99999"),
            Just("101")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("statusCode".to_owned()),
                        Just("status".to_owned()),
                        Just("body".to_owned()),
                        Just("headers".to_owned()),
                        Just("Content-Type".to_owned()),
                        Just("Content-Length".to_owned()),
                        Just("ReturnValue".to_owned()),
                        Just("Outputs".to_owned()),
                        Just("Logs".to_owned()),
                        Just("q".to_owned()),
                        ".{0,6}"
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|pairs| serde_json::Value::Object(pairs.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn schedules_parse_or_say_why(text in schedule_text(), unix in 0i64..8_000_000_000) {
        let settings = vec![("S".to_owned(), text.clone())];
        for expression in [text.as_str(), "%S%"] {
            if let Ok(schedule) = TimerSchedule::parse(expression, &settings) {
                let _ = schedule.next_after(UtcTime { unix });
            }
        }
        let _ = parse_timespan(&text);
    }

    #[test]
    fn route_templates_and_paths(
        template in prop_oneof!["[a-z{}:?*()0-9,/=.~\\-]{0,30}", any::<String>()],
        path in prop_oneof!["[a-z0-9/%{}.\\-:]{0,30}", any::<String>()],
    ) {
        if let Ok(route) = RouteTemplate::parse("api", &template) {
            let _ = route.matches_path(&path);
            let _ = route.literal_path();
            let _ = route.unmatchable();
        }
    }

    #[test]
    fn regex_constraints_and_values(
        pattern in prop_oneof!["[a-c^$.|()\\[\\]{}*+?,0-9\\\\dwsbzAZ:=<>-]{0,24}", any::<String>()],
        value in prop_oneof!["[a-c0-9\\n -]{0,24}", any::<String>()],
    ) {
        let pattern = pattern.replace('{', "{{").replace('}', "}}");
        if let Ok(route) = RouteTemplate::parse("", &format!("{{p:regex({pattern})}}")) {
            let _ = route.matches([value.as_str()]);
        }
    }

    #[test]
    fn queries_and_bodies_become_envelopes(query in ".{0,40}", body in prop::collection::vec(any::<u8>(), 0..64), json in json_value()) {
        let function = http_function();
        let sys = Sys::new(&function);
        let _ = query_values(&query);
        for body in [body, json.to_string().into_bytes()] {
            let request = CallerRequest {
                method: "POST".into(),
                url: format!("http://localhost/api/F?{query}"),
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: Some(body),
            };
            let _ = http_invocation(&function, &request, &[], &sys);
        }
    }

    #[test]
    fn any_reply_is_read(status in 0u16..1000, content_type in prop_oneof![Just("application/json".to_owned()), Just("text/json".to_owned()), ".{0,20}"], json in json_value(), raw in prop::collection::vec(any::<u8>(), 0..64)) {
        let function = http_function();
        for body in [json.to_string().into_bytes(), serde_json::to_vec(&json!({"ReturnValue": json, "Outputs": {"q": json}})).unwrap_or_default(), raw] {
            let reply = HttpReply {
                status,
                content_type: Some(content_type.clone()),
                headers: Default::default(),
                body,
            };
            let _ = read_reply(&function, &reply);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_app_folder_loads_or_says_why(host in json_value(), function in json_value(), settings in json_value(), raw in ".{0,40}") {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("F")).expect("folder");
        std::fs::write(root.join("host.json"), host.to_string()).expect("host.json");
        std::fs::write(root.join("F/function.json"), function.to_string()).expect("function.json");
        std::fs::write(root.join("local.settings.json"), settings.to_string()).expect("settings");
        let _ = AppFolder::load(root);
        std::fs::write(root.join("host.json"), &raw).expect("host.json");
        let _ = AppFolder::load(root);
        // A well-formed host.json, with arbitrary functions.
        std::fs::write(
            root.join("host.json"),
            r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"%X%$Y${Z"}}}"#,
        )
        .expect("host.json");
        if let Ok(app) = AppFolder::load(root) {
            let _ = app.executable_path();
            let _ = app.working_directory();
            let _ = cargo_azfunc::host::routes::Router::new(&app);
            let _ = cargo_azfunc::check::settings(&app, false);
        }
    }
}
