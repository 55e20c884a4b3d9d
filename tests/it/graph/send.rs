//! Sending on Messenger, Instagram through a Page, and Instagram Login.

use meta_messaging_core::graph::{
    AttachmentKind, ErrorKind, GraphError, InvalidRequest, MessageTag, MessagingType, QuickReply,
    SenderAction,
};
use meta_messaging_core::ids::{
    AttachmentId, CommentId, Igsid, InstagramAccountId, MessageId, PageId, Psid,
};
use meta_messaging_core::secret::{InstagramAccessToken, PageAccessToken};
use serde_json::json;
use wiremock::matchers::{body_json, body_string_contains, header};

use crate::support::graph_mock::*;

fn messenger(mock: &GraphMock) -> meta_messaging_core::graph::AccountClient {
    mock.client()
        .messenger(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
}

fn instagram(mock: &GraphMock) -> meta_messaging_core::graph::AccountClient {
    mock.client()
        .instagram_via_page(PageId::from(PAGE_ID), PageAccessToken::new(PAGE_TOKEN))
}

async fn expect_send(mock: &GraphMock, body: serde_json::Value, answer: &str) {
    graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
        .and(header("content-type", "application/json"))
        .and(body_json(body))
        .respond_with(json(200, fixture(answer)))
        .expect(1)
        .mount(&mock.server)
        .await;
}

#[tokio::test]
async fn text_to_a_psid_posts_meta_s_body_with_bearer_auth() {
    let mock = GraphMock::start().await;
    expect_send(
        &mock,
        json!({"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "Your order shipped"}}),
        "send_response",
    )
    .await;
    let sent = messenger(&mock)
        .text(Psid::from(PSID), "Your order shipped")
        .send()
        .await
        .unwrap();
    assert_eq!(sent.recipient_id.unwrap(), PSID);
    assert!(sent.message_id.as_str().starts_with("m_AG5Hz2Uq7"));
}

#[tokio::test]
async fn human_agent_tag_quick_replies_and_reply_to() {
    let mock = GraphMock::start().await;
    expect_send(
        &mock,
        json!({
            "recipient": {"id": IGSID},
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
            "reply_to": {"mid": "aWdfZAG1faXRlbT"},
            "message": {"text": "Which size?", "quick_replies": [
                {"content_type": "text", "title": "S", "payload": "SIZE_S"},
                {"content_type": "text", "title": "M", "payload": "SIZE_M", "image_url": "https://example.com/m.png"}
            ]}
        }),
        "send_response_instagram",
    )
    .await;
    let sent = instagram(&mock)
        .text(Igsid::from(IGSID), "Which size?")
        .quick_reply(QuickReply::text("S", "SIZE_S"))
        .quick_reply(QuickReply::text("M", "SIZE_M").with_image("https://example.com/m.png"))
        .tag(MessageTag::HumanAgent)
        .reply_to(MessageId::from("aWdfZAG1faXRlbT"))
        .send()
        .await
        .unwrap();
    let expected = fixture("send_response_instagram")["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        sent.message_id.as_str(),
        expected,
        "long Instagram ids are kept whole"
    );
    assert!(expected.len() > 100);
}

#[tokio::test]
async fn attachments_by_url_and_by_saved_id() {
    let mock = GraphMock::start().await;
    expect_send(
        &mock,
        json!({"recipient": {"id": PSID}, "messaging_type": "UPDATE", "message": {"attachment": {
            "type": "image", "payload": {"url": "https://cdn.example.com/shoe.jpg", "is_reusable": true}}}}),
        "send_response",
    )
    .await;
    expect_send(
        &mock,
        json!({"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"attachment": {
            "type": "file", "payload": {"attachment_id": "1857777774821032"}}}}),
        "send_response",
    )
    .await;
    let page = messenger(&mock);
    page.attachment_url(
        Psid::from(PSID),
        AttachmentKind::Image,
        "https://cdn.example.com/shoe.jpg",
    )
    .reusable(true)
    .messaging_type(MessagingType::Update)
    .send()
    .await
    .unwrap();
    page.attachment_id(
        Psid::from(PSID),
        AttachmentKind::File,
        AttachmentId::from("1857777774821032"),
    )
    .send()
    .await
    .unwrap();
}

#[tokio::test]
async fn attachment_from_bytes_is_uploaded_then_sent_by_id() {
    let mock = GraphMock::start().await;
    graph_call(
        "POST",
        &format!("{PAGE_ID}/message_attachments"),
        PAGE_TOKEN,
    )
    .and(header_starts_with_multipart())
    .and(body_string_contains(r#"name="message""#))
    .and(body_string_contains(r#""is_reusable":true"#))
    .and(body_string_contains(r#""type":"image""#))
    .and(body_string_contains(
        r#"name="filedata"; filename="shoe.png""#,
    ))
    .and(body_string_contains("Content-Type: image/png"))
    .and(body_string_contains("PNGBYTES"))
    .respond_with(json(200, fixture("upload_response")))
    .expect(1)
    .mount(&mock.server)
    .await;
    expect_send(
        &mock,
        json!({"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"attachment": {
            "type": "image", "payload": {"attachment_id": "1857777774821032"}}}}),
        "send_response",
    )
    .await;
    messenger(&mock)
        .attachment_bytes(
            Psid::from(PSID),
            AttachmentKind::Image,
            b"PNGBYTES".to_vec(),
            "shoe.png",
            "image/png",
        )
        .send()
        .await
        .unwrap();
}

fn header_starts_with_multipart() -> impl wiremock::Match {
    |request: &wiremock::Request| {
        request
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data; boundary="))
    }
}

/// Instagram through its Page: the upload names the platform, as Meta's Instagram upload
/// requires, and Meta's answer is the reusable id; Meta's refusal keeps its code and kind.
#[tokio::test]
async fn an_instagram_upload_names_the_platform() {
    let mock = GraphMock::start().await;
    graph_call(
        "POST",
        &format!("{PAGE_ID}/message_attachments"),
        PAGE_TOKEN,
    )
    .and(header_starts_with_multipart())
    .and(body_string_contains(
        "name=\"platform\"\r\n\r\ninstagram\r\n",
    ))
    .and(body_string_contains(r#""is_reusable":true"#))
    .and(body_string_contains(r#""type":"video""#))
    .and(body_string_contains(
        r#"name="filedata"; filename="clip.mp4""#,
    ))
    .and(body_string_contains("Content-Type: video/mp4"))
    .and(body_string_contains("MP4BYTES"))
    .respond_with(json(200, fixture("upload_response")))
    .expect(1)
    .mount(&mock.server)
    .await;
    let id = instagram(&mock)
        .upload_attachment(
            AttachmentKind::Video,
            b"MP4BYTES".to_vec(),
            "clip.mp4",
            "video/mp4",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(id, "1857777774821032");

    let refusing = GraphMock::start().await;
    graph_call(
        "POST",
        &format!("{PAGE_ID}/message_attachments"),
        PAGE_TOKEN,
    )
    .respond_with(meta_error(
        400,
        100,
        None,
        "(#100) Upload attachment failure.",
    ))
    .expect(1)
    .mount(&refusing.server)
    .await;
    let err = instagram(&refusing)
        .upload_attachment(AttachmentKind::Image, b"PNG".to_vec(), "a.png", "image/png")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.meta_error().map(|e| e.code), Some(100), "{err}");
    assert_eq!(err.status(), Some(400), "{err}");
}

/// A file the platform would refuse never leaves: too large, of a type it does not take, or
/// from an Instagram Login account (which has no upload); each error says what to do.
#[tokio::test]
async fn uploads_are_checked_against_the_platform_before_any_request() {
    // The catch-all fails the test if any of these reaches the server.
    let mock = GraphMock::start().await;
    let big = vec![0_u8; 8 * 1024 * 1024 + 1];
    let err = instagram(&mock)
        .attachment_bytes(
            Igsid::from(IGSID),
            AttachmentKind::Image,
            big.clone(),
            "big.png",
            "image/png",
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AttachmentTooLarge, "{err}");
    assert!(err.to_string().contains("8388608"), "{err}");
    assert!(err.fix().contains("smaller"), "{}", err.fix());
    // Messenger takes the same image.
    assert!(
        messenger(&mock)
            .attachment_bytes(
                Psid::from(PSID),
                AttachmentKind::Image,
                big,
                "big.png",
                "image/png"
            )
            .validate()
            .is_ok()
    );
    let err = instagram(&mock)
        .upload_attachment(
            AttachmentKind::File,
            b"PK".to_vec(),
            "a.zip",
            "application/zip",
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AttachmentTypeNotAllowed, "{err}");
    assert!(err.to_string().contains("PDF"), "{err}");
    let err = messenger(&mock)
        .upload_attachment(
            AttachmentKind::Audio,
            b"ID3".to_vec(),
            "a.bin",
            "application/octet-stream",
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AttachmentTypeNotAllowed, "{err}");
    let login = mock.client().instagram_login(
        InstagramAccountId::from(IG_ACCOUNT_ID),
        InstagramAccessToken::new(IG_TOKEN),
    );
    let err = login
        .upload_attachment(AttachmentKind::Image, b"PNG".to_vec(), "a.png", "image/png")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::InvalidRequest(InvalidRequest::Unsupported { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("by URL"), "{err}");
}

#[tokio::test]
async fn upload_from_a_url_returns_the_attachment_id() {
    let mock = GraphMock::start().await;
    graph_call(
        "POST",
        &format!("{PAGE_ID}/message_attachments"),
        PAGE_TOKEN,
    )
    .and(body_json(
        json!({"message": {"attachment": {"type": "video", "payload": {
            "url": "https://cdn.example.com/clip.mp4", "is_reusable": true}}}}),
    ))
    .respond_with(json(200, fixture("upload_response")))
    .expect(1)
    .mount(&mock.server)
    .await;
    let id = messenger(&mock)
        .upload_attachment_url(AttachmentKind::Video, "https://cdn.example.com/clip.mp4")
        .send()
        .await
        .unwrap();
    assert_eq!(id, "1857777774821032");
}

#[tokio::test]
async fn sender_actions_and_instagram_reactions() {
    let mock = GraphMock::start().await;
    for body in [
        json!({"recipient": {"id": PSID}, "sender_action": "typing_on"}),
        json!({"recipient": {"id": PSID}, "sender_action": "mark_seen"}),
        json!({"recipient": {"id": IGSID}, "sender_action": "react", "payload": {"message_id": "aWdfZAG1", "reaction": "love"}}),
        json!({"recipient": {"id": IGSID}, "sender_action": "unreact", "payload": {"message_id": "aWdfZAG1"}}),
    ] {
        let recipient = body["recipient"]["id"].as_str().unwrap().to_owned();
        graph_call("POST", &format!("{PAGE_ID}/messages"), PAGE_TOKEN)
            .and(body_json(body))
            .respond_with(json(200, json!({"recipient_id": recipient})))
            .expect(1)
            .mount(&mock.server)
            .await;
    }
    let page = messenger(&mock);
    page.sender_action(Psid::from(PSID), SenderAction::TypingOn)
        .send()
        .await
        .unwrap();
    let seen = page
        .sender_action(Psid::from(PSID), SenderAction::MarkSeen)
        .send()
        .await
        .unwrap();
    assert_eq!(seen.recipient_id.unwrap(), PSID);
    let ig = instagram(&mock);
    ig.react(Igsid::from(IGSID), MessageId::from("aWdfZAG1"), "love")
        .send()
        .await
        .unwrap();
    ig.unreact(Igsid::from(IGSID), MessageId::from("aWdfZAG1"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn private_reply_to_a_comment() {
    let mock = GraphMock::start().await;
    expect_send(
        &mock,
        json!({"recipient": {"comment_id": "17858893269000001"}, "messaging_type": "RESPONSE", "message": {"text": "We sent you the details"}}),
        "send_response_instagram",
    )
    .await;
    instagram(&mock)
        .private_reply(
            CommentId::from("17858893269000001"),
            "We sent you the details",
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn instagram_login_goes_to_graph_instagram_com() {
    let facebook = GraphMock::start().await;
    let instagram = GraphMock::start().await;
    graph_call("POST", &format!("{IG_ACCOUNT_ID}/messages"), IG_TOKEN)
        .and(body_json(json!({"recipient": {"id": IGSID}, "messaging_type": "RESPONSE", "message": {"text": "Hi!"}})))
        .respond_with(json(200, fixture("send_response_instagram")))
        .expect(1)
        .mount(&instagram.server)
        .await;
    let client = facebook
        .builder()
        .instagram_url(instagram.uri())
        .build()
        .unwrap();
    let account = client.instagram_login(
        InstagramAccountId::from(IG_ACCOUNT_ID),
        InstagramAccessToken::new(IG_TOKEN),
    );
    account
        .text(Igsid::from(IGSID), "Hi!")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn limits_are_checked_before_any_request() {
    // The catch-all fails the test if any of these reaches the server.
    let mock = GraphMock::start().await;
    let too_long = "é".repeat(501); // 1002 bytes: over Instagram's 1000
    let err = instagram(&mock)
        .text(Igsid::from(IGSID), too_long)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::InvalidRequest(InvalidRequest::TextTooLong { max: 1000, .. })
        ),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);

    let err = messenger(&mock)
        .text(Psid::from(PSID), "x".repeat(2001))
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most 2000 characters"), "{err}");

    let page = messenger(&mock);
    let mut builder = page.text(Psid::from(PSID), "pick one");
    for i in 0..14 {
        builder = builder.quick_reply(QuickReply::text(format!("{i}"), "P"));
    }
    assert!(matches!(
        builder.send().await,
        Err(GraphError::InvalidRequest(
            InvalidRequest::TooManyQuickReplies { count: 14, .. }
        ))
    ));

    let err = messenger(&mock)
        .react(Psid::from(PSID), MessageId::from("m_1"), "love")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::InvalidRequest(InvalidRequest::Unsupported { .. })
        ),
        "{err}"
    );

    let err = messenger(&mock)
        .text(Psid::from(PSID), "hi")
        .messaging_type(MessagingType::MessageTag)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        GraphError::InvalidRequest(InvalidRequest::TagMismatch)
    ));
}
