//! A timer trigger's `schedule` in every form the timer extension accepts
//! (docs/host-protocol.md, "Non-HTTP triggers and output bindings";
//! TimerSchedule.Create): `%Name%` references resolved from the app settings first, then an NCRONTAB expression (six
//! fields, or five without seconds), else a TimeSpan (`00:05:00`,
//! `1.00:00:00`, `5` = five days) for a constant interval.

use crate::dotnet::parse_timespan;
use std::time::Duration;

use crate::clock::UtcTime;
use crate::ncrontab::Schedule;

/// A timer's parsed schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimerSchedule {
    Cron(Schedule),
    /// A TimeSpan: every interval, counted from the previous run.
    Every(Duration),
}

impl TimerSchedule {
    /// Parses `expression` after resolving its `%Name%` references with
    /// `settings` (local.settings.json's Values), then the environment.
    pub fn parse(expression: &str, settings: &[(String, String)]) -> Result<TimerSchedule, String> {
        let resolved = resolve(expression, settings)?;
        let trimmed = resolved.trim();
        if trimmed.is_empty() {
            return Err("the schedule is empty: e.g. \"0 */5 * * * *\" or \"00:05:00\"".into());
        }
        let cron = Schedule::parse(trimmed);
        if let Ok(cron) = cron {
            return Ok(TimerSchedule::Cron(cron));
        }
        if let Some(every) = parse_timespan(trimmed) {
            if every.is_zero() {
                return Err(format!(
                    "schedule {trimmed:?}: a TimeSpan schedule must be longer than zero"
                ));
            }
            return Ok(TimerSchedule::Every(every));
        }
        let cron_error = cron.err().unwrap_or_default();
        Err(format!(
            "{cron_error}; nor is it a TimeSpan like \"00:05:00\" (the timer extension takes either)"
        ))
    }

    /// The next run after `after` (the previous run, or now).
    pub fn next_after(&self, after: UtcTime) -> Option<UtcTime> {
        match self {
            TimerSchedule::Cron(cron) => cron.next_after(after),
            TimerSchedule::Every(every) => {
                let seconds = i64::try_from(every.as_secs()).ok()?;
                after.unix.checked_add(seconds.max(1))?;
                Some(after.plus_seconds(seconds.max(1)))
            }
        }
    }
}

/// `%Name%` references replaced by the setting's value (local.settings.json
/// Values, then the environment), anywhere in the text, as the WebJobs name
/// resolver does; an unknown name or an unclosed `%` is an error.
pub fn resolve(expression: &str, settings: &[(String, String)]) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = expression;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('%') else {
            return Err(format!(
                "schedule {expression:?}: a '%' without its closing '%'"
            ));
        };
        let name = &after[..end];
        let value = settings
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
            .or_else(|| std::env::var(name).ok())
            .ok_or_else(|| {
                format!(
                    "the schedule names the app setting {name:?}, which local.settings.json's Values do not set: add it there"
                )
            })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_form_the_extension_takes() {
        let none = settings(&[]);
        assert!(matches!(
            TimerSchedule::parse("0 */5 * * * *", &none),
            Ok(TimerSchedule::Cron(_))
        ));
        assert_eq!(
            TimerSchedule::parse("*/5 * * * *", &none),
            TimerSchedule::parse("0 */5 * * * *", &none)
        );
        assert_eq!(
            TimerSchedule::parse("00:05:00", &none),
            Ok(TimerSchedule::Every(Duration::from_secs(300)))
        );
        assert_eq!(
            TimerSchedule::parse("1.02:03:04.5", &none),
            Ok(TimerSchedule::Every(Duration::new(
                86_400 + 2 * 3600 + 3 * 60 + 4,
                500_000_000
            )))
        );
        assert_eq!(
            TimerSchedule::parse("00:30", &none),
            Ok(TimerSchedule::Every(Duration::from_secs(1800)))
        );
        assert_eq!(
            TimerSchedule::parse("2", &none),
            Ok(TimerSchedule::Every(Duration::from_secs(2 * 86_400)))
        );
        let with = settings(&[("TickSchedule", "0 0 * * * *"), ("Every", "00:01:00")]);
        assert_eq!(
            TimerSchedule::parse("%TickSchedule%", &with),
            TimerSchedule::parse("0 0 * * * *", &none)
        );
        assert_eq!(
            TimerSchedule::parse("%Every%", &with),
            Ok(TimerSchedule::Every(Duration::from_secs(60)))
        );
    }

    #[test]
    fn bad_schedules_say_why() {
        let none = settings(&[]);
        let error = |s: &str| TimerSchedule::parse(s, &none).err().unwrap_or_default();
        assert!(
            error("%Missing%").contains("\"Missing\""),
            "{}",
            error("%Missing%")
        );
        assert!(error("%Open").contains("without its closing"));
        assert!(error("").contains("empty"));
        assert!(error("00:00:00").contains("longer than zero"));
        assert!(error("24:00:00").contains("nor is it a TimeSpan"));
        assert!(error("00:60").contains("nor is it a TimeSpan"));
        assert!(error("-00:05:00").contains("nor is it a TimeSpan"));
        assert!(error("every five minutes").contains("nor is it a TimeSpan"));
        assert!(error("1/4294967295 * * * * 99").contains("day-of-week"));
    }

    #[test]
    fn huge_numbers_are_refused_not_overflowed() {
        assert_eq!(parse_timespan("99999999999999999999"), None);
        assert_eq!(parse_timespan("10675199"), None);
        assert!(parse_timespan("10675198.23:59:59.9999999").is_some());
        let every = TimerSchedule::Every(Duration::from_secs(u64::MAX));
        assert_eq!(every.next_after(UtcTime { unix: 0 }), None);
    }
}
