//! .NET's `TimeSpan` as the host reads and writes it in its files
//! (host.json's `functionTimeout`, timer schedules, queue settings).

use std::time::Duration;

/// `TimeSpan.ToString()` (the constant format): `[d.]hh:mm:ss[.fffffff]`,
/// the fraction in 100 ns ticks and only when there is one.
pub fn timespan_to_string(span: Duration) -> String {
    let seconds = span.as_secs();
    let (days, hours) = (seconds / 86_400, seconds / 3600 % 24);
    let (minutes, secs) = (seconds / 60 % 60, seconds % 60);
    let mut text = if days > 0 {
        format!("{days}.{hours:02}:{minutes:02}:{secs:02}")
    } else {
        format!("{hours:02}:{minutes:02}:{secs:02}")
    };
    let ticks = span.subsec_nanos() / 100;
    if ticks > 0 {
        text.push_str(&format!(".{ticks:07}"));
    }
    text
}

/// .NET's `TimeSpan.TryParse` (invariant culture): `d`, `hh:mm`,
/// `hh:mm:ss`, `d.hh:mm[:ss]`, with `.fffffff` after the seconds; hours
/// 0-23, minutes and seconds 0-59. Negative spans are not intervals: `None`.
pub fn parse_timespan(text: &str) -> Option<Duration> {
    let number = |digits: &str, max: u64| -> Option<u64> {
        if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u64>().ok().filter(|n| *n <= max)
    };
    // TimeSpan.MaxValue is 10675199.02:48:05.4775807.
    const MAX_DAYS: u64 = 10_675_198;
    let text = text.trim();
    let Some((head, tail)) = split_days(text) else {
        return Some(Duration::from_secs(number(text, MAX_DAYS)? * 86_400));
    };
    let days = match head {
        Some(days) => number(days, MAX_DAYS)?,
        None => 0,
    };
    let parts: Vec<&str> = tail.split(':').collect();
    let (hours, minutes, seconds) = match parts.as_slice() {
        [h, m] => (*h, *m, "0"),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    let (seconds, fraction) = match seconds.split_once('.') {
        Some((s, f)) => (s, Some(f)),
        None => (seconds, None),
    };
    let mut nanos = 0u32;
    if let Some(fraction) = fraction {
        if fraction.is_empty()
            || fraction.len() > 7
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let padded = format!("{fraction:0<9}");
        nanos = padded.parse().ok()?;
    }
    let total = days * 86_400
        + number(hours, 23)? * 3600
        + number(minutes, 59)? * 60
        + number(seconds, 59)?;
    Some(Duration::new(total, nanos))
}

/// `1.02:03:04` -> (Some("1"), "02:03:04"); `02:03` -> (None, "02:03");
/// `5` (days only) -> None.
fn split_days(text: &str) -> Option<(Option<&str>, &str)> {
    let colon = text.find(':')?;
    match text[..colon].find('.') {
        Some(dot) => Some((Some(&text[..dot]), &text[dot + 1..])),
        None => Some((None, text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans_as_dotnet_writes_them() {
        for (span, text) in [
            (Duration::from_secs(2), "00:00:02"),
            (Duration::from_secs(30 * 60), "00:30:00"),
            (Duration::from_millis(1500), "00:00:01.5000000"),
            (Duration::new(0, 100), "00:00:00.0000001"),
            (Duration::new(0, 99), "00:00:00"),
            (
                Duration::from_secs(86_400 + 2 * 3600 + 3 * 60 + 4),
                "1.02:03:04",
            ),
        ] {
            assert_eq!(timespan_to_string(span), text, "{span:?}");
        }
    }
}
