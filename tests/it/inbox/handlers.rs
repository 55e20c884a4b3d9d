//! Event handlers driven from the store's durable queue: once per event (a redelivery runs
//! nothing), retried with backoff, in order per conversation, resumed after a crash, and
//! shared by two instances on one PostgreSQL database.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meta_messaging_core::ids::TenantId;
use meta_messaging_core::inbox::{
    EventHandler, HandlerError, HandlerEvent, HandlerOptions, Inbox, Tenancy,
};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{
    MessageStore, NewAccount, PostgresOptions, PostgresStore, SqliteStore,
};
use meta_messaging_core::webhook::{DeliveryBuilder, EventDetails};

use crate::support::graph_mock::{APP_SECRET, PAGE_ID};
use crate::support::inbox::{VERIFY_TOKEN, delivery, tenant};
use crate::support::postgres as pg;

/// Fast leases and retries, so each case runs in a second or two.
fn fast() -> HandlerOptions {
    let mut options = HandlerOptions::default();
    options.lease = Duration::from_secs(1);
    options.first_retry_delay = Duration::from_millis(100);
    options.max_retry_delay = Duration::from_secs(1);
    options.poll_interval = Duration::from_millis(50);
    options
}

fn inbox(
    store: Arc<dyn MessageStore>,
    tenancy: Tenancy,
    handler: impl EventHandler,
    options: HandlerOptions,
) -> Inbox {
    Inbox::builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .verify_token(VerifyToken::new(VERIFY_TOKEN))
        .store(store)
        .tenancy(tenancy)
        .handler(handler)
        .handler_options(options)
        .build()
        .unwrap()
}

async fn sqlite(path: &Path) -> Arc<dyn MessageStore> {
    Arc::new(SqliteStore::open(path).await.unwrap())
}

/// Waits until `done` holds, for at most 30 s: a bound for a stuck runner, not a speed check
/// (alone these cases take 2-3 s; among the whole suite on two cores, more than 8).
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Which runs fail: by the event's text and the attempt.
type FailWhen = Box<dyn Fn(&str, u32) -> bool + Send + Sync>;

/// The instances that ran each (tenant, seq).
type RunsByEvent = Arc<Mutex<HashMap<(TenantId, u64), Vec<usize>>>>;

