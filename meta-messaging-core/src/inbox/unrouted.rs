//! `Inbox::replay_unrouted`: the events an account received before any tenant connected it,
//! applied for the tenant that connects it.

use super::Inbox;
use super::error::InboxError;
use crate::error::ErrorChain;
use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use crate::store::{ApplyReport, TenantEvent};

/// Unrouted events read and applied at a time.
const REPLAY_PAGE: u32 = 200;

impl Inbox {
    /// Applies for `tenant` every event kept for the account while no tenant had connected it
    /// ([`MessageStore::record_unrouted`](crate::store::MessageStore::record_unrouted)), oldest
    /// first, so the tenant's inbox starts with what its customers already wrote. The connect
    /// flow calls it for each account it connects; call it after connecting an account with
    /// [`MessageStore::upsert_account`](crate::store::MessageStore::upsert_account) yourself.
    ///
    /// The replayed events are not run by the [`EventHandler`](super::EventHandler)s: they
    /// can be days old (a bot would answer long-gone customers, outside Meta's window).
    /// The events stay kept (another tenant may connect the account too), and applying is
    /// idempotent, so replaying twice changes nothing the second time. A kept event that no
    /// longer reads as an event is logged and skipped.
    ///
    /// # Errors
    /// [`InboxError::Store`] when reading or applying fails; what was applied before stays.
    pub async fn replay_unrouted(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<ApplyReport, InboxError> {
        // The account routes somewhere now: deliveries must not keep the cached "no tenant".
        self.inner.router.forget_routes();
        let store = self.store();
        let mut total = ApplyReport::default();
        let mut after = 0;
        loop {
            let page = store
                .unrouted_events(platform, account_id, after, REPLAY_PAGE)
                .await?;
            let Some(last) = page.last() else {
                return Ok(total);
            };
            after = last.id;
            let mut events = Vec::new();
            for kept in &page {
                match kept.to_events() {
                    Ok(parsed) => events.extend(
                        parsed
                            .into_iter()
                            .map(|event| TenantEvent::new(tenant.clone(), event)),
                    ),
                    Err(err) => tracing::warn!(
                        error = %ErrorChain(&err),
                        id = kept.id,
                        "an unrouted event no longer reads as an event: not replayed"
                    ),
                }
            }
            if !events.is_empty() {
                let report = store.apply(&events).await?;
                total.inserted += report.inserted;
                total.updated += report.updated;
                total.raw_kept += report.raw_kept;
                total.duplicates += report.duplicates;
            }
        }
    }
}
