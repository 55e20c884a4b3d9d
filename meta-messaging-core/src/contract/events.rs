//! `GET /events`: a live event stream, counted against its tenant's limit while it is open.

use crate::ids::TenantId;
use crate::inbox::{Inbox, Subscription};

/// A tenant's live events for one `GET /events` response; holds one of the tenant's
/// [`InboxBuilder::max_event_streams_per_tenant`](crate::inbox::InboxBuilder::max_event_streams_per_tenant)
/// places until it is dropped (the client went away, or the server closed the stream).
#[derive(Debug)]
pub struct EventStream {
    pub(crate) subscription: Subscription,
}

impl EventStream {
    /// A stream of `tenant`'s events, or `None` when the tenant has as many open as allowed.
    pub(crate) fn open(inbox: &Inbox, tenant: &TenantId) -> Option<Self> {
        inbox
            .subscribe_within_limit(tenant)
            .map(|subscription| Self { subscription })
    }
}
