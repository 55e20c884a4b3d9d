//! Messenger events other than messages (`"object": "page"`): receipts, reactions,
//! postbacks, referrals, opt-ins, edits, handover, standby, batches and unknown payloads.

use meta_messaging_core::webhook::{
    CommentAction, EventDetails, EventKind, Handover, ReactionAction,
};
use serde_json::json;

use super::fixture::{assert_json_eq, load, message, raw, referral, with};
use super::ids::*;

#[test]
fn reaction_and_its_removal() {
    let fixture = load("messenger_reactions");
    let events = fixture.expect(2);
    for ((event, json), (action, timestamp_ms)) in events.into_iter().zip([
        ("react", 1_733_412_500_770_i64),
        ("unreact", 1_733_412_503_115),
    ]) {
        assert_json_eq(
            json,
            &json!({
                "platform": "messenger",
                "kind": "reaction",
                "account_id": PAGE_A,
                "sender_id": PSID_1,
                "recipient_id": PAGE_A,
                "timestamp_ms": timestamp_ms,
                "message_id": M_ECHO_TEMPLATE,
                "text": null,
                "standby": false,
                "reaction": {
                    "mid": M_ECHO_TEMPLATE,
                    "action": action,
                    "reaction": "love",
                    "emoji": "\u{2764}\u{fe0f}",
                },
            }),
        );
        let EventDetails::Reaction(reaction) = &event.details else {
            panic!("expected a reaction, got {:?}", event.details);
        };
        let expected = if action == "react" {
            ReactionAction::React
        } else {
            ReactionAction::Unreact
        };
        assert_eq!(reaction.action, expected);
    }
}

#[test]
fn read_receipt_with_a_watermark() {
    let fixture = load("messenger_read");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "read",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_510_123_i64,
            "message_id": null,
            "text": null,
            "standby": false,
            "read": { "watermark_ms": 1_733_412_495_120_i64, "mid": null },
        }),
    );
    assert_eq!(event.kind(), EventKind::Read);
}

#[test]
fn delivery_receipts_for_one_and_for_two_messages() {
    let fixture = load("messenger_delivery");
    let events = fixture.expect(2);
    assert_json_eq(
        events[0].1,
        &json!({
            "platform": "messenger",
            "kind": "delivery",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_491_002_i64,
            "message_id": M_ECHO_TEMPLATE,
            "text": null,
            "standby": false,
            "delivery": { "mids": [M_ECHO_TEMPLATE], "watermark_ms": 1_733_412_490_301_i64 },
        }),
    );
    // Two messages: the receipt names no single message.
    assert_json_eq(
        events[1].1,
        &json!({
            "platform": "messenger",
            "kind": "delivery",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_496_054_i64,
            "message_id": null,
            "text": null,
            "standby": false,
            "delivery": {
                "mids": [M_ECHO_INBOX, M_DELIVERED_2],
                "watermark_ms": 1_733_412_495_120_i64,
            },
        }),
    );
}

#[test]
fn get_started_postback_with_referral() {
    let fixture = load("messenger_postback_referral");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "postback",
            "account_id": PAGE_A,
            "sender_id": PSID_2,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_520_408_i64,
            "message_id": M_POSTBACK,
            "text": "Get Started",
            "standby": false,
            "postback": {
                "mid": M_POSTBACK,
                "title": "Get Started",
                "payload": "GET_STARTED",
                "referral": with(referral(), json!({
                    "ref": "winter_campaign",
                    "source": "SHORTLINK",
                    "type": "OPEN_THREAD",
                })),
            },
        }),
    );
    let EventDetails::Postback(postback) = &event.details else {
        panic!("expected a postback, got {:?}", event.details);
    };
    assert_eq!(postback.payload.as_deref(), Some("GET_STARTED"));
}

#[test]
fn ad_referral_keeps_ads_context_data() {
    let fixture = load("messenger_referral_ads");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "referral",
            "account_id": PAGE_A,
            "sender_id": PSID_2,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_530_017_i64,
            "message_id": null,
            "text": null,
            "standby": false,
            "referral": with(referral(), json!({
                "ref": "spring_promo",
                "source": "ADS",
                "type": "OPEN_THREAD",
                "ad_id": "120208765432100123",
                "other": {
                    "ads_context_data": {
                        "ad_title": "Spring collection -20%",
                        "photo_url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/437012345_120208765432100123_n.png?_nc_cat=1&ccb=1-7&oh=00_AfBq&oe=6755E1B2",
                        "post_id": "104417552380421_122145678901234567",
                        "product_id": "7315820495861234",
                    },
                },
            })),
        }),
    );
    let EventDetails::Referral(referral) = &event.details else {
        panic!("expected a referral, got {:?}", event.details);
    };
    assert_eq!(referral.ad_id.as_deref(), Some("120208765432100123"));
}

