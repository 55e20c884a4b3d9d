//! The store conformance suite against every backend: in memory, SQLite files, PostgreSQL.
//!
//! The behaviours themselves live in core's conformance suite
//! (`meta_messaging_core::store::conformance`, which users run against their own stores too);
//! this file only opens each backend and runs every case on it, plus the few checks that need
//! a backend's own API (files on disk, schemas).
//!
//! PostgreSQL tests run when `META_MESSAGING_TEST_POSTGRES_URL` is set (for example
//! `postgres://postgres@127.0.0.1:5432/test`); each test gets its own schema, dropped at the
//! end. Without the variable they print "skipped" and pass, unless
//! `META_MESSAGING_REQUIRE_POSTGRES=1` (as in CI), which makes them fail.

use std::future::Future;
use std::sync::Arc;

use meta_messaging_core::ids::TenantId;
use meta_messaging_core::platform::Platform;
use meta_messaging_core::store::conformance::{self, Harness};
use meta_messaging_core::store::{
    IdempotencyClaim, IdempotencyClaimRequest, IdempotencyKey, InMemoryStore, MessageQuery,
    MessageStore, PostgresOptions, PostgresStore, RequestFingerprint, SqliteStore, TenantEvent,
};
use meta_messaging_core::webhook::{self, DeliveryBuilder};

use crate::support::postgres as pg;

/// Runs `case` against a PostgresStore in a fresh schema, then drops the schema even when the
/// case fails.
async fn with_postgres<F, Fut>(case: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = pg::url() else { return };
    let schema = pg::fresh_schema("mm_test");
    let store = PostgresStore::connect_with(PostgresOptions::new(&url).schema(&schema))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} is unreachable or refused: {e:?}"));
    let fail_point = store.fail_point().clone();
    pg::in_schema(
        &url,
        &schema,
        case(Harness::new(Arc::new(store), fail_point)),
    )
    .await;
}

async fn with_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("store.db"))
        .await
        .expect("open SQLite");
    let fail_point = store.fail_point().clone();
    case(Harness::new(Arc::new(store), fail_point)).await;
}

async fn with_memory<F, Fut>(case: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = ()>,
{
    let store = InMemoryStore::new();
    let fail_point = store.fail_point().clone();
    case(Harness::new(Arc::new(store), fail_point)).await;
}

macro_rules! conformance_tests {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::with_memory(|h| async move {
                        meta_messaging_core::store::conformance::$case(&h).await
                    })
                    .await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::with_sqlite(|h| async move {
                        meta_messaging_core::store::conformance::$case(&h).await
                    })
                    .await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::with_postgres(|h| async move {
                        meta_messaging_core::store::conformance::$case(&h).await
                    })
                    .await;
                }
            )*
        }
    };
}

conformance_tests!(
    idempotent_messages,
    inbound_message_fields,
    echo_after_outbound_merges,
    outbound_after_echo_merges,
    reactions,
    receipts,
    edits,
    deletes,
    unknown_and_orphan_events_are_kept,
    early_edits_apply_on_arrival,
    early_reactions_apply_on_arrival,
    delete_before_message,
    delete_before_outbound,
    early_receipts_apply_on_arrival,
    early_ops_fail_cleanly,
    early_ops_race_their_message,
    message_sort,
    message_filters,
    message_filters_combined,
    message_raw_json_opt_in,
    conversation_sort_and_filters,
    conversation_archive_and_read,
    conversation_moves_on_new_message,
    conversation_participant_profile,
    last_inbound_time,
    conversation_owner,
    comment_threads,
    backfill_progress,
    interrupted_backfills,
    history_arrives_read,
    media_records,
    media_recorded_together,
    pagination_under_concurrent_inserts,
    invalid_cursors_are_refused,
    tenant_isolation_reads,
    tenant_isolation_writes,
    tenant_isolation_accounts,
    concurrent_writers,
    failed_writes_leave_nothing,
    account_token_kept_and_redacted,
    account_upsert_updates_in_place,
    account_routing_and_status,
    account_last_event_time,
    unrouted_events_kept_once,
    unrouted_events_listed_for_replay,
    unrouted_reasons_grouped,
    delivery_tallies_add_up,
    delivery_unknown_reasons_bounded,
    idempotency_claim_finish_replay,
    idempotency_release_frees_the_key,
    idempotency_keys_expire_and_are_pruned,
    idempotency_keys_are_per_tenant,
    idempotency_concurrent_claims_one_wins,
    handler_queue_each_event_once,
    handler_registration_starts_at_head,
    handler_leases_and_retries,
    handler_lease_extension,
    handler_concurrent_leases_one_wins,
    nul_characters_are_replaced,
    change_log_records_each_write,
    change_log_one_stored_per_message,
    change_log_notices_carry_what_the_log_reads,
    change_log_concurrent_writers_no_gaps,
    change_log_failed_write_appends_nothing,
    change_log_tenant_isolation,
    change_log_pruning,
);

