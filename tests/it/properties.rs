//! Property tests: signatures round-trip, and no input makes the parser panic or lose an event.

use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::webhook::{self, SignatureVerifier, WebhookError};
use proptest::prelude::*;
use serde_json::{Value, json};

proptest! {
    #[test]
    fn sign_then_verify_accepts(secret in ".{1,64}", body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let secret = AppSecret::new(secret);
        let header = webhook::sign(&secret, &body);
        prop_assert!(SignatureVerifier::new(secret).verify(Some(&header), &body).is_ok());
    }

    #[test]
    fn any_other_secret_or_body_is_refused(
        secret in "[a-z0-9]{8,32}",
        other in "[A-Z]{8,32}",
        body in proptest::collection::vec(any::<u8>(), 1..512),
        flip in any::<prop::sample::Index>(),
    ) {
        let header = webhook::sign(&AppSecret::new(secret.clone()), &body);
        let with_other = SignatureVerifier::new(AppSecret::new(other));
        prop_assert!(matches!(with_other.verify(Some(&header), &body), Err(WebhookError::SignatureMismatch)));

        let mut tampered = body.clone();
        let at = flip.index(tampered.len());
        tampered[at] ^= 0x01;
        let verifier = SignatureVerifier::new(AppSecret::new(secret));
        prop_assert!(matches!(verifier.verify(Some(&header), &tampered), Err(WebhookError::SignatureMismatch)));
    }

    #[test]
    fn arbitrary_header_values_never_panic(header in ".{0,100}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let verifier = SignatureVerifier::new(AppSecret::new("k"));
        let _ = verifier.verify(Some(&header), &body);
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = webhook::parse(&body);
    }

    #[test]
    fn arbitrary_json_in_an_envelope_is_kept(entries in proptest::collection::vec(arb_entry(), 0..6), instagram in any::<bool>()) {
        let object = if instagram { "instagram" } else { "page" };
        let body = json!({ "object": object, "entry": entries }).to_string();
        let events = webhook::parse(body.as_bytes()).expect("an envelope always parses");
        prop_assert_eq!(events.len(), expected_events(&entries));
        for event in &events {
            // Every event serializes to the documented form.
            let form = serde_json::to_value(event).unwrap();
            prop_assert!(form["kind"].is_string());
            prop_assert!(form["timestamp_ms"].is_i64());
        }
    }
}

/// How many events an entry must yield: one per item of its arrays, or one unknown event for an
/// entry that has none of them or is not readable as an entry.
fn expected_events(entries: &[Value]) -> usize {
    entries
        .iter()
        .map(|entry| {
            let Some(obj) = entry.as_object() else {
                return 1;
            };
            let lists = ["messaging", "standby", "changes"];
            let mut count = 0;
            let mut any_list = false;
            for key in lists {
                match obj.get(key) {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(items)) => {
                        any_list = true;
                        count += items.len();
                    }
                    // A non-array where a list belongs makes the whole entry unreadable.
                    Some(_) => return 1,
                }
            }
            let id_ok = matches!(obj.get("id"), None | Some(Value::Null | Value::String(_)))
                || obj.get("id").is_some_and(|id| id.is_u64() || id.is_i64());
            if !id_ok {
                return 1;
            }
            if any_list { count } else { 1 }
        })
        .sum()
}

fn arb_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from("1527459824")),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    arb_scalar().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(arb_key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys Meta uses, so random objects often look like real events and reach deep code paths.
fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("sender"),
        Just("recipient"),
        Just("id"),
        Just("timestamp"),
        Just("message"),
        Just("mid"),
        Just("text"),
        Just("attachments"),
        Just("type"),
        Just("payload"),
        Just("url"),
        Just("is_echo"),
        Just("is_deleted"),
        Just("reply_to"),
        Just("story"),
        Just("reaction"),
        Just("action"),
        Just("read"),
        Just("watermark"),
        Just("delivery"),
        Just("mids"),
        Just("postback"),
        Just("referral"),
        Just("optin"),
        Just("message_edit"),
        Just("field"),
        Just("value"),
        Just("from"),
        Just("media"),
        Just("app_roles"),
        Just("pass_thread_control"),
        Just("quick_reply"),
        Just("coordinates"),
        Just("lat"),
        Just("long"),
        Just("other"),
    ]
    .prop_map(str::to_owned)
}

fn arb_event() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_json(),
        (arb_json(), arb_json(), arb_json()).prop_map(|(message, sender, ts)| json!({
            "sender": { "id": sender }, "recipient": { "id": "1" }, "timestamp": ts, "message": message
        })),
        (arb_key(), arb_json()).prop_map(|(field, value)| json!({ "field": field, "value": value })),
        (arb_json()).prop_map(|value| json!({ "field": "comments", "value": value })),
        (arb_json()).prop_map(|value| json!({ "field": "messages", "value": value })),
    ]
}

fn arb_entry() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (
            prop_oneof![Just(json!("17841400000000000")), Just(json!(104417552380421_u64)), Just(Value::Null)],
            arb_scalar(),
            proptest::option::of(proptest::collection::vec(arb_event(), 0..4)),
            proptest::option::of(proptest::collection::vec(arb_event(), 0..3)),
            proptest::option::of(proptest::collection::vec(arb_event(), 0..3)),
        )
            .prop_map(|(id, time, messaging, standby, changes)| {
                let mut entry = serde_json::Map::new();
                entry.insert("id".into(), id);
                entry.insert("time".into(), time);
                if let Some(m) = messaging { entry.insert("messaging".into(), Value::from(m)); }
                if let Some(s) = standby { entry.insert("standby".into(), Value::from(s)); }
                if let Some(c) = changes { entry.insert("changes".into(), Value::from(c)); }
                Value::Object(entry)
            }),
        1 => arb_json(),
    ]
}
