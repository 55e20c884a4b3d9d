//! Deliveries in any order and any number of repeats end in the same store state.
//!
//! Covered, on every backend (in memory, SQLite, PostgreSQL):
//! - inbound messages and echoes (which also stand for replies sent through the inbox, merged
//!   with their echo), in any order and repeated;
//! - what happens to a message after it was sent: its edit, a reaction to it, its unsend, and
//!   a redelivery of the message. One that arrives before its message is kept and applied when
//!   the message arrives, so every order ends as the in-order one. Every permutation of every
//!   subset of (message, edit, reaction, unsend, redelivery) is checked for one inbound message
//!   and one echo; random interleavings of those of three messages are checked as a property.
//!
//! Not covered: receipts. Messenger reads and deliveries by watermark name a time, not a
//! message, so a message that arrives after a watermark that covers it is not marked read; an
//! Instagram read that names a message also covers the outbound messages before it that are
//! stored when it is applied, not those that arrive later.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use meta_messaging_core::graph::GraphClient;
use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{Inbox, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{
    ConversationQuery, InMemoryStore, MessageQuery, MessageStore, PostgresOptions, PostgresStore,
    SqliteStore,
};
use meta_messaging_core::webhook::DeliveryBuilder;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::support::postgres as pg;

const SECRET: &str = "order-secret";
const PAGE: &str = "104417552380421";
const USERS: [&str; 2] = ["6758492015643287", "6758492015643288"];
const BASE_MS: i64 = 1_700_000_000_000;

/// A signed delivery: the body and its signature header.
type Delivery = (Vec<u8>, String);

fn signed(event: Value) -> Delivery {
    DeliveryBuilder::new(Platform::Messenger, PAGE)
        .messaging_event(event)
        .signed(&AppSecret::new(SECRET))
}

/// One delivery of a small conversation history: messages from two users, the page's echoes
/// of its replies.
fn history() -> Vec<Delivery> {
    let mut deliveries = Vec::new();
    for i in 0..6_i64 {
        let user = USERS[usize::from(i % 2 == 1)];
        let ts = BASE_MS + i * 1_000;
        let inbound = json!({"sender": {"id": user}, "recipient": {"id": PAGE}, "timestamp": ts,
            "message": {"mid": format!("m_in_{i}"), "text": format!("question {i}")}});
        let echo = json!({"sender": {"id": PAGE}, "recipient": {"id": user}, "timestamp": ts + 500,
            "message": {"mid": format!("m_out_{i}"), "is_echo": true, "app_id": 1, "text": format!("answer {i}")}});
        deliveries.push(signed(inbound));
        deliveries.push(signed(echo));
    }
    deliveries
}

/// What can be delivered about one message, in the order it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    Message,
    Edit,
    React,
    Unsend,
    Redelivery,
}

/// The changes that may or may not happen to a message (it always arrives).
const OPTIONAL: [Change; 4] = [
    Change::Edit,
    Change::React,
    Change::Unsend,
    Change::Redelivery,
];

/// One message of a scenario: the `n`th, inbound from or echoed to `user`.
#[derive(Debug, Clone, Copy)]
struct Story {
    n: i64,
    echo: bool,
    user: &'static str,
}

impl Story {
    fn mid(self) -> String {
        format!("m_story_{}", self.n)
    }

    /// The delivery of `change` to this message. Each happens a second after the one before
    /// it, and stories are ten seconds apart.
    fn delivery(self, change: Change) -> Delivery {
        let ts = BASE_MS + self.n * 10_000 + change as i64 * 1_000;
        let (mid, user) = (self.mid(), self.user);
        // The author of the message: the page for an echo, else the user.
        let (from, to) = if self.echo {
            (PAGE, user)
        } else {
            (user, PAGE)
        };
        let event = match change {
            Change::Message | Change::Redelivery => {
                let sent = BASE_MS + self.n * 10_000;
                let text = format!("story {}", self.n);
                let message = if self.echo {
                    json!({"mid": mid, "text": text, "is_echo": true, "app_id": 1})
                } else {
                    json!({"mid": mid, "text": text})
                };
                json!({"sender": {"id": from}, "recipient": {"id": to}, "timestamp": sent,
                    "message": message})
            }
            Change::Edit => json!({"sender": {"id": from}, "recipient": {"id": to},
                "timestamp": ts,
                "message_edit": {"mid": mid, "text": format!("story {} (edited)", self.n), "num_edit": 1}}),
            // The user reacts, to their own message or to the page's.
            Change::React => json!({"sender": {"id": user}, "recipient": {"id": PAGE},
                "timestamp": ts,
                "reaction": {"mid": mid, "action": "react", "reaction": "love", "emoji": "❤"}}),
            Change::Unsend => {
                let message = if self.echo {
                    json!({"mid": mid, "is_echo": true, "is_deleted": true})
                } else {
                    json!({"mid": mid, "is_deleted": true})
                };
                json!({"sender": {"id": from}, "recipient": {"id": to}, "timestamp": ts,
                    "message": message})
            }
        };
        signed(event)
    }
}

