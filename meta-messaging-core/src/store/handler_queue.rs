//! The event handlers' work queue: the events that changed each tenant's inbox, kept as Meta
//! sent them and numbered per tenant, and each handler's durable cursor per tenant with a
//! lease, so that instances sharing a database split the work and a crashed one's work is
//! taken over when its lease ends.
//!
//! An event is queued once per tenant: a redelivery (same platform, account, kind and JSON) is
//! recognized by its hash for as long as the queue keeps the first one (the change log's
//! retention, and never while a handler still has to run it).

use super::api::RawEvent;
use super::plan::{RawRow, raw_row};
use crate::ids::TenantId;

/// Most events one [`MessageStore::handler_events_after`](super::MessageStore::handler_events_after)
/// call returns.
pub const MAX_HANDLER_EVENTS_PAGE: u32 = 500;

/// One queued event: its tenant's sequence number and the event as it was received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct QueuedEvent {
    /// The tenant's queue sequence number: 1 for its first event, then one more for each.
    pub seq: u64,
    /// The event, kept whole (its `id` is `seq`); [`RawEvent::to_events`] parses it again.
    pub event: RawEvent,
}

/// A tenant whose events a handler has leased: nobody else runs them until the lease ends or
/// is released.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandlerLease {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The last event the handler finished (0: none); the next to run is the one after it.
    pub cursor: u64,
    /// How many times the event after the cursor failed.
    pub attempts: u32,
}

/// What a lease request names: the handler, who asks, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaseRequest {
    /// The handler's stable name (see `EventHandler::name`).
    pub handler: String,
    /// Who holds the lease: unique per running handler loop (an instance id).
    pub owner: String,
    /// Now, in ms since the epoch: leases that ended at or before it are free.
    pub now_ms: i64,
    /// When the lease ends unless released, in ms since the epoch.
    pub until_ms: i64,
}

impl LeaseRequest {
    /// A request for `handler`, by `owner`, from `now_ms` to `until_ms`.
    pub fn new(
        handler: impl Into<String>,
        owner: impl Into<String>,
        now_ms: i64,
        until_ms: i64,
    ) -> Self {
        Self {
            handler: handler.into(),
            owner: owner.into(),
            now_ms,
            until_ms,
        }
    }
}

/// The page size a `handler_events_after` limit asks for.
pub(crate) fn handler_page_size(limit: u32) -> Result<usize, super::StoreError> {
    if limit == 0 {
        return Err(super::StoreError::invalid("a page size of 0"));
    }
    Ok(limit.min(MAX_HANDLER_EVENTS_PAGE) as usize)
}

/// The events to queue per tenant, tenants sorted (every writer takes the tenants' queue heads
/// in one order, so concurrent writers cannot deadlock), each event once (by hash), in order.
pub(crate) fn queue_rows(events: &[super::TenantEvent]) -> Vec<(TenantId, Vec<RawRow>)> {
    let mut tenants: std::collections::BTreeMap<TenantId, Vec<RawRow>> = Default::default();
    for event in events {
        let row = raw_row(event.tenant_id.clone(), &event.event, None);
        let rows = tenants.entry(row.tenant_id.clone()).or_default();
        if !rows.iter().any(|r| r.event_hash == row.event_hash) {
            rows.push(row);
        }
    }
    tenants.into_iter().collect()
}

/// A queued event as read back.
pub(crate) fn queued_event(seq: u64, row: &RawRow) -> Result<QueuedEvent, super::StoreError> {
    Ok(QueuedEvent {
        seq,
        event: RawEvent {
            id: i64::try_from(seq).unwrap_or(i64::MAX),
            tenant_id: row.tenant_id.clone(),
            platform: row.platform,
            account_id: row.account_id.clone(),
            kind: row.kind.clone(),
            reason: None,
            timestamp_ms: row.timestamp_ms,
            received_at_ms: row.received_at_ms,
            raw: serde_json::from_str(&row.raw).map_err(|source| super::StoreError::Corrupt {
                what: "handler_events.event",
                source,
            })?,
        },
    })
}
