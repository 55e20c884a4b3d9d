//! Instagram events other than messages (`"object": "instagram"`), and everything that
//! arrives in `changes[]`: the Test button, postbacks, comments, mentions, unknown fields.

use meta_messaging_core::webhook::{EventDetails, EventKind, ReactionAction};
use serde_json::{Value, json};

use super::fixture::{assert_json_eq, load, message, raw, referral, with};
use super::ids::*;

#[test]
fn reaction_with_emoji_and_its_removal() {
    let fixture = load("instagram_reactions");
    let events = fixture.expect(2);
    let reaction = |timestamp_ms: i64, reaction: Value| {
        json!({
            "platform": "instagram",
            "kind": "reaction",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_1,
            "recipient_id": IG_ACCOUNT,
            "timestamp_ms": timestamp_ms,
            "message_id": IG_ECHO,
            "text": null,
            "standby": false,
            "reaction": reaction,
        })
    };
    assert_json_eq(
        events[0].1,
        &reaction(
            1_733_413_111_289,
            json!({
                "mid": IG_ECHO,
                "action": "react",
                "reaction": "love",
                "emoji": "\u{2764}\u{fe0f}",
            }),
        ),
    );
    assert_json_eq(
        events[1].1,
        &reaction(
            1_733_413_115_390,
            json!({ "mid": IG_ECHO, "action": "unreact", "reaction": null, "emoji": null }),
        ),
    );
    let EventDetails::Reaction(removed) = &events[1].0.details else {
        panic!("expected a reaction, got {:?}", events[1].0.details);
    };
    assert_eq!(removed.action, ReactionAction::Unreact);
}

#[test]
fn seen_names_the_message_read() {
    let fixture = load("instagram_seen");
    let (_, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "instagram",
            "kind": "read",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_1,
            "recipient_id": IG_ACCOUNT,
            "timestamp_ms": 1_733_413_121_391_i64,
            "message_id": IG_ECHO,
            "text": null,
            "standby": false,
            "read": { "watermark_ms": null, "mid": IG_ECHO },
        }),
    );
}

#[test]
fn icebreaker_and_template_button_postbacks() {
    let fixture = load("instagram_postbacks");
    let events = fixture.expect(2);
    assert_json_eq(
        events[0].1,
        &json!({
            "platform": "instagram",
            "kind": "postback",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_2,
            "recipient_id": IG_ACCOUNT,
            "timestamp_ms": 1_733_413_131_502_i64,
            "message_id": IG_ICEBREAKER,
            "text": "What are your opening hours?",
            "standby": false,
            "postback": {
                "mid": IG_ICEBREAKER,
                "title": "What are your opening hours?",
                "payload": "ICEBREAKER_HOURS",
                "referral": with(referral(), json!({
                    "ref": "bio_link",
                    "source": "SHORTLINKS",
                    "type": "OPEN_THREAD",
                })),
            },
        }),
    );
    assert_json_eq(
        events[1].1,
        &json!({
            "platform": "instagram",
            "kind": "postback",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_2,
            "recipient_id": IG_ACCOUNT,
            "timestamp_ms": 1_733_413_140_613_i64,
            "message_id": IG_TEMPLATE_BUTTON,
            "text": "Shop now",
            "standby": false,
            "postback": {
                "mid": IG_TEMPLATE_BUTTON,
                "title": "Shop now",
                "payload": "SHOP_LINEN_SHIRT",
                "referral": null,
            },
        }),
    );
}

#[test]
fn message_edit() {
    let fixture = load("instagram_message_edit");
    let (_, json) = fixture.single();
    let text = "Hello! Is the linen shirt back in stock in M?";
    assert_json_eq(
        json,
        &json!({
            "platform": "instagram",
            "kind": "edit",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_1,
            "recipient_id": IG_ACCOUNT,
            "timestamp_ms": 1_733_413_151_613_i64,
            "message_id": IG_TEXT,
            "text": text,
            "standby": false,
            "edit": { "mid": IG_TEXT, "text": text, "num_edit": 2 },
        }),
    );
}