/// The store's content without ids and arrival times, which legitimately differ between runs.
async fn snapshot(store: &dyn MessageStore, tenant: &TenantId) -> Value {
    let messages = store
        .list_messages(tenant, &MessageQuery::new().limit(500).include_raw(true))
        .await
        .unwrap();
    let conversations = store
        .list_conversations(tenant, &ConversationQuery::new().limit(500))
        .await
        .unwrap();
    let messages: Vec<Value> = messages
        .data
        .iter()
        .map(|m| {
            let reactions: Vec<Value> = m
                .reactions
                .iter()
                .map(|r| json!([r.actor_id, r.emoji, r.timestamp_ms]))
                .collect();
            json!([
                m.message_id,
                m.direction,
                m.sender_id,
                m.recipient_id,
                m.text,
                m.attachments.len(),
                m.timestamp_ms,
                m.edit_count,
                m.edited_at_ms,
                m.deleted,
                m.raw_event.is_some(),
                reactions
            ])
        })
        .collect();
    let mut conversations: Vec<Value> = conversations
        .data
        .iter()
        .map(|c| {
            json!([
                c.participant_id,
                c.last_message_at_ms,
                c.last_message_id,
                c.last_message_preview,
                c.last_message_direction,
                c.unread_count,
                c.archived
            ])
        })
        .collect();
    conversations.sort_by_key(Value::to_string);
    json!({"messages": messages, "conversations": conversations})
}

/// A tenant no other run of this binary uses: runs share one store per backend.
fn fresh_tenant() -> TenantId {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    TenantId::new(format!("order-{}", NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// One Graph client for every inbox of the tests (making one loads the TLS roots).
fn graph() -> GraphClient {
    static GRAPH: OnceLock<GraphClient> = OnceLock::new();
    GRAPH.get_or_init(|| GraphClient::new().unwrap()).clone()
}

/// Receives the deliveries in this order, for a tenant of its own, and returns its snapshot.
async fn apply_in_order(store: &Arc<dyn MessageStore>, deliveries: &[&Delivery]) -> Value {
    let tenant = fresh_tenant();
    let inbox = Inbox::builder()
        .graph(graph())
        .app_secret(AppSecret::new(SECRET))
        .verify_token(VerifyToken::new("unused"))
        .store(Arc::clone(store))
        .tenancy(Tenancy::Single(tenant.clone()))
        .build()
        .unwrap();
    for (body, signature) in deliveries {
        inbox.receive(Some(signature), body).await.unwrap();
    }
    snapshot(store.as_ref(), &tenant).await
}

/// Every ordering of `items`.
fn permutations<T: Copy>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut all = Vec::new();
    for (i, first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, *first);
            all.push(tail);
        }
    }
    all
}

/// For an inbound message and for an echo, every subset of its changes in every order ends
/// as the same subset in order. Returns how many orders were checked.
async fn every_order_of_one_message(store: Arc<dyn MessageStore>) -> usize {
    let mut checked = 0;
    for echo in [false, true] {
        let story = Story {
            n: i64::from(echo),
            echo,
            user: USERS[0],
        };
        for mask in 0..1_u8 << OPTIONAL.len() {
            let mut changes = vec![Change::Message];
            changes.extend(
                OPTIONAL
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| mask & (1 << bit) != 0)
                    .map(|(_, change)| *change),
            );
            let deliveries: Vec<(Change, Delivery)> =
                changes.iter().map(|c| (*c, story.delivery(*c))).collect();
            let in_order: Vec<&Delivery> = deliveries.iter().map(|(_, d)| d).collect();
            let expected = apply_in_order(&store, &in_order).await;
            // The orders run at once, each for its own tenant: their writes share commits.
            let mut runs = JoinSet::new();
            for order in permutations(&(0..deliveries.len()).collect::<Vec<_>>()) {
                let names: Vec<Change> = order.iter().map(|&i| deliveries[i].0).collect();
                let shuffled: Vec<Delivery> =
                    order.iter().map(|&i| deliveries[i].1.clone()).collect();
                let store = Arc::clone(&store);
                runs.spawn(async move {
                    let shuffled: Vec<&Delivery> = shuffled.iter().collect();
                    (names, apply_in_order(&store, &shuffled).await)
                });
            }
            while let Some(run) = runs.join_next().await {
                let (names, actual) = run.unwrap();
                assert_eq!(actual, expected, "echo: {echo}, order: {names:?}");
                checked += 1;
            }
        }
    }
    checked
}

