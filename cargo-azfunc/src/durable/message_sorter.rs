//! The receiving half of DTFx's entity message sorter, as its entity
//! dispatcher runs every request from an orchestration through it on the
//! Azure Storage backend: duplicates are dropped, a request whose
//! predecessor has not arrived waits for it, and waiting ends once the
//! reorder window has passed (docs/durable.md, "Entity message order").
//! A request without a `Timestamp` reads as `DateTime.MinValue` and is
//! dropped as a duplicate, as there.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// .NET ticks (100 ns) since 0001-01-01: 0 is `DateTime.MinValue`.
pub(super) type Ticks = i64;

const TICKS_PER_SECOND: Ticks = 10_000_000;

/// host.json's `entityMessageReorderWindowInMinutes` in ticks.
pub(super) fn window_of_minutes(minutes: u32) -> Ticks {
    i64::from(minutes) * 60 * TICKS_PER_SECOND
}

/// DTFx moves its horizon at most once per this interval.
const COLLECTION_INTERVAL: Ticks = 10 * TICKS_PER_SECOND;

/// What the sorter reads of a request message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Label {
    pub(super) parent: String,
    pub(super) parent_execution: Option<String>,
    pub(super) timestamp: Ticks,
    pub(super) predecessor: Ticks,
}

impl Label {
    /// The label of a request message; `None` without a `parent` (a
    /// request from a client, delivered as it comes).
    pub(super) fn of_message(message: &Value) -> Option<Label> {
        let text = |key: &str| message.get(key).and_then(Value::as_str);
        let time = |key: &str| text(key).and_then(ticks_of).unwrap_or(0);
        Some(Label {
            parent: text("parent")?.to_owned(),
            parent_execution: text("parentExecution").map(str::to_owned),
            timestamp: time("Timestamp"),
            predecessor: time("Predecessor"),
        })
    }
}

/// What came from one sender (by instance id, any case).
struct ReceiveBuffer<T> {
    /// The last delivered request's timestamp, 0 for none.
    last: Ticks,
    execution_id: Option<String>,
    /// Requests waiting for their predecessor, with it, by timestamp.
    buffered: BTreeMap<Ticks, (Ticks, T)>,
}

/// One entity's sorter.
pub(super) struct MessageSorter<T> {
    window: Ticks,
    receive_horizon: Ticks,
    received_from: HashMap<String, ReceiveBuffer<T>>,
}

impl<T> MessageSorter<T> {
    pub(super) fn new(window: Ticks) -> MessageSorter<T> {
        MessageSorter {
            window,
            receive_horizon: 0,
            received_from: HashMap::new(),
        }
    }

    /// The requests to deliver now, in order, on receiving `message`
    /// labelled `label`: DTFx's `ReceiveInOrder`.
    pub(super) fn receive_in_order(&mut self, label: Option<Label>, message: T) -> Vec<T> {
        let Some(label) = label.filter(|_| self.window != 0) else {
            return vec![message];
        };
        let mut delivered = Vec::new();
        let collect_before = self
            .receive_horizon
            .saturating_add(self.window)
            .saturating_add(COLLECTION_INTERVAL);
        if collect_before < label.timestamp {
            let horizon = label.timestamp.saturating_sub(self.window);
            self.receive_horizon = horizon;
            for buffer in self.received_from.values_mut() {
                if buffer.last < horizon {
                    buffer.last = 0;
                }
                while let Some(next) = next_ready(buffer, horizon) {
                    delivered.push(next);
                }
            }
            self.received_from
                .retain(|_, buffer| buffer.last != 0 || !buffer.buffered.is_empty());
        }
        let horizon = self.receive_horizon;
        if label.timestamp < horizon {
            delivered.push(message);
            return delivered;
        }
        let buffer = self
            .received_from
            .entry(label.parent.to_lowercase())
            .or_insert_with(|| ReceiveBuffer {
                last: 0,
                execution_id: label.parent_execution.clone(),
                buffered: BTreeMap::new(),
            });
        if buffer.execution_id != label.parent_execution {
            // A new execution of the sender starts a new stream.
            let old = std::mem::take(&mut buffer.buffered);
            delivered.extend(old.into_values().map(|(_, message)| message));
            buffer.last = 0;
            buffer.execution_id = label.parent_execution.clone();
        }
        if label.timestamp <= buffer.last {
            // A duplicate (or, without a timestamp, taken for one).
            return delivered;
        }
        if label.predecessor > buffer.last && label.predecessor >= horizon {
            buffer
                .buffered
                .insert(label.timestamp, (label.predecessor, message));
        } else {
            delivered.push(message);
            buffer.last = if label.timestamp >= horizon {
                label.timestamp
            } else {
                0
            };
            while let Some(next) = next_ready(buffer, horizon) {
                delivered.push(next);
            }
        }
        delivered
    }

