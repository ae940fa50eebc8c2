//! TimerLog: a line in the function's log on every tick.

use azure_functions_rocket::{Error, TimerInfo, log};

pub async fn tick(timer: TimerInfo) -> Result<(), Error> {
    if timer.is_past_due {
        log::warn("the timer is past due: a run was missed or ran long");
    }
    log::info(format_args!(
        "tick; next at {}",
        timer.next.as_deref().unwrap_or("an unknown time")
    ));
    Ok(())
}
