//! Ops whose message has not arrived yet: kept in `pending_ops` (and their events in
//! `raw_events`) until it does, then applied in the transaction that stores it, in the order
//! `store/pending.rs` gives them.
//!
//! Two transactions can race: one stores a message while another finds it missing and keeps
//! an op for it; neither sees the other's uncommitted row. On PostgreSQL, advisory locks keep
//! them apart: a batch that stored messages takes a shared lock per message (or, past
//! [`MANY`] messages, the lock of all messages, exclusively) before it looks for their
//! pending ops, and an op that found its message missing takes that message's lock
//! exclusively (and the lock of all messages, shared), then looks again. Whichever locks
//! first, the other sees its committed rows. SQLite lets one write transaction in at a time.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use sha2::{Digest, Sha256};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::write::db;
use super::{Engine, Tx};
use crate::ids::{AccountId, MessageId, TenantId};
use crate::store::api::ApplyReport;
use crate::store::batch::PlanOutcome;
use crate::store::changes::ChangeSet;
use crate::store::error::StoreError;
use crate::store::pending::{PendingOp, Waiting, replay_order};
use crate::store::plan::{Op, RawRow, ReceiptScope, Target, now_ms};
use crate::store::sql::dialect::{LockKey, SqlDialect};
use crate::store::sql::{CHUNK_ROWS, json, platform, to_json};

/// The class of the advisory lock of one message.
const MESSAGE_LOCK: i32 = 0x6d6d_7001;
/// The class of the advisory lock of every message.
const ALL_LOCK: i32 = 0x6d6d_7002;
/// Past this many messages stored in one batch, it takes the lock of all messages instead of
/// one per message, so a large import does not fill PostgreSQL's lock table.
const MANY: usize = 256;

