//! NCRONTAB schedules as timer triggers use them: six fields (`{second}
//! {minute} {hour} {day} {month} {day-of-week}`) or five (no seconds: at
//! second 0), and their next occurrence in UTC. As in NCrontab, a time
//! must match both the day of the month and the day of the week.

use crate::timers::clock::{Civil, UtcTime, days_in_month};

/// A parsed schedule: one bit set per allowed value of each field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    seconds: u64,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn value(text: &str, min: u32, max: u32, names: &[&str], field: &str) -> Result<u32, String> {
    let lower = text.to_ascii_lowercase();
    if let Some(index) = names.iter().position(|n| lower == *n) {
        return Ok(index as u32 + min);
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{field}: {text:?} is not a number"));
    }
    // Digits only: too many of them for a u32 is just out of range.
    match text.parse::<u32>() {
        Ok(number) if (min..=max).contains(&number) => Ok(number),
        _ => Err(format!("{field}: {text} is outside {min}-{max}")),
    }
}

fn parse_field(text: &str, min: u32, max: u32, names: &[&str], field: &str) -> Result<u64, String> {
    let mut bits = 0u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                // A step past the field's range is allowed (NCrontab takes
                // it): it just selects the first value.
                let step: u32 = if !step.is_empty() && step.bytes().all(|b| b.is_ascii_digit()) {
                    step.parse().unwrap_or(u32::MAX)
                } else {
                    0
                };
                if step == 0 {
                    return Err(format!("{field}: step {step:?} must be a positive number"));
                }
                (range, step)
            }
            None => (item, 1),
        };
        let (low, high) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                value(a, min, max, names, field)?,
                value(b, min, max, names, field)?,
            )
        } else {
            let start = value(range, min, max, names, field)?;
            // `5/15` means from 5 to the end, every 15.
            (start, if item.contains('/') { max } else { start })
        };
        if low > high {
            return Err(format!("{field}: range {range:?} runs backwards"));
        }
        let mut v = Some(low);
        while let Some(value) = v.filter(|v| *v <= high) {
            bits |= 1 << value;
            v = value.checked_add(step);
        }
    }
    Ok(bits)
}

/// Day-of-week 7 is Sunday too.
fn sunday_is_zero(bits: u64) -> u64 {
    if bits & (1 << 7) != 0 {
        (bits | 1) & !(1 << 7)
    } else {
        bits
    }
}

