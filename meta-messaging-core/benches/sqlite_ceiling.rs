//! The most SQLite can ingest on this machine with the store's schema and statements: the
//! group commit's writes run back to back from one thread, with no driver, async runtime or
//! waiting caller in between. It is the ceiling for `store`'s 64-writer figure; the gap between
//! the two is what the driver and the batching cost.
//!
//! ```text
//! cargo bench -p meta-messaging-core --features sqlite --bench sqlite_ceiling
//! ```
//!
//! Each transaction inserts `CEILING_BATCH` (default 48, the store's mean batch at 64 writers;
//! at most 64) one-message deliveries with the store's multi-row statements: the messages (`ON CONFLICT DO
//! NOTHING RETURNING`), their conversations' move, the accounts' last-event time; then commits.
//! As in the store, a second connection checkpoints after each commit. The schema is the
//! store's migration and the pragmas are the store's writer's. Messages go round-robin to 3,200
//! conversations of one tenant, as in `store`. It runs `CEILING_MESSAGES` (default 100,000)
//! messages for each `synchronous` setting in `CEILING_SYNC` (default `FULL,NORMAL,OFF`).
//!
//! The statements are copies of those in `src/store/sql/bulk/` (crate-private, so a bench
//! cannot call them) and of `SqliteStore::open_with`'s pragmas: change them together.

#![allow(clippy::print_stdout, missing_docs)]

use std::fmt::Write as _;
use std::sync::mpsc;
use std::time::Instant;

use meta_messaging_core::platform::Platform;
use meta_messaging_core::webhook::{Event, EventDetails, Message};
use rusqlite::{Connection, params_from_iter, types::Value};

const SCHEMA: &str = include_str!("../migrations/sqlite/20250101000000_message_store.sql");
const BASE_MS: i64 = 1_700_000_000_000;
const TENANT: &str = "tenant-1";
const WRITERS: usize = 64;
const CONVERSATIONS_PER_WRITER: usize = 50;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The conversation of message n: messages go round-robin to the 64 writers, and each writer
/// round-robin to its 50 conversations, as in `store`'s ingest.
fn conversation_number(n: usize) -> usize {
    let (w, i) = (n % WRITERS, n / WRITERS);
    w * 1_000 + i % CONVERSATIONS_PER_WRITER
}

/// (platform, account, participant) of message n's conversation.
fn conversation(n: usize) -> (Platform, String, String) {
    let conv = conversation_number(n);
    let platform = if conv.is_multiple_of(2) {
        Platform::Messenger
    } else {
        Platform::Instagram
    };
    (
        platform,
        format!("acct-1-{}", platform.as_str()),
        format!("user-1-{conv}"),
    )
}

/// What `store` would write for message n: the same ids, text and raw event JSON.
struct Row {
    platform: Platform,
    account: String,
    user: String,
    mid: String,
    text: String,
    ts: i64,
    raw: String,
}

impl Row {
    fn new(n: usize) -> Self {
        let (platform, account, user) = conversation(n);
        // Named by conversation first, as in `store`: ids that sort by arrival would make the
        // unique index an append-only one, which Meta's ids do not allow.
        let mid = format!(
            "mid-1-{}-{n}-aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAyMjQ5NjA0",
            conversation_number(n)
        );
        let text = format!("message number {n}");
        let ts = BASE_MS + i64::try_from(n).unwrap_or(0) * 1_000;
        let event = Event::new(
            platform,
            account.as_str(),
            ts,
            EventDetails::Message(Box::new(Message::text(mid.as_str(), text.as_str()))),
        )
        .with_sender(user.as_str())
        .with_recipient(account.as_str());
        let raw = serde_json::to_string(&event).expect("event JSON");
        Self {
            platform,
            account,
            user,
            mid,
            text,
            ts,
            raw,
        }
    }