/// The whole suite through `run_all`, once, as a user of `test-util` would call it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_passes_on_memory() {
    with_memory(|h| async move { conformance::run_all(&h).await }).await;
}

fn routed(tenant: &TenantId, body: &[u8]) -> Vec<TenantEvent> {
    webhook::parse(body)
        .expect("parse")
        .into_iter()
        .map(|e| TenantEvent::new(tenant.clone(), e))
        .collect()
}

/// Data survives closing and reopening the file; reopening does not re-run migrations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_data_survives_reopen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("inbox.db");
    let tenant = TenantId::new("acme");
    let body = DeliveryBuilder::new(Platform::Messenger, "104417552380421")
        .text("6758492015643287", "persist me")
        .build();
    {
        let store = SqliteStore::open(&path).await.expect("open");
        assert_eq!(
            store
                .apply(&routed(&tenant, &body))
                .await
                .expect("apply")
                .inserted,
            1
        );
    }
    let store = SqliteStore::open(&path).await.expect("reopen");
    let page = store
        .list_messages(&tenant, &MessageQuery::new())
        .await
        .expect("list");
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].text.as_deref(), Some("persist me"));
    assert_eq!(
        store
            .apply(&routed(&tenant, &body))
            .await
            .expect("again")
            .inserted,
        0
    );
    assert!(
        dir.path().join("inbox.db-wal").exists(),
        "the database is in WAL mode"
    );
}

/// Two stores (as two processes would) writing one file at once: the busy timeout and
/// immediate transactions let both finish without losing a message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_stores_share_one_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("shared.db");
    let first = Arc::new(SqliteStore::open(&path).await.expect("open 1"));
    let second = Arc::new(SqliteStore::open(&path).await.expect("open 2"));
    let tenant = TenantId::new("shared");
    let mut tasks = Vec::new();
    for (n, store) in [first.clone(), second.clone()].into_iter().enumerate() {
        for task in 0..4 {
            let store: Arc<dyn MessageStore> = store.clone();
            let tenant = tenant.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..25 {
                    let body = DeliveryBuilder::new(Platform::Instagram, "17841400000000000")
                        .text(format!("user-{n}-{task}-{}", i % 3).as_str(), "hi")
                        .build();
                    store.apply(&routed(&tenant, &body)).await.expect("apply");
                }
            }));
        }
    }
    for task in tasks {
        task.await.expect("task");
    }
    let total = first
        .count_messages(&tenant, &MessageQuery::new())
        .await
        .expect("count");
    assert_eq!(total, 2 * 4 * 25);
}