/// A message's advisory lock id: the first bytes of a hash of its key (a collision only makes
/// two messages share a lock).
fn lock_id(target: &Target) -> i32 {
    let mut hash = Sha256::new();
    for part in [
        target.tenant_id.as_str(),
        target.platform.as_str(),
        target.message_id.as_str(),
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// The locks a batch takes before it looks for the pending ops of the messages it stored.
fn arrival_locks(arrived: &[(usize, Target)]) -> Vec<LockKey> {
    let mut ids: Vec<i32> = arrived.iter().map(|(_, t)| lock_id(t)).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > MANY {
        return vec![LockKey {
            class: ALL_LOCK,
            id: 0,
            exclusive: true,
        }];
    }
    ids.into_iter()
        .map(|id| LockKey {
            class: MESSAGE_LOCK,
            id,
            exclusive: false,
        })
        .collect()
}

/// The locks an op takes before it looks again for its missing message.
fn early_locks(target: &Target) -> [LockKey; 2] {
    [
        LockKey {
            class: ALL_LOCK,
            id: 0,
            exclusive: false,
        },
        LockKey {
            class: MESSAGE_LOCK,
            id: lock_id(target),
            exclusive: true,
        },
    ]
}

/// A future that returns nothing but a store error, boxed: [`Engine::apply_op`] can lead back
/// here, and an async call cycle needs one boxed step.
type Boxed<'a> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

impl<DB: SqlDialect> Engine<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
{
    /// Keeps a reaction, edit or delete whose message is missing: its raw event (counted in
    /// `report`) and the op, until the message arrives. If another transaction stored the
    /// message meanwhile, applies the op instead.
    pub(super) async fn keep_pending(
        &self,
        tx: &mut Tx<DB>,
        op: &Op,
        target: &Target,
        orphan: &RawRow,
        (report, changes): (&mut ApplyReport, &mut ChangeSet),
    ) -> Result<(), StoreError> {
        if self.found_after_lock(tx, target).await? {
            return self.apply_again(tx, op, report, changes).await;
        }
        self.keep_raw(tx, orphan, report).await?;
        match PendingOp::of(op) {
            Some(pending) => self.insert_pending(tx, target, &pending, orphan).await,
            None => Ok(()),
        }
    }

    /// Keeps a receipt for each message it names that is missing (and marks those another
    /// transaction stored meanwhile). `changed` is how many messages the receipt marked.
    /// Returns whether it counted the receipt in `report`.
    pub(super) async fn keep_missing_receipts(
        &self,
        tx: &mut Tx<DB>,
        scope: &ReceiptScope,
        read: bool,
        timestamp_ms: i64,
        changed: u64,
        (report, changes): (&mut ApplyReport, &mut ChangeSet),
    ) -> Result<bool, StoreError> {
        let ReceiptScope::Messages { targets, orphan } = scope else {
            return Ok(false);
        };
        // A read marks nothing unless it found its message; a delivery marks each message it
        // found once. Then nothing is missing, and no look-up is needed.
        let all_found = match targets.len() {
            1 => changed > 0,
            n => !read && usize::try_from(changed).is_ok_and(|c| c >= n),
        };
        if all_found {
            return Ok(false);
        }
        let mut marked = 0;
        let mut waiting = Vec::new();
        for target in targets {
            if self.message_exists(tx, target).await? || self.found_after_lock(tx, target).await? {
                // Marked already, or stored by a transaction that committed after the receipt
                // looked for it: marking again changes nothing in the first case.
                let one = ReceiptScope::Messages {
                    targets: vec![target.clone()],
                    orphan: orphan.clone(),
                };
                let touched = self.receipt(tx, &one, read, timestamp_ms).await?;
                marked += touched.len() as u64;
                for (message, conversation) in touched {
                    changes.message_updated(&target.tenant_id, message, conversation);
                }
            } else {
                waiting.push(target);
            }
        }
        report.updated += marked;
        if waiting.is_empty() {
            return Ok(marked > 0);
        }
        self.keep_raw(tx, orphan, report).await?;
        for target in waiting {
            let op = PendingOp::Receipt { read, timestamp_ms };
            self.insert_pending(tx, target, &op, orphan).await?;
        }
        Ok(true)
    }

    /// Applies the ops that waited for the messages this batch stored (`arrived`: each with
    /// the index of its plan), counting each that changed its message in its plan's
    /// `updated`, and marks them applied. One look-up for the whole batch.
    pub(super) async fn settle_arrivals(
        &self,
        tx: &mut Tx<DB>,
        arrived: &[(usize, Target)],
        outcomes: &mut [PlanOutcome],
        changes: &mut ChangeSet,
    ) -> Result<(), StoreError> {
        if arrived.is_empty() {
            return Ok(());
        }
        DB::lock(tx, &arrival_locks(arrived)).await.map_err(db)?;
        let mut waiting = Vec::new();
        for chunk in arrived.chunks(CHUNK_ROWS) {
            let targets: Vec<&Target> = chunk.iter().map(|(_, t)| t).collect();
            for row in DB::find_pending(tx, &targets).await.map_err(db)? {
                waiting.push(waiting_op(&row)?);
            }
        }
        if waiting.is_empty() {
            return Ok(());
        }
        replay_order(&mut waiting);
        let plans: HashMap<&Target, usize> = arrived.iter().map(|(i, t)| (t, *i)).collect();
        let now = now_ms();
        for w in waiting {
            let (id, plan) = (w.id, plans.get(&w.target).copied());
            // Only what the op changes counts: its event was reported when it arrived.
            let mut report = ApplyReport::default();
            self.apply_op(tx, &w.into_op(), &mut report, changes)
                .await?;
            if let Some(outcome) = plan.and_then(|i| outcomes.get_mut(i)) {
                outcome.report.updated += report.updated;
            }
            self.fail.hit()?;
            sqlx::query::<DB>("UPDATE pending_ops SET applied_at_ms = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut **tx)
                .await
                .map_err(db)?;
        }
        Ok(())
    }

    /// [`Engine::apply_op`] for an op whose message turned out to exist: boxed, as `apply_op`
    /// is what called here.
    fn apply_again<'a>(
        &'a self,
        tx: &'a mut Tx<DB>,
        op: &'a Op,
        report: &'a mut ApplyReport,
        changes: &'a mut ChangeSet,
    ) -> Boxed<'a> {
        Box::pin(self.apply_op(tx, op, report, changes))
    }

    /// Whether the message exists once any transaction storing it has committed (see the
    /// module's documentation).
    async fn found_after_lock(&self, tx: &mut Tx<DB>, target: &Target) -> Result<bool, StoreError> {
        DB::lock(tx, &early_locks(target)).await.map_err(db)?;
        self.message_exists(tx, target).await
    }

    /// Whether the message is stored (committed, or written by this transaction).
    pub(super) async fn message_exists(
        &self,
        tx: &mut Tx<DB>,
        target: &Target,
    ) -> Result<bool, StoreError> {
        let found = sqlx::query::<DB>(
            "SELECT id FROM messages WHERE tenant_id = $1 AND platform = $2 AND message_id = $3",
        )
        .bind(target.tenant_id.as_str())
        .bind(target.platform.as_str())
        .bind(target.message_id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?;
        Ok(found.is_some())
    }

    async fn insert_pending(
        &self,
        tx: &mut Tx<DB>,
        target: &Target,
        op: &PendingOp,
        orphan: &RawRow,
    ) -> Result<(), StoreError> {
        self.fail.hit()?;
        sqlx::query::<DB>(
            "INSERT INTO pending_ops (tenant_id, platform, message_id, event_hash, op) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, event_hash, message_id, platform) DO NOTHING",
        )
        .bind(target.tenant_id.as_str())
        .bind(target.platform.as_str())
        .bind(target.message_id.as_str())
        .bind(orphan.event_hash.as_str())
        .bind(to_json(op))
        .execute(&mut **tx)
        .await
        .map_err(db)?;
        Ok(())
    }
}

/// A row of [`SqlDialect::find_pending`].
fn waiting_op<R: Row>(row: &R) -> Result<Waiting, StoreError>
where
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let text = |i: usize| row.try_get::<String, _>(i).map_err(db);
    let tenant_id = TenantId::new(text(1)?);
    let platform = platform(&text(2)?);
    let op: PendingOp = json("pending_ops.op", &text(4)?)?;
    Ok(Waiting {
        id: row.try_get(0).map_err(db)?,
        target: Target {
            tenant_id: tenant_id.clone(),
            platform,
            message_id: MessageId::new(text(3)?),
        },
        op,
        orphan: RawRow {
            tenant_id,
            platform,
            account_id: AccountId::new(text(5)?),
            kind: text(6)?,
            reason: row.try_get(7).map_err(db)?,
            timestamp_ms: row.try_get(8).map_err(db)?,
            received_at_ms: row.try_get(9).map_err(db)?,
            event_hash: text(10)?,
            raw: text(11)?,
        },
    })
}
