//! Bad input of every kind, each with its exact answer.
//!
//! Every case goes through more than one door: the host's envelope (built
//! by `local_host` as the host builds it, sent chunked by
//! `HostClient::invoke` to the built binary), a direct HTTP call, and a
//! call of the app in this process, without a server. Caller mistakes must
//! come back as HTTP 200 with the status inside the envelope, where the
//! host reads it, and a JSON error that says what was wrong; requests that
//! are not invocations get the handler's own JSON status. After every case
//! the same process must still answer a good invocation.
//!
//! The tables read `case(name, input).gets(answer)`; the tests below them.

mod common;

use std::path::Path;
use std::sync::LazyLock;

use common::start_binary;
use local_host::app::{AppFolder, FunctionFolder};
use local_host::client::{HostClient, HttpReply, READY_TIMEOUT, free_port};
use local_host::envelope::{CallerRequest, Sys, http_invocation, read_reply};
use local_host::process::Process;
use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

/// Rocket's default `limits.json` for this handler (config::default_json_limit).
const ENVELOPE_LIMIT: usize = 32 * 1024 * 1024;

/// The largest caller body a function takes (README, "Limits").
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Deep enough to overflow any stack a recursive parser would use.
const DEEP: usize = 100_000;

// ---------------------------------------------------------------------------
// Cases and answers
// ---------------------------------------------------------------------------

/// What the handler must answer.
#[derive(Debug, Clone)]
enum Answer {
    /// HTTP 200, an envelope whose `$return` is 200 with this radius and
    /// `PI * r * r`.
    Area(f64),
    /// HTTP 200, an envelope whose `$return` is this status and
    /// `{"error": message}`.
    Refused(u16, String),
    /// Not an invocation: the handler's own status, `{"error": message}`,
    /// and the `Allow` header it must carry, if any.
    Http {
        status: u16,
        error: String,
        allow: Option<&'static str>,
    },
}

use Answer::{Area, Refused};

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

fn http_error(status: u16, error: impl Into<String>) -> Answer {
    Answer::Http {
        status,
        error: error.into(),
        allow: None,
    }
}

/// The answer to `"GET /RustFunction"`: 405, and `Allow: POST`.
fn wrong_method(request_line: &str) -> Answer {
    let (method, path) = request_line.split_once(' ').expect("METHOD /path");
    Answer::Http {
        status: 405,
        error: format!("{method} \"{path}\": method not allowed, use POST"),
        allow: Some("POST"),
    }
}

/// The answer to `"POST /Nope"`.
fn not_found(request_line: &str) -> Answer {
    let (method, path) = request_line.split_once(' ').expect("METHOD /path");
    http_error(404, format!("{method} \"{path}\": not found"))
}

/// One input and the answer it must get.
struct Case<Input = Vec<u8>> {
    name: &'static str,
    input: Input,
    expected: Answer,
}

/// A table row before its answer: `case(name, input)`, completed by
/// `.gets(answer)`.
struct Row<Input>(&'static str, Input);

impl<Input> Row<Input> {
    fn gets(self, expected: Answer) -> Case<Input> {
        Case {
            name: self.0,
            input: self.1,
            expected,
        }
    }
}

/// A caller's body or a whole envelope, as bytes; its table says which.
fn case(name: &'static str, input: impl Into<Vec<u8>>) -> Row<Vec<u8>> {
    Row(name, input.into())
}

/// A request as a direct caller sends it, not as the host does.
struct Request {
    method: String,
    path: String,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
}

/// `request(name, "POST /RustFunction")`, with no headers and no body until
/// `.content_type()`, `.header()` and `.body()` add them.
fn request(name: &'static str, request_line: impl AsRef<str>) -> Row<Request> {
    let (method, path) = request_line.as_ref().split_once(' ').expect("METHOD /path");
    Row(
        name,
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        },
    )
}

impl Row<Request> {
    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.1.headers.push((name, value));
        self
    }

    fn content_type(self, value: &'static str) -> Self {
        self.header("Content-Type", value)
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.1.body = body.into();
        self
    }
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

/// `open` `depth` times, then `close` as often: `[[[]]]` for depth 3.
fn nested(depth: usize, open: &str, close: &str) -> String {
    format!("{}{}", open.repeat(depth), close.repeat(depth))
}

