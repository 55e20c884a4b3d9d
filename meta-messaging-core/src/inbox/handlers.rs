//! Driving the [`EventHandler`]s from the store's handler queue: per handler, a background
//! task that leases a tenant's work, runs its events (in order per conversation, a bounded
//! number of conversations at a time), and moves the handler's durable cursor past what
//! succeeded, retrying failures with backoff.

use crate::telemetry::record as telemetry;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::handler::{EventHandler, HandlerEvent};
use super::{Inbox, InboxInner};
use crate::error::ErrorChain;
use crate::ids::{TenantId, UserId};
use crate::store::{
    LeaseRequest, MAX_HANDLER_EVENTS_PAGE, QueuedEvent, StoreError, TenantEvent, ThreadOwner,
    now_ms,
};
use crate::webhook::Event;

/// How event handlers are driven ([`InboxBuilder::handler_options`](super::InboxBuilder::handler_options)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandlerOptions {
    /// How long an instance holds a tenant's work for a handler before another may take it
    /// over (default 60 s). The instance extends it every third of this while the batch
    /// runs, so a slow batch keeps it; only an instance that stopped (or cannot reach the
    /// store) loses it, and another instance then runs its events again.
    pub lease: Duration,
    /// The wait before the first retry of a failed event (default 1 s); it doubles with each
    /// failure, up to `max_retry_delay`.
    pub first_retry_delay: Duration,
    /// The longest wait between retries (default 5 min).
    pub max_retry_delay: Duration,
    /// After this many failed attempts (default 10) an event is logged at `error` level and
    /// skipped.
    pub max_attempts: u32,
    /// How many conversations of a tenant run at a time, per handler (default 8).
    pub concurrency: usize,
    /// How many events one lease reads (default 100, at most
    /// [`MAX_HANDLER_EVENTS_PAGE`]).
    pub batch: u32,
    /// How often an idle handler looks for work queued by other instances (default 1 s);
    /// work queued by this instance wakes it at once.
    pub poll_interval: Duration,
}

impl Default for HandlerOptions {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            first_retry_delay: Duration::from_secs(1),
            max_retry_delay: Duration::from_secs(300),
            max_attempts: 10,
            concurrency: 8,
            batch: 100,
            poll_interval: Duration::from_secs(1),
        }
    }
}

impl HandlerOptions {
    /// The wait after the `attempts`-th failure of an event.
    fn backoff(&self, attempts: u32) -> Duration {
        let doubled = self
            .first_retry_delay
            .saturating_mul(1_u32 << attempts.saturating_sub(1).min(20));
        doubled.min(self.max_retry_delay)
    }
}

/// The handler tasks of one inbox.
pub(crate) struct Runner {
    options: HandlerOptions,
    /// Who holds this instance's leases: random per inbox, so a restarted process does not
    /// take its predecessor's leases for its own.
    owner: String,
    wakes: Vec<Arc<Notify>>,
    stop: watch::Sender<bool>,
    tasks: Mutex<RunnerState>,
    /// Set once every handler is registered in the store, before this inbox queues anything:
    /// a handler registered after its first events were queued would skip them.
    registered: tokio::sync::OnceCell<()>,
}

enum RunnerState {
    Waiting,
    Running(Vec<JoinHandle<()>>),
    Stopped,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("options", &self.options)
            .field("handlers", &self.wakes.len())
            .finish_non_exhaustive()
    }
}

