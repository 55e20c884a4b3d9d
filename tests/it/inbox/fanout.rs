//! Live events across instances: two `Inbox`es on one PostgreSQL schema, each with its own
//! store pool and `LiveFanout`, see each other's changes through LISTEN/NOTIFY.
//!
//! Runs when `META_MESSAGING_TEST_POSTGRES_URL` is set (see `crate::store`); each test gets its
//! own schema, hence its own channel, dropped at the end.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{
    FanoutOptions, Inbox, InboxEvent, LiveEvent, LiveFanout, Subscription, Tenancy,
};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{NewAccount, PostgresOptions, PostgresStore};
use sqlx::Connection;

use crate::support::graph_mock::{APP_SECRET, IG_ACCOUNT_ID, IGSID, PAGE_ID, PSID};
use crate::support::inbox::{VERIFY_TOKEN, delivery, tenant};
use crate::support::postgres;

/// The tenant of the Instagram account; the Messenger Page belongs to [`tenant`].
fn boutique() -> TenantId {
    TenantId::new("boutique")
}

/// One app instance: its own store pool and fan-out connections on the shared schema.
async fn instance(options: &PostgresOptions) -> Inbox {
    let store = PostgresStore::connect_with(options.clone())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is unreachable or refused: {e:?}"));
    let fanout = LiveFanout::connect(FanoutOptions::for_store(options))
        .await
        .unwrap();
    Inbox::builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .verify_token(VerifyToken::new(VERIFY_TOKEN))
        .store(store)
        .tenancy(Tenancy::Multi)
        .live_fanout(fanout)
        .build()
        .unwrap()
}

/// Runs `case` with two instances on a fresh schema (and the fan-out channel, named after it),
/// then drops the schema even when the case fails.
async fn with_two_instances<F, Fut>(case: F)
where
    F: FnOnce(Inbox, Inbox, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = postgres::url() else { return };
    let schema = postgres::fresh_schema("mm_fanout");
    let options = PostgresOptions::new(&url).schema(&schema);
    let channel = FanoutOptions::for_store(&options).channel_name().to_owned();
    let a = instance(&options).await;
    let b = instance(&options).await;
    let store = a.store().clone();
    for (platform, account, owner) in [
        (Platform::Messenger, PAGE_ID, tenant()),
        (Platform::Instagram, IG_ACCOUNT_ID, boutique()),
    ] {
        store
            .upsert_account(&owner, &NewAccount::new(platform, account))
            .await
            .unwrap();
    }
    postgres::in_schema(&url, &schema, case(a, b, channel)).await;
}

async fn next(sub: &mut Subscription) -> Arc<LiveEvent> {
    tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("an event within 5 s")
        .expect("the subscription is open")
}

/// The next event if one comes within 300 ms.
async fn next_or_none(sub: &mut Subscription) -> Option<Arc<LiveEvent>> {
    tokio::time::timeout(Duration::from_millis(300), sub.next())
        .await
        .ok()
        .flatten()
}

/// Receives a Messenger text on `inbox` (for [`tenant`]) or an Instagram one (for [`boutique`]).
async fn receive(inbox: &Inbox, platform: Platform, text: &str) {
    let (account, user) = match platform {
        Platform::Messenger => (PAGE_ID, PSID),
        _ => (IG_ACCOUNT_ID, IGSID),
    };
    let (body, signature) = delivery(platform, account, user, text);
    let receipt = inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!(receipt.applied.inserted, 1);
}

/// Expects a `message_stored` with `text`, then its conversation's `conversation_updated`.
async fn expect_message(
    sub: &mut Subscription,
    text: &str,
) -> meta_messaging_core::store::ConversationId {
    let event = next(sub).await;
    let InboxEvent::MessageStored { message } = &event.event else {
        panic!("expected message_stored({text}), got {event:?}");
    };
    assert_eq!(message.text.as_deref(), Some(text));
    let event = next(sub).await;
    let InboxEvent::ConversationUpdated { conversation } = &event.event else {
        panic!("expected conversation_updated after {text}, got {event:?}");
    };
    assert_eq!(conversation.id, message.conversation_id);
    conversation.id
}

