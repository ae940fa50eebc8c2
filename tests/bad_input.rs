//! Bad input of every kind, each with its exact answer.
//!
//! Every case goes through more than one door: the host's envelope (sent by
//! `HostClient::invoke`, chunked, to the built binary), a direct HTTP call,
//! and a call of the app in this process, without a server. Caller mistakes
//! must come back as HTTP 200 with the status inside the envelope, where
//! the host reads it, and a JSON error that says what was wrong; requests
//! that are not invocations get the handler's own JSON status. After every
//! case the same process must still answer a good invocation.

mod common;

use common::start_binary;
use local_host::client::{HostClient, READY_TIMEOUT, Reply, free_port};
use local_host::process::Process;
use rocket::local::asynchronous::Client;
use rusty_function::http::MAX_BODY_BYTES;
use rusty_function::{config, functions, startup};
use serde_json::{Value, json};

/// Rocket's default `limits.json` for this handler (config::default_json_limit).
const ENVELOPE_LIMIT: usize = 32 * 1024 * 1024;

/// Deep enough to overflow any stack a recursive parser would use.
const DEEP: usize = 100_000;

/// What the handler must answer.
#[derive(Debug, Clone)]
enum Answer {
    /// HTTP 200, an envelope whose `$return` is 200 with this radius and
    /// `PI * r * r`.
    Area(f64),
    /// HTTP 200, an envelope whose `$return` is this status and
    /// `{"error": message}`.
    Refused(u16, String),
    /// Not an invocation: the handler's own status and `{"error": message}`,
    /// and the `Allow` header it must carry, if any.
    Http(u16, String, Option<&'static str>),
}

use Answer::{Area, Http, Refused};

fn refused(status: u16, message: impl Into<String>) -> Answer {
    Refused(status, message.into())
}

fn not_json(reason: &str) -> Answer {
    refused(400, format!("the request body is not valid JSON: {reason}"))
}

fn missing_radius() -> Answer {
    refused(
        400,
        r#"missing radius: send {"radius": 2.5} as the JSON body, or ?radius=2.5"#,
    )
}

/// `open` `depth` times, then `close` as often: `[[[]]]` for depth 3.
fn nested(depth: usize, open: &str, close: &str) -> String {
    format!("{}{}", open.repeat(depth), close.repeat(depth))
}

/// `{"a":{"a":…1…}}`, `depth` objects deep.
fn deep_object(depth: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

/// The envelope the host sends for a caller's request to /api/RustFunction.
fn host_envelope(body: Option<&str>, query: &[(&str, &str)]) -> Vec<u8> {
    let query: serde_json::Map<String, Value> = query
        .iter()
        .map(|(key, value)| (key.to_string(), json!(value)))
        .collect();
    let mut req = json!({
        "Url": "http://localhost:7071/api/RustFunction",
        "Method": "POST",
        "Query": query,
        "Headers": {"Content-Type": ["application/json"], "Accept": ["*/*"]},
        "Params": {},
        "Identities": [{"AuthenticationType": null, "IsAuthenticated": false}],
    });
    if let Some(body) = body {
        req["Body"] = json!(body);
    }
    let metadata = json!({
        "Query": query,
        "Headers": {"Content-Type": "application/json", "Accept": "*/*"},
        "sys": {"MethodName": "RustyFunction", "UtcNow": "2026-11-27T10:00:00Z",
                "RandGuid": "0b4e8e2c-2d5b-4e63-9d7e-5b4cdd0e3f43"},
    });
    serde_json::to_vec(&json!({"Data": {"req": req}, "Metadata": metadata})).unwrap()
}

/// An envelope whose `Data.req` is the raw JSON text `req`.
fn with_req(req: &str) -> Vec<u8> {
    format!(r#"{{"Data":{{"req":{req}}},"Metadata":{{}}}}"#).into_bytes()
}

/// `{"radius": 2}` padded with spaces to exactly `len` bytes.
fn padded_body(len: usize) -> String {
    let body = r#"{"radius": 2}"#;
    format!("{body}{}", " ".repeat(len - body.len()))
}

/// `{"radius": 2, "p": "\"\"…"}` and spaces, exactly `len` bytes once the
/// host's escaping is undone; twice as long as an escaped JSON string.
fn quote_heavy_body(len: usize) -> String {
    let (head, tail) = (r#"{"radius": 2, "p": ""#, r#""}"#);
    let pairs = (len - head.len() - tail.len()) / 2;
    let body = format!("{head}{}{tail}", "\\\"".repeat(pairs));
    format!("{body}{}", " ".repeat(len - body.len()))
}

/// Checks a reply against the answer; returns what differs, if anything.
fn mismatch(reply: &Reply, expected: &Answer) -> Option<String> {
    let json_type = reply.content_type.as_deref() == Some("application/json");
    match expected {
        Area(_) | Refused(..) => {
            if reply.status != 200 || !json_type {
                return Some(format!(
                    "HTTP {} {:?}, the host needs 200 and JSON",
                    reply.status, reply.content_type
                ));
            }
            let Ok(envelope) = serde_json::from_slice::<Value>(&reply.body) else {
                return Some("the reply is not JSON".into());
            };
            let logs = envelope["Logs"].as_array().map_or(0, Vec::len);
            if logs != 1 {
                return Some(format!("{logs} log lines, expected 1"));
            }
            returned(&envelope["ReturnValue"], expected)
        }
        Http(status, message, allow) => {
            let allowed = reply.headers.get("allow").map(|v| v.to_str().unwrap());
            if reply.status != *status || !json_type || allowed != *allow {
                return Some(format!(
                    "HTTP {} {:?} Allow {allowed:?}, expected {status} JSON Allow {allow:?}",
                    reply.status, reply.content_type
                ));
            }
            if reply.body.is_empty() {
                // HEAD: headers only.
                return None;
            }
            match serde_json::from_slice::<Value>(&reply.body) {
                Ok(body) if body == json!({ "error": message }) => None,
                _ => Some("another body".into()),
            }
        }
    }
}

/// Checks the `$return` value of an envelope against the answer.
fn returned(ret: &Value, expected: &Answer) -> Option<String> {
    if ret["headers"] != json!({"Content-Type": "application/json"}) {
        return Some(format!("headers {}", ret["headers"]));
    }
    let status = ret["statusCode"].as_u64();
    let Some(Ok(body)) = ret["body"].as_str().map(serde_json::from_str::<Value>) else {
        return Some("the caller's body is not a JSON string".into());
    };
    let wanted = match expected {
        Area(radius) => (
            200,
            json!({"radius": radius, "area": std::f64::consts::PI * radius * radius}),
        ),
        Refused(status, message) => (u64::from(*status), json!({ "error": message })),
        Http(..) => unreachable!("not an invocation"),
    };
    (status != Some(wanted.0) || body != wanted.1)
        .then(|| format!("statusCode {status:?} body {body}"))
}

/// The app in this process, without a server.
async fn app() -> Client {
    Client::untracked(startup::rocket(config::figment(0), functions::registry()))
        .await
        .expect("valid app")
}

/// The answer of the app, called in this process.
async fn call_directly(app: &Client, body: &[u8]) -> Reply {
    let response = app
        .post("/RustFunction")
        .header(rocket::http::Header::new(
            "X-Azure-Functions-InvocationId",
            "direct",
        ))
        .body(body)
        .dispatch()
        .await;
    Reply {
        status: response.status().code,
        content_type: response.content_type().map(|t| t.to_string()),
        headers: Default::default(),
        body: response.into_bytes().await.unwrap_or_default(),
    }
}

/// Pieces the host might send: small ones, so that escapes and UTF-8
/// characters are split, but not so many that big cases crawl.
fn piece_for(len: usize) -> usize {
    (len / 64).clamp(7, 1024 * 1024)
}

/// The binary, started as the host starts it, and a host to talk to it.
async fn start_handler() -> (Process, HostClient) {
    let port = free_port();
    let handler = start_binary(&[("FUNCTIONS_CUSTOMHANDLER_PORT", &port.to_string())]);
    let host = HostClient::new(port);
    host.wait_ready(READY_TIMEOUT).await.expect("ready");
    (handler, host)
}

/// The process answers a good invocation, and has not exited.
async fn assert_serving(handler: &mut Process, host: &HostClient) {
    assert!(
        handler.child.try_wait().unwrap().is_none(),
        "the handler exited"
    );
    let reply = host
        .invoke(
            "RustyFunction",
            &host_envelope(Some(r#"{"radius": 3}"#), &[]),
            "alive",
            16,
        )
        .await;
    assert_eq!(mismatch(&reply, &Area(3.0)), None, "still serving");
}

/// Runs every case, then fails with all mismatches at once.
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, door: &str, case: &str, reply: &Reply, expected: &Answer) {
        if let Some(what) = mismatch(reply, expected) {
            let got = String::from_utf8_lossy(&reply.body);
            let got: String = got.chars().take(600).collect();
            self.0.push(format!(
                "{door} {case}: {what}\n  expected {expected:?}\n  got {got}"
            ));
        }
    }

    fn assert_none(self, cases: usize) {
        assert!(
            self.0.is_empty(),
            "{} of {cases} checks failed:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

/// What a caller may send as the body of their request, and the answer. The
/// function judges it the same whether it arrives directly or as the
/// `Body` of the host's envelope.
fn caller_bodies() -> Vec<(&'static str, String, Answer)> {
    let long = "x".repeat(10_000);
    vec![
        // Malformed and truncated JSON.
        (
            "truncated object",
            r#"{"radius": 2"#.into(),
            not_json("EOF while parsing an object at line 1 column 12"),
        ),
        (
            "truncated value",
            r#"{"radius": "#.into(),
            not_json("EOF while parsing a value at line 1 column 11"),
        ),
        (
            "truncated string",
            r#"{"radi"#.into(),
            not_json("EOF while parsing a string at line 1 column 6"),
        ),
        (
            "trailing comma",
            r#"{"radius": 2,}"#.into(),
            not_json("trailing comma at line 1 column 14"),
        ),
        (
            "unquoted key",
            "{radius: 2}".into(),
            not_json("key must be a string at line 1 column 2"),
        ),
        (
            "single quotes",
            "{'radius': 2}".into(),
            not_json("key must be a string at line 1 column 2"),
        ),
        (
            "trailing brace",
            r#"{"radius": 2}}"#.into(),
            not_json("trailing characters at line 1 column 14"),
        ),
        (
            "two documents",
            r#"{"radius": 2} {"radius": 3}"#.into(),
            not_json("trailing characters at line 1 column 15"),
        ),
        (
            "raw newline in a string",
            "{\"radius\": 2, \"x\": \"a\nb\"}".into(),
            not_json(
                "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 21",
            ),
        ),
        // Ignored strings are scanned, not decoded: their escapes go unchecked.
        (
            "lone surrogate escape, ignored",
            r#"{"radius": 2, "x": "\ud800"}"#.into(),
            Area(2.0),
        ),
        (
            "byte order mark",
            "\u{feff}{\"radius\": 2}".into(),
            not_json("expected value at line 1 column 1"),
        ),
        (
            "trailing NUL",
            "{\"radius\": 2}\u{0}".into(),
            not_json("trailing characters at line 1 column 14"),
        ),
        (
            "form encoding",
            "radius=2".into(),
            not_json("expected value at line 1 column 1"),
        ),
        (
            "long garbage is not echoed",
            long.clone(),
            not_json("expected value at line 1 column 1"),
        ),
        // Not an object, or no radius in it.
        (
            "array",
            r#"[{"radius": 2}]"#.into(),
            refused(400, "the request body must be a JSON object"),
        ),
        (
            "number",
            "2.5".into(),
            refused(400, "the request body must be a JSON object"),
        ),
        (
            "string",
            r#""{\"radius\": 2}""#.into(),
            refused(400, "the request body must be a JSON object"),
        ),
        (
            "null",
            "null".into(),
            refused(400, "the request body must be a JSON object"),
        ),
        ("empty", "".into(), missing_radius()),
        ("blank", " \r\n\t".into(), missing_radius()),
        ("empty object", "{}".into(), missing_radius()),
        (
            "null radius",
            r#"{"radius": null}"#.into(),
            missing_radius(),
        ),
        (
            "key in another case",
            r#"{"Radius": 2}"#.into(),
            missing_radius(),
        ),
        // Wrong types for the radius.
        (
            "radius a string",
            r#"{"radius": "2"}"#.into(),
            refused(400, "radius must be a number, not a string"),
        ),
        (
            "radius a long string",
            format!(r#"{{"radius": "{long}"}}"#),
            refused(400, "radius must be a number, not a string"),
        ),
        (
            "radius a boolean",
            r#"{"radius": true}"#.into(),
            refused(400, "radius must be a number, not a boolean"),
        ),
        (
            "radius an array",
            r#"{"radius": [2]}"#.into(),
            refused(400, "radius must be a number, not an array"),
        ),
        (
            "radius an object",
            r#"{"radius": {"value": 2}}"#.into(),
            refused(400, "radius must be a number, not an object"),
        ),
        (
            "duplicate radius",
            r#"{"radius": 1, "radius": 2}"#.into(),
            refused(
                400,
                "invalid request body: duplicate field `radius` at line 1 column 22",
            ),
        ),
        // Numbers JSON allows, and numbers it does not.
        (
            "negative",
            r#"{"radius": -1}"#.into(),
            refused(400, "radius must not be negative, got -1"),
        ),
        (
            "tiny negative",
            r#"{"radius": -5e-324}"#.into(),
            refused(400, "radius must not be negative, got -5e-324"),
        ),
        (
            "huge negative",
            r#"{"radius": -1e300}"#.into(),
            refused(400, "radius must not be negative, got -1e300"),
        ),
        ("minus zero", r#"{"radius": -0}"#.into(), Area(0.0)),
        (
            "minus zero with exponent",
            r#"{"radius": -0.0e5}"#.into(),
            Area(0.0),
        ),
        ("exponent", r#"{"radius": 2.5e0}"#.into(), Area(2.5)),
        (
            "capital negative exponent",
            r#"{"radius": 25E-1}"#.into(),
            Area(2.5),
        ),
        (
            "exponent with plus",
            r#"{"radius": 0.025e+2}"#.into(),
            Area(2.5),
        ),
        (
            "largest valid radius",
            r#"{"radius": 7.5e153}"#.into(),
            Area(7.5e153),
        ),
        (
            "area overflows",
            r#"{"radius": 7.6e153}"#.into(),
            refused(400, "radius 7.6e153 is too large: its area overflows"),
        ),
        (
            "number overflows f64",
            r#"{"radius": 1e400}"#.into(),
            refused(400, "radius must be a finite number"),
        ),
        (
            "400-digit integer",
            format!(r#"{{"radius": 1{}}}"#, "0".repeat(400)),
            refused(400, "radius must be a finite number"),
        ),
        (
            "underflows to zero",
            r#"{"radius": 1e-400}"#.into(),
            Area(0.0),
        ),
        (
            "smallest subnormal",
            r#"{"radius": 5e-324}"#.into(),
            Area(5e-324),
        ),
        (
            "leading zero",
            r#"{"radius": 01}"#.into(),
            not_json("invalid number at line 1 column 13"),
        ),
        (
            "leading plus",
            r#"{"radius": +1}"#.into(),
            not_json("expected value at line 1 column 12"),
        ),
        (
            "leading dot",
            r#"{"radius": .5}"#.into(),
            not_json("expected value at line 1 column 12"),
        ),
        (
            "trailing dot",
            r#"{"radius": 1.}"#.into(),
            not_json("invalid number at line 1 column 14"),
        ),
        (
            "hexadecimal",
            r#"{"radius": 0x10}"#.into(),
            not_json("expected `,` or `}` at line 1 column 13"),
        ),
        (
            "NaN literal",
            r#"{"radius": NaN}"#.into(),
            not_json("expected value at line 1 column 12"),
        ),
        (
            "Infinity literal",
            r#"{"radius": Infinity}"#.into(),
            not_json("expected value at line 1 column 12"),
        ),
        (
            "huge ignored number",
            r#"{"radius": 2, "x": 1e999999}"#.into(),
            Area(2.0),
        ),
        (
            "huge ignored integer",
            format!(r#"{{"x": -{}, "radius": 2}}"#, "9".repeat(5000)),
            Area(2.0),
        ),
        // Unicode.
        ("escaped key", r#"{"r\u0061dius": 2}"#.into(), Area(2.0)),
        (
            "non-ASCII fields",
            r#"{"名前": "🦀 \"ø\"", "radius": 2}"#.into(),
            Area(2.0),
        ),
        // Deep nesting, which is never recursed into.
        (
            "deep radius",
            format!(r#"{{"radius": {}}}"#, nested(DEEP, "[", "]")),
            refused(400, "radius must be a number, not an array"),
        ),
        (
            "deep ignored array",
            format!(r#"{{"radius": 2, "x": {}}}"#, nested(DEEP, "[", "]")),
            Area(2.0),
        ),
        (
            "deep ignored object",
            format!(r#"{{"x": {}, "radius": 2}}"#, deep_object(DEEP)),
            Area(2.0),
        ),
        (
            "deep top-level array",
            nested(DEEP, "[", "]"),
            refused(400, "the request body must be a JSON object"),
        ),
        (
            "deep and unclosed",
            "[".repeat(DEEP),
            not_json("EOF while parsing a list at line 1 column 100000"),
        ),
        (
            "deep, unclosed, in an object",
            format!(r#"{{"radius": 2, "x": {}"#, "[".repeat(DEEP)),
            not_json("EOF while parsing a list at line 1 column 100019"),
        ),
        // The caller-body limit.
        (
            "body of exactly 1 MiB",
            padded_body(MAX_BODY_BYTES),
            Area(2.0),
        ),
        (
            "body 1 byte over 1 MiB",
            padded_body(MAX_BODY_BYTES + 1),
            refused(
                413,
                "the request body is 1048577 bytes; this function takes at most 1048576",
            ),
        ),
        (
            "blank body over 1 MiB",
            " ".repeat(MAX_BODY_BYTES + 1),
            missing_radius(),
        ),
    ]
}

/// Bodies that are not UTF-8: a direct caller can send them; the host
/// cannot (its `Body` is a JSON string).
fn non_utf8_bodies() -> Vec<(&'static str, Vec<u8>, Answer)> {
    let not_utf8 = |at: usize| {
        refused(
            400,
            format!("the request body is not valid UTF-8 (from byte {at})"),
        )
    };
    vec![
        (
            "a stray 0xFF",
            b"{\"radius\": 2, \"x\": \"\xff\"}".to_vec(),
            not_utf8(20),
        ),
        (
            "an overlong slash",
            b"{\"radius\": 2, \"x\": \"\xc0\xaf\"}".to_vec(),
            not_utf8(20),
        ),
        (
            "a cut-off euro sign",
            b"{\"radius\": 2, \"x\": \"\xe2\x82".to_vec(),
            not_utf8(20),
        ),
        ("UTF-16", b"\xff\xfe{\0\"\0r\0".to_vec(), not_utf8(0)),
        (
            "a surrogate in UTF-8",
            b"{\"radius\": 2, \"x\": \"\xed\xa0\x80\"}".to_vec(),
            not_utf8(20),
        ),
    ]
}

/// Whole invocations that are wrong in their envelope, and the answer.
fn envelopes() -> Vec<(&'static str, Vec<u8>, Answer)> {
    let at =
        |path: &str, reason: &str| refused(400, format!("invalid invocation at {path}: {reason}"));
    let good_body = r#"{"Body":"{\"radius\": 2}"}"#;
    // `req` with `field` as given and a good body: a field the function
    // does not need may have any shape (issue 8).
    let with_field = |field: &str| with_req(&format!(r#"{{{field},"Body":"{{\"radius\": 2}}"}}"#));
    let long = "\"\n".repeat(5_000);
    let no_data = refused(400, "invalid invocation: the envelope has no Data");
    let no_req = refused(
        400,
        r#"invalid invocation: Data has no "req", the function's trigger binding"#,
    );
    vec![
        // Data missing or not an object.
        (
            "missing Data",
            br#"{"Metadata":{}}"#.to_vec(),
            no_data.clone(),
        ),
        (
            "Data null",
            br#"{"Data":null,"Metadata":{}}"#.to_vec(),
            no_data,
        ),
        (
            "Data an array",
            br#"{"Data":[],"Metadata":{}}"#.to_vec(),
            at(
                "Data",
                "invalid type: sequence, expected a JSON object at line 1 column 0",
            ),
        ),
        (
            "Data a string",
            br#"{"Data":"{}","Metadata":{}}"#.to_vec(),
            at(
                "Data",
                "invalid type: string \"{}\", expected a JSON object at line 1 column 4",
            ),
        ),
        (
            "Data a number",
            br#"{"Data":5,"Metadata":{}}"#.to_vec(),
            at(
                "Data",
                "invalid type: integer `5`, expected a JSON object at line 1 column 1",
            ),
        ),
        (
            "Data a long string is not echoed",
            serde_json::to_vec(&json!({"Data": long, "Metadata": {}})).unwrap(),
            at(
                "Data",
                &format!("invalid type: string \"{}\\\"…", "\\\"\\n".repeat(34)),
            ),
        ),
        (
            "Data without req",
            br#"{"Data":{},"Metadata":{}}"#.to_vec(),
            no_req.clone(),
        ),
        (
            "req in another case",
            br#"{"Data":{"Req":{}},"Metadata":{}}"#.to_vec(),
            no_req,
        ),
        (
            "req null",
            with_req("null"),
            at(
                "Data.req",
                "invalid type: null, expected a JSON object at line 1 column 4",
            ),
        ),
        (
            "req a string",
            with_req(r#""POST""#),
            at(
                "Data.req",
                "invalid type: string \"POST\", expected a JSON object at line 1 column 6",
            ),
        ),
        // Fields the function does not need, in any shape.
        ("Url a number", with_field(r#""Url":5"#), Area(2.0)),
        (
            "Method an array",
            with_field(r#""Method":["GET"]"#),
            Area(2.0),
        ),
        (
            "Params value a number",
            with_field(r#""Params":{"id":1}"#),
            Area(2.0),
        ),
        (
            "Identities an object",
            with_field(r#""Identities":{}"#),
            Area(2.0),
        ),
        (
            "Headers values as strings",
            with_field(r#""Headers":{"Accept":"*/*"}"#),
            Area(2.0),
        ),
        ("Headers an array", with_field(r#""Headers":[]"#), Area(2.0)),
        (
            "Headers value of numbers",
            with_field(r#""Headers":{"Accept":[1]}"#),
            Area(2.0),
        ),
        (
            "Headers value deeply nested",
            with_field(&format!(
                r#""Headers":{{"Accept":[{}]}}"#,
                nested(DEEP, "[", "]")
            )),
            Area(2.0),
        ),
        // The Query is read leniently: a value is its text, else absent.
        (
            "Query stringified, as in old docs",
            with_req(r#"{"Query":"{}"}"#),
            missing_radius(),
        ),
        (
            "Query value a number",
            with_req(r#"{"Query":{"radius":2}}"#),
            Area(2.0),
        ),
        (
            "Query value null",
            with_req(r#"{"Query":{"radius":null}}"#),
            missing_radius(),
        ),
        (
            "Query value deeply nested",
            with_req(&format!(
                r#"{{"Query":{{"x":{}}}}}"#,
                nested(DEEP, "[", "]")
            )),
            missing_radius(),
        ),
        (
            "a long Query name",
            with_req(&format!(
                r#"{{"Query":{{"{}":1}}}}"#,
                r#"k\n"#.repeat(2_000)
            )),
            missing_radius(),
        ),
        // The Body is the caller's input: it must be a string.
        (
            "Body a number",
            with_req(r#"{"Body":2}"#),
            at(
                "Data.req.Body",
                "invalid type: integer `2`, expected a string at line 1 column 1",
            ),
        ),
        (
            "Body an object",
            with_req(r#"{"Body":{"radius":2}}"#),
            at(
                "Data.req.Body",
                "invalid type: map, expected a string at line 1 column 0",
            ),
        ),
        (
            "Body true",
            with_req(r#"{"Body":true}"#),
            at(
                "Data.req.Body",
                "invalid type: boolean `true`, expected a string at line 1 column 4",
            ),
        ),
        (
            "Body null, as if absent",
            with_req(r#"{"Body":null,"Query":{"radius":"2"}}"#),
            Area(2.0),
        ),
        (
            "Body with a lone surrogate escape",
            with_req(r#"{"Body":"{\"radius\": 2}\udc00"}"#),
            at(
                "Data.req.Body",
                "lone leading surrogate in hex escape at line 1 column 22",
            ),
        ),
        // Duplicate keys.
        (
            "Data twice",
            br#"{"Data":{"req":{}},"Data":{"req":{}},"Metadata":{}}"#.to_vec(),
            refused(
                400,
                "invalid invocation: duplicate field `Data` at line 1 column 25",
            ),
        ),
        (
            "Metadata twice",
            format!(r#"{{"Data":{{"req":{good_body}}},"Metadata":{{}},"Metadata":{{}}}}"#)
                .into_bytes(),
            refused(
                400,
                "invalid invocation: duplicate field `Metadata` at line 1 column 67",
            ),
        ),
        (
            "req twice: the last one counts, as in most JSON readers",
            format!(r#"{{"Data":{{"req":{{}},"req":{good_body}}},"Metadata":{{}}}}"#).into_bytes(),
            Area(2.0),
        ),
        (
            "Body twice",
            with_req(r#"{"Body":"{}","Body":"{}"}"#),
            at("Data.req", "duplicate field `Body` at line 1 column 19"),
        ),
        // The host joins repeated query keys; duplicates in its JSON would
        // be a host bug, and the last one wins as in most JSON readers.
        (
            "Query key twice",
            with_req(r#"{"Query":{"radius":"1","radius":"2"}}"#),
            Area(2.0),
        ),
        // Malformed and truncated envelopes.
        (
            "cut in a key",
            br#"{"Data":{"req":{"Bo"#.to_vec(),
            not_json("EOF while parsing a string at line 1 column 19"),
        ),
        (
            "cut in the Body",
            br#"{"Data":{"req":{"Body":"{\"rad"#.to_vec(),
            not_json("EOF while parsing a string at line 1 column 30"),
        ),
        (
            "cut before the last brace",
            format!(r#"{{"Data":{{"req":{good_body}}},"Metadata":{{}}"#).into_bytes(),
            not_json("EOF while parsing an object at line 1 column 56"),
        ),
        (
            "trailing garbage",
            format!(r#"{{"Data":{{"req":{good_body}}},"Metadata":{{}}}} x"#).into_bytes(),
            not_json("trailing characters at line 1 column 59"),
        ),
        (
            "two envelopes",
            [
                host_envelope(Some("{}"), &[]),
                host_envelope(Some("{}"), &[]),
            ]
            .concat(),
            not_json("trailing characters at line 1 column 453"),
        ),
        (
            "an array of envelopes",
            format!("[{}]", String::from_utf8(host_envelope(None, &[])).unwrap()).into_bytes(),
            refused(400, "the request body must be a JSON object"),
        ),
        (
            "lowercase keys: not an envelope",
            br#"{"data":{"req":{"Body":"{\"radius\":2}"}},"metadata":{}}"#.to_vec(),
            missing_radius(),
        ),
        (
            "invalid UTF-8 outside Body",
            b"{\"Data\":{\"req\":{\"Body\":\"{}\"}},\"Metadata\":{\"\xff\":1}}".to_vec(),
            refused(400, "the request body is not valid UTF-8 (from byte 43)"),
        ),
        (
            "invalid UTF-8 inside Body",
            b"{\"Data\":{\"req\":{\"Body\":\"{\xc3}\"}},\"Metadata\":{}}".to_vec(),
            refused(400, "the request body is not valid UTF-8 (from byte 25)"),
        ),
        // What is ignored may be anything, however deep or large.
        (
            "Metadata a string",
            format!(r#"{{"Data":{{"req":{good_body}}},"Metadata":"x"}}"#).into_bytes(),
            Area(2.0),
        ),
        (
            "Metadata deeply nested",
            format!(
                r#"{{"Data":{{"req":{good_body}}},"Metadata":{}}}"#,
                nested(DEEP, "[", "]")
            )
            .into_bytes(),
            Area(2.0),
        ),
        (
            "Metadata deeply nested objects",
            format!(
                r#"{{"Data":{{"req":{good_body}}},"Metadata":{}}}"#,
                deep_object(DEEP)
            )
            .into_bytes(),
            Area(2.0),
        ),
        (
            "Metadata deep and unclosed",
            format!(
                r#"{{"Data":{{"req":{good_body}}},"Metadata":{}"#,
                "[".repeat(DEEP)
            )
            .into_bytes(),
            not_json("EOF while parsing a list at line 1 column 100054"),
        ),
        (
            "Metadata with huge numbers and -0",
            format!(
                r#"{{"Data":{{"req":{good_body}}},"Metadata":{{"a":1e999999,"b":-0,"c":-{}}}}}"#,
                "9".repeat(5000)
            )
            .into_bytes(),
            Area(2.0),
        ),
        (
            "another binding deeply nested",
            format!(
                r#"{{"Data":{{"other":{},"req":{good_body}}},"Metadata":{{}}}}"#,
                nested(DEEP, "[", "]")
            )
            .into_bytes(),
            Area(2.0),
        ),
        (
            "unknown req field deeply nested",
            with_req(&format!(
                r#"{{"Future":{},"Body":"{{\"radius\": 2}}"}}"#,
                nested(DEEP, "[", "]")
            )),
            Area(2.0),
        ),
        (
            "an identity deeply nested",
            with_req(&format!(
                r#"{{"Identities":[{}],"Body":"{{\"radius\": 2}}"}}"#,
                nested(DEEP, "[", "]")
            )),
            Area(2.0),
        ),
        // The caller's body, measured after the host's escaping is undone.
        (
            "escaped Body of exactly 1 MiB",
            host_envelope(Some(&quote_heavy_body(MAX_BODY_BYTES)), &[]),
            Area(2.0),
        ),
        (
            "escaped Body 1 byte over 1 MiB",
            host_envelope(Some(&quote_heavy_body(MAX_BODY_BYTES + 1)), &[]),
            refused(
                413,
                "the request body is 1048577 bytes; this function takes at most 1048576",
            ),
        ),
    ]
}

/// Requests that are not invocations, or invocations in a form only a
/// direct caller would use: method, path, headers, body, answer.
type HttpCase = (
    &'static str,
    &'static str,
    String,
    Vec<(&'static str, &'static str)>,
    Vec<u8>,
    Answer,
);

fn http_cases() -> Vec<HttpCase> {
    let json = || vec![("Content-Type", "application/json")];
    let wrong_method = |method: &str, path: &str| {
        Http(
            405,
            format!("{method} \"{path}\": method not allowed, use POST"),
            Some("POST"),
        )
    };
    let not_found =
        |method: &str, path: &str| Http(404, format!("{method} \"{path}\": not found"), None);
    let long_path = format!("/{}", "a".repeat(5000));
    vec![
        // Methods other than POST on a function's path.
        (
            "GET a function",
            "GET",
            "/RustFunction".into(),
            vec![],
            vec![],
            wrong_method("GET", "/RustFunction"),
        ),
        (
            "GET the folder name",
            "GET",
            "/RustyFunction?radius=2".into(),
            vec![],
            vec![],
            wrong_method("GET", "/RustyFunction"),
        ),
        (
            "PUT",
            "PUT",
            "/RustFunction".into(),
            json(),
            br#"{"radius": 2}"#.to_vec(),
            wrong_method("PUT", "/RustFunction"),
        ),
        (
            "DELETE",
            "DELETE",
            "/RustFunction".into(),
            vec![],
            vec![],
            wrong_method("DELETE", "/RustFunction"),
        ),
        (
            "PATCH",
            "PATCH",
            "/RustyFunction".into(),
            json(),
            br#"{"radius": 2}"#.to_vec(),
            wrong_method("PATCH", "/RustyFunction"),
        ),
        (
            "OPTIONS",
            "OPTIONS",
            "/RustFunction".into(),
            vec![],
            vec![],
            wrong_method("OPTIONS", "/RustFunction"),
        ),
        (
            "HEAD",
            "HEAD",
            "/RustFunction".into(),
            vec![],
            vec![],
            wrong_method("HEAD", "/RustFunction"),
        ),
        (
            "an unknown method",
            "FROB",
            "/RustFunction".into(),
            vec![],
            vec![],
            Http(
                400,
                r#""/RustFunction": bad request: an unknown HTTP method or a malformed request"#
                    .into(),
                None,
            ),
        ),
        // Unknown paths.
        (
            "POST an unknown function",
            "POST",
            "/Nope".into(),
            json(),
            vec![],
            not_found("POST", "/Nope"),
        ),
        (
            "GET an unknown function",
            "GET",
            "/Nope".into(),
            vec![],
            vec![],
            not_found("GET", "/Nope"),
        ),
        (
            "a function in another case",
            "POST",
            "/rustfunction".into(),
            json(),
            br#"{"radius": 2}"#.to_vec(),
            not_found("POST", "/rustfunction"),
        ),
        (
            "the caller's /api path",
            "POST",
            "/api/RustFunction".into(),
            json(),
            br#"{"radius": 2}"#.to_vec(),
            not_found("POST", "/api/RustFunction"),
        ),
        (
            "a path below a function",
            "POST",
            "/RustFunction/extra".into(),
            json(),
            vec![],
            not_found("POST", "/RustFunction/extra"),
        ),
        (
            "POST the readiness probe",
            "POST",
            "/".into(),
            json(),
            vec![],
            not_found("POST", "/"),
        ),
        (
            "a long path is not echoed",
            "POST",
            long_path,
            vec![],
            vec![],
            Http(
                404,
                format!("POST \"/{}\"…: not found", "a".repeat(31)),
                None,
            ),
        ),
        (
            "a path of quotes and newlines",
            "POST",
            "/%22%0A%22".into(),
            vec![],
            vec![],
            not_found("POST", "/%22%0A%22"),
        ),
        // Content types: the body is judged by what it is, whatever it claims.
        (
            "JSON sent as text/plain",
            "POST",
            "/RustFunction".into(),
            vec![("Content-Type", "text/plain")],
            br#"{"radius": 2}"#.to_vec(),
            Area(2.0),
        ),
        (
            "JSON with no content type",
            "POST",
            "/RustFunction".into(),
            vec![],
            br#"{"radius": 2}"#.to_vec(),
            Area(2.0),
        ),
        (
            "an envelope sent as text/plain",
            "POST",
            "/RustyFunction".into(),
            vec![("Content-Type", "text/plain")],
            host_envelope(Some(r#"{"radius": 2}"#), &[]),
            Area(2.0),
        ),
        (
            "a form",
            "POST",
            "/RustFunction".into(),
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            b"radius=2".to_vec(),
            not_json("expected value at line 1 column 1"),
        ),
        (
            "multipart",
            "POST",
            "/RustFunction".into(),
            vec![("Content-Type", "multipart/form-data; boundary=x")],
            b"--x\r\nContent-Disposition: form-data; name=\"radius\"\r\n\r\n2\r\n--x--\r\n"
                .to_vec(),
            not_json("invalid number at line 1 column 2"),
        ),
        (
            "XML",
            "POST",
            "/RustFunction".into(),
            vec![("Content-Type", "application/xml")],
            b"<radius>2</radius>".to_vec(),
            not_json("expected value at line 1 column 1"),
        ),
        (
            "binary",
            "POST",
            "/RustFunction".into(),
            vec![("Content-Type", "application/octet-stream")],
            vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a],
            refused(400, "the request body is not valid UTF-8 (from byte 0)"),
        ),
        (
            "gzip claimed, JSON sent",
            "POST",
            "/RustFunction".into(),
            vec![
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
            ],
            br#"{"radius": 2}"#.to_vec(),
            Area(2.0),
        ),
        // A direct caller's query.
        (
            "query not a number",
            "POST",
            "/RustFunction?radius=abc".into(),
            vec![],
            vec![],
            refused(400, r#"radius must be a number, got "abc""#),
        ),
        (
            "query empty",
            "POST",
            "/RustFunction?radius=".into(),
            vec![],
            vec![],
            refused(400, r#"radius must be a number, got """#),
        ),
        (
            "query given twice",
            "POST",
            "/RustFunction?radius=1&radius=2".into(),
            vec![],
            vec![],
            refused(
                400,
                r#"radius was given more than once ("1,2"); give it once"#,
            ),
        ),
        (
            "query bad percent-encoding",
            "POST",
            "/RustFunction?radius=%ZZ".into(),
            vec![],
            vec![],
            refused(400, r#"radius must be a number, got "%ZZ""#),
        ),
        (
            "query not UTF-8",
            "POST",
            "/RustFunction?radius=%FF".into(),
            vec![],
            vec![],
            refused(400, "radius must be a number, got \"\u{fffd}\""),
        ),
        (
            "query plus is a space",
            "POST",
            "/RustFunction?radius=+2".into(),
            vec![],
            vec![],
            refused(400, r#"radius must be a number, got " 2""#),
        ),
        (
            "query overflows",
            "POST",
            "/RustFunction?radius=1e400".into(),
            vec![],
            vec![],
            refused(400, "radius must be a finite number"),
        ),
        (
            "query minus zero",
            "POST",
            "/RustFunction?radius=-0".into(),
            vec![],
            vec![],
            Area(0.0),
        ),
        (
            "query exponent",
            "POST",
            "/RustFunction?radius=25E-1".into(),
            vec![],
            vec![],
            Area(2.5),
        ),
        (
            "query long, not echoed",
            "POST",
            format!("/RustFunction?radius={}", "9x".repeat(2000)),
            vec![],
            vec![],
            refused(
                400,
                format!("radius must be a number, got \"{}\"…", "9x".repeat(16)),
            ),
        ),
    ]
}

#[rocket::async_test]
async fn caller_bodies_get_the_same_answer_through_every_door() {
    let (mut handler, host) = start_handler().await;
    let app = app().await;
    let mut failures = Failures(Vec::new());
    let mut checks = 0;
    for (case, body, expected) in caller_bodies() {
        let envelope = host_envelope((!body.is_empty()).then_some(body.as_str()), &[]);
        let doors = [
            (
                "host",
                host.invoke("RustyFunction", &envelope, case, piece_for(envelope.len()))
                    .await,
            ),
            (
                "direct HTTP",
                host.request_with(
                    "POST",
                    "/RustFunction",
                    &[("Content-Type", "application/json")],
                    body.as_bytes(),
                    piece_for(body.len()),
                )
                .await,
            ),
            ("direct call", call_directly(&app, body.as_bytes()).await),
            (
                "host envelope, direct call",
                call_directly(&app, &envelope).await,
            ),
        ];
        for (door, reply) in doors {
            failures.check(door, case, &reply, &expected);
            checks += 1;
        }
        assert_serving(&mut handler, &host).await;
    }
    for (case, body, expected) in non_utf8_bodies() {
        let reply = host
            .request_with("POST", "/RustFunction", &[], &body, 3)
            .await;
        failures.check("direct HTTP", case, &reply, &expected);
        failures.check(
            "direct call",
            case,
            &call_directly(&app, &body).await,
            &expected,
        );
        checks += 2;
        assert_serving(&mut handler, &host).await;
    }
    failures.assert_none(checks);
}

#[rocket::async_test]
async fn malformed_envelopes_say_what_is_wrong_and_where() {
    let (mut handler, host) = start_handler().await;
    let app = app().await;
    let mut failures = Failures(Vec::new());
    let cases = envelopes();
    for (case, envelope, expected) in &cases {
        let reply = host
            .invoke("RustyFunction", envelope, case, piece_for(envelope.len()))
            .await;
        failures.check("host", case, &reply, expected);
        failures.check(
            "direct call",
            case,
            &call_directly(&app, envelope).await,
            expected,
        );
        assert_serving(&mut handler, &host).await;
    }
    failures.assert_none(cases.len() * 2);
}

#[rocket::async_test]
async fn methods_paths_content_types_and_queries() {
    let (mut handler, host) = start_handler().await;
    let mut failures = Failures(Vec::new());
    let cases = http_cases();
    for (case, method, path, headers, body, expected) in &cases {
        let reply = host
            .request_with(method, path, headers, body, piece_for(body.len()))
            .await;
        failures.check("direct HTTP", case, &reply, expected);
        assert_serving(&mut handler, &host).await;
    }
    failures.assert_none(cases.len());
}

#[rocket::async_test]
async fn envelopes_exactly_at_and_just_over_rockets_json_limit() {
    assert_eq!(
        ENVELOPE_LIMIT as u64,
        rusty_function::config::default_json_limit().as_u64()
    );
    let (mut handler, host) = start_handler().await;
    let mut failures = Failures(Vec::new());
    // The caller's body is small; Metadata makes up the size.
    let sized = |len: usize| {
        let head = r#"{"Data":{"req":{"Body":"{\"radius\": 2}"}},"Metadata":{"pad":""#;
        let tail = r#""}}"#;
        let mut envelope = head.as_bytes().to_vec();
        envelope.resize(len - tail.len(), b'a');
        envelope.extend_from_slice(tail.as_bytes());
        envelope
    };
    let too_large = refused(
        413,
        "the invocation is larger than 32MiB (Rocket's `limits.json`)",
    );
    let cases = [
        (
            "envelope of exactly 32 MiB",
            sized(ENVELOPE_LIMIT),
            Area(2.0),
        ),
        (
            "envelope 1 byte over 32 MiB",
            sized(ENVELOPE_LIMIT + 1),
            too_large.clone(),
        ),
    ];
    for (case, envelope, expected) in &cases {
        let reply = host
            .invoke("RustyFunction", envelope, case, 1024 * 1024)
            .await;
        failures.check("host", case, &reply, expected);
        assert_serving(&mut handler, &host).await;
    }
    // A direct call is held to the same limit.
    let body = padded_body(ENVELOPE_LIMIT + 1);
    let reply = host
        .request_with("POST", "/RustFunction", &[], body.as_bytes(), 1024 * 1024)
        .await;
    failures.check("direct HTTP", "body 1 byte over 32 MiB", &reply, &too_large);
    assert_serving(&mut handler, &host).await;
    failures.assert_none(cases.len() + 1);
}

#[test]
fn serde_json_keeps_its_recursion_limit_of_128() {
    // Nothing here is deserialised into a recursive type: ignored values,
    // `Metadata` and `Identities` are skipped or kept raw by serde_json's
    // iterative scanner, whatever their depth (tested above). Were a field
    // ever made a `serde_json::Value`, this limit is what would stand
    // between deep input and the stack; the `unbounded_depth` feature would
    // remove it.
    let at = |depth: usize| serde_json::from_str::<Value>(&nested(depth, "[", "]"));
    assert!(at(127).is_ok());
    assert_eq!(
        at(128).unwrap_err().to_string(),
        "recursion limit exceeded at line 1 column 128"
    );
    assert!(at(DEEP).is_err());
}
