//! The example app under the local host's `--useHttps`: its HTTP starter's
//! durableClient gets an https:// base URL and calls the management API
//! over TLS, trusting the certificate made at start through
//! `SSL_CERT_FILE`, as it would trust Azure's through the platform's roots.
//! One test in this file: it sets `SSL_CERT_FILE` for this process too.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_functions_rocket::durable::{DurableClient, EntityId};
use cargo_azfunc::host::served::ServedApp;
use cargo_azfunc::host::tls::{FrontDoorTls, TRUST_VARIABLE, TrustFileGuard};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

const API: &str = "/runtime/webhooks/durabletask";

/// One request to the front door over TLS, trusting the roots in `trust`:
/// status and JSON body.
async fn call_tls(trust: &Path, port: u16, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(trust).expect("the trust file") {
        roots.add(cert.expect("a certificate")).expect("a root");
    }
    #[allow(deprecated)]
    let provider = tokio_rustls::rustls::crypto::ring::default_provider();
    let config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connected");
    let name = ServerName::try_from("localhost").expect("a name");
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("the front door's certificate is trusted");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.expect("sent");
    tls.write_all(body.as_bytes()).await.expect("sent");
    let mut reply = Vec::new();
    let _ = tls.read_to_end(&mut reply).await;
    let reply = String::from_utf8(reply).expect("a text reply");
    let (head, body) = reply.split_once("\r\n\r\n").expect("a whole reply");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).expect("a JSON body")
    };
    (status, value)
}

