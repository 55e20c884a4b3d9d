//! Webhook verification and parsing throughput, against an untyped `serde_json::Value` parse of
//! the same bytes in the same run.
//!
//! ```text
//! cargo bench -p meta-messaging-core --bench webhook
//! ```
//!
//! Target (issue #2): `parse` into typed events costs no more than 1.5x the untyped parse.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meta_messaging_core::secret::AppSecret;
use meta_messaging_core::webhook::{self, SignatureVerifier};
use serde_json::{Value, json};

const PAGE: &str = "104417552380421";
const USER: &str = "6758492015643287";

/// One event of a realistic mix: mostly text messages, some attachments, receipts and reactions.
fn event(i: usize) -> Value {
    let mid = format!(
        "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P{i:04}"
    );
    let ts = 1_700_000_000_000_i64 + i64::try_from(i).unwrap_or_default();
    let common = |key: &str, payload: Value| json!({ "sender": { "id": USER }, "recipient": { "id": PAGE }, "timestamp": ts, key: payload });
    match i % 10 {
        0..=5 => common(
            "message",
            json!({ "mid": mid, "text": "Hi! Is the blue jacket still available in size M? Thanks \u{1F60A}" }),
        ),
        6 => common(
            "message",
            json!({ "mid": mid, "attachments": [{ "type": "image", "payload": { "url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/123456789_n.jpg?_nc_cat=1&ccb=1-7&oh=00_AfB&oe=6561A2B3" } }] }),
        ),
        7 => common("read", json!({ "watermark": ts - 5_000 })),
        8 => common("delivery", json!({ "mids": [mid], "watermark": ts })),
        _ => common(
            "reaction",
            json!({ "mid": mid, "action": "react", "reaction": "love", "emoji": "\u{2764}" }),
        ),
    }
}

fn delivery(events: usize) -> Vec<u8> {
    let messaging: Vec<Value> = (0..events).map(event).collect();
    json!({ "object": "page", "entry": [{ "id": PAGE, "time": 1_700_000_000_000_i64, "messaging": messaging }] })
        .to_string()
        .into_bytes()
}

fn bench(c: &mut Criterion) {
    let secret = AppSecret::new("0123456789abcdef0123456789abcdef");
    let verifier = SignatureVerifier::new(secret.clone());
    let mut group = c.benchmark_group("webhook");
    for events in [1_usize, 50] {
        let body = delivery(events);
        let signature = webhook::sign(&secret, &body);
        assert_eq!(webhook::parse(&body).map(|e| e.len()).ok(), Some(events));
        group.throughput(Throughput::Elements(events as u64));
        group.bench_with_input(
            BenchmarkId::new("untyped_value_parse", events),
            &body,
            |b, body| {
                b.iter(|| black_box(serde_json::from_slice::<Value>(black_box(body)).ok()));
            },
        );
        group.bench_with_input(BenchmarkId::new("typed_parse", events), &body, |b, body| {
            b.iter(|| black_box(webhook::parse(black_box(body)).ok()));
        });
        group.bench_with_input(
            BenchmarkId::new("verify_and_parse", events),
            &body,
            |b, body| {
                b.iter(|| {
                    verifier.verify(Some(&signature), black_box(body)).ok();
                    black_box(webhook::parse(black_box(body)).ok())
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