/// The handler's cursor for the test tenant once it reached `seq` (or after 8 s, as it is).
async fn cursor_at(store: &dyn MessageStore, handler: &str, seq: u64) -> (u64, u32) {
    let start = Instant::now();
    loop {
        let cursor = store.handler_cursor(handler, &tenant()).await.unwrap();
        let now = cursor.map_or((0, 0), |c| (c.cursor, c.attempts));
        if now.0 >= seq || start.elapsed() > Duration::from_secs(8) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Records each run: the event's text, its seq, its attempt, when; fails the runs `fail` says.
struct Recorder {
    name: &'static str,
    runs: Mutex<Vec<(String, u64, u32, Instant)>>,
    fail: FailWhen,
}

impl Recorder {
    fn new(name: &'static str) -> Arc<Self> {
        Self::failing(name, |_, _| false)
    }

    fn failing(
        name: &'static str,
        fail: impl Fn(&str, u32) -> bool + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            name,
            runs: Mutex::new(Vec::new()),
            fail: Box::new(fail),
        })
    }

    fn runs(&self) -> Vec<(String, u64, u32, Instant)> {
        self.runs.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl EventHandler for Recorder {
    fn name(&self) -> &str {
        self.name
    }

    async fn handle(&self, _inbox: &Inbox, event: &HandlerEvent) -> Result<(), HandlerError> {
        let text = event.event.text().unwrap_or_default().to_owned();
        self.runs
            .lock()
            .unwrap()
            .push((text.clone(), event.seq, event.attempt, Instant::now()));
        if (self.fail)(&text, event.attempt) {
            return Err(format!("{text} failed on attempt {}", event.attempt).into());
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_delivery_runs_the_handler_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir.path().join("store.db")).await;
    let recorder = Recorder::new("once");
    let inbox = inbox(
        store.clone(),
        Tenancy::Single(tenant()),
        recorder.clone(),
        fast(),
    );
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, "u1", "hello");
    inbox.receive(Some(&signature), &body).await.unwrap();
    inbox.receive(Some(&signature), &body).await.unwrap();
    let (other, other_signature) = delivery(Platform::Messenger, PAGE_ID, "u1", "again");
    inbox.receive(Some(&other_signature), &other).await.unwrap();
    inbox.receive(Some(&signature), &body).await.unwrap();
    eventually("both events ran", || recorder.runs().len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let texts: Vec<String> = recorder.runs().into_iter().map(|r| r.0).collect();
    assert_eq!(texts, ["hello", "again"]);
    assert_eq!(cursor_at(store.as_ref(), "once", 2).await, (2, 0));
    assert!(
        inbox
            .shutdown(Duration::from_secs(1))
            .await
            .handlers_stopped
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_is_retried_with_backoff_until_it_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir.path().join("store.db")).await;
    // The first event fails three times; the other conversation's event is not held up.
    let recorder = Recorder::failing("retry", |text, attempt| text == "flaky" && attempt <= 3);
    let inbox = inbox(
        store.clone(),
        Tenancy::Single(tenant()),
        recorder.clone(),
        fast(),
    );
    let (body, signature) = DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
        .text("u1", "flaky")
        .text("u1", "after flaky")
        .text("u2", "other customer")
        .signed(&AppSecret::new(APP_SECRET));
    inbox.receive(Some(&signature), &body).await.unwrap();
    eventually("the flaky event succeeded, then the next", || {
        recorder.runs().iter().any(|r| r.0 == "after flaky")
    })
    .await;
    let runs = recorder.runs();
    let flaky: Vec<_> = runs.iter().filter(|r| r.0 == "flaky").collect();
    assert_eq!(
        flaky.iter().map(|r| r.2).collect::<Vec<_>>(),
        [1, 2, 3, 4],
        "{runs:?}"
    );
    // 100 ms, 200 ms, 400 ms between attempts (doubling), give or take the polling.
    let gaps: Vec<Duration> = flaky.windows(2).map(|w| w[1].3 - w[0].3).collect();
    for (gap, least) in gaps.iter().zip([100, 200, 400]) {
        assert!(
            *gap >= Duration::from_millis(least),
            "retried after {gap:?}, before {least} ms"
        );
    }
    // "after flaky" waited for "flaky" (same conversation) and ran once it succeeded.
    let after: Vec<_> = runs.iter().filter(|r| r.0 == "after flaky").collect();
    assert!(after[0].3 > flaky[3].3);
    assert!(runs.iter().any(|r| r.0 == "other customer"));
    assert_eq!(cursor_at(store.as_ref(), "retry", 3).await, (3, 0));
    assert!(
        inbox
            .shutdown(Duration::from_secs(1))
            .await
            .handlers_stopped
    );
}

/// Records, per customer, the order it saw their messages, and the most it ran at once.
struct Ordered {
    seen: Mutex<HashMap<String, Vec<usize>>>,
    running: AtomicUsize,
    most: AtomicUsize,
}

#[async_trait::async_trait]
impl EventHandler for Ordered {
    async fn handle(&self, _inbox: &Inbox, event: &HandlerEvent) -> Result<(), HandlerError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        let user = event.event.sender_id.clone().unwrap().to_string();
        let n: usize = event.event.text().unwrap_or_default().parse()?;
        // Later messages finish faster: a wrong order would show.
        tokio::time::sleep(Duration::from_millis(30 - n as u64)).await;
        self.seen.lock().unwrap().entry(user).or_default().push(n);
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_run_in_order_per_conversation_with_bounded_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir.path().join("store.db")).await;
    let handler = Arc::new(Ordered {
        seen: Mutex::new(HashMap::new()),
        running: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
    });
    let mut options = fast();
    options.concurrency = 3;
    let inbox = inbox(store, Tenancy::Single(tenant()), handler.clone(), options);
    let users = ["u1", "u2", "u3", "u4", "u5"];
    let mut builder = DeliveryBuilder::new(Platform::Messenger, PAGE_ID);
    for n in 0..10 {
        for user in users {
            builder = builder.text(user, &n.to_string());
        }
    }
    let (body, signature) = builder.signed(&AppSecret::new(APP_SECRET));
    inbox.receive(Some(&signature), &body).await.unwrap();
    eventually("every event ran", || {
        handler
            .seen
            .lock()
            .unwrap()
            .values()
            .map(Vec::len)
            .sum::<usize>()
            == 50
    })
    .await;
    for (user, seen) in handler.seen.lock().unwrap().iter() {
        assert_eq!(
            *seen,
            (0..10).collect::<Vec<_>>(),
            "{user}'s messages out of order"
        );
    }
    let most = handler.most.load(Ordering::SeqCst);
    assert!((2..=3).contains(&most), "ran {most} at once");
}

/// Blocks on its first event until the test ends (a handler stuck when the process dies).
struct Stuck {
    started: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl EventHandler for Stuck {
    fn name(&self) -> &str {
        "resumable"
    }

    async fn handle(&self, _inbox: &Inbox, _event: &HandlerEvent) -> Result<(), HandlerError> {
        self.started.notify_one();
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_mid_event_a_new_instance_runs_it_again_and_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let stuck = Arc::new(Stuck {
        started: tokio::sync::Notify::new(),
    });
    let first = inbox(
        sqlite(&path).await,
        Tenancy::Single(tenant()),
        stuck.clone(),
        fast(),
    );
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, "u1", "interrupted");
    first.receive(Some(&signature), &body).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), stuck.started.notified())
        .await
        .expect("the handler started");
    // The handler never finishes: shutting down gives up on it, as a crash would.
    assert!(
        !first
            .shutdown(Duration::from_millis(100))
            .await
            .handlers_stopped
    );
    drop(first);

    let store = sqlite(&path).await;
    let resumed = Recorder::new("resumable");
    let started = Instant::now();
    let second = inbox(
        store.clone(),
        Tenancy::Single(tenant()),
        resumed.clone(),
        fast(),
    );
    eventually("the interrupted event ran again", || {
        !resumed.runs().is_empty()
    })
    .await;
    // Not before the first instance's lease ended.
    assert!(started.elapsed() >= Duration::from_millis(500));
    let runs = resumed.runs();
    assert_eq!((runs[0].0.as_str(), runs[0].1), ("interrupted", 1));
    assert_eq!(cursor_at(store.as_ref(), "resumable", 1).await, (1, 0));
    assert!(
        second
            .shutdown(Duration::from_secs(1))
            .await
            .handlers_stopped
    );
    assert_eq!(resumed.runs().len(), 1);
}

/// Counts the runs of each (tenant, seq), across instances.
struct Shared {
    instance: usize,
    runs: RunsByEvent,
}

#[async_trait::async_trait]
impl EventHandler for Shared {
    fn name(&self) -> &str {
        "shared"
    }

    async fn handle(&self, _inbox: &Inbox, event: &HandlerEvent) -> Result<(), HandlerError> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.runs
            .lock()
            .unwrap()
            .entry((event.tenant_id.clone(), event.seq))
            .or_default()
            .push(self.instance);
        Ok(())
    }
}

