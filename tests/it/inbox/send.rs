//! `Inbox::send`: account look-up, the Graph call, the stored outbound message and its echo.

use meta_messaging_core::graph::{AttachmentKind, MessageTag};
use meta_messaging_core::inbox::{InboxError, SendRequest, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::store::{AccountToken, Direction, MessageQuery, MessageStore, NewAccount};
use meta_messaging_core::webhook::{AttachmentType, DeliveryBuilder};
use serde_json::json;
use wiremock::matchers::body_json;

use crate::support::graph_mock::{
    APP_SECRET, IG_ACCOUNT_ID, IGSID, PAGE_ID, PAGE_TOKEN, PSID, fixture, graph_call, json,
    meta_error,
};
use crate::support::inbox::{connect_accounts, harness, tenant};

#[tokio::test]
async fn a_reply_is_sent_stored_and_merged_with_its_echo() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let answer = fixture("send_response");
    let mid = answer["message_id"].as_str().unwrap().to_owned();
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_json(json!({
            "recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "Your order shipped"}
        })))
        .respond_with(json(200, answer))
        .expect(1)
        .mount(&h.graph.server)
        .await;

    let request = SendRequest::text(Platform::Messenger, PAGE_ID, PSID, "Your order shipped");
    let stored = h.inbox.send(&tenant(), &request).await.unwrap();
    assert_eq!(stored.direction, Direction::Outbound);
    assert_eq!(stored.message_id, mid.as_str());
    assert_eq!(stored.text.as_deref(), Some("Your order shipped"));
    assert_eq!(stored.recipient_id, PSID);

    // Meta then sends the echo of the same message: merged, not duplicated.
    let echo = json!({
        "sender": {"id": PAGE_ID}, "recipient": {"id": PSID}, "timestamp": 1_700_000_000_000_i64,
        "message": {"mid": mid, "is_echo": true, "app_id": 1_234_567_890_u64, "text": "Your order shipped"}
    });
    let (body, signature) = DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
        .messaging_event(echo)
        .signed(&AppSecret::new(APP_SECRET));
    h.inbox.receive(Some(&signature), &body).await.unwrap();
    let page = h
        .inbox
        .messages(&tenant(), &MessageQuery::new())
        .await
        .unwrap();
    assert_eq!(page.data.len(), 1, "the echo merged with the stored reply");
    assert_eq!(
        page.data[0].app_id.as_ref().map(|a| a.as_str()),
        Some("1234567890")
    );
}

#[tokio::test]
async fn instagram_goes_through_the_linked_page_with_quick_replies_and_tag() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_json(json!({
            "recipient": {"id": IGSID},
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
            "reply_to": {"mid": "aWdfZAG1faXRlbT"},
            "message": {"text": "Which size?", "quick_replies": [
                {"content_type": "text", "title": "S", "payload": "SIZE_S"}
            ]}
        })))
        .respond_with(json(200, fixture("send_response_instagram")))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let request = SendRequest::text(Platform::Instagram, IG_ACCOUNT_ID, IGSID, "Which size?")
        .with_quick_reply("S", "SIZE_S")
        .with_reply_to("aWdfZAG1faXRlbT")
        .with_tag(MessageTag::HumanAgent);
    let stored = h.inbox.send(&tenant(), &request).await.unwrap();
    assert_eq!(stored.platform, Platform::Instagram);
    assert_eq!(stored.account_id, IG_ACCOUNT_ID);
    assert!(stored.reply_to.is_some());
}

#[tokio::test]
async fn an_attachment_by_url_is_sent_and_stored() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(body_json(json!({
            "recipient": {"id": PSID}, "messaging_type": "RESPONSE",
            "message": {"attachment": {"type": "image", "payload": {"url": "https://cdn.example.com/receipt.png"}}}
        })))
        .respond_with(json(200, fixture("send_response")))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let request = SendRequest::attachment(
        Platform::Messenger,
        PAGE_ID,
        PSID,
        AttachmentKind::Image,
        "https://cdn.example.com/receipt.png",
    );
    let stored = h.inbox.send(&tenant(), &request).await.unwrap();
    assert_eq!(stored.attachments.len(), 1);
    assert_eq!(stored.attachments[0].kind, AttachmentType::Image);
    assert_eq!(
        stored.attachments[0].url.as_deref(),
        Some("https://cdn.example.com/receipt.png")
    );
}

