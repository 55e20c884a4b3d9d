//! Group commit: concurrent writes share one transaction, so a durable commit (a disk flush on
//! SQLite, a WAL flush on PostgreSQL) is paid once per batch instead of once per webhook.
//!
//! A batch that fails is halved, and each half retried, until the plans that fail are alone:
//! they get their error, the others commit in a few transactions (at most `2 log2 n + 1` writes
//! for one bad plan among `n`). A plan that failed alone is remembered (see [`Suspects`]): when
//! it comes back (Meta redelivers what was answered 500), it is written alone instead of
//! failing the batch it joins. A failure that is the database's, not a plan's (the connection
//! was lost), is retried once, on the first half; if that fails the same way, the halving stops
//! and every plan not yet committed gets it.

mod suspects;

use crate::telemetry::record as telemetry;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{Mutex, mpsc, oneshot, watch};

use self::suspects::{Suspects, fingerprint};
use super::api::ApplyReport;
use super::error::StoreError;
use super::plan::Plan;

/// What one plan of a batch did.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanOutcome {
    pub report: ApplyReport,
    /// The row id of each of the plan's messages, in order.
    pub message_ids: Vec<i64>,
}

/// Executes plans, all in one transaction.
#[async_trait]
pub(crate) trait PlanWriter: Send + Sync + 'static {
    async fn write(&self, plans: &[Plan]) -> Result<Vec<PlanOutcome>, StoreError>;
}

type Reply = oneshot::Sender<Result<PlanOutcome, StoreError>>;

struct Request {
    plan: Plan,
    /// Computed by the caller's task, off the writer's.
    fingerprint: u64,
    reply: Reply,
    /// Counts the request until it has been answered (or dropped unanswered).
    in_flight: InFlight,
}

/// One submitted write not yet answered, counted in [`GroupCommit::flush`]'s count until
/// dropped.
struct InFlight(Arc<watch::Sender<usize>>);

impl InFlight {
    fn enter(count: &Arc<watch::Sender<usize>>) -> Self {
        count.send_modify(|n| *n += 1);
        Self(Arc::clone(count))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// How writes are batched.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchConfig {
    /// Most plans in one transaction.
    pub max_batch: usize,
    /// Transactions in flight at once (1 for SQLite, which has one writer anyway).
    pub writers: usize,
}

/// The queue in front of the writer tasks. Dropping every clone stops them.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    sender: mpsc::Sender<Request>,
    /// Writes submitted and not yet answered: a caller that went away (its request timed
    /// out) leaves its write in the queue, still counted here until it is committed.
    in_flight: Arc<watch::Sender<usize>>,
}

impl GroupCommit {
    /// Starts the writer tasks on the current Tokio runtime.
    pub(crate) fn start<W: PlanWriter>(writer: Arc<W>, config: BatchConfig) -> Self {
        let max_batch = config.max_batch.max(1);
        // Bounded: a stalled database slows callers down instead of queueing without limit.
        let (sender, receiver) = mpsc::channel(max_batch * 4);
        let receiver = Arc::new(Mutex::new(receiver));
        // Shared by the writers: a redelivery may be taken by another writer than the first.
        let suspects = Arc::new(Suspects::default());
        for _ in 0..config.writers.max(1) {
            let (writer, receiver) = (Arc::clone(&writer), Arc::clone(&receiver));
            tokio::spawn(run(writer, receiver, Arc::clone(&suspects), max_batch));
        }
        Self {
            sender,
            in_flight: Arc::new(watch::channel(0).0),
        }
    }

    /// Waits until no write is queued or being committed.
    pub(crate) async fn flush(&self) {
        let mut count = self.in_flight.subscribe();
        // The sender lives as long as `self`: waiting cannot fail.
        let _ = count.wait_for(|n| *n == 0).await;
    }