/// Records which instance ran each event, after taking `delay` over it.
struct Slow {
    instance: usize,
    delay: Duration,
    runs: RunsByEvent,
}

#[async_trait::async_trait]
impl EventHandler for Slow {
    fn name(&self) -> &str {
        "slow"
    }

    async fn handle(&self, _inbox: &Inbox, event: &HandlerEvent) -> Result<(), HandlerError> {
        self.runs
            .lock()
            .unwrap()
            .entry((event.tenant_id.clone(), event.seq))
            .or_default()
            .push(self.instance);
        tokio::time::sleep(self.delay).await;
        Ok(())
    }
}

/// A batch that takes several times its lease (one conversation's events run one after the
/// other, each slower than the lease) keeps its lease: the other instance, polling all along,
/// never runs them a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_longer_than_its_lease_keeps_it_and_runs_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir.path().join("inbox.db")).await;
    let runs: RunsByEvent = Arc::new(Mutex::new(HashMap::new()));
    let mut options = fast();
    options.lease = Duration::from_millis(300);
    options.poll_interval = Duration::from_millis(20);
    let instances: Vec<Inbox> = (0..2)
        .map(|instance| {
            let handler = Slow {
                instance,
                delay: Duration::from_millis(400),
                runs: Arc::clone(&runs),
            };
            inbox(
                Arc::clone(&store),
                Tenancy::Single(tenant()),
                handler,
                options.clone(),
            )
        })
        .collect();
    for n in 0..4 {
        let (body, signature) = delivery(Platform::Messenger, PAGE_ID, "u1", &format!("m{n}"));
        instances[0].receive(Some(&signature), &body).await.unwrap();
    }
    eventually("every event ran", || runs.lock().unwrap().len() == 4).await;
    // Past the batch's end and another lease: time for a second run, were there one.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let runs = runs.lock().unwrap().clone();
    for (event, by) in &runs {
        assert_eq!(by.len(), 1, "{event:?} ran {} times, by {by:?}", by.len());
    }
    assert_eq!(cursor_at(store.as_ref(), "slow", 4).await, (4, 0));
    for inbox in instances {
        assert!(
            inbox
                .shutdown(Duration::from_secs(3))
                .await
                .handlers_stopped
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_database_run_each_event_once() {
    let Some(url) = pg::url() else { return };
    let schema = pg::fresh_schema("mm_handlers");
    let connect = || async {
        let store = PostgresStore::connect_with(PostgresOptions::new(&url).schema(&schema))
            .await
            .unwrap();
        Arc::new(store) as Arc<dyn MessageStore>
    };
    let (a, b) = (connect().await, connect().await);
    let case = async move {
        // Four tenants, one Page each, so both instances have tenants to take.
        let pages: Vec<(TenantId, String)> = (0..4)
            .map(|i| (TenantId::new(format!("t{i}")), format!("9000{i}")))
            .collect();
        for (tenant, page) in &pages {
            a.upsert_account(tenant, &NewAccount::new(Platform::Messenger, page.as_str()))
                .await
                .unwrap();
        }
        let runs = Arc::new(Mutex::new(HashMap::new()));
        let instances: Vec<Inbox> = [a, b]
            .into_iter()
            .enumerate()
            .map(|(instance, store)| {
                let handler = Shared {
                    instance,
                    runs: Arc::clone(&runs),
                };
                inbox(store, Tenancy::Multi, handler, fast())
            })
            .collect();
        for n in 0..40 {
            let (_, page) = &pages[n % pages.len()];
            let (body, signature) = delivery(
                Platform::Messenger,
                page,
                &format!("u{}", n % 3),
                &format!("m{n}"),
            );
            instances[n % 2]
                .receive(Some(&signature), &body)
                .await
                .unwrap();
        }
        eventually("every event ran", || runs.lock().unwrap().len() == 40).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let runs = runs.lock().unwrap().clone();
        assert_eq!(runs.len(), 40);
        let mut per_instance = [0, 0];
        for (event, by) in &runs {
            assert_eq!(by.len(), 1, "{event:?} ran {} times", by.len());
            per_instance[by[0]] += 1;
        }
        println!("events run per instance: {per_instance:?}");
        for inbox in instances {
            assert!(
                inbox
                    .shutdown(Duration::from_secs(2))
                    .await
                    .handlers_stopped
            );
        }
    };
    pg::in_schema(&url, &schema, case).await;
}

/// Messages delivered in `standby[]` (another app owned the thread) are kept in the inbox but
/// never reach the handlers; the next message of the app's own thread does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_messages_are_stored_but_not_handled() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir.path().join("store.db")).await;
    let recorder = Recorder::new("standby");
    let inbox = inbox(
        store.clone(),
        Tenancy::Single(tenant()),
        recorder.clone(),
        fast(),
    );
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/webhooks/messenger_standby.json"
    );
    let standby = std::fs::read(file).unwrap();
    let signature = meta_messaging_core::webhook::sign(&AppSecret::new(APP_SECRET), &standby);
    inbox.receive(Some(&signature), &standby).await.unwrap();
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, "u1", "hello");
    inbox.receive(Some(&signature), &body).await.unwrap();
    eventually("the owned message ran", || !recorder.runs().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let texts: Vec<String> = recorder.runs().into_iter().map(|r| r.0).collect();
    assert_eq!(texts, ["hello"], "standby events never reach a handler");
    let kept = store
        .find_message(
            &tenant(),
            Platform::Messenger,
            &meta_messaging_core::ids::MessageId::from(
                "m_3aJ4IKCKDkNsosLo-doZDDhpuPuoJGmksIXY0mtGuZkyXoSgbDwzl9Il4MU0_qe6x8UT_WKueUdECH3f6s_iAG",
            ),
        )
        .await
        .unwrap()
        .expect("the standby message is kept");
    assert_eq!(kept.text.as_deref(), Some("Is anyone there?"));
    assert!(
        inbox
            .shutdown(Duration::from_secs(1))
            .await
            .handlers_stopped
    );
}

