//! Live updates: the tenant's change log, followed.
//!
//! One follower task per tenant with subscribers in this process broadcasts the tenant's
//! changes, in batches, to its subscribers. A commit here that knew its changes whole (a group
//! commit of new messages does) hands them over with its notice, and the follower broadcasts
//! them as they are, with no read; otherwise (another instance's notice through the fan-out,
//! a notice without its changes or a missed one, a hole between two commits' changes) it reads
//! the log from where it is. A subscriber that misses a batch (it fell behind, or joined
//! between two) reads the log itself from where it is, so it never skips a change and never
//! sees one twice. Ingestion never waits for any of this.

use crate::telemetry::record as telemetry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::Stream;
use serde::Serialize;
use tokio::sync::{Notify, broadcast};

use crate::error::ErrorChain;
use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use crate::store::{
    Change, ChangeNotice, ChangeSubject, Conversation, MessageStore, StoreError, StoredMessage,
};

/// How many changes one read of the log takes.
const READ_PAGE: u32 = 500;
/// How many commits' changes wait for a follower that is busy before it forgets them and
/// reads the log instead.
const MAX_CARRIED: usize = 256;
/// The wait before reading the log again after a read failed (the database restarting, say):
/// the changes are still there, so followers and subscribers retry instead of giving up.
const READ_RETRY: Duration = Duration::from_millis(500);

/// How long a follower waits before reading the log when nothing woke it, when other
/// instances write to the same store: a safety net for a lost fan-out notice.
#[cfg(feature = "postgres")]
pub(crate) const SHARED_STORE_POLL: Duration = Duration::from_secs(2);

/// A change in a tenant's inbox, as sent to live subscribers (and, in JSON, over Server-Sent
/// Events: the `type` is the SSE event name).
///
/// Messages in live events never carry [`StoredMessage::raw_event`]: Meta's raw JSON can hold
/// other people's data (a shared post's author, a referral's ad), and every subscriber of the
/// tenant gets every event. Read it from the store
/// ([`MessageQuery::include_raw`](crate::store::MessageQuery::include_raw)) where it is needed.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum InboxEvent {
    /// A message was stored for the first time (inbound, an echo of a message sent elsewhere,
    /// or sent through the inbox: once, whatever copies of it arrive later).
    MessageStored {
        /// The message as the change left it (read back from the log: as it is now).
        message: Box<StoredMessage>,
    },
    /// A stored message changed: an echo merged, a reaction, an edit, a deletion, a receipt.
    MessageUpdated {
        /// The message as the change left it (read back from the log: as it is now).
        message: Box<StoredMessage>,
    },
    /// A conversation's preview, unread count or state changed.
    ConversationUpdated {
        /// The conversation as the change left it (read back from the log: as it is now).
        conversation: Box<Conversation>,
    },
    /// An account was connected or updated, or its status changed.
    AccountUpdated {
        /// Messenger or Instagram.
        platform: Platform,
        /// The Page or Instagram account.
        account_id: AccountId,
    },
    /// This subscriber cannot be brought up to date without a gap: the changes after its
    /// place were pruned, or the log could not be read. The stream ends after this notice;
    /// reload the inbox and subscribe again (from the current head).
    Reset,
}

impl InboxEvent {
    /// The event's `type`: `message_stored`, `message_updated`, `conversation_updated`,
    /// `account_updated`, `reset`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MessageStored { .. } => "message_stored",
            Self::MessageUpdated { .. } => "message_updated",
            Self::ConversationUpdated { .. } => "conversation_updated",
            Self::AccountUpdated { .. } => "account_updated",
            Self::Reset => "reset",
        }
    }

    fn of(subject: ChangeSubject) -> Self {
        match subject {
            ChangeSubject::MessageStored(message) => Self::MessageStored { message },
            ChangeSubject::MessageUpdated(message) => Self::MessageUpdated { message },
            ChangeSubject::ConversationUpdated(conversation) => {
                Self::ConversationUpdated { conversation }
            }
            ChangeSubject::AccountChanged {
                platform,
                account_id,
            } => Self::AccountUpdated {
                platform,
                account_id,
            },
        }
    }
}

/// One live event and its place in the tenant's change log (the SSE `id`).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LiveEvent {
    /// The change's sequence number; for [`InboxEvent::Reset`], the subscriber's last place.
    pub seq: u64,
    /// What changed.
    pub event: InboxEvent,
}

impl LiveEvent {
    fn of(change: Change) -> Self {
        let mut event = InboxEvent::of(change.subject);
        if let InboxEvent::MessageStored { message } | InboxEvent::MessageUpdated { message } =
            &mut event
        {
            message.raw_event = None;
        }
        Self {
            seq: change.seq,
            event,
        }
    }
}

