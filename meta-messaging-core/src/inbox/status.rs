//! The status report of a tenant's connected accounts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Inbox;
use super::deliveries::{KindDeliveries, UnknownEvents};
use super::error::InboxError;
use crate::graph::Check;
use crate::ids::{AccountId, PageId, TenantId};
use crate::platform::Platform;
use crate::store::{AccountStatus, AccountToken, BackfillProgress, UnroutedTally};

/// The health of every account of a tenant, as `GET /status` returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct StatusReport {
    /// One entry per connected account.
    pub accounts: Vec<AccountStatusReport>,
}

/// The status of one account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[non_exhaustive]
pub struct AccountStatusReport {
    /// Messenger or Instagram.
    pub platform: Platform,
    /// The Page or Instagram account.
    pub account_id: AccountId,
    /// The Page's name or the Instagram username.
    pub name: Option<String>,
    /// The Page an Instagram account is linked to.
    pub linked_page_id: Option<PageId>,
    /// The stored status (`active`, `disconnected`, ...).
    pub status: AccountStatus,
    /// Whether the inbox holds a token it can send with.
    pub connected: bool,
    /// When the token expires (ms since the epoch); `null` when it does not expire or is unknown.
    pub token_expires_at_ms: Option<i64>,
    /// When the last webhook event for this account arrived (ms since the epoch).
    pub last_event_at_ms: Option<i64>,
    /// Events received for this account that no tenant received (kept, and replayed when a
    /// tenant connects it): the total of `unrouted`.
    pub unrouted_events: u64,
    /// The unrouted events by reason (`no_tenant`, `disconnected`, `unhandled_object`): how
    /// many, and when the last one arrived.
    pub unrouted: Vec<UnroutedTally>,
    /// The events received for this account per kind (`message`, `reaction`, `read`,
    /// `echo`, ...): when the last one arrived and how many, as every instance sharing the
    /// store saw them (kept in the store, so a restart keeps them). A kind that stopped
    /// arriving, or never came, points at a webhook field not subscribed (see the checks).
    pub deliveries: Vec<KindDeliveries>,
    /// The events received for this account that this version could not understand, by
    /// reason (at most 32 reasons per account), as every instance saw them.
    pub unknown_events: Vec<UnknownEvents>,
    /// The progress of the account's history backfill; `null` when none was started.
    pub backfill: Option<BackfillProgress>,
    /// The live checks against Meta (token, permissions, Instagram link, webhook
    /// subscription), when asked for with [`Inbox::status_checked`]; `null` otherwise, and for
    /// accounts without a Page token to check with.
    pub checks: Option<Vec<Check>>,
}

impl Inbox {
    /// The health of each of the tenant's accounts, from the store: token presence and expiry,
    /// last delivery time, the events no tenant received, by reason; and the delivery log, the
    /// last delivery and count per event kind and the events not understood, by reason, as the
    /// store keeps it (for every instance) plus what this instance has not added to it yet
    /// (it does every few seconds).
    ///
    /// # Errors
    /// [`InboxError::Store`].
    pub async fn status(&self, tenant: &TenantId) -> Result<StatusReport, InboxError> {
        let store = self.inner.store.as_ref();
        let mut accounts = Vec::new();
        for account in store.list_accounts(tenant).await? {
            let unrouted = store
                .unrouted_tallies(account.platform, &account.account_id)
                .await?;
            let (deliveries, unknown_events) = self
                .inner
                .deliveries
                .of(account.platform, &account.account_id)
                .await?;
            accounts.push(AccountStatusReport {
                platform: account.platform,
                account_id: account.account_id.clone(),
                name: account.name.clone().or(account.username.clone()),
                linked_page_id: account.linked_page_id.clone(),
                status: account.status.clone(),
                connected: account.token.is_some(),
                token_expires_at_ms: account.token_expires_at_ms,
                last_event_at_ms: account.last_event_at_ms,
                unrouted_events: unrouted.iter().map(|t| t.count).sum(),
                unrouted,
                deliveries,
                unknown_events,
                backfill: store
                    .backfill_progress(tenant, account.platform, &account.account_id)
                    .await?,
                checks: None,
            });
        }
        Ok(StatusReport { accounts })
    }