#[tokio::test]
async fn meta_s_refusal_comes_back_typed_with_its_fix_and_nothing_is_stored() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .respond_with(meta_error(
            400,
            10,
            Some(2_018_278),
            "(#10) This message is sent outside of allowed window.",
        ))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let request = SendRequest::text(Platform::Messenger, PAGE_ID, PSID, "Late reply");
    let err = h.inbox.send(&tenant(), &request).await.unwrap_err();
    assert_eq!(
        (meta_messaging_core::contract::status(&err), err.kind()),
        (422, "outside_messaging_window")
    );
    let body = serde_json::to_value(meta_messaging_core::contract::body(&err)).unwrap();
    assert_eq!(body["error"]["code"], 10);
    assert_eq!(body["error"]["subcode"], 2_018_278);
    assert_eq!(body["error"]["fbtrace_id"], "AzFbTrace01");
    assert!(
        body["error"]["fix"]
            .as_str()
            .unwrap()
            .contains("HUMAN_AGENT"),
        "{body}"
    );
    assert!(!body.to_string().contains(PAGE_TOKEN));
    assert!(
        h.inbox
            .messages(&tenant(), &MessageQuery::new())
            .await
            .unwrap()
            .data
            .is_empty()
    );
}

#[tokio::test]
async fn invalid_requests_and_unusable_accounts_are_refused_before_any_call() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    // No Graph mock is mounted: any call would hit the catch-all and fail the test.
    let mut both = SendRequest::text(Platform::Messenger, PAGE_ID, PSID, "hi");
    both.attachment = SendRequest::attachment(
        Platform::Messenger,
        PAGE_ID,
        PSID,
        AttachmentKind::Image,
        "https://x/y.png",
    )
    .attachment;
    let err = h.inbox.send(&tenant(), &both).await.unwrap_err();
    assert_eq!(
        (meta_messaging_core::contract::status(&err), err.kind()),
        (400, "invalid_request")
    );

    let unknown = SendRequest::text(Platform::Messenger, "111222333444555", PSID, "hi");
    let err = h.inbox.send(&tenant(), &unknown).await.unwrap_err();
    assert_eq!(
        (meta_messaging_core::contract::status(&err), err.kind()),
        (404, "account_not_found")
    );
    assert!(matches!(err, InboxError::AccountNotFound { .. }));

    // Connected (seen in a delivery) but without a token.
    h.store
        .upsert_account(
            &tenant(),
            &NewAccount::new(Platform::Messenger, "555444333222111"),
        )
        .await
        .unwrap();
    let no_token = SendRequest::text(Platform::Messenger, "555444333222111", PSID, "hi");
    let err = h.inbox.send(&tenant(), &no_token).await.unwrap_err();
    assert_eq!(
        (meta_messaging_core::contract::status(&err), err.kind()),
        (422, "account_cannot_send")
    );

    // An Instagram account with a Page token but no linked Page cannot be reached.
    h.store
        .upsert_account(
            &tenant(),
            &NewAccount::new(Platform::Instagram, "17841499999999999").with_token(
                AccountToken::Page(meta_messaging_core::secret::PageAccessToken::new(
                    PAGE_TOKEN,
                )),
                None,
            ),
        )
        .await
        .unwrap();
    let unlinked = SendRequest::text(Platform::Instagram, "17841499999999999", IGSID, "hi");
    let err = h.inbox.send(&tenant(), &unlinked).await.unwrap_err();
    assert!(err.to_string().contains("no linked Page"), "{err}");
}

