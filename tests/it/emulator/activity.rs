//! Attachments both ways, and what users do besides writing: react, read, edit.

use meta_messaging_core::graph::{AttachmentKind, ErrorKind};
use meta_messaging_core::ids::{AttachmentId, Igsid, MessageId, Psid};
use meta_messaging_core::webhook::{EventDetails, EventKind, ReactionAction, ReplyTo};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use meta_messaging_emulator::{ControlError, DeliveryRecord, Inbound, InboundReaction};
use serde_json::json;

use super::*;

fn echo_attachment_url(events: &[Event]) -> String {
    let EventDetails::Echo(message) = &events[0].details else {
        panic!("not an echo: {:?}", events[0].details);
    };
    message.attachments[0].url.clone().unwrap()
}

#[tokio::test]
async fn uploaded_bytes_are_sent_by_id_and_served_at_the_echo_s_url() {
    let mut receiver = Receiver::start().await;
    let (emulator, client) = start(Some(&receiver)).await;
    emulator
        .user_writes(PSID, Inbound::text("photo?"))
        .await
        .unwrap();
    receiver.next().await;

    let sent = messenger(&client)
        .attachment_bytes(
            Psid::from(PSID),
            AttachmentKind::Image,
            b"\x89PNG fake".to_vec(),
            "shoe.png",
            "image/png",
        )
        .send()
        .await
        .unwrap();
    let echo = receiver.next().await;
    assert_eq!(echo[0].message_id(), Some(&sent.message_id));
    let url = echo_attachment_url(&echo);
    assert!(url.starts_with(&emulator.url()), "{url}");
    let served = crate::support::http::get(&url).await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), b"\x89PNG fake");
}

#[tokio::test]
async fn an_attachment_uploaded_by_url_is_reusable_by_id() {
    let mut receiver = Receiver::start().await;
    let (emulator, client) = start(Some(&receiver)).await;
    emulator
        .user_writes(IGSID, Inbound::text("catalog?"))
        .await
        .unwrap();
    receiver.next().await;
    let account = instagram(&client);
    let id = account
        .upload_attachment_url(AttachmentKind::Image, "https://cdn.example/catalog.jpg")
        .send()
        .await
        .unwrap();
    account
        .attachment_id(Igsid::from(IGSID), AttachmentKind::Image, id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        echo_attachment_url(&receiver.next().await),
        "https://cdn.example/catalog.jpg"
    );

    let err = account
        .attachment_id(
            Igsid::from(IGSID),
            AttachmentKind::Image,
            AttachmentId::from("1800000000000000"),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ParameterInvalid);
}

