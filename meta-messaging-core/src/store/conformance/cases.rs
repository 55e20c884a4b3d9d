//! Conformance cases: what each event kind does to the store.

use super::Harness;
use super::fixtures::{Scene, long_mid, tick};
use crate::ids::{MessageId, TenantId};
use crate::platform::Platform;
use crate::store::api::{MessageStore, OutboundMessage};
use crate::store::model::{Direction, StoredMessage};
use crate::store::query::{ConversationQuery, MessageQuery};

pub(super) async fn message(store: &dyn MessageStore, s: &Scene, mid: &str) -> StoredMessage {
    store
        .find_message(&s.tenant, s.platform, &MessageId::new(mid))
        .await
        .expect("find_message failed")
        .unwrap_or_else(|| panic!("message {mid} was not stored"))
}

pub(super) async fn count(store: &dyn MessageStore, tenant: &TenantId) -> u64 {
    store
        .count_messages(tenant, &MessageQuery::new())
        .await
        .expect("count_messages failed")
}

/// An Instagram question with a long message id, then an image (`img-1`), from user 5001.
/// Answers the delivery's items, the question's id and the image's time.
fn stock_question(s: &Scene) -> (Vec<serde_json::Value>, String, i64) {
    let mid = long_mid();
    let (t1, t2) = (tick(), tick());
    let items = vec![
        s.text("5001", &mid, "Is this in stock?", t1),
        s.image("5001", "img-1", "https://cdn.example/x.jpg", t2),
    ];
    (items, mid, t2)
}

/// A redelivered message is stored once; a second apply of a delivery changes nothing.
pub async fn idempotent_messages(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    let (items, _, t2) = stock_question(&s);
    let first = s.apply(store, items.clone()).await.expect("first apply");
    assert_eq!((first.inserted, first.duplicates), (2, 0), "{first:?}");
    let conv_before = store
        .list_conversations(&s.tenant, &ConversationQuery::new())
        .await
        .expect("list conversations")
        .data;
    let again = s.apply(store, items).await.expect("second apply");
    assert_eq!(
        (again.inserted, again.updated, again.duplicates),
        (0, 0, 2),
        "{again:?}"
    );
    assert_eq!(count(store, &s.tenant).await, 2);
    let conv_after = store
        .list_conversations(&s.tenant, &ConversationQuery::new())
        .await
        .expect("list conversations")
        .data;
    assert_eq!(
        conv_before, conv_after,
        "a redelivery changed the conversation"
    );
    let c = &conv_after[0];
    assert_eq!(c.unread_count, 2);
    assert_eq!(c.last_message_preview.as_deref(), Some("[image]"));
    assert_eq!(c.last_message_at_ms, t2);
}

/// An inbound message keeps what Meta sent: long ids whole, text, parties, attachments, the raw
/// event; its JSON has every documented field.
pub async fn inbound_message_fields(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    let (items, mid, _) = stock_question(&s);
    s.apply(store, items).await.expect("apply");
    let m = message(store, &s, &mid).await;
    assert_eq!(m.message_id.as_str(), mid, "long ids are kept whole");
    assert_eq!(m.direction, Direction::Inbound);
    assert_eq!(m.text.as_deref(), Some("Is this in stock?"));
    assert_eq!(m.sender_id.as_str(), "5001");
    assert_eq!(m.recipient_id.as_str(), s.account);
    let raw = m.raw_event.expect("inbound messages keep their raw event");
    assert_eq!(raw["message"]["mid"], mid.as_str());
    let img = message(store, &s, "img-1").await;
    assert_eq!(img.attachments.len(), 1);
    assert_eq!(
        img.attachments[0].url.as_deref(),
        Some("https://cdn.example/x.jpg")
    );
    let json = serde_json::to_value(&img).expect("serialize");
    for key in [
        "id",
        "platform",
        "account_id",
        "conversation_id",
        "direction",
        "sender_id",
        "recipient_id",
        "message_id",
        "text",
        "attachments",
        "timestamp_ms",
        "read",
        "reactions",
        "edited",
        "deleted",
    ] {
        assert!(json.get(key).is_some(), "message JSON lacks {key}: {json}");
    }
}

