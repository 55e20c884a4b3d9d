//! Conformance cases: tenant isolation, concurrency, atomicity, accounts and routing.

use std::sync::Arc;

use super::Harness;
use super::cases::{count, message};
use super::fixtures::{Scene, fresh, tick};
use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use crate::secret::PageAccessToken;
use crate::store::account::{AccountStatus, AccountToken, NewAccount};
use crate::store::api::MessageStore;
use crate::store::error::StoreError;
use crate::store::model::StoredMessage;
use crate::store::query::{ConversationQuery, MessageQuery};
use crate::store::unrouted::UnroutedReason;

/// Tenant A and tenant B, both connected to the same account (the same Page linked twice).
fn two_tenants(platform: Platform) -> (Scene, Scene) {
    let a = Scene::new(platform);
    let b = Scene {
        tenant: TenantId::new(fresh("tenant-")),
        ..a.clone()
    };
    (a, b)
}

/// No list, lookup or count of one tenant sees another's messages or conversations.
pub async fn tenant_isolation_reads(h: &Harness) {
    let store = &*h.store;
    let (a, b) = two_tenants(Platform::Messenger);
    a.apply(store, vec![a.text("u7", "iso-1", "for A", tick())])
        .await
        .expect("A");
    assert_eq!(count(store, &b.tenant).await, 0);
    let ma = message(store, &a, "iso-1").await;
    assert!(
        store
            .get_message(&b.tenant, ma.id)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store
            .find_message(&b.tenant, a.platform, &ma.message_id)
            .await
            .expect("find")
            .is_none()
    );
    assert!(
        store
            .list_messages(&b.tenant, &MessageQuery::new())
            .await
            .expect("list")
            .data
            .is_empty()
    );
    assert!(
        store
            .get_conversation(&b.tenant, ma.conversation_id)
            .await
            .expect("get conv")
            .is_none()
    );
}

/// No update or delivery of one tenant changes another's rows, even for the same message ids.
pub async fn tenant_isolation_writes(h: &Harness) {
    let store = &*h.store;
    // Tenant B connected the same Page: the same events, routed to B, are B's own rows.
    let (a, b) = two_tenants(Platform::Messenger);
    let items = vec![a.text("u7", "iso-1", "for A", tick())];
    a.apply(store, items.clone()).await.expect("A");
    let ma = message(store, &a, "iso-1").await;
    for result in [
        store
            .mark_conversation_read(&b.tenant, ma.conversation_id)
            .await,
        store
            .set_conversation_archived(&b.tenant, ma.conversation_id, true)
            .await,
    ] {
        assert!(
            matches!(result, Err(StoreError::NotFound { .. })),
            "{result:?}"
        );
    }
    let report = b.apply(store, items).await.expect("B");
    assert_eq!(
        report.inserted, 1,
        "the same message id is a new row for another tenant"
    );
    b.apply(
        store,
        vec![b.reaction("u7", "iso-1", "react", "👍", tick())],
    )
    .await
    .expect("B reacts");
    assert!(message(store, &a, "iso-1").await.reactions.is_empty());
    let ca = store
        .get_conversation(&a.tenant, ma.conversation_id)
        .await
        .expect("get");
    assert_eq!(ca.map(|c| c.unread_count), Some(1));
}

/// One tenant's accounts are not listed or found for another.
pub async fn tenant_isolation_accounts(h: &Harness) {
    let store = &*h.store;
    let (a, b) = two_tenants(Platform::Messenger);
    store
        .upsert_account(&a.tenant, &NewAccount::new(a.platform, a.account.as_str()))
        .await
        .expect("account");
    assert!(
        store
            .list_accounts(&b.tenant)
            .await
            .expect("accounts")
            .is_empty()
    );
    assert!(
        store
            .get_account(&b.tenant, a.platform, &AccountId::new(a.account.as_str()))
            .await
            .expect("get account")
            .is_none()
    );
}

