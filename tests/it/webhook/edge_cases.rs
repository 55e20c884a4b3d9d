//! What Meta sends that is easy to get wrong: timestamp units and types, odd entries, missing
//! ids, escaped text.

use meta_messaging_core::webhook::{EventDetails, EventKind};
use serde_json::json;

use super::fixture::{assert_json_eq, load, message, raw, with};
use super::ids::*;

#[test]
fn timestamps_in_seconds_milliseconds_and_strings() {
    let fixture = load("edge_timestamps");
    let events = fixture.expect(5);
    let cases = [
        // (mid, text, timestamp as sent, as normalized)
        (M_TS_SECONDS, "seconds", 1_733_413_299_000_i64),
        (M_TS_STRING_MS, "string ms", 1_733_413_299_123),
        (M_TS_STRING_SECONDS, "string seconds", 1_733_413_298_000),
        // No timestamp: the entry's `time` (milliseconds).
        (M_TS_MISSING, "no timestamp", 1_733_413_300_000),
    ];
    for ((_, json), (mid, text, timestamp_ms)) in events.iter().zip(cases) {
        assert_json_eq(
            json,
            &json!({
                "platform": "messenger",
                "kind": "message",
                "account_id": PAGE_A,
                "sender_id": PSID_1,
                "recipient_id": PAGE_A,
                "timestamp_ms": timestamp_ms,
                "message_id": mid,
                "text": text,
                "standby": false,
                "message": with(message(mid), json!({ "text": text })),
            }),
        );
    }
    // No timestamp, and an entry `time` that is a string in seconds; a watermark in seconds.
    assert_json_eq(
        events[4].1,
        &json!({
            "platform": "messenger",
            "kind": "read",
            "account_id": PAGE_B,
            "sender_id": PSID_3,
            "recipient_id": PAGE_B,
            "timestamp_ms": 1_733_413_400_000_i64,
            "message_id": null,
            "text": null,
            "standby": false,
            "read": { "watermark_ms": 1_733_413_350_000_i64, "mid": null },
        }),
    );
    assert_eq!(events[0].0.timestamp_ms, 1_733_413_299_000);
}

#[test]
fn entry_that_is_not_an_object_is_one_unknown_event_and_nothing_else_is_lost() {
    let fixture = load("edge_entry_not_object");
    let events = fixture.expect(3);
    assert_json_eq(
        events[0].1,
        &json!({
            "platform": "instagram",
            "kind": "message",
            "account_id": IG_ACCOUNT,
            "sender_id": IGSID_1,
            "recipient_id": IG_ACCOUNT,
            "timestamp_ms": 1_733_413_500_011_i64,
            "message_id": IG_BEFORE_BAD_ENTRY,
            "text": "first",
            "standby": false,
            "message": with(message(IG_BEFORE_BAD_ENTRY), json!({ "text": "first" })),
        }),
    );

    let (unknown, json) = events[1];
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
            // An entry that is not an object names no account and no time.
            "account_id": "",
            "sender_id": null,
            "recipient_id": null,
            "timestamp_ms": 0,
            "message_id": null,
            "text": null,
            "standby": false,
            "unknown": { "field": null, "reason": reason, "raw": IG_ACCOUNT },
        }),
    );
    assert_eq!(raw(unknown), json!(IG_ACCOUNT));

    assert_json_eq(
        events[2].1,
        &json!({
            "platform": "instagram",
            "kind": "message",
            "account_id": IG_ACCOUNT_B,
            "sender_id": IGSID_2,
            "recipient_id": IG_ACCOUNT_B,
            "timestamp_ms": 1_733_413_500_022_i64,
            "message_id": IG_AFTER_BAD_ENTRY,
            "text": "third",
            "standby": false,
            "message": with(message(IG_AFTER_BAD_ENTRY), json!({ "text": "third" })),
        }),
    );
}

/// The unknown event's sender, recipient and timestamp are asserted by
/// `unknown_messaging_events_keep_sender_recipient_and_timestamp`.
#[test]
fn message_without_a_mid_is_unknown_next_to_a_parsed_message() {
    let fixture = load("edge_missing_mid");
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
            .is_some_and(|reason| reason.contains("mid")),
        "the reason names what is missing: {json:#}"
    );
    let item = json!({
        "sender": { "id": PSID_1 },
        "recipient": { "id": PAGE_A },
        "timestamp": 1_733_413_600_133_i64,
        "message": { "text": "a message without its id" },
    });
    assert_json_eq(&json["unknown"]["raw"], &item);
    assert_json_eq(&raw(unknown), &item);

    assert_json_eq(
        events[1].1,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_413_600_244_i64,
            "message_id": M_MISSING_MID_NEIGHBOUR,
            "text": "and one with it",
            "standby": false,
            "message": with(message(M_MISSING_MID_NEIGHBOUR), json!({ "text": "and one with it" })),
        }),
    );
}

/// `Event` documents `sender_id` / `recipient_id` as "as Meta sent them" and `timestamp_ms`
/// as the event's own time, falling back to the entry's only when the event has none. A
/// messaging event the parser cannot read still names its participants and time, and a
/// multi-tenant inbox needs them to route the unknown event to a conversation.
#[test]
fn unknown_messaging_events_keep_sender_recipient_and_timestamp() {
    let cases = [
        ("messenger_unknown_payload", 1_733_412_900_120_i64),
        ("edge_missing_mid", 1_733_413_600_133),
    ];
    let mut wrong = Vec::new();
    for (name, timestamp_ms) in cases {
        let fixture = load(name);
        let (event, json) = fixture.expect(2)[0];
        assert_eq!(event.kind(), EventKind::Unknown, "{name}");
        let got = (
            json["sender_id"].clone(),
            json["recipient_id"].clone(),
            json["timestamp_ms"].clone(),
        );
        let expected = (json!(PSID_1), json!(PAGE_A), json!(timestamp_ms));
        if got != expected {
            wrong.push(format!(
                "{name}: (sender_id, recipient_id, timestamp_ms) expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn escaped_unicode_is_decoded_in_the_text_and_kept_in_the_raw_json() {
    let fixture = load("edge_escaped_unicode");
    let (event, json) = fixture.single();
    let text = "Caf\u{e9} cr\u{e8}me / 2,50 \u{20ac} \u{1f600}";
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "message",
            "account_id": PAGE_A,
            "sender_id": PSID_1,
            "recipient_id": PAGE_A,
            "timestamp_ms": 1_733_413_700_255_i64,
            "message_id": M_ESCAPED,
            "text": text,
            "standby": false,
            "message": with(message(M_ESCAPED), json!({ "text": text })),
        }),
    );
    let EventDetails::Message(message) = &event.details else {
        panic!("expected a message, got {:?}", event.details);
    };
    assert_eq!(message.text.as_deref(), Some(text));
    // The raw JSON is the bytes Meta sent, escapes and all, not a re-serialization.
    let raw = event
        .raw()
        .expect("parsed events keep their raw JSON")
        .get();
    for escaped in [
        r"Caf\u00e9",
        r"cr\u00e8me",
        r"\/",
        r"\u20ac",
        r"\ud83d\ude00",
    ] {
        assert!(raw.contains(escaped), "{escaped} missing from {raw}");
    }
    let body = String::from_utf8_lossy(&fixture.body);
    assert!(body.contains(raw), "the raw JSON is a slice of the body");
}
