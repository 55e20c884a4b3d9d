//! `Inbox::subscribe`: live events, bounded, with a lag notice.

use std::time::Duration;

use meta_messaging_core::inbox::{InboxEvent, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::store::ConversationQuery;

use crate::support::graph_mock::{IG_ACCOUNT_ID, IGSID, PAGE_ID, PSID};
use crate::support::inbox::{delivery, harness, harness_with, tenant};

async fn next(sub: &mut meta_messaging_core::inbox::Subscription) -> std::sync::Arc<InboxEvent> {
    tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("an event within 5 s")
        .expect("the subscription is open")
}

#[tokio::test]
async fn a_delivery_reaches_subscribers_of_its_tenant_only() {
    let h = harness(Tenancy::Single(tenant())).await;
    let mut mine = h.inbox.subscribe(&tenant());
    let mut other = h.inbox.subscribe(&"someone-else".into());
    let (body, signature) = delivery(
        Platform::Instagram,
        IG_ACCOUNT_ID,
        IGSID,
        "New order question",
    );
    h.inbox.receive(Some(&signature), &body).await.unwrap();

    let InboxEvent::MessageStored { message } = &*next(&mut mine).await else {
        panic!("expected message_stored first");
    };
    assert_eq!(message.text.as_deref(), Some("New order question"));
    let InboxEvent::ConversationUpdated { conversation } = &*next(&mut mine).await else {
        panic!("expected conversation_updated");
    };
    assert_eq!(conversation.unread_count, 1);
    assert_eq!(conversation.id, message.conversation_id);
    let leaked = next_or_none(&mut other).await;
    assert!(leaked.is_none(), "another tenant saw {leaked:?}");

    // Marking read is broadcast too.
    h.inbox.mark_read(&tenant(), conversation.id).await.unwrap();
    let InboxEvent::ConversationUpdated { conversation } = &*next(&mut mine).await else {
        panic!("expected conversation_updated after mark_read");
    };
    assert_eq!(conversation.unread_count, 0);
    let archived = h
        .inbox
        .set_archived(&tenant(), conversation.id, true)
        .await
        .unwrap();
    assert!(archived.archived);
    let listed = h
        .inbox
        .conversations(&tenant(), &ConversationQuery::new().archived(false))
        .await
        .unwrap();
    assert!(listed.data.is_empty());
}

/// The next event if one comes within 200 ms.
async fn next_or_none(
    sub: &mut meta_messaging_core::inbox::Subscription,
) -> Option<std::sync::Arc<InboxEvent>> {
    tokio::time::timeout(Duration::from_millis(200), sub.next())
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn a_slow_subscriber_is_dropped_with_a_lag_notice_and_never_blocks_ingestion() {
    let h = harness_with(Tenancy::Single(tenant()), |b| b.live_capacity(2)).await;
    let mut slow = h.inbox.subscribe(&tenant());
    for i in 0..10 {
        let (body, signature) =
            delivery(Platform::Messenger, PAGE_ID, PSID, &format!("message {i}"));
        // Each delivery publishes two events; with capacity 2 the subscriber falls behind at once.
        tokio::time::timeout(
            Duration::from_secs(5),
            h.inbox.receive(Some(&signature), &body),
        )
        .await
        .expect("ingestion never waits for subscribers")
        .unwrap();
    }
    let InboxEvent::Lagged { missed } = &*next(&mut slow).await else {
        panic!("expected a lag notice");
    };
    assert!(*missed >= 10, "missed {missed}");
    assert_eq!(
        serde_json::to_value(InboxEvent::Lagged { missed: *missed }).unwrap()["type"],
        "lagged"
    );
    assert!(
        slow.next().await.is_none(),
        "the stream ends after the notice"
    );
}

/// Live events carry the stored message without Meta's raw JSON, which the store keeps.
#[tokio::test]
async fn live_events_never_carry_the_raw_webhook_json() {
    let h = harness(Tenancy::Single(tenant())).await;
    let mut sub = h.inbox.subscribe(&tenant());
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "Keep my data private");
    h.inbox.receive(Some(&signature), &body).await.unwrap();

    let event = next(&mut sub).await;
    let InboxEvent::MessageStored { message } = &*event else {
        panic!("expected message_stored, got {event:?}");
    };
    assert!(message.raw_event.is_none());
    let json = serde_json::to_value(&*event).unwrap();
    assert_eq!(json["message"]["text"], "Keep my data private");
    assert!(json["message"].get("raw_event").is_none(), "{json:#}");
    assert!(!json.to_string().contains("\"raw"), "{json:#}");

    let stored = h
        .inbox
        .messages(
            &tenant(),
            &meta_messaging_core::store::MessageQuery::new().include_raw(true),
        )
        .await
        .unwrap();
    assert!(
        stored.data[0].raw_event.is_some(),
        "the store's read API still has it"
    );
}
