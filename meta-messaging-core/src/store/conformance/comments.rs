//! Conformance: comment threads (one conversation per post, each comment a message).

use serde_json::json;

use super::Harness;
use super::fixtures::{Scene, fresh, tick};
use crate::ids::{AccountId, UserId};
use crate::platform::Platform;
use crate::store::api::MessageStore;
use crate::store::conversation::{Conversation, ConversationKind};
use crate::store::model::{Direction, StoredMessage, StoredReplyTo};
use crate::store::query::{ConversationQuery, MessageQuery, Order};

async fn thread(store: &dyn MessageStore, s: &Scene, post: &str) -> Conversation {
    store
        .find_conversation(
            &s.tenant,
            s.platform,
            &AccountId::new(s.account.as_str()),
            &UserId::new(post),
        )
        .await
        .expect("find_conversation failed")
        .unwrap_or_else(|| panic!("no thread for {post}"))
}

async fn comments(store: &dyn MessageStore, s: &Scene, c: &Conversation) -> Vec<StoredMessage> {
    let query = MessageQuery::new()
        .conversation(c.id)
        .order(Order::OldestFirst);
    store
        .list_messages(&s.tenant, &query)
        .await
        .expect("list_messages failed")
        .data
}

async fn kinds(store: &dyn MessageStore, s: &Scene, kind: ConversationKind) -> Vec<Conversation> {
    let query = ConversationQuery::new().kind(kind);
    store
        .list_conversations(&s.tenant, &query)
        .await
        .expect("list_conversations failed")
        .data
}

