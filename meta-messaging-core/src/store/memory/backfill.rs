//! The in-memory store's backfill progress: one map under a lock of its own.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use crate::store::backfill::{BackfillProgress, BackfillState};

type Key = (TenantId, Platform, AccountId);

/// Progress by tenant, platform and account.
#[derive(Debug, Default)]
pub(super) struct BackfillRows(Mutex<HashMap<Key, BackfillProgress>>);

impl BackfillRows {
    fn lock(&self) -> MutexGuard<'_, HashMap<Key, BackfillProgress>> {
        // Each change is one map insert: a panic cannot leave a row half-written.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn save(&self, tenant: &TenantId, progress: BackfillProgress) {
        let key = (
            tenant.clone(),
            progress.platform,
            progress.account_id.clone(),
        );
        self.lock().insert(key, progress);
    }

    pub(super) fn get(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Option<BackfillProgress> {
        self.lock()
            .get(&(tenant.clone(), platform, account_id.clone()))
            .cloned()
    }

    pub(super) fn interrupted(&self) -> Vec<(TenantId, BackfillProgress)> {
        self.lock()
            .iter()
            .filter(|(_, p)| p.state == BackfillState::Running)
            .map(|((tenant, _, _), p)| (tenant.clone(), p.clone()))
            .collect()
    }
}