async fn wait_for(client: &DurableClient, id: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = client.status(id).await.expect("a status").expect("known");
        if now.runtime_status == status {
            return;
        }
        assert!(Instant::now() < deadline, "{id} stayed {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every scenario of the example, started by the HTTP starter (whose
/// durableClient calls the management API over TLS) and followed by the
/// library's client over TLS: name, input, end status, output (`None`:
/// checked apart).
fn scenarios() -> Vec<(&'static str, &'static str, &'static str, Option<Value>)> {
    vec![
        (
            "chaining",
            "",
            "Completed",
            Some(json!([
                "Hello, Tokyo!",
                "Hello, Seattle!",
                "Hello, London!"
            ])),
        ),
        ("fan_out_fan_in", "4", "Completed", Some(json!(30))),
        (
            "timer_then_activity",
            "1",
            "Completed",
            Some(json!("Hello, after-timer!")),
        ),
        (
            "external_event_timeout",
            "1",
            "Completed",
            Some(json!("timed out")),
        ),
        ("retry_catch", "", "Completed", Some(json!("ok"))),
        (
            "retry_policy",
            "",
            "Completed",
            Some(json!("succeeded on attempt 3")),
        ),
        ("continue_as_new", "0", "Completed", Some(json!(3))),
        ("monitor", "1", "Completed", Some(json!("Hello, new!"))),
        ("uncaught_failure", "", "Failed", None),
        (
            "sub_orchestration",
            "",
            "Completed",
            Some(json!({"child": ["Hello, Paris!", "Hello, Rome!", "Hello, Oslo!"]})),
        ),
        (
            "echo",
            r#"{"over": "tls"}"#,
            "Completed",
            Some(json!({"over": "tls"})),
        ),
        (
            "counter_sum",
            r#"{"key": "tls-sum", "numbers": [4, 5, 6]}"#,
            "Completed",
            Some(json!(15)),
        ),
        (
            "counter_signals",
            r#"{"key": "tls-signals", "times": 3}"#,
            "Completed",
            Some(Value::Null),
        ),
        (
            "counter_order",
            r#"{"key": "tls-order"}"#,
            "Completed",
            Some(json!(2 * 1113)),
        ),
    ]
}

/// The instance's status once it has ended, read over TLS.
async fn ended(
    client: &DurableClient,
    id: &str,
) -> azure_functions_rocket::durable::InstanceStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = client.status(id).await.expect("a status").expect("known");
        if ["Completed", "Failed", "Terminated"].contains(&now.runtime_status.as_str()) {
            return now;
        }
        assert!(Instant::now() < deadline, "{id} stayed {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs every scenario at once over TLS, and the counter's signals and
/// state through the client.
async fn every_scenario_over_tls(trust: &Path, port: u16, client: &DurableClient) {
    let cases = scenarios();
    let mut ids = Vec::new();
    for (name, input, _, _) in &cases {
        let path = format!("/api/orchestrators/{name}");
        let (status, started) = call_tls(trust, port, "POST", &path, input).await;
        assert_eq!(status, 202, "{name}: {started}");
        ids.push(started["id"].as_str().expect("an id").to_owned());
    }
    for ((name, _, runtime, output), id) in cases.iter().zip(&ids) {
        let done = ended(client, id).await;
        assert_eq!(done.runtime_status, *runtime, "{name}: {done:?}");
        match output {
            Some(output) => assert_eq!(done.output, *output, "{name}"),
            None => {
                let message = done.output["errorMessage"].as_str().unwrap_or_default();
                assert!(message.contains("Activity task #1 failed"), "{done:?}");
            }
        }
    }
    let counter = EntityId::new("counter", "tls-signals");
    client
        .signal_entity(&counter, "add", &4)
        .await
        .expect("signalled over TLS");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = client
            .read_entity_state::<i64>(&counter)
            .await
            .expect("read");
        if state == Some(7) {
            break;
        }
        assert!(Instant::now() < deadline, "the counter is {state:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn the_durable_client_drives_instances_over_https() {
    let tls = FrontDoorTls::self_signed().expect("a certificate");
    let trust = tls.trust_file.clone().expect("a trust file");
    // Removed also when the test fails.
    let _trust_file = TrustFileGuard(trust.clone());
    // Before any other thread of this process runs: the library's client
    // below reads it as the handler's does.
    unsafe { std::env::set_var(TRUST_VARIABLE, &trust) };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let executable = Some(env!("CARGO_BIN_EXE_durable_hello").into());
        let app = ServedApp::start_tls(root, executable, tls)
            .await
            .expect("the example app is served over https");
        let port = app.server.port();

        // The starter's durableClient calls the management API over TLS.
        let (status, started) = call_tls(
            &trust,
            port,
            "POST",
            "/api/orchestrators/external_event_timeout",
            "600",
        )
        .await;
        assert_eq!(status, 202, "{started}");
        let id = started["id"].as_str().expect("an id").to_owned();
        let base = format!("https://localhost:{port}{API}");
        assert_eq!(
            started["statusQueryGetUri"],
            format!("{base}/instances/{id}?taskHub=DurableHello&connection=Storage")
        );

        let client = DurableClient {
            task_hub: "DurableHello".to_owned(),
            base_url: base.clone(),
            query: String::new(),
            connection: "Storage".to_owned(),
        };
        wait_for(&client, &id, "Running").await;
        let status = client.status(&id).await.expect("a status").expect("known");
        assert_eq!(status.name, "external_event_timeout");
        assert_eq!(status.input, json!(600));
        client
            .raise_event(&id, "approval", &json!({"by": "https"}))
            .await
            .expect("raised");
        wait_for(&client, &id, "Completed").await;
        let done = client.status(&id).await.expect("a status").expect("known");
        assert_eq!(done.output, json!({"approved": {"by": "https"}}));

        let other = client
            .start_new("external_event_timeout", Some("over-tls"), &600)
            .await
            .expect("started");
        assert_eq!(other, "over-tls");
        wait_for(&client, &other, "Running").await;
        client.terminate(&other, "stop").await.expect("terminated");
        wait_for(&client, &other, "Terminated").await;

        every_scenario_over_tls(&trust, port, &client).await;

        // The front door speaks only TLS: a plain request gets no reply.
        let plain = DurableClient {
            base_url: base.replacen("https://", "http://", 1),
            ..client.clone()
        };
        let error = plain.status(&id).await.unwrap_err();
        assert_eq!(error.status(), 503, "{error:?}");
        assert!(
            error
                .message()
                .contains(&format!("http://localhost:{port}")),
            "{error:?}"
        );
        drop(app);

        // A certificate from a CA the client was not told to trust is
        // refused, naming the URL: the roots are checked, not skipped.
        let untrusted = FrontDoorTls::self_signed().expect("a certificate");
        let _untrusted_file = TrustFileGuard(untrusted.trust_file.clone().expect("a trust file"));
        let executable = Some(env!("CARGO_BIN_EXE_durable_hello").into());
        let stranger = ServedApp::start_tls(root, executable, untrusted)
            .await
            .expect("served");
        let port = stranger.server.port();
        let client = DurableClient {
            base_url: format!("https://localhost:{port}{API}"),
            ..client
        };
        let error = client.status("any").await.unwrap_err();
        assert_eq!(error.status(), 503, "{error:?}");
        assert!(
            error.message().starts_with(&format!(
                "TLS with https://localhost:{port}{API}/instances/any: "
            )),
            "{error:?}"
        );
        assert!(error.message().contains("certificate"), "{error:?}");
        drop(stranger);
    });
}