/// Two instances of an application (two stores, each with its pool) on one PostgreSQL schema
/// claim the same keys at once: for each key exactly one claim wins, whichever instance makes
/// it, so a retry that a load balancer sends to the other instance never sends twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_instances_race_for_each_key_once() {
    let Some(url) = pg::url() else { return };
    let schema = pg::fresh_schema("mm_idem");
    let connect = {
        let (url, schema) = (url.clone(), schema.clone());
        move || PostgresStore::connect_with(PostgresOptions::new(&url).schema(&schema))
    };
    let first = Arc::new(connect().await.expect("connect 1"));
    let second = Arc::new(connect().await.expect("connect 2"));
    pg::in_schema(&url, &schema, async move {
        let tenant = TenantId::new("shop");
        let fingerprint = RequestFingerprint::of(b"{\"text\":\"hi\"}");
        for round in 0..20 {
            let key = IdempotencyKey::parse(&format!("race-{round}")).expect("key");
            let start = Arc::new(tokio::sync::Barrier::new(16));
            let tasks: Vec<_> = (0..16)
                .map(|n| {
                    let store: Arc<dyn MessageStore> = if n % 2 == 0 {
                        first.clone()
                    } else {
                        second.clone()
                    };
                    let claim = IdempotencyClaimRequest::new(
                        key.clone(),
                        fingerprint.clone(),
                        1_700_000_000_000,
                        1_700_086_400_000,
                    );
                    let (tenant, start) = (tenant.clone(), start.clone());
                    tokio::spawn(async move {
                        start.wait().await;
                        store
                            .claim_idempotency_key(&tenant, &claim)
                            .await
                            .expect("claim")
                    })
                })
                .collect();
            let mut outcomes = Vec::new();
            for task in tasks {
                outcomes.push(task.await.expect("task"));
            }
            let won = outcomes
                .iter()
                .filter(|c| **c == IdempotencyClaim::Claimed)
                .count();
            let in_flight = outcomes
                .iter()
                .filter(|c| matches!(c, IdempotencyClaim::InFlight { .. }))
                .count();
            assert_eq!((won, in_flight), (1, 15), "round {round}: {outcomes:?}");
        }
    })
    .await;
}

/// Two instances on one PostgreSQL schema, one storing messages while the other stores their
/// unsends at the same moment: whichever transaction commits first, every message ends
/// deleted (the advisory locks of the pending ops keep the two from missing each other).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_instances_race_messages_and_their_unsends() {
    let Some(url) = pg::url() else { return };
    let schema = pg::fresh_schema("mm_race");
    let options = PostgresOptions::new(&url).schema(&schema);
    let case = async move {
        let connect = || async {
            PostgresStore::connect_with(options.clone())
                .await
                .expect("connect")
        };
        let (first, second) = (Arc::new(connect().await), Arc::new(connect().await));
        let tenant = TenantId::new("race");
        let (streams, per_stream) = (6_usize, 60_i64);
        let mut tasks = Vec::new();
        for stream in 0..streams {
            // Each message and its unsend leave together.
            let together = Arc::new(tokio::sync::Barrier::new(2));
            for (unsends, store) in [(false, first.clone()), (true, second.clone())] {
                let tenant = tenant.clone();
                let together = Arc::clone(&together);
                tasks.push(tokio::spawn(async move {
                    for i in 0..per_stream {
                        together.wait().await;
                        let mid = format!("race-{stream}-{i}");
                        let message = if unsends {
                            serde_json::json!({"mid": mid, "is_deleted": true})
                        } else {
                            serde_json::json!({"mid": mid, "text": "racing"})
                        };
                        let event = serde_json::json!({"sender": {"id": format!("user-{stream}")},
                            "recipient": {"id": "17841400000000000"},
                            "timestamp": 1_700_000_000_000_i64 + i, "message": message});
                        let body = DeliveryBuilder::new(Platform::Instagram, "17841400000000000")
                            .messaging_event(event)
                            .build();
                        store.apply(&routed(&tenant, &body)).await.expect("apply");
                    }
                }));
            }
        }
        for task in tasks {
            task.await.expect("task");
        }
        let page = first
            .list_messages(&tenant, &MessageQuery::new().limit(500))
            .await
            .expect("list");
        assert_eq!(page.data.len(), streams * 60);
        let kept: Vec<&str> = page
            .data
            .iter()
            .filter(|m| !m.deleted)
            .map(|m| m.message_id.as_str())
            .collect();
        assert!(kept.is_empty(), "messages whose unsend was lost: {kept:?}");
    };
    pg::in_schema(&url, &schema, case).await;
}