impl Schedule {
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        let mut fields: Vec<&str> = expression.split_whitespace().collect();
        if fields.len() == 5 {
            fields.insert(0, "0");
        }
        if fields.len() != 6 {
            return Err(format!(
                "schedule {expression:?} has {} fields; NCRONTAB needs six (second minute hour day month day-of-week) or five (no seconds)",
                fields.len()
            ));
        }
        let wrap = |e: String| format!("schedule {expression:?}: {e}");
        Ok(Schedule {
            seconds: parse_field(fields[0], 0, 59, &[], "second").map_err(wrap)?,
            minutes: parse_field(fields[1], 0, 59, &[], "minute").map_err(wrap)?,
            hours: parse_field(fields[2], 0, 23, &[], "hour").map_err(wrap)?,
            days: parse_field(fields[3], 1, 31, &[], "day").map_err(wrap)?,
            months: parse_field(fields[4], 1, 12, &MONTHS, "month").map_err(wrap)?,
            weekdays: sunday_is_zero(
                parse_field(fields[5], 0, 7, &WEEKDAYS, "day-of-week").map_err(wrap)?,
            ),
        })
    }

    /// The first occurrence strictly after `after`; `None` when there is
    /// none within eight years (e.g. February 30th).
    pub fn next_after(&self, after: UtcTime) -> Option<UtcTime> {
        let start = after.plus_seconds(1).civil();
        let first_day = UtcTime::from_civil(Civil {
            hour: 0,
            minute: 0,
            second: 0,
            ..start
        });
        for day_index in 0..(8 * 366) {
            let midnight = first_day.plus_seconds(day_index * 86_400);
            let date = midnight.civil();
            if self.months & (1 << date.month) == 0
                || self.days & (1 << date.day) == 0
                || date.day > days_in_month(date.year, date.month)
                || self.weekdays & (1 << midnight.weekday()) == 0
            {
                continue;
            }
            let from = if day_index == 0 {
                start.hour * 3600 + start.minute * 60 + start.second
            } else {
                0
            };
            if let Some(offset) = self.first_time_from(from) {
                return Some(midnight.plus_seconds(i64::from(offset)));
            }
        }
        None
    }

    /// The first allowed second of a day at or after `from` seconds.
    fn first_time_from(&self, from: u32) -> Option<u32> {
        for hour in from / 3600..24 {
            if self.hours & (1 << hour) == 0 {
                continue;
            }
            for minute in 0..60 {
                if self.minutes & (1 << minute) == 0 {
                    continue;
                }
                for second in 0..60 {
                    let offset = hour * 3600 + minute * 60 + second;
                    if offset >= from && self.seconds & (1 << second) != 0 {
                        return Some(offset);
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> UtcTime {
        UtcTime::from_civil(Civil {
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: s,
        })
    }

    fn next(expression: &str, after: UtcTime) -> String {
        Schedule::parse(expression)
            .expect("parses")
            .next_after(after)
            .map(UtcTime::iso)
            .unwrap_or_default()
    }

    #[test]
    fn every_five_minutes() {
        assert_eq!(
            next("0 */5 * * * *", at(2024, 5, 1, 12, 0, 0)),
            "2024-05-01T12:05:00Z"
        );
        assert_eq!(
            next("0 */5 * * * *", at(2024, 5, 1, 12, 3, 7)),
            "2024-05-01T12:05:00Z"
        );
        assert_eq!(
            next("0 */5 * * * *", at(2024, 5, 1, 23, 59, 0)),
            "2024-05-02T00:00:00Z"
        );
    }

    #[test]
    fn seconds_lists_ranges_and_names() {
        assert_eq!(
            next("*/10 * * * * *", at(2024, 5, 1, 0, 0, 5)),
            "2024-05-01T00:00:10Z"
        );
        assert_eq!(
            next("15,45 * * * * *", at(2024, 5, 1, 0, 0, 15)),
            "2024-05-01T00:00:45Z"
        );
        assert_eq!(
            next("0 30 9 * * Mon-Fri", at(2024, 5, 3, 10, 0, 0)),
            "2024-05-06T09:30:00Z"
        ); // Fri -> Mon
        assert_eq!(
            next("0 0 0 1 Jan *", at(2024, 5, 1, 0, 0, 0)),
            "2025-01-01T00:00:00Z"
        );
        assert_eq!(
            next("0 0 12 29 2 *", at(2024, 3, 1, 0, 0, 0)),
            "2028-02-29T12:00:00Z"
        );
        assert_eq!(
            next("5/20 * * * * *", at(2024, 5, 1, 0, 0, 30)),
            "2024-05-01T00:00:45Z"
        );
        assert_eq!(
            next("0 0 0 * * 7", at(2024, 5, 1, 0, 0, 0)),
            "2024-05-05T00:00:00Z"
        ); // Sunday
        assert_eq!(
            next("0 0 0 * * 6-7", at(2024, 5, 1, 0, 0, 0)),
            "2024-05-04T00:00:00Z"
        );
    }

    #[test]
    fn day_and_weekday_must_both_match() {
        // The 13th that is a Friday: September 2024.
        assert_eq!(
            next("0 0 0 13 * 5", at(2024, 5, 1, 0, 0, 0)),
            "2024-09-13T00:00:00Z"
        );
    }

    #[test]
    fn impossible_dates_and_bad_expressions() {
        assert_eq!(
            Schedule::parse("0 0 0 30 2 *")
                .expect("parses")
                .next_after(at(2024, 1, 1, 0, 0, 0)),
            None
        );
        for bad in [
            "* * * *",
            "* * * * * * *",
            "60 * * * * *",
            "0 0 24 * * *",
            "0 0 0 0 * *",
            "0 */0 * * * *",
            "x * * * * *",
            "0 5-1 * * * *",
            "0 0 0 * Foo *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn five_fields_fire_at_second_zero() {
        assert_eq!(
            next("*/5 * * * *", at(2024, 5, 1, 12, 3, 7)),
            "2024-05-01T12:05:00Z"
        );
        assert_eq!(
            Schedule::parse("30 9 * * Mon-Fri"),
            Schedule::parse("0 30 9 * * Mon-Fri")
        );
    }

    #[test]
    fn numbers_past_u32_are_errors_not_overflows() {
        // A step as large as u32 allows, or larger: the first value only.
        assert_eq!(
            Schedule::parse("1/4294967295 * * * * *"),
            Schedule::parse("1 * * * * *")
        );
        assert_eq!(
            Schedule::parse("1/99999999999999999999 * * * * *"),
            Schedule::parse("1 * * * * *")
        );
        assert_eq!(
            Schedule::parse("0 0 0 4294967296 * *"),
            Err("schedule \"0 0 0 4294967296 * *\": day: 4294967296 is outside 1-31".into())
        );
        assert!(Schedule::parse("0-4294967295 * * * * *").is_err());
        assert!(Schedule::parse("+1 * * * * *").is_err());
    }
}
