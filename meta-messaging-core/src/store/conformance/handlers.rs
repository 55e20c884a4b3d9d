//! Conformance cases: the event handlers' queue (each event once) and cursors (registration,
//! leases, retries, concurrent instances).

use std::sync::Arc;

use super::Harness;
use super::fixtures::{Scene, fresh, tick};
use crate::ids::TenantId;
use crate::platform::Platform;
use crate::store::api::{MessageStore, TenantEvent};
use crate::store::handler_queue::{HandlerLease, LeaseRequest};
use crate::store::now_ms;

const HOUR_MS: i64 = 3_600_000;

fn request(handler: &str, owner: &str, now: i64) -> LeaseRequest {
    LeaseRequest::new(handler, owner, now, now + HOUR_MS)
}

/// Leases `tenant` for `handler`, passing over other tenants (other cases share the store):
/// their leases are given back unchanged. `None` when the tenant is not leasable.
async fn lease_tenant(
    store: &dyn MessageStore,
    handler: &str,
    owner: &str,
    tenant: &TenantId,
    now: i64,
) -> Option<HandlerLease> {
    let mut passed = Vec::new();
    let mut found = None;
    for _ in 0..64 {
        let lease = store
            .lease_handler_work(&request(handler, owner, now))
            .await
            .expect("lease_handler_work failed");
        match lease {
            Some(lease) if &lease.tenant_id == tenant => {
                found = Some(lease);
                break;
            }
            Some(other) => passed.push(other),
            None => break,
        }
    }
    for other in passed {
        store
            .release_handler_lease(handler, &other.tenant_id, owner, other.cursor, Some(0))
            .await
            .expect("release_handler_lease failed");
    }
    found
}

/// Events are queued once per tenant: a redelivery, in the same call or later, is not queued
/// again; the queue keeps each event whole, in order, numbered from 1.
pub async fn handler_queue_each_event_once(h: &Harness) {
    let store = h.store.as_ref();
    let s = Scene::new(Platform::Messenger);
    let first = s.routed(vec![
        s.text("u1", &fresh("m_"), "one", tick()),
        s.text("u2", &fresh("m_"), "two", tick()),
    ]);
    let mut twice = first.clone();
    twice.push(first[0].clone());
    assert_eq!(store.queue_handler_events(&twice).await.expect("queue"), 2);
    assert_eq!(store.queue_handler_events(&first).await.expect("queue"), 0);
    let third = s.routed(vec![s.text("u1", &fresh("m_"), "three", tick())]);
    let mut mixed = first.clone();
    mixed.extend(third.clone());
    assert_eq!(store.queue_handler_events(&mixed).await.expect("queue"), 1);
    let queued = store
        .handler_events_after(&s.tenant, 0, 100)
        .await
        .expect("handler_events_after");
    assert_eq!(
        queued.iter().map(|q| q.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    for (queued, sent) in queued.iter().zip(first.iter().chain(third.iter())) {
        let again = queued.event.to_events().expect("a queued event parses");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].kind(), sent.event.kind());
        assert_eq!(again[0].sender_id, sent.event.sender_id);
        assert_eq!(queued.event.tenant_id, s.tenant);
    }
    let after = store
        .handler_events_after(&s.tenant, 2, 1)
        .await
        .expect("handler_events_after");
    assert_eq!(after.iter().map(|q| q.seq).collect::<Vec<_>>(), vec![3]);
    // Another tenant's copy of an event is its own.
    let other = TenantEvent::new(TenantId::new(fresh("tenant-")), first[0].event.clone());
    assert_eq!(
        store
            .queue_handler_events(std::slice::from_ref(&other))
            .await
            .expect("queue"),
        1
    );
}

