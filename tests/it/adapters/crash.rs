//! `kill -9` of a host under load loses no delivery that was answered 200.
//!
//! The test binary runs itself again as the host (the ignored test `serve_until_killed`, which
//! only the crash tests start), sends it signed deliveries from many tasks, kills it with
//! SIGKILL in the middle, reopens the database and checks that every delivery answered 200 is
//! there. Then a restarted host takes Meta's redeliveries of everything and stores each once.
//!
//! With an event handler (a slow one, so events are in flight when the host dies), every
//! event of a delivery answered 200 runs after the restart: at least once, as the handler
//! contract says.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use meta_messaging_core::ids::{MessageId, TenantId};
use meta_messaging_core::inbox::{
    EventHandler, HandlerError, HandlerEvent, HandlerOptions, Inbox, Tenancy,
};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{
    MessageQuery, MessageStore, PostgresOptions, PostgresStore, SqliteStore,
};
use meta_messaging_core::webhook::{DeliveryBuilder, SIGNATURE_HEADER};
use tokio::sync::Mutex;

use crate::support::postgres;

const STORE_ENV: &str = "META_MESSAGING_CRASH_CHILD_STORE";
const SCHEMA_ENV: &str = "META_MESSAGING_CRASH_CHILD_SCHEMA";
const HANDLER_LOG_ENV: &str = "META_MESSAGING_CRASH_CHILD_HANDLER_LOG";
const SECRET: &str = "crash-test-secret";
const ACCOUNT: &str = "17841400000000000";

fn tenant() -> TenantId {
    TenantId::new("crash")
}

async fn open(store: &str, schema: Option<&str>) -> Arc<dyn MessageStore> {
    match store.strip_prefix("sqlite://") {
        Some(path) => Arc::new(SqliteStore::open(path).await.unwrap()),
        None => {
            let options = PostgresOptions::new(store).schema(schema.unwrap().to_owned());
            Arc::new(PostgresStore::connect_with(options).await.unwrap())
        }
    }
}

/// The host the crash tests start and kill; it does nothing unless started by them.
#[tokio::test]
#[ignore = "started by the crash tests as a child process"]
async fn serve_until_killed() {
    let store = std::env::var(STORE_ENV).expect("only the crash tests run this host");
    let store = open(&store, std::env::var(SCHEMA_ENV).ok().as_deref()).await;
    let mut builder = Inbox::builder()
        .app_secret(AppSecret::new(SECRET))
        .verify_token(VerifyToken::new("unused"))
        .store(store)
        .tenancy(Tenancy::Single(tenant()));
    if let Ok(log) = std::env::var(HANDLER_LOG_ENV) {
        // A short lease: the killed host's lease must run out before the restarted one
        // takes its work over.
        let mut options = HandlerOptions::default();
        options.lease = Duration::from_secs(2);
        options.poll_interval = Duration::from_millis(100);
        builder = builder
            .handler(RecordRuns(log.into()))
            .handler_options(options);
    }
    let inbox = builder.build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("LISTENING {}", listener.local_addr().unwrap());
    let access = crate::support::servers::access(&inbox);
    let app = axum::Router::new().nest("/api/meta", meta_messaging_axum::router(inbox, access));
    axum::serve(listener, app).await.unwrap();
}

/// A slow handler that appends the message id of each event it ran to a file: what a
/// `kill -9` leaves written is what ran.
struct RecordRuns(PathBuf);

#[async_trait::async_trait]
impl EventHandler for RecordRuns {
    fn name(&self) -> &str {
        "record-runs"
    }

    async fn handle(&self, _inbox: &Inbox, event: &HandlerEvent) -> Result<(), HandlerError> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        if let Some(mid) = event.event.message_id() {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.0)?;
            // One write per line, so lines of concurrent runs never interleave.
            file.write_all(format!("{mid}\n").as_bytes())?;
        }
        Ok(())
    }
}

/// The message ids the handler recorded so far, with how many times each ran.
fn runs(log: &Path) -> HashMap<String, usize> {
    let mut runs = HashMap::new();
    for line in std::fs::read_to_string(log).unwrap_or_default().lines() {
        *runs.entry(line.to_owned()).or_default() += 1;
    }
    runs
}

struct Host {
    child: Child,
    url: String,
}

fn start_host(store: &str, schema: Option<&str>, handler_log: Option<&Path>) -> Host {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "adapters::crash::serve_until_killed",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(STORE_ENV, store)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(schema) = schema {
        command.env(SCHEMA_ENV, schema);
    }
    if let Some(log) = handler_log {
        command.env(HANDLER_LOG_ENV, log);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let addr = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split_once("LISTENING ")
                .map(|(_, addr)| addr.trim().to_owned())
        })
        .expect("the host printed its address");
    Host {
        child,
        url: format!("http://{addr}/api/meta/webhook"),
    }
}

