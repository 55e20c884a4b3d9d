//! `Inbox::receive` and `verify_subscription`: verification, routing, storage, errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{
    EventHandler, HandlerError, HandlerEvent, Inbox, InboxError, Tenancy,
};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::store::{
    InMemoryStore, MessageQuery, MessageStore, PostgresOptions, PostgresStore, SqliteStore,
};
use meta_messaging_core::webhook::{self, EventKind};

use crate::support::graph_mock::{APP_SECRET, IG_ACCOUNT_ID, IGSID, PAGE_ID, PSID};
use crate::support::inbox::{
    VERIFY_TOKEN, connect_accounts, delivery, harness, harness_with, tenant,
};
use crate::support::postgres as pg;

#[tokio::test]
async fn single_tenant_stores_once_and_records_new_accounts() {
    let h = harness(Tenancy::Single(tenant())).await;
    let (body, signature) = delivery(
        Platform::Instagram,
        IG_ACCOUNT_ID,
        IGSID,
        "Do you ship to Lyon?",
    );

    let receipt = h.inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!(receipt.events, 1);
    assert_eq!(receipt.applied.inserted, 1);
    assert_eq!(receipt.unrouted, 0);

    // Meta redelivers: stored once.
    let again = h.inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!(again.applied.inserted, 0);
    let page = h
        .inbox
        .messages(&tenant(), &MessageQuery::new())
        .await
        .unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].text.as_deref(), Some("Do you ship to Lyon?"));
    assert_eq!(page.data[0].sender_id, IGSID);

    // The account seen for the first time is recorded for the one tenant, without a token.
    let accounts = h.inbox.accounts(&tenant()).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].platform, Platform::Instagram);
    assert_eq!(accounts[0].account_id, IG_ACCOUNT_ID);
    assert!(accounts[0].token.is_none());
    let status = h.inbox.status(&tenant()).await.unwrap();
    assert!(!status.accounts[0].connected);
    assert!(status.accounts[0].last_event_at_ms.is_some());
}

#[tokio::test]
async fn multi_tenant_fans_out_and_keeps_unrouted_events() {
    let h = harness(Tenancy::Multi).await;
    let (a, b) = (TenantId::new("agency-a"), TenantId::new("agency-b"));
    connect_accounts(h.store.as_ref(), &a).await;
    connect_accounts(h.store.as_ref(), &b).await;

    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "Hello both");
    let receipt = h.inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!(
        receipt.applied.inserted, 2,
        "one copy per tenant that connected the Page"
    );
    for tenant in [&a, &b] {
        let page = h
            .inbox
            .messages(tenant, &MessageQuery::new())
            .await
            .unwrap();
        assert_eq!(page.data.len(), 1);
        assert_eq!(page.data[0].text.as_deref(), Some("Hello both"));
    }

    // A Page nobody connected: kept, not stored for anyone, counted in the status.
    let (body, signature) = delivery(Platform::Messenger, "999000999000999", PSID, "Anyone?");
    let receipt = h.inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!(receipt.applied.inserted, 0);
    assert_eq!(receipt.unrouted, 1);
    assert_eq!(
        h.store
            .unrouted_count(Platform::Messenger, &"999000999000999".into())
            .await
            .unwrap(),
        1
    );
    let messages = h.inbox.messages(&a, &MessageQuery::new()).await.unwrap();
    assert_eq!(messages.data.len(), 1);
}

/// Events for a Page no tenant had connected are replayed into the tenant that connects it, once;
/// the routing cache forgets that the Page had no tenant.
#[tokio::test]
async fn an_account_connected_later_gets_what_it_received_before() {
    let h = harness(Tenancy::Multi).await;
    let shop = TenantId::new("late-shop");
    for text in ["Anyone there?", "Hello?"] {
        let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, text);
        let receipt = h.inbox.receive(Some(&signature), &body).await.unwrap();
        assert_eq!(receipt.unrouted, 1);
    }
    connect_accounts(h.store.as_ref(), &shop).await;
    let replayed = h
        .inbox
        .replay_unrouted(&shop, Platform::Messenger, &PAGE_ID.into())
        .await
        .unwrap();
    assert_eq!(replayed.inserted, 2);
    let again = h
        .inbox
        .replay_unrouted(&shop, Platform::Messenger, &PAGE_ID.into())
        .await
        .unwrap();
    assert_eq!(
        (again.inserted, again.duplicates),
        (0, 2),
        "replaying twice changes nothing"
    );

    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "Now connected");
    let receipt = h.inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!((receipt.applied.inserted, receipt.unrouted), (1, 0));
    let texts: Vec<_> = h
        .inbox
        .messages(&shop, &MessageQuery::new())
        .await
        .unwrap()
        .data
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert_eq!(texts, ["Now connected", "Hello?", "Anyone there?"]);
}

