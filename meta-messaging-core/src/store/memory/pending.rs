//! Ops whose message has not arrived yet, in memory: kept until it does, then applied in the
//! order `store/pending.rs` gives them (the SQL stores do the same in `sql/engine/pending.rs`).

use super::state::Tx;
use crate::store::api::ApplyReport;
use crate::store::error::StoreError;
use crate::store::pending::{PendingOp, replay_order};
use crate::store::plan::{Op, RawRow, ReceiptScope, Target};

impl Tx<'_> {
    /// Keeps a reaction, edit or delete whose message is missing: its raw event, counted in
    /// `report`, and the op, until the message arrives.
    pub(super) fn keep_pending(
        &mut self,
        op: &Op,
        target: &Target,
        orphan: &RawRow,
        report: &mut ApplyReport,
    ) -> Result<(), StoreError> {
        self.keep_raw_once(orphan, report)?;
        match PendingOp::of(op) {
            Some(pending) => self.put_pending(target, pending, orphan),
            None => Ok(()),
        }
    }

    /// Keeps a receipt for each message it names that is missing. Returns whether it kept
    /// one (and counted its raw event in `report`).
    pub(super) fn keep_missing_receipts(
        &mut self,
        scope: &ReceiptScope,
        read: bool,
        timestamp_ms: i64,
        report: &mut ApplyReport,
    ) -> Result<bool, StoreError> {
        let ReceiptScope::Messages { targets, orphan } = scope else {
            return Ok(false);
        };
        let missing: Vec<&Target> = targets
            .iter()
            .filter(|t| self.state().message_id_of(t).is_none())
            .collect();
        if missing.is_empty() {
            return Ok(false);
        }
        self.keep_raw_once(orphan, report)?;
        for target in missing {
            let op = PendingOp::Receipt { read, timestamp_ms };
            self.put_pending(target, op, orphan)?;
        }
        Ok(true)
    }

    fn keep_raw_once(
        &mut self,
        orphan: &RawRow,
        report: &mut ApplyReport,
    ) -> Result<(), StoreError> {
        if self.insert_raw(orphan)? {
            report.raw_kept += 1;
        } else {
            report.duplicates += 1;
        }
        Ok(())
    }

    /// Applies the ops that waited for these messages, just stored. Returns how many changed
    /// their message (what the call that stored them reports as `updated`).
    pub(super) fn settle(&mut self, arrived: &[Target]) -> Result<u64, StoreError> {
        let mut waiting = Vec::new();
        for target in arrived {
            waiting.extend(self.take_waiting(target));
        }
        replay_order(&mut waiting);
        let mut changed = 0;
        for w in waiting {
            // Only what the op changed counts: its event was reported when it arrived.
            let mut report = ApplyReport::default();
            self.apply_op(&w.into_op(), &mut report)?;
            changed += report.updated;
        }
        Ok(changed)
    }
}
