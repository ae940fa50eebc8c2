use super::*;
use serde_json::json;

#[test]
fn host_json_modes_prefix_and_case() {
    let host = HostJson::parse("{}").unwrap();
    assert_eq!(host, HostJson::default());
    let host = HostJson::parse(
        r#"{"customHandler":{"description":{"defaultExecutablePath":"bin/app.exe"},"enableForwardingHttpRequest":true},"extensions":{"http":{"routePrefix":"/v1/"}}}"#,
    )
    .unwrap();
    assert_eq!(host.mode, HttpMode::Forwarding);
    assert_eq!(host.route_prefix, "v1");
    assert!(host.starts("app"));
    let host = HostJson::parse(
        r#"{"CustomHandler":{"EnableProxyingHttpRequest":"True","enableForwardingHttpRequest":true},"Extensions":{"Http":{"RoutePrefix":""}}}"#,
    )
    .unwrap();
    assert_eq!(host.mode, HttpMode::Proxying);
    assert_eq!(host.route_prefix, "");
    for bad in [
        r#"{"customHandler":{"enableForwardingHttpRequest":1}}"#,
        r#"{"customHandler":{"enableProxyingHttpRequest":"yes"}}"#,
        r#"{"extensions":{"http":{"routePrefix":5}}}"#,
        "{",
    ] {
        assert!(HostJson::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn function_timeouts_as_the_host_reads_them() {
    let secs = |s: u64| Ok(Some(Duration::from_secs(s)));
    let read = |value: Value| parse_function_timeout(Some(&value));
    assert_eq!(
        parse_function_timeout(None),
        Ok(Some(DEFAULT_FUNCTION_TIMEOUT))
    );
    assert_eq!(read(Value::Null), Ok(Some(DEFAULT_FUNCTION_TIMEOUT)));
    for (text, expected) in [
        ("00:00:02", secs(2)),
        // The host's minimum, exactly.
        ("00:00:01", secs(1)),
        (" 00:10:00 ", secs(600)),
        ("00:00:01.5", Ok(Some(Duration::from_millis(1500)))),
        ("1.02:03:04", secs(86_400 + 2 * 3600 + 3 * 60 + 4)),
        ("02:03", secs(2 * 3600 + 3 * 60)),
        // A bare number is days, as TimeSpan reads it.
        ("2", secs(2 * 86_400)),
        ("10675198.23:59:59", secs(10_675_198 * 86_400 + 86_399)),
        // -1 is minus one day however it is written: no limit.
        ("-1", Ok(None)),
        ("-1.00:00:00", Ok(None)),
    ] {
        assert_eq!(read(json!(text)), expected, "{text:?}");
    }
    assert_eq!(read(json!(-1)), Ok(None));
    assert_eq!(read(json!(1)), secs(86_400));
    let refused = |value: Value, why: &str| {
        let error = read(value.clone()).expect_err("refused");
        assert!(error.contains(why), "{value}: {error}");
    };
    // Below the host's one-second minimum.
    refused(
        json!("00:00:00.5"),
        "shorter than the host's minimum of 00:00:01",
    );
    refused(json!("00:00:00.9999999"), "minimum");
    refused(json!("00:00:00"), "minimum");
    refused(json!("-00:00:05"), "is negative");
    refused(json!("-2"), "is negative");
    refused(json!(-0.5), "not a time span");
    refused(json!("junk"), "not a time span");
    refused(json!(""), "not a time span");
    refused(json!("00:60:00"), "not a time span");
    refused(json!("1:2:3:4"), "not a time span");
    refused(json!("00:00:01.12345678"), "not a time span");
    // Past TimeSpan.MaxValue, and past u64.
    refused(json!("10675199.00:00:00"), "not a time span");
    refused(json!("99999999999999999999"), "not a time span");
    refused(json!(99_999_999_999_999_999_999.0), "not a time span");
    refused(json!(true), "must be a time span string");
    refused(json!({"seconds": 5}), "must be a time span string");
}

#[test]
fn the_entity_reorder_window_defaults_to_30_minutes() {
    let read = |durable: &str| {
        HostJson::parse(&format!(r#"{{"extensions":{{"durableTask":{durable}}}}}"#))
            .map(|host| host.entity_message_reorder_window_minutes)
    };
    assert_eq!(read("{}"), Ok(30));
    assert_eq!(read(r#"{"entityMessageReorderWindowInMinutes": 0}"#), Ok(0));
    assert_eq!(
        read(r#"{"EntityMessageReorderWindowInMinutes": "5"}"#),
        Ok(5)
    );
    for bad in ["-1", "1.5", r#""soon""#] {
        let error = read(&format!(
            r#"{{"entityMessageReorderWindowInMinutes": {bad}}}"#
        ))
        .expect_err(bad);
        assert!(error.contains("whole number of minutes"), "{error}");
    }
}

#[test]
fn the_storage_connection_is_the_storage_providers_else_storage() {
    let read = |durable: &str| {
        HostJson::parse(&format!(r#"{{"extensions":{{"durableTask":{durable}}}}}"#))
            .map(|host| host.connection_name)
    };
    assert_eq!(read("{}").as_deref(), Ok("Storage"));
    assert_eq!(
        read(r#"{"storageProvider":{"connectionName":"MyStore"}}"#).as_deref(),
        Ok("MyStore")
    );
    // The old name, in any case, as the extension still reads it.
    assert_eq!(
        read(r#"{"storageProvider":{"ConnectionStringName":"Old"}}"#).as_deref(),
        Ok("Old")
    );
    assert_eq!(
        read(r#"{"storageProvider":{"connectionName":"New","connectionStringName":"Old"}}"#)
            .as_deref(),
        Ok("New")
    );
    assert_eq!(HostJson::default().connection_name, "Storage");
}
