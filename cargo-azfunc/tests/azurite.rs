//! Queue-triggered functions fed from a real storage queue: Azurite, started
//! here on free ports, with `examples/queue_area` built by `start --build`
//! (and the fake handler for the blob output). Azurite is installed under
//! the target folder by the first test that needs it.

mod support;

use support::cli_run::CliRun;
use test_tools::AzuriteServer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cargo_azfunc::app::AppFolder;
use cargo_azfunc::console::{Console, Level};
use cargo_azfunc::dotnet::base64;
use cargo_azfunc::handler::client::free_port;
use cargo_azfunc::handler::{Handler, HandlerOptions};
use cargo_azfunc::storage::Account;
use cargo_azfunc::storage::queue_feed::{Feeds, Visibility};
use support::eventually;
use tempfile::TempDir;

/// A cold build of queue_area and its dependencies can take minutes.
const BUILD_LIMIT: Duration = Duration::from_secs(900);

fn workspace() -> PathBuf {
    std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).expect("workspace")
}

/// `cargo azfunc start` on `app` with storage at `connection`; its output
/// goes to a file, shown when a test fails.
fn start_host(app: &Path, connection: &str, build: bool) -> CliRun {
    start_host_with(app, connection, build, &[])
}

/// [`start_host`] with more of `start`'s options.
fn start_host_with(app: &Path, connection: &str, build: bool, options: &[&str]) -> CliRun {
    let port = free_port().to_string();
    let mut args = vec![
        "start",
        "--app",
        app.to_str().expect("UTF-8"),
        "--port",
        &port,
    ];
    if build {
        args.push("--build");
    }
    args.extend_from_slice(options);
    let target = workspace().join("target/scaffold");
    CliRun::start_with_env(
        &args,
        &[
            ("AzureWebJobsStorage", connection),
            ("CARGO_TARGET_DIR", target.to_str().expect("UTF-8")),
        ],
    )
}

fn base64_text(text: &str) -> String {
    base64::encode(text.as_bytes())
}

fn decoded(text: &str) -> String {
    String::from_utf8_lossy(&base64::decode(text).expect("base64 message")).into_owned()
}

