//! Conformance cases for the list queries: filters, order, cursors.

use std::collections::HashSet;
use std::sync::Arc;

use super::Harness;
use super::fixtures::{Scene, tick};
use crate::ids::ConversationId;
use crate::ids::TenantId;
use crate::platform::Platform;
use crate::store::api::MessageStore;
use crate::store::conversation::ParticipantProfile;
use crate::store::error::StoreError;
use crate::store::model::{Direction, StoredMessage};
use crate::store::query::{ConversationQuery, MessageQuery, Order};

async fn all_messages(
    store: &dyn MessageStore,
    tenant: &TenantId,
    q: MessageQuery,
) -> Vec<StoredMessage> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_messages(tenant, &q.clone().after(cursor))
            .await
            .expect("list_messages failed");
        out.extend(page.data);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return out,
        }
    }
}

fn mids(messages: &[StoredMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.message_id.as_str()).collect()
}

/// Fifteen messages in one tenant, in five rounds 10 ms apart from `base`: a Messenger inbound
/// and echo (`fb-in-{i}`, `fb-out-{i}`), and an Instagram inbound (`ig-in-{i}`) from one of
/// two users. Answers the Messenger scene (its tenant holds all fifteen) and `base`.
async fn fifteen_messages(store: &dyn MessageStore) -> (Scene, i64) {
    let fb = Scene::new(Platform::Messenger);
    let ig = fb.same_tenant(Platform::Instagram);
    let base = tick();
    for i in 0..5 {
        tick();
        fb.apply(
            store,
            vec![fb.text("fb-user", &format!("fb-in-{i}"), "x", base + i * 10)],
        )
        .await
        .expect("fb");
        fb.apply(
            store,
            vec![fb.echo("fb-user", &format!("fb-out-{i}"), "y", base + i * 10 + 1)],
        )
        .await
        .expect("fb echo");
        ig.apply(
            store,
            vec![ig.text(
                &format!("ig-user-{}", i % 2),
                &format!("ig-in-{i}"),
                "z",
                base + i * 10 + 2,
            )],
        )
        .await
        .expect("ig");
    }
    (fb, base)
}

/// Messages list newest first by default, oldest first on request, across page boundaries.
pub async fn message_sort(h: &Harness) {
    let store = &*h.store;
    let (fb, _) = fifteen_messages(store).await;
    let t = &fb.tenant;
    let everything = all_messages(store, t, MessageQuery::new().limit(4)).await;
    assert_eq!(everything.len(), 15);
    let keys: Vec<_> = everything.iter().map(|m| (m.timestamp_ms, m.id)).collect();
    assert!(
        keys.windows(2).all(|w| w[0] > w[1]),
        "newest first by default"
    );
    let oldest = all_messages(
        store,
        t,
        MessageQuery::new().order(Order::OldestFirst).limit(4),
    )
    .await;
    let mut reversed = everything.clone();
    reversed.reverse();
    assert_eq!(mids(&oldest), mids(&reversed));
}

/// Each message filter alone: platform, account, direction, conversation, time window.
pub async fn message_filters(h: &Harness) {
    let store = &*h.store;
    let (fb, base) = fifteen_messages(store).await;
    let t = &fb.tenant;
    let ig_only = all_messages(
        store,
        t,
        MessageQuery::new().platform(Platform::Instagram).limit(2),
    )
    .await;
    assert_eq!(ig_only.len(), 5);
    assert!(ig_only.iter().all(|m| m.platform == Platform::Instagram));
    let fb_account = all_messages(store, t, MessageQuery::new().account(fb.account.as_str())).await;
    assert_eq!(fb_account.len(), 10);
    let outbound = all_messages(store, t, MessageQuery::new().direction(Direction::Outbound)).await;
    assert_eq!(
        mids(&outbound),
        vec!["fb-out-4", "fb-out-3", "fb-out-2", "fb-out-1", "fb-out-0"]
    );
    let conv = ig_only[0].conversation_id;
    let in_conv = all_messages(store, t, MessageQuery::new().conversation(conv).limit(1)).await;
    assert_eq!(
        in_conv.len(),
        if ig_only[0].sender_id.as_str() == "ig-user-0" {
            3
        } else {
            2
        }
    );
    assert!(in_conv.iter().all(|m| m.conversation_id == conv));
    let window = all_messages(
        store,
        t,
        MessageQuery::new().since_ms(base + 10).until_ms(base + 30),
    )
    .await;
    assert_eq!(window.len(), 6, "two rounds of three messages in [10, 30)");
}