/// Records each event's text and the owner its handler saw.
struct Owners(Mutex<Vec<(String, bool)>>);

#[async_trait::async_trait]
impl EventHandler for Owners {
    fn name(&self) -> &str {
        "owners"
    }

    async fn handle(&self, _inbox: &Inbox, event: &HandlerEvent) -> Result<(), HandlerError> {
        let text = event.event.text().unwrap_or_default().to_owned();
        self.0.lock().unwrap().push((text, event.bot_answers()));
        Ok(())
    }
}

/// Once a person took a conversation over, its events reach the handlers marked as not the
/// bot's; handed back, they are the bot's again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_see_who_owns_the_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir.path().join("store.db")).await;
    let owners = Arc::new(Owners(Mutex::new(Vec::new())));
    let inbox = inbox(
        store.clone(),
        Tenancy::Single(tenant()),
        owners.clone(),
        fast(),
    );
    let seen = || owners.0.lock().unwrap().clone();
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, "u1", "first");
    inbox.receive(Some(&signature), &body).await.unwrap();
    eventually("first ran", || seen().len() == 1).await;
    let id = store
        .find_conversation(
            &tenant(),
            Platform::Messenger,
            &PAGE_ID.into(),
            &"u1".into(),
        )
        .await
        .unwrap()
        .unwrap()
        .id;
    inbox.take_over(&tenant(), id).await.unwrap();
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, "u1", "to a person");
    inbox.receive(Some(&signature), &body).await.unwrap();
    eventually("second ran", || seen().len() == 2).await;
    inbox.hand_back(&tenant(), id).await.unwrap();
    let (body, signature) = delivery(Platform::Messenger, PAGE_ID, "u1", "to the bot");
    inbox.receive(Some(&signature), &body).await.unwrap();
    eventually("third ran", || seen().len() == 3).await;
    assert_eq!(
        seen(),
        [
            ("first".to_owned(), true),
            ("to a person".to_owned(), false),
            ("to the bot".to_owned(), true)
        ]
    );
    assert!(
        inbox
            .shutdown(Duration::from_secs(1))
            .await
            .handlers_stopped
    );
}

