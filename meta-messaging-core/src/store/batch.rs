//! Group commit: concurrent writes share one transaction, so a durable commit (a disk flush on
//! SQLite, a WAL flush on PostgreSQL) is paid once per batch instead of once per webhook.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{Mutex, mpsc, oneshot};

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

struct Request {
    plan: Plan,
    reply: oneshot::Sender<Result<PlanOutcome, StoreError>>,
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
}

impl GroupCommit {
    /// Starts the writer tasks on the current Tokio runtime.
    pub(crate) fn start<W: PlanWriter>(writer: Arc<W>, config: BatchConfig) -> Self {
        let max_batch = config.max_batch.max(1);
        // Bounded: a stalled database slows callers down instead of queueing without limit.
        let (sender, receiver) = mpsc::channel(max_batch * 4);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..config.writers.max(1) {
            tokio::spawn(run(Arc::clone(&writer), Arc::clone(&receiver), max_batch));
        }
        Self { sender }
    }

    /// Queues a plan and waits until the transaction that carries it has committed.
    pub(crate) async fn submit(&self, plan: Plan) -> Result<PlanOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Request { plan, reply })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run<W: PlanWriter>(
    writer: Arc<W>,
    receiver: Arc<Mutex<mpsc::Receiver<Request>>>,
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
        let (plans, replies): (Vec<Plan>, Vec<_>) =
            batch.drain(..).map(|r| (r.plan, r.reply)).unzip();
        match writer.write(&plans).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // The caller may have gone away (its request timed out); nothing to tell.
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(err) if plans.len() == 1 => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(err));
                }
            }
            // One bad write must not fail its neighbours: retry each alone, so only the
            // plan that fails by itself reports an error.
            Err(_) => {
                for (plan, reply) in plans.into_iter().zip(replies) {
                    let result = writer
                        .write(std::slice::from_ref(&plan))
                        .await
                        .and_then(|mut o| o.pop().ok_or(StoreError::WriterStopped));
                    let _ = reply.send(result);
                }
            }
        }
    }
}
