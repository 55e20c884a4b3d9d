//! Feeds arbitrary bytes to the webhook parser: it must never panic, and whatever parses must
//! serialize to the documented JSON form.
//!
//! ```text
//! cargo +nightly fuzz run parse_delivery
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;
use meta_messaging_core::webhook;

fuzz_target!(|body: &[u8]| {
    if let Ok(events) = webhook::parse(body) {
        for event in events {
            let form = serde_json::to_value(&event).expect("events always serialize");
            assert!(form["kind"].is_string());
        }
    }
});
