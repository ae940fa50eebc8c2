//! `extensions.queues` of host.json, read as the host reads it.

use std::time::Duration;

use serde_json::Value;

use crate::app::AppFolder;

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

/// `HH:MM:SS` (optionally `D.HH:MM:SS`, fractional seconds) as .NET's
/// TimeSpan writes it.
pub fn parse_timespan(text: &str) -> Option<Duration> {
    let (days, rest) = match text.split_once('.') {
        Some((d, rest)) if rest.contains(':') && !d.contains(':') => (d.parse::<u64>().ok()?, rest),
        _ => (0, text),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return None;
    };
    let seconds: f64 = s
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
    let whole = days * 86_400 + h.parse::<u64>().ok()? * 3600 + m.parse::<u64>().ok()? * 60;
    Some(Duration::from_secs(whole) + Duration::from_secs_f64(seconds))
}

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

    #[test]
    fn time_spans() {
        assert_eq!(parse_timespan("00:00:30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_timespan("00:01:00"), Some(Duration::from_secs(60)));
        assert_eq!(
            parse_timespan("1.00:00:01"),
            Some(Duration::from_secs(86_401))
        );
        assert_eq!(
            parse_timespan("00:00:00.5"),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_timespan("30"), None);
        assert_eq!(parse_timespan("a:b:c"), None);
    }
}