/// What a follower broadcasts: the changes `(after, upto]` of the log.
#[derive(Debug)]
struct Batch {
    after: u64,
    upto: u64,
    events: Vec<Arc<LiveEvent>>,
}

/// A tenant followed in this process.
#[derive(Debug)]
struct Feed {
    tx: broadcast::Sender<Arc<Batch>>,
    wake: Arc<Notify>,
    told: Arc<Mutex<Told>>,
}

impl Feed {
    /// Tells the follower to read the log, and wakes it.
    fn read_log(&self) {
        lock(&self.told).read_log = true;
        self.wake.notify_one();
    }
}

/// What a follower was told since it last looked.
#[derive(Debug, Default)]
struct Told {
    /// Commits' changes, in the order their notices came.
    carried: VecDeque<Arc<[Change]>>,
    /// The log holds changes these do not: read it.
    read_log: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section is one push, take or flag: a panic cannot leave the value
    // inconsistent.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The followers of this process's subscribed tenants.
#[derive(Debug)]
pub(crate) struct LiveHub {
    store: Arc<dyn MessageStore>,
    capacity: usize,
    /// Set when other instances write to the store: followers also read the log this often.
    poll: Option<Duration>,
    feeds: Mutex<HashMap<TenantId, Feed>>,
}

impl LiveHub {
    pub(crate) fn new(store: Arc<dyn MessageStore>, capacity: usize) -> Self {
        Self {
            store,
            capacity: capacity.max(1),
            poll: None,
            feeds: Mutex::new(HashMap::new()),
        }
    }

    /// Followers read the log at least every `poll`, woken or not.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn polling(mut self, poll: Duration) -> Self {
        self.poll = Some(poll);
        self
    }

    /// Wakes the tenant's follower, if it has one, to read the log: it grew (on another
    /// instance).
    #[cfg(feature = "postgres")]
    pub(crate) fn wake(&self, tenant: &TenantId) {
        if let Some(feed) = self.lock().get(tenant) {
            feed.read_log();
        }
    }

    /// Hands a commit's changes to the tenant's follower, if it has one, or wakes it to read
    /// the log when the notice does not carry them.
    pub(crate) fn heard(&self, notice: &ChangeNotice) {
        let feeds = self.lock();
        let Some(feed) = feeds.get(&notice.tenant_id) else {
            return;
        };
        match &notice.changes {
            Some(changes) => {
                let mut told = lock(&feed.told);
                if told.carried.len() >= MAX_CARRIED {
                    told.carried.clear();
                    told.read_log = true;
                }
                told.carried.push_back(Arc::clone(changes));
                drop(told);
                feed.wake.notify_one();
            }
            None => feed.read_log(),
        }
    }

    /// Wakes every follower to read its log: notices may have been missed.
    pub(crate) fn wake_all(&self) {
        for feed in self.lock().values() {
            feed.read_log();
        }
    }

