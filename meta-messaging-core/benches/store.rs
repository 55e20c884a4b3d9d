//! Message store benchmarks: ingest rate at 1 and 64 concurrent writers, and list latency on a
//! large store, for SQLite and PostgreSQL (and the in-memory store's ingest, for reference).
//!
//! ```text
//! META_MESSAGING_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p meta-messaging-core --features sqlite,postgres,test-util --bench store
//! ```
//!
//! Sizes come from the environment: `STORE_BENCH_MESSAGES` (default 1000000),
//! `STORE_BENCH_CONVERSATIONS` (1000), `STORE_BENCH_TENANTS` (10), `STORE_BENCH_INGEST`
//! (messages per ingest run, 20000), `STORE_BENCH_BACKENDS` (`memory,sqlite,postgres`).
//! PostgreSQL runs in its own schema, dropped at the end; without the URL it is left out.

#![allow(clippy::print_stdout, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use meta_messaging_core::ids::TenantId;
use meta_messaging_core::platform::Platform;
use meta_messaging_core::store::{
    ConversationQuery, Direction, InMemoryStore, MessageQuery, MessageStore, PostgresOptions,
    PostgresStore, SqliteStore, TenantEvent,
};
use meta_messaging_core::webhook::{Event, EventDetails, Message};
use sqlx::Connection;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const BASE_MS: i64 = 1_700_000_000_000;

/// One message event: tenant t, conversation c (of the tenant), sequence n, sent at `BASE_MS`
/// plus `second` seconds.
fn event(tenant: usize, conv: usize, n: usize, second: usize, echo: bool) -> TenantEvent {
    let platform = if conv.is_multiple_of(2) {
        Platform::Messenger
    } else {
        Platform::Instagram
    };
    let account = format!("acct-{tenant}-{}", platform.as_str());
    let user = format!("user-{tenant}-{conv}");
    let mid =
        format!("mid-{tenant}-{conv}-{n}-aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAyMjQ5NjA0");
    let ts = BASE_MS + i64::try_from(second).unwrap_or(0) * 1_000;
    let message = Box::new(Message::text(
        mid,
        format!("message number {n} in conversation {conv}"),
    ));
    let (details, sender, recipient) = if echo {
        (EventDetails::Echo(message), account.clone(), user)
    } else {
        (EventDetails::Message(message), user, account.clone())
    };
    let event = Event::new(platform, account, ts, details)
        .with_sender(sender.as_str())
        .with_recipient(recipient.as_str());
    TenantEvent::new(format!("tenant-{tenant}"), event)
}

