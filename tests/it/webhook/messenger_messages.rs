//! Messenger messages and echoes (`"object": "page"`): text, replies, attachments.

use meta_messaging_core::platform::Platform;
use meta_messaging_core::webhook::{AttachmentType, Coordinates, EventDetails, EventKind, ReplyTo};
use serde_json::json;

use super::fixture::{assert_json_eq, load, message, raw, url_attachment, with, without};
use super::ids::*;

const STICKER_URL: &str = "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png?_nc_cat=1&ccb=1-7&_nc_sid=ac3552&oh=00_AfDx3kQ&oe=6755F0A1";
const FALLBACK_URL: &str =
    "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.example-shop.fr%2Fsoldes&h=AT0x9dQkz3";

#[test]
fn text_message() {
    let fixture = load("messenger_text");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_345_678_i64,
            "message_id": M_TEXT,
            "text": "Hi! Do you ship to Lyon?",
            "standby": false,
            "message": with(message(M_TEXT), json!({ "text": "Hi! Do you ship to Lyon?" })),
        }),
    );
    assert_eq!(event.platform, Platform::Messenger);
    assert_eq!(event.kind(), EventKind::Message);
    assert_eq!(event.user_id().as_ref().map(|id| id.as_str()), Some(PSID_1));
    assert_eq!(event.text(), Some("Hi! Do you ship to Lyon?"));
}

#[test]
fn quick_reply() {
    let fixture = load("messenger_quick_reply");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_401_234_i64,
            "message_id": M_QUICK_REPLY,
            "text": "Tomorrow morning",
            "standby": false,
            "message": with(message(M_QUICK_REPLY), json!({
                "text": "Tomorrow morning",
                "quick_reply": "DELIVERY_SLOT_MORNING",
            })),
        }),
    );
    let EventDetails::Message(message) = &event.details else {
        panic!("expected a message, got {:?}", event.details);
    };
    assert_eq!(
        message.quick_reply.as_deref(),
        Some("DELIVERY_SLOT_MORNING")
    );
}

#[test]
fn reply_to_a_message() {
    let fixture = load("messenger_reply_to");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_420_871_i64,
            "message_id": M_REPLY,
            "text": "This one, in size M please",
            "standby": false,
            "message": with(message(M_REPLY), json!({
                "text": "This one, in size M please",
                "reply_to": { "type": "message", "mid": M_REPLIED_TO },
            })),
        }),
    );
    let EventDetails::Message(message) = &event.details else {
        panic!("expected a message, got {:?}", event.details);
    };
    assert_eq!(
        message.reply_to,
        Some(ReplyTo::Message {
            mid: M_REPLIED_TO.into()
        })
    );
    // The typed form has no place for `is_self_reply`; the raw JSON keeps it.
    assert_eq!(raw(event)["message"]["reply_to"]["is_self_reply"], false);
}

#[test]
fn persistent_menu_command() {
    let fixture = load("messenger_commands");
    let (_, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_425_003_i64,
            "message_id": M_COMMANDS,
            "text": "/orders",
            "standby": false,
            "message": with(message(M_COMMANDS), json!({
                "text": "/orders",
                "commands": ["orders"],
            })),
        }),
    );
}

