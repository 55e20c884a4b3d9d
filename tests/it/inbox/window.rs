//! The messaging window at send time: refused before Meta, tagged only for a human agent, opened
//! again by a postback; another tag passes as given.

use meta_messaging_core::graph::MessageTag;
use meta_messaging_core::inbox::{InboxError, SendRequest, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::store::WindowState;
use meta_messaging_core::webhook::DeliveryBuilder;
use serde_json::{Value, json};
use wiremock::matchers::body_json;

use crate::support::graph_mock::{APP_SECRET, PAGE_ID, PAGE_TOKEN, PSID, graph_call, json};
use crate::support::inbox::{Harness, connect_accounts, harness, tenant};

const HOUR_MS: i64 = 3_600_000;

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Receives one `messaging[]` item from `PSID`, `ago_ms` ago.
async fn customer_event(h: &Harness, ago_ms: i64, item: Value) {
    let mut event = json!({"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": now_ms() - ago_ms});
    for (k, v) in item.as_object().unwrap() {
        event[k] = v.clone();
    }
    let (body, signature) = DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
        .messaging_event(event)
        .signed(&AppSecret::new(APP_SECRET));
    h.inbox.receive(Some(&signature), &body).await.unwrap();
}

async fn customer_wrote(h: &Harness, ago_ms: i64) {
    let mid = format!("m_window_{ago_ms}");
    customer_event(
        h,
        ago_ms,
        json!({"message": {"mid": mid, "text": "Hello?"}}),
    )
    .await;
}

/// What a bot (an event handler) sends: `SendRequest` without `human_agent`. Outside the 24
/// hours it is refused before Meta (the strict mock's catch-all fails on any call), never tagged.
#[tokio::test]
async fn a_bot_reply_after_24_hours_is_refused_before_meta() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    customer_wrote(&h, 30 * HOUR_MS).await;
    let request = SendRequest::text(Platform::Messenger, PAGE_ID, PSID, "Automated follow-up");
    assert!(!request.human_agent);
    let err = h.inbox.send(&tenant(), &request).await.unwrap_err();
    let InboxError::OutsideMessagingWindow(refusal) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(refusal.window.state, WindowState::HumanAgent);
    assert!(!refusal.human_agent);
    assert_eq!(
        refusal.human_agent_closes_at_ms() - refusal.standard_closed_at_ms(),
        6 * 24 * HOUR_MS
    );
    assert_eq!(err.kind(), "outside_messaging_window");
    assert!(
        err.fix().contains("\"human_agent\": true until"),
        "{}",
        err.fix()
    );
}

/// A postback (Get Started, a button) opens the window again: the same bot reply goes out as a
/// plain response.
#[tokio::test]
async fn a_postback_opens_the_window_again() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    customer_wrote(&h, 30 * HOUR_MS).await;
    customer_event(
        &h,
        60_000,
        json!({"postback": {"title": "Track my order", "payload": "TRACK"}}),
    )
    .await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_json(json!({
            "recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "It ships today"}
        })))
        .respond_with(json(200, json!({"recipient_id": PSID, "message_id": "m_after_postback"})))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let request = SendRequest::text(Platform::Messenger, PAGE_ID, PSID, "It ships today");
    h.inbox.send(&tenant(), &request).await.unwrap();
}

/// A tag other than `HUMAN_AGENT` is the sender's business: passed as given, even after 7 days.
#[tokio::test]
async fn another_tag_is_passed_as_given() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    customer_wrote(&h, 10 * 24 * HOUR_MS).await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_json(json!({
            "recipient": {"id": PSID}, "messaging_type": "MESSAGE_TAG", "tag": "ACCOUNT_UPDATE",
            "message": {"text": "Your address was changed"}
        })))
        .respond_with(json(
            200,
            json!({"recipient_id": PSID, "message_id": "m_account_update"}),
        ))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let request = SendRequest::text(
        Platform::Messenger,
        PAGE_ID,
        PSID,
        "Your address was changed",
    )
    .with_tag(MessageTag::AccountUpdate);
    h.inbox.send(&tenant(), &request).await.unwrap();
    // Without it, a human agent is refused too: 7 days have passed.
    let human =
        SendRequest::text(Platform::Messenger, PAGE_ID, PSID, "Hello again").by_human_agent();
    let err = h.inbox.send(&tenant(), &human).await.unwrap_err();
    assert!(
        matches!(&err, InboxError::OutsideMessagingWindow(r) if r.window.state == WindowState::Closed && r.human_agent),
        "{err:?}"
    );
}