    /// [`status`](Inbox::status), plus live checks against Meta for every account with a Page
    /// token: that the token is valid and not about to expire, that it has the permissions
    /// messaging needs, that the Instagram account is linked to the Page, and that the app is
    /// subscribed to the Page's webhooks with the fields the inbox needs. One Graph report per
    /// Page, shared by the Page and its Instagram account. A failing check carries its fix; the
    /// call itself fails only when the store does. Meta is asked about a Page at most once per
    /// [`InboxBuilder::status_check_interval`](super::InboxBuilder::status_check_interval)
    /// (default a minute); within it, the last answer is reused.
    ///
    /// # Errors
    /// [`InboxError::Store`].
    pub async fn status_checked(&self, tenant: &TenantId) -> Result<StatusReport, InboxError> {
        let mut report = self.status(tenant).await?;
        let accounts = self.store().list_accounts(tenant).await?;
        let mut by_page: HashMap<PageId, Vec<Check>> = HashMap::new();
        for entry in &mut report.accounts {
            let account = accounts
                .iter()
                .find(|a| a.platform == entry.platform && a.account_id == entry.account_id);
            let Some(stored) = account.and_then(|a| a.token.as_ref()) else {
                continue;
            };
            // Opened here, not when listing: a token that does not open fails this account's
            // checks only.
            let token = match stored.open().await {
                Ok(AccountToken::Page(token)) => token,
                Ok(_) => continue,
                Err(err) => {
                    entry.checks = Some(vec![stored_token_check(&err)]);
                    continue;
                }
            };
            let page = match entry.platform {
                Platform::Messenger => PageId::new(entry.account_id.as_str()),
                _ => match &entry.linked_page_id {
                    Some(page) => page.clone(),
                    None => continue,
                },
            };
            if !by_page.contains_key(&page) {
                let checks = match self.inner.status_checks.recent(&page) {
                    Some(checks) => checks,
                    None => {
                        let checks = self
                            .graph()
                            .connection_report(token, Some(page.clone()))
                            .await
                            .checks;
                        self.inner.status_checks.keep(&page, &checks);
                        checks
                    }
                };
                by_page.insert(page.clone(), checks);
            }
            entry.checks = by_page.get(&page).cloned();
        }
        Ok(report)
    }
}

/// The last connection checks of each Page, reused while they are recent, so repeated status
/// requests cannot make the server call Meta in a loop. Two racing requests may both ask Meta
/// once; that is bounded, and simpler than making one wait for the other.
#[derive(Debug)]
pub(super) struct CheckCache {
    interval: Duration,
    checks: Mutex<HashMap<PageId, (Instant, Vec<Check>)>>,
}

impl CheckCache {
    pub(super) fn new(interval: Duration) -> Self {
        Self {
            interval,
            checks: Mutex::default(),
        }
    }

    fn recent(&self, page: &PageId) -> Option<Vec<Check>> {
        let checks = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        checks
            .get(page)
            .filter(|(at, _)| at.elapsed() < self.interval)
            .map(|(_, checks)| checks.clone())
    }

    fn keep(&self, page: &PageId, checks: &[Check]) {
        let mut all = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        // Entries of Pages no longer asked about would otherwise stay forever.
        all.retain(|_, (at, _)| at.elapsed() < self.interval);
        all.insert(page.clone(), (Instant::now(), checks.to_vec()));
    }
}

/// The failed check of an account whose stored token does not open.
fn stored_token_check(err: &crate::store::StoreError) -> Check {
    let cause = std::error::Error::source(err).map_or_else(|| err.to_string(), ToString::to_string);
    Check {
        id: "stored_token",
        title: "The stored access token opens with the configured token keys",
        status: crate::graph::CheckStatus::Fail,
        detail: cause,
        fix: Some(
            "Add the key the token was sealed with to META_TOKEN_KEY (after the current key), \
             or reconnect the account so its token is stored again under the current key."
                .to_owned(),
        ),
        docs: None,
        error_kind: None,
        fbtrace_id: None,
    }
}
