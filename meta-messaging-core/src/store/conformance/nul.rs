//! Conformance case: NUL characters (which PostgreSQL refuses in text) in every string and id
//! a write takes.

use serde::Serialize;
use serde_json::json;

use super::Harness;
use super::fixtures::{Scene, fresh, tick};
use crate::ids::{AccountId, MediaId, MessageId, ParticipantId, TenantId, UserId};
use crate::platform::Platform;
use crate::secret::PageAccessToken;
use crate::store::account::{AccountStatus, AccountToken, NewAccount};
use crate::store::api::{MessageStore, OutboundMessage};
use crate::store::conversation::ParticipantProfile;
use crate::store::deliveries::{DeliveryTally, Tallied};
use crate::store::model::{StoredAttachment, StoredMessage, StoredReplyTo};
use crate::store::query::{ConversationQuery, MessageQuery};
use crate::store::unrouted::UnroutedReason;
use crate::webhook::AttachmentType;

/// What the store keeps of a string holding NUL.
fn kept(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

/// Fails if a value read from the store holds NUL anywhere (its JSON would escape it).
fn assert_no_nul(what: &str, value: &impl Serialize) {
    let json = serde_json::to_string(value).expect("serializes");
    assert!(
        !json.contains("\\u0000") && !json.contains('\0'),
        "{what} holds NUL: {json}"
    );
}

async fn find(store: &dyn MessageStore, s: &Scene, mid: &str) -> StoredMessage {
    store
        .find_message(&s.tenant, s.platform, &MessageId::new(mid))
        .await
        .expect("find_message failed")
        .unwrap_or_else(|| panic!("message {mid:?} is not found by the id it was written with"))
}

/// An attachment with NUL in its type, URL, title, sticker id and payload (keys included).
fn attachment() -> StoredAttachment {
    let mut a = StoredAttachment::new(
        AttachmentType::Other("ca\0rd".to_owned()),
        Some("https://cdn.example/\0a.png".to_owned()),
    );
    a.title = Some("ti\0tle".to_owned());
    a.sticker_id = Some("sti\0cker".to_owned());
    a.payload = json!({"el\0ements": [{"title": "x\0"}], "n": 1});
    a
}

/// NUL in any string or id a write takes (message, echo, reaction, edit, receipt, postback,
/// outbound message, unrouted event, account, token, status, profile) is stored as U+FFFD
/// by every backend: reads return the same values everywhere, lookups and filters by the
/// id as written find the row, and redeliveries are still recognised.
pub async fn nul_characters_are_replaced(h: &Harness) {
    let store = &*h.store;
    let s = Scene {
        tenant: TenantId::new(fresh("tenant-\0")),
        platform: Platform::Instagram,
        account: fresh("17841\0"),
    };
    let account = AccountId::new(s.account.as_str());
    let user = "u\0ser";

    // Accounts: every field, the token included.
    let new = NewAccount::new(s.platform, s.account.as_str())
        .with_name("Sh\0op")
        .with_username("sh\0op.official")
        .with_linked_page("10441\0")
        .with_token(
            AccountToken::Page(PageAccessToken::new("EAAB\0secret")),
            None,
        )
        .with_status(AccountStatus::Other("pa\0used".to_owned()));
    let saved = store.upsert_account(&s.tenant, &new).await.expect("upsert");
    assert_eq!(saved.tenant_id.as_str(), kept(s.tenant.as_str()));
    assert_eq!(saved.account_id.as_str(), kept(&s.account));
    assert_eq!(saved.name.as_deref(), Some(kept("Sh\0op").as_str()));
    assert_eq!(
        saved.username.as_deref(),
        Some(kept("sh\0op.official").as_str())
    );
    assert_eq!(
        saved.linked_page_id.as_ref().map(|p| p.as_str().to_owned()),
        Some(kept("10441\0"))
    );
    assert_eq!(saved.status, AccountStatus::Other(kept("pa\0used")));
    let token = saved.token.as_ref().expect("token kept");
    match token.open().await.expect("the token opens") {
        AccountToken::Page(t) => assert_eq!(t.expose(), kept("EAAB\0secret")),
        other => panic!("token not kept: {other:?}"),
    }

    // An inbound message with NUL in every field, a reaction, a postback, an orphan edit.
    let (t1, t2, t3, t4) = (tick(), tick(), tick(), tick());
    let inbound = json!({"sender": {"id": user}, "recipient": {"id": s.account}, "timestamp": t1,
        "message": {"mid": "m\0in", "text": "he\0llo", "quick_reply": {"payload": "QR\0"},
            "reply_to": {"mid": "m\0earlier"},
            "attachments": [{"type": "fi\0le", "payload": {"url": "https://cdn.example/\0f",
                "title": "do\0c", "sticker_id": "st\0icker", "meta\0": ["\0"]}}]}});
    let items = vec![
        inbound.clone(),
        json!({"sender": {"id": user}, "recipient": {"id": s.account}, "timestamp": t2,
            "reaction": {"mid": "m\0in", "action": "react", "reaction": "lo\0ve", "emoji": "\0"}}),
        s.postback(user, "PAY\0LOAD", t3),
        s.edit(user, "m\0missing", "ed\0it", 1, t4),
    ];
    let report = s.apply(store, items).await.expect("apply");
    assert_eq!(
        (report.inserted, report.updated, report.raw_kept),
        (1, 1, 2)
    );
    let again = s.apply(store, vec![inbound]).await.expect("redelivery");
    assert_eq!((again.inserted, again.duplicates), (0, 1), "{again:?}");

    let m = find(store, &s, "m\0in").await;
    assert_no_nul("the inbound message", &m);
    assert_eq!(m.tenant_id.as_str(), kept(s.tenant.as_str()));
    assert_eq!(m.account_id, AccountId::new(kept(&s.account)));
    assert_eq!(m.sender_id, ParticipantId::new(kept(user)));
    assert_eq!(m.recipient_id, ParticipantId::new(kept(&s.account)));
    assert_eq!(m.message_id, MessageId::new(kept("m\0in")));
    assert_eq!(m.text.as_deref(), Some(kept("he\0llo").as_str()));
    assert_eq!(m.quick_reply.as_deref(), Some(kept("QR\0").as_str()));
    assert_eq!(m.reply_to, Some(StoredReplyTo::message(kept("m\0earlier"))));
    let a = &m.attachments[0];
    assert_eq!(a.kind, AttachmentType::Other(kept("fi\0le")));
    assert_eq!(
        a.url.as_deref(),
        Some(kept("https://cdn.example/\0f").as_str())
    );
    assert_eq!(a.title.as_deref(), Some(kept("do\0c").as_str()));
    assert_eq!(a.sticker_id.as_deref(), Some(kept("st\0icker").as_str()));
    assert_eq!(a.payload[kept("meta\0")], json!([kept("\0")]));
    let raw = m.raw_event.as_ref().expect("raw event kept");
    assert_eq!(raw["message"]["text"], json!(kept("he\0llo")));
    let r = &m.reactions[0];
    assert_eq!(r.actor_id, ParticipantId::new(kept(user)));
    assert_eq!(r.reaction.as_deref(), Some(kept("lo\0ve").as_str()));
    assert_eq!(r.emoji.as_deref(), Some(kept("\0").as_str()));

    // An outbound message, its echo (which merges by the id) and a delivery receipt naming it.
    let story = StoredReplyTo::Story {
        id: Some(MediaId::new("st\0ory")),
        url: Some("https://cdn.example/\0s".to_owned()),
    };
    let out = OutboundMessage::new(s.platform, account.clone(), user, "m\0out", tick())
        .with_text("se\0nt")
        .with_attachment(attachment())
        .with_reply_to(story)
        .with_metadata("me\0ta");
    let recorded = store
        .record_outbound(&s.tenant, &out)
        .await
        .expect("record_outbound");
    assert_no_nul("the outbound message", &recorded);
    let echo = json!({"sender": {"id": s.account}, "recipient": {"id": user}, "timestamp": tick(),
        "message": {"mid": "m\0out", "text": "se\0nt", "is_echo": true, "app_id": "app\0id"}});
    let delivered = s.delivery(user, &["m\0out"], None, tick());
    let merged = s.apply(store, vec![echo, delivered]).await.expect("echo");
    assert_eq!((merged.inserted, merged.updated), (0, 2), "{merged:?}");
    let o = find(store, &s, "m\0out").await;
    assert_no_nul("the outbound message", &o);
    assert_eq!(o.id, recorded.id, "the echo merged into the recorded row");
    assert_eq!(o.recipient_id, ParticipantId::new(kept(user)));
    assert_eq!(o.text.as_deref(), Some(kept("se\0nt").as_str()));
    assert_eq!(o.metadata.as_deref(), Some(kept("me\0ta").as_str()));
    assert_eq!(
        o.app_id.as_ref().map(|a| a.as_str().to_owned()),
        Some(kept("app\0id"))
    );
    assert!(o.delivered_at_ms.is_some(), "the receipt found the message");
    let a = &o.attachments[0];
    assert_eq!(a.kind, AttachmentType::Other(kept("ca\0rd")));
    assert_eq!(a.title.as_deref(), Some(kept("ti\0tle").as_str()));
    assert_eq!(a.sticker_id.as_deref(), Some(kept("sti\0cker").as_str()));
    assert_eq!(
        a.payload,
        json!({(kept("el\0ements")): [{"title": kept("x\0")}], "n": 1})
    );
    assert_eq!(
        o.reply_to,
        Some(StoredReplyTo::Story {
            id: Some(MediaId::new(kept("st\0ory"))),
            url: Some(kept("https://cdn.example/\0s")),
        })
    );

    // Lists, counts and filters by the ids as written.
    let by_account = MessageQuery::new().account(account.clone());
    let page = store
        .list_messages(&s.tenant, &by_account.clone().include_raw(true))
        .await
        .expect("list");
    assert_eq!(page.data.len(), 2);
    assert_no_nul("the message list", &page.data);
    let n = store
        .count_messages(&s.tenant, &by_account)
        .await
        .expect("count");
    assert_eq!(n, 2);
    let convs = store
        .list_conversations(
            &s.tenant,
            &ConversationQuery::new().account(account.clone()),
        )
        .await
        .expect("conversations")
        .data;
    assert_eq!(convs.len(), 1, "one conversation with the user");
    let c = &convs[0];
    assert_eq!(c.participant_id, UserId::new(kept(user)));

    // The conversation's writes, by the tenant as written.
    let profile = ParticipantProfile::named("Ja\0ne")
        .with_username("ja\0ne")
        .with_profile_pic_url("https://cdn.example/\0p");
    let c = store
        .set_participant_profile(&s.tenant, c.id, &profile)
        .await
        .expect("profile");
    assert_eq!(c.participant.name.as_deref(), Some(kept("Ja\0ne").as_str()));
    assert_eq!(
        c.participant.username.as_deref(),
        Some(kept("ja\0ne").as_str())
    );
    assert_eq!(
        c.participant.profile_pic_url.as_deref(),
        Some(kept("https://cdn.example/\0p").as_str())
    );
    store
        .set_conversation_archived(&s.tenant, c.id, true)
        .await
        .expect("archive");
    let c = store
        .mark_conversation_read(&s.tenant, c.id)
        .await
        .expect("read");
    assert!(c.archived);
    let c = store
        .get_conversation(&s.tenant, c.id)
        .await
        .expect("get conversation")
        .expect("found");
    assert_no_nul("the conversation", &c);

    // Events kept whole.
    let raw = store
        .list_raw_events(&s.tenant, None, 10)
        .await
        .expect("raw events");
    assert_eq!(raw.len(), 2);
    assert_no_nul("the raw events", &raw);
    let postback = raw.iter().find(|r| r.kind == "postback").expect("postback");
    assert_eq!(
        postback.raw["postback"]["payload"],
        json!(kept("PAY\0LOAD"))
    );
    assert_eq!(postback.account_id, AccountId::new(kept(&s.account)));

    // Account reads and routing, and the status write.
    let status = AccountStatus::Other("li\0mited".to_owned());
    let changed = store
        .set_account_status(&s.tenant, s.platform, &account, &status)
        .await
        .expect("status");
    assert_eq!(changed.status, AccountStatus::Other(kept("li\0mited")));
    let got = store
        .get_account(&s.tenant, s.platform, &account)
        .await
        .expect("get account")
        .expect("found by the ids as written");
    assert!(
        got.last_event_at_ms.is_some_and(|t| t >= t4),
        "the deliveries touched it"
    );
    let listed = store.list_accounts(&s.tenant).await.expect("accounts");
    assert_eq!(listed.len(), 1);
    assert_no_nul("the account", &listed);
    let tenants = store
        .tenants_for_account(s.platform, &account)
        .await
        .expect("route");
    assert_eq!(tenants, [TenantId::new(kept(s.tenant.as_str()))]);

    // Unrouted events, counted by the account as written.
    let stray = Scene {
        account: fresh("stray\0"),
        ..s.clone()
    };
    let events = stray.unrouted(
        vec![stray.text(user, "m\0stray", "any\0one?", tick())],
        &UnroutedReason::NoTenant,
    );
    assert_eq!(store.record_unrouted(&events).await.expect("unrouted"), 1);
    assert_eq!(store.record_unrouted(&events).await.expect("again"), 0);
    let stray_account = AccountId::new(stray.account.as_str());
    let unrouted = store
        .unrouted_count(stray.platform, &stray_account)
        .await
        .expect("count");
    assert_eq!(unrouted, 1);

    // The delivery log: the account, kind and reason as written, read back cleaned.
    let tallies = [
        DeliveryTally::new(
            stray.platform,
            stray.account.as_str(),
            Tallied::Kind("k\0ind".into()),
            1,
            tick(),
        ),
        DeliveryTally::new(
            stray.platform,
            stray.account.as_str(),
            Tallied::UnknownReason("re\0ason".into()),
            1,
            tick(),
        ),
    ];
    store.record_deliveries(&tallies).await.expect("deliveries");
    let log = store
        .delivery_tallies(stray.platform, &stray_account)
        .await
        .expect("log");
    let names: Vec<_> = log
        .iter()
        .map(|t| (t.account_id.as_str(), &t.tallied))
        .collect();
    let account = kept(&stray.account);
    assert_eq!(
        names,
        [
            (account.as_str(), &Tallied::Kind(kept("k\0ind"))),
            (account.as_str(), &Tallied::UnknownReason(kept("re\0ason"))),
        ]
    );

    // NUL and U+FFFD name the same row: the store keeps only the latter.
    let cleaned = Scene {
        tenant: TenantId::new(kept(s.tenant.as_str())),
        account: kept(&s.account),
        ..s.clone()
    };
    assert_eq!(find(store, &cleaned, &kept("m\0in")).await.id, m.id);
}
