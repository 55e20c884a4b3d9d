//! The cost of the core's metrics: webhook ingestion into the in-memory store with no
//! recorder installed, against the same with a Prometheus recorder, in the same run.
//!
//! ```text
//! cargo bench -p meta-messaging-core --bench metrics
//! ```
//!
//! Target (issue #17): with the Prometheus recorder, ingestion stays within 5% of ingestion
//! without one. Each sample of the recorder's run is paired with a run without it on the
//! same deliveries, just before; the bench prints the pairs' median ratio. Each delivery carries a new message (a redelivery would skip the store), and
//! the recorder is the one `metrics-exporter-prometheus` installs, set for the bench's thread
//! only so that both variants run in one process.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::Tenancy;
use meta_messaging_core::{AppSecret, InMemoryStore, Inbox, VerifyToken, webhook};
use metrics_exporter_prometheus::PrometheusBuilder;
use serde_json::json;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// Signed deliveries of one new message each, from a handful of customers.
fn deliveries(first: u64, count: u64) -> Vec<(String, Vec<u8>)> {
    let secret = AppSecret::new(SECRET);
    (first..first + count)
        .map(|i| {
            let body = json!({ "object": "page", "entry": [{
                "id": "104417552380421", "time": 1_700_000_000_000_u64 + i,
                "messaging": [{
                    "sender": { "id": format!("67584920156{:05}", i % 50) },
                    "recipient": { "id": "104417552380421" },
                    "timestamp": 1_700_000_000_000_u64 + i,
                    "message": { "mid": format!("m_bench_{i}"), "text": "Is the blue jacket still available in size M?" }
                }]
            }]})
            .to_string()
            .into_bytes();
            (webhook::sign(&secret, &body), body)
        })
        .collect()
}

fn inbox() -> Inbox {
    Inbox::builder()
        .app_secret(AppSecret::new(SECRET))
        .verify_token(VerifyToken::new("verify"))
        .store(InMemoryStore::new())
        .tenancy(Tenancy::Single(TenantId::new("bench")))
        .build()
        .expect("inbox")
}

/// Receives `iters` deliveries on a fresh inbox and returns the time the receives took.
fn ingest(runtime: &tokio::runtime::Runtime, iters: u64) -> Duration {
    let inbox = inbox();
    let deliveries = deliveries(0, iters);
    runtime.block_on(async {
        let started = Instant::now();
        for (signature, body) in &deliveries {
            inbox
                .receive(Some(signature), body)
                .await
                .expect("delivery stored");
        }
        started.elapsed()
    })
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let mut group = c.benchmark_group("metrics");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ingest_without_recorder", |b| {
        b.iter_custom(|iters| ingest(&runtime, iters));
    });
    // Each sample also ingests the same number of deliveries without the recorder, right
    // before: the pairs' ratios are immune to the drift of a shared machine between the
    // two runs above.
    let mut pairs: Vec<(Duration, Duration)> = Vec::new();
    group.bench_function("ingest_with_prometheus_recorder", |b| {
        b.iter_custom(|iters| {
            let without = ingest(&runtime, iters);
            let with = metrics::with_local_recorder(&recorder, || {
                meta_messaging_core::telemetry::describe();
                ingest(&runtime, iters)
            });
            pairs.push((without, with));
            with
        });
    });
    group.finish();
    let mut ratios: Vec<f64> = pairs
        .iter()
        .map(|(without, with)| with.as_secs_f64() / without.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    let (without, with) = pairs.iter().fold((0.0, 0.0), |(a, b), (w, r)| {
        (a + w.as_secs_f64(), b + r.as_secs_f64())
    });
    if let Some(median) = ratios.get(ratios.len() / 2) {
        println!(
            "with / without the recorder, paired samples ({}): median {median:.3}, total {:.3}",
            ratios.len(),
            with / without
        );
    }
    // The recorder saw the deliveries: the comparison measured real recordings.
    let text = handle.render();
    assert!(
        text.contains("meta_messaging_webhook_deliveries_total{outcome=\"stored\"}"),
        "{text}"
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
