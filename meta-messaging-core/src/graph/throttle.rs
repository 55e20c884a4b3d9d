//! An optional per-account throttle that keeps sends under Meta's per-Page rate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Spaces sends of each account (Page or Instagram account) to at most `rate` per second,
/// allowing short bursts of up to `burst` sends.
///
/// It is a generic cell rate algorithm: each account has a "theoretical arrival time"; a send
/// reserves the next slot and sleeps until it, so concurrent senders are queued fairly without
/// a background task. Accounts do not slow each other down.
#[derive(Debug)]
pub struct Throttle {
    interval: Duration,
    tolerance: Duration,
    slots: Mutex<HashMap<String, Instant>>,
}

impl Throttle {
    /// At most `per_second` sends per second per account (at least 1), bursts of up to
    /// `per_second` sends allowed.
    pub fn per_second(per_second: u32) -> Self {
        Self::new(per_second, per_second)
    }

    /// At most `per_second` sends per second per account, bursts of up to `burst` sends.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let interval = Duration::from_secs(1) / per_second.max(1);
        Self {
            interval,
            tolerance: interval * burst.max(1).saturating_sub(1),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The spacing between two sends of one account.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits until `account` may send once more, and reserves that send.
    pub(crate) async fn acquire(&self, account: &str) {
        let wait_until = {
            let now = Instant::now();
            // A poisoned lock only means another task panicked mid-update; the map is still valid.
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            let tat = slots.get(account).copied().unwrap_or(now).max(now);
            let allowed_at = tat.checked_sub(self.tolerance).unwrap_or(now).max(now);
            slots.insert(account.to_owned(), tat + self.interval);
            if slots.len() > 10_000 {
                slots.retain(|_, t| *t > now);
            }
            allowed_at
        };
        tokio::time::sleep_until(wait_until).await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_sends_after_the_burst() {
        let throttle = Throttle::new(10, 2);
        let start = Instant::now();
        for _ in 0..6 {
            throttle.acquire("page").await;
        }
        // Two sends pass at once, the next four are spaced 100 ms apart.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
        let other = Instant::now();
        throttle.acquire("other-page").await;
        assert_eq!(other.elapsed(), Duration::ZERO);
    }
}
