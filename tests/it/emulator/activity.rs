//! Attachments both ways, and what users do besides writing: react, read, edit.

use meta_messaging_core::graph::{AttachmentKind, ErrorKind};
use meta_messaging_core::ids::{AttachmentId, Igsid, MessageId, Psid};
use meta_messaging_core::webhook::{EventDetails, EventKind, ReactionAction};
use meta_messaging_emulator::{ControlError, Inbound, Reaction};
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
    let served = reqwest::get(&url).await.unwrap();
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
        .user_reacts(PSID, Reaction::love(sent.message_id.as_str()))
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
            .user_reacts(PSID, Reaction::love("m_nope"))
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

    let answer = reqwest::Client::new()
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
