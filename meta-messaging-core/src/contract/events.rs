//! `GET /events`: a live event stream, counted against its tenant's limit while it is open.

use crate::ids::TenantId;
use crate::inbox::{Inbox, InboxError, Subscription};

/// A tenant's live events for one `GET /events` response; holds one of the tenant's
/// [`InboxBuilder::max_event_streams_per_tenant`](crate::inbox::InboxBuilder::max_event_streams_per_tenant)
/// places until it is dropped (the client went away, or the server closed the stream).
#[derive(Debug)]
pub struct EventStream {
    pub(crate) subscription: Subscription,
    /// Turns `true` when the inbox drains: the stream then ends with a reconnect hint.
    pub(crate) draining: tokio::sync::watch::Receiver<bool>,
}

impl EventStream {
    /// A stream of `tenant`'s events after the change `after` (from the head when `None`), or
    /// `None` when the tenant has as many open as allowed.
    ///
    /// # Errors
    /// [`InboxError::Store`] when the change log cannot be read.
    pub(crate) async fn open(
        inbox: &Inbox,
        tenant: &TenantId,
        after: Option<u64>,
    ) -> Result<Option<Self>, InboxError> {
        let subscription = inbox
            .subscription_within(tenant, after, inbox.max_event_streams())
            .await?;
        Ok(subscription.map(|subscription| Self {
            subscription,
            draining: inbox.draining(),
        }))
    }
}