    /// The 18 values of the message insert, in the store's column order.
    fn message_values(&self, conversation_id: i64) -> [Value; 18] {
        [
            TENANT.to_owned().into(),
            self.platform.as_str().to_owned().into(),
            self.account.clone().into(),
            conversation_id.into(),
            "inbound".to_owned().into(),
            self.user.clone().into(),
            self.account.clone().into(),
            self.mid.clone().into(),
            self.text.clone().into(),
            "[]".to_owned().into(),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            self.ts.into(),
            self.ts.into(),
            false.into(),
            self.raw.clone().into(),
        ]
    }

    /// The 6 values that move its conversation: (id, inbound, at, message id, preview,
    /// direction).
    fn bump_values(&self, conversation_id: i64) -> [Value; 6] {
        [
            conversation_id.into(),
            1_i64.into(),
            self.ts.into(),
            self.mid.clone().into(),
            self.text.clone().into(),
            "inbound".to_owned().into(),
        ]
    }
}

fn open(path: &std::path::Path, synchronous: &str) -> Connection {
    let conn = Connection::open(path).expect("open");
    // The store's writer connection: see `SqliteStore::open_with`.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
         PRAGMA foreign_keys = ON; PRAGMA temp_store = memory; \
         PRAGMA wal_autocheckpoint = 16384; PRAGMA journal_size_limit = 67108864; \
         PRAGMA cache_size = -65536; PRAGMA busy_timeout = 10000;"
    ))
    .expect("pragmas");
    conn
}

fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO messages (tenant_id, platform, account_id, conversation_id, direction, \
         sender_id, recipient_id, message_id, text, attachments, reply_to, quick_reply, app_id, \
         metadata, timestamp_ms, created_at_ms, unsupported, raw_event) VALUES ",
    );
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        sql.push_str(&["?"; 18].join(", "));
        sql.push(')');
    }
    sql.push_str(
        " ON CONFLICT (tenant_id, message_id, platform) DO NOTHING \
         RETURNING id, tenant_id, platform, message_id",
    );
    sql
}

fn bump_sql(rows: usize) -> String {
    let mut sql = String::from(
        "UPDATE conversations SET unread_count = unread_count + v.inbound, \
         archived = CASE WHEN v.inbound > 0 THEN FALSE ELSE archived END, \
         last_message_id = CASE WHEN v.at >= last_message_at_ms THEN v.message_id \
            ELSE last_message_id END, \
         last_message_preview = CASE WHEN v.at >= last_message_at_ms THEN v.preview \
            ELSE last_message_preview END, \
         last_message_direction = CASE WHEN v.at >= last_message_at_ms THEN v.direction \
            ELSE last_message_direction END, \
         last_message_at_ms = CASE WHEN v.at >= last_message_at_ms THEN v.at \
            ELSE last_message_at_ms END \
         FROM (SELECT column1 AS id, column2 AS inbound, column3 AS at, column4 AS message_id, \
         column5 AS preview, column6 AS direction FROM (VALUES ",
    );
    for r in 0..rows {
        let _ = write!(sql, "{}(?, ?, ?, ?, ?, ?)", if r == 0 { "" } else { ", " });
    }
    sql.push_str(")) AS v WHERE conversations.id = v.id");
    sql
}

const TOUCH_SQL: &str = "UPDATE accounts SET last_event_at_ms = v.column4 FROM (VALUES \
    (?, ?, ?, ?), (?, ?, ?, ?)) AS v WHERE accounts.tenant_id = v.column1 \
    AND accounts.platform = v.column2 AND accounts.account_id = v.column3 \
    AND (accounts.last_event_at_ms IS NULL OR accounts.last_event_at_ms < v.column4)";

