//! Conformance cases: idempotency records (claim, finish, release, expiry, tenants, races).

use std::sync::Arc;

use serde_json::json;

use super::Harness;
use super::fixtures::fresh;
use crate::ids::TenantId;
use crate::store::api::MessageStore;
use crate::store::error::StoreError;
use crate::store::idempotency::{
    IdempotencyClaim, IdempotencyClaimRequest, IdempotencyKey, IdempotentAnswer, RequestFingerprint,
};

/// A time long past: records claimed at it expire long before any real record, so pruning up
/// to it touches only this suite's records even in a database that holds real ones.
const PAST: i64 = 1_000_000_000_000;
/// Now, for the cases that do not test expiry.
const NOW: i64 = 1_700_000_000_000;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn key() -> IdempotencyKey {
    IdempotencyKey::parse(&fresh("key-")).expect("a valid key")
}

fn tenant() -> TenantId {
    TenantId::new(fresh("tenant-"))
}

fn fingerprint(body: &str) -> RequestFingerprint {
    RequestFingerprint::of(body.as_bytes())
}

fn at(key: &IdempotencyKey, body: &str, now_ms: i64, ttl_ms: i64) -> IdempotencyClaimRequest {
    IdempotencyClaimRequest::new(key.clone(), fingerprint(body), now_ms, now_ms + ttl_ms)
}

async fn claim(
    store: &dyn MessageStore,
    tenant: &TenantId,
    request: &IdempotencyClaimRequest,
) -> IdempotencyClaim {
    store
        .claim_idempotency_key(tenant, request)
        .await
        .expect("claim_idempotency_key failed")
}

/// An answer with what JSON columns tend to lose: nesting, unicode, escapes, large integers.
fn answer() -> IdempotentAnswer {
    IdempotentAnswer::new(
        201,
        json!({"id": "42", "message_id": "m_é\"\\/\u{1F600}", "stored": true,
               "attachments": [{"type": "image", "payload": null}],
               "timestamp_ms": 1_700_000_000_123_i64, "big": 9_007_199_254_740_993_u64}),
    )
}

/// A first claim wins; the same request again is in flight (with the first claim's time),
/// another request with the key is told so; once finished, the same request gets the answer
/// back whole and another request is still refused; a record is finished once.
pub async fn idempotency_claim_finish_replay(h: &Harness) {
    let store = &*h.store;
    let (tenant, key) = (tenant(), key());
    assert_eq!(
        claim(store, &tenant, &at(&key, "a", NOW, DAY_MS)).await,
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        claim(store, &tenant, &at(&key, "a", NOW + 5, DAY_MS)).await,
        IdempotencyClaim::InFlight { claimed_at_ms: NOW },
        "a retry while the first is running"
    );
    assert_eq!(
        claim(store, &tenant, &at(&key, "b", NOW + 5, DAY_MS)).await,
        IdempotencyClaim::OtherRequest
    );
    store
        .finish_idempotency_key(&tenant, &key, &answer())
        .await
        .expect("finish");
    assert_eq!(
        claim(store, &tenant, &at(&key, "a", NOW + 10, DAY_MS)).await,
        IdempotencyClaim::Finished(answer())
    );
    assert_eq!(
        claim(store, &tenant, &at(&key, "b", NOW + 10, DAY_MS)).await,
        IdempotencyClaim::OtherRequest
    );
    let again = store
        .finish_idempotency_key(&tenant, &key, &IdempotentAnswer::new(500, json!({})))
        .await;
    assert!(
        matches!(again, Err(StoreError::NotFound { .. })),
        "a finished record was finished again: {again:?}"
    );
    // Releasing is for records in flight: a finished answer stays.
    store
        .release_idempotency_key(&tenant, &key)
        .await
        .expect("release");
    assert_eq!(
        claim(store, &tenant, &at(&key, "a", NOW + 20, DAY_MS)).await,
        IdempotencyClaim::Finished(answer())
    );
    let unknown = store
        .finish_idempotency_key(&tenant, &self::key(), &answer())
        .await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound { .. })),
        "{unknown:?}"
    );
}

/// A released key is free again, for any request; releasing a key nobody holds does nothing.
pub async fn idempotency_release_frees_the_key(h: &Harness) {
    let store = &*h.store;
    let (tenant, key) = (tenant(), key());
    assert_eq!(
        claim(store, &tenant, &at(&key, "a", NOW, DAY_MS)).await,
        IdempotencyClaim::Claimed
    );
    store
        .release_idempotency_key(&tenant, &key)
        .await
        .expect("release");
    assert_eq!(
        claim(store, &tenant, &at(&key, "b", NOW + 1, DAY_MS)).await,
        IdempotencyClaim::Claimed,
        "a released key is free, even for another request"
    );
    store
        .release_idempotency_key(&tenant, &self::key())
        .await
        .expect("releasing an unknown key");
}