/// Facebook `feed` comments and Instagram `comments` become comment threads, one per post:
/// a user's comment is inbound (unread, with the author's name), the Page's reply outbound and
/// linked to the comment it answers; edits, hides, unhides and removals change the comment
/// once (a redelivery changes nothing), also when they arrive before it; `kind` filters
/// lists; a comment opens no messaging window, in the thread or in the user's DMs.
pub async fn comment_threads(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Messenger);
    let user = fresh("u");
    let post = format!("{}_{}", s.account, fresh("p"));
    let other_post = format!("{}_{}", s.account, fresh("p"));
    let (c1, c2, c3, early) = (fresh("c1_"), fresh("c2_"), fresh("c3_"), fresh("c4_"));

    s.apply(store, vec![s.text(&user, &fresh("m_"), "A DM", tick())])
        .await
        .expect("apply DM");
    let dm_window_before = thread(store, &s, &user).await.last_inbound_at_ms;

    let first = s.feed_comment("add", &user, &post, &c1);
    let mut reply = s.feed_comment("add", &s.account, &post, &c2);
    reply["value"]["parent_id"] = json!(c1);
    let report = store
        .apply(&s.change_events(vec![first.clone(), reply]))
        .await
        .expect("apply comments");
    assert_eq!(report.inserted, 2, "{report:?}");
    let again = store
        .apply(&s.change_events(vec![first]))
        .await
        .expect("redelivered comment");
    assert_eq!((again.inserted, again.duplicates), (0, 1), "{again:?}");

    let t = thread(store, &s, &post).await;
    assert_eq!(t.kind, ConversationKind::Comments);
    assert_eq!(t.post_id.as_ref().map(|p| p.as_str()), Some(post.as_str()));
    assert_eq!(t.unread_count, 1, "only the user's comment is unread");
    assert_eq!(
        t.window(tick()),
        None,
        "a comment thread has no messaging window"
    );
    let json = serde_json::to_value(&t).expect("thread JSON");
    assert_eq!(json["kind"], json!("comments"));
    assert_eq!(json["post_id"], json!(post));
    assert_eq!(json["window"], json!(null));
    let listed = comments(store, &s, &t).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].message_id.as_str(), c1);
    assert_eq!(listed[0].direction, Direction::Inbound);
    assert_eq!(listed[0].sender_id.as_str(), user);
    assert_eq!(
        listed[0].sender_name.as_deref(),
        Some(format!("Name of {user}").as_str())
    );
    assert_eq!(
        listed[1].direction,
        Direction::Outbound,
        "the Page's own reply"
    );
    assert_eq!(
        listed[1].reply_to,
        Some(StoredReplyTo::message(c1.as_str()))
    );
    assert_eq!(
        thread(store, &s, &user).await.last_inbound_at_ms,
        dm_window_before,
        "a comment does not open the user's DM window"
    );

    // Edit, hide, unhide: each once.
    let edit = s.feed_comment("edited", &user, &post, &c1);
    let hide = s.feed_comment("hide", &user, &post, &c1);
    let report = store
        .apply(&s.change_events(vec![edit.clone(), hide.clone()]))
        .await
        .expect("edit and hide");
    assert_eq!(report.updated, 2, "{report:?}");
    let repeat = store
        .apply(&s.change_events(vec![edit, hide]))
        .await
        .expect("redelivered edit and hide");
    assert_eq!((repeat.updated, repeat.duplicates), (0, 2), "{repeat:?}");
    let c = &comments(store, &s, &t).await[0];
    assert_eq!(c.text.as_deref(), Some(format!("edited {c1}").as_str()));
    assert_eq!(c.edit_count, 1);
    assert!(c.hidden);
    assert_eq!(
        serde_json::to_value(c).expect("JSON")["hidden"],
        json!(true)
    );
    store
        .apply(&s.change_events(vec![s.feed_comment("unhide", &user, &post, &c1)]))
        .await
        .expect("unhide");
    assert!(!comments(store, &s, &t).await[0].hidden);

    // A hide delivered before its comment applies when the comment arrives.
    let kept = store
        .apply(&s.change_events(vec![s.feed_comment("hide", &user, &post, &early)]))
        .await
        .expect("early hide");
    assert_eq!(kept.raw_kept, 1, "{kept:?}");
    store
        .apply(&s.change_events(vec![s.feed_comment("add", &user, &post, &early)]))
        .await
        .expect("late comment");
    let arrived = comments(store, &s, &t).await;
    let late = arrived
        .iter()
        .find(|m| m.message_id.as_str() == early)
        .expect("the late comment is stored");
    assert!(late.hidden, "the early hide applied on arrival");

    // Removal erases the text.
    store
        .apply(&s.change_events(vec![s.feed_comment("remove", &user, &post, &c1)]))
        .await
        .expect("remove");
    let removed = &comments(store, &s, &t).await[0];
    assert!(removed.deleted);
    assert_eq!(removed.text, None);

    // Another post is another thread; kind filters.
    store
        .apply(&s.change_events(vec![s.feed_comment("add", &user, &other_post, &c3)]))
        .await
        .expect("second post");
    let threads = kinds(store, &s, ConversationKind::Comments).await;
    let mut posts: Vec<&str> = threads
        .iter()
        .filter_map(|c| c.post_id.as_ref().map(|p| p.as_str()))
        .collect();
    posts.sort_unstable();
    let mut expected = vec![post.as_str(), other_post.as_str()];
    expected.sort_unstable();
    assert_eq!(posts, expected);
    let direct = kinds(store, &s, ConversationKind::Direct).await;
    assert_eq!(direct.len(), 1);
    assert_eq!(direct[0].participant_id.as_str(), user);
    assert_eq!(direct[0].post_id, None);

    // Instagram: a `comments` change makes a thread of its media.
    let ig = s.same_tenant(Platform::Instagram);
    let media = fresh("179");
    let ig_comment = fresh("180");
    let change = json!({"field": "comments", "value": {
        "from": {"id": user, "username": "shopper"}, "id": ig_comment, "text": "Price?",
        "media": {"id": media, "media_product_type": "FEED"}}});
    let report = store
        .apply(&ig.change_events(vec![change]))
        .await
        .expect("Instagram comment");
    assert_eq!(report.inserted, 1, "{report:?}");
    let ig_thread = thread(store, &ig, &media).await;
    assert_eq!(ig_thread.kind, ConversationKind::Comments);
    let ig_comments = comments(store, &ig, &ig_thread).await;
    assert_eq!(ig_comments[0].sender_name.as_deref(), Some("shopper"));
    assert_eq!(ig_comments[0].text.as_deref(), Some("Price?"));
}
