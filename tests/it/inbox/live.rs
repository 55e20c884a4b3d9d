//! `Inbox::subscribe`: live events from the change log, in order, each once, resumable.

use std::sync::Arc;
use std::time::Duration;

use meta_messaging_core::inbox::{InboxEvent, LiveEvent, Subscription, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::store::{ConversationQuery, MessageQuery, MessageStore, OutboundMessage};
use meta_messaging_core::webhook::DeliveryBuilder;
use serde_json::json;

use crate::support::graph_mock::{APP_SECRET, IG_ACCOUNT_ID, IGSID, PAGE_ID, PSID};
use crate::support::inbox::{connect_accounts, delivery, harness, harness_with, tenant};
use meta_messaging_core::secret::AppSecret;

async fn next(sub: &mut Subscription) -> Arc<LiveEvent> {
    tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("an event within 5 s")
        .expect("the subscription is open")
}

/// The next event if one comes within 200 ms.
async fn next_or_none(sub: &mut Subscription) -> Option<Arc<LiveEvent>> {
    tokio::time::timeout(Duration::from_millis(200), sub.next())
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn a_delivery_reaches_subscribers_of_its_tenant_only() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let mut mine = h.inbox.subscribe(&tenant()).await.unwrap();
    let mut other = h.inbox.subscribe(&"someone-else".into()).await.unwrap();
    let (body, signature) = delivery(
        Platform::Instagram,
        IG_ACCOUNT_ID,
        IGSID,
        "New order question",
    );
    h.inbox.receive(Some(&signature), &body).await.unwrap();

    let stored = next(&mut mine).await;
    let InboxEvent::MessageStored { message } = &stored.event else {
        panic!("expected message_stored first, got {stored:?}");
    };
    assert_eq!(message.text.as_deref(), Some("New order question"));
    let updated = next(&mut mine).await;
    let InboxEvent::ConversationUpdated { conversation } = &updated.event else {
        panic!("expected conversation_updated, got {updated:?}");
    };
    assert_eq!(updated.seq, stored.seq + 1, "consecutive changes");
    assert_eq!(conversation.unread_count, 1);
    assert_eq!(conversation.id, message.conversation_id);
    let leaked = next_or_none(&mut other).await;
    assert!(leaked.is_none(), "another tenant saw {leaked:?}");

    // Marking read changes the message and the conversation.
    h.inbox.mark_read(&tenant(), conversation.id).await.unwrap();
    let read = next(&mut mine).await;
    assert!(
        matches!(&read.event, InboxEvent::MessageUpdated { message } if message.read_at_ms.is_some()),
        "{read:?}"
    );
    let read = next(&mut mine).await;
    let InboxEvent::ConversationUpdated { conversation } = &read.event else {
        panic!("expected conversation_updated after mark_read, got {read:?}");
    };
    assert_eq!(conversation.unread_count, 0);
    let archived = h
        .inbox
        .set_archived(&tenant(), conversation.id, true)
        .await
        .unwrap();
    assert!(archived.archived);
    let event = next(&mut mine).await;
    assert!(
        matches!(&event.event, InboxEvent::ConversationUpdated { conversation } if conversation.archived),
        "{event:?}"
    );
    let listed = h
        .inbox
        .conversations(&tenant(), &ConversationQuery::new().archived(false))
        .await
        .unwrap();
    assert!(listed.data.is_empty());
}

/// A subscriber that falls behind the live batches reads the log: it gets every change, in
/// order, once, and ingestion never waits for it.
#[tokio::test]
async fn a_slow_subscriber_catches_up_from_the_log_and_never_blocks_ingestion() {
    let h = harness_with(Tenancy::Single(tenant()), |b| b.live_capacity(1)).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let mut slow = h.inbox.subscribe(&tenant()).await.unwrap();
    let start = slow.position();
    for i in 0..10 {
        let (body, signature) =
            delivery(Platform::Messenger, PAGE_ID, PSID, &format!("message {i}"));
        tokio::time::timeout(
            Duration::from_secs(5),
            h.inbox.receive(Some(&signature), &body),
        )
        .await
        .expect("ingestion never waits for subscribers")
        .unwrap();
    }
    let mut texts = Vec::new();
    let mut seq = start;
    while texts.len() < 10 {
        let event = next(&mut slow).await;
        assert_eq!(event.seq, seq + 1, "no change skipped or repeated");
        seq = event.seq;
        if let InboxEvent::MessageStored { message } = &event.event {
            texts.push(message.text.clone().unwrap_or_default());
        }
    }
    let expected: Vec<String> = (0..10).map(|i| format!("message {i}")).collect();
    assert_eq!(texts, expected);
}

/// A subscriber that went away resumes after the last change it saw: it gets everything
/// changed meanwhile, then the live changes, with no gap and no repeat.
#[tokio::test]
async fn a_subscriber_resumes_after_the_last_change_it_saw() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let mut first = h.inbox.subscribe(&tenant()).await.unwrap();
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "before the drop");
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    let seen = next(&mut first).await;
    assert!(matches!(seen.event, InboxEvent::MessageStored { .. }));
    drop(first);

    for text in ["while away 1", "while away 2"] {
        let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, text);
        h.inbox.receive(Some(&signature), &body).await.unwrap();
    }
    let mut resumed = h.inbox.subscribe_after(&tenant(), seen.seq).await.unwrap();
    let mut seqs = Vec::new();
    let mut texts = Vec::new();
    // The conversation of the first message, then two messages and their conversation.
    for _ in 0..5 {
        let event = next(&mut resumed).await;
        seqs.push(event.seq);
        if let InboxEvent::MessageStored { message } = &event.event {
            texts.push(message.text.clone().unwrap_or_default());
        }
    }
    assert_eq!(
        seqs,
        (seen.seq + 1..=seen.seq + 5).collect::<Vec<_>>(),
        "every change after the one seen"
    );
    assert_eq!(texts, ["while away 1", "while away 2"]);

    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "live again");
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    let live = next(&mut resumed).await;
    assert_eq!(live.seq, seen.seq + 6);
    assert!(
        matches!(&live.event, InboxEvent::MessageStored { message } if message.text.as_deref() == Some("live again"))
    );
    let more = next(&mut resumed).await;
    assert!(matches!(more.event, InboxEvent::ConversationUpdated { .. }));
    assert!(next_or_none(&mut resumed).await.is_none(), "nothing twice");
}

