//! Live updates: a bounded broadcast of inbox changes per tenant.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::Stream;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::ids::TenantId;
use crate::store::{Conversation, StoredMessage};

/// A change in a tenant's inbox, as sent to live subscribers (and, in JSON, over Server-Sent
/// Events: the `type` is the SSE event name).
///
/// Messages in live events never carry [`StoredMessage::raw_event`]: Meta's raw JSON can hold
/// other people's data (a shared post's author, a referral's ad), and every subscriber of the
/// tenant gets every event. Read it from the store
/// ([`MessageQuery::include_raw`](crate::store::MessageQuery::include_raw)) where it is needed.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum InboxEvent {
    /// A message was stored for the first time (inbound, or sent through the inbox).
    MessageStored {
        /// The message as stored.
        message: Box<StoredMessage>,
    },
    /// A stored message changed: an echo merged, a reaction, an edit, a deletion, a receipt.
    MessageUpdated {
        /// The message as it is now.
        message: Box<StoredMessage>,
    },
    /// A conversation's preview, unread count or state changed.
    ConversationUpdated {
        /// The conversation as it is now.
        conversation: Box<Conversation>,
    },
    /// This subscriber fell behind and `missed` events were dropped for it; the stream ends
    /// after this notice. Reload the inbox and subscribe again.
    Lagged {
        /// How many events were dropped.
        missed: u64,
    },
}

impl InboxEvent {
    /// The event as subscribers may see it: messages without their raw webhook JSON.
    fn without_raw(mut self) -> Self {
        match &mut self {
            Self::MessageStored { message } | Self::MessageUpdated { message } => {
                message.raw_event = None;
            }
            Self::ConversationUpdated { .. } | Self::Lagged { .. } => {}
        }
        self
    }

    /// The event's `type`: `message_stored`, `message_updated`, `conversation_updated`, `lagged`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MessageStored { .. } => "message_stored",
            Self::MessageUpdated { .. } => "message_updated",
            Self::ConversationUpdated { .. } => "conversation_updated",
            Self::Lagged { .. } => "lagged",
        }
    }
}

/// Where published events go besides this process's subscribers: other instances, through the
/// PostgreSQL fan-out. Must not wait: `publish` runs inside `receive`.
pub(crate) trait Forward: Send + Sync + std::fmt::Debug {
    fn forward(&self, tenant: &TenantId, event: &InboxEvent);
}

/// One bounded channel per tenant with subscribers. Publishing never waits: a subscriber that
/// falls more than `capacity` events behind loses them and gets a [`InboxEvent::Lagged`] notice.
#[derive(Debug)]
pub(crate) struct LiveHub {
    capacity: usize,
    channels: Mutex<HashMap<TenantId, broadcast::Sender<Arc<InboxEvent>>>>,
    forward: Option<Box<dyn Forward>>,
}

impl LiveHub {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            channels: Mutex::new(HashMap::new()),
            forward: None,
        }
    }

    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn forwarding(mut self, to: Box<dyn Forward>) -> Self {
        self.forward = Some(to);
        self
    }

    /// Whether anyone may want the tenant's events: with a fan-out, another instance's
    /// subscribers may, so changes are always looked up.
    pub(crate) fn has_subscribers(&self, tenant: &TenantId) -> bool {
        self.forward.is_some() || self.has_local_subscribers(tenant)
    }

    pub(crate) fn has_local_subscribers(&self, tenant: &TenantId) -> bool {
        self.lock()
            .get(tenant)
            .is_some_and(|tx| tx.receiver_count() > 0)
    }

    /// Publishes to this process's subscribers and forwards to the other instances.
    pub(crate) fn publish(&self, tenant: &TenantId, event: InboxEvent) {
        if let Some(forward) = &self.forward {
            forward.forward(tenant, &event);
        }
        self.publish_local(tenant, event);
    }

    /// Every event reaches subscribers through here, so this is where raw JSON is dropped.
    pub(crate) fn publish_local(&self, tenant: &TenantId, event: InboxEvent) {
        let event = event.without_raw();
        let mut channels = self.lock();
        // Every subscriber has gone when sending fails: drop the channel so idle tenants cost
        // nothing.
        if let Some(tx) = channels.get(tenant)
            && tx.send(Arc::new(event)).is_err()
        {
            channels.remove(tenant);
        }
    }

    pub(crate) fn subscribe(&self, tenant: &TenantId) -> Subscription {
        let rx = self
            .lock()
            .entry(tenant.clone())
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .subscribe();
        Subscription { rx, ended: false }
    }

    /// A subscription, unless the tenant already has `max` open (in this process).
    pub(crate) fn subscribe_within(&self, tenant: &TenantId, max: usize) -> Option<Subscription> {
        let mut channels = self.lock();
        let tx = channels
            .entry(tenant.clone())
            .or_insert_with(|| broadcast::channel(self.capacity).0);
        (tx.receiver_count() < max).then(|| Subscription {
            rx: tx.subscribe(),
            ended: false,
        })
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<TenantId, broadcast::Sender<Arc<InboxEvent>>>> {
        // A panic while holding the lock cannot leave the map inconsistent (each operation is
        // one insert or remove), so a poisoned lock is still usable.
        self.channels.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A tenant's live inbox events, from [`Inbox::subscribe`](super::Inbox::subscribe).
#[derive(Debug)]
pub struct Subscription {
    rx: broadcast::Receiver<Arc<InboxEvent>>,
    ended: bool,
}

impl Subscription {
    /// The next event; `None` once the inbox is gone or after a [`InboxEvent::Lagged`] notice.
    pub async fn next(&mut self) -> Option<Arc<InboxEvent>> {
        if self.ended {
            return None;
        }
        match self.rx.recv().await {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                self.ended = true;
                Some(Arc::new(InboxEvent::Lagged { missed }))
            }
            Err(broadcast::error::RecvError::Closed) => {
                self.ended = true;
                None
            }
        }
    }

    /// The subscription as a `Stream`, for SSE responses.
    pub fn into_stream(self) -> impl Stream<Item = Arc<InboxEvent>> + Send + 'static {
        futures_util::stream::unfold(self, |mut sub| async move {
            let event = sub.next().await?;
            Some((event, sub))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_within_a_limit_free_their_place_when_dropped() {
        let hub = LiveHub::new(4);
        let (a, b) = (TenantId::new("a"), TenantId::new("b"));
        let first = hub.subscribe_within(&a, 2).expect("first");
        let second = hub.subscribe_within(&a, 2).expect("second");
        assert!(
            hub.subscribe_within(&a, 2).is_none(),
            "the third is over the limit"
        );
        assert!(
            hub.subscribe_within(&b, 2).is_some(),
            "another tenant has its own"
        );
        drop(first);
        assert!(
            hub.subscribe_within(&a, 2).is_some(),
            "a dropped one frees its place"
        );
        drop(second);
    }
}
