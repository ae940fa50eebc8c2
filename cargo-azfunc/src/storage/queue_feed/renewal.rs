//! Keeping a message hidden while its invocation runs, as the host's queue
//! listener does: every half of the hidden period its visibility is
//! renewed (Update Message), so a long invocation never sees its message
//! reappear and get processed a second time. Each renewal gives the message
//! a new pop receipt, which every later call on it must use.

use std::future::Future;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::console::Console;
use crate::storage::{Account, Message};

/// How long fetched messages stay hidden, and how often that is renewed
/// while they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Visibility {
    /// Fetched messages are hidden this long (whole seconds, at least 1).
    pub hidden: Duration,
    /// The pause between two renewals of the hidden period.
    pub renew_every: Duration,
}

impl Default for Visibility {
    /// The host's: hidden for 10 minutes, renewed every 5.
    fn default() -> Visibility {
        Visibility::hidden_for(Duration::from_secs(600))
    }
}

/// The shortest pause between renewals, so that a tiny period cannot spin.
const MIN_RENEWAL: Duration = Duration::from_millis(100);

impl Visibility {
    /// Hidden for `hidden`, renewed every half of it, as the host does.
    pub fn hidden_for(hidden: Duration) -> Visibility {
        Visibility {
            hidden,
            renew_every: hidden / 2,
        }
    }

    /// The hidden period in the whole seconds storage takes.
    pub fn hidden_seconds(&self) -> u64 {
        self.hidden.as_secs().max(1)
    }
}

/// Runs `work` while keeping `message` hidden on `queue`; when it ends,
/// `message.pop_receipt` is the newest. A renewal under way when `work`
/// ends is finished, not cut off: storage may already have replaced the
/// receipt. `tag` starts the lines said on `console`.
pub async fn keep_hidden<F: Future>(
    account: &Account,
    queue: &str,
    message: &mut Message,
    visibility: Visibility,
    console: &Console,
    tag: &str,
    work: F,
) -> F::Output {
    let (done, mut finished) = oneshot::channel::<()>();
    let work = async move {
        let output = work.await;
        let _ = done.send(());
        output
    };
    let renewing = async {
        let pause = visibility.renew_every.max(MIN_RENEWAL);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                // Polled once at most: the loop ends with it.
                _ = &mut finished => return,
            }
            match account
                .update_visibility(queue, message, visibility.hidden_seconds())
                .await
            {
                Ok(Some(receipt)) => message.pop_receipt = receipt,
                Ok(None) => {
                    console.warning(format!(
                        "{tag} message {} is no longer on queue {queue}: it is not kept hidden any more",
                        message.id
                    ));
                    return;
                }
                // Perhaps a passing outage: the next renewal may succeed
                // before the message shows again.
                Err(e) => console.warning(format!(
                    "{tag} cannot keep message {} hidden: {e}; trying again in {:.1} s",
                    message.id,
                    pause.as_secs_f64()
                )),
            }
        }
    };
    let (output, ()) = tokio::join!(work, renewing);
    output
}