#[test]
fn ig_me_link_referral() {
    let fixture = load("instagram_referral");
    let (_, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "instagram",
            "kind": "referral",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_2,
            "recipient_id": IG_ACCOUNT,
            "timestamp_ms": 1_733_413_161_724_i64,
            "message_id": null,
            "text": null,
            "standby": false,
            "referral": with(referral(), json!({
                "ref": "story_swipe_up",
                "source": "SHORTLINKS",
                "type": "OPEN_THREAD",
            })),
        }),
    );
}

#[test]
fn first_message_from_an_ad_carries_its_referral() {
    let fixture = load("instagram_message_ad_referral");
    let (event, json) = fixture.single();
    let text = "Hi, is this still available?";
    assert_json_eq(
        json,
        &json!({
            "platform": "instagram",
            "kind": "message",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_2,
            "recipient_id": IG_ACCOUNT,
            "timestamp_ms": 1_733_413_172_134_i64,
            "message_id": IG_AD_REFERRAL,
            "text": text,
            "standby": false,
            "message": with(message(IG_AD_REFERRAL), json!({
                "text": text,
                "referral": with(referral(), json!({
                    "ref": "ctd_linen",
                    "source": "ADS",
                    "type": "OPEN_THREAD",
                    "ad_id": "120210987654321012",
                    "other": {
                        "ads_context_data": {
                            "ad_title": "Linen shirts, made in Lyon",
                            "photo_url": "https://scontent.cdninstagram.com/v/t45.1600-4/468123456_120210987654321012_n.jpg?_nc_cat=1&oh=00_AfCz&oe=6756A0B1",
                        },
                    },
                })),
            })),
        }),
    );
    let EventDetails::Message(message) = &event.details else {
        panic!("expected a message, got {:?}", event.details);
    };
    assert_eq!(
        message.referral.as_ref().and_then(|r| r.source.as_deref()),
        Some("ADS")
    );
}

/// The App Dashboard's "Test" button: a messaging event inside `changes`, with placeholder ids
/// and a string timestamp in seconds.
#[test]
fn dashboard_test_button_messages_change() {
    let fixture = load("instagram_changes_test_button");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "instagram",
            "kind": "message",
            "account_id": "0",
            "sender_id": "12334",
            "recipient_id": "23245",
            "timestamp_ms": 1_527_459_824_000_i64,
            "message_id": "random_mid",
            "text": "random_text",
            "standby": false,
            "message": with(message("random_mid"), json!({ "text": "random_text" })),
        }),
    );
    // The raw JSON of an event from `changes` is the whole item, field name included.
    assert_eq!(raw(event)["field"], "messages");
}

/// Instagram postbacks in production arrive as a `messaging_postbacks` change with no
/// timestamp of their own.
#[test]
fn messaging_postbacks_change_takes_the_entry_time() {
    let fixture = load("instagram_changes_messaging_postbacks");
    let (event, json) = fixture.single();
    assert_json_eq(
        json,
        &json!({
            "platform": "instagram",
            "kind": "postback",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_2,
            "recipient_id": IG_ACCOUNT,
            "timestamp_ms": 1_733_413_190_245_i64,
            "message_id": IG_CHANGES_POSTBACK,
            "text": "Track my order",
            "standby": false,
            "postback": {
                "mid": IG_CHANGES_POSTBACK,
                "title": "Track my order",
                "payload": "TRACK_ORDER",
                "referral": null,
            },
        }),
    );
    assert_eq!(raw(event)["field"], "messaging_postbacks");
}

