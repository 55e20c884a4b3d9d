//! The Send API end to end: the real client sends, the emulator applies Meta's rules, and the
//! echo webhook reaches the app with the same message id.

use meta_messaging_core::Platform;
use meta_messaging_core::graph::{ErrorKind, GraphClient, MessageTag, RetryPolicy};
use meta_messaging_core::ids::{Igsid, PageId, Psid};
use meta_messaging_core::secret::PageAccessToken;
use meta_messaging_core::webhook::{EventDetails, EventKind};
use meta_messaging_emulator::{Emulator, Inbound, World};

use super::*;

const HOUR_MS: i64 = 3600 * 1000;

#[tokio::test]
async fn messenger_reply_is_sent_and_echoed_with_the_same_mid() {
    let mut receiver = Receiver::start().await;
    let (emulator, client) = start(Some(&receiver)).await;

    let inbound_mid = emulator
        .user_writes(PSID, Inbound::text("Is this in stock?"))
        .await
        .unwrap();
    let inbound = receiver.next().await;
    assert_eq!(inbound.len(), 1);
    assert_eq!(inbound[0].kind(), EventKind::Message);
    assert_eq!(inbound[0].platform, Platform::Messenger);
    assert_eq!(inbound[0].account_id, PAGE_ID);
    assert_eq!(inbound[0].message_id(), Some(&inbound_mid));
    assert_eq!(inbound[0].text(), Some("Is this in stock?"));

    let sent = messenger(&client)
        .text(Psid::from(PSID), "It is!")
        .send()
        .await
        .unwrap();
    assert_eq!(sent.recipient_id.unwrap(), PSID);
    assert!(sent.message_id.as_str().starts_with("m_"));

    let echo = receiver.next().await;
    assert_eq!(echo[0].kind(), EventKind::Echo);
    assert_eq!(echo[0].message_id(), Some(&sent.message_id));
    assert_eq!(echo[0].text(), Some("It is!"));
    assert_eq!(echo[0].user_id().unwrap(), PSID);
    let EventDetails::Echo(message) = &echo[0].details else {
        panic!("not an echo: {:?}", echo[0].details);
    };
    assert_eq!(message.app_id.as_ref().unwrap(), APP_ID);

    let recorded = emulator.sent_messages();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].message_id, sent.message_id.as_str());
    assert_eq!(recorded[0].recipient_id, PSID);
    assert_eq!(recorded[0].message["text"], "It is!");
}

#[tokio::test]
async fn instagram_reply_is_echoed_from_the_instagram_account() {
    let mut receiver = Receiver::start().await;
    let (emulator, client) = start(Some(&receiver)).await;
    emulator
        .user_writes(
            IGSID,
            Inbound::attachment("image", "https://cdn.example/p.jpg"),
        )
        .await
        .unwrap();
    let inbound = receiver.next().await;
    assert_eq!(inbound[0].platform, Platform::Instagram);
    assert_eq!(inbound[0].account_id, IG_ACCOUNT_ID);

    let sent = instagram(&client)
        .text(Igsid::from(IGSID), "Nice photo")
        .send()
        .await
        .unwrap();
    // Instagram message ids are long base64-like strings, unlike Messenger's `m_...`.
    assert!(sent.message_id.as_str().len() > 100);
    let echo = receiver.next().await;
    assert_eq!(echo[0].platform, Platform::Instagram);
    assert_eq!(echo[0].account_id, IG_ACCOUNT_ID);
    assert_eq!(echo[0].kind(), EventKind::Echo);
    assert_eq!(echo[0].message_id(), Some(&sent.message_id));
}

#[tokio::test]
async fn a_user_who_never_wrote_first_cannot_be_messaged() {
    let (_emulator, client) = start(None).await;
    let err = messenger(&client)
        .text(Psid::from(PSID), "Hello?")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UserNotFound);
    let err = messenger(&client)
        .text(Psid::from("999"), "Hello?")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UserNotFound);
    assert_eq!(err.meta_error().unwrap().code, 100);
}

#[tokio::test]
async fn instagram_needs_instagram_manage_messages() {
    let (emulator, client) = start(None).await;
    emulator
        .user_writes(IGSID, Inbound::text("hi"))
        .await
        .unwrap();
    emulator
        .set_permissions(PAGE_ID, ["pages_messaging", "instagram_basic"])
        .unwrap();
    let err = instagram(&client)
        .text(Igsid::from(IGSID), "hello")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AppCapabilityMissing);
    // Messenger still works with pages_messaging.
    emulator
        .user_writes(PSID, Inbound::text("hi"))
        .await
        .unwrap();
    messenger(&client)
        .text(Psid::from(PSID), "hello")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn unknown_and_expired_tokens_get_190() {
    let (emulator, client) = start(None).await;
    emulator
        .user_writes(PSID, Inbound::text("hi"))
        .await
        .unwrap();
    let err = client
        .messenger(
            PageId::from(PAGE_ID),
            PageAccessToken::new("EAAG-not-issued"),
        )
        .text(Psid::from(PSID), "hello")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenInvalid);
    assert_eq!(err.meta_error().unwrap().code, 190);

    emulator.expire_token(PAGE_TOKEN).unwrap();
    let err = messenger(&client)
        .text(Psid::from(PSID), "hello")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenExpired);
    assert_eq!(err.meta_error().unwrap().error_subcode, Some(463));
}

#[tokio::test]
async fn outside_the_24_hour_window_only_human_agent_goes_through() {
    let (emulator, client) = start(None).await;
    emulator
        .user_writes(PSID, Inbound::text("hi").at(now_ms() - 25 * HOUR_MS))
        .await
        .unwrap();
    let err = messenger(&client)
        .text(Psid::from(PSID), "Sorry for the wait")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutsideMessagingWindow);
    assert_eq!(err.meta_error().unwrap().error_subcode, Some(2_018_278));

    messenger(&client)
        .text(Psid::from(PSID), "A human here")
        .tag(MessageTag::HumanAgent)
        .send()
        .await
        .unwrap();
    let recorded = emulator.sent_messages();
    assert_eq!(recorded[0].tag.as_deref(), Some("HUMAN_AGENT"));
    assert_eq!(recorded[0].messaging_type.as_deref(), Some("MESSAGE_TAG"));
}

#[tokio::test]
async fn human_agent_ends_after_seven_days() {
    let (emulator, client) = start(None).await;
    emulator
        .user_writes(PSID, Inbound::text("hi").at(now_ms() - 8 * 24 * HOUR_MS))
        .await
        .unwrap();
    let err = messenger(&client)
        .text(Psid::from(PSID), "A human here")
        .tag(MessageTag::HumanAgent)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutsideMessagingWindow);
}

#[tokio::test]
async fn the_send_rate_limit_answers_meta_s_throttling_error() {
    let emulator = Emulator::start(World::demo().send_rate_limit(2))
        .await
        .unwrap();
    let client = GraphClient::builder()
        .graph_url(emulator.url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    emulator
        .user_writes(PSID, Inbound::text("hi"))
        .await
        .unwrap();
    let page = messenger(&client);
    page.text(Psid::from(PSID), "1").send().await.unwrap();
    page.text(Psid::from(PSID), "2").send().await.unwrap();
    let err = page.text(Psid::from(PSID), "3").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.kind().is_retryable());
    assert_eq!(emulator.sent_messages().len(), 2);
}
