//! QueueArea fed from a real storage queue by cargo-azfunc's queue feeds:
//! Azurite (installed by test-tools on first use) on free ports, the
//! example's binary as a custom handler and, built with `--features
//! native`, as the native language worker: the same assertions.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_functions_rocket::rocket;
use cargo_azfunc::app::AppFolder;
use cargo_azfunc::console::Console;
use cargo_azfunc::dotnet::base64;
use cargo_azfunc::handler::{Handler, HandlerOptions};
use cargo_azfunc::storage::Account;
use test_tools::AzuriteServer;

/// How the host runs the app's binary.
#[derive(Clone, Copy, Debug)]
enum Road {
    CustomHandler,
    #[cfg_attr(not(feature = "native"), allow(dead_code))]
    Native,
}

/// Polls `queue` until it holds `count` messages (peeked, so they stay);
/// their text.
async fn wait_for_messages(
    account: &Account,
    queue: &str,
    count: usize,
    console: &Console,
) -> Vec<String> {
    let started = Instant::now();
    loop {
        let messages = account.peek_messages(queue).await.expect("peek");
        if messages.len() >= count {
            return messages
                .iter()
                .map(|m| {
                    let bytes = base64::decode(&m.text).expect("base64 message");
                    String::from_utf8_lossy(&bytes).into_owned()
                })
                .collect();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{queue} has {} of {count} messages after 60 s: {:#?}",
            messages.len(),
            console.lines()
        );
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A radius becomes its area on `areas`; a message that is no radius is
/// retried with its dequeue count going up, then poisoned.
async fn radii_become_areas_and_a_bad_message_is_poisoned(road: Road) {
    let azurite = AzuriteServer::start();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    for message in ["2", "not a radius"] {
        account
            .put_message("radii", &base64::encode(message.as_bytes()))
            .await
            .expect("put");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut app = AppFolder::load(root).expect("the example app loads");
    if let Road::Native = road {
        app = app.into_native();
    }
    app.settings
        .values
        .retain(|(name, _)| name != "AzureWebJobsStorage");
    app.settings
        .values
        .push(("AzureWebJobsStorage".into(), azurite.connection.clone()));
    let console = Console::quiet();
    let options = HandlerOptions {
        executable: Some(env!("CARGO_BIN_EXE_queue_area").into()),
        console: console.clone(),
        ..HandlerOptions::default()
    };
    let handler = Handler::start(&app, options).await.expect("it starts");
    handler.adopt_functions(&mut app);
    let handler = Arc::new(handler);
    let feeds = cargo_azfunc::storage::queue_feed::start(&app, handler.clone(), &console)
        .expect("the feeds start");

    let areas = wait_for_messages(&account, "areas", 1, &console).await;
    let area: serde_json::Value = serde_json::from_str(&areas[0]).expect("an area as JSON");
    assert_eq!(
        area,
        serde_json::json!({"radius": 2.0, "area": std::f64::consts::PI * 4.0})
    );
    let poisoned = wait_for_messages(&account, "radii-poison", 1, &console).await;
    assert_eq!(poisoned, ["not a radius"]);
    feeds.stop().await;
    assert!(
        account
            .peek_messages("radii")
            .await
            .expect("peek")
            .is_empty()
    );
    assert_eq!(account.peek_messages("areas").await.expect("peek").len(), 1);
    // The function saw each attempt's dequeue count, in its invocation's
    // log line (not the handler's own output).
    let seen: Vec<String> = console
        .lines()
        .into_iter()
        .filter(|l| l.text.starts_with("[QueueArea ") && l.text.contains("a message is a radius"))
        .filter_map(|l| {
            l.text
                .split("dequeue_count=")
                .nth(1)
                .and_then(|rest| rest.split(' ').next().map(str::to_owned))
        })
        .collect();
    assert_eq!(seen, ["1", "2", "3", "4", "5"], "{:#?}", console.lines());
    handler.stop().await;
}

#[rocket::async_test]
async fn radii_become_areas_and_a_bad_message_is_poisoned_custom_handler() {
    radii_become_areas_and_a_bad_message_is_poisoned(Road::CustomHandler).await;
}

#[cfg(feature = "native")]
#[rocket::async_test]
async fn radii_become_areas_and_a_bad_message_is_poisoned_native() {
    radii_become_areas_and_a_bad_message_is_poisoned(Road::Native).await;
}