/// Filters combine (all must hold), in lists and in counts.
pub async fn message_filters_combined(h: &Harness) {
    let store = &*h.store;
    let (fb, base) = fifteen_messages(store).await;
    let t = &fb.tenant;
    let combined = all_messages(
        store,
        t,
        MessageQuery::new()
            .platform(Platform::Messenger)
            .direction(Direction::Inbound)
            .since_ms(base + 20),
    )
    .await;
    assert_eq!(mids(&combined), vec!["fb-in-4", "fb-in-3", "fb-in-2"]);
    let counted = store
        .count_messages(
            t,
            &MessageQuery::new()
                .platform(Platform::Messenger)
                .direction(Direction::Inbound),
        )
        .await
        .expect("count");
    assert_eq!(counted, 5);
}

/// Lists leave out each message's raw event unless asked for it.
pub async fn message_raw_json_opt_in(h: &Harness) {
    let store = &*h.store;
    let (fb, _) = fifteen_messages(store).await;
    let t = &fb.tenant;
    let everything = all_messages(store, t, MessageQuery::new().limit(4)).await;
    assert_eq!(everything.len(), 15);
    assert!(
        everything.iter().all(|m| m.raw_event.is_none()),
        "raw JSON is opt-in"
    );
    let with_raw = store
        .list_messages(
            t,
            &MessageQuery::new()
                .include_raw(true)
                .direction(Direction::Inbound),
        )
        .await
        .expect("raw");
    assert!(with_raw.data.iter().all(|m| m.raw_event.is_some()));
}

/// Four conversations of one tenant, with users `a` (Messenger), `b` (Instagram), `c`
/// (Messenger), `d` (Instagram), in that order of activity; answers the Messenger scene.
async fn four_conversations(store: &dyn MessageStore) -> Scene {
    let fb = Scene::new(Platform::Messenger);
    let ig = fb.same_tenant(Platform::Instagram);
    for (scene, user) in [(&fb, "a"), (&ig, "b"), (&fb, "c"), (&ig, "d")] {
        scene
            .apply(
                store,
                vec![scene.text(user, &format!("conv-{user}"), user, tick())],
            )
            .await
            .expect("message");
    }
    fb
}

/// The users of the conversations `q` lists, in its order, with the conversations' ids.
async fn conversations(
    store: &dyn MessageStore,
    tenant: &TenantId,
    q: ConversationQuery,
) -> Vec<(String, ConversationId)> {
    store
        .list_conversations(tenant, &q)
        .await
        .expect("list conversations")
        .data
        .into_iter()
        .map(|c| (c.participant_id.into_inner(), c.id))
        .collect()
}

/// The users of the conversations `q` lists, in its order.
async fn conversation_users(
    store: &dyn MessageStore,
    tenant: &TenantId,
    q: ConversationQuery,
) -> Vec<String> {
    let rows = conversations(store, tenant, q).await;
    rows.into_iter().map(|(user, _)| user).collect()
}

/// Conversations list by last activity, newest first or oldest first, by platform and account.
pub async fn conversation_sort_and_filters(h: &Harness) {
    let store = &*h.store;
    let fb = four_conversations(store).await;
    let t = &fb.tenant;
    let users = |q| conversation_users(store, t, q);
    assert_eq!(
        users(ConversationQuery::new()).await,
        vec!["d", "c", "b", "a"]
    );
    assert_eq!(
        users(ConversationQuery::new().order(Order::OldestFirst)).await,
        vec!["a", "b", "c", "d"]
    );
    assert_eq!(
        users(ConversationQuery::new().platform(Platform::Instagram)).await,
        vec!["d", "b"]
    );
    assert_eq!(
        users(ConversationQuery::new().account(fb.account.as_str())).await,
        vec!["c", "a"]
    );
}

/// Archiving and marking read: the archived and unread filters follow, and the messages are read.
pub async fn conversation_archive_and_read(h: &Harness) {
    let store = &*h.store;
    let fb = four_conversations(store).await;
    let t = &fb.tenant;
    let users = |q| conversation_users(store, t, q);
    let (_, c_id) = conversations(store, t, ConversationQuery::new()).await[1].clone();
    let archived = store
        .set_conversation_archived(t, c_id, true)
        .await
        .expect("archive");
    assert!(archived.archived);
    assert_eq!(
        users(ConversationQuery::new().archived(true)).await,
        vec!["c"]
    );
    assert_eq!(
        users(ConversationQuery::new().archived(false)).await,
        vec!["d", "b", "a"]
    );
    let read = store
        .mark_conversation_read(t, c_id)
        .await
        .expect("mark read");
    assert_eq!(read.unread_count, 0);
    let c_messages = store
        .list_messages(t, &MessageQuery::new().conversation(c_id))
        .await
        .expect("messages");
    assert!(c_messages.data.iter().all(StoredMessage::is_read));
    assert_eq!(
        users(ConversationQuery::new().unread_only(true)).await,
        vec!["d", "b", "a"]
    );
}