#[tokio::test]
async fn a_delivery_to_one_instance_reaches_subscribers_of_another() {
    with_two_instances(|a, b, _| async move {
        let mut on_a = a.subscribe(&tenant()).await.unwrap();
        let mut on_b = b.subscribe(&tenant()).await.unwrap();

        receive(&a, Platform::Messenger, "Is the blue one in stock?").await;
        expect_message(&mut on_a, "Is the blue one in stock?").await;
        let conversation = expect_message(&mut on_b, "Is the blue one in stock?").await;

        // Changes made through the other instance come back the same way (marking read
        // updates the message, then the conversation).
        b.mark_read(&tenant(), conversation).await.unwrap();
        for sub in [&mut on_b, &mut on_a] {
            let event = next(sub).await;
            assert!(
                matches!(&event.event, InboxEvent::MessageUpdated { message } if message.read_at_ms.is_some()),
                "{event:?}"
            );
            let event = next(sub).await;
            let InboxEvent::ConversationUpdated { conversation } = &event.event else {
                panic!("expected conversation_updated after mark_read, got {event:?}");
            };
            assert_eq!(conversation.unread_count, 0);
        }
    })
    .await;
}

#[tokio::test]
async fn an_instance_skips_its_own_notifications_and_tenants_stay_apart() {
    with_two_instances(|a, b, _| async move {
        let mut shop_on_a = a.subscribe(&tenant()).await.unwrap();
        let mut shop_on_b = b.subscribe(&tenant()).await.unwrap();
        let mut boutique_on_b = b.subscribe(&boutique()).await.unwrap();

        receive(&b, Platform::Messenger, "first, through B").await;
        expect_message(&mut shop_on_b, "first, through B").await;
        // Once A has seen B's events, B's NOTIFY is committed and queued on B's listener ahead of
        // anything sent later: a duplicate would come before the next message.
        expect_message(&mut shop_on_a, "first, through B").await;
        receive(&a, Platform::Messenger, "second, through A").await;
        expect_message(&mut shop_on_b, "second, through A").await;
        expect_message(&mut shop_on_a, "second, through A").await;
        let extra = next_or_none(&mut shop_on_b).await;
        assert!(extra.is_none(), "B saw its own event twice: {extra:?}");

        let leaked = next_or_none(&mut boutique_on_b).await;
        assert!(leaked.is_none(), "another tenant saw {leaked:?}");
        receive(&a, Platform::Instagram, "for the boutique").await;
        expect_message(&mut boutique_on_b, "for the boutique").await;
        let leaked = next_or_none(&mut shop_on_b).await;
        assert!(leaked.is_none(), "the shop saw the boutique's {leaked:?}");
    })
    .await;
}

#[tokio::test]
async fn an_invalid_channel_is_refused_before_connecting() {
    let err = LiveFanout::connect(
        FanoutOptions::new("postgres://app:hunter2@127.0.0.1:1/none").channel("no spaces"),
    )
    .await
    .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter2"));
    let err = LiveFanout::connect(FanoutOptions::new("mysql://app:hunter2@db/x"))
        .await
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
}

#[tokio::test]
async fn the_listener_reconnects_after_its_connection_is_killed() {
    let Some(url) = postgres::url() else { return };
    with_two_instances(|a, b, channel| async move {
        let mut on_b = b.subscribe(&tenant()).await.unwrap();
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        let listeners = || {
            sqlx::query_scalar::<_, i32>(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN \"' || $1 || '\"%'",
            )
            .bind(channel.clone())
        };
        let before = listeners().fetch_all(&mut admin).await.unwrap();
        assert_eq!(before.len(), 2, "one listening connection per instance");
        for pid in &before {
            sqlx::query("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .execute(&mut admin)
                .await
                .unwrap();
        }
        // Changed while B's listener is down: B reads it from the change log when it is back.
        receive(&a, Platform::Messenger, "while the listeners were down").await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let now = listeners().fetch_all(&mut admin).await.unwrap();
            if now.len() == 2 && now.iter().all(|pid| !before.contains(pid)) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "listeners not back: {now:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        expect_message(&mut on_b, "while the listeners were down").await;
        receive(&a, Platform::Messenger, "after the reconnect").await;
        expect_message(&mut on_b, "after the reconnect").await;
        let extra = next_or_none(&mut on_b).await;
        assert!(extra.is_none(), "an event came twice: {extra:?}");
    })
    .await;
}
