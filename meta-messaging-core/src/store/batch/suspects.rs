//! [`Suspects`]: the plans that recently failed alone, remembered by a fingerprint of what they
//! write, so that their redelivery is written alone instead of failing a batch again.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, MutexGuard};

use super::Request;
use crate::store::plan::{Op, Plan};

/// Most fingerprints remembered; the oldest is forgotten first. A plan that keeps failing is
/// remembered again each time it fails, so this only has to outlast Meta's first redelivery.
const CAPACITY: usize = 1024;

/// Fingerprints of plans that failed alone, oldest first.
#[derive(Debug, Default)]
pub(super) struct Suspects(Mutex<Remembered>);

#[derive(Debug, Default)]
struct Remembered {
    order: VecDeque<u64>,
    set: HashSet<u64>,
}

impl Suspects {
    fn lock(&self) -> MutexGuard<'_, Remembered> {
        // Every change below leaves the two collections consistent before it can panic.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Splits a batch into the requests that failed alone recently and the others.
    pub(super) fn split(
        &self,
        requests: impl Iterator<Item = Request>,
    ) -> (Vec<Request>, Vec<Request>) {
        let remembered = self.lock();
        if remembered.set.is_empty() {
            return (Vec::new(), requests.collect());
        }
        requests.partition(|r| remembered.set.contains(&r.fingerprint))
    }

    /// Remembers a plan that failed alone.
    pub(super) fn remember(&self, fingerprint: u64) {
        let mut remembered = self.lock();
        if remembered.set.insert(fingerprint) {
            remembered.order.push_back(fingerprint);
        }
        if remembered.order.len() > CAPACITY
            && let Some(oldest) = remembered.order.pop_front()
        {
            remembered.set.remove(&oldest);
        }
    }

    /// Forgets plans that committed.
    pub(super) fn forget(&self, fingerprints: &[u64]) {
        let mut remembered = self.lock();
        if remembered.set.is_empty() {
            return;
        }
        let before = remembered.set.len();
        for fingerprint in fingerprints {
            remembered.set.remove(fingerprint);
        }
        if remembered.set.len() != before {
            let Remembered { order, set } = &mut *remembered;
            order.retain(|f| set.contains(f));
        }
    }
}

/// What identifies a plan across redeliveries: the rows it writes (message keys, the content
/// hash of each event it keeps or applies, account touches), not when it arrived. Two plans
/// with one fingerprint are the same delivery, or a collision, which only makes a plan be
/// written alone once.
pub(super) fn fingerprint(plan: &Plan) -> u64 {
    let mut h = DefaultHasher::new();
    plan.messages.len().hash(&mut h);
    for m in &plan.messages {
        (&m.tenant_id, m.platform, &m.message_id, m.direction).hash(&mut h);
        m.timestamp_ms.hash(&mut h);
    }
    plan.ops.len().hash(&mut h);
    for op in &plan.ops {
        match op {
            Op::React { orphan, .. }
            | Op::Edit { orphan, .. }
            | Op::Delete { orphan, .. }
            | Op::Hide { orphan, .. } => {
                (&orphan.tenant_id, &orphan.event_hash).hash(&mut h);
            }
            Op::Receipt {
                read, timestamp_ms, ..
            } => (read, timestamp_ms).hash(&mut h),
        }
    }
    plan.raw.len().hash(&mut h);
    for raw in &plan.raw {
        (&raw.tenant_id, &raw.event_hash).hash(&mut h);
    }
    for t in &plan.touches {
        (&t.tenant_id, t.platform, &t.account_id, t.at_ms).hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_is_forgotten_first() {
        let suspects = Suspects::default();
        for f in 0..=CAPACITY as u64 {
            suspects.remember(f);
        }
        let remembered = suspects.lock();
        assert_eq!(remembered.set.len(), CAPACITY);
        assert!(!remembered.set.contains(&0));
        assert!(remembered.set.contains(&(CAPACITY as u64)));
        assert_eq!(remembered.order.len(), CAPACITY);
    }

    #[test]
    fn a_plan_that_commits_is_forgotten() {
        let suspects = Suspects::default();
        suspects.remember(1);
        suspects.remember(2);
        suspects.forget(&[1, 3]);
        let remembered = suspects.lock();
        assert_eq!(remembered.order, [2]);
        assert_eq!(remembered.set.len(), 1);
    }
}