/// A reply recorded by the inbox and its echo are one `message_stored`; whatever writes to the
/// store (here the host, directly) reaches subscribers through the change log.
#[tokio::test]
async fn a_reply_and_its_echo_are_one_message_stored() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let mut sub = h.inbox.subscribe(&tenant()).await.unwrap();
    let sent = OutboundMessage::new(
        Platform::Messenger,
        PAGE_ID,
        PSID,
        "m_reply_1",
        1_700_000_000_000,
    )
    .with_text("On its way");
    h.store.record_outbound(&tenant(), &sent).await.unwrap();
    let echo = json!({
        "sender": {"id": PAGE_ID}, "recipient": {"id": PSID}, "timestamp": 1_700_000_000_000_i64,
        "message": {"mid": "m_reply_1", "is_echo": true, "app_id": 1_234_567_890_u64, "text": "On its way"}
    });
    let (body, signature) = DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
        .messaging_event(echo)
        .signed(&AppSecret::new(APP_SECRET));
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    h.inbox.receive(Some(&signature), &body).await.unwrap();

    let mut names = Vec::new();
    while let Some(event) = next_or_none(&mut sub).await {
        names.push(event.event.name());
    }
    assert_eq!(
        names,
        ["message_stored", "conversation_updated", "message_updated"],
        "the echo merges into the reply: one message_stored, and a redelivery changes nothing"
    );
}

/// A subscriber resuming from a place the log no longer holds is told to reload.
#[tokio::test]
async fn resuming_behind_the_retention_is_a_reset() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "old news");
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    h.store.prune_changes(i64::MAX).await.unwrap();
    let mut behind = h.inbox.subscribe_after(&tenant(), 0).await.unwrap();
    let event = next(&mut behind).await;
    assert!(matches!(event.event, InboxEvent::Reset), "{event:?}");
    assert_eq!(
        serde_json::to_value(&event.event).unwrap(),
        json!({"type": "reset"})
    );
    assert!(
        behind.next().await.is_none(),
        "the stream ends after a reset"
    );

    // From the head, all is well.
    let mut fresh = h.inbox.subscribe(&tenant()).await.unwrap();
    let head = h.store.change_head(&tenant()).await.unwrap();
    assert_eq!(fresh.position(), head);
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "news");
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    assert_eq!(next(&mut fresh).await.seq, head + 1);
}

/// Live events carry the stored message without Meta's raw JSON, which the store keeps.
#[tokio::test]
async fn live_events_never_carry_the_raw_webhook_json() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let mut sub = h.inbox.subscribe(&tenant()).await.unwrap();
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, PSID, "Keep my data private");
    h.inbox.receive(Some(&signature), &body).await.unwrap();

    let event = next(&mut sub).await;
    let InboxEvent::MessageStored { message } = &event.event else {
        panic!("expected message_stored, got {event:?}");
    };
    assert!(message.raw_event.is_none());
    let json = serde_json::to_value(&event.event).unwrap();
    assert_eq!(json["message"]["text"], "Keep my data private");
    assert!(json["message"].get("raw_event").is_none(), "{json:#}");
    assert!(!json.to_string().contains("\"raw"), "{json:#}");

    let stored = h
        .inbox
        .messages(&tenant(), &MessageQuery::new().include_raw(true))
        .await
        .unwrap();
    assert!(
        stored.data[0].raw_event.is_some(),
        "the store's read API still has it"
    );
}
