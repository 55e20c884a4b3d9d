//! [`FailPoint`]: makes a chosen write of a store fail, to prove that failed writes are
//! all-or-nothing. A test helper (feature `test-util`): without it the stores carry a no-op in
//! its place, which the compiler removes.

#[cfg(any(test, feature = "test-util"))]
use std::sync::Arc;
#[cfg(any(test, feature = "test-util"))]
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::StoreError;

/// The stand-in for [`FailPoint`] when the `test-util` feature is off: never fails.
#[cfg(not(any(test, feature = "test-util")))]
#[derive(Debug, Clone, Default)]
pub(crate) struct FailPoint {}

#[cfg(not(any(test, feature = "test-util")))]
impl FailPoint {
    /// Counts one write statement: nothing to count without the `test-util` feature.
    #[inline]
    #[allow(
        clippy::unused_self,
        clippy::unnecessary_wraps,
        reason = "the same call as the test-util FailPoint's"
    )]
    pub(crate) fn hit(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A switch inside a store that makes one of its next write statements fail with
/// [`StoreError::InjectedFailure`], in the middle of a transaction.
///
/// Each backend checks it before every write statement of `apply` and `record_outbound`.
/// Disarmed (the default) it costs one atomic load. Arm it through the store's `fail_point()`
/// accessor.
#[cfg(any(test, feature = "test-util"))]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
#[derive(Debug, Clone, Default)]
pub struct FailPoint(Arc<AtomicU64>);

#[cfg(any(test, feature = "test-util"))]
impl FailPoint {
    /// Counts one write statement; fails it when it is the armed one.
    pub(crate) fn hit(&self) -> Result<(), StoreError> {
        if self.0.load(Ordering::Relaxed) == 0 {
            return Ok(());
        }
        let before = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .unwrap_or(0);
        if before == 1 {
            Err(StoreError::InjectedFailure)
        } else {
            Ok(())
        }
    }

    /// Lets `writes` more write statements through, then fails the next one (once).
    pub fn fail_after(&self, writes: u64) {
        self.0.store(writes.saturating_add(1), Ordering::SeqCst);
    }

    /// True while a failure is still pending.
    pub fn is_armed(&self) -> bool {
        self.0.load(Ordering::SeqCst) != 0
    }

    /// Cancels a pending failure.
    pub fn disarm(&self) {
        self.0.store(0, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
