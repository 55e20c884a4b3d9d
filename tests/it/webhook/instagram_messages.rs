//! Instagram messages and echoes (`"object": "instagram"`): text, replies, every attachment type.

use meta_messaging_core::platform::Platform;
use meta_messaging_core::webhook::{AttachmentType, EventDetails, EventKind, ReplyTo};
use serde_json::{Value, json};

use super::fixture::{assert_json_eq, load, message, url_attachment, with};
use super::ids::*;

const LOOKASIDE: &str = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=";

/// The JSON form of an inbound Instagram message from `IGSID_1` to `IG_ACCOUNT`.
fn inbound(timestamp_ms: i64, mid: &str, text: Option<&str>, message: Value) -> Value {
    json!({
        "platform": "instagram",
        "kind": "message",
        "account_id": IG_ACCOUNT,
        "sender_id": IGSID_1,
        "recipient_id": IG_ACCOUNT,
        "timestamp_ms": timestamp_ms,
        "message_id": mid,
        "text": text,
        "standby": false,
        "message": message,
    })
}

#[test]
fn text_message() {
    let fixture = load("instagram_text");
    let (event, json) = fixture.single();
    let text = "Hello! Is the linen shirt back in stock?";
    assert_json_eq(
        json,
        &inbound(
            1_733_413_000_128,
            IG_TEXT,
            Some(text),
            with(message(IG_TEXT), json!({ "text": text })),
        ),
    );
    assert_eq!(event.platform, Platform::Instagram);
    assert_eq!(event.kind(), EventKind::Message);
    assert_eq!(
        event.user_id().as_ref().map(|id| id.as_str()),
        Some(IGSID_1)
    );
    // Instagram message ids are long; nothing may cut them.
    assert!(IG_TEXT.len() > 100);
    assert_eq!(event.message_id().map(|id| id.as_str()), Some(IG_TEXT));
}

#[test]
fn quick_reply() {
    let fixture = load("instagram_quick_reply");
    let (_, json) = fixture.single();
    assert_json_eq(
        json,
        &inbound(
            1_733_413_010_250,
            IG_QUICK_REPLY,
            Some("Size M"),
            with(
                message(IG_QUICK_REPLY),
                json!({ "text": "Size M", "quick_reply": "SIZE_M" }),
            ),
        ),
    );
}

#[test]
fn image_video_audio_and_file_in_one_message() {
    let fixture = load("instagram_attachments_media");
    let (event, json) = fixture.single();
    let url = |asset: &str| format!("{LOOKASIDE}{asset}");
    assert_json_eq(
        json,
        &inbound(
            1_733_413_020_377,
            IG_MEDIA,
            None,
            with(
                message(IG_MEDIA),
                json!({
                    "attachments": [
                        url_attachment("image", &url("17998877665544332&signature=AbzKq1mX0pL8vR3tY6uI9oE2wQ")),
                        url_attachment("video", &url("18011223344556677&signature=AbxT7nB4cV1zM8kJ5hG2fD9sA")),
                        url_attachment("audio", &url("18022334455667788&signature=AbwR3eW6qT9yU2iO5pL8kJ1hG")),
                        url_attachment("file", &url("18033445566778899&signature=AbvN5mB8vC2xZ4lK7jH0gF3dS")),
                    ],
                }),
            ),
        ),
    );
    let EventDetails::Message(message) = &event.details else {
        panic!("expected a message, got {:?}", event.details);
    };
    assert_eq!(message.attachments.len(), 4);
}

#[test]
fn story_mention() {
    let fixture = load("instagram_story_mention");
    let (event, json) = fixture.single();
    let url = format!("{LOOKASIDE}18044556677889900&signature=AbyQ2wE5rT8yU1iO4pA7sD0fG");
    assert_json_eq(
        json,
        &inbound(
            1_733_413_030_401,
            IG_STORY_MENTION,
            None,
            with(
                message(IG_STORY_MENTION),
                json!({ "attachments": [url_attachment("story_mention", &url)] }),
            ),
        ),
    );
    let EventDetails::Message(message) = &event.details else {
        panic!("expected a message, got {:?}", event.details);
    };
    assert_eq!(message.attachments[0].kind, AttachmentType::StoryMention);
}

#[test]
fn post_share_as_share_and_ig_post() {
    let fixture = load("instagram_post_share");
    let (event, json) = fixture.single();
    let url = format!("{LOOKASIDE}18076543210987654&signature=AbuP9oI6uY3tR0eW7qA4sD1fG");
    let title = "New drop: linen shirts in 6 colours \u{1f33f}";
    let attachment = |kind: &str| {
        json!({
            "type": kind,
            "url": url,
            "title": title,
            "sticker_id": null,
            "coordinates": null,
            "payload": { "ig_post_media_id": "18076543210987654", "title": title, "url": url },
        })
    };
    assert_json_eq(
        json,
        &inbound(
            1_733_413_040_512,
            IG_POST_SHARE,
            None,
            with(
                message(IG_POST_SHARE),
                json!({ "attachments": [attachment("share"), attachment("ig_post")] }),
            ),
        ),
    );
    let EventDetails::Message(message) = &event.details else {
        panic!("expected a message, got {:?}", event.details);
    };
    assert_eq!(message.attachments[0].kind, AttachmentType::Share);
    assert_eq!(message.attachments[1].kind, AttachmentType::IgPost);
}

