//! The in-memory store's idempotency records: one map under a lock of its own, apart from the
//! message tables, so a claim never waits for a webhook write.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::ids::TenantId;
use crate::store::error::StoreError;
use crate::store::idempotency::{
    IdempotencyClaim, IdempotencyClaimRequest, IdempotencyKey, IdempotentAnswer,
    RequestFingerprint, existing_claim,
};

#[derive(Debug)]
struct Record {
    fingerprint: RequestFingerprint,
    claimed_at_ms: i64,
    expires_at_ms: i64,
    answer: Option<IdempotentAnswer>,
}

/// Records by tenant and key.
#[derive(Debug, Default)]
pub(super) struct IdempotencyRecords(Mutex<HashMap<(TenantId, String), Record>>);

impl IdempotencyRecords {
    fn lock(&self) -> MutexGuard<'_, HashMap<(TenantId, String), Record>> {
        // Every change below is one map operation: a panic cannot leave a record half-made.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn claim(
        &self,
        tenant: &TenantId,
        claim: &IdempotencyClaimRequest,
    ) -> IdempotencyClaim {
        let mut records = self.lock();
        let id = (tenant.clone(), claim.key.as_str().to_owned());
        if let Some(live) = records.get(&id).filter(|r| r.expires_at_ms > claim.now_ms) {
            return existing_claim(
                &claim.fingerprint,
                live.fingerprint.as_str(),
                live.claimed_at_ms,
                live.answer.clone(),
            );
        }
        records.insert(
            id,
            Record {
                fingerprint: claim.fingerprint.clone(),
                claimed_at_ms: claim.now_ms,
                expires_at_ms: claim.expires_at_ms,
                answer: None,
            },
        );
        IdempotencyClaim::Claimed
    }

    pub(super) fn finish(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
        answer: &IdempotentAnswer,
    ) -> Result<(), StoreError> {
        let mut records = self.lock();
        let id = (tenant.clone(), key.as_str().to_owned());
        match records.get_mut(&id).filter(|r| r.answer.is_none()) {
            Some(record) => {
                record.answer = Some(answer.clone());
                Ok(())
            }
            None => Err(super::not_found("idempotency key in flight", key)),
        }
    }

    pub(super) fn release(&self, tenant: &TenantId, key: &IdempotencyKey) {
        let mut records = self.lock();
        let id = (tenant.clone(), key.as_str().to_owned());
        if records.get(&id).is_some_and(|r| r.answer.is_none()) {
            records.remove(&id);
        }
    }

    pub(super) fn prune(&self, now_ms: i64) -> u64 {
        let mut records = self.lock();
        let before = records.len();
        records.retain(|_, r| r.expires_at_ms > now_ms);
        (before - records.len()) as u64
    }
}