async fn ingest(store: Arc<dyn MessageStore>, writers: usize, total: usize, run: usize) -> f64 {
    let per_writer = total / writers;
    // Deliveries in flight together were sent at about the same time, as live traffic is: the
    // clock is one counter shared by the writers, not one per writer.
    let clock = Arc::new(AtomicUsize::new(run * 10_000_000));
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = Arc::clone(&store);
            let clock = Arc::clone(&clock);
            tokio::spawn(async move {
                for i in 0..per_writer {
                    // One webhook delivery with one message, as Meta sends most of them.
                    let e = event(
                        run,
                        w * 1_000 + i % 50,
                        run * 10_000_000 + w * per_writer + i,
                        clock.fetch_add(1, Ordering::Relaxed),
                        false,
                    );
                    store.apply(std::slice::from_ref(&e)).await.expect("apply");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("writer");
    }
    (per_writer * writers) as f64 / start.elapsed().as_secs_f64()
}

async fn seed(store: &dyn MessageStore, messages: usize, conversations: usize, tenants: usize) {
    let start = Instant::now();
    let per_conv = messages / conversations;
    let convs_per_tenant = conversations / tenants;
    let mut batch = Vec::with_capacity(5_000);
    for n in 0..per_conv {
        for c in 0..conversations {
            let (tenant, conv) = (c % tenants, c / tenants);
            let (seq, echo) = (n * convs_per_tenant + conv, (n + conv) % 10 == 9);
            batch.push(event(100 + tenant, conv, seq, seq, echo));
            if batch.len() == 5_000 {
                store.apply(&batch).await.expect("seed");
                batch.clear();
            }
        }
    }
    if !batch.is_empty() {
        store.apply(&batch).await.expect("seed");
    }
    println!(
        "  seeded {messages} messages in {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i].as_secs_f64() * 1_000.0
}

async fn latency(store: &dyn MessageStore, tenants: usize) {
    let tenant = TenantId::new(format!("tenant-{}", 100 + tenants / 2));
    let first = store
        .list_conversations(&tenant, &ConversationQuery::new().limit(1))
        .await
        .expect("conversations");
    let conv = first.data[0].id;
    let second_page = store
        .list_messages(&tenant, &MessageQuery::new())
        .await
        .expect("page")
        .next_cursor;
    let queries: Vec<(&str, MessageQuery)> = vec![
        ("messages: newest page", MessageQuery::new()),
        (
            "messages: platform=instagram",
            MessageQuery::new().platform(Platform::Instagram),
        ),
        (
            "messages: one conversation",
            MessageQuery::new().conversation(conv),
        ),
        (
            "messages: outbound, last week",
            MessageQuery::new()
                .direction(Direction::Outbound)
                .since_ms(BASE_MS),
        ),
        (
            "messages: second page (cursor)",
            MessageQuery::new().after(second_page),
        ),
        (
            "messages: account + time range",
            MessageQuery::new()
                .account(format!("acct-{}-messenger", 100 + tenants / 2))
                .since_ms(BASE_MS)
                .until_ms(BASE_MS + 500_000_000),
        ),
    ];
    for (name, q) in queries {
        let mut samples = Vec::new();
        for _ in 0..300 {
            let start = Instant::now();
            let page = store
                .list_messages(&tenant, &q.clone().limit(50))
                .await
                .expect("list");
            samples.push(start.elapsed());
            assert!(!page.data.is_empty(), "{name} found nothing");
        }
        println!(
            "  {name:<36} p50 {:.2} ms  p99 {:.2} ms",
            percentile(&mut samples, 0.5),
            percentile(&mut samples, 0.99)
        );
    }
    let conv_queries = [
        ("conversations: by activity", ConversationQuery::new()),
        (
            "conversations: instagram, unread",
            ConversationQuery::new()
                .platform(Platform::Instagram)
                .unread_only(true),
        ),
        (
            "conversations: not archived",
            ConversationQuery::new().archived(false),
        ),
    ];
    for (name, q) in conv_queries {
        let mut samples = Vec::new();
        for _ in 0..300 {
            let start = Instant::now();
            store
                .list_conversations(&tenant, &q.clone().limit(50))
                .await
                .expect("list");
            samples.push(start.elapsed());
        }
        println!(
            "  {name:<36} p50 {:.2} ms  p99 {:.2} ms",
            percentile(&mut samples, 0.5),
            percentile(&mut samples, 0.99)
        );
    }
}

async fn bench(name: &str, store: Arc<dyn MessageStore>, large: bool) {
    let total = env("STORE_BENCH_INGEST", 20_000);
    println!("{name}");
    for (run, writers) in [(1, 1), (2, 64)] {
        let n = if writers == 1 { total / 4 } else { total };
        let rate = ingest(Arc::clone(&store), writers, n, run).await;
        println!(
            "  ingest, {writers:>2} writers: {rate:>9.0} messages/s ({n} single-message deliveries)"
        );
    }
    if large {
        let (m, c, t) = (
            env("STORE_BENCH_MESSAGES", 1_000_000),
            env("STORE_BENCH_CONVERSATIONS", 1_000),
            env("STORE_BENCH_TENANTS", 10),
        );
        seed(&*store, m, c, t).await;
        latency(&*store, t).await;
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let backends =
        std::env::var("STORE_BENCH_BACKENDS").unwrap_or_else(|_| "memory,sqlite,postgres".into());
    runtime.block_on(async {
        if backends.contains("memory") {
            bench("memory", Arc::new(InMemoryStore::new()), false).await;
        }
        if backends.contains("sqlite") {
            let dir = tempfile::tempdir().expect("temp dir");
            let store = SqliteStore::open(dir.path().join("bench.db"))
                .await
                .expect("sqlite");
            bench("sqlite (WAL, synchronous=FULL)", Arc::new(store), true).await;
        }
        if backends.contains("postgres") {
            match std::env::var("META_MESSAGING_TEST_POSTGRES_URL") {
                Ok(url) => {
                    let schema = format!("mm_bench_{}", std::process::id());
                    let mut options = PostgresOptions::new(&url).schema(&schema);
                    if let Ok(n) = std::env::var("STORE_BENCH_PG_WRITERS") {
                        options = options.writers(n.parse().expect("STORE_BENCH_PG_WRITERS"));
                    }
                    let store = PostgresStore::connect_with(options)
                        .await
                        .expect("postgres");
                    bench("postgres (synchronous_commit=on)", Arc::new(store), true).await;
                    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
                    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                        .execute(&mut conn)
                        .await
                        .expect("drop schema");
                }
                Err(_) => println!("postgres: skipped (set META_MESSAGING_TEST_POSTGRES_URL)"),
            }
        }
    });
}
