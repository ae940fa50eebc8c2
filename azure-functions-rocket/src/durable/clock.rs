//! The orchestration clock in microseconds since the Unix epoch: the
//! precision of the Python SDK's datetimes, so that timers computed from
//! the clock match to the microsecond.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost_types::Timestamp;

/// Microseconds since 1970-01-01T00:00:00Z.
pub(crate) type Micros = i64;

pub(crate) fn of_timestamp(timestamp: &Timestamp) -> Micros {
    timestamp
        .seconds
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(timestamp.nanos.div_euclid(1000)))
}

pub(crate) fn timestamp(micros: Micros) -> Timestamp {
    Timestamp {
        seconds: micros.div_euclid(1_000_000),
        // Below 1_000_000_000, so it fits.
        nanos: i32::try_from(micros.rem_euclid(1_000_000) * 1000).unwrap_or(0),
    }
}

pub(crate) fn micros_of(duration: Duration) -> Micros {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// Seconds as whole microseconds, rounded half to even as Python's
/// `timedelta(seconds=...)` does.
pub(crate) fn micros_of_seconds(seconds: f64) -> Micros {
    let micros = (seconds * 1_000_000.0).round_ties_even();
    if micros >= i64::MAX as f64 {
        i64::MAX
    } else if micros.is_nan() || micros <= 0.0 {
        0
    } else {
        micros as i64
    }
}

pub(crate) fn micros_of_time(time: SystemTime) -> Micros {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => micros_of(after),
        Err(before) => micros_of(before.duration()).saturating_neg(),
    }
}

pub(crate) fn now() -> Micros {
    micros_of_time(SystemTime::now())
}

/// `%Y-%m-%dT%H:%M:%S.%fZ`.
pub(crate) fn iso(micros: Micros) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:06}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_text_of_known_instants() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(iso(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
        assert_eq!(iso(-1), "1969-12-31T23:59:59.999999Z");
        assert_eq!(of_timestamp(&timestamp(-1)), -1);
        assert_eq!(micros_of_seconds(2.5e-6), 2);
    }
}