#[test]
fn image_video_audio_and_file_in_one_message() {
    let fixture = load("messenger_attachments_media");
    let (event, json) = fixture.single();
    let urls = [
        "https://scontent.xx.fbcdn.net/v/t1.15752-9/469815237_1276543210_n.jpg?_nc_cat=100&ccb=1-7&_nc_sid=fc17b8&oh=03_Q7cD1QFz&oe=67A1B2C3",
        "https://video.xx.fbcdn.net/v/t42.3356-2/10000000_4815162342_n.mp4/video-1733412450.mp4?_nc_cat=109&oh=03_Q7cD1QGa&oe=6753ABCD&dl=1",
        "https://cdn.fbsbx.com/v/t59.3654-21/469900001_1122334455_n.mp4/audioclip-1733412450000-2843.mp4?_nc_cat=104&oh=03_Q7cD1QHb&oe=6753ABCE&dl=1",
        "https://cdn.fbsbx.com/v/t59.2708-21/469912345_998877665_n.pdf/order-4417.pdf?_nc_cat=103&oh=03_Q7cD1QIc&oe=6753ABCF&dl=1",
    ];
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_450_402_i64,
            "message_id": M_MEDIA,
            "text": null,
            "standby": false,
            "message": with(message(M_MEDIA), json!({
                "attachments": [
                    url_attachment("image", urls[0]),
                    url_attachment("video", urls[1]),
                    url_attachment("audio", urls[2]),
                    url_attachment("file", urls[3]),
                ],
            })),
        }),
    );
    let EventDetails::Message(message) = &event.details else {
        panic!("expected a message, got {:?}", event.details);
    };
    let kinds: Vec<_> = message.attachments.iter().map(|a| a.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            AttachmentType::Image,
            AttachmentType::Video,
            AttachmentType::Audio,
            AttachmentType::File
        ]
    );
}

#[test]
fn location_with_coordinates() {
    let fixture = load("messenger_location");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_460_512_i64,
            "message_id": M_LOCATION,
            "text": null,
            "standby": false,
            "message": with(message(M_LOCATION), json!({
                "attachments": [{
                    "type": "location",
                    "url": null,
                    "title": null,
                    "sticker_id": null,
                    "coordinates": { "lat": 45.764_043, "long": 4.835_659 },
                    "payload": { "coordinates": { "lat": 45.764_043, "long": 4.835_659 } },
                }],
            })),
        }),
    );
    let EventDetails::Message(message) = &event.details else {
        panic!("expected a message, got {:?}", event.details);
    };
    assert_eq!(message.attachments[0].kind, AttachmentType::Location);
    assert_eq!(
        message.attachments[0].coordinates,
        Some(Coordinates {
            lat: 45.764_043,
            long: 4.835_659
        })
    );
}

/// The attachment-level `title` and `url` are asserted by `attachment_level_title_and_url_are_kept`.
#[test]
fn fallback_for_a_shared_link() {
    let fixture = load("messenger_fallback");
    let (event, json) = fixture.single();
    assert_json_eq(
        &without(json.clone(), "/message/attachments/0", &["url", "title"]),
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_470_611_i64,
            "message_id": M_FALLBACK,
            "text": "https://www.example-shop.fr/soldes",
            "standby": false,
            "message": with(message(M_FALLBACK), json!({
                "text": "https://www.example-shop.fr/soldes",
                "attachments": [{
                    "type": "fallback",
                    "sticker_id": null,
                    "coordinates": null,
                    "payload": null,
                }],
            })),
        }),
    );
    let EventDetails::Message(message) = &event.details else {
        panic!("expected a message, got {:?}", event.details);
    };
    assert_eq!(message.attachments[0].kind, AttachmentType::Fallback);
}

#[test]
fn sticker_as_image_and_as_sticker() {
    let fixture = load("messenger_sticker");
    let (event, json) = fixture.single();
    let sticker = |kind: &str| {
        json!({
            "type": kind,
            "url": STICKER_URL,
            "title": null,
            "sticker_id": "369239263222822",
            "coordinates": null,
            "payload": { "url": STICKER_URL, "sticker_id": 369_239_263_222_822_u64 },
        })
    };
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_480_031_i64,
            "message_id": M_STICKER,
            "text": null,
            "standby": false,
            "message": with(message(M_STICKER), json!({
                "attachments": [sticker("image"), sticker("sticker")],
            })),
        }),
    );
    let EventDetails::Message(message) = &event.details else {
        panic!("expected a message, got {:?}", event.details);
    };
    assert_eq!(message.attachments[0].kind, AttachmentType::Image);
    // Meta sends a sticker both ways during its format transition: as an image with a sticker_id, and with the newer `sticker` type.
    assert_eq!(message.attachments[1].kind, AttachmentType::Sticker);
    assert_eq!(
        message.attachments[0].sticker_id.as_deref(),
        Some("369239263222822")
    );
}

