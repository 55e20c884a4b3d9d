//! Files from the page, end to end: a `multipart/form-data` `POST /messages` goes through the
//! emulator's attachment upload, shows in its conversation, and the inbox's thread shows it from
//! the kept copy.

use meta_messaging_emulator::{Inbound, World};
use sha2::Digest as _;

use super::inbox::Deployment;
use super::*;
use crate::support::servers::{Adapter, PREFIX};

async fn a_file_from_a_form_reaches_the_emulator_and_the_thread(adapter: Adapter) {
    let app = Deployment::start(adapter, World::demo()).await;
    app.emulator
        .user_writes(IGSID, Inbound::text("Can I see the receipt?"))
        .await
        .unwrap();
    app.messages_when("instagram", |m| m.len() == 1).await;

    let receipt: Vec<u8> = (0..20_000_u32).map(|i| (i * 13 % 251) as u8).collect();
    let form = reqwest::multipart::Form::new()
        .text("platform", "instagram")
        .text("account_id", IG_ACCOUNT_ID)
        .text("recipient_id", IGSID)
        .text("human_agent", "true")
        .part(
            "file",
            reqwest::multipart::Part::bytes(receipt.clone())
                .file_name("receipt.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let answer = app
        .http
        .post(format!("{}/messages", app.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let sent: serde_json::Value = answer.json().await.unwrap();

    // The emulator got the upload and the send by its attachment id, and shows the file in
    // the conversation (its echo) at its CDN URL, with the same bytes.
    let at_meta = app.emulator.sent_messages();
    assert_eq!(at_meta.len(), 1);
    assert_eq!(sent["message_id"], at_meta[0].message_id.as_str());
    let attachment = &at_meta[0].message["attachment"];
    assert_eq!(attachment["type"], "image", "{attachment}");
    assert!(
        attachment["payload"]["attachment_id"].is_string(),
        "{attachment}"
    );
    app.delivered(2).await;
    let echo = &app.emulator.deliveries()[1].body;
    let cdn_url = echo
        .pointer("/entry/0/messaging/0/message/attachments/0/payload/url")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_else(|| panic!("no attachment URL in the echo {echo}"));
    let at_cdn = app.http.get(cdn_url).send().await.unwrap();
    assert_eq!(at_cdn.headers()["content-type"], "image/png");
    assert_eq!(at_cdn.bytes().await.unwrap().as_ref(), receipt.as_slice());

    // The inbox's thread has it, from its own copy, after the echo merged.
    let thread = app.messages_when("instagram", |m| m.len() == 2).await;
    assert_eq!(thread[1]["id"], sent["id"]);
    let a = &thread[1]["attachments"][0];
    assert_eq!(
        (a["type"].as_str(), a["stored"].as_bool()),
        (Some("image"), Some(true)),
        "{a}"
    );
    assert_eq!(
        a["sha256"],
        hex::encode(sha2::Sha256::digest(&receipt)),
        "{a}"
    );
    let media_url = a["media_url"].as_str().unwrap();
    let origin = app.base.strip_suffix(PREFIX).unwrap();
    let kept = app
        .http
        .get(format!("{origin}{media_url}"))
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), 200);
    assert_eq!(kept.bytes().await.unwrap().as_ref(), receipt.as_slice());
}

#[tokio::test]
async fn a_file_from_a_form_reaches_the_emulator_and_the_thread_through_axum() {
    a_file_from_a_form_reaches_the_emulator_and_the_thread(Adapter::Axum).await;
}

#[tokio::test]
async fn a_file_from_a_form_reaches_the_emulator_and_the_thread_through_actix() {
    a_file_from_a_form_reaches_the_emulator_and_the_thread(Adapter::Actix).await;
}
