//! The fan-out's two background tasks: the notifier, which sends queued references in
//! batches, and the listener, which turns other instances' references into local events.

use std::fmt;
use std::sync::{Arc, Weak};

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::mpsc;

use super::{
    Change, FIRST_BACKOFF, FanoutError, MAX_BACKOFF, MAX_NOTIFY_BATCH, MAX_PAYLOAD_BYTES, Notice,
};
use crate::error::ErrorChain;
use crate::ids::TenantId;
use crate::inbox::live::{Forward, InboxEvent, LiveHub};
use crate::store::MessageStore;

/// The hub's side of the fan-out: queues references for the notifier task, and stops the
/// listener task when dropped with the hub.
pub(in crate::inbox) struct Outbox {
    pub(super) origin: Arc<str>,
    pub(super) tx: mpsc::Sender<String>,
    pub(super) listening: tokio::task::AbortHandle,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        // The notifier ends by itself once the queue's sender is gone and the queue is sent.
        self.listening.abort();
    }
}

impl Forward for Outbox {
    fn forward(&self, tenant: &TenantId, event: &InboxEvent) {
        let Some(change) = Change::of(event) else {
            return;
        };
        let notice = Notice {
            origin: self.origin.to_string(),
            tenant: tenant.clone(),
            change,
        };
        let payload = match serde_json::to_string(&notice) {
            Ok(payload) if payload.len() <= MAX_PAYLOAD_BYTES => payload,
            Ok(_) => {
                tracing::warn!(kind = event.name(), %tenant, "live fan-out skipped: reference too large for NOTIFY");
                return;
            }
            Err(err) => {
                tracing::warn!(error = %ErrorChain(&err), kind = event.name(), "live fan-out skipped: reference not serializable");
                return;
            }
        };
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(payload) {
            tracing::warn!(
                kind = event.name(),
                %tenant,
                "live fan-out queue full: other instances miss this event"
            );
        }
    }
}

/// Sends queued references, many per statement, until the hub is gone and the queue is empty.
pub(super) async fn notify_loop(pool: PgPool, channel: String, mut rx: mpsc::Receiver<String>) {
    let mut batch = Vec::with_capacity(MAX_NOTIFY_BATCH);
    while rx.recv_many(&mut batch, MAX_NOTIFY_BATCH).await > 0 {
        // One transaction per batch keeps the references in order and costs one round trip.
        let sent = sqlx::query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
            .bind(&channel)
            .bind(&batch)
            .execute(&pool)
            .await;
        if let Err(err) = sent {
            tracing::warn!(
                error = %ErrorChain(&err),
                events = batch.len(),
                "live fan-out NOTIFY failed: other instances miss these events"
            );
        }
        batch.clear();
    }
    pool.close().await;
}

pub(super) async fn start_listening(
    pool: &PgPool,
    channel: &str,
) -> Result<PgListener, FanoutError> {
    let mut listener = PgListener::connect_with(pool)
        .await
        .map_err(FanoutError::Connect)?;
    listener
        .listen(channel)
        .await
        .map_err(FanoutError::Listen)?;
    Ok(listener)
}

pub(super) struct Listening {
    pub(super) listener: Option<PgListener>,
    pub(super) pool: PgPool,
    pub(super) channel: String,
    pub(super) origin: Arc<str>,
    pub(super) store: Arc<dyn MessageStore>,
    pub(super) hub: Weak<LiveHub>,
}

/// Publishes the other instances' events locally, reconnecting with backoff; runs until the
/// hub drops the [`Outbox`] (which aborts it).
pub(super) async fn listen_loop(mut state: Listening) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let listener = match state.listener.as_mut() {
            Some(listener) => listener,
            None => match start_listening(&state.pool, &state.channel).await {
                Ok(listener) => {
                    tracing::info!(
                        channel = %state.channel,
                        "live fan-out reconnected; events other instances published meanwhile were not delivered here"
                    );
                    state.listener.insert(listener)
                }
                Err(err) => {
                    tracing::warn!(error = %ErrorChain(&err), retry_in = ?backoff, "live fan-out cannot reconnect");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            },
        };
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                backoff = FIRST_BACKOFF;
                state.deliver(notification.payload()).await;
            }
            // The listener has already reconnected and listens again.
            Ok(None) => {
                backoff = FIRST_BACKOFF;
                tracing::warn!(
                    channel = %state.channel,
                    "live fan-out connection lost and re-established; events other instances published meanwhile were not delivered here"
                );
            }
            Err(err) => {
                // A fresh connection rather than the listener's own retry: some errors leave
                // its connection half-open.
                state.listener = None;
                tracing::warn!(error = %ErrorChain(&err), retry_in = ?backoff, "live fan-out connection failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

impl Listening {
    async fn deliver(&self, payload: &str) {
        let notice = match serde_json::from_str::<Notice>(payload) {
            Ok(notice) => notice,
            // A newer version's kind, or a foreign NOTIFY on the channel.
            Err(err) => {
                tracing::debug!(error = %ErrorChain(&err), "live fan-out ignored an unreadable notification");
                return;
            }
        };
        if *notice.origin == *self.origin {
            return;
        }
        // The hub is upgraded only for a moment: holding it across the look-up would keep a
        // dropped inbox alive.
        let wanted = self
            .hub
            .upgrade()
            .is_some_and(|hub| hub.has_local_subscribers(&notice.tenant));
        if !wanted {
            return;
        }
        let event = match notice
            .change
            .resolve(self.store.as_ref(), &notice.tenant)
            .await
        {
            Ok(Some(event)) => event,
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(error = %ErrorChain(&err), "live fan-out event skipped: store look-up failed");
                return;
            }
        };
        if let Some(hub) = self.hub.upgrade() {
            hub.publish_local(&notice.tenant, event);
        }
    }
}
