//! Conformance cases: readiness, and the flush a graceful shutdown waits for.

use std::sync::Arc;

use super::Harness;
use super::cases::count;
use super::fixtures::{Scene, tick};
use crate::platform::Platform;

/// An open store is ready: it answers, and its schema is up to date.
pub async fn ready_when_open(h: &Harness) {
    h.store
        .ready()
        .await
        .expect("an open store is ready to serve");
}

/// Writes whose callers went away before their answer (a client that hung up) are committed
/// by the time `flush` returns.
pub async fn flush_commits_abandoned_writes(h: &Harness) {
    let s = Scene::new(Platform::Messenger);
    let writes: Vec<_> = (0..24)
        .map(|i| {
            let store = Arc::clone(&h.store);
            let s = s.clone();
            tokio::spawn(async move {
                let item = s.text("flush-user", &format!("flush-{i}"), "hi", tick());
                s.apply(&*store, vec![item]).await
            })
        })
        .collect();
    // Let every write reach the store's queue, then drop its caller.
    tokio::task::yield_now().await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mut abandoned = 0;
    for write in writes {
        if !write.is_finished() {
            write.abort();
            abandoned += 1;
        }
        // A finished write was applied; an aborted one may or may not have been queued yet.
    }
    h.store.flush().await.expect("flush");
    let stored = count(&*h.store, &s.tenant).await;
    // A write still queued when `flush` returned would land during this pause.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let after = count(&*h.store, &s.tenant).await;
    assert_eq!(
        stored, after,
        "a write of an abandoned caller committed after flush returned ({abandoned} abandoned)"
    );
    h.store.ready().await.expect("still ready after a flush");
}