/// Accounts and conversations exist already, as they do after a store's first minutes.
fn setup(conn: &Connection) -> Vec<i64> {
    conn.execute_batch(SCHEMA).expect("schema");
    for platform in [Platform::Messenger, Platform::Instagram] {
        conn.execute(
            "INSERT INTO accounts (tenant_id, platform, account_id, status, created_at_ms, \
             updated_at_ms) VALUES (?1, ?2, ?3, 'connected', 0, 0)",
            (
                TENANT,
                platform.as_str(),
                format!("acct-1-{}", platform.as_str()),
            ),
        )
        .expect("account");
    }
    (0..WRITERS * CONVERSATIONS_PER_WRITER)
        .map(|k| {
            let (platform, account, user) = conversation(k);
            conn.query_row(
                "INSERT INTO conversations (tenant_id, platform, account_id, participant_id, \
                 last_message_at_ms, created_at_ms) VALUES (?1, ?2, ?3, ?4, 0, 0) RETURNING id",
                (TENANT, platform.as_str(), account, user),
                |r| r.get(0),
            )
            .expect("conversation")
        })
        .collect()
}

/// The row id of message n's conversation: `setup` created them in the order of `conversation`,
/// which repeats every `WRITERS * CONVERSATIONS_PER_WRITER` messages.
fn conversation_id(ids: &[i64], n: usize) -> i64 {
    ids[n % ids.len()]
}

fn run(synchronous: &str, total: usize, batch: usize) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ceiling.db");
    let mut conn = open(&path, synchronous);
    let ids = setup(&conn);
    // The store checkpoints from another connection after each commit, off the writer.
    let (commits, wake) = mpsc::sync_channel::<()>(1);
    let checkpointer = {
        let reader = open(&path, synchronous);
        std::thread::spawn(move || {
            while wake.recv().is_ok() {
                let _ = reader.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
            }
        })
    };
    let (insert, bump) = (insert_sql(batch), bump_sql(batch));
    let batches = total / batch;
    let start = Instant::now();
    for first in (0..batches).map(|b| b * batch) {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .expect("begin");
        let mut values = Vec::with_capacity(batch * 18);
        let mut bumps = Vec::with_capacity(batch * 6);
        for n in first..first + batch {
            let (row, conv) = (Row::new(n), conversation_id(&ids, n));
            values.extend(row.message_values(conv));
            bumps.extend(row.bump_values(conv));
        }
        {
            let mut stmt = tx.prepare_cached(&insert).expect("prepare insert");
            let inserted = stmt
                .query_map(params_from_iter(values), |r| r.get::<_, i64>(0))
                .expect("insert")
                .count();
            assert_eq!(inserted, batch, "every message is new");
            tx.prepare_cached(&bump)
                .expect("prepare bump")
                .execute(params_from_iter(bumps))
                .expect("bump");
            let at = BASE_MS + i64::try_from(first + batch).unwrap_or(0) * 1_000;
            tx.prepare_cached(TOUCH_SQL)
                .expect("prepare touch")
                .execute(rusqlite::params![
                    TENANT,
                    "messenger",
                    "acct-1-messenger",
                    at,
                    TENANT,
                    "instagram",
                    "acct-1-instagram",
                    at
                ])
                .expect("touch");
        }
        tx.commit().expect("commit");
        let _ = commits.try_send(());
    }
    let rate = (batches * batch) as f64 / start.elapsed().as_secs_f64();
    drop(commits);
    checkpointer.join().expect("checkpointer");
    rate
}

fn main() {
    let total = env("CEILING_MESSAGES", 100_000);
    // At most one message per conversation in a batch, as the store's batches have at 64
    // writers: the conversation move takes one row per conversation.
    let batch = env("CEILING_BATCH", 48).clamp(1, WRITERS);
    let modes = std::env::var("CEILING_SYNC").unwrap_or_else(|_| "FULL,NORMAL,OFF".into());
    println!("SQLite ceiling: one thread, batches of {batch}, {total} messages");
    for mode in modes.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let rate = run(mode, total, batch);
        println!("  synchronous = {mode:<6} {rate:>9.0} messages/s");
    }
}
