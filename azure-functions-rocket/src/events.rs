//! `tracing` events as log lines: an event inside an invocation (the app's
//! or a dependency's) becomes a line of that invocation's log, with its
//! level, its target as category and its fields; an event outside any
//! invocation is written on the process's output in the same format
//! (docs/functions.md, "Logs and traces").
//!
//! Events below INFO are not recorded. The invocation is the task its
//! log belongs to ([`crate::log`]): an event on a task the function spawns
//! is outside it.

use std::fmt;
use std::sync::Once;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::{Interest, Subscriber};
use tracing::{Event, Metadata};

use crate::log::{FieldValue, Level, Line};

/// The most detailed level recorded.
const MOST_DETAILED: tracing::Level = tracing::Level::INFO;

/// Makes these lines the process's `tracing` subscriber, once; an app
/// that installed its own before keeps it.
pub(crate) fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        #[cfg(feature = "otel")]
        let subscriber = crate::otel::subscriber();
        #[cfg(not(feature = "otel"))]
        let subscriber = Lines;
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// `event` as a line of the running invocation's log, or of the
/// process's output outside one.
pub(crate) fn write(event: &Event<'_>) {
    let Some(level) = level(event.metadata().level()) else {
        return;
    };
    let mut fields = Fields::default();
    event.record(&mut fields);
    let line = Line {
        level,
        category: Some(event.metadata().target()),
        message: fields.message,
        fields: fields.values,
    };
    if let Err(line) = crate::log::try_push(line) {
        line.print();
    }
}

fn level(level: &tracing::Level) -> Option<Level> {
    match *level {
        tracing::Level::ERROR => Some(Level::Error),
        tracing::Level::WARN => Some(Level::Warn),
        tracing::Level::INFO => Some(Level::Info),
        _ => None,
    }
}

/// An event's message and fields, as the line writes them.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    values: Vec<(&'static str, FieldValue)>,
}

impl Fields {
    fn add(&mut self, field: &Field, value: FieldValue) {
        self.values.push((field.name(), value));
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.add(field, FieldValue::Text(text));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.add(field, value.into());
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.add(field, value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.add(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.add(field, value.into());
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.add(field, value.into());
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.add(field, value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.add(field, value.into());
    }
}

/// The subscriber of a build without an exporter (or with export turned
/// off): events only. Spans are
/// not recorded, as nothing would read them, so they cost nothing.
pub(crate) struct Lines;

impl Subscriber for Lines {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.enabled(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && *metadata.level() <= MOST_DETAILED
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::from_level(MOST_DETAILED))
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // Never called: no span is enabled.
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        write(event);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// The level filter of the exporter's subscriber, the same as [`Lines`]'s.
#[cfg(feature = "otel")]
pub(crate) fn filter() -> LevelFilter {
    LevelFilter::from_level(MOST_DETAILED)
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use rocket::tokio;

    use super::*;
    use crate::log::{self, Record};

    fn run<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    const HERE: &str = "azure_functions_rocket::events::tests";

    #[test]
    fn events_inside_an_invocation_become_its_lines_with_their_fields_quoted() {
        let ((), log) = tracing::subscriber::with_default(Lines, || {
            run(log::scope(async {
                tracing::info!(
                    radius = 2.5,
                    name = "a b",
                    count = 3u64,
                    "area of {}",
                    "circle"
                );
                tracing::warn!(target: "dep::db", query = "x\n[ERROR] F status=500", "slow");
                tracing::error!(status = 1, "weird key=" = true, invocation = ?"x");
                tracing::debug!("below INFO: not recorded");
                log::field("area", 1.0);
            }))
        });
        let lines = log.lines("F", Some("id-1"), 200, None);
        assert_eq!(
            lines,
            [
                format!(
                    r#"[INFO] F invocation="id-1" category="{HERE}" message="area of circle" radius=2.5 name="a b" count=3"#
                ),
                r#"[WARN] F invocation="id-1" category="dep::db" message="slow" query="x\n[ERROR] F status=500""#.to_owned(),
                format!(
                    r#"[ERROR] F invocation="id-1" category="{HERE}" _status=1 weird_key_=true _invocation="\"x\"""#
                ),
                r#"[INFO] F invocation="id-1" area=1 status=200"#.to_owned(),
            ]
        );
    }

    #[test]
    fn records_carry_level_and_category_apart_from_the_text() {
        let ((), log) = tracing::subscriber::with_default(Lines, || {
            run(log::scope(async {
                tracing::warn!(target: "dep::db", rows = 3, "slow");
                log::info("own");
            }))
        });
        let records: Vec<Record> = log.records("F", 500, Some("boom")).collect();
        let record = |level, category: &str, message: &str| Record {
            level,
            category: category.to_owned(),
            message: message.to_owned(),
        };
        assert_eq!(
            records,
            [
                record(Level::Warn, "dep::db", r#"message="slow" rows=3"#),
                record(Level::Info, "Function.F.User", r#"message="own""#),
                record(
                    Level::Error,
                    "Function.F.User",
                    r#"status=500 error="boom""#
                ),
            ]
        );
    }

    #[test]
    fn concurrent_invocations_never_mix_their_lines() {
        install();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let logs = runtime.block_on(async {
            let invocations = (0..8u64).map(|who| {
                tokio::spawn(log::scope(async move {
                    for step in 0..100u64 {
                        tracing::info!(who, step);
                        tokio::task::yield_now().await;
                    }
                }))
            });
            let mut logs = Vec::new();
            for invocation in invocations.collect::<Vec<_>>() {
                logs.push(invocation.await.unwrap().1);
            }
            logs
        });
        for (who, log) in logs.into_iter().enumerate() {
            let lines = log.lines("F", Some("id"), 200, None);
            let expected: Vec<String> = (0..100)
                .map(|step| {
                    format!(r#"[INFO] F invocation="id" category="{HERE}" who={who} step={step}"#)
                })
                .chain([r#"[INFO] F invocation="id" status=200"#.to_owned()])
                .collect();
            assert_eq!(lines, expected);
        }
    }

    /// Run as a child process by the test below, whose output it checks.
    #[test]
    fn events_outside_an_invocation_child() {
        if std::env::var_os("EVENTS_OUTSIDE_CHILD").is_none() {
            return;
        }
        install();
        tracing::info!(target: "app::start", port = 7071, "listening");
        tracing::warn!(target: "dep", "retrying\nforged");
    }

    #[test]
    fn events_outside_an_invocation_reach_the_process_output() {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "events::tests::events_outside_an_invocation_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("EVENTS_OUTSIDE_CHILD", "1")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let info = r#"[INFO] category="app::start" message="listening" port=7071"#;
        let warn = r#"[WARN] category="dep" message="retrying\nforged""#;
        // libtest's `test ... ` may stand before it on the line.
        assert!(stdout.lines().any(|line| line.ends_with(info)), "{stdout}");
        assert!(stderr.lines().any(|line| line == warn), "{stderr}");
    }
}
