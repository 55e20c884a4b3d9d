//! What each account received, per event kind: the last time and how often, and the events
//! this version could not understand, by reason. `GET /status` shows it so a silence
//! ("reactions stopped on Tuesday") can be seen next to the checks that explain it.
//!
//! A delivery only adds to a buffer in memory; a background task adds the buffer to the store's
//! log every [`FLUSH_EVERY`] ([`MessageStore::record_deliveries`]), and so does a graceful
//! shutdown. The status shows the store's log plus the buffer, so instances sharing a database
//! add up and a restart keeps the history.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Inbox;
use crate::error::ErrorChain;
use crate::ids::AccountId;
use crate::platform::Platform;
use crate::store::{DeliveryTallies, DeliveryTally, MessageStore, StoreError, Tallied, now_ms};
use crate::webhook::Event;

/// How often the buffered tallies are added to the store.
const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// The deliveries of one kind of event to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct KindDeliveries {
    /// The event kind (`message`, `reaction`, `read`, `echo`, ...).
    pub kind: String,
    /// When the last one arrived (ms since the epoch).
    pub last_at_ms: i64,
    /// How many arrived.
    pub count: u64,
}

/// Events of an account that this version could not understand, grouped by why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct UnknownEvents {
    /// Why they were not understood (the parser's reason).
    pub reason: String,
    /// How many arrived.
    pub count: u64,
    /// When the last one arrived (ms since the epoch).
    pub last_at_ms: i64,
}

/// The delivery log of this instance: the tallies it has not added to the store yet, and the
/// store to add them to.
#[derive(Debug)]
pub(super) struct DeliveryLog {
    store: Arc<dyn MessageStore>,
    /// What arrived since the last flush. A blocking mutex: a delivery only adds to it.
    buffer: Mutex<DeliveryTallies>,
    /// Written by a flush, read by the status: a status sees each tally once, in the buffer
    /// or in the store, never in both or in neither.
    flushing: tokio::sync::RwLock<()>,
    /// Set once the background flush runs.
    flusher: std::sync::OnceLock<()>,
}

impl DeliveryLog {
    pub(super) fn new(store: Arc<dyn MessageStore>) -> Self {
        Self {
            store,
            buffer: Mutex::default(),
            flushing: tokio::sync::RwLock::new(()),
            flusher: std::sync::OnceLock::new(),
        }
    }

    fn buffer(&self) -> MutexGuard<'_, DeliveryTallies> {
        // Each tally is added whole under the lock: a panic cannot leave one half-added.
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes the events of one verified delivery (in memory only: no write on this path).
    pub(super) fn record(&self, events: &[Event]) {
        self.buffer().count_events(events, now_ms());
    }

    /// Starts the background flush, once, on the current Tokio runtime. It ends when the
    /// inbox is dropped.
    pub(super) fn ensure_flushing(self: &Arc<Self>) {
        if self.flusher.set(()).is_ok() {
            tokio::spawn(flush_every(Arc::downgrade(self), FLUSH_EVERY));
        }
    }

    /// Adds the buffer to the store. When that fails the tallies go back into the buffer,
    /// ahead of what arrived meanwhile, for the next flush.
    pub(super) async fn flush(&self) -> Result<(), StoreError> {
        let _writing = self.flushing.write().await;
        let taken = std::mem::take(&mut *self.buffer());
        if taken.is_empty() {
            return Ok(());
        }
        let result = self.store.record_deliveries(&taken.to_vec()).await;
        if result.is_err() {
            let mut buffer = self.buffer();
            let newer = std::mem::replace(&mut *buffer, taken);
            for tally in newer.to_vec() {
                buffer.add(&tally);
            }
        }
        result
    }

    /// What the account received, per kind (sorted by kind), and its unknown events by
    /// reason: the store's log plus this instance's buffer.
    pub(super) async fn of(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<(Vec<KindDeliveries>, Vec<UnknownEvents>), StoreError> {
        let _reading = self.flushing.read().await;
        let stored = self.store.delivery_tallies(platform, account_id).await?;
        let buffered = self.buffer().of(platform, account_id);
        let mut all = DeliveryTallies::default();
        for tally in stored.iter().chain(&buffered) {
            all.add(tally);
        }
        let (mut kinds, mut unknown) = (Vec::new(), Vec::new());
        for DeliveryTally {
            tallied,
            count,
            last_at_ms,
            ..
        } in all.of(platform, account_id)
        {
            match tallied {
                Tallied::Kind(kind) => kinds.push(KindDeliveries {
                    kind,
                    last_at_ms,
                    count,
                }),
                Tallied::UnknownReason(reason) => unknown.push(UnknownEvents {
                    reason,
                    count,
                    last_at_ms,
                }),
            }
        }
        Ok((kinds, unknown))
    }

    /// [`flush`](Self::flush), logging a failure.
    async fn flush_logged(&self) {
        if let Err(err) = self.flush().await {
            tracing::warn!(
                error = %ErrorChain(&err),
                "adding the delivery log to the store failed; its tallies are kept for the next try"
            );
        }
    }
}

/// Flushes the log every `every` until the inbox is gone.
async fn flush_every(log: Weak<DeliveryLog>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(log) = log.upgrade() else { return };
        log.flush_logged().await;
    }
}

impl Inbox {
    /// Adds the buffered delivery tallies to the store before `deadline`, for a graceful
    /// shutdown; a failure or a timeout is logged.
    pub(super) async fn flush_deliveries(&self, deadline: Instant) {
        let left = deadline.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, self.inner.deliveries.flush_logged())
            .await
            .is_err()
        {
            tracing::warn!("shutdown: the delivery log was not added to the store in time");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::InMemoryStore;

    fn events(account: &str, texts: usize) -> Vec<Event> {
        let items: Vec<_> = (0..texts)
            .map(|n| {
                serde_json::json!({"sender": {"id": "6758492015643287"},
                    "recipient": {"id": account}, "timestamp": 1_700_000_000_000_i64,
                    "message": {"mid": format!("m_{n}"), "text": "hi"}})
            })
            .collect();
        let body = serde_json::json!({"object": "page",
            "entry": [{"id": account, "time": 1_700_000_000_000_i64, "messaging": items}]});
        crate::webhook::parse(body.to_string().as_bytes()).expect("parses")
    }

    /// A flush that fails keeps its tallies for the next one: nothing is lost, nothing is
    /// counted twice, and the status counts them meanwhile.
    #[tokio::test]
    async fn a_failed_flush_keeps_its_tallies_for_the_next() {
        let store = Arc::new(InMemoryStore::new());
        let log = DeliveryLog::new(store.clone());
        let account = AccountId::new("104417552380421");
        let messages = |(kinds, _): (Vec<KindDeliveries>, Vec<UnknownEvents>)| {
            kinds.iter().map(|k| k.count).sum::<u64>()
        };
        log.record(&events(account.as_str(), 2));
        store.fail_point().fail_after(0);
        assert!(log.flush().await.is_err());
        log.record(&events(account.as_str(), 1));
        let of = || log.of(Platform::Messenger, &account);
        assert_eq!(messages(of().await.expect("status")), 3);
        log.flush().await.expect("flushes");
        let stored = store
            .delivery_tallies(Platform::Messenger, &account)
            .await
            .expect("reads");
        assert_eq!(stored.len(), 1, "{stored:?}");
        assert_eq!(stored[0].count, 3);
        assert_eq!(messages(of().await.expect("status")), 3);
        log.flush().await.expect("nothing left to flush");
        assert_eq!(messages(of().await.expect("status")), 3);
    }
}