/// `{"a":{"a":…1…}}`, `depth` objects deep.
fn deep_object(depth: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

/// RustyFunction as `RustyFunction/function.json` declares it.
fn rusty_function() -> &'static FunctionFolder {
    static APP: LazyLock<AppFolder> = LazyLock::new(|| {
        AppFolder::load(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the app folder loads")
    });
    APP.function("RustyFunction").expect("RustyFunction")
}

/// The envelope the host sends RustyFunction when a caller POSTs
/// `caller_body` (empty: no body at all) to /api/RustFunction as JSON.
fn host_envelope(caller_body: impl AsRef<[u8]>) -> Vec<u8> {
    let caller = CallerRequest {
        method: "POST".into(),
        url: "http://localhost:7071/api/RustFunction".into(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Accept".into(), "*/*".into()),
        ],
        body: Some(caller_body.as_ref().to_vec()),
    };
    let function = rusty_function();
    let envelope = http_invocation(function, &caller, &[], &Sys::new(function));
    serde_json::to_vec(&envelope).expect("an envelope is JSON")
}

/// A hand-made envelope whose `Data.req` is the raw JSON text `req`.
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

// ---------------------------------------------------------------------------
// Checking answers
// ---------------------------------------------------------------------------

/// Checks a reply against the answer; returns what differs, if anything.
fn mismatch(reply: &HttpReply, expected: &Answer) -> Option<String> {
    let json_type = reply.content_type.as_deref() == Some("application/json");
    let (status, body) = match expected {
        Area(radius) => (
            200,
            json!({"radius": radius, "area": std::f64::consts::PI * radius * radius}),
        ),
        Refused(status, message) => (*status, json!({ "error": message })),
        Answer::Http {
            status,
            error,
            allow,
        } => {
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
            return match serde_json::from_slice::<Value>(&reply.body) {
                Ok(body) if body == json!({ "error": error }) => None,
                _ => Some("another body".into()),
            };
        }
    };
    // An invocation's reply, read as the host reads it: the caller must get
    // exactly `status` and `body`, as JSON.
    if reply.status != 200 || !json_type {
        return Some(format!(
            "HTTP {} {:?}, the host needs 200 and JSON",
            reply.status, reply.content_type
        ));
    }
    let outcome = read_reply(rusty_function(), reply);
    if !outcome.succeeded() || !outcome.warnings.is_empty() {
        return Some(format!(
            "the host: {:?}, warnings {:?}",
            outcome.verdict, outcome.warnings
        ));
    }
    if outcome.logs.len() != 1 {
        return Some(format!("{} log lines, expected 1", outcome.logs.len()));
    }
    let caller = outcome.response.expect("an HTTP trigger's response");
    let json_headers = [(
        "Content-Type".to_owned(),
        "application/json; charset=utf-8".to_owned(),
    )];
    let caller_body = serde_json::from_slice::<Value>(&caller.body).ok();
    let same = caller.status == status && caller.headers == json_headers;
    (!same || caller_body != Some(body)).then(|| {
        format!(
            "the caller gets {} {:?} {}",
            caller.status,
            caller.headers,
            String::from_utf8_lossy(&caller.body)
        )
    })
}

/// The app in this process, without a server.
async fn app() -> Client {
    Client::untracked(azure_functions_rocket::app(rusty_function::registry()))
        .await
        .expect("valid app")
}

/// The answer of the app, called in this process.
async fn call_directly(app: &Client, body: &[u8]) -> HttpReply {
    let response = app
        .post("/RustFunction")
        .header(rocket::http::Header::new(
            "X-Azure-Functions-InvocationId",
            "direct",
        ))
        .body(body)
        .dispatch()
        .await;
    HttpReply {
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
    let envelope = host_envelope(br#"{"radius": 3}"#);
    let reply = host.invoke("RustyFunction", &envelope, "alive", 16).await;
    assert_eq!(mismatch(&reply, &Area(3.0)), None, "still serving");
}

/// Runs every case, then fails with all mismatches at once.
#[derive(Default)]
struct Failures {
    checks: usize,
    found: Vec<String>,
}

impl Failures {
    fn check(&mut self, door: &str, case: &str, reply: &HttpReply, expected: &Answer) {
        self.checks += 1;
        if let Some(what) = mismatch(reply, expected) {
            let got = String::from_utf8_lossy(&reply.body);
            let got: String = got.chars().take(600).collect();
            self.found.push(format!(
                "{door} {case}: {what}\n  expected {expected:?}\n  got {got}"
            ));
        }
    }

    fn assert_none(self) {
        assert!(
            self.found.is_empty(),
            "{} of {} checks failed:\n{}",
            self.found.len(),
            self.checks,
            self.found.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------
// The tables
// ---------------------------------------------------------------------------

/// What a caller may send as the body of their request, and the answer. The
/// function judges it the same whether it arrives directly or as the
/// `Body` of the host's envelope.
fn caller_bodies() -> Vec<Case> {
    let long = "x".repeat(10_000);
    vec![
        // Malformed and truncated JSON.
        case("truncated object", r#"{"radius": 2"#)
            .gets(not_json("EOF while parsing an object at line 1 column 12")),
        case("truncated value", r#"{"radius": "#)
            .gets(not_json("EOF while parsing a value at line 1 column 11")),
        case("truncated string", r#"{"radi"#)
            .gets(not_json("EOF while parsing a string at line 1 column 6")),
        case("trailing comma", r#"{"radius": 2,}"#)
            .gets(not_json("trailing comma at line 1 column 14")),
        case("unquoted key", "{radius: 2}")
            .gets(not_json("key must be a string at line 1 column 2")),
        case("single quotes", "{'radius': 2}")
            .gets(not_json("key must be a string at line 1 column 2")),
        case("trailing brace", r#"{"radius": 2}}"#)
            .gets(not_json("trailing characters at line 1 column 14")),
        case("two documents", r#"{"radius": 2} {"radius": 3}"#)
            .gets(not_json("trailing characters at line 1 column 15")),
        case(
            "raw newline in a string",
            "{\"radius\": 2, \"x\": \"a\nb\"}",
        )
        .gets(not_json(
            "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 21",
        )),
        // Ignored strings are scanned, not decoded: their escapes go unchecked.
        case(
            "lone surrogate escape, ignored",
            r#"{"radius": 2, "x": "\ud800"}"#,
        )
        .gets(Area(2.0)),
        case("byte order mark", "\u{feff}{\"radius\": 2}")
            .gets(not_json("expected value at line 1 column 1")),
        case("trailing NUL", "{\"radius\": 2}\u{0}")
            .gets(not_json("trailing characters at line 1 column 14")),
        case("form encoding", "radius=2").gets(not_json("expected value at line 1 column 1")),
        case("long garbage is not echoed", long.clone())
            .gets(not_json("expected value at line 1 column 1")),
        // Not an object, or no radius in it.
        case("array", r#"[{"radius": 2}]"#)
            .gets(refused(400, "the request body must be a JSON object")),
        case("number", "2.5").gets(refused(400, "the request body must be a JSON object")),
        case("string", r#""{\"radius\": 2}""#)
            .gets(refused(400, "the request body must be a JSON object")),
        case("null", "null").gets(refused(400, "the request body must be a JSON object")),
        case("empty", "").gets(missing_radius()),
        case("blank", " \r\n\t").gets(missing_radius()),
        case("empty object", "{}").gets(missing_radius()),
        case("null radius", r#"{"radius": null}"#).gets(missing_radius()),
        case("key in another case", r#"{"Radius": 2}"#).gets(missing_radius()),
        // Wrong types for the radius.
        case("radius a string", r#"{"radius": "2"}"#)
            .gets(refused(400, "radius must be a number, not a string")),
        case("radius a long string", format!(r#"{{"radius": "{long}"}}"#))
            .gets(refused(400, "radius must be a number, not a string")),
        case("radius a boolean", r#"{"radius": true}"#)
            .gets(refused(400, "radius must be a number, not a boolean")),
        case("radius an array", r#"{"radius": [2]}"#)
            .gets(refused(400, "radius must be a number, not an array")),
        case("radius an object", r#"{"radius": {"value": 2}}"#)
            .gets(refused(400, "radius must be a number, not an object")),
        case("duplicate radius", r#"{"radius": 1, "radius": 2}"#).gets(refused(
            400,
            "invalid request body: duplicate field `radius` at line 1 column 22",
        )),
        // Numbers JSON allows, and numbers it does not.
        case("negative", r#"{"radius": -1}"#)
            .gets(refused(400, "radius must not be negative, got -1")),
        case("tiny negative", r#"{"radius": -5e-324}"#)
            .gets(refused(400, "radius must not be negative, got -5e-324")),
        case("huge negative", r#"{"radius": -1e300}"#)
            .gets(refused(400, "radius must not be negative, got -1e300")),
        case("minus zero", r#"{"radius": -0}"#).gets(Area(0.0)),
        case("minus zero with exponent", r#"{"radius": -0.0e5}"#).gets(Area(0.0)),
        case("exponent", r#"{"radius": 2.5e0}"#).gets(Area(2.5)),
        case("capital negative exponent", r#"{"radius": 25E-1}"#).gets(Area(2.5)),
        case("exponent with plus", r#"{"radius": 0.025e+2}"#).gets(Area(2.5)),
        case("largest valid radius", r#"{"radius": 7.5e153}"#).gets(Area(7.5e153)),
        case("area overflows", r#"{"radius": 7.6e153}"#).gets(refused(
            400,
            "radius 7.6e153 is too large: its area overflows",
        )),
        case("number overflows f64", r#"{"radius": 1e400}"#)
            .gets(refused(400, "radius must be a finite number")),
        case(
            "400-digit integer",
            format!(r#"{{"radius": 1{}}}"#, "0".repeat(400)),
        )
        .gets(refused(400, "radius must be a finite number")),
        case("underflows to zero", r#"{"radius": 1e-400}"#).gets(Area(0.0)),
        case("smallest subnormal", r#"{"radius": 5e-324}"#).gets(Area(5e-324)),
        case("leading zero", r#"{"radius": 01}"#)
            .gets(not_json("invalid number at line 1 column 13")),
        case("leading plus", r#"{"radius": +1}"#)
            .gets(not_json("expected value at line 1 column 12")),
        case("leading dot", r#"{"radius": .5}"#)
            .gets(not_json("expected value at line 1 column 12")),
        case("trailing dot", r#"{"radius": 1.}"#)
            .gets(not_json("invalid number at line 1 column 14")),
        case("hexadecimal", r#"{"radius": 0x10}"#)
            .gets(not_json("expected `,` or `}` at line 1 column 13")),
        case("NaN literal", r#"{"radius": NaN}"#)
            .gets(not_json("expected value at line 1 column 12")),
        case("Infinity literal", r#"{"radius": Infinity}"#)
            .gets(not_json("expected value at line 1 column 12")),
        case("huge ignored number", r#"{"radius": 2, "x": 1e999999}"#).gets(Area(2.0)),
        case(
            "huge ignored integer",
            format!(r#"{{"x": -{}, "radius": 2}}"#, "9".repeat(5000)),
        )
        .gets(Area(2.0)),
        // Unicode.
        case("escaped key", r#"{"r\u0061dius": 2}"#).gets(Area(2.0)),
        case("non-ASCII fields", r#"{"名前": "🦀 \"ø\"", "radius": 2}"#).gets(Area(2.0)),
        // Deep nesting, which is never recursed into.
        case(
            "deep radius",
            format!(r#"{{"radius": {}}}"#, nested(DEEP, "[", "]")),
        )
        .gets(refused(400, "radius must be a number, not an array")),
        case(
            "deep ignored array",
            format!(r#"{{"radius": 2, "x": {}}}"#, nested(DEEP, "[", "]")),
        )
        .gets(Area(2.0)),
        case(
            "deep ignored object",
            format!(r#"{{"x": {}, "radius": 2}}"#, deep_object(DEEP)),
        )
        .gets(Area(2.0)),
        case("deep top-level array", nested(DEEP, "[", "]"))
            .gets(refused(400, "the request body must be a JSON object")),
        case("deep and unclosed", "[".repeat(DEEP))
            .gets(not_json("EOF while parsing a list at line 1 column 100000")),
        case(
            "deep, unclosed, in an object",
            format!(r#"{{"radius": 2, "x": {}"#, "[".repeat(DEEP)),
        )
        .gets(not_json("EOF while parsing a list at line 1 column 100019")),
        // The caller-body limit.
        case("body of exactly 1 MiB", padded_body(MAX_BODY_BYTES)).gets(Area(2.0)),
        case("body 1 byte over 1 MiB", padded_body(MAX_BODY_BYTES + 1)).gets(refused(
            413,
            "the request body is 1048577 bytes; this function takes at most 1048576",
        )),
        case("blank body over 1 MiB", " ".repeat(MAX_BODY_BYTES + 1)).gets(missing_radius()),
    ]
}

/// Bodies that are not UTF-8: a direct caller can send them; the host
/// cannot (its `Body` is a JSON string).
fn non_utf8_bodies() -> Vec<Case> {
    let not_utf8 = |at: usize| {
        refused(
            400,
            format!("the request body is not valid UTF-8 (from byte {at})"),
        )
    };
    vec![
        case("a stray 0xFF", b"{\"radius\": 2, \"x\": \"\xff\"}").gets(not_utf8(20)),
        case("an overlong slash", b"{\"radius\": 2, \"x\": \"\xc0\xaf\"}").gets(not_utf8(20)),
        case("a cut-off euro sign", b"{\"radius\": 2, \"x\": \"\xe2\x82").gets(not_utf8(20)),
        case("UTF-16", b"\xff\xfe{\0\"\0r\0").gets(not_utf8(0)),
        case(
            "a surrogate in UTF-8",
            b"{\"radius\": 2, \"x\": \"\xed\xa0\x80\"}",
        )
        .gets(not_utf8(20)),
    ]
}

/// Whole invocations, and the answer: written by hand where the envelope
/// itself is wrong (no host sends those), built from `host_envelope` where
/// the case is about what the host does send.
fn envelopes() -> Vec<Case> {
    let at =
        |path: &str, reason: &str| refused(400, format!("invalid invocation at {path}: {reason}"));
    let good_body = r#"{"Body":"{\"radius\": 2}"}"#;
    // `req` with `field` as given and a good body: a field the function
    // does not need may have any shape.
    let with_field = |field: &str| with_req(&format!(r#"{{{field},"Body":"{{\"radius\": 2}}"}}"#));
    let long = "\"\n".repeat(5_000);
    let no_data = refused(400, "invalid invocation: the envelope has no Data");
    let no_req = refused(
        400,
        r#"invalid invocation: Data has no "req", the function's trigger binding"#,
    );
    // What the host sends for a caller's `{}`.
    let one = host_envelope("{}");
    vec![
        // Data missing or not an object.
        case("missing Data", br#"{"Metadata":{}}"#).gets(no_data.clone()),
        case("Data null", br#"{"Data":null,"Metadata":{}}"#).gets(no_data),
        case("Data an array", br#"{"Data":[],"Metadata":{}}"#).gets(at(
            "Data",
            "invalid type: sequence, expected a JSON object at line 1 column 0",
        )),
        case("Data a string", br#"{"Data":"{}","Metadata":{}}"#).gets(at(
            "Data",
            "invalid type: string \"{}\", expected a JSON object at line 1 column 4",
        )),
        case("Data a number", br#"{"Data":5,"Metadata":{}}"#).gets(at(
            "Data",
            "invalid type: integer `5`, expected a JSON object at line 1 column 1",
        )),
        case(
            "Data a long string is not echoed",
            serde_json::to_vec(&json!({"Data": long, "Metadata": {}})).unwrap(),
        )
        .gets(at(
            "Data",
            &format!("invalid type: string \"{}\\\"…", "\\\"\\n".repeat(34)),
        )),
        case("Data without req", br#"{"Data":{},"Metadata":{}}"#).gets(no_req.clone()),
        case(
            "req in another case",
            br#"{"Data":{"Req":{}},"Metadata":{}}"#,
        )
        .gets(no_req),
        case("req null", with_req("null")).gets(at(
            "Data.req",
            "invalid type: null, expected a JSON object at line 1 column 4",
        )),
        case("req a string", with_req(r#""POST""#)).gets(at(
            "Data.req",
            "invalid type: string \"POST\", expected a JSON object at line 1 column 6",
        )),
        // Fields the function does not need, in any shape.
        case("Url a number", with_field(r#""Url":5"#)).gets(Area(2.0)),
        case("Method an array", with_field(r#""Method":["GET"]"#)).gets(Area(2.0)),
        case("Params value a number", with_field(r#""Params":{"id":1}"#)).gets(Area(2.0)),
        case("Identities an object", with_field(r#""Identities":{}"#)).gets(Area(2.0)),
        case(
            "Headers values as strings",
            with_field(r#""Headers":{"Accept":"*/*"}"#),
        )
        .gets(Area(2.0)),
        case("Headers an array", with_field(r#""Headers":[]"#)).gets(Area(2.0)),
        case(
            "Headers value of numbers",
            with_field(r#""Headers":{"Accept":[1]}"#),
        )
        .gets(Area(2.0)),
        case(
            "Headers value deeply nested",
            with_field(&format!(
                r#""Headers":{{"Accept":[{}]}}"#,
                nested(DEEP, "[", "]")
            )),
        )
        .gets(Area(2.0)),
        // The Query is read leniently: a value is its text, else absent.
        case(
            "Query stringified, as in old docs",
            with_req(r#"{"Query":"{}"}"#),
        )
        .gets(missing_radius()),
        case(
            "Query value a number",
            with_req(r#"{"Query":{"radius":2}}"#),
        )
        .gets(Area(2.0)),
        case("Query value null", with_req(r#"{"Query":{"radius":null}}"#)).gets(missing_radius()),
        case(
            "Query value deeply nested",
            with_req(&format!(
                r#"{{"Query":{{"x":{}}}}}"#,
                nested(DEEP, "[", "]")
            )),
        )
        .gets(missing_radius()),
        case(
            "a long Query name",
            with_req(&format!(
                r#"{{"Query":{{"{}":1}}}}"#,
                r#"k\n"#.repeat(2_000)
            )),
        )
        .gets(missing_radius()),
        // The Body is the caller's input: it must be a string.
        case("Body a number", with_req(r#"{"Body":2}"#)).gets(at(
            "Data.req.Body",
            "invalid type: integer `2`, expected a string at line 1 column 1",
        )),
        case("Body an object", with_req(r#"{"Body":{"radius":2}}"#)).gets(at(
            "Data.req.Body",
            "invalid type: map, expected a string at line 1 column 0",
        )),
        case("Body true", with_req(r#"{"Body":true}"#)).gets(at(
            "Data.req.Body",
            "invalid type: boolean `true`, expected a string at line 1 column 4",
        )),
        case(
            "Body null, as if absent",
            with_req(r#"{"Body":null,"Query":{"radius":"2"}}"#),
        )
        .gets(Area(2.0)),
        case(
            "Body with a lone surrogate escape",
            with_req(r#"{"Body":"{\"radius\": 2}\udc00"}"#),
        )
        .gets(at(
            "Data.req.Body",
            "lone leading surrogate in hex escape at line 1 column 22",
        )),
        // Duplicate keys.
        case(
            "Data twice",
            br#"{"Data":{"req":{}},"Data":{"req":{}},"Metadata":{}}"#,
        )
        .gets(refused(
            400,
            "invalid invocation: duplicate field `Data` at line 1 column 25",
        )),
        case(
            "Metadata twice",
            format!(r#"{{"Data":{{"req":{good_body}}},"Metadata":{{}},"Metadata":{{}}}}"#),
        )
        .gets(refused(
            400,
            "invalid invocation: duplicate field `Metadata` at line 1 column 67",
        )),
        case(
            "req twice: the last one counts, as in most JSON readers",
            format!(r#"{{"Data":{{"req":{{}},"req":{good_body}}},"Metadata":{{}}}}"#),
        )
        .gets(Area(2.0)),
        case("Body twice", with_req(r#"{"Body":"{}","Body":"{}"}"#))
            .gets(at("Data.req", "duplicate field `Body` at line 1 column 19")),
        // The host joins repeated query keys; duplicates in its JSON would
        // be a host bug, and the last one wins as in most JSON readers.
        case(
            "Query key twice",
            with_req(r#"{"Query":{"radius":"1","radius":"2"}}"#),
        )
        .gets(Area(2.0)),
        // Malformed and truncated envelopes.
        case("cut in a key", br#"{"Data":{"req":{"Bo"#)
            .gets(not_json("EOF while parsing a string at line 1 column 19")),
        case("cut in the Body", br#"{"Data":{"req":{"Body":"{\"rad"#)
            .gets(not_json("EOF while parsing a string at line 1 column 30")),
        case(
            "cut before the last brace",
            format!(r#"{{"Data":{{"req":{good_body}}},"Metadata":{{}}"#),
        )
        .gets(not_json("EOF while parsing an object at line 1 column 56")),
        case(
            "trailing garbage",
            format!(r#"{{"Data":{{"req":{good_body}}},"Metadata":{{}}}} x"#),
        )
        .gets(not_json("trailing characters at line 1 column 59")),
        case("two envelopes", [one.clone(), one.clone()].concat()).gets(not_json(&format!(
            "trailing characters at line 1 column {}",
            one.len() + 1
        ))),
        case(
            "an array of envelopes",
            [b"[", one.as_slice(), b"]"].concat(),
        )
        .gets(refused(400, "the request body must be a JSON object")),
        case(
            "lowercase keys: not an envelope",
            br#"{"data":{"req":{"Body":"{\"radius\":2}"}},"metadata":{}}"#,
        )
        .gets(missing_radius()),
        case(
            "invalid UTF-8 outside Body",
            b"{\"Data\":{\"req\":{\"Body\":\"{}\"}},\"Metadata\":{\"\xff\":1}}",
        )
        .gets(refused(
            400,
            "the request body is not valid UTF-8 (from byte 43)",
        )),
        case(
            "invalid UTF-8 inside Body",
            b"{\"Data\":{\"req\":{\"Body\":\"{\xc3}\"}},\"Metadata\":{}}",
        )
        .gets(refused(
            400,
            "the request body is not valid UTF-8 (from byte 25)",
        )),
        // What is ignored may be anything, however deep or large.
        case(
            "Metadata a string",
            format!(r#"{{"Data":{{"req":{good_body}}},"Metadata":"x"}}"#),
        )
        .gets(Area(2.0)),
        case(
            "Metadata deeply nested",
            format!(
                r#"{{"Data":{{"req":{good_body}}},"Metadata":{}}}"#,
                nested(DEEP, "[", "]")
            ),
        )
        .gets(Area(2.0)),
        case(
            "Metadata deeply nested objects",
            format!(
                r#"{{"Data":{{"req":{good_body}}},"Metadata":{}}}"#,
                deep_object(DEEP)
            ),
        )
        .gets(Area(2.0)),
        case(
            "Metadata deep and unclosed",
            format!(
                r#"{{"Data":{{"req":{good_body}}},"Metadata":{}"#,
                "[".repeat(DEEP)
            ),
        )
        .gets(not_json("EOF while parsing a list at line 1 column 100054")),
        case(
            "Metadata with huge numbers and -0",
            format!(
                r#"{{"Data":{{"req":{good_body}}},"Metadata":{{"a":1e999999,"b":-0,"c":-{}}}}}"#,
                "9".repeat(5000)
            ),
        )
        .gets(Area(2.0)),
        case(
            "another binding deeply nested",
            format!(
                r#"{{"Data":{{"other":{},"req":{good_body}}},"Metadata":{{}}}}"#,
                nested(DEEP, "[", "]")
            ),
        )
        .gets(Area(2.0)),
        case(
            "unknown req field deeply nested",
            with_req(&format!(
                r#"{{"Future":{},"Body":"{{\"radius\": 2}}"}}"#,
                nested(DEEP, "[", "]")
            )),
        )
        .gets(Area(2.0)),
        case(
            "an identity deeply nested",
            with_req(&format!(
                r#"{{"Identities":[{}],"Body":"{{\"radius\": 2}}"}}"#,
                nested(DEEP, "[", "]")
            )),
        )
        .gets(Area(2.0)),
        // The caller's body, measured after the host's escaping is undone.
        case(
            "escaped Body of exactly 1 MiB",
            host_envelope(quote_heavy_body(MAX_BODY_BYTES)),
        )
        .gets(Area(2.0)),
        case(
            "escaped Body 1 byte over 1 MiB",
            host_envelope(quote_heavy_body(MAX_BODY_BYTES + 1)),
        )
        .gets(refused(
            413,
            "the request body is 1048577 bytes; this function takes at most 1048576",
        )),
    ]
}

/// Requests that are not invocations, or invocations in a form only a
/// direct caller would use.
fn http_cases() -> Vec<Case<Request>> {
    vec![
        // Methods other than POST on a function's path.
        request("GET a function", "GET /RustFunction").gets(wrong_method("GET /RustFunction")),
        request("GET the folder name", "GET /RustyFunction?radius=2")
            .gets(wrong_method("GET /RustyFunction")),
        request("PUT", "PUT /RustFunction")
            .content_type("application/json")
            .body(br#"{"radius": 2}"#)
            .gets(wrong_method("PUT /RustFunction")),
        request("DELETE", "DELETE /RustFunction").gets(wrong_method("DELETE /RustFunction")),
        request("PATCH", "PATCH /RustyFunction")
            .content_type("application/json")
            .body(br#"{"radius": 2}"#)
            .gets(wrong_method("PATCH /RustyFunction")),
        request("OPTIONS", "OPTIONS /RustFunction").gets(wrong_method("OPTIONS /RustFunction")),
        request("HEAD", "HEAD /RustFunction").gets(wrong_method("HEAD /RustFunction")),
        request("an unknown method", "FROB /RustFunction").gets(http_error(
            400,
            r#""/RustFunction": bad request: an unknown HTTP method or a malformed request"#,
        )),
        // Unknown paths.
        request("POST an unknown function", "POST /Nope")
            .content_type("application/json")
            .gets(not_found("POST /Nope")),
        request("GET an unknown function", "GET /Nope").gets(not_found("GET /Nope")),
        request("a function in another case", "POST /rustfunction")
            .content_type("application/json")
            .body(br#"{"radius": 2}"#)
            .gets(not_found("POST /rustfunction")),
        request("the caller's /api path", "POST /api/RustFunction")
            .content_type("application/json")
            .body(br#"{"radius": 2}"#)
            .gets(not_found("POST /api/RustFunction")),
        request("a path below a function", "POST /RustFunction/extra")
            .content_type("application/json")
            .gets(not_found("POST /RustFunction/extra")),
        request("POST the readiness probe", "POST /")
            .content_type("application/json")
            .gets(not_found("POST /")),
        request(
            "a long path is not echoed",
            format!("POST /{}", "a".repeat(5000)),
        )
        .gets(http_error(
            404,
            format!("POST \"/{}\"…: not found", "a".repeat(31)),
        )),
        request("a path of quotes and newlines", "POST /%22%0A%22")
            .gets(not_found("POST /%22%0A%22")),
        // Content types: the body is judged by what it is, whatever it claims.
        request("JSON sent as text/plain", "POST /RustFunction")
            .content_type("text/plain")
            .body(br#"{"radius": 2}"#)
            .gets(Area(2.0)),
        request("JSON with no content type", "POST /RustFunction")
            .body(br#"{"radius": 2}"#)
            .gets(Area(2.0)),
        request("an envelope sent as text/plain", "POST /RustyFunction")
            .content_type("text/plain")
            .body(host_envelope(br#"{"radius": 2}"#))
            .gets(Area(2.0)),
        request("a form", "POST /RustFunction")
            .content_type("application/x-www-form-urlencoded")
            .body(b"radius=2")
            .gets(not_json("expected value at line 1 column 1")),
        request("multipart", "POST /RustFunction")
            .content_type("multipart/form-data; boundary=x")
            .body(b"--x\r\nContent-Disposition: form-data; name=\"radius\"\r\n\r\n2\r\n--x--\r\n")
            .gets(not_json("invalid number at line 1 column 2")),
        request("XML", "POST /RustFunction")
            .content_type("application/xml")
            .body(b"<radius>2</radius>")
            .gets(not_json("expected value at line 1 column 1")),
        request("binary", "POST /RustFunction")
            .content_type("application/octet-stream")
            .body(vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a])
            .gets(refused(
                400,
                "the request body is not valid UTF-8 (from byte 0)",
            )),
        request("gzip claimed, JSON sent", "POST /RustFunction")
            .content_type("application/json")
            .header("Content-Encoding", "gzip")
            .body(br#"{"radius": 2}"#)
            .gets(Area(2.0)),
        // A direct caller's query.
        request("query not a number", "POST /RustFunction?radius=abc")
            .gets(refused(400, r#"radius must be a number, got "abc""#)),
        request("query empty", "POST /RustFunction?radius=")
            .gets(refused(400, r#"radius must be a number, got """#)),
        request("query given twice", "POST /RustFunction?radius=1&radius=2").gets(refused(
            400,
            r#"radius was given more than once ("1,2"); give it once"#,
        )),
        request(
            "query bad percent-encoding",
            "POST /RustFunction?radius=%ZZ",
        )
        .gets(refused(400, r#"radius must be a number, got "%ZZ""#)),
        request("query not UTF-8", "POST /RustFunction?radius=%FF")
            .gets(refused(400, "radius must be a number, got \"\u{fffd}\"")),
        request("query plus is a space", "POST /RustFunction?radius=+2")
            .gets(refused(400, r#"radius must be a number, got " 2""#)),
        request("query overflows", "POST /RustFunction?radius=1e400")
            .gets(refused(400, "radius must be a finite number")),
        request("query minus zero", "POST /RustFunction?radius=-0").gets(Area(0.0)),
        request("query exponent", "POST /RustFunction?radius=25E-1").gets(Area(2.5)),
        request(
            "query long, not echoed",
            format!("POST /RustFunction?radius={}", "9x".repeat(2000)),
        )
        .gets(refused(
            400,
            format!("radius must be a number, got \"{}\"…", "9x".repeat(16)),
        )),
    ]
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[rocket::async_test]
async fn caller_bodies_get_the_same_answer_through_every_door() {
    let (mut handler, host) = start_handler().await;
    let app = app().await;
    let mut failures = Failures::default();
    for Case {
        name,
        input: body,
        expected,
    } in caller_bodies()
    {
        let envelope = host_envelope(&body);
        let doors = [
            (
                "host",
                host.invoke("RustyFunction", &envelope, name, piece_for(envelope.len()))
                    .await,
            ),
            (
                "direct HTTP",
                host.request_with(
                    "POST",
                    "/RustFunction",
                    &[("Content-Type", "application/json")],
                    &body,
                    piece_for(body.len()),
                )
                .await,
            ),
            ("direct call", call_directly(&app, &body).await),
            (
                "host envelope, direct call",
                call_directly(&app, &envelope).await,
            ),
        ];
        for (door, reply) in doors {
            failures.check(door, name, &reply, &expected);
        }
        assert_serving(&mut handler, &host).await;
    }
    for Case {
        name,
        input: body,
        expected,
    } in non_utf8_bodies()
    {
        let reply = host
            .request_with("POST", "/RustFunction", &[], &body, 3)
            .await;
        failures.check("direct HTTP", name, &reply, &expected);
        let reply = call_directly(&app, &body).await;
        failures.check("direct call", name, &reply, &expected);
        assert_serving(&mut handler, &host).await;
    }
    failures.assert_none();
}

#[rocket::async_test]
async fn malformed_envelopes_say_what_is_wrong_and_where() {
    let (mut handler, host) = start_handler().await;
    let app = app().await;
    let mut failures = Failures::default();
    for Case {
        name,
        input: envelope,
        expected,
    } in envelopes()
    {
        let reply = host
            .invoke("RustyFunction", &envelope, name, piece_for(envelope.len()))
            .await;
        failures.check("host", name, &reply, &expected);
        let reply = call_directly(&app, &envelope).await;
        failures.check("direct call", name, &reply, &expected);
        assert_serving(&mut handler, &host).await;
    }
    failures.assert_none();
}

#[rocket::async_test]
async fn methods_paths_content_types_and_queries() {
    let (mut handler, host) = start_handler().await;
    let mut failures = Failures::default();
    for Case {
        name,
        input: request,
        expected,
    } in http_cases()
    {
        let piece = piece_for(request.body.len());
        let reply = host
            .request_with(
                &request.method,
                &request.path,
                &request.headers,
                &request.body,
                piece,
            )
            .await;
        failures.check("direct HTTP", name, &reply, &expected);
        assert_serving(&mut handler, &host).await;
    }
    failures.assert_none();
}

#[rocket::async_test]
async fn envelopes_exactly_at_and_just_over_rockets_json_limit() {
    let (mut handler, host) = start_handler().await;
    let mut failures = Failures::default();
    // A hand-made envelope: the caller's body is small; Metadata makes up
    // the size.
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
        case("envelope of exactly 32 MiB", sized(ENVELOPE_LIMIT)).gets(Area(2.0)),
        case("envelope 1 byte over 32 MiB", sized(ENVELOPE_LIMIT + 1)).gets(too_large.clone()),
    ];
    for Case {
        name,
        input: envelope,
        expected,
    } in cases
    {
        let reply = host
            .invoke("RustyFunction", &envelope, name, 1024 * 1024)
            .await;
        failures.check("host", name, &reply, &expected);
        assert_serving(&mut handler, &host).await;
    }
    // A direct call is held to the same limit.
    let body = padded_body(ENVELOPE_LIMIT + 1);
    let reply = host
        .request_with("POST", "/RustFunction", &[], body.as_bytes(), 1024 * 1024)
        .await;
    failures.check("direct HTTP", "body 1 byte over 32 MiB", &reply, &too_large);
    assert_serving(&mut handler, &host).await;
    failures.assert_none();
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