/// `record_outbound` then the echo of the same message make one row: recording twice is one
/// row, the echo merges its raw event and app id into it, and a redelivered echo changes nothing.
pub async fn echo_after_outbound_merges(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let t = tick();
    let sent = OutboundMessage::new(s.platform, s.account.as_str(), "6001", "m_sent", t)
        .with_text("Yes, it is!");
    let stored = store
        .record_outbound(&s.tenant, &sent)
        .await
        .expect("record_outbound");
    assert_eq!(stored.direction, Direction::Outbound);
    assert!(stored.raw_event.is_none());
    let again = store
        .record_outbound(&s.tenant, &sent)
        .await
        .expect("record twice");
    assert_eq!(again.id, stored.id, "recording twice made two rows");

    let report = s
        .apply(store, vec![s.echo("6001", "m_sent", "Yes, it is!", t)])
        .await
        .expect("echo");
    assert_eq!((report.inserted, report.updated), (0, 1), "{report:?}");
    let merged = message(store, &s, "m_sent").await;
    assert_eq!(merged.id, stored.id);
    assert!(
        merged.raw_event.is_some(),
        "the echo's raw event was not merged"
    );
    assert!(merged.app_id.is_some());
    let repeat = s
        .apply(store, vec![s.echo("6001", "m_sent", "Yes, it is!", t)])
        .await
        .expect("echo again");
    assert_eq!(
        (repeat.inserted, repeat.updated, repeat.duplicates),
        (0, 0, 1)
    );
    assert_one_outbound_conversation(store, &s, 1).await;
}

/// The echo first (the webhook can beat the Send API's answer), then `record_outbound`: still
/// one row, which keeps the echo's text.
pub async fn outbound_after_echo_merges(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let t = tick();
    s.apply(store, vec![s.echo("6001", "m_race", "Hi", t)])
        .await
        .expect("echo first");
    let late = OutboundMessage::new(s.platform, s.account.as_str(), "6001", "m_race", t);
    let recorded = store
        .record_outbound(&s.tenant, &late)
        .await
        .expect("record after echo");
    assert_eq!(recorded.text.as_deref(), Some("Hi"));
    assert_one_outbound_conversation(store, &s, 1).await;
}

/// The scene holds `messages` messages, all in one conversation whose last message is
/// outbound and which has nothing unread.
async fn assert_one_outbound_conversation(store: &dyn MessageStore, s: &Scene, messages: u64) {
    assert_eq!(count(store, &s.tenant).await, messages);
    let convs = store
        .list_conversations(&s.tenant, &ConversationQuery::new())
        .await
        .expect("list");
    assert_eq!(convs.data.len(), 1);
    assert_eq!(
        convs.data[0].unread_count, 0,
        "outbound messages are not unread"
    );
    assert_eq!(
        convs.data[0].last_message_direction,
        Some(Direction::Outbound)
    );
}

/// Reactions: add, replace, remove, redeliver; an older event never undoes a newer one.
pub async fn reactions(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    let (t0, t1, t2, t3) = (tick(), tick(), tick(), tick());
    s.apply(store, vec![s.text("u1", "r-mid", "hello", t0)])
        .await
        .expect("message");
    let react = s.reaction("u1", "r-mid", "react", "❤", t1);
    let report = s.apply(store, vec![react.clone()]).await.expect("react");
    assert_eq!(report.updated, 1);
    let m = message(store, &s, "r-mid").await;
    assert_eq!(m.reactions.len(), 1);
    assert_eq!(m.reactions[0].emoji.as_deref(), Some("❤"));
    assert_eq!(m.reactions[0].actor_id.as_str(), "u1");
    let again = s
        .apply(store, vec![react.clone()])
        .await
        .expect("react again");
    assert_eq!((again.updated, again.duplicates), (0, 1));

    s.apply(store, vec![s.reaction("u1", "r-mid", "unreact", "❤", t2)])
        .await
        .expect("unreact");
    assert!(message(store, &s, "r-mid").await.reactions.is_empty());
    s.apply(store, vec![react]).await.expect("late redelivery");
    assert!(
        message(store, &s, "r-mid").await.reactions.is_empty(),
        "a redelivered older reaction undid the unreact"
    );
    s.apply(store, vec![s.reaction("u1", "r-mid", "react", "😂", t3)])
        .await
        .expect("react again later");
    let m = message(store, &s, "r-mid").await;
    assert_eq!(m.reactions.len(), 1);
    assert_eq!(m.reactions[0].emoji.as_deref(), Some("😂"));
}