/// A new inbound message moves its conversation to the front and unarchives it; pages follow
/// the move.
pub async fn conversation_moves_on_new_message(h: &Harness) {
    let store = &*h.store;
    let fb = four_conversations(store).await;
    let t = &fb.tenant;
    let (_, a_id) = conversations(store, t, ConversationQuery::new()).await[3].clone();
    store
        .set_conversation_archived(t, a_id, true)
        .await
        .expect("archive a");
    fb.apply(store, vec![fb.text("a", "conv-a-2", "again", tick())])
        .await
        .expect("again");
    assert_eq!(
        conversation_users(store, t, ConversationQuery::new()).await,
        vec!["a", "d", "c", "b"]
    );
    let a = store
        .get_conversation(t, a_id)
        .await
        .expect("get")
        .expect("exists");
    assert!(!a.archived && a.unread_count == 2);
    let first = store
        .list_conversations(t, &ConversationQuery::new().limit(3))
        .await
        .expect("page 1");
    assert_eq!(first.data.len(), 3);
    let second = store
        .list_conversations(
            t,
            &ConversationQuery::new().limit(3).after(first.next_cursor),
        )
        .await
        .expect("page 2");
    assert_eq!(second.data.len(), 1);
    assert!(second.next_cursor.is_none());
}

/// A participant's profile (name, username) is kept on the conversation.
pub async fn conversation_participant_profile(h: &Harness) {
    let store = &*h.store;
    let fb = four_conversations(store).await;
    let t = &fb.tenant;
    let (user, a_id) = conversations(store, t, ConversationQuery::new()).await[3].clone();
    assert_eq!(user, "a");
    let profile = ParticipantProfile::named("Ann").with_username("ann");
    let a = store
        .set_participant_profile(t, a_id, &profile)
        .await
        .expect("profile");
    assert_eq!(a.participant, profile);
}

/// Walking pages while other tasks insert newer messages shows every older message exactly once.
pub async fn pagination_under_concurrent_inserts(h: &Harness) {
    let s = Scene::new(Platform::Instagram);
    for chunk in 0..6 {
        let items = (0..20)
            .map(|i| {
                s.text(
                    &format!("p-user-{}", i % 3),
                    &format!("p-{chunk}-{i}"),
                    "x",
                    tick(),
                )
            })
            .collect();
        s.apply(&*h.store, items).await.expect("seed");
    }
    let expected: HashSet<String> =
        all_messages(&*h.store, &s.tenant, MessageQuery::new().limit(500))
            .await
            .into_iter()
            .map(|m| m.message_id.into_inner())
            .collect();
    assert_eq!(expected.len(), 120);
    let writer = {
        let store = Arc::clone(&h.store);
        let s = s.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                s.apply(
                    &*store,
                    vec![s.text("p-user-0", &format!("p-new-{i}"), "y", tick())],
                )
                .await
                .expect("concurrent insert");
                tokio::task::yield_now().await;
            }
        })
    };
    for order in [Order::NewestFirst, Order::OldestFirst] {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let q = MessageQuery::new().order(order).limit(7).after(cursor);
            let page = h.store.list_messages(&s.tenant, &q).await.expect("page");
            seen.extend(page.data.into_iter().map(|m| m.message_id.into_inner()));
            tokio::task::yield_now().await;
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "a message was repeated across pages"
        );
        let missing: Vec<_> = expected.iter().filter(|m| !unique.contains(m)).collect();
        assert!(missing.is_empty(), "pages skipped {missing:?}");
    }
    writer.await.expect("writer");
}

/// Cursors of another list or order, and garbage, are refused.
pub async fn invalid_cursors_are_refused(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    for i in 0..3 {
        s.apply(
            store,
            vec![s.text(&format!("ic-{i}"), &format!("ic-m-{i}"), "x", tick())],
        )
        .await
        .expect("seed");
    }
    let conv_page = store
        .list_conversations(&s.tenant, &ConversationQuery::new().limit(1))
        .await
        .expect("conversations");
    let conv_cursor = conv_page.next_cursor.expect("more conversations");
    let wrong_list = store
        .list_messages(&s.tenant, &MessageQuery::new().after(Some(conv_cursor)))
        .await;
    assert!(
        matches!(wrong_list, Err(StoreError::InvalidCursor { .. })),
        "{wrong_list:?}"
    );
    let msg_page = store
        .list_messages(&s.tenant, &MessageQuery::new().limit(1))
        .await
        .expect("messages");
    let wrong_order = store
        .list_messages(
            &s.tenant,
            &MessageQuery::new()
                .order(Order::OldestFirst)
                .after(msg_page.next_cursor),
        )
        .await;
    assert!(matches!(wrong_order, Err(StoreError::InvalidCursor { .. })));
    assert!(
        "not-a-cursor"
            .parse::<crate::store::cursor::Cursor>()
            .is_err()
    );
    let zero = store
        .list_messages(&s.tenant, &MessageQuery::new().limit(0))
        .await;
    assert!(matches!(zero, Err(StoreError::InvalidInput { .. })));
}