#[tokio::test]
async fn refusals_map_to_the_documented_statuses_and_bodies() {
    let h = harness_with(Tenancy::Single(tenant()), |b| b.max_body_bytes(2048)).await;
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "hi");

    let missing = h.inbox.receive(None, &body).await.unwrap_err();
    assert_eq!(
        (
            meta_messaging_core::contract::status(&missing),
            missing.kind()
        ),
        (401, "missing_signature")
    );

    let forged = webhook::sign(&AppSecret::new("another-app"), &body);
    let wrong = h.inbox.receive(Some(&forged), &body).await.unwrap_err();
    assert_eq!(
        (meta_messaging_core::contract::status(&wrong), wrong.kind()),
        (401, "invalid_signature")
    );
    let json = serde_json::to_value(meta_messaging_core::contract::body(&wrong)).unwrap();
    assert_eq!(json["error"]["kind"], "invalid_signature");
    assert!(
        json["error"]["fix"]
            .as_str()
            .unwrap()
            .contains("META_APP_SECRET")
    );
    assert!(json["error"]["code"].is_null());
    assert!(!json.to_string().contains(APP_SECRET));

    let garbage = br#"{"object":"page","entry":[}"#;
    let malformed = h
        .inbox
        .receive(
            Some(&webhook::sign(&AppSecret::new(APP_SECRET), garbage)),
            garbage,
        )
        .await
        .unwrap_err();
    assert_eq!(
        (
            meta_messaging_core::contract::status(&malformed),
            malformed.kind()
        ),
        (400, "malformed_delivery")
    );

    let big = vec![b' '; 2049];
    let too_large = h.inbox.receive(Some(&signature), &big).await.unwrap_err();
    assert_eq!(
        (
            meta_messaging_core::contract::status(&too_large),
            too_large.kind()
        ),
        (413, "payload_too_large")
    );

    // Nothing of the refused requests was stored.
    assert!(
        h.inbox
            .messages(&tenant(), &MessageQuery::new())
            .await
            .unwrap()
            .data
            .is_empty()
    );
    let ok = h.inbox.receive(Some(&signature), &body).await;
    assert!(ok.is_ok());
}

#[tokio::test]
async fn a_failed_store_write_is_a_500_and_the_redelivery_is_stored_once() {
    let h = harness(Tenancy::Single(tenant())).await;
    // Let the account be recorded first, so the armed failure hits the delivery's write. It is
    // built first too, so its timestamp is not later than the tested delivery's.
    let (warmup, warmup_sig) = delivery(Platform::Instagram, IG_ACCOUNT_ID, IGSID, "first");
    h.inbox.receive(Some(&warmup_sig), &warmup).await.unwrap();
    let (body, signature) = delivery(Platform::Instagram, IG_ACCOUNT_ID, IGSID, "Still there?");

    h.store.fail_point().fail_after(0);
    let err = h.inbox.receive(Some(&signature), &body).await.unwrap_err();
    assert!(matches!(err, InboxError::Store(_)));
    assert_eq!(
        (meta_messaging_core::contract::status(&err), err.kind()),
        (500, "store_unavailable")
    );
    assert_eq!(
        h.inbox
            .messages(&tenant(), &MessageQuery::new())
            .await
            .unwrap()
            .data
            .len(),
        1
    );

    // Meta redelivers after the error: stored once.
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    let page = h
        .inbox
        .messages(&tenant(), &MessageQuery::new())
        .await
        .unwrap();
    assert_eq!(page.data.len(), 2);
    assert_eq!(page.data[0].text.as_deref(), Some("Still there?"));
}

#[tokio::test]
async fn handshake_echoes_the_challenge_or_refuses_with_403() {
    let h = harness(Tenancy::Multi).await;
    let ok = h
        .inbox
        .verify_subscription(&format!(
            "hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
        ))
        .unwrap();
    assert_eq!(ok, "1158201444");
    let refused = h
        .inbox
        .verify_subscription("hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1")
        .unwrap_err();
    assert_eq!(
        (
            meta_messaging_core::contract::status(&refused),
            refused.kind()
        ),
        (403, "handshake_refused")
    );
}

