//! Deliveries of objects this version does not handle (`whatsapp_business_account`, `user`):
//! kept as unknown events, one per entry, each with a one-entry delivery as its raw JSON.

use meta_messaging_core::webhook::{self, EventKind, WebhookError};
use serde_json::{Value, json};

use super::fixture::{assert_json_eq, load, raw};

/// The one-entry delivery of `object` that an unknown-object event keeps as its raw JSON.
fn one_entry(object: &str, entry: &Value) -> Value {
    json!({ "object": object, "entry": [entry] })
}

#[test]
fn a_whatsapp_delivery_is_one_unknown_event_that_keeps_the_whole_delivery() {
    let fixture = load("unknown_object_whatsapp");
    let (event, json) = fixture.single();
    let delivery: Value = serde_json::from_slice(&fixture.body).unwrap();
    assert_eq!(event.kind(), EventKind::Unknown);
    assert_eq!(event.unknown_object(), Some("whatsapp_business_account"));
    // One entry: the kept raw JSON is the delivery itself.
    assert_eq!(raw(event), delivery);
    assert_json_eq(
        json,
        &json!({
            "platform": "messenger",
            "kind": "unknown",
            "account_id": "102290129340398",
            "sender_id": null,
            "recipient_id": null,
            "timestamp_ms": 0,
            "message_id": null,
            "text": null,
            "standby": false,
            "unknown": {
                "field": null,
                "reason": "webhook object \"whatsapp_business_account\" is not handled by this version",
                "raw": delivery,
                "object": "whatsapp_business_account",
            },
        }),
    );
}

#[test]
fn a_user_delivery_is_one_unknown_event_per_entry() {
    let fixture = load("unknown_object_user");
    let events = fixture.expect(2);
    let delivery: Value = serde_json::from_slice(&fixture.body).unwrap();
    let expected = [
        ("10210299214172187", 1_700_000_000_000_i64),
        ("10210299214172188", 1_700_000_005_000),
    ];
    for (i, ((event, json), (id, time_ms))) in events.into_iter().zip(expected).enumerate() {
        assert_eq!(event.unknown_object(), Some("user"));
        assert_eq!(event.account_id, id);
        assert_eq!(event.timestamp_ms, time_ms, "the entry's time, in seconds");
        assert_eq!(raw(event), one_entry("user", &delivery["entry"][i]));
        assert_eq!(json["kind"], "unknown");
        assert_eq!(json["unknown"]["object"], "user");
        assert_eq!(json["unknown"]["raw"], raw(event));
    }
}

#[test]
fn odd_unknown_object_entries_are_kept_and_non_deliveries_are_still_refused() {
    // An entry that is not an object, and an object name that needs escaping: still kept.
    let body = br#"{"object":"perm\"issions","entry":[42]}"#;
    let events = webhook::parse(body).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].account_id, "");
    assert_eq!(events[0].unknown_object(), Some("perm\"issions"));
    assert_eq!(
        raw(&events[0]),
        json!({"object": "perm\"issions", "entry": [42]})
    );
    // No entries: nothing to keep, and not an error.
    assert!(
        webhook::parse(br#"{"object":"permissions","entry":[]}"#)
            .unwrap()
            .is_empty()
    );
    // Not JSON, or JSON that is not a delivery: refused as before.
    for body in [
        &b"not json"[..],
        br#"{"object":"user"}"#,
        br#"{"entry":[]}"#,
        br#"["user"]"#,
    ] {
        assert!(
            matches!(
                webhook::parse(body),
                Err(WebhookError::MalformedBody { .. })
            ),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn messenger_and_instagram_events_name_no_unknown_object() {
    for name in [
        "messenger_text",
        "instagram_text",
        "messenger_unknown_payload",
    ] {
        for event in &load(name).events {
            assert_eq!(event.unknown_object(), None, "{name}");
        }
    }
}
