//! How an orchestration labels its requests to entities so that the
//! entity dispatcher can drop duplicates and restore their order: the
//! sending half of DTFx's message sorter (docs/durable.md, "Entity
//! message order"). The state lives only for one replay, so the labels
//! are rebuilt from orchestration time alone, the same on every replay.

use std::collections::HashMap;

use super::super::clock::{self, Micros};
use super::super::proto::OrchestratorRequest;

/// Time in .NET ticks (100 ns) since the Unix epoch: the unit DTFx adds
/// one of to keep the labels to one entity strictly increasing.
pub(crate) type Ticks = i64;

/// DTFx forgets old destinations at most once per this interval.
const COLLECTION_INTERVAL: Ticks = 10 * 10_000_000;

/// A request's label: `Timestamp`, and `Predecessor` (the previous
/// request's timestamp to the same entity within the window, if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Label {
    pub(crate) timestamp: Ticks,
    pub(crate) predecessor: Option<Ticks>,
}

/// The labels sent so far in this execution.
#[derive(Debug, Default)]
pub(crate) struct Labeller {
    /// Zero: the backend keeps order itself and nothing is labelled.
    window: Ticks,
    /// `None` is .NET's `DateTime.MinValue`.
    send_horizon: Option<Ticks>,
    /// By case-folded instance id, as DTFx compares them ordinal-ignore-case.
    last_sent: HashMap<String, Ticks>,
}

impl Labeller {
    /// The labeller for `request`'s `entityParameters`: off without them.
    pub(crate) fn of_request(request: &OrchestratorRequest) -> Labeller {
        let window = request
            .entity_parameters
            .as_ref()
            .and_then(|parameters| parameters.entity_message_reorder_window.as_ref())
            .map_or(0, |window| {
                window
                    .seconds
                    .saturating_mul(10_000_000)
                    .saturating_add(i64::from(window.nanos / 100))
            });
        Labeller {
            window: window.max(0),
            ..Labeller::default()
        }
    }

    /// The label of a request to `destination` sent at orchestration time
    /// `now`, or `None` when the window is zero.
    pub(crate) fn label(&mut self, destination: &str, now: Micros) -> Option<Label> {
        if self.window == 0 {
            return None;
        }
        let now = now.saturating_mul(10);
        let collect = self.send_horizon.is_none_or(|horizon| {
            horizon
                .saturating_add(self.window)
                .saturating_add(COLLECTION_INTERVAL)
                < now
        });
        if collect {
            let horizon = now.saturating_sub(self.window);
            self.send_horizon = Some(horizon);
            self.last_sent.retain(|_, last| *last >= horizon);
        }
        let key = destination.to_lowercase();
        let predecessor = self.last_sent.get(&key).copied();
        let timestamp = match predecessor {
            Some(last) if now <= last => last + 1,
            _ => now,
        };
        self.last_sent.insert(key, timestamp);
        Some(Label {
            timestamp,
            predecessor,
        })
    }
}

/// A .NET `DateTime` as its JSON serializer writes a UTC one: seven
/// fractional digits, `Z`.
pub(crate) fn iso_ticks(ticks: Ticks) -> String {
    let micros = clock::iso(ticks.div_euclid(10));
    let micros = micros.strip_suffix('Z').unwrap_or(&micros);
    format!("{micros}{}Z", ticks.rem_euclid(10))
}

/// `DateTime.MinValue` as the serializer writes it.
pub(crate) const MIN_VALUE: &str = "0001-01-01T00:00:00";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::durable::proto::OrchestratorEntityParameters;

    fn labeller(minutes: i64) -> Labeller {
        Labeller::of_request(&OrchestratorRequest {
            entity_parameters: Some(OrchestratorEntityParameters {
                entity_message_reorder_window: Some(prost_types::Duration {
                    seconds: minutes * 60,
                    nanos: 0,
                }),
            }),
            ..OrchestratorRequest::default()
        })
    }

    #[test]
    fn nothing_is_labelled_without_a_window() {
        let mut off = Labeller::of_request(&OrchestratorRequest::default());
        assert_eq!(off.label("@c@a", 5), None);
        assert_eq!(labeller(0).label("@c@a", 5), None);
    }

    #[test]
    fn labels_to_one_entity_increase_strictly_and_chain() {
        let mut labeller = labeller(30);
        let first = labeller.label("@c@a", 1_000_000).unwrap();
        assert_eq!(first.timestamp, 10_000_000);
        assert_eq!(first.predecessor, None);
        let second = labeller.label("@C@a", 1_000_000).unwrap();
        assert_eq!(second.timestamp, 10_000_001);
        assert_eq!(second.predecessor, Some(10_000_000));
        let other = labeller.label("@c@b", 1_000_000).unwrap();
        assert_eq!(other.predecessor, None);
        assert_eq!(other.timestamp, 10_000_000);
        // A later step's time passes the earlier labels.
        let later = labeller.label("@c@a", 2_000_000).unwrap();
        assert_eq!(later.timestamp, 20_000_000);
        assert_eq!(later.predecessor, Some(10_000_001));
    }

    #[test]
    fn a_destination_older_than_the_window_loses_its_predecessor() {
        let mut labeller = labeller(1);
        labeller.label("@c@a", 0).unwrap();
        // Within the window: remembered.
        let kept = labeller.label("@c@a", 50 * 1_000_000).unwrap();
        assert_eq!(kept.predecessor, Some(0));
        // Over two windows later: forgotten, as DTFx forgets it.
        let gone = labeller.label("@c@a", 200 * 1_000_000).unwrap();
        assert_eq!(gone.predecessor, None);
    }

    #[test]
    fn ticks_print_as_dotnet_writes_a_utc_datetime() {
        assert_eq!(iso_ticks(1), "1970-01-01T00:00:00.0000001Z");
        assert_eq!(
            iso_ticks(10_000_000 * 86_400 + 12_345_678),
            "1970-01-02T00:00:01.2345678Z"
        );
    }
}