#[tokio::test]
async fn users_react_read_and_edit() {
    let mut receiver = Receiver::start().await;
    let (emulator, client) = start(Some(&receiver)).await;
    let asked = emulator
        .user_writes(PSID, Inbound::text("Size 42?"))
        .await
        .unwrap();
    receiver.next().await;
    let sent = messenger(&client)
        .text(Psid::from(PSID), "In stock")
        .send()
        .await
        .unwrap();
    receiver.next().await;

    emulator
        .user_reacts(PSID, InboundReaction::love(sent.message_id.as_str()))
        .await
        .unwrap();
    let reacted = receiver.next().await;
    let EventDetails::Reaction(reaction) = &reacted[0].details else {
        panic!("not a reaction: {:?}", reacted[0].details);
    };
    assert_eq!(reaction.mid, sent.message_id);
    assert_eq!(reaction.action, ReactionAction::React);
    assert_eq!(reaction.reaction.as_deref(), Some("love"));

    emulator.user_reads(PSID).await.unwrap();
    let read = receiver.next().await;
    let EventDetails::Read(read) = &read[0].details else {
        panic!("not a read: {:?}", read[0].details);
    };
    assert!(read.watermark_ms.is_some());

    emulator
        .user_edits(PSID, asked.as_str(), "Size 43?")
        .await
        .unwrap();
    emulator
        .user_edits(PSID, asked.as_str(), "Size 44?")
        .await
        .unwrap();
    receiver.next().await;
    let edited = receiver.next().await;
    let EventDetails::Edit(edit) = &edited[0].details else {
        panic!("not an edit: {:?}", edited[0].details);
    };
    assert_eq!(edit.mid, asked);
    assert_eq!(edit.text.as_deref(), Some("Size 44?"));
    assert_eq!(edit.num_edit, 2);

    // Only the author edits, and only messages of the conversation get reactions.
    assert_eq!(
        emulator
            .user_edits(PSID, sent.message_id.as_str(), "x")
            .await,
        Err(ControlError::UnknownMessage(
            sent.message_id.as_str().to_owned()
        ))
    );
    assert!(
        emulator
            .user_reacts(PSID, InboundReaction::love("m_nope"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn instagram_reads_name_the_message_and_reactions_come_over_http() {
    let mut receiver = Receiver::start().await;
    let (emulator, client) = start(Some(&receiver)).await;
    emulator
        .user_writes(IGSID, Inbound::text("hi"))
        .await
        .unwrap();
    receiver.next().await;
    let sent = instagram(&client)
        .text(Igsid::from(IGSID), "hello")
        .send()
        .await
        .unwrap();
    receiver.next().await;

    emulator.user_reads(IGSID).await.unwrap();
    let read = receiver.next().await;
    let EventDetails::Read(read) = &read[0].details else {
        panic!("not a read: {:?}", read[0].details);
    };
    assert_eq!(read.mid.as_ref(), Some(&sent.message_id));

    let answer = crate::support::http::client()
        .post(format!(
            "{}/_emulator/users/{IGSID}/reactions",
            emulator.url()
        ))
        .json(&json!({"mid": sent.message_id.as_str(), "react": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let unreacted = receiver.next().await;
    assert_eq!(unreacted[0].kind(), EventKind::Reaction);
    assert_eq!(unreacted[0].account_id, IG_ACCOUNT_ID);

    // The business reacts back through the Send API.
    instagram(&client)
        .react(Igsid::from(IGSID), MessageId::from("aWdf-any"), "love")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn replies_quick_reply_taps_and_instagram_unsends() {
    let mut receiver = Receiver::start().await;
    let (emulator, _client) = start(Some(&receiver)).await;
    let first = emulator
        .user_writes(IGSID, Inbound::text("Do you ship to Lyon?"))
        .await
        .unwrap();
    receiver.next().await;

    let reply = emulator
        .user_writes(
            IGSID,
            Inbound::text("Yes please")
                .quick_reply("SHIP_FR")
                .reply_to(first.as_str()),
        )
        .await
        .unwrap();
    let replied = receiver.next().await;
    let EventDetails::Message(message) = &replied[0].details else {
        panic!("not a message: {:?}", replied[0].details);
    };
    assert_eq!(message.quick_reply.as_deref(), Some("SHIP_FR"));
    assert!(
        matches!(&message.reply_to, Some(ReplyTo::Message { mid }) if *mid == first),
        "{:?}",
        message.reply_to
    );

    emulator.user_unsends(IGSID, reply.as_str()).await.unwrap();
    let unsent = receiver.next().await;
    assert_eq!(unsent[0].kind(), EventKind::Delete);
    assert_eq!(unsent[0].message_id(), Some(&reply));

    // Gone from the conversation: it cannot be unsent twice, nor replied to.
    assert_eq!(
        emulator.user_unsends(IGSID, reply.as_str()).await,
        Err(ControlError::UnknownMessage(reply.as_str().to_owned()))
    );
    assert!(matches!(
        emulator
            .user_writes(IGSID, Inbound::text("x").reply_to(reply.as_str()))
            .await,
        Err(ControlError::UnknownMessage(_))
    ));
    // Messenger has no unsend webhook.
    let on_messenger = emulator
        .user_writes(PSID, Inbound::text("hi"))
        .await
        .unwrap();
    assert!(matches!(
        emulator.user_unsends(PSID, on_messenger.as_str()).await,
        Err(ControlError::NotOnMessenger(_))
    ));
}

/// A callback that answers 500 to the first `failures` deliveries, then 200.
async fn flaky_callback(failures: usize) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let app = axum::Router::new().route(
        "/webhook",
        axum::routing::post(move || {
            let seen = Arc::clone(&seen);
            async move {
                if seen.fetch_add(1, Ordering::SeqCst) < failures {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

async fn wait_for_deliveries(emulator: &RunningEmulator, count: usize) -> Vec<DeliveryRecord> {
    for _ in 0..200 {
        let deliveries = emulator.deliveries();
        if deliveries.len() >= count {
            return deliveries;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "fewer than {count} delivery attempts: {:?}",
        emulator.deliveries()
    );
}

#[tokio::test]
async fn a_refused_delivery_is_retried_until_accepted() {
    let (url, calls) = flaky_callback(2).await;
    let world = World::demo()
        .callback_url(url)
        .webhook_retries(3, Duration::from_millis(20));
    let (emulator, _client) = start_world(world).await;
    emulator
        .user_writes(PSID, Inbound::text("hi"))
        .await
        .unwrap();

    let attempts = wait_for_deliveries(&emulator, 3).await;
    let statuses: Vec<_> = attempts.iter().map(|d| (d.attempt, d.status)).collect();
    assert_eq!(statuses, [(1, Some(500)), (2, Some(500)), (3, Some(200))]);
    assert!(attempts.iter().all(|d| d.body == attempts[0].body));
    // Accepted: no more attempts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn retries_give_up_after_the_world_s_limit() {
    let (url, calls) = flaky_callback(usize::MAX).await;
    let world = World::demo()
        .callback_url(url)
        .webhook_retries(2, Duration::from_millis(10));
    let (emulator, _client) = start_world(world).await;
    emulator
        .user_writes(PSID, Inbound::text("hi"))
        .await
        .unwrap();
    wait_for_deliveries(&emulator, 3).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3, "one try and two retries");
}

#[tokio::test]
async fn the_callback_can_move_while_running() {
    let (emulator, _client) = start(None).await;
    emulator
        .user_writes(PSID, Inbound::text("logged only"))
        .await
        .unwrap();
    assert_eq!(wait_for_deliveries(&emulator, 1).await[0].status, None);
    let mut receiver = Receiver::start().await;
    emulator
        .set_callback_url(Some(receiver.url.clone()))
        .unwrap();
    emulator
        .user_writes(PSID, Inbound::text("delivered"))
        .await
        .unwrap();
    let events = receiver.next().await;
    let EventDetails::Message(message) = &events[0].details else {
        panic!("not a message");
    };
    assert_eq!(message.text.as_deref(), Some("delivered"));
    assert_eq!(
        emulator.set_callback_url(Some("ftp://x".to_owned())),
        Err(ControlError::InvalidCallback("ftp://x".to_owned()))
    );
}
