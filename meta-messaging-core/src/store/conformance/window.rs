//! Conformance: the last inbound time that the messaging window is computed from.

use serde_json::json;

use super::Harness;
use super::fixtures::{Scene, fresh, tick};
use crate::ids::{AccountId, UserId};
use crate::platform::Platform;
use crate::store::api::{MessageStore, OutboundMessage};
use crate::store::conversation::Conversation;
use crate::store::window::{MessagingWindow, STANDARD_WINDOW_MS, WindowState};

async fn conversation(store: &dyn MessageStore, s: &Scene, user: &str) -> Conversation {
    store
        .find_conversation(
            &s.tenant,
            s.platform,
            &AccountId::new(s.account.as_str()),
            &UserId::new(user),
        )
        .await
        .expect("find_conversation failed")
        .unwrap_or_else(|| panic!("no conversation with {user}"))
}

/// Only what the user does moves `last_inbound_at_ms`: their messages (a story mention is one),
/// postbacks, referrals and reactions move it forward, never back; echoes and our sends never
/// do; an opening from a user with no conversation creates none. `find_conversation` finds a
/// conversation by its account and user, and its JSON carries the window.
pub async fn last_inbound_time(h: &Harness) {
    let store = &*h.store;
    let s = Scene::new(Platform::Instagram);
    let user = fresh("5");
    let (t1, t2, t3, t4, t5, t6) = (tick(), tick(), tick(), tick(), tick(), tick());

    s.apply(
        store,
        vec![s.echo(&user, &fresh("echo-"), "Hello first", t1)],
    )
    .await
    .expect("apply echo");
    let c = conversation(store, &s, &user).await;
    assert_eq!(c.last_inbound_at_ms, None, "an echo is not from the user");
    assert_eq!(c.window(t1), None);
    let json = serde_json::to_value(&c).expect("conversation JSON");
    assert_eq!(
        (&json["last_inbound_at_ms"], &json["window"]),
        (&json!(null), &json!(null))
    );

    let mention = json!({"sender": {"id": user}, "recipient": {"id": s.account}, "timestamp": t2,
        "message": {"mid": fresh("story-"), "attachments": [{"type": "story_mention",
        "payload": {"url": "https://cdn.example/story.mp4"}}]}});
    s.apply(store, vec![mention])
        .await
        .expect("apply story mention");
    assert_eq!(
        conversation(store, &s, &user).await.last_inbound_at_ms,
        Some(t2)
    );

    let sent = OutboundMessage::new(
        s.platform,
        s.account.as_str(),
        user.as_str(),
        fresh("sent-"),
        t3,
    )
    .with_text("Thanks!");
    store
        .record_outbound(&s.tenant, &sent)
        .await
        .expect("record outbound");
    s.apply(
        store,
        vec![s.echo(&user, &fresh("echo-"), "Later echo", t4)],
    )
    .await
    .expect("apply echo");
    let c = conversation(store, &s, &user).await;
    assert_eq!(
        c.last_inbound_at_ms,
        Some(t2),
        "our sends and echoes do not move it"
    );
    assert_eq!(c.last_message_at_ms, t4);

    s.apply(store, vec![s.postback(&user, "GET_STARTED", t5)])
        .await
        .expect("apply postback");
    assert_eq!(
        conversation(store, &s, &user).await.last_inbound_at_ms,
        Some(t5)
    );

    let referral = json!({"sender": {"id": user}, "recipient": {"id": s.account}, "timestamp": t6,
        "referral": {"ref": "spring-sale", "source": "SHORTLINK", "type": "OPEN_THREAD"}});
    s.apply(store, vec![referral])
        .await
        .expect("apply referral");
    let c = conversation(store, &s, &user).await;
    assert_eq!(c.last_inbound_at_ms, Some(t6));
    assert_eq!(c.unread_count, 1, "an opening is not a message");

    // An older message (delivered late) and an older postback do not move it back.
    let late = s.text(&user, &fresh("late-"), "sent before", t1);
    s.apply(store, vec![late, s.postback(&user, "OLD", t1)])
        .await
        .expect("apply late events");
    assert_eq!(
        conversation(store, &s, &user).await.last_inbound_at_ms,
        Some(t6)
    );

    // A reaction from the user opens the window too.
    let mid = fresh("m-");
    let t7 = tick();
    s.apply(store, vec![s.text(&user, &mid, "Hi", t7)])
        .await
        .expect("apply text");
    let t8 = tick();
    s.apply(store, vec![s.reaction(&user, &mid, "react", "❤", t8)])
        .await
        .expect("apply reaction");
    let c = conversation(store, &s, &user).await;
    assert_eq!(c.last_inbound_at_ms, Some(t8));
    assert_eq!(
        c.window(t8 + STANDARD_WINDOW_MS),
        Some(MessagingWindow::at(t8, t8 + STANDARD_WINDOW_MS))
    );
    assert_eq!(
        c.window(t8 + STANDARD_WINDOW_MS).map(|w| w.state),
        Some(WindowState::HumanAgent)
    );
    let json = serde_json::to_value(&c).expect("conversation JSON");
    assert_eq!(json["last_inbound_at_ms"], json!(t8));
    // Serialized now, long after the fixtures' times.
    assert_eq!(
        json["window"],
        json!({"state": "closed", "closes_at": null})
    );

    // A postback from a user without a conversation creates none.
    let stranger = fresh("5");
    s.apply(store, vec![s.postback(&stranger, "GET_STARTED", tick())])
        .await
        .expect("apply postback");
    let none = store
        .find_conversation(
            &s.tenant,
            s.platform,
            &AccountId::new(s.account.as_str()),
            &UserId::new(stranger.as_str()),
        )
        .await
        .expect("find_conversation failed");
    assert!(none.is_none(), "{none:?}");

    // Other tenants, accounts and platforms do not see it.
    let other = s.same_tenant(Platform::Messenger);
    let elsewhere = store
        .find_conversation(
            &other.tenant,
            Platform::Messenger,
            &AccountId::new(s.account.as_str()),
            &UserId::new(user.as_str()),
        )
        .await
        .expect("find_conversation failed");
    assert!(elsewhere.is_none(), "{elsewhere:?}");
}
