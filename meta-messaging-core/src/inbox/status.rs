//! The status report of a tenant's connected accounts.

use serde::Serialize;

use crate::ids::{AccountId, PageId};
use crate::platform::Platform;

/// The health of every account of a tenant, as `GET /status` returns it.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct StatusReport {
    /// One entry per connected account.
    pub accounts: Vec<AccountStatusReport>,
}

/// The status of one account.
#[derive(Debug, Clone, Serialize)]
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
    pub status: String,
    /// Whether the inbox holds a token it can send with.
    pub connected: bool,
    /// When the token expires (ms since the epoch); `null` when it does not expire or is unknown.
    pub token_expires_at_ms: Option<i64>,
    /// When the last webhook event for this account arrived (ms since the epoch).
    pub last_event_at_ms: Option<i64>,
    /// Events received for this account while no tenant had connected it.
    pub unrouted_events: u64,
}
