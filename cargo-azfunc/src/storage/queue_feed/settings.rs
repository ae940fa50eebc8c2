//! `extensions.queues` of host.json, read as the host reads it.

use std::time::Duration;

use serde_json::Value;

use crate::app::AppFolder;
use crate::dotnet::parse_timespan;

/// `extensions.queues` of host.json, with the host's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueSettings {
    pub batch_size: u32,
    pub max_dequeue_count: u32,
    /// How long a failed message stays hidden before its next attempt.
    pub visibility_timeout: Duration,
    pub max_polling_interval: Duration,
    /// `messageEncoding`: base64 (the default) or none.
    pub base64: bool,
}

impl Default for QueueSettings {
    fn default() -> QueueSettings {
        QueueSettings {
            batch_size: 16,
            max_dequeue_count: 5,
            visibility_timeout: Duration::ZERO,
            max_polling_interval: Duration::from_secs(60),
            base64: true,
        }
    }
}

/// The shortest wait between two polls of an empty queue.
pub(super) const MIN_POLL: Duration = Duration::from_millis(100);

impl QueueSettings {
    /// Reads `extensions.queues` from the app's host.json; a value that is
    /// not what the host takes is an error naming it.
    pub fn of(app: &AppFolder) -> Result<QueueSettings, String> {
        let mut settings = QueueSettings::default();
        let Ok(text) = std::fs::read_to_string(app.root.join("host.json")) else {
            return Ok(settings);
        };
        let host: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let Some(queues) = host
            .pointer("/extensions/queues")
            .and_then(Value::as_object)
        else {
            return Ok(settings);
        };
        let count = |key: &str, max: u64| -> Result<Option<u32>, String> {
            match queues.get(key) {
                None => Ok(None),
                Some(v) => v
                    .as_u64()
                    .filter(|n| (1..=max).contains(n))
                    .map(|n| Some(n as u32))
                    .ok_or_else(|| {
                        format!("host.json extensions.queues.{key} must be a number from 1 to {max}, not {v}")
                    }),
            }
        };
        let span = |key: &str| -> Result<Option<Duration>, String> {
            match queues.get(key) {
                None => Ok(None),
                Some(v) => v.as_str().and_then(parse_timespan).map(Some).ok_or_else(|| {
                    format!("host.json extensions.queues.{key} must be a time span like \"00:00:30\", not {v}")
                }),
            }
        };
        if let Some(n) = count("batchSize", 32)? {
            settings.batch_size = n;
        }
        if let Some(n) = count("maxDequeueCount", u64::from(u32::MAX))? {
            settings.max_dequeue_count = n;
        }
        if let Some(d) = span("visibilityTimeout")? {
            settings.visibility_timeout = d;
        }
        if let Some(d) = span("maxPollingInterval")? {
            settings.max_polling_interval = d.max(MIN_POLL);
        }
        match queues.get("messageEncoding").and_then(Value::as_str) {
            None => {}
            Some(e) if e.eq_ignore_ascii_case("base64") => settings.base64 = true,
            Some(e) if e.eq_ignore_ascii_case("none") => settings.base64 = false,
            Some(other) => {
                return Err(format!(
                    "host.json extensions.queues.messageEncoding must be base64 or none, not {other:?}"
                ));
            }
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(queues: &str) -> Result<QueueSettings, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let host = format!(
            r#"{{"customHandler":{{"description":{{"defaultExecutablePath":"h"}}}},"extensions":{{"queues":{queues}}}}}"#
        );
        std::fs::write(dir.path().join("host.json"), host).map_err(|e| e.to_string())?;
        let app = AppFolder::load(dir.path()).map_err(|e| e.0)?;
        QueueSettings::of(&app)
    }

    #[test]
    fn time_spans_read_as_dotnet_reads_them() {
        let read =
            settings(r#"{"visibilityTimeout":"00:00:00.5","maxPollingInterval":"1.00:00:01"}"#)
                .expect("reads");
        assert_eq!(read.visibility_timeout, Duration::from_millis(500));
        assert_eq!(read.max_polling_interval, Duration::from_secs(86_401));
        // A bare number is days, as TimeSpan.Parse reads it.
        let read = settings(r#"{"visibilityTimeout":"2"}"#).expect("reads");
        assert_eq!(read.visibility_timeout, Duration::from_secs(2 * 86_400));
        for bad in [
            r#""a:b:c""#,
            r#""99999999999999999.00:00:00""#,
            r#""00:00:60""#,
            "30",
        ] {
            let error = settings(&format!(r#"{{"visibilityTimeout":{bad}}}"#)).expect_err(bad);
            assert!(error.contains("must be a time span"), "{bad}: {error}");
        }
    }
}