/// Messenger reads and deliveries by watermark; Instagram reads by message id.
pub async fn receipts(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let (t1, t2, t3) = (tick(), tick(), tick());
    let items = vec![
        s.echo("u2", "o1", "one", t1),
        s.echo("u2", "o2", "two", t2),
        s.echo("u2", "o3", "three", t3),
        s.text("u2", "i1", "inbound", t3),
    ];
    s.apply(store, items).await.expect("messages");
    let at = tick();
    let delivered = s
        .apply(store, vec![s.delivery("u2", &["o3"], Some(t1), at)])
        .await
        .expect("delivery");
    assert_eq!(
        delivered.updated, 2,
        "o3 by id and o1 by watermark: {delivered:?}"
    );
    assert_eq!(message(store, &s, "o1").await.delivered_at_ms, Some(at));
    assert_eq!(message(store, &s, "o2").await.delivered_at_ms, None);
    let read = s
        .apply(store, vec![s.read_watermark("u2", t2, at)])
        .await
        .expect("read");
    assert_eq!(read.updated, 2);
    let o2 = message(store, &s, "o2").await;
    assert!(
        o2.is_read() && o2.delivered_at_ms == Some(at),
        "a read implies delivery"
    );
    assert!(!message(store, &s, "o3").await.is_read());
    assert!(
        !message(store, &s, "i1").await.is_read(),
        "reads only cover outbound messages"
    );
    let again = s
        .apply(store, vec![s.read_watermark("u2", t2, at)])
        .await
        .expect("read again");
    assert_eq!(again.updated, 0);

    let ig = Scene::new(Platform::Instagram);
    let (t1, t2) = (tick(), tick());
    ig.apply(
        store,
        vec![ig.echo("u3", "ig1", "a", t1), ig.echo("u3", "ig2", "b", t2)],
    )
    .await
    .expect("ig messages");
    ig.apply(store, vec![ig.read_mid("u3", "ig1", tick())])
        .await
        .expect("ig read");
    assert!(message(store, &ig, "ig1").await.is_read());
    assert!(!message(store, &ig, "ig2").await.is_read());
}

/// Edits replace the text and count; older or repeated edits change nothing.
pub async fn edits(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    s.apply(store, vec![s.text("u4", "e1", "helo", tick())])
        .await
        .expect("message");
    let edit2 = s.edit("u4", "e1", "hello!!", 2, tick());
    let report = s
        .apply(
            store,
            vec![s.edit("u4", "e1", "hello", 1, tick()), edit2.clone()],
        )
        .await
        .expect("edits");
    assert_eq!(report.updated, 2);
    let again = s.apply(store, vec![edit2]).await.expect("edit again");
    assert_eq!((again.updated, again.duplicates), (0, 1));
    s.apply(store, vec![s.edit("u4", "e1", "stale", 1, tick())])
        .await
        .expect("stale edit");
    let m = message(store, &s, "e1").await;
    assert_eq!((m.text.as_deref(), m.edit_count), (Some("hello!!"), 2));
    assert!(m.is_edited() && m.edited_at_ms.is_some());
    let c = store
        .get_conversation(&s.tenant, m.conversation_id)
        .await
        .expect("conversation")
        .expect("exists");
    assert_eq!(c.last_message_preview.as_deref(), Some("hello!!"));
}

/// Deletes erase the content, keep the row and fix the unread count and preview.
pub async fn deletes(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    s.apply(
        store,
        vec![
            s.text("u5", "d1", "keep", tick()),
            s.text("u5", "d2", "oops", tick()),
        ],
    )
    .await
    .expect("messages");
    let del = s.delete("u5", "d2", tick());
    assert_eq!(
        s.apply(store, vec![del.clone()])
            .await
            .expect("delete")
            .updated,
        1
    );
    assert_eq!(s.apply(store, vec![del]).await.expect("again").updated, 0);
    let m = message(store, &s, "d2").await;
    assert!(m.deleted && m.text.is_none() && m.raw_event.is_none());
    let c = store
        .get_conversation(&s.tenant, m.conversation_id)
        .await
        .expect("conversation")
        .expect("exists");
    assert_eq!(c.unread_count, 1);
    assert_eq!(c.last_message_preview, None);
    assert_eq!(count(store, &s.tenant).await, 2);
}

/// Postbacks and events about messages the store lacks go to the raw-events table, once.
pub async fn unknown_and_orphan_events_are_kept(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let items = vec![
        s.postback("u6", "GET_STARTED", tick()),
        s.reaction("u6", "missing-mid", "react", "👍", tick()),
        serde_json::json!({"sender": {"id": "u6"}, "recipient": {"id": s.account},
            "timestamp": tick(), "brand_new_event": {"x": 1}}),
    ];
    let report = s.apply(store, items.clone()).await.expect("apply");
    assert_eq!(report.raw_kept, 3, "{report:?}");
    let again = s.apply(store, items).await.expect("apply again");
    assert_eq!((again.raw_kept, again.duplicates), (0, 3));
    let raw = store
        .list_raw_events(&s.tenant, None, 10)
        .await
        .expect("list raw");
    assert_eq!(raw.len(), 3);
    let kinds: Vec<&str> = raw.iter().map(|r| r.kind.as_str()).collect();
    assert!(
        kinds.contains(&"postback") && kinds.contains(&"reaction"),
        "{kinds:?}"
    );
    assert!(raw.iter().any(|r| r.raw.get("brand_new_event").is_some()));
    assert!(raw.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let older = store
        .list_raw_events(&s.tenant, Some(raw[0].id), 10)
        .await
        .expect("page");
    assert_eq!(older.len(), 2);
}