#[test]
fn plugin_optin_by_user_ref_and_notification_messages_optin() {
    let fixture = load("messenger_optin");
    let events = fixture.expect(2);
    assert_json_eq(
        events[0].1,
        &json!({
            "platform": "messenger",
            "kind": "optin",
            "account_id": PAGE_A,
            "sender_id": null,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_540_712_i64,
            "message_id": null,
            "text": null,
            "standby": false,
            "optin": {
                "ref": "checkout_checkbox",
                "user_ref": "cart-7c1e5a92-3b4d-4f6e-8a0b-91d2c3e4f5a6",
                "type": null,
                "payload": null,
                "notification_messages_token": null,
                "other": {},
            },
        }),
    );
    // Known only by a user_ref, the person has no PSID yet.
    assert_eq!(events[0].0.user_id(), None);

    assert_json_eq(
        events[1].1,
        &json!({
            "platform": "messenger",
            "kind": "optin",
            "account_id": PAGE_A,
            "sender_id": PSID_3,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_600_456_i64,
            "message_id": null,
            "text": null,
            "standby": false,
            "optin": {
                "ref": null,
                "user_ref": null,
                "type": "notification_messages",
                "payload": "WEEKLY_DEALS",
                "notification_messages_token": "7392104658274610293",
                "other": {
                    "notification_messages_frequency": "WEEKLY",
                    "notification_messages_timezone": "Europe/Paris",
                    "token_expiry_timestamp": 1_741_188_600_000_i64,
                    "user_token_status": "NOT_REFRESHED",
                    "title": "Weekly deals",
                },
            },
        }),
    );
    let EventDetails::Optin(optin) = &events[1].0.details else {
        panic!("expected an optin, got {:?}", events[1].0.details);
    };
    assert_eq!(
        optin.notification_messages_token.as_deref(),
        Some("7392104658274610293")
    );
}

#[test]
fn message_edit() {
    let fixture = load("messenger_message_edit");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "edit",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_610_099_i64,
            "message_id": M_TEXT,
            "text": "Hi! Do you ship to Lyon and Grenoble?",
            "standby": false,
            "edit": {
                "mid": M_TEXT,
                "text": "Hi! Do you ship to Lyon and Grenoble?",
                "num_edit": 1,
            },
        }),
    );
    assert_eq!(event.kind(), EventKind::Edit);
}

#[test]
fn handover_pass_take_request_and_app_roles() {
    let fixture = load("messenger_handover");
    let events = fixture.expect(4);
    let common = |kind_object: serde_json::Value, sender: Option<&str>, timestamp_ms: i64| {
        json!({
            "platform": "messenger",
            "kind": "handover",
            "account_id": PAGE_A,
            "sender_id": sender,
            "recipient_id": PAGE_A,
            "timestamp_ms": timestamp_ms,
            "message_id": null,
            "text": null,
            "standby": false,
            "handover": kind_object,
        })
    };
    assert_json_eq(
        events[0].1,
        &common(
            json!({
                "action": "pass_thread_control",
                "new_owner_app_id": APP_OURS,
                "previous_owner_app_id": null,
                "metadata": "escalated: refund request",
            }),
            Some(PSID_1),
            1_733_412_620_500,
        ),
    );
    assert_json_eq(
        events[1].1,
        &common(
            json!({
                "action": "take_thread_control",
                "previous_owner_app_id": APP_OURS,
                "new_owner_app_id": APP_INBOX,
                "metadata": "agent took over",
            }),
            Some(PSID_1),
            1_733_412_680_211,
        ),
    );
    assert_json_eq(
        events[2].1,
        &common(
            json!({
                "action": "request_thread_control",
                "requested_owner_app_id": APP_INBOX,
                "metadata": "customer asked for a human",
            }),
            Some(PSID_1),
            1_733_412_690_033,
        ),
    );
    assert_json_eq(
        events[3].1,
        &common(
            json!({
                "action": "app_roles",
                "roles": {
                    APP_OURS: ["primary_receiver"],
                    APP_INBOX: ["secondary_receiver"],
                },
            }),
            None,
            1_733_412_700_015,
        ),
    );
    // Numeric app ids (take/request) arrive as the same digits, not through a float.
    let EventDetails::Handover(Handover::TakeThreadControl {
        new_owner_app_id, ..
    }) = &events[1].0.details
    else {
        panic!(
            "expected take_thread_control, got {:?}",
            events[1].0.details
        );
    };
    assert_eq!(
        new_owner_app_id.as_ref().map(|id| id.as_str()),
        Some(APP_INBOX)
    );
    assert!(matches!(
        events[3].0.details,
        EventDetails::Handover(Handover::AppRoles { .. })
    ));
}

