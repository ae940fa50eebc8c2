//! Timer functions fired on their schedules, as the timer extension does:
//! `runOnStartup` first, then each occurrence, with the schedule status.

use std::sync::Arc;

use super::server::Shared;
use crate::app::{AppFolder, FunctionFolder, TriggerKind};
use crate::console::Console;
use crate::host::envelope::{ScheduleStatus, Sys, timer_invocation};
use crate::host::invocation::{invoke, report};
use crate::ids::new_guid;
use crate::timers::clock::UtcTime;
use crate::timers::schedule::TimerSchedule;

/// Every timer function of `app` with its schedule. Schedules are read
/// only when timers fire (as the host reads only the functions it runs); a
/// bad one stops that timer, not the app.
pub(super) fn timer_schedules(
    app: &AppFolder,
    console: &Console,
) -> Vec<(FunctionFolder, TimerSchedule)> {
    let mut schedules = Vec::new();
    for function in app
        .functions
        .iter()
        .filter(|f| f.trigger_kind() == TriggerKind::Timer)
    {
        let expression = function.trigger().schedule.clone().unwrap_or_default();
        match TimerSchedule::parse(&expression, &app.settings.values) {
            Ok(schedule) => schedules.push((function.clone(), schedule)),
            Err(e) => console.error(format!(
                "[host] {}: {e}: this timer does not fire; the other functions run",
                function.name
            )),
        }
    }
    schedules
}

pub(super) async fn fire_timer(
    shared: Arc<Shared>,
    function: FunctionFolder,
    schedule: TimerSchedule,
) {
    let mut last: Option<UtcTime> = None;
    if function.trigger().run_on_startup() {
        // As the timer's listener starts, before the first occurrence: not
        // past due, and no schedule status yet. It counts as the last run.
        let now = UtcTime::now();
        run_timer(&shared, &function, None, "runOnStartup".into()).await;
        last = Some(now);
    }
    loop {
        let Some(next) = schedule.next_after(UtcTime::now()) else {
            shared.console.warning(format!(
                "[host] {}: its schedule never fires",
                function.name
            ));
            return;
        };
        match &schedule {
            TimerSchedule::Cron(_) => tokio::time::sleep(next.until()).await,
            // A TimeSpan counts from now, to the sub-second.
            TimerSchedule::Every(every) => tokio::time::sleep(*every).await,
        }
        let status = last.and_then(|last| {
            schedule.next_after(next).map(|following| ScheduleStatus {
                last,
                next: following,
                last_updated: next,
            })
        });
        run_timer(&shared, &function, status, format!("due {}", next.iso())).await;
        last = Some(next);
    }
}

/// One timer invocation; `why` says what fired it.
async fn run_timer(
    shared: &Shared,
    function: &FunctionFolder,
    status: Option<ScheduleStatus>,
    why: String,
) {
    let invocation_id = new_guid();
    shared.console.info(format!(
        "[{} {invocation_id}] Executing (timer, {why})",
        function.name
    ));
    let body = timer_invocation(function, status, false, &Sys::new(function));
    let outcome = invoke(&shared.handler, function, &body, &invocation_id).await;
    report(&shared.console, function, &invocation_id, &outcome);
}