    /// A subscription from `last` on, unless `max` is given and the tenant already has that
    /// many open here; a new follower starts at `head`.
    fn join(
        self: &Arc<Self>,
        tenant: &TenantId,
        (last, head): (u64, u64),
        max: Option<usize>,
    ) -> Option<Subscription> {
        let mut feeds = self.lock();
        let feed = feeds.entry(tenant.clone()).or_insert_with(|| {
            let (tx, _) = broadcast::channel(self.capacity);
            let wake = Arc::new(Notify::new());
            let told = Arc::new(Mutex::new(Told::default()));
            let follower = Follower {
                _following: Following::new(Arc::clone(&self.store)),
                hub: Arc::downgrade(self),
                tenant: tenant.clone(),
                cursor: head,
                tx: tx.clone(),
                wake: Arc::clone(&wake),
                told: Arc::clone(&told),
                poll: self.poll,
            };
            tokio::spawn(follower.run());
            Feed { tx, wake, told }
        });
        if max.is_some_and(|max| feed.tx.receiver_count() >= max) {
            return None;
        }
        telemetry::sse_subscribers(1.0);
        Some(Subscription {
            rx: feed.tx.subscribe(),
            wake: Arc::clone(&feed.wake),
            store: Arc::clone(&self.store),
            tenant: tenant.clone(),
            last,
            catch_up: false,
            pending: VecDeque::new(),
            ended: false,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Feed>> {
        lock(&self.feeds)
    }
}

/// A follower running, as the store knows it: from its start to its end (whatever ends it)
/// the store hands its commits' changes over with its notices.
struct Following(Arc<dyn MessageStore>);

impl Following {
    fn new(store: Arc<dyn MessageStore>) -> Self {
        store.follow_changes(true);
        Self(store)
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        self.0.follow_changes(false);
    }
}

/// Follows a tenant's log for this process's subscribers, until none is left.
struct Follower {
    _following: Following,
    hub: Weak<LiveHub>,
    tenant: TenantId,
    cursor: u64,
    tx: broadcast::Sender<Arc<Batch>>,
    wake: Arc<Notify>,
    told: Arc<Mutex<Told>>,
    poll: Option<Duration>,
}

impl Follower {
    async fn run(mut self) {
        loop {
            // A permit left by a wake-up during the last read makes this return at once.
            let polled = match self.poll {
                Some(poll) => tokio::time::timeout(poll, self.wake.notified())
                    .await
                    .is_err(),
                None => {
                    self.wake.notified().await;
                    false
                }
            };
            let Some(hub) = self.hub.upgrade() else {
                return;
            };
            if self.tx.receiver_count() == 0 {
                let mut feeds = hub.lock();
                // Checked again under the lock: a subscriber may have just joined.
                if self.tx.receiver_count() == 0 {
                    feeds.remove(&self.tenant);
                    return;
                }
            }
            let store = Arc::clone(&hub.store);
            drop(hub);
            if (self.publish_carried() || polled) && !self.read(store.as_ref()).await {
                tokio::time::sleep(READ_RETRY).await;
                lock(&self.told).read_log = true;
                self.wake.notify_one();
            }
        }
    }

    /// Broadcasts the changes commits handed over that follow on from the cursor; `true` when
    /// the log must be read: told so, or changes are missing before some handed over.
    fn publish_carried(&mut self) -> bool {
        let Told {
            carried,
            mut read_log,
        } = std::mem::take(&mut *lock(&self.told));
        for changes in carried {
            match (changes.first(), changes.last()) {
                (Some(first), Some(last)) if first.seq == self.cursor + 1 => {
                    let events = changes
                        .iter()
                        .map(|c| Arc::new(LiveEvent::of(c.clone())))
                        .collect();
                    self.broadcast(last.seq, events);
                }
                // Already read from the log, or an empty commit.
                (_, Some(last)) if last.seq <= self.cursor => {}
                (None, _) => {}
                // Another commit's changes come between: the log has them.
                _ => read_log = true,
            }
        }
        read_log
    }

    /// Broadcasts the changes after the cursor up to `upto`.
    fn broadcast(&mut self, upto: u64, events: Vec<Arc<LiveEvent>>) {
        let batch = Batch {
            after: self.cursor,
            upto,
            events,
        };
        // No receiver left: the next turn ends the follower.
        let _ = self.tx.send(Arc::new(batch));
        self.cursor = upto;
    }

    /// Reads the log after the cursor to its head and broadcasts it; `false` when a read
    /// failed, to be tried again.
    async fn read(&mut self, store: &dyn MessageStore) -> bool {
        loop {
            let page = match store
                .changes_after(&self.tenant, self.cursor, READ_PAGE)
                .await
            {
                Ok(page) => page,
                Err(err) => {
                    tracing::warn!(error = %ErrorChain(&err), tenant = %self.tenant, "live events: reading the change log failed; reading again shortly");
                    return false;
                }
            };
            if page.gap {
                // Subscribers behind the gap find it when they read the log themselves.
                self.cursor = page.head;
                return true;
            }
            let more = page.has_more();
            let upto = page.changes.last().map_or(self.cursor, |c| c.seq);
            if upto > self.cursor {
                let events = page
                    .changes
                    .into_iter()
                    .map(|c| Arc::new(LiveEvent::of(c)))
                    .collect();
                self.broadcast(upto, events);
            }
            if !more {
                return true;
            }
        }
    }
}

/// A tenant's live inbox events, from [`Inbox::subscribe`](super::Inbox::subscribe): every
/// change after the subscription's starting place, in order, each once.
#[derive(Debug)]
pub struct Subscription {
    rx: broadcast::Receiver<Arc<Batch>>,
    /// The follower's wake-up: a dropped subscription may have been its last.
    wake: Arc<Notify>,
    store: Arc<dyn MessageStore>,
    tenant: TenantId,
    /// The last change delivered (or skipped as already known).
    last: u64,
    /// Read the log before waiting: the subscription starts behind the head.
    catch_up: bool,
    pending: VecDeque<Arc<LiveEvent>>,
    ended: bool,
}

impl Subscription {
    /// The sequence number of the last change this subscription delivered (or started after).
    pub fn position(&self) -> u64 {
        self.last
    }

    /// The next event; `None` once the inbox is gone or after an [`InboxEvent::Reset`].
    pub async fn next(&mut self) -> Option<Arc<LiveEvent>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.ended {
                return None;
            }
            if self.catch_up {
                // `catch_up` is cleared only once the read succeeded: this future may be
                // dropped mid-read (an SSE keep-alive timeout) and must read again next time.
                match self.read_log().await {
                    Ok(()) => self.catch_up = false,
                    Err(LogRead::Pruned) => return Some(self.reset()),
                    Err(LogRead::Failed(err)) => {
                        tracing::warn!(error = %ErrorChain(&err), tenant = %self.tenant, after = self.last, "live events: a subscriber could not read the change log; reading again shortly");
                        tokio::time::sleep(READ_RETRY).await;
                    }
                }
                continue;
            }
            match self.rx.recv().await {
                Ok(batch) if batch.upto <= self.last => {}
                // A batch this subscription has not seen the start of: the log has the rest.
                Ok(batch) if batch.after > self.last => self.catch_up = true,
                Ok(batch) => {
                    let last = self.last;
                    let fresh = batch.events.iter().filter(|e| e.seq > last).cloned();
                    self.pending.extend(fresh);
                    self.last = batch.upto;
                }
                Err(broadcast::error::RecvError::Lagged(_)) => self.catch_up = true,
                Err(broadcast::error::RecvError::Closed) => self.ended = true,
            }
        }
    }

    /// The next event if one is ready now, without waiting: the SSE stream writes every ready
    /// frame in one chunk.
    pub fn try_next(&mut self) -> Option<Arc<LiveEvent>> {
        self.pending.pop_front()
    }

    /// Reads the log after `last` up to its head into `pending`.
    async fn read_log(&mut self) -> Result<(), LogRead> {
        loop {
            let page = self
                .store
                .changes_after(&self.tenant, self.last, READ_PAGE)
                .await
                .map_err(LogRead::Failed)?;
            if page.gap {
                return Err(LogRead::Pruned);
            }
            let more = page.has_more();
            for change in page.changes {
                self.last = change.seq;
                self.pending.push_back(Arc::new(LiveEvent::of(change)));
            }
            if !more {
                return Ok(());
            }
        }
    }

    fn reset(&mut self) -> Arc<LiveEvent> {
        tracing::info!(tenant = %self.tenant, after = self.last, "live events: a subscriber resumed from a place the change log no longer holds; it is told to reload");
        self.ended = true;
        self.pending.clear();
        Arc::new(LiveEvent {
            seq: self.last,
            event: InboxEvent::Reset,
        })
    }

    /// The subscription as a `Stream` (ending after an [`InboxEvent::Reset`]).
    pub fn into_stream(self) -> impl Stream<Item = Arc<LiveEvent>> + Send + 'static {
        futures_util::stream::unfold(self, |mut sub| async move {
            let event = sub.next().await?;
            Some((event, sub))
        })
    }
}