/// Many tasks applying at once lose nothing and store nothing twice.
pub async fn concurrent_writers(h: &Harness) {
    let s = Scene::new(Platform::Instagram);
    let tasks: Vec<_> = (0..16)
        .map(|task| {
            let store = Arc::clone(&h.store);
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..20 {
                    let user = format!("cw-user-{}", i % 5);
                    let mid = format!("cw-{task}-{i}");
                    // Every delivery also repeats one message another task sends.
                    let shared = format!("cw-shared-{i}");
                    let items = vec![
                        s.text(&user, &mid, "hi", tick()),
                        s.text(&user, &shared, "dup", 1_800_000_000_000 + i),
                    ];
                    s.apply(&*store, items).await.expect("concurrent apply");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task panicked");
    }
    assert_eq!(count(&*h.store, &s.tenant).await, 16 * 20 + 20);
    let convs = h
        .store
        .list_conversations(&s.tenant, &ConversationQuery::new())
        .await
        .expect("list");
    assert_eq!(convs.data.len(), 5);
    let unread: u32 = convs.data.iter().map(|c| c.unread_count).sum();
    assert_eq!(
        unread,
        16 * 20 + 20,
        "unread counts must match the messages stored"
    );
}

/// Everything a tenant sees: its messages, conversations and raw events.
pub(super) type Snapshot = (
    Vec<StoredMessage>,
    Vec<crate::store::conversation::Conversation>,
    Vec<crate::store::api::RawEvent>,
);

pub(super) async fn snapshot(store: &dyn MessageStore, tenant: &TenantId) -> Snapshot {
    let messages = store
        .list_messages(tenant, &MessageQuery::new().limit(100))
        .await
        .expect("list");
    let convs = store
        .list_conversations(tenant, &ConversationQuery::new())
        .await
        .expect("convs");
    let raw = store.list_raw_events(tenant, None, 100).await.expect("raw");
    (messages.data, convs.data, raw)
}

/// A write that fails at any statement leaves the store exactly as it was.
pub async fn failed_writes_leave_nothing(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    store
        .upsert_account(&s.tenant, &NewAccount::new(s.platform, s.account.as_str()))
        .await
        .expect("account");
    s.apply(store, vec![s.echo("u8", "fw-out", "sent", tick())])
        .await
        .expect("setup");
    let items = vec![
        s.text("u8", "fw-1", "one", tick()),
        s.text("u9", "fw-2", "two", tick()),
        s.reaction("u8", "fw-out", "react", "👍", tick()),
        s.read_watermark("u8", tick(), tick()),
        s.postback("u8", "PAYLOAD", tick()),
    ];
    let before = snapshot(store, &s.tenant).await;
    let mut failures = 0;
    for after_writes in 0..64 {
        h.fail_point.fail_after(after_writes);
        let result = s.apply(store, items.clone()).await;
        let armed = h.fail_point.is_armed();
        h.fail_point.disarm();
        if armed {
            // Fewer write statements than the armed position: the write went through.
            assert!(result.is_ok(), "{result:?}");
            break;
        }
        assert!(
            matches!(result, Err(StoreError::InjectedFailure)),
            "{result:?}"
        );
        failures += 1;
        assert_eq!(
            snapshot(store, &s.tenant).await,
            before,
            "a write failing after {after_writes} statements left changes behind"
        );
    }
    assert!(
        failures >= 3,
        "the delivery should take several write statements"
    );
    let after = snapshot(store, &s.tenant).await;
    assert_eq!(after.0.len(), 3, "the retried delivery is applied in full");
    let account = store
        .get_account(&s.tenant, s.platform, &AccountId::new(s.account.as_str()))
        .await
        .expect("account")
        .expect("exists");
    assert!(account.last_event_at_ms.is_some());
}

/// A connected account with a name, a username, a linked Page and a Page token.
fn shop_account(s: &Scene) -> NewAccount {
    NewAccount::new(s.platform, s.account.as_str())
        .with_name("Shop")
        .with_username("shop.official")
        .with_linked_page("104417552380421")
        .with_token(
            AccountToken::Page(PageAccessToken::new("EAAB-secret")),
            Some(1_900_000_000_000),
        )
}

/// An account's token is kept (it opens to the secret) but never shows in Debug or JSON.
pub async fn account_token_kept_and_redacted(h: &Harness) {
    let store = &*h.store;
    let a = Scene::new(Platform::Instagram);
    let saved = store
        .upsert_account(&a.tenant, &shop_account(&a))
        .await
        .expect("upsert");
    assert!(
        !format!("{saved:?}").contains("EAAB-secret"),
        "token in Debug"
    );
    assert!(
        !serde_json::to_string(&saved)
            .expect("json")
            .contains("EAAB-secret")
    );
    let stored = saved.token.as_ref().expect("token kept");
    assert!(
        !format!("{stored:?}").contains("EAAB-secret"),
        "token in Debug"
    );
    match stored.open().await.expect("the token opens") {
        AccountToken::Page(t) => assert_eq!(t.expose(), "EAAB-secret"),
        other => panic!("token not kept: {other:?}"),
    }
    assert_eq!(
        saved.linked_page_id.as_ref().map(|p| p.as_str()),
        Some("104417552380421")
    );
}

/// Upserting an account again updates it in place: one row, its creation time kept.
pub async fn account_upsert_updates_in_place(h: &Harness) {
    let store = &*h.store;
    let a = Scene::new(Platform::Instagram);
    let new = shop_account(&a);
    let saved = store.upsert_account(&a.tenant, &new).await.expect("upsert");
    let renamed = store
        .upsert_account(&a.tenant, &new.with_name("Shop 2"))
        .await
        .expect("update");
    assert_eq!(renamed.created_at_ms, saved.created_at_ms);
    assert_eq!(store.list_accounts(&a.tenant).await.expect("list").len(), 1);
}

/// Events route to every tenant with the account active on that platform; a status change
/// takes a tenant out; an unknown account's status cannot be set.
pub async fn account_routing_and_status(h: &Harness) {
    let store = &*h.store;
    let (a, b) = two_tenants(Platform::Instagram);
    let account = AccountId::new(a.account.as_str());
    for s in [&a, &b] {
        store
            .upsert_account(&s.tenant, &NewAccount::new(s.platform, s.account.as_str()))
            .await
            .expect("upsert");
    }
    let mut both = vec![a.tenant.clone(), b.tenant.clone()];
    both.sort();
    assert_eq!(
        store
            .tenants_for_account(a.platform, &account)
            .await
            .expect("route"),
        both
    );
    let other_platform = store
        .tenants_for_account(Platform::Messenger, &account)
        .await
        .expect("route");
    assert!(other_platform.is_empty());
    let changed = store
        .set_account_status(
            &b.tenant,
            b.platform,
            &account,
            &AccountStatus::Disconnected,
        )
        .await
        .expect("status");
    assert_eq!(changed.status, AccountStatus::Disconnected);
    assert_eq!(
        store
            .tenants_for_account(a.platform, &account)
            .await
            .expect("route"),
        vec![a.tenant.clone()]
    );
    let missing = store
        .set_account_status(
            &a.tenant,
            a.platform,
            &AccountId::new("nope"),
            &AccountStatus::Active,
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
}

/// An account's last event time follows its newest event, not the latest one applied.
pub async fn account_last_event_time(h: &Harness) {
    let store = &*h.store;
    let a = Scene::new(Platform::Instagram);
    let account = AccountId::new(a.account.as_str());
    store
        .upsert_account(&a.tenant, &shop_account(&a))
        .await
        .expect("upsert");
    let t = tick();
    a.apply(store, vec![a.text("u10", "acc-1", "hi", t)])
        .await
        .expect("apply");
    let touched = store
        .get_account(&a.tenant, a.platform, &account)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(touched.last_event_at_ms, Some(t));
    // A delivery Meta retried late carries an older time: the last event stays the newest.
    a.apply(store, vec![a.text("u10", "acc-0", "earlier", t - 500)])
        .await
        .expect("apply late");
    let late = store
        .get_account(&a.tenant, a.platform, &account)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(late.last_event_at_ms, Some(t), "a late event moved it back");
}

/// Events of an account no tenant connected are kept once each, and counted.
pub async fn unrouted_events_kept_once(h: &Harness) {
    let store = &*h.store;
    let stray = Scene::new(Platform::Messenger);
    let events = stray.unrouted(
        vec![stray.text("u11", "stray-1", "anyone?", tick())],
        &UnroutedReason::NoTenant,
    );
    assert_eq!(store.record_unrouted(&events).await.expect("unrouted"), 1);
    assert_eq!(
        store
            .record_unrouted(&events)
            .await
            .expect("unrouted again"),
        0
    );
    let stray_account = AccountId::new(stray.account.as_str());
    assert_eq!(
        store
            .unrouted_count(stray.platform, &stray_account)
            .await
            .expect("count"),
        1
    );
}

/// Unrouted events are listed per account, oldest first, by keyset, and read back as the events
/// they were: what a tenant connecting the account replays.
pub async fn unrouted_events_listed_for_replay(h: &Harness) {
    let store = &*h.store;
    let stray = Scene::new(Platform::Instagram);
    let other = Scene::new(Platform::Instagram);
    let items = vec![
        stray.text("u12", "replay-1", "first", tick()),
        stray.text("u12", "replay-2", "second", tick()),
        stray.reaction("u12", "replay-1", "react", "❤", tick()),
    ];
    store
        .record_unrouted(&stray.unrouted(items, &UnroutedReason::NoTenant))
        .await
        .expect("unrouted");
    store
        .record_unrouted(&other.unrouted(
            vec![other.text("u13", "elsewhere", "no", tick())],
            &UnroutedReason::NoTenant,
        ))
        .await
        .expect("other");
    let account = AccountId::new(stray.account.as_str());
    let all = store
        .unrouted_events(stray.platform, &account, 0, 50)
        .await
        .expect("list");
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    assert!(all.iter().all(|e| e.account_id == account));
    let events = all[0].to_events().expect("reads back");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message_id().map(|m| m.as_str()), Some("replay-1"));
    assert_eq!(events[0].text(), Some("first"));
    assert_eq!(
        all[2].to_events().expect("reaction")[0].kind(),
        crate::webhook::EventKind::Reaction
    );
    let rest = store
        .unrouted_events(stray.platform, &account, all[0].id, 1)
        .await
        .expect("page");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id, all[1].id);
}
