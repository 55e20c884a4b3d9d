//! The control API under `/_emulator/`, over plain HTTP, and a world loaded from JSON.

use meta_messaging_core::graph::ErrorKind;
use meta_messaging_core::ids::{Igsid, Psid};
use meta_messaging_core::webhook::EventKind;
use meta_messaging_emulator::World;
use serde_json::{Value, json};

use super::*;

async fn post(url: String, body: Value) -> reqwest::Response {
    crate::support::http::client()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn get(url: String) -> Value {
    crate::support::http::get(url)
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_scripted_conversation_over_http() {
    let mut receiver = Receiver::start().await;
    let (emulator, client) = start(Some(&receiver)).await;
    let base = emulator.url();

    let added = post(
        format!("{base}/_emulator/users"),
        json!({"id": "6758492015640000", "platform": "messenger", "page": PAGE_ID, "name": "Ada Lovelace"}),
    )
    .await;
    assert_eq!(added.status(), 201);
    let wrote = post(
        format!("{base}/_emulator/users/6758492015640000/messages"),
        json!({"text": "Where is my order?"}),
    )
    .await;
    assert_eq!(wrote.status(), 200);
    let mid = wrote.json::<Value>().await.unwrap()["mid"]
        .as_str()
        .unwrap()
        .to_owned();
    let inbound = receiver.next().await;
    assert_eq!(inbound[0].message_id().unwrap().as_str(), mid);

    let sent = messenger(&client)
        .text(Psid::from("6758492015640000"), "On its way")
        .send()
        .await
        .unwrap();
    let echo = receiver.next().await;
    assert_eq!(echo[0].kind(), EventKind::Echo);

    let messages = get(format!("{base}/_emulator/messages")).await;
    assert_eq!(messages["data"][0]["message_id"], sent.message_id.as_str());
    assert_eq!(messages["data"][0]["recipient_id"], "6758492015640000");
    assert_eq!(messages["data"][0]["message"]["text"], "On its way");

    let deliveries = get(format!("{base}/_emulator/webhooks")).await;
    assert_eq!(deliveries["data"].as_array().unwrap().len(), 2);
    assert_eq!(deliveries["data"][1]["status"], 200);

    let profile: Value = crate::support::http::client()
        .get(format!("{base}/v23.0/6758492015640000"))
        .bearer_auth(PAGE_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(profile["first_name"], "Ada");
}

#[tokio::test]
async fn attachments_permissions_and_expiry_over_http() {
    let mut receiver = Receiver::start().await;
    let (emulator, client) = start(Some(&receiver)).await;
    let base = emulator.url();

    let wrote = post(
        format!("{base}/_emulator/users/{IGSID}/messages"),
        json!({"attachment": {"type": "image", "url": "https://cdn.example/shoe.jpg"}}),
    )
    .await;
    assert_eq!(wrote.status(), 200);
    let inbound = receiver.next().await;
    assert_eq!(inbound[0].account_id, IG_ACCOUNT_ID);
    assert_eq!(inbound[0].kind(), EventKind::Message);

    let revoked = post(
        format!("{base}/_emulator/pages/{PAGE_ID}/permissions"),
        json!({"permissions": ["pages_messaging"]}),
    )
    .await;
    assert_eq!(revoked.status(), 200);
    let err = instagram(&client)
        .text(Igsid::from(IGSID), "hi")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AppCapabilityMissing);

    let expired = post(
        format!("{base}/_emulator/tokens/{PAGE_TOKEN}/expire"),
        json!({}),
    )
    .await;
    assert_eq!(expired.status(), 200);
    let err = messenger(&client).page_info().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenExpired);
}

#[tokio::test]
async fn control_errors_name_what_is_missing() {
    let (emulator, _client) = start(None).await;
    let base = emulator.url();
    let unknown = post(
        format!("{base}/_emulator/users/42/messages"),
        json!({"text": "hi"}),
    )
    .await;
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("42"), "{body}");
    let empty = post(format!("{base}/_emulator/users/{PSID}/messages"), json!({})).await;
    assert_eq!(empty.status(), 400);
    let token = post(format!("{base}/_emulator/tokens/nope/expire"), json!({})).await;
    assert_eq!(token.status(), 404);
}

#[tokio::test]
async fn graph_errors_have_meta_s_shape() {
    let (emulator, _client) = start(None).await;
    let answer = crate::support::http::client()
        .post(format!("{}/v23.0/{PAGE_ID}/messages", emulator.url()))
        .bearer_auth(PAGE_TOKEN)
        .json(&json!({"recipient": {"id": PSID}, "message": {"text": "hi"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.unwrap();
    let error = &body["error"];
    assert_eq!(error["message"], "(#100) No matching user found");
    assert_eq!(error["type"], "OAuthException");
    assert_eq!(error["code"], 100);
    assert_eq!(error["error_subcode"], 2_018_001);
    assert!(error["fbtrace_id"].as_str().unwrap().starts_with('A'));
}

#[tokio::test]
async fn a_world_file_sets_up_pages_users_and_the_callback() {
    let mut receiver = Receiver::start().await;
    let world = World::from_json(
        json!({
            "app": {"id": APP_ID, "secret": APP_SECRET, "name": "Acme Inbox"},
            "callback_url": receiver.url,
            "pages": [{
                "id": "200000000000001", "name": "Outlet", "token": "EAAG-outlet",
                "permissions": ["pages_messaging"]
            }],
            "users": [{"id": "300000000000001", "platform": "messenger", "page": "200000000000001"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let (emulator, client) = start_world(world).await;
    emulator
        .user_writes(
            "300000000000001",
            meta_messaging_emulator::Inbound::text("hello"),
        )
        .await
        .unwrap();
    assert_eq!(receiver.next().await[0].account_id, "200000000000001");
    let sent = client
        .messenger(
            "200000000000001".into(),
            meta_messaging_core::secret::PageAccessToken::new("EAAG-outlet"),
        )
        .text(Psid::from("300000000000001"), "hi back")
        .send()
        .await
        .unwrap();
    assert_eq!(
        receiver.next().await[0].message_id(),
        Some(&sent.message_id)
    );
}

/// `POST /_emulator/media` hosts a file whose URL carries its expiry (`oe`) and answers 403
/// `URL signature expired` once the world's `attachment_url_ttl_ms` has passed, as Meta's CDN.
#[tokio::test]
async fn hosted_media_urls_expire_like_meta_s_cdn() {
    let world = World::demo().attachment_url_ttl(std::time::Duration::from_millis(300));
    let (emulator, _) = start_world(world).await;
    let client = crate::support::http::client();
    let hosted = client
        .post(format!("{}/_emulator/media", emulator.url()))
        .header("content-type", "image/png")
        .body(b"\x89PNG-bytes".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(hosted.status(), 201);
    let hosted: Value = hosted.json().await.unwrap();
    let url = hosted["url"].as_str().unwrap();
    let id = hosted["id"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "{}/_emulator/attachments/{id}?oe=",
            emulator.url()
        )),
        "{url}"
    );
    let fresh = client.get(url).send().await.unwrap();
    assert_eq!(fresh.status(), 200);
    assert_eq!(fresh.headers()["content-type"], "image/png");
    assert_eq!(fresh.bytes().await.unwrap().as_ref(), b"\x89PNG-bytes");
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    let expired = client.get(url).send().await.unwrap();
    assert_eq!(expired.status(), 403);
    assert_eq!(expired.text().await.unwrap(), "URL signature expired");
}