    /// Queues a plan and waits until the transaction that carries it has committed.
    pub(crate) async fn submit(&self, plan: Plan) -> Result<PlanOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        let fingerprint = fingerprint(&plan);
        self.sender
            .send(Request {
                plan,
                fingerprint,
                reply,
                in_flight: InFlight::enter(&self.in_flight),
            })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run<W: PlanWriter>(
    writer: Arc<W>,
    receiver: Arc<Mutex<mpsc::Receiver<Request>>>,
    suspects: Arc<Suspects>,
    max_batch: usize,
) {
    let mut batch: Vec<Request> = Vec::with_capacity(max_batch);
    loop {
        // The callers the last commit answered are runnable now; letting them queue their
        // next write first gathers one full batch instead of a small one and then the rest.
        tokio::task::yield_now().await;
        {
            let mut receiver = receiver.lock().await;
            if receiver.recv_many(&mut batch, max_batch).await == 0 {
                return;
            }
        }
        commit(&*writer, &suspects, batch.drain(..)).await;
    }
}

/// Commits a batch and answers each of its callers.
async fn commit<W: PlanWriter>(
    writer: &W,
    suspects: &Suspects,
    requests: impl Iterator<Item = Request>,
) {
    let (alone, together) = suspects.split(requests);
    // The plans expected to commit go first: their callers do not wait behind writes that
    // failed last time.
    write_isolating(writer, suspects, together).await;
    for request in alone {
        write_isolating(writer, suspects, vec![request]).await;
    }
}

/// Writes the plans in one transaction; if that fails, halves them and writes each half the
/// same way, so that only plans that fail alone get an error.
async fn write_isolating<W: PlanWriter>(writer: &W, suspects: &Suspects, requests: Vec<Request>) {
    let mut plans = Vec::with_capacity(requests.len());
    let mut fingerprints = Vec::with_capacity(requests.len());
    let mut replies = Vec::with_capacity(requests.len());
    // Dropped at the end, once every caller of the batch has its answer.
    let mut in_flight = Vec::with_capacity(requests.len());
    for r in requests {
        plans.push(r.plan);
        fingerprints.push(r.fingerprint);
        replies.push(Some(r.reply));
        in_flight.push(r.in_flight);
    }
    // The ranges still to write, the next one last.
    let mut pending: Vec<Range<usize>> = Vec::new();
    pending.push(0..plans.len());
    let mut retrying = false;
    while let Some(range) = pending.pop() {
        if range.is_empty() {
            continue;
        }
        let started = std::time::Instant::now();
        let written = writer.write(&plans[range.clone()]).await;
        telemetry::commit(range.len(), started.elapsed(), written.is_ok());
        match written {
            Ok(outcomes) => {
                suspects.forget(&fingerprints[range.clone()]);
                let mut outcomes = outcomes.into_iter();
                // A missing outcome (a writer bug) is not made up: its caller hears
                // `WriterStopped`.
                answer(&mut replies[range], || {
                    outcomes.next().ok_or(StoreError::WriterStopped)
                });
            }
            // Failing again, and not because of what was written: halving would fail once per
            // half. (A first failure of this kind is retried: a connection that died while
            // idle fails one transaction and is replaced.)
            Err(err) if retrying && err.is_unavailable() => {
                let err = Arc::new(err);
                for range in pending.drain(..).chain([range]) {
                    answer(&mut replies[range], || {
                        Err(StoreError::Unavailable(Arc::clone(&err)))
                    });
                }
            }
            Err(err) if range.len() == 1 => {
                if !err.is_unavailable() {
                    suspects.remember(fingerprints[range.start]);
                }
                if let Some(reply) = replies[range.start].take() {
                    let _ = reply.send(Err(err));
                }
            }
            Err(_) => {
                let middle = range.start + range.len() / 2;
                pending.push(middle..range.end);
                pending.push(range.start..middle);
            }
        }
        retrying = true;
    }
    drop(in_flight);
}

/// Answers the callers not yet answered, in order.
fn answer(
    replies: &mut [Option<Reply>],
    mut result: impl FnMut() -> Result<PlanOutcome, StoreError>,
) {
    for reply in replies.iter_mut().filter_map(Option::take) {
        // The caller may have gone away (its request timed out); nothing to tell.
        let _ = reply.send(result());
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex as StdMutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::ids::{AccountId, TenantId};
    use crate::platform::Platform;
    use crate::store::plan::AccountTouch;

    /// Plan `n` touches account `n`; the writer fails every transaction that holds a poisoned
    /// one, and answers each plan with its number as its message id.
    #[derive(Default)]
    struct FakeWriter {
        poisoned: StdMutex<HashSet<i64>>,
        /// How many more writes fail with a lost connection.
        connection_lost: AtomicUsize,
        writes: AtomicUsize,
    }

    impl FakeWriter {
        fn poisoning(numbers: &[i64]) -> Self {
            let writer = FakeWriter::default();
            writer.poison(numbers);
            writer
        }

        fn poison(&self, numbers: &[i64]) {
            *self.poisoned.lock().expect("lock") = numbers.iter().copied().collect();
        }

        fn writes(&self) -> usize {
            self.writes.swap(0, Ordering::SeqCst)
        }
    }

    fn number(plan: &Plan) -> i64 {
        plan.touches[0].at_ms
    }

    #[async_trait]
    impl PlanWriter for FakeWriter {
        async fn write(&self, plans: &[Plan]) -> Result<Vec<PlanOutcome>, StoreError> {
            self.writes.fetch_add(1, Ordering::SeqCst);
            let lost = self
                .connection_lost
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            if lost.is_ok() {
                let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
                return Err(StoreError::db("beginning a transaction")(sqlx::Error::Io(
                    refused,
                )));
            }
            let poisoned = self.poisoned.lock().expect("lock");
            if plans.iter().any(|p| poisoned.contains(&number(p))) {
                return Err(StoreError::InjectedFailure);
            }
            Ok(plans
                .iter()
                .map(|p| PlanOutcome {
                    message_ids: vec![number(p)],
                    ..PlanOutcome::default()
                })
                .collect())
        }
    }

    fn plan(n: i64) -> Plan {
        Plan {
            touches: vec![AccountTouch {
                tenant_id: TenantId::new("acme"),
                platform: Platform::Messenger,
                account_id: AccountId::new(format!("page-{n}")),
                at_ms: n,
            }],
            ..Plan::default()
        }
    }

    type Answer = oneshot::Receiver<Result<PlanOutcome, StoreError>>;

    fn batch(n: i64) -> (Vec<Request>, Vec<Answer>) {
        (0..n)
            .map(|i| {
                let (reply, answer) = oneshot::channel();
                let plan = plan(i);
                let request = Request {
                    fingerprint: fingerprint(&plan),
                    plan,
                    reply,
                    in_flight: InFlight::enter(&Arc::new(watch::channel(0).0)),
                };
                (request, answer)
            })
            .unzip()
    }

    /// Commits plans `0..n` and returns what each caller was told.
    async fn commit_batch(
        writer: &FakeWriter,
        suspects: &Suspects,
        n: i64,
    ) -> Vec<Result<PlanOutcome, StoreError>> {
        let (requests, answers) = batch(n);
        commit(writer, suspects, requests.into_iter()).await;
        let mut results = Vec::new();
        for answer in answers {
            results.push(answer.await.expect("every caller is answered"));
        }
        results
    }

    /// Which plans failed, and how; the others must have their own outcome.
    fn failures(results: &[Result<PlanOutcome, StoreError>]) -> Vec<(i64, &StoreError)> {
        let mut failed = Vec::new();
        for (n, result) in (0..).zip(results) {
            match result {
                Ok(outcome) => assert_eq!(outcome.message_ids, [n], "plan {n} got another's"),
                Err(err) => failed.push((n, err)),
            }
        }
        failed
    }

    #[tokio::test]
    async fn one_failing_plan_of_64_is_isolated_in_13_writes() {
        let writer = FakeWriter::poisoning(&[37]);
        let results = commit_batch(&writer, &Suspects::default(), 64).await;
        let failed = failures(&results);
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(matches!(failed[0], (37, StoreError::InjectedFailure)));
        // The batch, then two halves per level down to the plan: 2 log2(64) + 1.
        assert_eq!(writer.writes(), 13);
    }

    #[tokio::test]
    async fn two_failing_plans_are_both_isolated() {
        let writer = FakeWriter::poisoning(&[3, 50]);
        let results = commit_batch(&writer, &Suspects::default(), 64).await;
        let failed: Vec<i64> = failures(&results).into_iter().map(|(n, _)| n).collect();
        assert_eq!(failed, [3, 50]);
        // One path of halves per bad plan: at most 4 log2(64) + 1.
        let writes = writer.writes();
        assert!(writes <= 25, "{writes} writes");
    }

    #[tokio::test]
    async fn when_every_plan_fails_each_gets_its_error() {
        let all: Vec<i64> = (0..64).collect();
        let writer = FakeWriter::poisoning(&all);
        let results = commit_batch(&writer, &Suspects::default(), 64).await;
        let failed = failures(&results);
        assert_eq!(failed.len(), 64);
        assert!(
            failed
                .iter()
                .all(|(_, e)| matches!(e, StoreError::InjectedFailure))
        );
        // Every node of the halving tree: 2n - 1.
        assert_eq!(writer.writes(), 127);
    }

    #[tokio::test]
    async fn a_database_that_is_down_fails_the_batch_without_halving() {
        let writer = FakeWriter::default();
        writer.connection_lost.store(usize::MAX, Ordering::SeqCst);
        let results = commit_batch(&writer, &Suspects::default(), 64).await;
        let failed = failures(&results);
        assert_eq!(failed.len(), 64);
        for (_, err) in failed {
            let StoreError::Unavailable(source) = err else {
                panic!("expected Unavailable, got {err:?}");
            };
            assert!(
                matches!(**source, StoreError::Database { .. }),
                "{source:?}"
            );
        }
        // The batch, and its first half to tell a dead connection from a dead database.
        assert_eq!(writer.writes(), 2);
    }

    #[tokio::test]
    async fn a_connection_lost_once_fails_nobody() {
        let writer = FakeWriter::default();
        writer.connection_lost.store(1, Ordering::SeqCst);
        let results = commit_batch(&writer, &Suspects::default(), 64).await;
        assert!(failures(&results).is_empty());
        assert_eq!(writer.writes(), 3);
    }

    #[tokio::test]
    async fn a_lone_plan_that_fails_gets_its_error_in_one_write() {
        let writer = FakeWriter::poisoning(&[0]);
        let results = commit_batch(&writer, &Suspects::default(), 1).await;
        assert!(matches!(
            failures(&results)[..],
            [(0, StoreError::InjectedFailure)]
        ));
        assert_eq!(writer.writes(), 1);
    }

    #[tokio::test]
    async fn a_redelivered_failing_plan_is_written_alone() {
        let writer = FakeWriter::poisoning(&[37]);
        let suspects = Suspects::default();
        commit_batch(&writer, &suspects, 64).await;
        assert_eq!(writer.writes(), 13);

        // Meta redelivers it among new deliveries: the others commit in one transaction,
        // then it fails alone.
        let results = commit_batch(&writer, &suspects, 64).await;
        let failed: Vec<i64> = failures(&results).into_iter().map(|(n, _)| n).collect();
        assert_eq!(failed, [37]);
        assert_eq!(writer.writes(), 2);

        // Once it commits it is forgotten, and batched again.
        writer.poison(&[]);
        assert!(failures(&commit_batch(&writer, &suspects, 64).await).is_empty());
        assert_eq!(writer.writes(), 2);
        assert!(failures(&commit_batch(&writer, &suspects, 64).await).is_empty());
        assert_eq!(writer.writes(), 1);
    }

    #[tokio::test]
    async fn a_lost_connection_is_not_remembered_against_a_plan() {
        let writer = FakeWriter::default();
        writer.connection_lost.store(1, Ordering::SeqCst);
        let suspects = Suspects::default();
        assert!(failures(&commit_batch(&writer, &suspects, 1).await).len() == 1);
        assert!(failures(&commit_batch(&writer, &suspects, 64).await).is_empty());
        assert_eq!(writer.writes(), 2);
    }

    /// Commits after a pause, counting what it committed.
    #[derive(Default)]
    struct SlowWriter {
        committed: AtomicUsize,
    }

    #[async_trait]
    impl PlanWriter for SlowWriter {
        async fn write(&self, plans: &[Plan]) -> Result<Vec<PlanOutcome>, StoreError> {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            self.committed.fetch_add(plans.len(), Ordering::SeqCst);
            Ok(vec![PlanOutcome::default(); plans.len()])
        }
    }

    #[tokio::test]
    async fn flush_waits_for_writes_whose_callers_went_away() {
        let writer = Arc::new(SlowWriter::default());
        let config = BatchConfig {
            max_batch: 4,
            writers: 2,
        };
        let commit = GroupCommit::start(Arc::clone(&writer), config);
        let calls: Vec<_> = (0..10)
            .map(|n| {
                let commit = commit.clone();
                tokio::spawn(async move { commit.submit(plan(n)).await })
            })
            .collect();
        // Every write queued, then every caller gone (as a client that hung up): the writes
        // stay queued, and the flush waits for them all.
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        for call in calls {
            call.abort();
        }
        assert!(writer.committed.load(Ordering::SeqCst) < 10);
        commit.flush().await;
        assert_eq!(writer.committed.load(Ordering::SeqCst), 10);
    }

    #[tokio::test]
    async fn the_writer_tasks_isolate_a_failing_plan() {
        let writer = Arc::new(FakeWriter::poisoning(&[5]));
        let config = BatchConfig {
            max_batch: 16,
            writers: 2,
        };
        let commit = GroupCommit::start(Arc::clone(&writer), config);
        let calls = (0..40).map(|n| {
            let commit = commit.clone();
            tokio::spawn(async move { commit.submit(plan(n)).await })
        });
        let mut results = Vec::new();
        for call in calls.collect::<Vec<_>>() {
            results.push(call.await.expect("task"));
        }
        let failed: Vec<i64> = failures(&results).into_iter().map(|(n, _)| n).collect();
        assert_eq!(failed, [5]);
    }
}
