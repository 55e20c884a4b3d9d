//! Group commit on the real databases: a delivery that keeps failing inside a batch of
//! concurrent writes fails alone, and every other write of the burst is stored.
//!
//! The failure is the store's `FailPoint` in its content mode: every transaction that writes
//! the poisoned message fails at its first write statement, after `BEGIN`, so the database
//! really rolls the batch back before the store halves it.

use std::sync::Arc;

use meta_messaging_core::ids::{MessageId, TenantId};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::store::{
    FailPoint, MessageQuery, MessageStore, PostgresOptions, PostgresStore, SqliteStore, StoreError,
    TenantEvent,
};
use meta_messaging_core::webhook;
use serde_json::json;
use tokio::sync::Barrier;

use crate::support::postgres as pg;

const PAGE: &str = "104417552380421";
const BURST: usize = 64;
const POISONED: &str = "m_poisoned";

/// One delivery of one inbound message.
fn delivery(tenant: &TenantId, mid: &str, n: usize) -> Vec<TenantEvent> {
    let at = 1_700_000_000_000_i64 + i64::try_from(n).expect("small");
    let body = json!({"object": "page", "entry": [{"id": PAGE, "time": at, "messaging": [
        {"sender": {"id": format!("user-{}", n % 7)}, "recipient": {"id": PAGE},
         "timestamp": at, "message": {"mid": mid, "text": format!("message {n}")}}]}]});
    webhook::parse(body.to_string().as_bytes())
        .expect("a valid delivery")
        .into_iter()
        .map(|event| TenantEvent::new(tenant.clone(), event))
        .collect()
}

/// Applies every delivery at once (each from its own task, released together) and returns
/// each one's result, in order.
async fn burst(
    store: &Arc<dyn MessageStore>,
    deliveries: Vec<Vec<TenantEvent>>,
) -> Vec<Result<u64, StoreError>> {
    let start = Arc::new(Barrier::new(deliveries.len()));
    let tasks: Vec<_> = deliveries
        .into_iter()
        .map(|events| {
            let (store, start) = (Arc::clone(store), Arc::clone(&start));
            tokio::spawn(async move {
                start.wait().await;
                store.apply(&events).await.map(|report| report.inserted)
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("apply task"));
    }
    results
}

/// Asserts that delivery `poisoned` failed with the injected failure and every other stored
/// its message.
fn only_the_poisoned_failed(results: &[Result<u64, StoreError>], poisoned: usize) {
    for (n, result) in results.iter().enumerate() {
        if n == poisoned {
            assert!(
                matches!(result, Err(StoreError::InjectedFailure)),
                "the poisoned delivery: {result:?}"
            );
        } else {
            assert!(
                matches!(result, Ok(1)),
                "delivery {n} was not stored: {result:?}"
            );
        }
    }
}

async fn stored(store: &Arc<dyn MessageStore>, tenant: &TenantId) -> u64 {
    store
        .count_messages(tenant, &MessageQuery::new())
        .await
        .expect("count")
}

async fn a_failing_delivery_fails_alone(store: Arc<dyn MessageStore>, fail_point: FailPoint) {
    let tenant = TenantId::new("acme");
    fail_point.fail_writes_of(POISONED);
    let first: Vec<_> = (0..BURST)
        .map(|n| match n {
            17 => delivery(&tenant, POISONED, n),
            n => delivery(&tenant, &format!("m_first_{n}"), n),
        })
        .collect();
    only_the_poisoned_failed(&burst(&store, first).await, 17);
    assert_eq!(stored(&store, &tenant).await, BURST as u64 - 1);
    let lost = store
        .find_message(&tenant, Platform::Messenger, &MessageId::new(POISONED))
        .await
        .expect("find");
    assert!(lost.is_none(), "the failed delivery left its message");

    // Meta redelivers it, among new deliveries: it fails alone again.
    let second: Vec<_> = (0..BURST)
        .map(|n| match n {
            40 => delivery(&tenant, POISONED, 17),
            n => delivery(&tenant, &format!("m_second_{n}"), n),
        })
        .collect();
    only_the_poisoned_failed(&burst(&store, second).await, 40);
    assert_eq!(stored(&store, &tenant).await, 2 * (BURST as u64 - 1));

    // Once the cause is gone, its next redelivery is stored.
    fail_point.disarm();
    let report = store
        .apply(&delivery(&tenant, POISONED, 17))
        .await
        .expect("the redelivery");
    assert_eq!(report.inserted, 1);
    assert_eq!(stored(&store, &tenant).await, 2 * (BURST as u64 - 1) + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_failing_delivery_in_a_burst_fails_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("store.db"))
        .await
        .expect("open SQLite");
    let fail_point = store.fail_point().clone();
    a_failing_delivery_fails_alone(Arc::new(store), fail_point).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_failing_delivery_in_a_burst_fails_alone() {
    let Some(url) = pg::url() else { return };
    let schema = pg::fresh_schema("mm_batch");
    let store = PostgresStore::connect_with(PostgresOptions::new(&url).schema(&schema))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} is unreachable or refused: {e:?}"));
    let fail_point = store.fail_point().clone();
    pg::in_schema(
        &url,
        &schema,
        a_failing_delivery_fails_alone(Arc::new(store), fail_point),
    )
    .await;
}
