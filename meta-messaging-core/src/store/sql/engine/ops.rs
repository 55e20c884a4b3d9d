//! Changes to messages that exist: reactions, edits, deletes, read and delivery receipts.

use std::collections::HashMap;

use sqlx::Row;

use super::write::db;
use super::{DIALECT, Db, Engine, Tx};
use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use crate::store::api::ApplyReport;
use crate::store::error::StoreError;
use crate::store::plan::{
    Op, Plan, RawRow, ReactionState, ReceiptScope, Target, apply_reaction, preview,
};
use crate::store::sql::CHUNK_ROWS;
use crate::store::sql::bulk::{BulkWrites, Touch};

const KEY: &str = "tenant_id = $1 AND platform = $2 AND message_id = $3";

impl Engine {
    pub(super) async fn apply_op(
        &self,
        tx: &mut Tx,
        op: &Op,
        report: &mut ApplyReport,
    ) -> Result<(), StoreError> {
        let (changed, target, orphan) = match op {
            Op::Receipt {
                scope,
                read,
                timestamp_ms,
            } => {
                let changed = self.receipt(tx, scope, *read, *timestamp_ms).await?;
                if changed == 0 {
                    report.duplicates += 1;
                }
                report.updated += changed;
                return Ok(());
            }
            Op::React {
                target,
                actor,
                remove,
                reaction,
                emoji,
                timestamp_ms,
                orphan,
            } => {
                let sql = format!(
                    "SELECT id, reactions FROM messages WHERE {KEY}{}",
                    DIALECT.for_update
                );
                let found = sqlx::query::<Db>(&sql)
                    .bind(target.tenant_id.as_str())
                    .bind(target.platform.as_str())
                    .bind(target.message_id.as_str())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(db)?;
                let Some(found) = found else {
                    return self.keep_raw(tx, orphan, report).await;
                };
                let id: i64 = found.try_get(0).map_err(db)?;
                let text: String = found.try_get(1).map_err(db)?;
                let mut states: Vec<ReactionState> =
                    serde_json::from_str(&text).map_err(|source| StoreError::Corrupt {
                        column: "reactions",
                        source,
                    })?;
                let changed = apply_reaction(
                    &mut states,
                    actor,
                    *remove,
                    reaction.as_deref(),
                    emoji.as_deref(),
                    *timestamp_ms,
                );
                if changed {
                    self.fail.hit()?;
                    let json = serde_json::to_string(&states).unwrap_or_else(|_| "[]".to_owned());
                    sqlx::query::<Db>("UPDATE messages SET reactions = $1 WHERE id = $2")
                        .bind(json)
                        .bind(id)
                        .execute(&mut **tx)
                        .await
                        .map_err(db)?;
                }
                (changed, target, orphan)
            }
            Op::Edit {
                target,
                text,
                num_edit,
                timestamp_ms,
                orphan,
            } => {
                self.fail.hit()?;
                let sql = format!(
                    "UPDATE messages SET text = $4, edit_count = $5, edited_at_ms = $6 \
                     WHERE {KEY} AND NOT deleted AND edit_count < $5 RETURNING conversation_id, attachments"
                );
                let row = sqlx::query::<Db>(&sql)
                    .bind(target.tenant_id.as_str())
                    .bind(target.platform.as_str())
                    .bind(target.message_id.as_str())
                    .bind(text.as_deref())
                    .bind(i64::from(*num_edit))
                    .bind(*timestamp_ms)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(db)?;
                if let Some(row) = &row {
                    let conversation: i64 = row.try_get(0).map_err(db)?;
                    let attachments: String = row.try_get(1).map_err(db)?;
                    let attachments =
                        serde_json::from_str::<Vec<_>>(&attachments).unwrap_or_default();
                    let preview = preview(text.as_deref(), &attachments);
                    self.fail.hit()?;
                    sqlx::query::<Db>(
                        "UPDATE conversations SET last_message_preview = $1 \
                         WHERE id = $2 AND last_message_id = $3",
                    )
                    .bind(preview)
                    .bind(conversation)
                    .bind(target.message_id.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
                }
                (row.is_some(), target, orphan)
            }
            Op::Delete { target, orphan } => {
                self.fail.hit()?;
                let sql = format!(
                    "UPDATE messages SET deleted = TRUE, text = NULL, attachments = '[]', \
                     raw_event = NULL WHERE {KEY} AND NOT deleted \
                     RETURNING conversation_id, direction, read_at_ms"
                );
                let row = sqlx::query::<Db>(&sql)
                    .bind(target.tenant_id.as_str())
                    .bind(target.platform.as_str())
                    .bind(target.message_id.as_str())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(db)?;
                if let Some(row) = &row {
                    let conversation: i64 = row.try_get(0).map_err(db)?;
                    let direction: String = row.try_get(1).map_err(db)?;
                    let read_at: Option<i64> = row.try_get(2).map_err(db)?;
                    let was_unread = direction == "inbound" && read_at.is_none();
                    self.fail.hit()?;
                    sqlx::query::<Db>(
                        "UPDATE conversations SET \
                         last_message_preview = CASE WHEN last_message_id = $2 \
                            THEN NULL ELSE last_message_preview END, \
                         unread_count = CASE WHEN $3 AND unread_count > 0 \
                            THEN unread_count - 1 ELSE unread_count END \
                         WHERE id = $1",
                    )
                    .bind(conversation)
                    .bind(target.message_id.as_str())
                    .bind(was_unread)
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
                }
                (row.is_some(), target, orphan)
            }
        };
        if changed {
            report.updated += 1;
            Ok(())
        } else {
            self.unchanged(tx, target, orphan, report).await
        }
    }

    /// An op that changed nothing: a repeat if the message exists, an orphan if it does not.
    async fn unchanged(
        &self,
        tx: &mut Tx,
        target: &Target,
        orphan: &RawRow,
        report: &mut ApplyReport,
    ) -> Result<(), StoreError> {
        let sql = format!("SELECT id FROM messages WHERE {KEY}");
        let exists = sqlx::query::<Db>(&sql)
            .bind(target.tenant_id.as_str())
            .bind(target.platform.as_str())
            .bind(target.message_id.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?
            .is_some();
        if exists {
            report.duplicates += 1;
            Ok(())
        } else {
            self.keep_raw(tx, orphan, report).await
        }
    }

    async fn receipt(
        &self,
        tx: &mut Tx,
        scope: &ReceiptScope,
        read: bool,
        at: i64,
    ) -> Result<u64, StoreError> {
        const SET: &str = "UPDATE messages SET delivered_at_ms = COALESCE(delivered_at_ms, $1), \
            read_at_ms = CASE WHEN $2 THEN COALESCE(read_at_ms, $1) ELSE read_at_ms END \
            WHERE direction = 'outbound' AND (delivered_at_ms IS NULL OR ($2 AND read_at_ms IS NULL))";
        let mut changed = 0;
        match scope {
            ReceiptScope::UpTo {
                tenant_id,
                platform,
                account_id,
                participant_id,
                watermark_ms,
            } => {
                self.fail.hit()?;
                let sql = format!(
                    "{SET} AND tenant_id = $3 AND timestamp_ms <= $4 AND conversation_id = \
                     (SELECT id FROM conversations WHERE tenant_id = $3 AND platform = $5 \
                     AND account_id = $6 AND participant_id = $7)"
                );
                changed += sqlx::query::<Db>(&sql)
                    .bind(at)
                    .bind(read)
                    .bind(tenant_id.as_str())
                    .bind(*watermark_ms)
                    .bind(platform.as_str())
                    .bind(account_id.as_str())
                    .bind(participant_id.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
            }
            ReceiptScope::Messages(targets) => {
                for t in targets {
                    // A read covers everything sent before the message read; a delivery
                    // names its messages exactly.
                    let query = if read {
                        let sql = format!(
                            "SELECT conversation_id, timestamp_ms FROM messages WHERE {KEY}"
                        );
                        let found = sqlx::query::<Db>(&sql)
                            .bind(t.tenant_id.as_str())
                            .bind(t.platform.as_str())
                            .bind(t.message_id.as_str())
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(db)?;
                        let Some(found) = found else { continue };
                        let conversation: i64 = found.try_get(0).map_err(db)?;
                        let upto: i64 = found.try_get(1).map_err(db)?;
                        (conversation, upto)
                    } else {
                        (0, 0)
                    };
                    self.fail.hit()?;
                    let result = if read {
                        let sql = format!(
                            "{SET} AND tenant_id = $3 AND conversation_id = $4 AND timestamp_ms <= $5"
                        );
                        sqlx::query::<Db>(&sql)
                            .bind(at)
                            .bind(read)
                            .bind(t.tenant_id.as_str())
                            .bind(query.0)
                            .bind(query.1)
                            .execute(&mut **tx)
                            .await
                    } else {
                        let sql = format!(
                            "{SET} AND tenant_id = $3 AND platform = $4 AND message_id = $5"
                        );
                        sqlx::query::<Db>(&sql)
                            .bind(at)
                            .bind(read)
                            .bind(t.tenant_id.as_str())
                            .bind(t.platform.as_str())
                            .bind(t.message_id.as_str())
                            .execute(&mut **tx)
                            .await
                    };
                    changed += result.map_err(db)?.rows_affected();
                }
            }
        }
        Ok(changed)
    }

    pub(super) async fn keep_raw(
        &self,
        tx: &mut Tx,
        raw: &RawRow,
        report: &mut ApplyReport,
    ) -> Result<(), StoreError> {
        self.fail.hit()?;
        let done = sqlx::query::<Db>(
            "INSERT INTO raw_events (tenant_id, platform, account_id, kind, reason, timestamp_ms, \
             received_at_ms, event_hash, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (tenant_id, event_hash) DO NOTHING",
        )
        .bind(raw.tenant_id.as_str())
        .bind(raw.platform.as_str())
        .bind(raw.account_id.as_str())
        .bind(raw.kind.as_str())
        .bind(raw.reason.as_deref())
        .bind(raw.timestamp_ms)
        .bind(raw.received_at_ms)
        .bind(raw.event_hash.as_str())
        .bind(raw.raw.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
        if done.rows_affected() > 0 {
            report.raw_kept += 1;
        } else {
            report.duplicates += 1;
        }
        Ok(())
    }

    pub(super) async fn touch_accounts(
        &self,
        tx: &mut Tx,
        plans: &[Plan],
    ) -> Result<(), StoreError> {
        let mut newest: HashMap<(&TenantId, Platform, &AccountId), i64> = HashMap::new();
        for (t, p, a, at) in plans.iter().flat_map(|p| &p.touches) {
            let slot = newest.entry((t, *p, a)).or_insert(*at);
            *slot = (*slot).max(*at);
        }
        let mut newest: Vec<Touch<'_>> = newest
            .into_iter()
            .map(|((t, p, a), at)| (t, p, a, at))
            .collect();
        // One lock order for every writer, so concurrent instances cannot deadlock.
        newest.sort();
        for chunk in newest.chunks(CHUNK_ROWS) {
            self.fail.hit()?;
            Db::touch_accounts(tx, chunk).await.map_err(db)?;
        }
        Ok(())
    }
}
