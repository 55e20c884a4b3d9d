//! The fan-out's two background tasks: the notifier, which sends queued notices in batches,
//! and the listener, which wakes this instance's followers on the other instances' notices.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::mpsc;

use super::{FIRST_BACKOFF, FanoutError, MAX_BACKOFF, MAX_NOTIFY_BATCH, MAX_PAYLOAD_BYTES, Notice};
use crate::error::ErrorChain;
use crate::inbox::changes::Forward;
use crate::inbox::live::LiveHub;
use crate::inbox::tenancy::Router;
use crate::store::ChangeNotice;

/// The inbox's side of the fan-out: queues notices for the notifier task, and stops the
/// listener task when dropped with the inbox.
pub(in crate::inbox) struct Outbox {
    pub(super) origin: Arc<str>,
    pub(super) tx: mpsc::Sender<String>,
    pub(super) listening: tokio::task::AbortHandle,
    /// Whether the listener's connection is up, for readiness.
    pub(super) connected: Arc<AtomicBool>,
}

impl Outbox {
    /// Whether the listener's connection is up (`false` while it reconnects).
    pub(in crate::inbox) fn connected(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.connected)
    }
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
    fn forward(&self, notice: &ChangeNotice) {
        let tenant = &notice.tenant_id;
        let notice = Notice {
            origin: self.origin.to_string(),
            tenant: tenant.clone(),
            head: notice.head,
            accounts: notice.accounts,
        };
        let payload = match serde_json::to_string(&notice) {
            Ok(payload) if payload.len() <= MAX_PAYLOAD_BYTES => payload,
            Ok(_) => {
                tracing::warn!(%tenant, "live fan-out skipped: tenant id too long for NOTIFY; other instances find the change on their next poll");
                return;
            }
            Err(err) => {
                tracing::warn!(error = %ErrorChain(&err), "live fan-out skipped: notice not serializable");
                return;
            }
        };
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(payload) {
            tracing::warn!(
                %tenant,
                "live fan-out queue full: other instances find this change on their next poll"
            );
        }
    }
}

/// Sends queued notices, many per statement, until the hub is gone and the queue is empty.
pub(super) async fn notify_loop(pool: PgPool, channel: String, mut rx: mpsc::Receiver<String>) {
    let mut batch = Vec::with_capacity(MAX_NOTIFY_BATCH);
    while rx.recv_many(&mut batch, MAX_NOTIFY_BATCH).await > 0 {
        // One statement per batch keeps the notices in order and costs one round trip.
        let sent = sqlx::query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
            .bind(&channel)
            .bind(&batch)
            .execute(&pool)
            .await;
        if let Err(err) = sent {
            tracing::warn!(
                error = %ErrorChain(&err),
                events = batch.len(),
                "live fan-out NOTIFY failed: other instances find these changes on their next poll"
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
    pub(super) hub: Weak<LiveHub>,
    pub(super) router: Weak<Router>,
    /// Shared with the [`Outbox`]: set while `listener` is connected.
    pub(super) connected: Arc<AtomicBool>,
}

/// Wakes this instance on the other instances' notices, reconnecting with backoff; runs until
/// the inbox drops the [`Outbox`] (which aborts it).
pub(super) async fn listen_loop(mut state: Listening) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let listener = match state.listener.as_mut() {
            Some(listener) => listener,
            None => match start_listening(&state.pool, &state.channel).await {
                Ok(listener) => {
                    tracing::info!(
                        channel = %state.channel,
                        "live fan-out reconnected; reading what other instances changed meanwhile from the change log"
                    );
                    state.caught_up();
                    state.connected.store(true, Ordering::Relaxed);
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
                state.deliver(notification.payload());
            }
            // The listener has already reconnected and listens again.
            Ok(None) => {
                backoff = FIRST_BACKOFF;
                tracing::warn!(
                    channel = %state.channel,
                    "live fan-out connection lost and re-established; reading what other instances changed meanwhile from the change log"
                );
                state.caught_up();
            }
            Err(err) => {
                // A fresh connection rather than the listener's own retry: some errors leave
                // its connection half-open.
                state.listener = None;
                state.connected.store(false, Ordering::Relaxed);
                tracing::warn!(error = %ErrorChain(&err), retry_in = ?backoff, "live fan-out connection failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

impl Listening {
    fn deliver(&self, payload: &str) {
        let notice = match serde_json::from_str::<Notice>(payload) {
            Ok(notice) => notice,
            // A newer version's notice, or a foreign NOTIFY on the channel.
            Err(err) => {
                tracing::debug!(error = %ErrorChain(&err), "live fan-out ignored an unreadable notification");
                return;
            }
        };
        if *notice.origin == *self.origin {
            return;
        }
        if let Some(hub) = self.hub.upgrade() {
            hub.wake(&notice.tenant);
        }
        if notice.accounts
            && let Some(router) = self.router.upgrade()
        {
            router.forget_routes();
        }
    }

    /// Notices may have been missed while the connection was down: every follower reads its
    /// log, every account route is looked up again.
    fn caught_up(&self) {
        if let Some(hub) = self.hub.upgrade() {
            hub.wake_all();
        }
        if let Some(router) = self.router.upgrade() {
            router.forget_routes();
        }
    }
}