#[test]
fn standby_events_are_marked_standby() {
    let fixture = load("messenger_standby");
    let events = fixture.expect(3);
    assert_json_eq(
        events[0].1,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_2,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_710_611_i64,
            "message_id": M_STANDBY_TEXT,
            "text": "Is anyone there?",
            "standby": true,
            "message": with(message(M_STANDBY_TEXT), json!({ "text": "Is anyone there?" })),
        }),
    );
    assert_json_eq(
        events[1].1,
        &json!({
            "platform": "messenger",
            "kind": "echo",
            "account_id": PAGE_A,
            "sender_id": PAGE_A,
            "recipient_id": PSID_2,
            "timestamp_ms": 1_733_412_745_208_i64,
            "message_id": M_STANDBY_ECHO,
            "text": "Yes! Marie here.",
            "standby": true,
            "echo": with(message(M_STANDBY_ECHO), json!({
                "text": "Yes! Marie here.",
                "app_id": APP_INBOX,
            })),
        }),
    );
    assert_json_eq(
        events[2].1,
        &json!({
            "platform": "messenger",
            "kind": "read",
            "account_id": PAGE_A,
            "sender_id": PSID_2,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_750_444_i64,
            "message_id": null,
            "text": null,
            "standby": true,
            "read": { "watermark_ms": 1_733_412_745_208_i64, "mid": null },
        }),
    );
    assert!(events.iter().all(|(event, _)| event.standby));
}

#[test]
fn batch_of_entries_for_two_pages() {
    let fixture = load("messenger_batch");
    let events = fixture.expect(5);
    assert_json_eq(
        events[0].1,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_800_101_i64,
            "message_id": M_BATCH_A,
            "text": "Merci !",
            "standby": false,
            "message": with(message(M_BATCH_A), json!({ "text": "Merci !" })),
        }),
    );
    assert_json_eq(
        events[1].1,
        &json!({
            "platform": "messenger",
            "kind": "reaction",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_800_344_i64,
            "message_id": M_ECHO_INBOX,
            "text": null,
            "standby": false,
            "reaction": {
                "mid": M_ECHO_INBOX,
                "action": "react",
                "reaction": "like",
                "emoji": "\u{1f44d}",
            },
        }),
    );
    assert_json_eq(
        events[2].1,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_B,
            "sender_id": PSID_3,
            "recipient_id": PAGE_B,
            "timestamp_ms": 1_733_412_799_870_i64,
            "message_id": M_BATCH_B,
            "text": "Are you open on Sunday?",
            "standby": false,
            "message": with(message(M_BATCH_B), json!({ "text": "Are you open on Sunday?" })),
        }),
    );
    assert_json_eq(
        events[3].1,
        &json!({
            "platform": "messenger",
            "kind": "read",
            "account_id": PAGE_B,
            "sender_id": PSID_3,
            "recipient_id": PAGE_B,
            "timestamp_ms": 1_733_412_800_012_i64,
            "message_id": null,
            "text": null,
            "standby": false,
            "read": { "watermark_ms": 1_733_412_790_000_i64, "mid": null },
        }),
    );
    assert_json_eq(
        events[4].1,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_2,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_800_222_i64,
            "message_id": M_BATCH_C,
            "text": "hello?",
            "standby": true,
            "message": with(message(M_BATCH_C), json!({ "text": "hello?" })),
        }),
    );
}

/// The unknown event's sender, recipient and timestamp are asserted by
/// `edge_cases::unknown_messaging_events_keep_sender_recipient_and_timestamp`.
#[test]
fn unknown_messaging_payload_is_kept_whole_next_to_a_parsed_message() {
    let fixture = load("messenger_unknown_payload");
    let events = fixture.expect(2);
    let (unknown, json) = events[0];
    assert_eq!(unknown.kind(), EventKind::Unknown);
    assert_eq!(json["platform"], "messenger");
    assert_eq!(json["kind"], "unknown");
    assert_eq!(json["account_id"], PAGE_A);
    assert_eq!(json["message_id"], json!(null));
    assert_eq!(json["text"], json!(null));
    assert_eq!(json["standby"], false);
    assert_eq!(json["unknown"]["field"], json!(null));
    assert!(
        json["unknown"]["reason"]
            .as_str()
            .is_some_and(|reason| !reason.is_empty()),
        "an unknown event says why: {json:#}"
    );
    let raw_item = json!({
        "sender": { "id": PSID_1 },
        "recipient": { "id": PAGE_A },
        "timestamp": 1_733_412_900_120_i64,
        "messaging_feedback": {
            "feedback_screens": [{
                "screen_id": 0,
                "questions": {
                    "csat_delivery": {
                        "type": "csat",
                        "payload": "5",
                        "follow_up": { "type": "free_form", "payload": "Fast and friendly" },
                    },
                },
            }],
        },
    });
    assert_json_eq(&json["unknown"]["raw"], &raw_item);
    assert_json_eq(&raw(unknown), &raw_item);

    assert_json_eq(
        events[1].1,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_412_900_240_i64,
            "message_id": M_UNKNOWN_NEIGHBOUR,
            "text": "Thanks again",
            "standby": false,
            "message": with(message(M_UNKNOWN_NEIGHBOUR), json!({ "text": "Thanks again" })),
        }),
    );
}