/// The attachment-level `title` and `url` of the template are asserted by
/// `attachment_level_title_and_url_are_kept`.
#[test]
fn echoes_of_a_template_from_this_app_and_a_text_from_the_page_inbox() {
    let fixture = load("messenger_echo");
    let events = fixture.expect(2);
    assert_json_eq(
        &without(
            events[0].1.clone(),
            "/echo/attachments/0",
            &["url", "title"],
        ),
        &json!({
            "platform": "messenger",
            "kind": "echo",
            "account_id": PAGE_A,
            "sender_id": PAGE_A,
            "recipient_id": PSID_1,
            "timestamp_ms": 1_733_412_490_301_i64,
            "message_id": M_ECHO_TEMPLATE,
            "text": null,
            "standby": false,
            "echo": with(message(M_ECHO_TEMPLATE), json!({
                "app_id": APP_OURS,
                "metadata": "order_4417_confirmation",
                "attachments": [{
                    "type": "template",
                    "sticker_id": null,
                    "coordinates": null,
                    "payload": {
                        "template_type": "generic",
                        "sharable": false,
                        "elements": [{
                            "title": "Order #4417 confirmed",
                            "subtitle": "Delivery tomorrow, 8:00-12:00",
                            "image_url": "https://www.example-shop.fr/img/orders/4417.jpg",
                            "buttons": [{
                                "type": "postback",
                                "title": "Change slot",
                                "payload": "CHANGE_SLOT_4417",
                            }],
                        }],
                    },
                }],
            })),
        }),
    );
    assert_json_eq(
        events[1].1,
        &json!({
            "platform": "messenger",
            "kind": "echo",
            "account_id": PAGE_A,
            "sender_id": PAGE_A,
            "recipient_id": PSID_1,
            "timestamp_ms": 1_733_412_495_120_i64,
            "message_id": M_ECHO_INBOX,
            "text": "Bonjour ! Marie here, how can I help?",
            "standby": false,
            "echo": with(message(M_ECHO_INBOX), json!({
                "text": "Bonjour ! Marie here, how can I help?",
                "app_id": APP_INBOX,
            })),
        }),
    );
    let (echo, _) = events[0];
    assert_eq!(echo.kind(), EventKind::Echo);
    // The customer of an echo is its recipient, not the Page that sent it.
    assert_eq!(echo.user_id().as_ref().map(|id| id.as_str()), Some(PSID_1));
    let EventDetails::Echo(message) = &echo.details else {
        panic!("expected an echo, got {:?}", echo.details);
    };
    assert_eq!(message.attachments[0].kind, AttachmentType::Template);
    assert_eq!(
        message.app_id.as_ref().map(|id| id.as_str()),
        Some(APP_OURS)
    );
}

/// Meta puts `title` and `url` on the attachment itself (not in `payload`) for fallbacks and
/// for template echoes; a fallback's `payload` is `null`, so the link exists nowhere else.
#[test]
fn attachment_level_title_and_url_are_kept() {
    let fallback = load("messenger_fallback");
    let echo = load("messenger_echo");
    let cases = [
        (
            "fallback",
            &fallback.single().1["message"]["attachments"][0],
            json!(FALLBACK_URL),
            json!("Soldes d'hiver \u{2013} jusqu'\u{e0} -40 %"),
        ),
        (
            "template echo",
            &echo.expect(2)[0].1["echo"]["attachments"][0],
            json!("https://www.facebook.com/commerce/update/"),
            json!(""),
        ),
    ];
    let mut wrong = Vec::new();
    for (what, attachment, url, title) in cases {
        if (&attachment["url"], &attachment["title"]) != (&url, &title) {
            wrong.push(format!(
                "{what}: (url, title) expected ({url}, {title}), got ({}, {})",
                attachment["url"], attachment["title"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