/// Polls `queue` until it holds `count` messages (peeked, so they stay).
async fn wait_for_messages(
    account: &Account,
    queue: &str,
    count: usize,
    limit: Duration,
    host: &CliRun,
) -> Vec<String> {
    let started = Instant::now();
    loop {
        let messages = account.peek_messages(queue).await.expect("peek");
        if messages.len() >= count {
            return messages.iter().map(|m| decoded(&m.text)).collect();
        }
        assert!(
            started.elapsed() < limit,
            "{queue} has {} of {count} messages after {limit:?}; cargo-azfunc said:\n{}",
            messages.len(),
            host.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_area_reads_radii_and_writes_areas_and_poisons_a_bad_message() {
    let azurite = AzuriteServer::start();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    // On the queue before the host starts: fed at its first poll.
    account
        .put_message("radii", &base64_text("2"))
        .await
        .expect("put 2");
    account
        .put_message("radii", &base64_text("not a radius"))
        .await
        .expect("put poison");
    let app = workspace().join("examples/queue_area");
    let host = start_host(&app, &azurite.connection, true);

    let areas = wait_for_messages(&account, "areas", 1, BUILD_LIMIT, &host).await;
    let area: serde_json::Value = serde_json::from_str(&areas[0]).expect("an area as JSON");
    assert_eq!(area["radius"], 2.0);
    let expected = std::f64::consts::PI * 4.0;
    assert!(
        (area["area"].as_f64().unwrap_or(0.0) - expected).abs() < 1e-9,
        "{area}"
    );

    let poisoned =
        wait_for_messages(&account, "radii-poison", 1, Duration::from_secs(60), &host).await;
    assert_eq!(poisoned, vec!["not a radius".to_owned()]);
    // Nothing lost and nothing left: one message out, one in the poison
    // queue, none on radii.
    assert!(
        account
            .peek_messages("radii")
            .await
            .expect("peek")
            .is_empty()
    );
    assert_eq!(account.peek_messages("areas").await.expect("peek").len(), 1);

    // Five attempts, with the dequeue count the function saw going up.
    let output = host.output();
    let attempts: Vec<u32> = output
        .lines()
        .filter(|l| l.contains("Executing (queue radii") && !l.contains("Succeeded"))
        .filter_map(|l| {
            l.split("dequeue count ")
                .nth(1)
                .and_then(|n| n.trim_end_matches(')').parse().ok())
        })
        .collect();
    let mut poison_attempts = attempts.clone();
    poison_attempts.retain(|n| *n > 1);
    assert_eq!(poison_attempts, vec![2, 3, 4, 5], "{output}");
    assert!(
        output.contains("failed 5 times: moved to radii-poison"),
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blob_output_is_written_to_azurite() {
    let azurite = AzuriteServer::start();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    let dir = support::fake_app();
    // The fake handler's Queue function answers `areas` with {"radius": 2}.
    support::write_file(
        dir.path(),
        "Queue/function.json",
        r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"item","queueName":"shapes","connection":"AzureWebJobsStorage"},{"type":"blob","direction":"out","name":"areas","path":"results/{queueTrigger}-{DequeueCount}.json","connection":"AzureWebJobsStorage"}]}"#,
    );
    support::write_file(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler.py"},"enableForwardingHttpRequest":false},"extensions":{"queues":{"maxPollingInterval":"00:00:01"}}}"#,
    );
    let host = start_host(dir.path(), &azurite.connection, false);
    account
        .put_message("shapes", &base64_text("circle"))
        .await
        .expect("put");
    let started = Instant::now();
    let blob = loop {
        if let Some(blob) = account
            .get_blob("results/circle-1.json")
            .await
            .expect("read blob")
        {
            break blob;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no blob results/circle-1.json; cargo-azfunc said:\n{}",
            host.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let value: serde_json::Value = serde_json::from_slice(&blob).expect("JSON blob");
    assert_eq!(value, serde_json::json!({"radius": 2}));
    assert!(
        account
            .peek_messages("shapes")
            .await
            .expect("peek")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invocation_whose_output_cannot_be_written_is_reported_failed_once() {
    let azurite = AzuriteServer::start();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    let dir = support::fake_app();
    // The fake handler's Queue function answers `areas` with {"radius": 2};
    // storage refuses the queue name, so the write fails.
    support::write_file(
        dir.path(),
        "Queue/function.json",
        r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"item","queueName":"radii","connection":"AzureWebJobsStorage"},{"type":"queue","direction":"out","name":"areas","queueName":"Bad_Name!","connection":"AzureWebJobsStorage"}]}"#,
    );
    support::write_file(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler.py"}},"extensions":{"queues":{"maxPollingInterval":"00:00:01","maxDequeueCount":1}}}"#,
    );
    let host = start_host_with(
        dir.path(),
        &azurite.connection,
        false,
        &["--output", "json", "--functions", "Queue"],
    );
    account
        .put_message("radii", &base64_text("circle"))
        .await
        .expect("put");
    host.wait_for("moved to radii-poison", Duration::from_secs(30))
        .await;
    let output = host.output();
    let verdicts: Vec<serde_json::Value> = output
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["event"] == "invocation" && event["function"] == "Queue")
        .collect();
    assert_eq!(verdicts.len(), 1, "{output}");
    assert_eq!(verdicts[0]["outcome"], "Failed", "{output}");
    let reason = verdicts[0]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("output areas: "), "{reason}");
    assert_eq!(
        account
            .peek_messages("radii-poison")
            .await
            .expect("peek")
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_is_not_base64_goes_to_the_poison_queue_at_once_uninvoked() {
    let azurite = AzuriteServer::start();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    let dir = support::fake_app();
    support::write_file(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler.py"}},"extensions":{"queues":{"maxPollingInterval":"00:00:01"}}}"#,
    );
    let host = start_host_with(
        dir.path(),
        &azurite.connection,
        false,
        &["--functions", "Queue"],
    );
    host.wait_for("fed from queue radii", Duration::from_secs(30))
        .await;
    // Not base64 (`!` and a space), with base64 the default encoding.
    account
        .put_message("radii", "not base64!")
        .await
        .expect("put");
    host.wait_for("moved to radii-poison", Duration::from_secs(30))
        .await;
    let poisoned = account.peek_messages("radii-poison").await.expect("peek");
    let texts: Vec<&str> = poisoned.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, vec!["not base64!"]);
    assert!(
        account
            .peek_messages("radii")
            .await
            .expect("peek")
            .is_empty()
    );
    let output = host.output();
    assert!(!output.contains("Executing (queue radii"), "{output}");
    assert!(!output.contains("queued "), "{output}");
}

/// The fake app's SlowQueue function fed from queue `slow` in this
/// process, its messages hidden and renewed as `visibility` says; the
/// handler takes `seconds` for each message.
struct Feeding {
    feeds: Feeds,
    console: Console,
    _handler: Arc<Handler>,
    _dir: TempDir,
}

const SLOW_QUEUE: &str = "slow";

async fn feed_slow_queue(
    azurite: &AzuriteServer,
    visibility: Visibility,
    seconds: &str,
) -> Feeding {
    let dir = support::fake_app();
    support::write_file(
        dir.path(),
        "SlowQueue/function.json",
        &format!(
            r#"{{"bindings":[{{"type":"queueTrigger","direction":"in","name":"item","queueName":"{SLOW_QUEUE}","connection":"AzureWebJobsStorage"}}]}}"#
        ),
    );
    support::write_file(
        dir.path(),
        "local.settings.json",
        &serde_json::json!({"IsEncrypted": false, "Values": {"FUNCTIONS_WORKER_RUNTIME": "custom", "AzureWebJobsStorage": azurite.connection}}).to_string(),
    );
    let app = AppFolder::load(dir.path()).expect("app");
    let console = Console::quiet();
    let handler = Arc::new(
        Handler::start(
            &app,
            HandlerOptions {
                env: vec![("FAKE_SLOW_SECONDS".into(), seconds.into())],
                console: console.clone(),
                ready_limit: Duration::from_secs(10),
                ..HandlerOptions::default()
            },
        )
        .await
        .expect("handler"),
    );
    let feeds =
        cargo_azfunc::storage::queue_feed::start_with(&app, handler.clone(), &console, visibility)
            .expect("feeds");
    Feeding {
        feeds,
        console,
        _handler: handler,
        _dir: dir,
    }
}

/// The lines saying SlowQueue started on a message.
fn executions(console: &Console) -> Vec<String> {
    console
        .lines()
        .into_iter()
        .filter(|l| l.text.starts_with("[SlowQueue ") && l.text.contains("] Executing (queue"))
        .map(|l| l.text)
        .collect()
}

async fn wait_for_line(console: &Console, limit: Duration, text: &str) {
    assert!(
        eventually(limit, || console.contains(text)).await,
        "no {text:?} within {limit:?}: {:#?}",
        console.lines()
    );
}

/// Hidden for 2 s, renewed every second: the host's proportions, faster.
fn two_seconds() -> Visibility {
    Visibility::hidden_for(Duration::from_secs(2))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_invocation_keeps_its_message_hidden_and_deletes_it_with_the_newest_receipt() {
    let azurite = AzuriteServer::start();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    account
        .put_message(SLOW_QUEUE, &base64_text("long"))
        .await
        .expect("put");
    let feeding = feed_slow_queue(&azurite, two_seconds(), "5").await;
    let console = &feeding.console;
    wait_for_line(console, Duration::from_secs(10), "] Executing (queue slow").await;
    // Past the 2 s hidden period, the 5 s invocation still running: the
    // renewals keep the message out of sight.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(!console.contains("SlowQueue ran"), "{:#?}", console.lines());
    let visible = account.peek_messages(SLOW_QUEUE).await.expect("peek");
    assert!(visible.is_empty(), "the message showed again: {visible:?}");
    wait_for_line(console, Duration::from_secs(10), "SlowQueue ran").await;
    // Deleted with the receipt of the last renewal: had the delete used an
    // outdated one, the message would show again after 2 s and run again.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let ran: Vec<String> = console
        .lines()
        .into_iter()
        .filter(|l| l.text.contains("SlowQueue ran on pid"))
        .map(|l| l.text)
        .collect();
    assert_eq!(ran.len(), 1, "{:#?}", console.lines());
    assert!(ran[0].ends_with(", dequeue count 1"), "{ran:?}");
    assert_eq!(executions(console).len(), 1, "{:#?}", console.lines());
    let errors: Vec<_> = console
        .lines()
        .into_iter()
        // The fake app's other queue function may wait for its queue.
        .filter(|l| {
            l.level != Level::Info
                && !l.text.starts_with("[handler] a warning")
                && !l.text.starts_with("[host] Queue: ")
        })
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        account
            .peek_messages(SLOW_QUEUE)
            .await
            .expect("peek")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_renewal_a_long_invocation_sees_its_message_show_again() {
    // What the renewal prevents, so that the test above can fail: hidden
    // for 2 s and renewed only after a minute.
    let azurite = AzuriteServer::start();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    account
        .put_message(SLOW_QUEUE, &base64_text("long"))
        .await
        .expect("put");
    let visibility = Visibility {
        hidden: Duration::from_secs(2),
        renew_every: Duration::from_secs(60),
    };
    let feeding = feed_slow_queue(&azurite, visibility, "5").await;
    wait_for_line(
        &feeding.console,
        Duration::from_secs(10),
        "] Executing (queue slow",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(!feeding.console.contains("SlowQueue ran"));
    let visible = account.peek_messages(SLOW_QUEUE).await.expect("peek");
    assert_eq!(visible.len(), 1, "{:#?}", feeding.console.lines());
}

#[tokio::test(flavor = "multi_thread")]
async fn stopping_the_feeds_lets_the_invocation_in_flight_finish_and_fetches_no_more() {
    let azurite = AzuriteServer::start();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    account
        .put_message(SLOW_QUEUE, &base64_text("first"))
        .await
        .expect("put");
    let feeding = feed_slow_queue(&azurite, two_seconds(), "3").await;
    let console = feeding.console.clone();
    wait_for_line(&console, Duration::from_secs(10), "] Executing (queue slow").await;
    let started = Instant::now();
    feeding.feeds.stop().await;
    let took = started.elapsed();
    // Stopped only once the invocation had run its 3 s and succeeded.
    assert!(
        console.contains("SlowQueue ran on pid"),
        "{:#?}",
        console.lines()
    );
    assert!(console.contains("] Succeeded"), "{:#?}", console.lines());
    assert!(
        took > Duration::from_millis(1500) && took < Duration::from_secs(10),
        "stop took {took:?}"
    );
    assert!(console.contains("[host] queue feeds stopping: waiting for 1 invocation(s) in flight"));
    // Nothing fetched after the stop: a new message stays on the queue,
    // and the first one was deleted, not left to show again.
    account
        .put_message(SLOW_QUEUE, &base64_text("second"))
        .await
        .expect("put");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let left = account.peek_messages(SLOW_QUEUE).await.expect("peek");
    let texts: Vec<String> = left.iter().map(|m| decoded(&m.text)).collect();
    assert_eq!(texts, ["second"], "{:#?}", console.lines());
    assert_eq!(executions(&console).len(), 1);
}

/// The queue extension lower-cases queue names, %Setting% resolved first
/// (docs/function-app.md, "Queue names"): `%Shapes%` naming `Upper<pid>`
/// is fed from `upper<pid>`, and the output `Areas-<pid>` written to
/// `areas-<pid>`.
#[tokio::test(flavor = "multi_thread")]
async fn upper_case_queue_names_are_read_and_written_lower_cased() {
    let azurite = AzuriteServer::start();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    let id = std::process::id();
    let dir = support::fake_app();
    support::write_file(
        dir.path(),
        "Queue/function.json",
        &format!(
            r#"{{"bindings":[{{"type":"queueTrigger","direction":"in","name":"item","queueName":"%Shapes%","connection":"AzureWebJobsStorage"}},{{"type":"queue","direction":"out","name":"areas","queueName":"Areas-{id}","connection":"AzureWebJobsStorage"}}]}}"#
        ),
    );
    support::write_file(
        dir.path(),
        "local.settings.json",
        &format!(
            r#"{{"IsEncrypted":false,"Values":{{"FUNCTIONS_WORKER_RUNTIME":"custom","Shapes":"Upper{id}"}}}}"#
        ),
    );
    support::write_file(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler.py"}},"extensions":{"queues":{"maxPollingInterval":"00:00:01"}}}"#,
    );
    let (trigger, output) = (format!("upper{id}"), format!("areas-{id}"));
    account.create_queue(&trigger).await.expect("create");
    account.create_queue(&output).await.expect("create");
    let host = start_host(dir.path(), &azurite.connection, false);
    account
        .put_message(&trigger, &base64_text("circle"))
        .await
        .expect("put");
    host.wait_for(
        &format!("Executing (queue {trigger}, message"),
        Duration::from_secs(20),
    )
    .await;
    let written = wait_for_messages(&account, &output, 1, Duration::from_secs(20), &host).await;
    assert_eq!(written.len(), 1, "{}", host.output());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trigger_queue_that_does_not_exist_yet_is_said_once_and_fed_once_it_does() {
    let azurite = AzuriteServer::start();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    let queue = format!("late{}", std::process::id());
    let dir = support::fake_app();
    support::write_file(
        dir.path(),
        "Queue/function.json",
        &format!(
            r#"{{"bindings":[{{"type":"queueTrigger","direction":"in","name":"item","queueName":"{queue}","connection":"AzureWebJobsStorage"}}]}}"#
        ),
    );
    support::write_file(
        dir.path(),
        "host.json",
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler.py"}},"extensions":{"queues":{"maxPollingInterval":"00:00:01"}}}"#,
    );
    let host = start_host(dir.path(), &azurite.connection, false);
    let said = format!("queue {queue} does not exist (yet): polling until it does");
    host.wait_for(&said, Duration::from_secs(20)).await;
    // Several polls later, still said once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(host.output().matches(&said).count(), 1, "{}", host.output());

    account.create_queue(&queue).await.expect("create");
    account
        .put_message(&queue, &base64_text("hello"))
        .await
        .expect("put");
    let fed = format!("Executing (queue {queue}, message");
    host.wait_for(&fed, Duration::from_secs(20)).await;
    assert_eq!(host.output().matches(&said).count(), 1, "{}", host.output());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_the_queue_invocation_in_flight_finish_and_delete_its_message() {
    let azurite = AzuriteServer::start();
    let account = Account::from_connection_string(&azurite.connection).expect("account");
    let queue = format!("drain{}", std::process::id());
    account.create_queue(&queue).await.expect("create");
    account
        .put_message(&queue, &base64_text("long"))
        .await
        .expect("put");
    let dir = support::fake_app();
    support::write_file(
        dir.path(),
        "SlowQueue/function.json",
        &format!(
            r#"{{"bindings":[{{"type":"queueTrigger","direction":"in","name":"item","queueName":"{queue}","connection":"AzureWebJobsStorage"}}]}}"#
        ),
    );
    // The fake handler's Slow* functions take FAKE_SLOW_SECONDS.
    support::write_file(
        dir.path(),
        "local.settings.json",
        r#"{"Values":{"FUNCTIONS_WORKER_RUNTIME":"custom","FAKE_SLOW_SECONDS":"3"}}"#,
    );
    let mut host = start_host(dir.path(), &azurite.connection, false);
    let running = format!("Executing (queue {queue}");
    host.wait_for(&running, Duration::from_secs(20)).await;
    host.process.terminate().expect("SIGTERM");
    let status = host.process.wait_exit(Duration::from_secs(20));
    let said = host.output();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{said}");
    assert!(said.contains("in flight finish first"), "{said}");
    assert!(said.contains("SlowQueue ran on pid"), "{said}");
    // Deleted, not left hidden to run a second time.
    assert_eq!(account.message_count(&queue).await, Ok(Some(0)), "{said}");
}