#[test]
fn page_feed_comment_is_a_typed_comment() {
    let fixture = load("messenger_changes_feed");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "comment",
            "account_id": PAGE_A,
            "sender_id": "5123456789012345",
            "recipient_id": PAGE_A,
            // `created_time` is in seconds.
            "timestamp_ms": 1_733_412_910_000_i64,
            "message_id": null,
            "text": "Is this still available?",
            "standby": false,
            "comment": {
                "comment_id": "122145678901234567_1098765432109876",
                "action": "add",
                "text": "Is this still available?",
                "from": { "id": "5123456789012345", "username": null, "name": "Camille Durand" },
                "media": null,
                "post_id": "104417552380421_122145678901234567",
                // Meta names the post as the parent of a top-level comment: that is no parent.
                "parent_id": null,
                "live": false,
            },
        }),
    );
    assert_eq!(raw(event)["field"], "feed");
}

#[test]
fn page_feed_verbs_become_comment_actions_and_other_items_stay_unknown() {
    let fixture = load("messenger_feed_comment_verbs");
    let events: Vec<_> = fixture.events.iter().collect();
    assert_eq!(events.len(), 7);
    let comment = |i: usize| match &events[i].details {
        EventDetails::Comment(c) => c.clone(),
        other => panic!("event {i}: expected a comment, got {other:?}"),
    };
    let reply = comment(0);
    assert_eq!(reply.action, CommentAction::Add);
    assert_eq!(
        reply.parent_id.as_ref().map(|id| id.as_str()),
        Some("122145678901234567_1098765432109876"),
        "a reply names the comment it answers"
    );
    assert_eq!(reply.from.as_ref().map(|f| f.id.as_str()), Some(PAGE_A));
    let edited = comment(1);
    assert_eq!(edited.action, CommentAction::Edit);
    assert_eq!(
        edited.text.as_deref(),
        Some("Is this still available in blue?")
    );
    assert_eq!(comment(2).action, CommentAction::Hide);
    assert_eq!(comment(3).action, CommentAction::Unhide);
    assert_eq!(comment(4).action, CommentAction::Remove);
    for (i, reason) in [(5, "feed item \"reaction\""), (6, "verb \"block\"")] {
        let EventDetails::Unknown(unknown) = &events[i].details else {
            panic!("event {i}: expected unknown, got {:?}", events[i].details);
        };
        assert_eq!(unknown.field.as_deref(), Some("feed"));
        assert!(unknown.reason.contains(reason), "{}", unknown.reason);
    }
}

/// A chat-plugin guest has no PSID: Meta names them by `sender.user_ref`. Outside opt-ins the
/// typed form has no place for it, so the raw JSON must keep it.
#[test]
fn postback_change_from_a_user_ref_sender() {
    let fixture = load("messenger_changes_postback_user_ref");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "postback",
            "account_id": PAGE_A,
            "sender_id": null,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_413_800_000_i64,
            "message_id": M_USER_REF_POSTBACK,
            "text": "Talk to sales",
            "standby": false,
            "postback": {
                "mid": M_USER_REF_POSTBACK,
                "title": "Talk to sales",
                "payload": "TALK_TO_SALES",
                "referral": with(referral(), json!({
                    "ref": "pricing_page",
                    "source": "CUSTOMER_CHAT_PLUGIN",
                    "type": "OPEN_THREAD",
                    "referer_uri": "https://www.example-shop.fr/pricing",
                })),
            },
        }),
    );
    assert_eq!(event.user_id(), None);
    assert_eq!(
        raw(event)["value"]["sender"]["user_ref"],
        "cart-7c1e5a92-3b4d-4f6e-8a0b-91d2c3e4f5a6"
    );
}