    /// Nothing is remembered: the entity may be forgotten.
    pub(super) fn is_empty(&self) -> bool {
        self.received_from.is_empty()
    }

    /// How many requests wait for a predecessor.
    pub(super) fn waiting(&self) -> usize {
        self.received_from.values().map(|b| b.buffered.len()).sum()
    }
}

/// The first buffered request, if its predecessor was delivered or has
/// left the window.
fn next_ready<T>(buffer: &mut ReceiveBuffer<T>, horizon: Ticks) -> Option<T> {
    let (&timestamp, &(predecessor, _)) = buffer.buffered.iter().next()?;
    if predecessor > buffer.last && predecessor >= horizon {
        return None;
    }
    buffer.last = if timestamp >= horizon { timestamp } else { 0 };
    buffer
        .buffered
        .remove(&timestamp)
        .map(|(_, message)| message)
}

/// A .NET `DateTime` as JSON text (`2026-01-02T03:04:05.1234567Z`, the
/// fraction and zone optional, an offset applied) in ticks; `None` when
/// it is not one.
pub(super) fn ticks_of(text: &str) -> Option<Ticks> {
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let bytes = text.as_bytes();
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if bytes.len() < 19 || separators.iter().any(|&(at, c)| bytes[at] != c) {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut fraction = 0;
    if let Some(digits) = rest.strip_prefix('.') {
        let length = digits.bytes().take_while(u8::is_ascii_digit).count();
        if length == 0 || length > 7 {
            return None;
        }
        fraction = digits[..length].parse::<i64>().ok()? * 10_i64.pow(7 - length as u32);
        rest = &digits[length..];
    }
    let offset = match rest {
        "" | "Z" => 0,
        zone if zone.len() == 6
            && (zone.starts_with('+') || zone.starts_with('-'))
            && zone.get(3..4) == Some(":") =>
        {
            let hours: i64 = zone.get(1..3)?.parse().ok()?;
            let minutes: i64 = zone.get(4..6)?.parse().ok()?;
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return None,
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(seconds * TICKS_PER_SECOND + fraction)
}

/// Days from 0001-01-01 to the given proleptic Gregorian date (Howard
/// Hinnant's `days_from_civil`, shifted to .NET's epoch).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // 719_468 days from 0000-03-01 to 1970-01-01; 719_162 from 0001-01-01.
    era * 146_097 + doe - 719_468 + 719_162
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Ticks = TICKS_PER_SECOND;
    /// Some time well after the epoch, as orchestration times are.
    const T0: Ticks = 63_900_000_000 * SECOND;

    fn label(parent: &str, execution: &str, timestamp: Ticks, predecessor: Ticks) -> Option<Label> {
        Some(Label {
            parent: parent.to_owned(),
            parent_execution: Some(execution.to_owned()),
            timestamp,
            predecessor,
        })
    }

    #[test]
    fn datetimes_read_as_dotnet_ticks() {
        assert_eq!(ticks_of("0001-01-01T00:00:00"), Some(0));
        assert_eq!(
            ticks_of("0001-01-02T00:00:00.0000001Z"),
            Some(86_400 * SECOND + 1)
        );
        // DateTime.UnixEpoch.Ticks
        assert_eq!(
            ticks_of("1970-01-01T00:00:00Z"),
            Some(621_355_968_000_000_000)
        );
        assert_eq!(
            ticks_of("1970-01-01T01:00:00.5+01:00"),
            Some(621_355_968_000_000_000 + 5_000_000)
        );
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-01-01 00:00:00",
            "2026-01-01T00:00:00.12345678Z",
            "2026-01-01T00:00:00Q",
            "2026-01-01T00:00:00+é:0",
            "2026-01-01T00:00:00+0é:0",
        ] {
            assert_eq!(ticks_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn in_order_requests_pass_and_duplicates_are_dropped() {
        let mut sorter = MessageSorter::new(window_of_minutes(30));
        assert_eq!(sorter.receive_in_order(label("o", "e", T0, 0), 1), vec![1]);
        assert_eq!(
            sorter.receive_in_order(label("O", "e", T0 + 1, T0), 2),
            vec![2]
        );
        assert_eq!(
            sorter.receive_in_order(label("o", "e", T0 + 1, T0), 2),
            Vec::<i32>::new()
        );
        assert_eq!(
            sorter.receive_in_order(label("o", "e", T0, 0), 1),
            Vec::<i32>::new()
        );
    }

    #[test]
    fn a_request_waits_for_its_predecessor() {
        let mut sorter = MessageSorter::new(window_of_minutes(30));
        assert_eq!(
            sorter.receive_in_order(label("o", "e", T0 + 1, T0), 2),
            Vec::<i32>::new()
        );
        assert_eq!(sorter.waiting(), 1);
        assert_eq!(
            sorter.receive_in_order(label("o", "e", T0, 0), 1),
            vec![1, 2]
        );
        assert_eq!(sorter.waiting(), 0);
    }

    #[test]
    fn a_waiting_request_is_released_once_the_window_has_passed() {
        let mut sorter = MessageSorter::new(60 * SECOND);
        assert_eq!(
            sorter.receive_in_order(label("o", "e", T0 + 1, T0), 2),
            Vec::<i32>::new()
        );
        // Its predecessor never comes; a later request moves the horizon.
        let later = T0 + 80 * SECOND;
        assert_eq!(
            sorter.receive_in_order(label("p", "e", later, 0), 3),
            vec![2, 3]
        );
    }

    #[test]
    fn a_new_execution_of_the_sender_starts_a_new_stream() {
        let mut sorter = MessageSorter::new(window_of_minutes(30));
        assert_eq!(
            sorter.receive_in_order(label("o", "e1", T0 + 5, 0), 1),
            vec![1]
        );
        assert_eq!(
            sorter.receive_in_order(label("o", "e1", T0 + 7, T0 + 6), 2),
            Vec::<i32>::new()
        );
        // Continued as new: an earlier time is no duplicate; the old
        // execution's waiting request goes first.
        assert_eq!(
            sorter.receive_in_order(label("o", "e2", T0 + 5, 0), 3),
            vec![2, 3]
        );
    }

    #[test]
    fn unlabelled_requests_from_an_orchestration_are_dropped_and_others_pass() {
        let mut sorter = MessageSorter::new(window_of_minutes(30));
        let unlabelled =
            Label::of_message(&serde_json::json!({"op": "add", "id": "r", "parent": "o"}));
        assert_eq!(sorter.receive_in_order(unlabelled, 1), Vec::<i32>::new());
        let from_a_client = Label::of_message(&serde_json::json!({"op": "add", "id": "r"}));
        assert_eq!(sorter.receive_in_order(from_a_client, 2), vec![2]);
        let mut off = MessageSorter::new(0);
        let unlabelled =
            Label::of_message(&serde_json::json!({"op": "add", "id": "r", "parent": "o"}));
        assert_eq!(off.receive_in_order(unlabelled, 3), vec![3]);
    }
}