#[test]
fn ig_reel_and_reel() {
    let fixture = load("instagram_reels");
    let events = fixture.expect(2);
    let ig_reel_url = format!("{LOOKASIDE}18321987654012345&signature=AbtL4kJ7hG0fD3sA6zX9cV2bN");
    let reel_url = format!("{LOOKASIDE}18288776655443322&signature=AbsK3jH6gF9dS2aZ5xC8vB1nM");
    assert_json_eq(
        events[0].1,
        &inbound(
            1_733_413_050_623,
            IG_IG_REEL,
            None,
            with(
                message(IG_IG_REEL),
                json!({
                    "attachments": [{
                        "type": "ig_reel",
                        "url": ig_reel_url,
                        "title": "How we dye our linen #slowfashion",
                        "sticker_id": null,
                        "coordinates": null,
                        "payload": {
                            "reel_video_id": "18321987654012345",
                            "title": "How we dye our linen #slowfashion",
                            "url": ig_reel_url,
                        },
                    }],
                }),
            ),
        ),
    );
    assert_json_eq(
        events[1].1,
        &inbound(
            1_733_413_055_101,
            IG_REEL,
            None,
            with(
                message(IG_REEL),
                json!({
                    "attachments": [{
                        "type": "reel",
                        "url": reel_url,
                        "title": null,
                        "sticker_id": null,
                        "coordinates": null,
                        "payload": { "reel_video_id": "18288776655443322", "url": reel_url },
                    }],
                }),
            ),
        ),
    );
    let kinds: Vec<_> = events
        .iter()
        .map(|(event, _)| match &event.details {
            EventDetails::Message(message) => message.attachments[0].kind.clone(),
            other => panic!("expected a message, got {other:?}"),
        })
        .collect();
    assert_eq!(kinds, [AttachmentType::IgReel, AttachmentType::Reel]);
}

#[test]
fn reply_to_a_story() {
    let fixture = load("instagram_reply_to_story");
    let (event, json) = fixture.single();
    let url = format!("{LOOKASIDE}18054433221100998&signature=AbrJ2hG5fD8sA1zX4cV7bN0mK");
    assert_json_eq(
        json,
        &inbound(
            1_733_413_060_734,
            IG_REPLY_STORY,
            Some("Love this colour!"),
            with(
                message(IG_REPLY_STORY),
                json!({
                    "text": "Love this colour!",
                    "reply_to": { "type": "story", "id": "18054433221100998", "url": url },
                }),
            ),
        ),
    );
    let EventDetails::Message(message) = &event.details else {
        panic!("expected a message, got {:?}", event.details);
    };
    assert_eq!(
        message.reply_to,
        Some(ReplyTo::Story {
            id: Some("18054433221100998".into()),
            url: Some(url),
        })
    );
}

#[test]
fn reply_to_a_message() {
    let fixture = load("instagram_reply_to_message");
    let (_, json) = fixture.single();
    assert_json_eq(
        json,
        &inbound(
            1_733_413_070_845,
            IG_REPLY_MESSAGE,
            Some("Yes, that one"),
            with(
                message(IG_REPLY_MESSAGE),
                json!({
                    "text": "Yes, that one",
                    "reply_to": { "type": "message", "mid": IG_TEXT },
                }),
            ),
        ),
    );
}

#[test]
fn unsupported_message() {
    let fixture = load("instagram_unsupported");
    let (_, json) = fixture.single();
    assert_json_eq(
        json,
        &inbound(
            1_733_413_080_956,
            IG_UNSUPPORTED,
            None,
            with(message(IG_UNSUPPORTED), json!({ "is_unsupported": true })),
        ),
    );
}

#[test]
fn deleted_message_is_a_delete() {
    let fixture = load("instagram_deleted");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "instagram",
            "kind": "delete",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_1,
            "recipient_id": IG_ACCOUNT,
            "timestamp_ms": 1_733_413_091_067_i64,
            "message_id": IG_DELETED,
            "text": null,
            "standby": false,
            "delete": { "mid": IG_DELETED },
        }),
    );
    assert_eq!(event.kind(), EventKind::Delete);
}

#[test]
fn echo_of_a_message_the_account_sent() {
    let fixture = load("instagram_echo");
    let (event, json) = fixture.single();
    let text = "Yes! Back in stock since Monday.";
    assert_json_eq(
        json,
        &json!({
            "platform": "instagram",
            "kind": "echo",
            "account_id": IG_ACCOUNT,
            "sender_id": IG_ACCOUNT,
            "recipient_id": IGSID_1,
            "timestamp_ms": 1_733_413_101_178_i64,
            "message_id": IG_ECHO,
            "text": text,
            "standby": false,
            "echo": with(message(IG_ECHO), json!({ "text": text })),
        }),
    );
    assert_eq!(
        event.user_id().as_ref().map(|id| id.as_str()),
        Some(IGSID_1)
    );
}
