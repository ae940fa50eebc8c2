//! .NET's invariant-culture parsers, as the route constraints call them
//! (docs/function-app.md, "Route constraints"): `int.TryParse` with
//! `NumberStyles.Integer`, `double.TryParse` with `Float | AllowThousands`,
//! `decimal.TryParse` with `Number`, `bool.TryParse`, `Guid.TryParse` and
//! the common forms of `DateTime.TryParse`.

/// .NET's white space in numbers: tab to carriage return, and space.
fn trim_white(text: &str) -> &str {
    text.trim_matches(|c: char| matches!(c, '\t'..='\r' | ' '))
}

/// `NumberStyles.Integer`: white space around, one leading sign, ASCII
/// digits; `None` outside `min..=max`.
pub(crate) fn parse_integer(text: &str, min: i128, max: i128) -> Option<i128> {
    let text = trim_white(text);
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: i128 = 0;
    for digit in digits.bytes() {
        value = value
            .checked_mul(10)?
            .checked_add(i128::from(digit - b'0'))?;
        if value > max.max(-min) {
            return None;
        }
    }
    let value = if negative { -value } else { value };
    (min..=max).contains(&value).then_some(value)
}

/// `bool.TryParse`: `true` or `false` in any case, white space and NULs
/// around.
pub(crate) fn is_bool(text: &str) -> bool {
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false")
}

/// The digits of a number: integral part (commas allowed between its
/// digits), optional fraction; at least one digit. Returns the rest.
fn mantissa(text: &str) -> Option<(&str, usize)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut digits = 0;
    while i < bytes.len() && (bytes[i].is_ascii_digit() || (bytes[i] == b',' && digits > 0)) {
        digits += usize::from(bytes[i].is_ascii_digit());
        i += 1;
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            digits += 1;
            i += 1;
        }
    }
    (digits > 0).then_some((&text[i..], digits))
}

/// `double.TryParse` (and `float.TryParse`) with `Float | AllowThousands`:
/// sign, digits with commas, fraction, exponent, white space around; and
/// the invariant culture's `NaN`, `Infinity` and `-Infinity`, in any case.
/// A number too large is infinity, not a failure, since .NET Core 3.0.
pub(crate) fn is_floating(text: &str) -> bool {
    let text = trim_white(text);
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if ["NaN", "Infinity", "∞"]
        .iter()
        .any(|symbol| unsigned.eq_ignore_ascii_case(symbol))
    {
        return true;
    }
    let Some((rest, _)) = mantissa(unsigned) else {
        return false;
    };
    match rest.strip_prefix(['e', 'E']) {
        None => rest.is_empty(),
        Some(exponent) => {
            let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            !exponent.is_empty() && exponent.bytes().all(|b| b.is_ascii_digit())
        }
    }
}

/// `decimal.TryParse` with `NumberStyles.Number`: a leading or a trailing
/// sign, digits with commas, fraction, white space around, no exponent;
/// at most 28 integral digits below `decimal.MaxValue`.
pub(crate) fn is_decimal(text: &str) -> bool {
    let text = trim_white(text);
    let (text, leading) = match text.strip_prefix(['+', '-']) {
        Some(rest) => (trim_white(rest), true),
        None => (text, false),
    };
    let text = match text.strip_suffix(['+', '-']) {
        Some(rest) if !leading => trim_white(rest),
        Some(_) => return false,
        None => text,
    };
    let Some(("", _)) = mantissa(text) else {
        return false;
    };
    let integral: String = text
        .split('.')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let integral = integral.trim_start_matches('0');
    const MAX: &str = "79228162514264337593543950335";
    integral.len() < MAX.len() || (integral.len() == MAX.len() && integral <= MAX)
}

/// `Guid.TryParse`: `D` (8-4-4-4-12 hex digits with hyphens), `N` (32 hex
/// digits), `B` (`D` in braces) or `P` (`D` in parentheses), with white
/// space around; a brace or parenthesis without its partner is not one.
pub(crate) fn is_guid(value: &str) -> bool {
    let value = value.trim();
    let bare = match (value.as_bytes().first(), value.as_bytes().last()) {
        (Some(b'{'), Some(b'}')) | (Some(b'('), Some(b')')) if value.len() >= 2 => {
            let inner = &value[1..value.len() - 1];
            if inner.len() != 36 {
                return false;
            }
            inner
        }
        _ => value,
    };
    let groups: Vec<&str> = bare.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let hex = groups
        .iter()
        .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
    hex && (lengths == [8, 4, 4, 4, 12] || (lengths == [32] && bare.len() == value.len()))
}

/// The common forms of `DateTime.TryParse` with the invariant culture: a
/// date `yyyy-M-d` or `M-d-yyyy` (`/` for `-` too), optionally followed (after
/// `T` or a space) by a time `H:mm[:ss[.fffffff]]` with `AM`/`PM`, `Z` or
/// an offset `+hh:mm`; or a time alone (today's date). Dates must exist.
pub(crate) fn is_date_time(text: &str) -> bool {
    let text = text.trim();
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(at) => (&text[..at], Some(text[at + 1..].trim_start())),
        None if text.contains(':') => ("", Some(text)),
        None => (text, None),
    };
    (date.is_empty() && time.is_some() || is_date(date)) && time.is_none_or(is_time)
}

fn number(text: &str, digits: std::ops::RangeInclusive<usize>) -> Option<u32> {
    (digits.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split(['-', '/']).collect();
    let [a, b, c] = parts.as_slice() else {
        return false;
    };
    let (year, month, day) = if a.len() == 4 {
        (number(a, 4..=4), number(b, 1..=2), number(c, 1..=2))
    } else if c.len() == 4 {
        (number(c, 4..=4), number(a, 1..=2), number(b, 1..=2))
    } else {
        return false;
    };
    let (Some(year), Some(month), Some(day)) = (year, month, day) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

fn is_time(text: &str) -> bool {
    let mut text = text.trim_end();
    let mut twelve_hour = false;
    for suffix in ["AM", "PM", "am", "pm"] {
        if let Some(rest) = text.strip_suffix(suffix) {
            text = rest.trim_end();
            twelve_hour = true;
            break;
        }
    }
    if !twelve_hour {
        if let Some(rest) = text.strip_suffix(['Z', 'z']) {
            text = rest;
        } else if let Some(at) = text.rfind(['+', '-']) {
            let offset = &text[at + 1..];
            let valid = match offset.split_once(':') {
                Some((h, m)) => {
                    number(h, 1..=2).is_some_and(|h| h <= 14)
                        && number(m, 2..=2).is_some_and(|m| m < 60)
                }
                None => number(offset, 1..=2).is_some_and(|h| h <= 14),
            };
            if !valid {
                return false;
            }
            text = &text[..at];
        }
    }
    let parts: Vec<&str> = text.split(':').collect();
    let (hour, minute, second) = match parts.as_slice() {
        [h, m] => (*h, *m, "0"),
        [h, m, s] => (*h, *m, *s),
        _ => return false,
    };
    let (second, fraction) = second.split_once('.').unwrap_or((second, "0"));
    let max_hour = if twelve_hour { 12 } else { 23 };
    number(hour, 1..=2).is_some_and(|h| h <= max_hour && (!twelve_hour || h >= 1))
        && number(minute, 1..=2).is_some_and(|m| m < 60)
        && number(second, 1..=2).is_some_and(|s| s < 60)
        && number(fraction, 1..=7).is_some()
}
