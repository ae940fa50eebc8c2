//! Time as the host and the timer extension see it: UTC timestamps and
//! calendar arithmetic ([`clock`]), NCRONTAB ([`ncrontab`]) and a timer
//! trigger's `schedule` in every form it accepts ([`schedule`]).

pub mod clock;
pub mod ncrontab;
pub mod schedule;
