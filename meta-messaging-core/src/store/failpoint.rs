//! [`FailPoint`]: makes chosen writes of a store fail, to prove that failed writes are
//! all-or-nothing and that a failing write fails alone. A test helper (feature `test-util`):
//! without it the stores carry a no-op in its place, which the compiler removes.

#[cfg(any(test, feature = "test-util"))]
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(any(test, feature = "test-util"))]
use std::sync::{Arc, Mutex};

use super::error::StoreError;
#[cfg(any(test, feature = "test-util"))]
use super::nul::Clean;
use super::plan::Plan;
#[cfg(any(test, feature = "test-util"))]
use crate::ids::MessageId;

/// The stand-in for [`FailPoint`] when the `test-util` feature is off: never fails.
#[cfg(not(any(test, feature = "test-util")))]
#[derive(Debug, Clone, Default)]
pub(crate) struct FailPoint {}

#[cfg(not(any(test, feature = "test-util")))]
#[allow(
    clippy::unused_self,
    clippy::unnecessary_wraps,
    reason = "the same calls as the test-util FailPoint's"
)]
impl FailPoint {
    /// Counts one write statement: nothing to count without the `test-util` feature.
    #[inline]
    pub(crate) fn hit(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Runs a transaction of these plans: nothing to arm without the `test-util` feature.
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres")),
        allow(
            dead_code,
            reason = "only the SQL backends run transactions of several plans"
        )
    )]
    #[inline]
    pub(crate) async fn transaction<F: Future>(
        &self,
        _plans: &[Plan],
        transaction: F,
    ) -> F::Output {
        transaction.await
    }

    /// Runs a transaction of this plan: nothing to arm without the `test-util` feature.
    #[inline]
    pub(crate) fn transaction_sync<T>(&self, _plan: &Plan, transaction: impl FnOnce() -> T) -> T {
        transaction()
    }
}

/// A switch inside a store that makes some of its writes fail with
/// [`StoreError::InjectedFailure`], in the middle of a transaction: one of its next write
/// statements ([`fail_after`](Self::fail_after)), or every transaction that writes a given
/// message ([`fail_writes_of`](Self::fail_writes_of)).
///
/// Each backend checks it before every write statement of `apply` and `record_outbound`.
/// Disarmed (the default) it costs an atomic load and a task-local lookup. Arm it through the
/// store's `fail_point()` accessor.
#[cfg(any(test, feature = "test-util"))]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
#[derive(Debug, Clone, Default)]
pub struct FailPoint(Arc<Switch>);

#[cfg(any(test, feature = "test-util"))]
#[derive(Debug, Default)]
struct Switch {
    /// Write statements to let through before failing one, plus one; 0 when disarmed.
    countdown: AtomicU64,
    /// The message whose transactions fail.
    message: Mutex<Option<MessageId>>,
}

#[cfg(any(test, feature = "test-util"))]
tokio::task_local! {
    /// Set while a transaction runs that writes the message a fail point was armed with:
    /// the write statements of a transaction do not see its plans, the task they run in does.
    static DOOMED: bool;
}

#[cfg(any(test, feature = "test-util"))]
impl FailPoint {
    /// Counts one write statement; fails it when it is the armed one, or when its transaction
    /// writes the armed message.
    pub(crate) fn hit(&self) -> Result<(), StoreError> {
        if DOOMED.try_with(|doomed| *doomed).unwrap_or(false) {
            return Err(StoreError::InjectedFailure);
        }
        if self.0.countdown.load(Ordering::Relaxed) == 0 {
            return Ok(());
        }
        let before = self
            .0
            .countdown
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .unwrap_or(0);
        if before == 1 {
            Err(StoreError::InjectedFailure)
        } else {
            Ok(())
        }
    }

    /// Runs a transaction of these plans; its write statements fail if one of the plans writes
    /// the armed message.
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres")),
        allow(
            dead_code,
            reason = "only the SQL backends run transactions of several plans"
        )
    )]
    pub(crate) async fn transaction<F: Future>(&self, plans: &[Plan], transaction: F) -> F::Output {
        if self.dooms(plans) {
            DOOMED.scope(true, transaction).await
        } else {
            transaction.await
        }
    }

    /// [`transaction`](Self::transaction) for a store that writes synchronously.
    pub(crate) fn transaction_sync<T>(&self, plan: &Plan, transaction: impl FnOnce() -> T) -> T {
        if self.dooms(std::slice::from_ref(plan)) {
            DOOMED.sync_scope(true, transaction)
        } else {
            transaction()
        }
    }

    fn armed_message(&self) -> std::sync::MutexGuard<'_, Option<MessageId>> {
        // The value is replaced whole; a panic cannot leave it half-written.
        self.0
            .message
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn dooms(&self, plans: &[Plan]) -> bool {
        let armed = self.armed_message();
        armed.as_ref().is_some_and(|mid| {
            plans
                .iter()
                .flat_map(|p| &p.messages)
                .any(|m| m.message_id == *mid)
        })
    }

    /// Lets `writes` more write statements through, then fails the next one (once).
    pub fn fail_after(&self, writes: u64) {
        self.0
            .countdown
            .store(writes.saturating_add(1), Ordering::SeqCst);
    }

    /// Fails every transaction that writes a message with this id (inserts or merges it), at
    /// its first write statement, until [`disarm`](Self::disarm)ed. A SQL store's transaction
    /// carries a batch of concurrent writes: the others must still be stored.
    pub fn fail_writes_of(&self, message_id: impl Into<MessageId>) {
        let mut message_id = message_id.into();
        // Plans hold ids as the store keeps them.
        message_id.clean();
        *self.armed_message() = Some(message_id);
    }

    /// True while a failure is still pending.
    pub fn is_armed(&self) -> bool {
        self.0.countdown.load(Ordering::SeqCst) != 0 || self.armed_message().is_some()
    }

    /// Cancels every pending failure.
    pub fn disarm(&self) {
        self.0.countdown.store(0, Ordering::SeqCst);
        *self.armed_message() = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TenantId;
    use crate::platform::Platform;
    use crate::store::api::OutboundMessage;

    #[test]
    fn fails_exactly_the_armed_write() {
        let fp = FailPoint::default();
        assert!(fp.hit().is_ok());
        fp.fail_after(2);
        assert!(fp.hit().is_ok());
        assert!(fp.hit().is_ok());
        assert!(matches!(fp.hit(), Err(StoreError::InjectedFailure)));
        assert!(fp.hit().is_ok());
        assert!(!fp.is_armed());
    }

    #[tokio::test]
    async fn fails_every_transaction_that_writes_the_armed_message() {
        let plan = |mid: &str| {
            let message = OutboundMessage::new(Platform::Messenger, "page", "user", mid, 1);
            Plan::from_outbound(&TenantId::new("acme"), &message)
        };
        let fp = FailPoint::default();
        fp.fail_writes_of("m_bad");
        assert!(fp.is_armed());
        let (good, bad) = (plan("m_good"), plan("m_bad"));
        let both = [good.clone(), bad.clone()];
        let result = fp.transaction(&both, async { fp.hit() }).await;
        assert!(matches!(result, Err(StoreError::InjectedFailure)));
        assert!(fp.transaction_sync(&bad, || fp.hit()).is_err());
        assert!(
            fp.transaction(std::slice::from_ref(&good), async { fp.hit() })
                .await
                .is_ok()
        );
        // Outside a transaction, and after it, nothing fails.
        assert!(fp.hit().is_ok());
        fp.disarm();
        assert!(!fp.is_armed());
        assert!(fp.transaction(&both, async { fp.hit() }).await.is_ok());
    }
}
