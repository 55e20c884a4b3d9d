//! What the inbox does as the store's change log grows: wakes this process's live followers,
//! tells the other instances (through the fan-out), forgets the account routes that changed,
//! and prunes the log after its retention.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use super::live::LiveHub;
use super::tenancy::Router;
use crate::error::ErrorChain;
use crate::store::{ChangeNotice, MessageStore, now_ms};

/// How often old changes are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Where notices go besides this process: the other instances, through the PostgreSQL
/// fan-out. Must not wait: it runs for every commit.
pub(crate) trait Forward: Send + Sync + std::fmt::Debug {
    fn forward(&self, notice: &ChangeNotice);
}

/// Who hears of each change.
#[derive(Debug)]
pub(crate) struct Listeners {
    pub(crate) live: Arc<LiveHub>,
    pub(crate) router: Arc<Router>,
    pub(crate) forward: Option<Box<dyn Forward>>,
}

impl Listeners {
    fn heard(&self, notice: &ChangeNotice) {
        self.live.heard(notice);
        if notice.accounts {
            self.router.forget_routes();
        }
        self.router.read_notices();
        if let Some(forward) = &self.forward {
            forward.forward(notice);
        }
    }

    /// Notices were missed: every follower reads its log, every route is looked up again.
    fn missed(&self, missed: u64) {
        tracing::warn!(
            missed,
            "change notices missed: live followers re-read the log, account routes are looked up again; other instances catch up on their next poll"
        );
        self.live.wake_all();
        self.router.forget_routes();
    }
}

/// The inbox's background tasks: waiting for a Tokio runtime, then running until the inbox
/// is dropped.
#[derive(Debug)]
pub(crate) struct Background {
    waiting: Mutex<Option<Listeners>>,
    running: OnceLock<Tasks>,
}

impl Background {
    pub(crate) fn new(listeners: Listeners) -> Self {
        Self {
            waiting: Mutex::new(Some(listeners)),
            running: OnceLock::new(),
        }
    }

    /// Starts the tasks on the current Tokio runtime, once; outside a runtime, does nothing.
    pub(crate) fn ensure_started(&self, store: &Arc<dyn MessageStore>, retention: Duration) {
        if self.running.get().is_some() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        // A panic while holding the lock leaves the listeners taken or not: both are states.
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(listeners) = waiting.take() {
            let relay = tokio::spawn(relay(store.change_notices(), listeners));
            let prune = tokio::spawn(prune(Arc::clone(store), retention));
            let _ = self
                .running
                .set(Tasks(vec![relay.abort_handle(), prune.abort_handle()]));
        }
    }
}

/// Running tasks, stopped when dropped.
#[derive(Debug)]
struct Tasks(Vec<tokio::task::AbortHandle>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

async fn relay(mut notices: tokio::sync::broadcast::Receiver<ChangeNotice>, listeners: Listeners) {
    loop {
        match notices.recv().await {
            Ok(notice) => listeners.heard(&notice),
            Err(RecvError::Lagged(missed)) => listeners.missed(missed),
            Err(RecvError::Closed) => return,
        }
    }
}

async fn prune(store: Arc<dyn MessageStore>, retention: Duration) {
    let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    loop {
        match store
            .prune_changes(now_ms().saturating_sub(retention_ms))
            .await
        {
            Ok(0) => {}
            Ok(pruned) => tracing::debug!(pruned, "pruned the change log"),
            Err(err) => {
                tracing::warn!(error = %ErrorChain(&err), "pruning the change log failed; retrying within the hour")
            }
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}
