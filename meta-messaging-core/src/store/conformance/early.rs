//! Conformance cases: reactions, edits, unsends and receipts that arrive before their message
//! are kept, and applied when it arrives, as if they had come in order.

use std::sync::Arc;

use super::Harness;
use super::cases::{count, message};
use super::fixtures::{Scene, tick};
use super::tenancy::snapshot;
use crate::ids::{ConversationId, TenantId};
use crate::platform::Platform;
use crate::store::api::{MessageStore, OutboundMessage};
use crate::store::conversation::Conversation;
use crate::store::error::StoreError;
use crate::store::model::StoredMessage;
use crate::store::pending::WAITING;
use crate::store::query::{ConversationQuery, MessageQuery};

async fn conversation(
    store: &dyn MessageStore,
    tenant: &TenantId,
    id: ConversationId,
) -> Conversation {
    store
        .get_conversation(tenant, id)
        .await
        .expect("get_conversation failed")
        .expect("the message's conversation exists")
}

/// How many of the tenant's raw events wait for a message.
async fn waiting_events(store: &dyn MessageStore, tenant: &TenantId) -> usize {
    store
        .list_raw_events(tenant, None, 100)
        .await
        .expect("list raw events")
        .iter()
        .filter(|r| r.reason.as_deref() == Some(WAITING))
        .count()
}

/// Two edits before their message: kept (and shown among the raw events); the message arrives
/// with the highest edit's text, count and time, and so does its conversation's preview.
pub async fn early_edits_apply_on_arrival(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let (t0, t1, t2) = (tick(), tick(), tick());
    let second = s.edit("u1", "ee-1", "hello!!", 2, t2);
    let early = s
        .apply(
            store,
            vec![second.clone(), s.edit("u1", "ee-1", "hello", 1, t1)],
        )
        .await
        .expect("early edits");
    assert_eq!((early.raw_kept, early.updated), (2, 0), "{early:?}");
    assert_eq!(
        count(store, &s.tenant).await,
        0,
        "an edit stores no message"
    );
    assert_eq!(waiting_events(store, &s.tenant).await, 2);

    let arrival = s
        .apply(store, vec![s.text("u1", "ee-1", "helo", t0)])
        .await
        .expect("message");
    assert_eq!(
        (arrival.inserted, arrival.updated),
        (1, 2),
        "each waiting edit that changed the message counts as updated: {arrival:?}"
    );
    let m = message(store, &s, "ee-1").await;
    assert_eq!((m.text.as_deref(), m.edit_count), (Some("hello!!"), 2));
    assert_eq!(m.edited_at_ms, Some(t2));
    let c = conversation(store, &s.tenant, m.conversation_id).await;
    assert_eq!(c.last_message_preview.as_deref(), Some("hello!!"));
    assert_eq!(c.unread_count, 1);

    let again = s
        .apply(store, vec![second])
        .await
        .expect("redelivered edit");
    assert_eq!((again.updated, again.duplicates, again.raw_kept), (0, 1, 0));
    assert_eq!(
        waiting_events(store, &s.tenant).await,
        2,
        "applied events stay among the raw events"
    );
}

/// Reactions before their message: merged by the usual rules (the newest per person wins,
/// an unreact included) when it arrives; an older one redelivered later undoes nothing.
pub async fn early_reactions_apply_on_arrival(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    let (t0, t1, t2, t3) = (tick(), tick(), tick(), tick());
    let old_love = s.reaction("u2", "er-1", "react", "❤", t1);
    let items = vec![
        s.reaction("u2", "er-1", "unreact", "❤", t3),
        old_love.clone(),
        s.reaction("u3", "er-1", "react", "😂", t2),
    ];
    let early = s.apply(store, items).await.expect("early reactions");
    assert_eq!(early.raw_kept, 3, "{early:?}");

    let arrival = s
        .apply(store, vec![s.text("u2", "er-1", "look", t0)])
        .await
        .expect("message");
    assert_eq!((arrival.inserted, arrival.updated), (1, 3), "{arrival:?}");
    let m = message(store, &s, "er-1").await;
    assert_eq!(m.reactions.len(), 1, "{:?}", m.reactions);
    assert_eq!(m.reactions[0].actor_id.as_str(), "u3");
    assert_eq!(m.reactions[0].emoji.as_deref(), Some("😂"));

    let late = s.apply(store, vec![old_love]).await.expect("redelivered");
    assert_eq!((late.updated, late.duplicates), (0, 1), "{late:?}");
    assert_eq!(message(store, &s, "er-1").await.reactions.len(), 1);
}