/// Why a subscription's read of the change log stopped short.
enum LogRead {
    /// The log no longer holds the changes after the subscription's place.
    Pruned,
    /// The store failed; the changes are still there.
    Failed(StoreError),
}

impl Drop for Subscription {
    fn drop(&mut self) {
        telemetry::sse_subscribers(-1.0);
        self.wake.notify_one();
    }
}

/// A subscription after `after` (default: the head), unless `max` is given and the tenant
/// has that many open here.
pub(crate) async fn subscribe(
    hub: &Arc<LiveHub>,
    tenant: &TenantId,
    after: Option<u64>,
    max: Option<usize>,
) -> Result<Option<Subscription>, StoreError> {
    let head = hub.store.change_head(tenant).await?;
    let start = (after.unwrap_or(head), head);
    let Some(mut subscription) = hub.join(tenant, start, max) else {
        return Ok(None);
    };
    subscription.catch_up = after.is_some_and(|after| after != head);
    Ok(Some(subscription))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{InMemoryStore, NewAccount};

    /// A notice carrying account changes numbered `seqs`, named `carried-<seq>`.
    fn carried(tenant: &TenantId, seqs: std::ops::RangeInclusive<u64>) -> ChangeNotice {
        let changes = seqs
            .clone()
            .map(|seq| Change {
                seq,
                at_ms: 0,
                subject: ChangeSubject::AccountChanged {
                    platform: Platform::Messenger,
                    account_id: AccountId::new(format!("carried-{seq}")),
                },
            })
            .collect();
        ChangeNotice {
            tenant_id: tenant.clone(),
            head: *seqs.end(),
            accounts: true,
            changes: Some(changes),
        }
    }

    /// The account an event names, and its place.
    async fn next_account(subscription: &mut Subscription) -> (u64, String) {
        let event = tokio::time::timeout(Duration::from_secs(5), subscription.next())
            .await
            .expect("an event within 5 s")
            .expect("the stream goes on");
        match &event.event {
            InboxEvent::AccountUpdated { account_id, .. } => {
                (event.seq, account_id.as_str().to_owned())
            }
            other => panic!("expected an account event, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn carried_changes_are_published_as_handed_over_and_a_hole_is_read_from_the_log() {
        let store = Arc::new(InMemoryStore::new());
        let hub = Arc::new(LiveHub::new(
            Arc::clone(&store) as Arc<dyn MessageStore>,
            16,
        ));
        let tenant = TenantId::new("t");
        let mut subscription = subscribe(&hub, &tenant, None, None)
            .await
            .expect("store")
            .expect("subscribed");
        // The log itself has other changes at 1 and 2: what a follower that read it would send.
        for name in ["logged-1", "logged-2", "logged-3", "logged-4"] {
            let account = NewAccount::new(Platform::Messenger, name);
            store
                .upsert_account(&tenant, &account)
                .await
                .expect("account");
        }

        hub.heard(&carried(&tenant, 1..=2));
        assert_eq!(
            next_account(&mut subscription).await,
            (1, "carried-1".into())
        );
        assert_eq!(
            next_account(&mut subscription).await,
            (2, "carried-2".into())
        );

        // Changes at 3 were never handed over: the follower reads 3 and 4 from the log, and
        // skips the handed-over 4 it then already sent.
        hub.heard(&carried(&tenant, 4..=4));
        assert_eq!(
            next_account(&mut subscription).await,
            (3, "logged-3".into())
        );
        assert_eq!(
            next_account(&mut subscription).await,
            (4, "logged-4".into())
        );
        hub.heard(&carried(&tenant, 4..=4));
        hub.heard(&carried(&tenant, 5..=5));
        assert_eq!(
            next_account(&mut subscription).await,
            (5, "carried-5".into())
        );
    }

    /// While a subscription's follower runs, the store's group commits carry their changes;
    /// once the last subscription is gone and the follower ends, they no longer do.
    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn a_running_follower_has_the_store_carry_its_changes() {
        use crate::store::SqliteStore;
        use crate::store::conformance::fixtures::{Scene, tick};

        let dir = tempfile::tempdir().expect("temp dir");
        let store: Arc<dyn MessageStore> = Arc::new(
            SqliteStore::open(dir.path().join("store.db"))
                .await
                .expect("open SQLite"),
        );
        let hub = Arc::new(LiveHub::new(Arc::clone(&store), 16));
        let s = Scene::new(Platform::Instagram);
        let mut notices = store.change_notices();
        let mut carries = async |mid: &str| {
            let text = s.text("u1", mid, "hello", tick());
            s.apply(store.as_ref(), vec![text]).await.expect("apply");
            let notice = notices.recv().await.expect("a notice");
            notice.changes.is_some()
        };
        assert!(!carries("lf-1").await, "no follower yet");
        let subscription = subscribe(&hub, &s.tenant, None, None)
            .await
            .expect("store")
            .expect("subscribed");
        assert!(carries("lf-2").await, "a follower runs");
        drop(subscription);
        // The follower ends on its next turn, which the dropped subscription woke.
        let mut ended = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            if hub.lock().is_empty() {
                ended = true;
                break;
            }
        }
        assert!(ended, "the follower ended");
        assert!(!carries("lf-3").await, "the follower is gone");
    }

    #[tokio::test]
    async fn subscriptions_within_a_limit_free_their_place_when_dropped() {
        let hub = Arc::new(LiveHub::new(Arc::new(InMemoryStore::new()), 4));
        let (a, b) = (TenantId::new("a"), TenantId::new("b"));
        let first = subscribe(&hub, &a, None, Some(2))
            .await
            .expect("store")
            .expect("first");
        let second = subscribe(&hub, &a, None, Some(2))
            .await
            .expect("store")
            .expect("second");
        assert!(
            subscribe(&hub, &a, None, Some(2))
                .await
                .expect("store")
                .is_none(),
            "the third is over the limit"
        );
        assert!(
            subscribe(&hub, &b, None, Some(2))
                .await
                .expect("store")
                .is_some(),
            "another tenant has its own"
        );
        drop(first);
        assert!(
            subscribe(&hub, &a, None, Some(2))
                .await
                .expect("store")
                .is_some(),
            "a dropped one frees its place"
        );
        drop(second);
    }
}