/// Records the postbacks a handler sees: (title, payload).
struct Postbacks(Mutex<Vec<(Option<String>, Option<String>)>>);

#[async_trait::async_trait]
impl EventHandler for Postbacks {
    fn name(&self) -> &str {
        "postbacks"
    }

    async fn handle(&self, _inbox: &Inbox, event: &HandlerEvent) -> Result<(), HandlerError> {
        if let EventDetails::Postback(postback) = &event.event.details {
            let tap = (postback.title.clone(), postback.payload.clone());
            self.0.lock().unwrap().push(tap);
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_buttons_postback_reaches_handlers_with_its_title_and_payload() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir.path().join("store.db")).await;
    let postbacks = Arc::new(Postbacks(Mutex::new(Vec::new())));
    let inbox = inbox(store, Tenancy::Single(tenant()), postbacks.clone(), fast());
    // A `messaging_postbacks` delivery, as Meta sends it when a template's postback button
    // is tapped.
    let (body, signature) = DeliveryBuilder::new(Platform::Messenger, PAGE_ID)
        .messaging_event(serde_json::json!({
            "sender": {"id": "24817365029481736"},
            "recipient": {"id": PAGE_ID},
            "timestamp": 1733412520408i64,
            "postback": {
                "title": "Start Chatting",
                "payload": "DEVELOPER_DEFINED_PAYLOAD",
                "mid": "m_postback_1",
            },
        }))
        .signed(&AppSecret::new(APP_SECRET));
    inbox.receive(Some(&signature), &body).await.unwrap();
    eventually("the postback ran", || {
        !postbacks.0.lock().unwrap().is_empty()
    })
    .await;
    assert_eq!(
        postbacks.0.lock().unwrap().clone(),
        [(
            Some("Start Chatting".to_owned()),
            Some("DEVELOPER_DEFINED_PAYLOAD".to_owned())
        )]
    );
    assert!(
        inbox
            .shutdown(Duration::from_secs(1))
            .await
            .handlers_stopped
    );
}