/// A handler registered after events were queued starts at the newest (no history); one
/// registered again keeps its cursor; a tenant queued after registration starts at 0.
pub async fn handler_registration_starts_at_head(h: &Harness) {
    let store = h.store.as_ref();
    let s = Scene::new(Platform::Messenger);
    let handler = fresh("handler-");
    store
        .queue_handler_events(&s.routed(vec![
            s.text("u1", &fresh("m_"), "old", tick()),
            s.text("u1", &fresh("m_"), "old too", tick()),
        ]))
        .await
        .expect("queue");
    store.register_handler(&handler).await.expect("register");
    let cursor = store
        .handler_cursor(&handler, &s.tenant)
        .await
        .expect("handler_cursor")
        .expect("a cursor for a tenant with events");
    assert_eq!((cursor.cursor, cursor.attempts), (2, 0));
    let now = now_ms();
    assert!(
        lease_tenant(store, &handler, "a", &s.tenant, now)
            .await
            .is_none(),
        "a tenant without new events is leased"
    );
    store
        .queue_handler_events(&s.routed(vec![s.text("u1", &fresh("m_"), "new", tick())]))
        .await
        .expect("queue");
    let lease = lease_tenant(store, &handler, "a", &s.tenant, now)
        .await
        .expect("the tenant has a new event");
    assert_eq!(lease.cursor, 2);
    assert!(
        store
            .release_handler_lease(&handler, &s.tenant, "a", 3, None)
            .await
            .expect("release")
    );
    store.register_handler(&handler).await.expect("register");
    let cursor = store
        .handler_cursor(&handler, &s.tenant)
        .await
        .expect("handler_cursor")
        .expect("a cursor");
    assert_eq!(cursor.cursor, 3, "registering again moved the cursor");

    let late = Scene::new(Platform::Instagram);
    store
        .queue_handler_events(&late.routed(vec![late.text("u9", &fresh("m_"), "hi", tick())]))
        .await
        .expect("queue");
    let lease = lease_tenant(store, &handler, "a", &late.tenant, now_ms())
        .await
        .expect("a tenant queued after registration has work");
    assert_eq!(lease.cursor, 0);
}

/// A lease keeps the tenant from other owners until it ends or is released; only its owner
/// moves the cursor; a failure counts an attempt and holds the tenant until the retry time.
pub async fn handler_leases_and_retries(h: &Harness) {
    let store = h.store.as_ref();
    let s = Scene::new(Platform::Messenger);
    let handler = fresh("handler-");
    store.register_handler(&handler).await.expect("register");
    store
        .queue_handler_events(&s.routed(vec![
            s.text("u1", &fresh("m_"), "one", tick()),
            s.text("u1", &fresh("m_"), "two", tick()),
        ]))
        .await
        .expect("queue");
    let now = now_ms();
    let lease = lease_tenant(store, &handler, "a", &s.tenant, now)
        .await
        .expect("work");
    assert_eq!((lease.cursor, lease.attempts), (0, 0));
    assert!(
        lease_tenant(store, &handler, "b", &s.tenant, now)
            .await
            .is_none(),
        "a leased tenant was leased again"
    );
    assert!(
        !store
            .release_handler_lease(&handler, &s.tenant, "b", 2, None)
            .await
            .expect("release"),
        "another owner moved the cursor"
    );
    // The first event failed.
    let retry_at = now + HOUR_MS;
    assert!(
        store
            .release_handler_lease(&handler, &s.tenant, "a", 0, Some(retry_at))
            .await
            .expect("release")
    );
    assert!(
        lease_tenant(store, &handler, "b", &s.tenant, now + 1)
            .await
            .is_none(),
        "a failed tenant was leased before its retry time"
    );
    let lease = lease_tenant(store, &handler, "b", &s.tenant, retry_at)
        .await
        .expect("leasable at its retry time");
    assert_eq!((lease.cursor, lease.attempts), (0, 1));
    // It failed again: one more attempt.
    store
        .release_handler_lease(&handler, &s.tenant, "b", 0, Some(retry_at))
        .await
        .expect("release");
    let lease = lease_tenant(store, &handler, "a", &s.tenant, retry_at)
        .await
        .expect("work");
    assert_eq!(lease.attempts, 2);
    // The first succeeded, the second failed: its first attempt.
    store
        .release_handler_lease(&handler, &s.tenant, "a", 1, Some(retry_at))
        .await
        .expect("release");
    let lease = lease_tenant(store, &handler, "a", &s.tenant, retry_at)
        .await
        .expect("work");
    assert_eq!((lease.cursor, lease.attempts), (1, 1));
    // An expired lease is free for another owner, and the old owner cannot move the cursor.
    let lease = lease_tenant(store, &handler, "b", &s.tenant, retry_at + 2 * HOUR_MS)
        .await
        .expect("an expired lease is free");
    assert_eq!(lease.cursor, 1);
    assert!(
        !store
            .release_handler_lease(&handler, &s.tenant, "a", 2, None)
            .await
            .expect("release")
    );
    assert!(
        store
            .release_handler_lease(&handler, &s.tenant, "b", 2, None)
            .await
            .expect("release")
    );
    let cursor = store
        .handler_cursor(&handler, &s.tenant)
        .await
        .expect("cursor")
        .expect("a cursor");
    assert_eq!((cursor.cursor, cursor.attempts), (2, 0));
    assert!(
        lease_tenant(store, &handler, "a", &s.tenant, now_ms())
            .await
            .is_none(),
        "a tenant with no event after its cursor was leased"
    );
}