/// An unsend (and an edit) before its message: the message is stored deleted, without text,
/// attachments, raw event or edits; it is neither unread nor the preview, and nothing brings
/// it back. Another tenant's message with the same id is untouched.
pub async fn delete_before_message(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    let other = Scene {
        tenant: Scene::new(Platform::Instagram).tenant,
        ..s.clone()
    };
    let (t0, t1, t2, t3) = (tick(), tick(), tick(), tick());
    s.apply(store, vec![s.text("u4", "db-0", "kept", t0)])
        .await
        .expect("an earlier message");
    let unsend = s.delete("u4", "db-1", t3);
    let edit = s.edit("u4", "db-1", "edited", 1, t2);
    let early = s
        .apply(store, vec![unsend.clone(), edit.clone()])
        .await
        .expect("early unsend and edit");
    assert_eq!(early.raw_kept, 2, "{early:?}");

    let image = s.image("u4", "db-1", "https://cdn.example/secret.jpg", t1);
    let arrival = s.apply(store, vec![image.clone()]).await.expect("message");
    assert_eq!((arrival.inserted, arrival.updated), (1, 2), "{arrival:?}");
    let m = message(store, &s, "db-1").await;
    assert!(
        m.deleted,
        "a message unsent before it arrived is stored deleted"
    );
    assert!(m.text.is_none() && m.attachments.is_empty(), "{m:?}");
    assert_eq!((m.edit_count, m.edited_at_ms), (0, None));
    let with_raw = store
        .get_message(&s.tenant, m.id)
        .await
        .expect("get_message")
        .expect("stored");
    assert!(
        with_raw.raw_event.is_none(),
        "the unsent message's raw event is erased"
    );
    let c = conversation(store, &s.tenant, m.conversation_id).await;
    assert_eq!(
        c.unread_count, 1,
        "only the message that was not unsent is unread"
    );
    assert_eq!(c.last_message_preview, None);
    assert_eq!(c.last_message_at_ms, t1);

    let later = s
        .apply(store, vec![image.clone(), edit, unsend])
        .await
        .expect("everything again");
    assert_eq!((later.inserted, later.updated), (0, 0), "{later:?}");
    let m = message(store, &s, "db-1").await;
    assert!(m.deleted && m.text.is_none() && m.attachments.is_empty());

    other
        .apply(store, vec![image])
        .await
        .expect("another tenant's message");
    let theirs = message(store, &other, "db-1").await;
    assert!(!theirs.deleted && theirs.attachments.len() == 1);
}

/// An unsend of an outbound message before it is recorded: `record_outbound` returns it
/// deleted, and its echo (or the unsend) redelivered later changes nothing.
pub async fn delete_before_outbound(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let (t0, t1) = (tick(), tick());
    let unsend = s.delete(&s.account, "do-1", t1);
    s.apply(store, vec![unsend.clone()])
        .await
        .expect("early unsend");
    let sent = OutboundMessage::new(s.platform, s.account.as_str(), "u5", "do-1", t0)
        .with_text("sent by mistake");
    let recorded = store
        .record_outbound(&s.tenant, &sent)
        .await
        .expect("record_outbound");
    assert!(recorded.deleted && recorded.text.is_none(), "{recorded:?}");

    let echo = s
        .apply(
            store,
            vec![s.echo("u5", "do-1", "sent by mistake", t0), unsend],
        )
        .await
        .expect("echo and unsend again");
    assert_eq!(echo.inserted, 0, "{echo:?}");
    let m = message(store, &s, "do-1").await;
    assert!(m.deleted && m.text.is_none(), "{m:?}");
    let with_raw = store
        .get_message(&s.tenant, m.id)
        .await
        .expect("get_message")
        .expect("stored");
    assert!(
        with_raw.raw_event.is_none(),
        "the echo does not bring the raw event back"
    );
    let c = conversation(store, &s.tenant, m.conversation_id).await;
    assert_eq!((c.unread_count, c.last_message_preview), (0, None));
}

