//! History backfill end to end: a Page with earlier conversations is connected through the
//! OAuth routes and its history is imported once, while the customer keeps writing; a backfill
//! stopped after a page resumes on a new inbox over the same SQLite file.

use std::time::Duration;

use meta_messaging_core::graph::GraphClient;
use meta_messaging_core::ids::{AccountId, TenantId};
use meta_messaging_core::inbox::{BackfillOptions, Inbox, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, PageAccessToken, VerifyToken};
use meta_messaging_core::store::{
    AccountToken, BackfillProgress, BackfillState, MessageQuery, MessageStore, NewAccount,
    SqliteStore,
};
use meta_messaging_emulator::{Inbound, PriorMessage, User, World};
use serde_json::Value;
use sha2::Digest as _;

use super::inbox::Deployment;
use super::*;
use crate::support::servers::{Adapter, PREFIX};

const DAY: i64 = 86_400_000;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The demo world with `users` extra Messenger customers, each with two earlier messages (one
/// theirs, one the Page's answer) inside the horizon, and one message from 40 days ago.
fn world_with_history(users: usize) -> World {
    let t = now();
    let mut world = World::demo().prior(PriorMessage::from_user(
        "m_ancient",
        PSID,
        "too old to import",
        t - 40 * DAY,
    ));
    for i in 0..users {
        let user = format!("67584920156400{i:02}");
        world = world
            .user(User::new(user.clone(), Platform::Messenger, PAGE_ID))
            .prior(PriorMessage::from_user(
                format!("m_q{i}"),
                &user,
                format!("question {i}"),
                t - DAY - (i as i64) * 60_000,
            ))
            .prior(PriorMessage::to_user(
                format!("m_a{i}"),
                &user,
                format!("answer {i}"),
                t - DAY - (i as i64) * 60_000 + 1_000,
            ));
    }
    world
}

async fn backfill_of(app: &Deployment, platform: &str) -> Value {
    let status = app.get("/status").await;
    status["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["platform"] == platform)
        .map(|a| a["backfill"].clone())
        .unwrap()
}

async fn backfill_done(app: &Deployment, platform: &str) -> Value {
    for _ in 0..250 {
        let progress = backfill_of(app, platform).await;
        if progress["state"] == "done" {
            return progress;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the backfill never finished: {:#}",
        backfill_of(app, platform).await
    );
}

/// Connecting imports the history once, with the right directions and times, while the
/// customer writes (a webhook for a new message, and one for a message also in the history);
/// a second backfill on demand imports nothing new.
async fn connecting_imports_history_once(adapter: Adapter) {
    let app = Deployment::start_with(
        adapter,
        world_with_history(3),
        BackfillOptions::new()
            .page_size(1)
            .page_delay(Duration::from_millis(5)),
    )
    .await;
    app.emulator
        .user_writes("6758492015640001", Inbound::text("still there?"))
        .await
        .unwrap();
    let progress = backfill_done(&app, "messenger").await;
    assert_eq!(progress["conversations"], 3, "{progress:#}");
    assert!(
        progress.get("cursor").is_none(),
        "the cursor stays internal"
    );
    assert!(progress["oldest_reached_ms"].as_i64().unwrap() > now() - 30 * DAY);
    let messages = app.messages_when("messenger", |m| m.len() == 7).await;
    let mut mids: Vec<&str> = messages
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    mids.sort_unstable();
    let len = mids.len();
    mids.dedup();
    assert_eq!(mids.len(), len, "each message once: {messages:#?}");
    assert!(!mids.contains(&"m_ancient"), "older than the horizon");
    let answer = messages.iter().find(|m| m["message_id"] == "m_a1").unwrap();
    assert_eq!(answer["direction"], "outbound");
    let question = messages.iter().find(|m| m["message_id"] == "m_q1").unwrap();
    assert_eq!(question["direction"], "inbound");
    assert_eq!(question["text"], "question 1");
    assert!(question["timestamp_ms"].as_i64().unwrap() < now() - DAY + 1_000);

    let (status, again) = app
        .post(
            &format!("/accounts/{PAGE_ID}/backfill?platform=messenger"),
            None,
        )
        .await;
    assert_eq!(status, 202, "{again:#}");
    assert_eq!(again["state"], "running");
    assert_eq!(again["platform"], "messenger");
    let done = backfill_done(&app, "messenger").await;
    assert_eq!(done["messages"], 0, "nothing new the second time: {done:#}");
    assert_eq!(
        app.messages_when("messenger", |m| m.len() == 7).await.len(),
        7
    );
    let (status, _) = app.post("/accounts/404/backfill", None).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_imports_history_once_through_axum() {
    connecting_imports_history_once(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_imports_history_once_through_actix() {
    connecting_imports_history_once(Adapter::Actix).await;
}

fn inbox_on(store: SqliteStore, graph: &str, options: BackfillOptions) -> Inbox {
    let graph = GraphClient::builder()
        .graph_url(graph)
        .retry(fast_retries())
        .build()
        .unwrap();
    Inbox::builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .verify_token(VerifyToken::new("verify"))
        .store(store)
        .graph(graph)
        .tenancy(Tenancy::Single("default".into()))
        .backfill(options)
        .build()
        .unwrap()
}

/// A backfill paused after one page (as a process stopped mid-way would leave it) resumes on
/// a new inbox over the same file from its cursor, and the history is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_resumes_after_a_restart() {
    let (emulator, _) = start_world(world_with_history(4)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    let tenant = TenantId::new("default");
    let page = AccountId::new(PAGE_ID);
    let options = BackfillOptions::new()
        .page_size(2)
        .page_delay(Duration::ZERO);
    {
        let store = SqliteStore::open(&path).await.unwrap();
        let account = NewAccount::new(Platform::Messenger, PAGE_ID)
            .with_token(AccountToken::Page(PageAccessToken::new(PAGE_TOKEN)), None);
        store.upsert_account(&tenant, &account).await.unwrap();
        let first = inbox_on(store, &emulator.url(), options.clone().max_pages(1));
        let paused = first
            .backfill(&tenant, Platform::Messenger, &page)
            .await
            .unwrap();
        assert_eq!(paused.state, BackfillState::Paused);
        assert_eq!(paused.conversations, 2);
        assert_eq!(paused.messages, 4);
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let second = inbox_on(store, &emulator.url(), options);
    let done = second
        .backfill(&tenant, Platform::Messenger, &page)
        .await
        .unwrap();
    assert_eq!(done.state, BackfillState::Done, "{done:?}");
    assert_eq!(
        done.conversations, 4,
        "resumed at the third conversation: {done:?}"
    );
    assert_eq!(
        done.messages, 8,
        "four new messages after the first four: {done:?}"
    );
    let stored = second
        .store()
        .count_messages(&tenant, &MessageQuery::new())
        .await
        .unwrap();
    assert_eq!(stored, 8);
}

/// Imported history arrives read, but for the messages Meta counts unread (the customer's
/// latest, unanswered), so the conversation waiting for an answer stands out; a picture in the
/// history is kept like a delivered one, and its copy serves the same bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_arrives_read_but_for_metas_unread_and_its_pictures_are_kept() {
    const WAITING: &str = "6758492015640099";
    let t = now();
    let photo: Vec<u8> = (0..2_048_u32).map(|i| (i * 13 % 251) as u8).collect();
    let sha256 = hex::encode(sha2::Sha256::digest(&photo));
    let world = world_with_history(2)
        .user(User::new(WAITING, Platform::Messenger, PAGE_ID))
        .prior(PriorMessage::from_user(
            "m_w1",
            WAITING,
            "hello?",
            t - 2 * DAY,
        ))
        .prior(PriorMessage::to_user(
            "m_w2",
            WAITING,
            "hi! how can we help",
            t - 2 * DAY + 1_000,
        ))
        .prior(PriorMessage::from_user(
            "m_w3",
            WAITING,
            "my order is late",
            t - DAY,
        ))
        .prior(
            PriorMessage::from_user("m_w4", WAITING, "here is the label", t - DAY + 1_000)
                .with_picture("image/png", photo.clone()),
        );
    let app = Deployment::start_with(
        Adapter::Axum,
        world,
        BackfillOptions::new().page_delay(Duration::ZERO),
    )
    .await;
    backfill_done(&app, "messenger").await;

    let conversations = app.get("/conversations?platform=messenger").await;
    let unread: Vec<(String, u64)> = conversations["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["participant_id"].as_str().unwrap().to_owned(),
                c["unread_count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(unread.len(), 3, "{conversations:#}");
    for (participant, count) in &unread {
        let expected = if participant == WAITING { 2 } else { 0 };
        assert_eq!(*count, expected, "{participant}: {conversations:#}");
    }

    let messages = app
        .messages_when("messenger", |m| {
            m.iter()
                .any(|m| m["message_id"] == "m_w4" && m["attachments"][0]["stored"] == true)
        })
        .await;
    let read_of = |mid: &str| {
        let m = messages.iter().find(|m| m["message_id"] == mid).unwrap();
        m["read_at_ms"].as_i64()
    };
    assert!(read_of("m_w1").is_some(), "answered history arrives read");
    assert!(read_of("m_q0").is_some(), "answered history arrives read");
    assert_eq!(read_of("m_w3"), None, "Meta counts it unread");
    assert_eq!(read_of("m_w4"), None, "Meta counts it unread");
    let picture = &messages.iter().find(|m| m["message_id"] == "m_w4").unwrap()["attachments"][0];
    assert_eq!(picture["sha256"], sha256.as_str(), "{picture}");
    let media_url = format!(
        "{}{}",
        app.base.strip_suffix(PREFIX).unwrap(),
        picture["media_url"].as_str().unwrap()
    );
    let kept = app.http.get(&media_url).send().await.unwrap();
    assert_eq!(kept.status(), 200);
    assert_eq!(kept.headers()["content-type"], "image/png");
    let body = kept.bytes().await.unwrap();
    assert_eq!(hex::encode(sha2::Sha256::digest(&body)), sha256);
}

/// A backfill that a stop of the process interrupted (saved as running) resumes by itself when
/// a new inbox starts over the same file, from its cursor; one whose account is gone is saved
/// as failed with the reason, rather than tried at every start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_backfill_resumes_when_the_inbox_starts() {
    let (emulator, _) = start_world(world_with_history(4)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox.db");
    let tenant = TenantId::new("default");
    let page = AccountId::new(PAGE_ID);
    let options = BackfillOptions::new()
        .page_size(2)
        .page_delay(Duration::ZERO);
    let gone = AccountId::new("104417552389999");
    {
        let store = SqliteStore::open(&path).await.unwrap();
        let account = NewAccount::new(Platform::Messenger, PAGE_ID)
            .with_token(AccountToken::Page(PageAccessToken::new(PAGE_TOKEN)), None);
        store.upsert_account(&tenant, &account).await.unwrap();
        let first = inbox_on(
            store,
            &emulator.url(),
            options.clone().max_pages(1).resume_on_start(false),
        );
        let mut stopped = first
            .backfill(&tenant, Platform::Messenger, &page)
            .await
            .unwrap();
        assert_eq!(stopped.conversations, 2);
        // What a process stopped mid-run leaves behind.
        stopped.state = BackfillState::Running;
        first
            .store()
            .save_backfill(&tenant, &stopped)
            .await
            .unwrap();
        let orphan = BackfillProgress::start(Platform::Messenger, gone.clone(), 0, now());
        first.store().save_backfill(&tenant, &orphan).await.unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let second = inbox_on(store, &emulator.url(), options);
    let mut resumed = None;
    for _ in 0..250 {
        let progress = second
            .store()
            .backfill_progress(&tenant, Platform::Messenger, &page)
            .await
            .unwrap()
            .unwrap();
        if progress.state == BackfillState::Done {
            resumed = Some(progress);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let resumed = resumed.expect("the interrupted backfill was resumed");
    assert_eq!(resumed.conversations, 4, "from its cursor: {resumed:?}");
    assert_eq!(resumed.messages, 8, "{resumed:?}");
    let stored = second
        .store()
        .count_messages(&tenant, &MessageQuery::new())
        .await
        .unwrap();
    assert_eq!(stored, 8, "each message once");
    let orphan = second
        .store()
        .backfill_progress(&tenant, Platform::Messenger, &gone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(orphan.state, BackfillState::Failed, "{orphan:?}");
    assert!(orphan.error.unwrap().contains("no longer connected"));
    assert!(
        second
            .store()
            .interrupted_backfills()
            .await
            .unwrap()
            .is_empty(),
        "nothing is left running"
    );
}
