//! The text .NET makes of JSON values where the host turns them into
//! strings: `object.ToString()` of a number, a bool (`True`), an object or
//! a list, and Newtonsoft's indented JSON with .NET's booleans
//! (docs/host-protocol.md sections 2 and 3); and .NET's TimeSpan, read and
//! written as host.json's settings have it.

pub mod base64;

use std::time::Duration;

use serde_json::{Number, Value};

/// `value.ToString()` as .NET writes it for the value Newtonsoft read;
/// `None` for null (where .NET would throw or write nothing).
pub fn to_string(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::String(text) => text.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(number) => number_to_string(number),
        Value::Object(_) => "System.Dynamic.ExpandoObject".into(),
        Value::Array(_) => "System.Collections.Generic.List`1[System.Object]".into(),
    })
}

/// An integer as its digits; a fraction as .NET's `double.ToString()`:
/// the shortest text that reads back the same, with an exponent
/// (`1E+15`, `1E-05`) from 1e15 up and below 1e-4.
pub fn number_to_string(number: &Number) -> String {
    if number.is_i64() || number.is_u64() {
        return number.to_string();
    }
    let Some(value) = number.as_f64() else {
        return number.to_string();
    };
    double_to_string(value)
}

/// .NET Core's `double.ToString()` for a finite value.
pub fn double_to_string(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    // Rust's `{:e}` is the shortest round-trip text too: "1.2345e-5".
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .map(|(m, e)| (m.to_owned(), e.parse::<i32>().unwrap_or(0)))
        .unwrap_or((scientific.clone(), 0));
    if (-4..15).contains(&exponent) {
        format!("{value}")
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}E{sign}{:02}", exponent.abs())
    }
}

/// Newtonsoft's indented JSON (two spaces, `"name": value`), booleans
/// written `True` and `False` as the host sends them (docs/host-protocol.md, "handler -> host").
pub fn indented(value: &Value) -> String {
    let mut out = String::new();
    write_indented(value, 0, &mut out);
    out
}

fn write_indented(value: &Value, depth: usize, out: &mut String) {
    let pad = |depth: usize, out: &mut String| out.extend(std::iter::repeat_n("  ", depth));
    match value {
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(fields) if fields.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                pad(depth + 1, out);
                write_indented(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            pad(depth, out);
            out.push(']');
        }
        Value::Object(fields) => {
            out.push_str("{\n");
            for (i, (name, item)) in fields.iter().enumerate() {
                pad(depth + 1, out);
                out.push_str(&Value::String(name.clone()).to_string());
                out.push_str(": ");
                write_indented(item, depth + 1, out);
                out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
            }
            pad(depth, out);
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// `TimeSpan.ToString()` (the constant format): `[d.]hh:mm:ss[.fffffff]`,
/// the fraction in 100 ns ticks and only when there is one.
pub fn timespan_to_string(span: std::time::Duration) -> String {
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
    use serde_json::json;

    #[test]
    fn scalars_as_dotnet_writes_them() {
        assert_eq!(to_string(&json!(2)).as_deref(), Some("2"));
        assert_eq!(to_string(&json!(-7)).as_deref(), Some("-7"));
        assert_eq!(to_string(&json!(true)).as_deref(), Some("True"));
        assert_eq!(to_string(&json!(false)).as_deref(), Some("False"));
        assert_eq!(to_string(&json!("x")).as_deref(), Some("x"));
        assert_eq!(to_string(&json!(null)), None);
    }

    #[test]
    fn doubles_as_dotnet_core_writes_them() {
        for (value, text) in [
            (2.5, "2.5"),
            (2.0, "2"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1E-05"),
            (1.2345e-7, "1.2345E-07"),
            (1e14, "100000000000000"),
            (1e15, "1E+15"),
            (1.5e300, "1.5E+300"),
            (-2.5e20, "-2.5E+20"),
            (12.566370614359172, "12.566370614359172"),
        ] {
            assert_eq!(double_to_string(value), text, "{value}");
        }
    }

    #[test]
    fn timespans_as_dotnet_writes_them() {
        use std::time::Duration;
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