/// An Instagram read and a delivery naming messages not stored yet: applied when they arrive
/// (the read also covers the outbound messages before the one it names); a delivery naming a
/// stored and a missing message marks the first now and the second on arrival.
pub async fn early_receipts_apply_on_arrival(h: &Harness) {
    let store = &*h.store;
    let ig = Scene::new(Platform::Instagram);
    let (t1, t2) = (tick(), tick());
    ig.apply(store, vec![ig.echo("u6", "rc-1", "one", t1)])
        .await
        .expect("first echo");
    let read = ig.read_mid("u6", "rc-2", tick());
    let early = ig
        .apply(store, vec![read.clone()])
        .await
        .expect("early read");
    assert_eq!((early.raw_kept, early.updated), (1, 0), "{early:?}");
    assert!(!message(store, &ig, "rc-1").await.is_read());
    let arrival = ig
        .apply(store, vec![ig.echo("u6", "rc-2", "two", t2)])
        .await
        .expect("second echo");
    // Receipts count per message marked: the one named and the one before it.
    assert_eq!((arrival.inserted, arrival.updated), (1, 2), "{arrival:?}");
    assert!(message(store, &ig, "rc-1").await.is_read());
    assert!(message(store, &ig, "rc-2").await.is_read());
    let again = ig.apply(store, vec![read]).await.expect("read again");
    assert_eq!((again.updated, again.duplicates, again.raw_kept), (0, 1, 0));

    let m = Scene::new(Platform::Messenger);
    let (t1, t2) = (tick(), tick());
    m.apply(store, vec![m.echo("u7", "dl-1", "one", t1)])
        .await
        .expect("first echo");
    let at = tick();
    let delivered = m
        .apply(store, vec![m.delivery("u7", &["dl-1", "dl-2"], None, at)])
        .await
        .expect("delivery");
    assert_eq!(
        (delivered.updated, delivered.raw_kept),
        (1, 1),
        "{delivered:?}"
    );
    assert_eq!(message(store, &m, "dl-1").await.delivered_at_ms, Some(at));
    m.apply(store, vec![m.echo("u7", "dl-2", "two", t2)])
        .await
        .expect("second echo");
    let dl2 = message(store, &m, "dl-2").await;
    assert_eq!(dl2.delivered_at_ms, Some(at));
    assert!(!dl2.is_read());
}

/// Keeping an early op and applying it on arrival are all or nothing: a write that fails at
/// any statement leaves the store as it was, and the retry applies everything.
pub async fn early_ops_fail_cleanly(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let (t0, t1, t2) = (tick(), tick(), tick());
    let early = vec![
        s.reaction("u8", "ef-1", "react", "👍", t1),
        s.delete("u8", "ef-1", t2),
    ];
    let arrival = vec![s.text("u8", "ef-1", "gone soon", t0)];
    for (items, what) in [(early, "the early ops"), (arrival, "the message")] {
        let before = snapshot(store, &s.tenant).await;
        let mut failed = 0;
        for after_writes in 0..64 {
            h.fail_point.fail_after(after_writes);
            let result = s.apply(store, items.clone()).await;
            let armed = h.fail_point.is_armed();
            h.fail_point.disarm();
            if armed {
                assert!(result.is_ok(), "{result:?}");
                break;
            }
            assert!(
                matches!(result, Err(StoreError::InjectedFailure)),
                "{result:?}"
            );
            failed += 1;
            assert_eq!(
                snapshot(store, &s.tenant).await,
                before,
                "applying {what} failed after {after_writes} statements and left changes behind"
            );
        }
        assert!(
            failed >= 2,
            "applying {what} takes several write statements"
        );
    }
    let m = message(store, &s, "ef-1").await;
    assert!(m.deleted && m.text.is_none());
    assert_eq!(m.reactions.len(), 1);
    assert_eq!(waiting_events(store, &s.tenant).await, 2);
}

/// Messages and their unsends applied at the same moment by concurrent writers (separate
/// transactions, on PostgreSQL in flight together): whichever commits first, every message
/// ends deleted and nothing is unread.
pub async fn early_ops_race_their_message(h: &Harness) {
    let s = Scene::new(Platform::Instagram);
    let (streams, per_stream) = (4, 50);
    let at = tick();
    // Each stream sends its messages one after the other; a stream of their unsends runs
    // beside it, so each message and its unsend are written at about the same time, mostly
    // in different transactions.
    let tasks: Vec<_> = (0..streams)
        .flat_map(|stream| [(stream, false), (stream, true)])
        .map(|(stream, unsends)| {
            let store = Arc::clone(&h.store);
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..per_stream {
                    let n = stream * per_stream + i;
                    let (user, mid) = (format!("race-u{stream}"), format!("race-{n}"));
                    let item = if unsends {
                        s.delete(&user, &mid, at + 1)
                    } else {
                        s.text(&user, &mid, "racing", at)
                    };
                    s.apply(&*store, vec![item])
                        .await
                        .expect("concurrent apply");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task panicked");
    }
    let messages = store_messages(&*h.store, &s.tenant).await;
    assert_eq!(messages.len(), streams * per_stream);
    let kept: Vec<&str> = messages
        .iter()
        .filter(|m| !m.deleted)
        .map(|m| m.message_id.as_str())
        .collect();
    assert!(kept.is_empty(), "messages whose unsend was lost: {kept:?}");
    let convs = h
        .store
        .list_conversations(&s.tenant, &ConversationQuery::new())
        .await
        .expect("list conversations");
    let unread: u32 = convs.data.iter().map(|c| c.unread_count).sum();
    assert_eq!(unread, 0, "unsent messages are not unread");
}

async fn store_messages(store: &dyn MessageStore, tenant: &TenantId) -> Vec<StoredMessage> {
    store
        .list_messages(tenant, &MessageQuery::new().limit(500))
        .await
        .expect("list messages")
        .data
}