/// Counts the events it sees, after checking they are already stored.
struct StoredCheck {
    seen: AtomicUsize,
    done: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl EventHandler for StoredCheck {
    async fn handle(&self, inbox: &Inbox, event: &HandlerEvent) -> Result<(), HandlerError> {
        if event.event.kind() == EventKind::Message {
            let mid = event.event.message_id().ok_or("message without id")?;
            let stored = inbox
                .store()
                .find_message(&event.tenant_id, event.event.platform, mid)
                .await?;
            if stored.is_none() {
                return Err("handler ran before the write".into());
            }
            self.seen.fetch_add(1, Ordering::SeqCst);
            self.done.notify_one();
        }
        Ok(())
    }
}

#[tokio::test]
async fn handlers_run_after_the_durable_write() {
    let handler = Arc::new(StoredCheck {
        seen: AtomicUsize::new(0),
        done: tokio::sync::Notify::new(),
    });
    let h = harness_with(Tenancy::Single(tenant()), |b| b.handler(handler.clone())).await;
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "ping");
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), handler.done.notified())
        .await
        .expect("the handler ran");
    assert_eq!(handler.seen.load(Ordering::SeqCst), 1);
}

/// A signed fixture delivery: its body, its signature and the body as JSON.
fn signed_fixture(name: &str) -> (Vec<u8>, String, serde_json::Value) {
    let path = format!(
        "{}/fixtures/webhooks/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let signature = webhook::sign(&AppSecret::new(APP_SECRET), &body);
    let json = serde_json::from_slice(&body).unwrap();
    (body, signature, json)
}

/// Deliveries of objects the inbox does not handle are accepted (Meta gets its 200) and kept
/// raw under the one tenant, without recording an account for them.
async fn unknown_objects_are_accepted_and_kept(store: Arc<dyn MessageStore>) {
    let inbox = Inbox::builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .verify_token(meta_messaging_core::secret::VerifyToken::new(VERIFY_TOKEN))
        .store(store.clone())
        .tenancy(Tenancy::Single(tenant()))
        .build()
        .unwrap();

    let (body, signature, whatsapp) = signed_fixture("unknown_object_whatsapp");
    let receipt = inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!((receipt.events, receipt.applied.raw_kept), (1, 1));
    let (body, signature, user) = signed_fixture("unknown_object_user");
    let receipt = inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!((receipt.events, receipt.applied.raw_kept), (2, 2));
    // Meta redelivers: kept once.
    let again = inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!((again.applied.raw_kept, again.applied.duplicates), (0, 2));

    let raw = store.list_raw_events(&tenant(), None, 10).await.unwrap();
    assert_eq!(raw.len(), 3, "{raw:?}");
    assert!(raw.iter().all(|r| r.kind == "unknown"));
    let kept = |id: &str| {
        raw.iter()
            .find(|r| r.account_id == id)
            .unwrap_or_else(|| panic!("nothing kept for {id}: {raw:?}"))
            .raw
            .clone()
    };
    assert_eq!(kept("102290129340398"), whatsapp, "the whole body is kept");
    assert_eq!(
        kept("10210299214172188"),
        serde_json::json!({"object": "user", "entry": [user["entry"][1]]})
    );
    assert!(
        inbox.accounts(&tenant()).await.unwrap().is_empty(),
        "a WhatsApp account or a user is not a Page to record"
    );
}

#[tokio::test]
async fn unknown_objects_are_kept_raw_in_memory() {
    unknown_objects_are_accepted_and_kept(Arc::new(InMemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_objects_are_kept_raw_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("store.db"))
        .await
        .unwrap();
    unknown_objects_are_accepted_and_kept(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_objects_are_kept_raw_in_postgres() {
    let Some(url) = pg::url() else { return };
    let schema = pg::fresh_schema("mm_unknown_objects");
    let store = PostgresStore::connect_with(PostgresOptions::new(&url).schema(&schema))
        .await
        .unwrap();
    pg::in_schema(
        &url,
        &schema,
        unknown_objects_are_accepted_and_kept(Arc::new(store)),
    )
    .await;
}

#[tokio::test]
async fn with_many_tenants_unknown_objects_are_kept_as_unrouted() {
    let h = harness(Tenancy::Multi).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let (body, signature, _) = signed_fixture("unknown_object_whatsapp");
    let receipt = h.inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!((receipt.events, receipt.unrouted), (1, 1));
    assert_eq!(receipt.applied.raw_kept, 0);
    assert_eq!(
        h.store
            .unrouted_count(Platform::Messenger, &"102290129340398".into())
            .await
            .unwrap(),
        1
    );
    assert!(
        h.store
            .list_raw_events(&tenant(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // A signed body that is not a delivery at all is still refused.
    let body = br#"{"object":"whatsapp_business_account"}"#;
    let refused = h
        .inbox
        .receive(
            Some(&webhook::sign(&AppSecret::new(APP_SECRET), body)),
            body,
        )
        .await
        .unwrap_err();
    assert_eq!(
        (
            meta_messaging_core::contract::status(&refused),
            refused.kind()
        ),
        (400, "malformed_delivery")
    );
}
