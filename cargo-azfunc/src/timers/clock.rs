//! UTC time as the host writes it (ISO 8601), and the calendar arithmetic
//! the NCRONTAB schedules need, without a date crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC instant with whole-second precision (NCRONTAB's resolution).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UtcTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix: i64,
}

/// A calendar date and time of day in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl UtcTime {
    pub fn now() -> UtcTime {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        UtcTime { unix }
    }

    pub fn from_civil(c: Civil) -> UtcTime {
        let days = days_from_civil(c.year, c.month, c.day);
        UtcTime {
            unix: days * 86_400 + i64::from(c.hour * 3600 + c.minute * 60 + c.second),
        }
    }

    pub fn civil(self) -> Civil {
        let days = self.unix.div_euclid(86_400);
        let secs = self.unix.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
        }
    }

    /// 0 = Sunday, as in NCRONTAB.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday.
        (self.unix.div_euclid(86_400) + 4).rem_euclid(7) as u32
    }

    /// Reads ISO 8601 as the management API's callers write it:
    /// `2024-05-01`, `2024-05-01T12:00`, `2024-05-01T12:00:00.5Z`, or with
    /// an offset (`+02:00`); fractions of a second are dropped.
    pub fn parse_iso(text: &str) -> Option<UtcTime> {
        let text = text.trim();
        let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, ""));
        let mut parts = date.splitn(3, '-');
        let year: i64 = parts.next()?.parse().ok()?;
        let month: u32 = parts.next()?.parse().ok()?;
        let day: u32 = parts.next()?.parse().ok()?;
        if !(1..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || !(1..=days_in_month(year, month)).contains(&day)
        {
            return None;
        }
        let (clock, offset) = match time.find(['Z', 'z', '+', '-']) {
            Some(at) => (&time[..at], &time[at..]),
            None => (time, ""),
        };
        let offset_seconds: i64 = match offset {
            "" | "Z" | "z" => 0,
            signed => {
                let sign = if signed.starts_with('-') { -1 } else { 1 };
                let (hours, minutes) = signed[1..].split_once(':')?;
                let (hours, minutes): (i64, i64) = (hours.parse().ok()?, minutes.parse().ok()?);
                if hours > 14 || minutes > 59 {
                    return None;
                }
                sign * (hours * 3600 + minutes * 60)
            }
        };
        let mut fields = clock.splitn(3, ':');
        let mut next = |limit: u32| -> Option<u32> {
            match fields.next() {
                None => Some(0),
                Some(field) => {
                    let whole = field.split_once('.').map_or(field, |(whole, _)| whole);
                    whole.parse().ok().filter(|n| *n <= limit)
                }
            }
        };
        let (hour, minute, second) = if clock.is_empty() {
            (0, 0, 0)
        } else {
            (next(23)?, next(59)?, next(59)?)
        };
        let utc = UtcTime::from_civil(Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
        });
        Some(UtcTime {
            unix: utc.unix - offset_seconds,
        })
    }

    /// `2024-05-01T12:00:00Z`
    pub fn iso(self) -> String {
        let c = self.civil();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// How long from now until this instant (zero when it has passed).
    pub fn until(self) -> Duration {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let target = Duration::from_secs(self.unix.max(0) as u64);
        target.saturating_sub(now)
    }

    pub fn plus_seconds(self, seconds: i64) -> UtcTime {
        UtcTime {
            unix: self.unix + seconds,
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_text_parses_in_the_forms_callers_write() {
        let noon = UtcTime::parse_iso("2024-05-01T12:00:00Z").expect("parses");
        assert_eq!(noon.iso(), "2024-05-01T12:00:00Z");
        let cases = [
            ("2024-05-01", "2024-05-01T00:00:00Z"),
            ("2024-05-01T12:00", "2024-05-01T12:00:00Z"),
            ("2024-05-01T12:00:00.9999999Z", "2024-05-01T12:00:00Z"),
            ("2024-05-01T14:30:00+02:30", "2024-05-01T12:00:00Z"),
            ("2024-05-01T07:00:00-05:00", "2024-05-01T12:00:00Z"),
            ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"),
        ];
        for (text, iso) in cases {
            assert_eq!(
                UtcTime::parse_iso(text).map(UtcTime::iso).as_deref(),
                Some(iso),
                "{text}"
            );
        }
        for bad in [
            "",
            "yesterday",
            "2023-02-29",
            "2024-13-01",
            "2024-05-01T24:00",
            "2024-05-01T12:60",
            "2024-05-01T12:00:00+15:00",
            "2024-05",
            "0-01-01",
            "99999999999999999999-01-01",
            "2024-05-01T12:00:00+0200",
        ] {
            assert_eq!(UtcTime::parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips_and_formats() {
        let t = UtcTime {
            unix: 1_709_210_096,
        }; // 2024-02-29T12:34:56Z, a Thursday
        assert_eq!(t.iso(), "2024-02-29T12:34:56Z");
        assert_eq!(UtcTime::from_civil(t.civil()), t);
        assert_eq!(t.weekday(), 4);
        assert_eq!(UtcTime { unix: 0 }.iso(), "1970-01-01T00:00:00Z");
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
    }
}