impl Runner {
    pub(crate) fn new(options: HandlerOptions, handlers: usize) -> Self {
        Self {
            options,
            owner: format!("{:032x}", rand::random::<u128>()),
            wakes: (0..handlers).map(|_| Arc::new(Notify::new())).collect(),
            stop: watch::channel(false).0,
            tasks: Mutex::new(RunnerState::Waiting),
            registered: tokio::sync::OnceCell::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, RunnerState> {
        // Every change of the state is one assignment: a panic cannot leave it half-made.
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Tells this instance's handler tasks that work was queued.
    pub(crate) fn wake(&self) {
        for wake in &self.wakes {
            wake.notify_one();
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if let RunnerState::Running(tasks) = &*self.state() {
            for task in tasks {
                task.abort();
            }
        }
    }
}

impl Inbox {
    /// Starts the handler tasks on the current Tokio runtime, once (not after
    /// [`shutdown`](Self::shutdown)).
    pub(crate) fn start_handlers(&self) {
        let runner = &self.inner.runner;
        if self.inner.handlers.is_empty() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let mut state = runner.state();
        if !matches!(*state, RunnerState::Waiting) {
            return;
        }
        let tasks = self
            .inner
            .handlers
            .iter()
            .zip(&runner.wakes)
            .map(|(handler, wake)| {
                tokio::spawn(run(
                    Arc::downgrade(&self.inner),
                    Arc::clone(handler),
                    Arc::clone(wake),
                    runner.stop.subscribe(),
                ))
            })
            .collect();
        *state = RunnerState::Running(tasks);
    }

    /// Queues routed events for the handlers (nothing without handlers), in the store, before
    /// the delivery is answered: a crash before this makes Meta redeliver, and the queue keeps
    /// each event once.
    ///
    /// Events delivered in `standby[]` are stored like any other (the inbox shows what the
    /// customer wrote while another app owned the thread) but never queued: that app answers
    /// them, and a bot answering too would talk over it.
    pub(crate) async fn queue_for_handlers(
        &self,
        events: &[TenantEvent],
    ) -> Result<(), StoreError> {
        if self.inner.handlers.is_empty() {
            return Ok(());
        }
        let owned: Cow<'_, [TenantEvent]> = if events.iter().any(|e| e.event.standby) {
            Cow::Owned(
                events
                    .iter()
                    .filter(|e| !e.event.standby)
                    .cloned()
                    .collect(),
            )
        } else {
            Cow::Borrowed(events)
        };
        if owned.is_empty() {
            return Ok(());
        }
        self.register_handlers().await?;
        if self.inner.store.queue_handler_events(&owned).await? > 0 {
            self.start_handlers();
            self.inner.runner.wake();
        }
        Ok(())
    }

    /// Registers every handler in the store, once per inbox.
    async fn register_handlers(&self) -> Result<(), StoreError> {
        let inner = &self.inner;
        inner
            .runner
            .registered
            .get_or_try_init(|| async {
                for handler in &inner.handlers {
                    inner.store.register_handler(handler.name()).await?;
                }
                Ok::<(), StoreError>(())
            })
            .await?;
        Ok(())
    }

    /// Stops the event handlers gracefully ([`shutdown`](Self::shutdown)'s first step): no new
    /// work is taken, and the events running now are waited for, up to `timeout`. Returns
    /// `true` when every handler task stopped in time; `false` when some were still running
    /// (they are then stopped where they are: their events run again, on this instance's next
    /// start or on another instance, once their lease ends).
    pub(crate) async fn stop_handlers(&self, timeout: Duration) -> bool {
        let runner = &self.inner.runner;
        let _ = runner.stop.send(true);
        let tasks = match std::mem::replace(&mut *runner.state(), RunnerState::Stopped) {
            RunnerState::Running(tasks) => tasks,
            RunnerState::Waiting | RunnerState::Stopped => return true,
        };
        let aborts: Vec<_> = tasks.iter().map(JoinHandle::abort_handle).collect();
        let finished = tokio::time::timeout(timeout, futures_util::future::join_all(tasks))
            .await
            .is_ok();
        if !finished {
            for task in aborts {
                task.abort();
            }
        }
        finished
    }
}

/// One handler's loop: registers it, then takes work until the inbox is dropped or shut down.
async fn run(
    inbox: Weak<InboxInner>,
    handler: Arc<dyn EventHandler>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let Some(inner) = inbox.upgrade() else {
            return;
        };
        let inbox_now = Inbox { inner };
        let poll = inbox_now.inner.runner.options.poll_interval;
        let worked = match inbox_now.register_handlers().await {
            Ok(()) => step(&inbox_now, handler.as_ref()).await,
            Err(err) => Err(err),
        };
        drop(inbox_now);
        let worked = worked.unwrap_or_else(|err| {
            tracing::warn!(
                error = %ErrorChain(&err),
                handler = handler.name(),
                "event handler queue unavailable; trying again"
            );
            false
        });
        if !worked {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Leases one tenant's work and runs it. `Ok(false)`: there was none.
async fn step(inbox: &Inbox, handler: &dyn EventHandler) -> Result<bool, StoreError> {
    let store = &inbox.inner.store;
    let runner = &inbox.inner.runner;
    let options = &runner.options;
    let name = handler.name();
    let now = now_ms();
    let lease_ms = i64::try_from(options.lease.as_millis()).unwrap_or(i64::MAX);
    let Some(lease) = store
        .lease_handler_work(&LeaseRequest::new(
            name,
            runner.owner.as_str(),
            now,
            now.saturating_add(lease_ms),
        ))
        .await?
    else {
        // No tenant has events after this handler's cursor: it is caught up.
        telemetry::handler_lag(name, 0);
        return Ok(false);
    };
    let tenant = lease.tenant_id.clone();
    let queued = store
        .handler_events_after(
            &tenant,
            lease.cursor,
            options.batch.clamp(1, MAX_HANDLER_EVENTS_PAGE),
        )
        .await?;
    let Some(last) = queued.last().map(|q| q.seq) else {
        // Nothing to run after all (the queue was pruned): give the lease back.
        store
            .release_handler_lease(name, &tenant, &runner.owner, lease.cursor, None)
            .await?;
        return Ok(true);
    };
    telemetry::handler_lag(name, last.saturating_sub(lease.cursor));
    let groups = conversations(name, &tenant, lease.cursor, lease.attempts, queued);
    let work = futures_util::stream::iter(groups)
        .map(|group| run_group(inbox, handler, group))
        .buffer_unordered(options.concurrency.max(1))
        .filter_map(|failed| async move { failed })
        .collect::<Vec<(u64, HandlerEvent)>>();
    let failures = renewing(inbox, name, &tenant, lease_ms, work).await;
    let first_failed = failures.into_iter().min_by_key(|(seq, _)| *seq);
    let (cursor, retry_at) = match first_failed {
        None => (last, None),
        Some((seq, event)) => {
            // Attempts of the event right after the cursor add up; another starts at 1.
            let attempts = if seq == lease.cursor + 1 {
                lease.attempts.saturating_add(1)
            } else {
                1
            };
            if attempts >= options.max_attempts {
                tracing::error!(
                    handler = name,
                    tenant = %tenant,
                    seq,
                    idempotency_key = %event.idempotency_key(),
                    kind = %event.event.kind(),
                    attempts,
                    "event handler gave up on an event after its last attempt; skipping it"
                );
                (seq, None)
            } else {
                let delay =
                    i64::try_from(options.backoff(attempts).as_millis()).unwrap_or(i64::MAX);
                (seq - 1, Some(now_ms().saturating_add(delay)))
            }
        }
    };
    if !store
        .release_handler_lease(name, &tenant, &runner.owner, cursor, retry_at)
        .await?
    {
        tracing::warn!(
            handler = name,
            tenant = %tenant,
            "an event handler's lease ran out before its events finished; another instance runs them again"
        );
    }
    Ok(true)
}

/// Runs `work` while extending the lease every third of its length, so a batch slower than the
/// lease (a handler calling a slow service) is not run again by another instance meanwhile.
/// A lease that could not be extended is logged; the work goes on (running an event twice is
/// what handlers are written for, dropping it is not).
async fn renewing<T>(
    inbox: &Inbox,
    handler: &str,
    tenant: &TenantId,
    lease_ms: i64,
    work: impl Future<Output = T>,
) -> T {
    let runner = &inbox.inner.runner;
    let every = (runner.options.lease / 3).max(Duration::from_millis(10));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = ticks.tick() => {
                let until = now_ms().saturating_add(lease_ms);
                let extended = inbox
                    .inner
                    .store
                    .extend_handler_lease(handler, tenant, runner.owner.as_str(), until)
                    .await;
                match extended {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(
                        handler,
                        tenant = %tenant,
                        "an event handler's lease was taken over while its events ran; another instance may run them again"
                    ),
                    Err(err) => tracing::warn!(
                        error = %crate::error::ErrorChain(&err),
                        handler,
                        tenant = %tenant,
                        "an event handler's lease could not be extended"
                    ),
                }
            }
        }
    }
}

/// The batch's events per conversation, each in order; conversations in order of their first
/// event. An event that no longer reads as one is logged and left out.
fn conversations(
    handler: &str,
    tenant: &TenantId,
    cursor: u64,
    attempts: u32,
    queued: Vec<QueuedEvent>,
) -> Vec<Vec<HandlerEvent>> {
    let mut groups: Vec<Vec<HandlerEvent>> = Vec::new();
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    for q in queued {
        let event = match q.event.to_events() {
            Ok(mut events) if events.len() == 1 => events.remove(0),
            Ok(_) => {
                tracing::warn!(tenant = %tenant, seq = q.seq, "a queued event reads as several or none: skipped");
                continue;
            }
            Err(err) => {
                tracing::warn!(error = %ErrorChain(&err), tenant = %tenant, seq = q.seq, "a queued event no longer reads as an event: skipped");
                continue;
            }
        };
        let attempt = if q.seq == cursor + 1 {
            attempts.saturating_add(1)
        } else {
            1
        };
        let slot = *index.entry(conversation_key(&event)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[slot].push(HandlerEvent::new(
            handler,
            tenant.clone(),
            event,
            q.seq,
            attempt,
        ));
    }
    groups
}

/// Platform, account and the customer: the one of sender and recipient that is not the account.
fn conversation_key(event: &Event) -> (String, String, String) {
    let account = event.account_id.as_str();
    let customer = match (&event.sender_id, &event.recipient_id) {
        (Some(sender), _) if sender.as_str() != account => sender.as_str(),
        (_, Some(recipient)) => recipient.as_str(),
        (Some(sender), None) => sender.as_str(),
        (None, None) => "",
    };
    (
        event.platform.as_str().to_owned(),
        account.to_owned(),
        customer.to_owned(),
    )
}

/// Who answers the conversation of `event` (the bot when the store has no conversation).
async fn owner(inbox: &Inbox, event: &HandlerEvent) -> Result<ThreadOwner, StoreError> {
    let (_, _, customer) = conversation_key(&event.event);
    let found = inbox
        .inner
        .store
        .find_conversation(
            &event.tenant_id,
            event.event.platform,
            &event.event.account_id,
            &UserId::new(customer),
        )
        .await?;
    Ok(found.map_or(ThreadOwner::Bot, |c| c.owner))
}

/// Runs one conversation's events in order, stopping at the first failure (the events after
/// it wait for its retry); returns that one.
async fn run_group(
    inbox: &Inbox,
    handler: &dyn EventHandler,
    group: Vec<HandlerEvent>,
) -> Option<(u64, HandlerEvent)> {
    let first = group.first()?;
    // Read when the group runs, not when it was queued: a person may have taken the
    // conversation over since.
    let owner = match owner(inbox, first).await {
        Ok(owner) => owner,
        Err(err) => {
            tracing::warn!(
                error = %ErrorChain(&err),
                handler = handler.name(),
                tenant = %first.tenant_id,
                seq = first.seq,
                "cannot read a conversation's owner; retrying its events with backoff"
            );
            return Some((first.seq, first.clone()));
        }
    };
    for mut event in group {
        event.owner = owner;
        if let Err(err) = handler.handle(inbox, &event).await {
            tracing::warn!(
                error = %ErrorChain(&*err),
                handler = handler.name(),
                kind = %event.event.kind(),
                tenant = %event.tenant_id,
                account_id = %event.event.account_id,
                seq = event.seq,
                attempt = event.attempt,
                "event handler failed; retrying with backoff"
            );
            return Some((event.seq, event));
        }
    }
    None
}
