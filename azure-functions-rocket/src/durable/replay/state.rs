//! The replay state an orchestration's context and the executor share:
//! the actions taken, the tasks pending, the events received. Every call
//! takes its action id at once, in call order (as the Python durabletask
//! SDK counts, from 1), so that the ids do not depend on when a task is
//! first awaited.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use serde::Serialize;

use super::entity_message::EntityCall;
use super::entity_order::Labeller;
use crate::durable::clock::{self, Micros};
use crate::durable::errors::TaskError;
use crate::durable::proto::{ActionType, CreateTimerAction, EventType, OrchestratorRequest};
use crate::durable::retry::RetryPolicy;

/// How a task ended: the result's JSON text (`None` for no result) or its
/// failure.
pub(crate) type Outcome = Result<Option<String>, TaskError>;

/// A task's outcome once known, with the order in which tasks completed
/// (for `when_any` and `when_all`'s first failure).
#[derive(Default)]
pub(crate) struct Slot {
    pub(crate) outcome: RefCell<Option<(u64, Outcome)>>,
}

/// A retried task's state between attempts.
#[derive(Clone)]
pub(crate) struct Retry {
    pub(crate) id: i32,
    pub(crate) action: ActionType,
    pub(crate) policy: RetryPolicy,
    pub(crate) attempts: u32,
    pub(crate) started: Micros,
}

/// What a pending task id stands for.
pub(crate) enum Kind {
    /// An activity or sub-orchestration without a retry policy.
    Call { sub_orchestration: bool },
    /// One with a retry policy.
    Retried(Box<Retry>),
    /// A durable timer.
    Timer,
    /// The wait before a retry.
    RetryTimer(Box<Retry>),
}

pub(crate) struct Pending {
    pub(crate) slot: Rc<Slot>,
    pub(crate) kind: Kind,
    /// For a timer beyond [`MAX_TIMER`]: when it is really due.
    pub(crate) due: Option<Micros>,
}

/// The longest single timer, as the Python SDK chunks them by default
/// (storage backends cap a timer's delay); a longer one is a chain.
pub(crate) const MAX_TIMER: Micros = 3 * 24 * 3600 * 1_000_000;

/// How the orchestration ended, once it has.
pub(crate) enum Completion {
    /// Completed, failed or terminated: the action is among the others.
    Done,
    /// Continued as new with this input (JSON), carrying buffered events.
    ContinuedAsNew {
        input: Option<String>,
        save_events: bool,
    },
}

/// The replay state shared by the context and the executor.
pub(crate) struct State {
    pub(crate) instance_id: String,
    /// This execution's id, which labelled entity requests carry.
    pub(crate) execution_id: Option<String>,
    pub(crate) entity_order: Labeller,
    pub(crate) now: Micros,
    pub(crate) replaying: bool,
    pub(crate) sequence: i32,
    /// Actions not yet confirmed by history, in the order taken.
    pub(crate) actions: Vec<(i32, ActionType)>,
    pub(crate) tasks: HashMap<i32, Pending>,
    /// Raised events nobody waited for yet, by case-folded name, with the
    /// order they arrived in.
    pub(crate) received: HashMap<String, VecDeque<(u64, Option<String>)>>,
    pub(crate) received_count: u64,
    pub(crate) waiting: HashMap<String, VecDeque<Rc<Slot>>>,
    /// Entity calls waiting for their response, by case-folded request id.
    pub(crate) entity_calls: HashMap<String, EntityCall>,
    pub(crate) custom_status: Option<String>,
    pub(crate) completion: Option<Completion>,
    pub(crate) guid_count: u64,
    pub(crate) completed_count: u64,
}

impl State {
    /// The state of a replay of `request`.
    pub(crate) fn of_request(request: &OrchestratorRequest) -> State {
        let mut state = State::new(request.instance_id.clone());
        // The request names it; the start event does too, for a host that
        // leaves the request's field out.
        state.execution_id = request.execution_id.clone().or_else(|| {
            request
                .past_events
                .iter()
                .chain(&request.new_events)
                .find_map(|event| match &event.event_type {
                    Some(EventType::ExecutionStarted(started)) => started
                        .orchestration_instance
                        .as_ref()
                        .and_then(|instance| instance.execution_id.clone()),
                    _ => None,
                })
        });
        state.entity_order = Labeller::of_request(request);
        state
    }

    fn new(instance_id: String) -> State {
        State {
            instance_id,
            execution_id: None,
            entity_order: Labeller::default(),
            now: 0,
            replaying: true,
            sequence: 0,
            actions: Vec::new(),
            tasks: HashMap::new(),
            received: HashMap::new(),
            received_count: 0,
            waiting: HashMap::new(),
            entity_calls: HashMap::new(),
            custom_status: None,
            completion: None,
            guid_count: 0,
            completed_count: 0,
        }
    }

    pub(crate) fn next_id(&mut self) -> i32 {
        self.sequence += 1;
        self.sequence
    }

    /// Settles `slot` with `outcome`, once.
    pub(crate) fn settle(&mut self, slot: &Slot, outcome: Outcome) {
        let mut current = slot.outcome.borrow_mut();
        if current.is_none() {
            self.completed_count += 1;
            *current = Some((self.completed_count, outcome));
        }
    }

    /// Schedules a timer firing at `fire_at` under a new id: the first link
    /// of a chain when it is further than [`MAX_TIMER`] from `from`.
    pub(crate) fn timer(
        &mut self,
        from: Micros,
        fire_at: Micros,
        slot: Rc<Slot>,
        kind: Kind,
    ) -> i32 {
        let id = self.next_id();
        let (next, due) = if from.saturating_add(MAX_TIMER) < fire_at {
            (from + MAX_TIMER, Some(fire_at))
        } else {
            (fire_at, None)
        };
        let action = ActionType::CreateTimer(CreateTimerAction {
            fire_at: Some(clock::timestamp(next)),
        });
        self.actions.push((id, action));
        self.tasks.insert(id, Pending { slot, kind, due });
        id
    }
}

/// JSON text of `value`, `None` for JSON `null` (no payload at all, as the
/// other SDKs send it).
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Option<String>, TaskError> {
    match serde_json::to_string(value) {
        Ok(text) if text == "null" => Ok(None),
        Ok(text) => Ok(Some(text)),
        Err(error) => Err(TaskError::new(
            format!("the input is not JSON: {error}"),
            None,
        )),
    }
}

/// Event names match case-insensitively.
pub(crate) fn fold(name: &str) -> String {
    name.to_lowercase()
}
