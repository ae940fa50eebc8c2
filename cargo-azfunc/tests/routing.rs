//! Paths routed as the host's Kestrel and ASP.NET routing do: decoded but
//! for `%2F`, dot segments resolved before routing (no way out of the
//! prefix), a NUL refused with 400, route constraints as .NET parses them,
//! and admin names decoded.

mod support;

use std::time::Duration;

use cargo_azfunc::limits::ServerLimits;
use serde_json::Value;
use support::{Serving, eventually, fake_app, write_file};

const GUID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

fn echo_function(dir: &std::path::Path, name: &str, route: &str) {
    write_file(
        dir,
        &format!("{name}/function.json"),
        &format!(
            r#"{{"bindings":[{{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","route":"{route}"}},{{"type":"http","direction":"out","name":"$return"}}]}}"#
        ),
    );
}

async fn serve() -> Serving {
    let dir = fake_app();
    // The fake handler echoes what it got for any function named Echo*.
    echo_function(dir.path(), "EchoFiles", "files/{*path}");
    echo_function(dir.path(), "EchoGuid", "guid/{id:guid}");
    support::serve(dir, false, ServerLimits::default()).await
}

impl Serving {
    async fn status(&self, path: &str) -> u16 {
        self.caller.request("GET", path, b"").await.status
    }

    /// The route values the function got.
    async fn params(&self, path: &str) -> Value {
        let reply = self.caller.request("GET", path, b"").await;
        assert_eq!(reply.status, 200, "{path}");
        let seen: Value = serde_json::from_slice(&reply.body).expect("echo");
        seen["envelope"]["Data"]["req"]["Params"].clone()
    }
}

#[tokio::test]
async fn dot_segments_never_leave_the_route_prefix() {
    let running = serve().await;
    for path in [
        "/api/files/../../etc/passwd",
        "/api/files/%2e%2e/%2e%2e/etc/passwd",
        "/api/files/%2E%2E/%2E%2E/etc/passwd",
        "/api/files/..",
    ] {
        assert_eq!(running.status(path).await, 404, "{path}");
    }
    assert!(
        !running.console.contains("[EchoFiles "),
        "{:#?}",
        running.console.lines()
    );
    assert_eq!(
        running.params("/api/files/a/%2e%2e/b.txt").await["path"],
        "b.txt"
    );
    let seen: Value = serde_json::from_slice(
        &running
            .caller
            .request("GET", "/api/files/a/%2e%2e/b.txt?q=1", b"")
            .await
            .body,
    )
    .expect("echo");
    let port = running.caller.port();
    assert_eq!(
        seen["envelope"]["Data"]["req"]["Url"],
        format!("http://127.0.0.1:{port}/api/files/b.txt?q=1")
    );
}

#[tokio::test]
async fn an_encoded_slash_stays_in_the_value_and_a_nul_is_refused() {
    let running = serve().await;
    assert_eq!(running.params("/api/files/a%2Fb").await["path"], "a%2Fb");
    assert_eq!(
        running.params("/api/files/x/a%20b%2F..%2Fc").await["path"],
        "x/a b%2F..%2Fc"
    );
    assert_eq!(running.status("/api/files/a%00b").await, 400);
    assert_eq!(running.status("/api/files/%ff").await, 400);
    assert!(
        running
            .console
            .contains("decodes to a NUL character: answered 400")
    );
}

#[tokio::test]
async fn the_guid_constraint_takes_what_dotnet_takes() {
    let running = serve().await;
    for good in [
        GUID.to_owned(),
        GUID.replace('-', ""),
        format!("%7B{GUID}%7D"),
        format!("({GUID})"),
    ] {
        assert_eq!(
            running.params(&format!("/api/guid/{good}")).await["id"]
                .as_str()
                .map(|id| id.contains(&GUID[..8])),
            Some(true),
            "{good}"
        );
    }
    for bad in [
        format!("%7B{GUID}"),
        format!("{GUID}%7D"),
        format!("%7B%7B{GUID}%7D%7D"),
        format!("({GUID}%7D"),
    ] {
        assert_eq!(
            running.status(&format!("/api/guid/{bad}")).await,
            404,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn admin_names_are_percent_decoded() {
    let running = serve().await;
    let reply = running
        .caller
        .request("POST", "/admin/functions/Qu%65ue", br#"{"input": "hello"}"#)
        .await;
    assert_eq!(reply.status, 202);
    assert!(
        eventually(Duration::from_secs(5), || running
            .console
            .contains("] Succeeded"))
        .await,
        "{:#?}",
        running.console.lines()
    );
    assert!(running.console.contains("[Queue "));
}