/// A record counts until its expiry time and not at it: a claim then takes the key over (for
/// any request); pruning deletes expired records only.
pub async fn idempotency_keys_expire_and_are_pruned(h: &Harness) {
    let store = &*h.store;
    let tenant = tenant();
    let (short, long) = (key(), key());
    assert_eq!(
        claim(store, &tenant, &at(&short, "a", PAST, 1_000)).await,
        IdempotencyClaim::Claimed
    );
    store
        .finish_idempotency_key(&tenant, &short, &answer())
        .await
        .expect("finish");
    assert_eq!(
        claim(store, &tenant, &at(&long, "a", PAST, 5_000)).await,
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        claim(store, &tenant, &at(&short, "b", PAST + 999, 1_000)).await,
        IdempotencyClaim::OtherRequest,
        "a record is kept until its expiry time"
    );
    assert_eq!(
        claim(store, &tenant, &at(&short, "b", PAST + 1_000, 1_000)).await,
        IdempotencyClaim::Claimed,
        "an expired record is taken over"
    );
    assert_eq!(
        claim(store, &tenant, &at(&short, "b", PAST + 1_001, 1_000)).await,
        IdempotencyClaim::InFlight {
            claimed_at_ms: PAST + 1_000
        },
        "the new claim replaced the old answer"
    );
    // Now `short` expires at PAST + 2000 and `long` at PAST + 5000.
    let pruned = store
        .prune_idempotency_keys(PAST + 2_000)
        .await
        .expect("prune");
    assert!(pruned >= 1, "the expired record was not pruned");
    assert_eq!(
        claim(store, &tenant, &at(&short, "c", PAST, 1_000_000)).await,
        IdempotencyClaim::Claimed,
        "pruned: even a claim dated before its expiry finds nothing"
    );
    assert_eq!(
        claim(store, &tenant, &at(&long, "a", PAST + 2_000, 1_000)).await,
        IdempotencyClaim::InFlight {
            claimed_at_ms: PAST
        },
        "pruning kept the live record"
    );
    store
        .prune_idempotency_keys(PAST + 1_000_000)
        .await
        .expect("prune the rest");
}

/// Keys belong to their tenant: the same key of two tenants is two records.
pub async fn idempotency_keys_are_per_tenant(h: &Harness) {
    let store = &*h.store;
    let (first, second, key) = (tenant(), tenant(), key());
    assert_eq!(
        claim(store, &first, &at(&key, "a", NOW, DAY_MS)).await,
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        claim(store, &second, &at(&key, "b", NOW, DAY_MS)).await,
        IdempotencyClaim::Claimed
    );
    store
        .finish_idempotency_key(&second, &key, &answer())
        .await
        .expect("finish");
    store
        .release_idempotency_key(&second, &key)
        .await
        .expect("release");
    assert_eq!(
        claim(store, &first, &at(&key, "a", NOW, DAY_MS)).await,
        IdempotencyClaim::InFlight { claimed_at_ms: NOW },
        "another tenant's finish touched this tenant's record"
    );
    store
        .release_idempotency_key(&first, &key)
        .await
        .expect("release");
    assert_eq!(
        claim(store, &second, &at(&key, "b", NOW, DAY_MS)).await,
        IdempotencyClaim::Finished(answer()),
        "another tenant's release touched this tenant's record"
    );
    let empty = store
        .claim_idempotency_key(&TenantId::new(""), &at(&key, "a", NOW, DAY_MS))
        .await;
    assert!(
        matches!(empty, Err(StoreError::InvalidInput { .. })),
        "{empty:?}"
    );
}

/// Many claims of one key at once, of the same request and of another: exactly one wins, the
/// other copies of its request see it in flight, the other request is refused. Needs a
/// multi-threaded runtime (and, for a database, several connections) to race for real.
pub async fn idempotency_concurrent_claims_one_wins(h: &Harness) {
    const CLAIMS: usize = 12;
    let tenant = tenant();
    for round in 0..8 {
        let key = key();
        let start = Arc::new(tokio::sync::Barrier::new(CLAIMS));
        let tasks: Vec<_> = (0..CLAIMS)
            .map(|n| {
                let (store, tenant, key, start) = (
                    Arc::clone(&h.store),
                    tenant.clone(),
                    key.clone(),
                    Arc::clone(&start),
                );
                // Two requests race for the key: a third of the claims are of the other one.
                let body = if n % 3 == 2 { "other" } else { "same" };
                tokio::spawn(async move {
                    start.wait().await;
                    let claimed = store
                        .claim_idempotency_key(&tenant, &at(&key, body, NOW, DAY_MS))
                        .await
                        .expect("concurrent claim");
                    (body, claimed)
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.expect("claim task panicked"));
        }
        let winners: Vec<_> = outcomes
            .iter()
            .filter(|(_, c)| *c == IdempotencyClaim::Claimed)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        let winner = winners[0].0;
        for (body, outcome) in &outcomes {
            let expected = if *body == winner {
                IdempotencyClaim::InFlight { claimed_at_ms: NOW }
            } else {
                IdempotencyClaim::OtherRequest
            };
            assert!(
                *outcome == IdempotencyClaim::Claimed || *outcome == expected,
                "round {round}: {outcomes:?}"
            );
        }
    }
}