/// Deliveries with known message ids, one message each.
fn deliveries(count: usize) -> Vec<(MessageId, Vec<u8>, String)> {
    let builder = DeliveryBuilder::new(Platform::Instagram, ACCOUNT);
    (0..count)
        .map(|i| {
            let mid = builder.new_message_id();
            let (body, signature) = DeliveryBuilder::new(Platform::Instagram, ACCOUNT)
                .message(
                    format!("50000000000{:05}", i % 97),
                    serde_json::json!({"mid": mid, "text": format!("crash test {i}")}),
                )
                .signed(&AppSecret::new(SECRET));
            (mid, body, signature)
        })
        .collect()
}

async fn crash_under_load(store: &str, schema: Option<&str>, handler_log: Option<&Path>) {
    let all = Arc::new(deliveries(3_000));
    let host = start_host(store, schema, handler_log);
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = crate::support::servers::client();
    let mut senders = Vec::new();
    for _ in 0..16 {
        let (all, acked, next, client, url) = (
            all.clone(),
            acked.clone(),
            next.clone(),
            client.clone(),
            host.url.clone(),
        );
        senders.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((mid, body, signature)) = all.get(i) else {
                    break;
                };
                let sent = client
                    .post(&url)
                    .header(SIGNATURE_HEADER, signature)
                    .body(body.clone())
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == 200 => {
                        acked.lock().await.insert(mid.clone());
                    }
                    // The host is gone: stop, as Meta would, and redeliver later.
                    _ => break,
                }
            }
        }));
    }
    // Kill once part of the load is through, while requests are in flight.
    let mut child = host.child;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().await.len() < 400 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the host acknowledged too few deliveries in 60 s"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the host died before it was killed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    child.wait().unwrap();
    for sender in senders {
        sender.await.unwrap();
    }
    let acked = acked.lock().await.clone();
    assert!(
        acked.len() >= 400 && acked.len() < all.len(),
        "killed mid-load: {} of {} acked",
        acked.len(),
        all.len()
    );

    if let Some(log) = handler_log {
        let ran = runs(log).len();
        assert!(
            ran < acked.len(),
            "the handler had caught up ({ran} of {} runs) when the host was killed: nothing was in flight",
            acked.len()
        );
    }
    let store_after = open(store, schema).await;
    for mid in &acked {
        let found = store_after
            .find_message(&tenant(), Platform::Instagram, mid)
            .await
            .unwrap();
        assert!(
            found.is_some(),
            "delivery {mid} was answered 200 but is not in the store after kill -9"
        );
    }
    drop(store_after);

    // Meta redelivers everything to a restarted host: each message stored once.
    let host = start_host(store, schema, handler_log);
    for (_, body, signature) in all.iter() {
        let response = client
            .post(&host.url)
            .header(SIGNATURE_HEADER, signature)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    if let Some(log) = handler_log {
        every_event_ran(log, &all).await;
    }
    let mut child = host.child;
    child.kill().unwrap();
    child.wait().unwrap();
    let store_after = open(store, schema).await;
    let count = store_after
        .count_messages(&tenant(), &MessageQuery::new())
        .await
        .unwrap();
    assert_eq!(count, all.len() as u64, "every message stored exactly once");
}

/// Waits (up to 60 s) until the restarted host's handler has run every message's event.
async fn every_event_ran(log: &Path, all: &[(MessageId, Vec<u8>, String)]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ran = runs(log);
        let missing: Vec<&MessageId> = all
            .iter()
            .map(|(mid, _, _)| mid)
            .filter(|mid| !ran.contains_key(mid.as_str()))
            .collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {} events never ran after the restart, e.g. {}",
            missing.len(),
            all.len(),
            missing[0]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sqlite_host_killed_under_load_loses_no_acknowledged_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("crash.db").display());
    crash_under_load(&store, None, None).await;
}

#[tokio::test]
async fn sqlite_host_killed_with_handlers_in_flight_runs_every_event_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("crash.db").display());
    let log = dir.path().join("handler-runs.log");
    crash_under_load(&store, None, Some(&log)).await;
}

#[tokio::test]
async fn postgres_host_killed_under_load_loses_no_acknowledged_delivery() {
    let Some(url) = postgres::url() else { return };
    let schema = postgres::fresh_schema("mm_crash");
    let case = {
        let (url, schema) = (url.clone(), schema.clone());
        async move { crash_under_load(&url, Some(&schema), None).await }
    };
    postgres::in_schema(&url, &schema, case).await;
}

#[tokio::test]
async fn postgres_host_killed_with_handlers_in_flight_runs_every_event_after_restart() {
    let Some(url) = postgres::url() else { return };
    let schema = postgres::fresh_schema("mm_crash_handlers");
    let case = {
        let (url, schema) = (url.clone(), schema.clone());
        async move {
            let dir = tempfile::tempdir().unwrap();
            let log = dir.path().join("handler-runs.log");
            crash_under_load(&url, Some(&schema), Some(&log)).await;
        }
    };
    postgres::in_schema(&url, &schema, case).await;
}
