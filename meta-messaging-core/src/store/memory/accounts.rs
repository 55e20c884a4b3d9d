//! The in-memory store's accounts and tenant routing.

use super::{InMemoryStore, not_found, tenant_check};
use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use crate::store::account::{Account, AccountStatus, NewAccount};
use crate::store::error::StoreError;
use crate::store::plan::now_ms;
use crate::store::stored_token::StoredToken;

impl InMemoryStore {
    pub(super) fn upsert_account_now(
        &self,
        tenant: &TenantId,
        new: &NewAccount,
    ) -> Result<Account, StoreError> {
        tenant_check(tenant)?;
        let now = now_ms();
        self.write(|tx| {
            let key = (tenant.clone(), new.platform, new.account_id.clone());
            let old = tx.state().accounts.get(&key);
            let account = Account {
                tenant_id: tenant.clone(),
                platform: new.platform,
                account_id: new.account_id.clone(),
                name: new.name.clone(),
                username: new.username.clone(),
                linked_page_id: new.linked_page_id.clone(),
                token: new.token.clone().map(StoredToken::from),
                token_expires_at_ms: new.token_expires_at_ms,
                status: new.status.clone(),
                last_event_at_ms: old.and_then(|a| a.last_event_at_ms),
                created_at_ms: old.map_or(now, |a| a.created_at_ms),
                updated_at_ms: now,
            };
            tx.put_account(account.clone())?;
            Ok(account)
        })
    }

    pub(super) fn accounts_of(&self, tenant: &TenantId) -> Vec<Account> {
        let state = self.lock();
        state
            .accounts
            .values()
            .filter(|a| a.tenant_id == *tenant)
            .cloned()
            .collect()
    }

    pub(super) fn set_status_now(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
        status: &AccountStatus,
    ) -> Result<Account, StoreError> {
        self.write(|tx| {
            let key = (tenant.clone(), platform, account_id.clone());
            let mut account = tx
                .state()
                .accounts
                .get(&key)
                .cloned()
                .ok_or_else(|| not_found("account", account_id))?;
            account.status = status.clone();
            account.updated_at_ms = now_ms();
            tx.put_account(account.clone())?;
            Ok(account)
        })
    }

    pub(super) fn tenants_of(&self, platform: Platform, account_id: &AccountId) -> Vec<TenantId> {
        let state = self.lock();
        state
            .accounts
            .values()
            .filter(|a| {
                a.platform == platform
                    && a.account_id == *account_id
                    && a.status != AccountStatus::Disconnected
            })
            .map(|a| a.tenant_id.clone())
            .collect()
    }
}