/// Of many concurrent lease requests (instances), exactly one gets a tenant's work.
pub async fn handler_concurrent_leases_one_wins(h: &Harness) {
    let s = Scene::new(Platform::Messenger);
    let handler = fresh("handler-");
    h.store.register_handler(&handler).await.expect("register");
    h.store
        .queue_handler_events(&s.routed(vec![s.text("u1", &fresh("m_"), "one", tick())]))
        .await
        .expect("queue");
    let now = now_ms();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = Arc::clone(&h.store);
        let handler = handler.clone();
        let tenant = s.tenant.clone();
        tasks.push(tokio::spawn(async move {
            lease_tenant(
                store.as_ref(),
                &handler,
                &format!("owner-{i}"),
                &tenant,
                now,
            )
            .await
            .is_some()
        }));
    }
    let mut won = 0;
    for task in tasks {
        if task.await.expect("a lease task panicked") {
            won += 1;
        }
    }
    assert_eq!(won, 1, "{won} owners leased one tenant");
}

/// A lease's owner extends it for a batch that outlasts it: nobody else leases the tenant until
/// the new end; nobody but the owner extends it; once it ran out and another owner took it,
/// the first one's extension is refused.
pub async fn handler_lease_extension(h: &Harness) {
    let store = h.store.as_ref();
    let s = Scene::new(Platform::Messenger);
    let handler = fresh("handler-");
    store.register_handler(&handler).await.expect("register");
    store
        .queue_handler_events(&s.routed(vec![s.text("u1", &fresh("m_"), "one", tick())]))
        .await
        .expect("queue");
    let now = now_ms();
    lease_tenant(store, &handler, "a", &s.tenant, now)
        .await
        .expect("work");
    assert!(
        !store
            .extend_handler_lease(&handler, &s.tenant, "b", now + 2 * HOUR_MS)
            .await
            .expect("extend"),
        "another owner extended the lease"
    );
    assert!(
        store
            .extend_handler_lease(&handler, &s.tenant, "a", now + 2 * HOUR_MS)
            .await
            .expect("extend")
    );
    assert!(
        lease_tenant(store, &handler, "b", &s.tenant, now + HOUR_MS + 1)
            .await
            .is_none(),
        "an extended lease was taken at its first end"
    );
    let taken = lease_tenant(store, &handler, "b", &s.tenant, now + 2 * HOUR_MS)
        .await
        .expect("leasable once the extension ran out");
    assert_eq!(taken.cursor, 0);
    assert!(
        !store
            .extend_handler_lease(&handler, &s.tenant, "a", now + 3 * HOUR_MS)
            .await
            .expect("extend"),
        "the first owner extended a lease another owner holds now"
    );
    assert!(
        store
            .release_handler_lease(&handler, &s.tenant, "b", 1, None)
            .await
            .expect("release")
    );
}