#[test]
fn the_json_form_of_post_messages_is_checked() {
    let ok: SendRequest = serde_json::from_value(json!({
        "platform": "instagram", "account_id": IG_ACCOUNT_ID, "recipient_id": IGSID,
        "text": "Hi", "quick_replies": [{"title": "Yes", "payload": "YES"}], "tag": "HUMAN_AGENT"
    }))
    .unwrap();
    assert_eq!(ok.platform, Platform::Instagram);
    assert_eq!(ok.quick_replies.len(), 1);
    let typo = serde_json::from_value::<SendRequest>(json!({
        "platform": "instagram", "account_id": IG_ACCOUNT_ID, "recipient_id": IGSID, "txt": "Hi"
    }));
    assert!(
        typo.unwrap_err()
            .to_string()
            .contains("unknown field `txt`")
    );
    // Only the four kinds the Send API takes are refused before any call; a tag Meta may add
    // later is passed on as given.
    let sticker = serde_json::from_value::<SendRequest>(json!({
        "platform": "messenger", "account_id": PAGE_ID, "recipient_id": PSID,
        "attachment": {"type": "sticker", "url": "https://x/y.png"}
    }));
    let err = sticker.unwrap_err().to_string();
    assert!(err.contains("unknown variant `sticker`"), "{err}");
    let new_tag: SendRequest = serde_json::from_value(json!({
        "platform": "messenger", "account_id": PAGE_ID, "recipient_id": PSID,
        "text": "Hi", "tag": "CUSTOMER_FEEDBACK"
    }))
    .unwrap();
    assert_eq!(
        new_tag.tag,
        Some(MessageTag::Other("CUSTOMER_FEEDBACK".to_owned()))
    );
    assert_eq!(ok.tag, Some(MessageTag::HumanAgent));
}

/// When the echo arrives before Meta's answer, the stored row holds Meta's raw JSON: the answer
/// of `send` and the live events leave it out, the store's read API still has it.
#[tokio::test]
async fn the_answer_and_live_events_never_carry_the_raw_webhook_json() {
    let h = harness(Tenancy::Single(tenant())).await;
    connect_accounts(h.store.as_ref(), &tenant()).await;
    let answer = fixture("send_response");
    let mid = answer["message_id"].as_str().unwrap().to_owned();
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .respond_with(json(200, answer))
        .expect(1)
        .mount(&h.graph.server)
        .await;
    let echo = json!({
        "sender": {"id": PAGE_ID}, "recipient": {"id": PSID}, "timestamp": 1_700_000_000_000_i64,
        "message": {"mid": mid, "is_echo": true, "app_id": 1_234_567_890_u64,
                    "text": "Echo first"}
    });
    let (body, signature) = DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
        .messaging_event(echo)
        .signed(&AppSecret::new(APP_SECRET));
    let mut live = h.inbox.subscribe(&tenant()).await.unwrap();
    h.inbox.receive(Some(&signature), &body).await.unwrap();

    let request = SendRequest::text(Platform::Messenger, PAGE_ID, PSID, "Echo first");
    let stored = h.inbox.send(&tenant(), &request).await.unwrap();
    assert_eq!(stored.message_id, mid.as_str());
    assert!(stored.raw_event.is_none(), "{:?}", stored.raw_event);
    let answer = serde_json::to_value(&stored).unwrap();
    assert!(answer.get("raw_event").is_none(), "{answer:#}");

    let event = tokio::time::timeout(std::time::Duration::from_secs(5), live.next())
        .await
        .unwrap()
        .unwrap();
    // The echo stored the message first: that is its one `message_stored`.
    let sent = serde_json::to_value(&event.event).unwrap();
    assert_eq!(sent["type"], "message_stored");
    assert_eq!(sent["message"]["message_id"], mid.as_str());
    assert!(sent["message"].get("raw_event").is_none(), "{sent:#}");

    // Where it is meant to be read, it is still there.
    let page = h
        .inbox
        .messages(&tenant(), &MessageQuery::new().include_raw(true))
        .await
        .unwrap();
    let raw = page.data[0].raw_event.as_ref().expect("the store keeps it");
    assert_eq!(raw["message"]["is_echo"], true);
}
