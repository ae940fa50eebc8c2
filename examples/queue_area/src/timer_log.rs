//! TimerLog: a line in the function's log on every tick.

use azure_functions_rocket::{Error, TimerInfo, log};

pub async fn tick(timer: TimerInfo) -> Result<(), Error> {
    if timer.is_past_due {
        log::warn("the timer is past due: a run was missed or ran long");
    }
    // The host's text, as a field: quoted and escaped like every text.
    log::field("next", timer.next.unwrap_or_else(|| "unknown".to_owned()));
    Ok(())
}