/// A comment and a reply to it. `from.self_ig_scoped_id` has no place in the typed form and
/// is checked in the raw JSON.
#[test]
fn comments_and_a_reply() {
    let fixture = load("instagram_comments");
    let events = fixture.expect(2);
    let media = json!({ "id": "18076543210987654", "media_product_type": "FEED" });
    assert_json_eq(
        events[0].1,
        &json!({
            "platform": "instagram",
            "kind": "comment",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_1,
            "recipient_id": IG_ACCOUNT,
            // The entry's `time`, sent in seconds.
            "timestamp_ms": 1_733_413_200_000_i64,
            "message_id": null,
            "text": "Do you have it in blue?",
            "standby": false,
            "comment": {
                "comment_id": "17998123456789012",
                "action": "add",
                "text": "Do you have it in blue?",
                "from": { "id": IGSID_1, "username": "camille.dsgn", "name": null },
                "media": media,
                "post_id": media["id"],
                "parent_id": null,
                "live": false,
            },
        }),
    );
    assert_eq!(
        raw(events[0].0)["value"]["from"]["self_ig_scoped_id"],
        IGSID_1
    );
    assert_json_eq(
        events[1].1,
        &json!({
            "platform": "instagram",
            "kind": "comment",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_2,
            "recipient_id": IG_ACCOUNT,
            "timestamp_ms": 1_733_413_200_000_i64,
            "message_id": null,
            "text": "@camille.dsgn yes, and in green!",
            "standby": false,
            "comment": {
                "comment_id": "18023456789012345",
                "action": "add",
                "text": "@camille.dsgn yes, and in green!",
                "from": { "id": IGSID_2, "username": "lea_m", "name": null },
                "media": media,
                "post_id": media["id"],
                "parent_id": "17998123456789012",
                "live": false,
            },
        }),
    );
    let EventDetails::Comment(reply) = &events[1].0.details else {
        panic!("expected a comment, got {:?}", events[1].0.details);
    };
    assert_eq!(
        reply.parent_id.as_ref().map(|id| id.as_str()),
        Some("17998123456789012")
    );
}

#[test]
fn live_comment() {
    let fixture = load("instagram_live_comments");
    let (event, json) = fixture.single();
    let text = "Hello from Lyon! \u{1f44b}";
    assert_json_eq(
        json,
        &json!({
            "platform": "instagram",
            "kind": "comment",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_1,
            "recipient_id": IG_ACCOUNT,
            "timestamp_ms": 1_733_413_210_467_i64,
            "message_id": null,
            "text": text,
            "standby": false,
            "comment": {
                "comment_id": "18034567890123456",
                "action": "add",
                "text": text,
                "from": { "id": IGSID_1, "username": "camille.dsgn", "name": null },
                "media": { "id": "18112233445566778", "media_product_type": null },
                "post_id": "18112233445566778",
                "parent_id": null,
                "live": true,
            },
        }),
    );
    assert_eq!(event.kind(), EventKind::Comment);
}

#[test]
fn mentions_in_a_comment_and_in_a_caption() {
    let fixture = load("instagram_mentions");
    let events = fixture.expect(2);
    let mention = |mention: Value| {
        json!({
            "platform": "instagram",
            "kind": "mention",
            "account_id": IG_ACCOUNT,
            "sender_id": null,
            "recipient_id": null,
            "timestamp_ms": 1_733_413_220_578_i64,
            "message_id": null,
            "text": null,
            "standby": false,
            "mention": mention,
        })
    };
    assert_json_eq(
        events[0].1,
        &mention(json!({ "media_id": "18031234567890123", "comment_id": "17887766554433221" })),
    );
    assert_json_eq(
        events[1].1,
        &mention(json!({ "media_id": "18039876543210987", "comment_id": null })),
    );
}

#[test]
fn story_insights_change_is_unknown_with_its_field() {
    let fixture = load("instagram_changes_story_insights");
    let (event, json) = fixture.single();
    let change = json!({
        "field": "story_insights",
        "value": {
            "media_id": "18023345989012587",
            "exits": 1,
            "replies": 0,
            "reach": 17,
            "taps_forward": 12,
            "taps_back": 0,
            "impressions": 28,
        },
    });
    let reason = json["unknown"]["reason"].clone();
    assert!(
        reason.as_str().is_some_and(|reason| !reason.is_empty()),
        "an unknown event says why: {json:#}"
    );
    assert_json_eq(
        json,
        &json!({
            "platform": "instagram",
            "kind": "unknown",
            "account_id": IG_ACCOUNT,
            "sender_id": null,
            "recipient_id": null,
            "timestamp_ms": 1_733_416_800_000_i64,
            "message_id": null,
            "text": null,
            "standby": false,
            "unknown": { "field": "story_insights", "reason": reason, "raw": change },
        }),
    );
    assert_json_eq(&raw(event), &change);
}