/// Three messages (two inbound from different users, one echo), each with some of its changes.
fn stories() -> [Story; 3] {
    [
        Story {
            n: 10,
            echo: false,
            user: USERS[0],
        },
        Story {
            n: 11,
            echo: true,
            user: USERS[0],
        },
        Story {
            n: 12,
            echo: false,
            user: USERS[1],
        },
    ]
}

/// What a scenario delivers: the story (by index) and the change.
type Steps = Vec<(usize, Change)>;

/// The deliveries of a scenario in order (by story, then by change), and the same shuffled.
fn interleavings() -> impl Strategy<Value = (Steps, Steps)> {
    proptest::array::uniform3(any::<[bool; 4]>()).prop_flat_map(|chosen| {
        let in_order: Steps = chosen
            .iter()
            .enumerate()
            .flat_map(|(story, picks)| {
                std::iter::once((story, Change::Message)).chain(
                    OPTIONAL
                        .iter()
                        .zip(picks)
                        .filter(|(_, picked)| **picked)
                        .map(move |(change, _)| (story, *change)),
                )
            })
            .collect();
        (Just(in_order.clone()), Just(in_order).prop_shuffle())
    })
}

/// `cases` cases, and no regression file (the runner has no source file to put it next to):
/// a failure prints the case.
fn runner_config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Random interleavings of the changes of three messages end as their in-order application.
/// Runs `cases` cases of the property on `store`; panics with the failing (shrunk) case.
async fn interleaved_messages(store: Arc<dyn MessageStore>, cases: u32) {
    let handle = tokio::runtime::Handle::current();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut runner = TestRunner::new(runner_config(cases));
        runner.run(&interleavings(), |(in_order, shuffled)| {
            let stories = stories();
            let delivery = |(story, change): &(usize, Change)| stories[*story].delivery(*change);
            let in_order: Vec<Delivery> = in_order.iter().map(delivery).collect();
            let shuffled: Vec<Delivery> = shuffled.iter().map(delivery).collect();
            let (expected, actual) = handle.block_on(async {
                (
                    apply_in_order(&store, &in_order.iter().collect::<Vec<_>>()).await,
                    apply_in_order(&store, &shuffled.iter().collect::<Vec<_>>()).await,
                )
            });
            prop_assert_eq!(actual, expected);
            Ok(())
        })
    })
    .await
    .unwrap();
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// Messages and echoes in any order, some delivered again, end in the same state (the inbox's
/// redelivery and echo handling, on the reference store).
fn shuffled_history_ends_the_same(store: Arc<dyn MessageStore>, cases: u32) {
    let deliveries = history();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let expected = runtime.block_on(apply_in_order(
        &store,
        &deliveries.iter().collect::<Vec<_>>(),
    ));
    let mut runner = TestRunner::new(runner_config(cases));
    let strategy = (
        Just((0..deliveries.len()).collect::<Vec<usize>>()).prop_shuffle(),
        proptest::collection::vec(0..deliveries.len(), 0..12),
    );
    let outcome = runner.run(&strategy, |(shuffled, repeats)| {
        let order: Vec<&Delivery> = shuffled
            .iter()
            .chain(&repeats)
            .map(|&i| &deliveries[i])
            .collect();
        let actual = runtime.block_on(apply_in_order(&store, &order));
        prop_assert_eq!(&actual, &expected);
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

#[test]
fn any_order_and_repeats_end_in_the_same_state() {
    shuffled_history_ends_the_same(Arc::new(InMemoryStore::new()), 64);
}

/// Everything one backend is checked for.
async fn all_orders(store: Arc<dyn MessageStore>, random_cases: u32) {
    let checked = every_order_of_one_message(Arc::clone(&store)).await;
    // 1 + 4·2! + 6·3! + 4·4! + 5! orders of each of the two messages.
    assert_eq!(checked, 2 * 261);
    interleaved_messages(store, random_cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_changes_in_any_order_in_memory() {
    all_orders(Arc::new(InMemoryStore::new()), 128).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_changes_in_any_order_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("order.db"))
        .await
        .unwrap();
    all_orders(Arc::new(store), 24).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_changes_in_any_order_in_postgres() {
    let Some(url) = pg::url() else { return };
    let schema = pg::fresh_schema("mm_order");
    let store = PostgresStore::connect_with(PostgresOptions::new(&url).schema(&schema))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} is unreachable or refused: {e:?}"));
    pg::in_schema(&url, &schema, all_orders(Arc::new(store), 24)).await;
}
