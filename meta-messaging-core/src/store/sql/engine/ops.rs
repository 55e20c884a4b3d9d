//! Changes to messages that exist: reactions, edits, deletes, read and delivery receipts.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::write::db;
use super::{Engine, Tx};
use crate::store::api::ApplyReport;
use crate::store::changes::ChangeSet;
use crate::store::error::StoreError;
use crate::store::model::StoredAttachment;
use crate::store::plan::{Op, ReactionState, ReceiptScope, Target, apply_reaction, preview};
use crate::store::sql::dialect::SqlDialect;
use crate::store::sql::json;

const KEY: &str = "tenant_id = $1 AND platform = $2 AND message_id = $3";

/// The `SET` and condition every receipt update starts with; the scope's condition follows.
const RECEIPT_SET: &str = "UPDATE messages SET delivered_at_ms = COALESCE(delivered_at_ms, $1), \
    read_at_ms = CASE WHEN $2 THEN COALESCE(read_at_ms, $1) ELSE read_at_ms END \
    WHERE direction = 'outbound' AND (delivered_at_ms IS NULL OR ($2 AND read_at_ms IS NULL))";

/// What a receipt update returns: the messages it changed, for the change log.
const RECEIPT_RETURNING: &str = " RETURNING id, conversation_id";

/// A stored message a change touched: its row id and its conversation's.
type Touched = (i64, i64);

/// A query on one message: `sql` names it with [`KEY`] ($1 to $3), bound to `target`.
fn keyed<'q, DB: SqlDialect>(
    sql: &'q str,
    target: &'q Target,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    for<'a> &'a str: Encode<'a, DB> + Type<DB>,
{
    sqlx::query::<DB>(sql)
        .bind(target.tenant_id.as_str())
        .bind(target.platform.as_str())
        .bind(target.message_id.as_str())
}

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
    /// Applies one op; one whose message is missing is kept until it arrives (`pending.rs`).
    pub(super) async fn apply_op(
        &self,
        tx: &mut Tx<DB>,
        op: &Op,
        report: &mut ApplyReport,
        changes: &mut ChangeSet,
    ) -> Result<(), StoreError> {
        let (changed, target) = match op {
            Op::Receipt {
                scope,
                read,
                timestamp_ms,
            } => {
                let (read, at) = (*read, *timestamp_ms);
                let touched = self.receipt(tx, scope, read, at).await?;
                let changed = touched.len() as u64;
                let kept =
                    (self.keep_missing_receipts(tx, scope, read, at, changed, (report, changes)))
                        .await?;
                if changed == 0 && !kept {
                    report.duplicates += 1;
                }
                report.updated += touched.len() as u64;
                if let Some(tenant) = scope.tenant_id() {
                    for (message, conversation) in touched {
                        changes.message_updated(tenant, message, conversation);
                    }
                }
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
                let merge = |states: &mut Vec<ReactionState>| {
                    let (reaction, emoji) = (reaction.as_deref(), emoji.as_deref());
                    apply_reaction(states, actor, *remove, reaction, emoji, *timestamp_ms)
                };
                match self.react(tx, target, merge).await? {
                    Some(touched) => (touched.map(|t| (t, false)), target),
                    None => {
                        return self
                            .keep_pending(tx, op, target, orphan, (report, changes))
                            .await;
                    }
                }
            }
            Op::Edit {
                target,
                text,
                num_edit,
                timestamp_ms,
                orphan,
            } => {
                // Looked up first: an update that finds nothing cannot tell a repeat from a
                // message committed by another transaction after it looked.
                if !self.message_exists(tx, target).await? {
                    return self
                        .keep_pending(tx, op, target, orphan, (report, changes))
                        .await;
                }
                let edited = self.edit(tx, target, text.as_deref(), *num_edit, *timestamp_ms);
                (edited.await?, target)
            }
            Op::Delete { target, orphan } => {
                if !self.message_exists(tx, target).await? {
                    return self
                        .keep_pending(tx, op, target, orphan, (report, changes))
                        .await;
                }
                (self.delete(tx, target).await?, target)
            }
            Op::Hide {
                target,
                hidden,
                orphan,
            } => {
                if !self.message_exists(tx, target).await? {
                    return self
                        .keep_pending(tx, op, target, orphan, (report, changes))
                        .await;
                }
                (self.hide(tx, target, *hidden).await?, target)
            }
        };
        match changed {
            Some(((message, conversation), conversation_changed)) => {
                report.updated += 1;
                changes.message_updated(&target.tenant_id, message, conversation);
                if conversation_changed {
                    changes.conversation_updated(&target.tenant_id, conversation);
                }
            }
            None => report.duplicates += 1,
        }
        Ok(())
    }

    /// Merges a reaction into the message's stored states: `None` if the message is missing,
    /// else the message if `merge` changed them.
    async fn react(
        &self,
        tx: &mut Tx<DB>,
        target: &Target,
        merge: impl FnOnce(&mut Vec<ReactionState>) -> bool + Send,
    ) -> Result<Option<Option<Touched>>, StoreError> {
        let sql = format!(
            "SELECT id, reactions, conversation_id FROM messages WHERE {KEY}{}",
            DB::FOR_UPDATE
        );
        let found = keyed::<DB>(&sql, target)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
        let Some(found) = found else {
            return Ok(None);
        };
        let id: i64 = found.try_get(0).map_err(db)?;
        let text: String = found.try_get(1).map_err(db)?;
        let conversation: i64 = found.try_get(2).map_err(db)?;
        let mut states: Vec<ReactionState> = json("messages.reactions", &text)?;
        if !merge(&mut states) {
            return Ok(Some(None));
        }
        self.fail.hit()?;
        let json = serde_json::to_string(&states).unwrap_or_else(|_| "[]".to_owned());
        sqlx::query::<DB>("UPDATE messages SET reactions = $1 WHERE id = $2")
            .bind(json)
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        Ok(Some(Some((id, conversation))))
    }

    /// Replaces a message's text with a newer edit, and the preview if it is the newest
    /// message of its conversation. `None` if there was nothing to change (or it is missing),
    /// else the message and whether its conversation's preview changed.
    async fn edit(
        &self,
        tx: &mut Tx<DB>,
        target: &Target,
        text: Option<&str>,
        num_edit: u32,
        at: i64,
    ) -> Result<Option<(Touched, bool)>, StoreError> {
        self.fail.hit()?;
        let sql = format!(
            "UPDATE messages SET text = $4, edited_at_ms = $6, \
             edit_count = CASE WHEN $5 = 0 THEN edit_count + 1 ELSE $5 END \
             WHERE {KEY} AND NOT deleted AND CASE WHEN $5 = 0 \
                THEN text IS NULL OR text <> $4 ELSE edit_count < $5 END \
             RETURNING conversation_id, attachments, id"
        );
        let row = keyed::<DB>(&sql, target)
            .bind(text)
            .bind(i64::from(num_edit))
            .bind(at)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let conversation: i64 = row.try_get(0).map_err(db)?;
        let attachments: String = row.try_get(1).map_err(db)?;
        let id: i64 = row.try_get(2).map_err(db)?;
        let attachments: Vec<StoredAttachment> = json("messages.attachments", &attachments)?;
        let preview = preview(text, &attachments);
        self.fail.hit()?;
        let moved = sqlx::query::<DB>(
            "UPDATE conversations SET last_message_preview = $1 \
             WHERE id = $2 AND last_message_id = $3",
        )
        .bind(preview)
        .bind(conversation)
        .bind(target.message_id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
        Ok(Some(((id, conversation), DB::rows_affected(&moved) > 0)))
    }

    /// Blanks a message (its edits too), and takes it out of its conversation's preview and
    /// unread count. `None` if it was already deleted (or is missing), else the message and
    /// whether its conversation changed.
    async fn delete(
        &self,
        tx: &mut Tx<DB>,
        target: &Target,
    ) -> Result<Option<(Touched, bool)>, StoreError> {
        self.fail.hit()?;
        let sql = format!(
            "UPDATE messages SET deleted = TRUE, text = NULL, attachments = '[]', \
             raw_event = NULL, edit_count = 0, edited_at_ms = NULL WHERE {KEY} AND NOT deleted \
             RETURNING conversation_id, direction, read_at_ms, id"
        );
        let row = keyed::<DB>(&sql, target)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let conversation: i64 = row.try_get(0).map_err(db)?;
        let direction: String = row.try_get(1).map_err(db)?;
        let read_at: Option<i64> = row.try_get(2).map_err(db)?;
        let id: i64 = row.try_get(3).map_err(db)?;
        let was_unread = direction == "inbound" && read_at.is_none();
        self.fail.hit()?;
        let moved = sqlx::query::<DB>(
            "UPDATE conversations SET \
             last_message_preview = CASE WHEN last_message_id = $2 \
                THEN NULL ELSE last_message_preview END, \
             unread_count = CASE WHEN $3 AND unread_count > 0 \
                THEN unread_count - 1 ELSE unread_count END \
             WHERE id = $1 AND (last_message_id = $2 OR ($3 AND unread_count > 0))",
        )
        .bind(conversation)
        .bind(target.message_id.as_str())
        .bind(was_unread)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
        Ok(Some(((id, conversation), DB::rows_affected(&moved) > 0)))
    }

    /// Hides or unhides a comment. `None` if it already was (or is missing), else the message;
    /// its conversation does not change.
    async fn hide(
        &self,
        tx: &mut Tx<DB>,
        target: &Target,
        hidden: bool,
    ) -> Result<Option<(Touched, bool)>, StoreError> {
        self.fail.hit()?;
        let sql = format!(
            "UPDATE messages SET hidden = $4 WHERE {KEY} AND hidden <> $4 \
             RETURNING id, conversation_id"
        );
        let row = keyed::<DB>(&sql, target)
            .bind(hidden)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.try_get(0).map_err(db)?;
        let conversation: i64 = row.try_get(1).map_err(db)?;
        Ok(Some(((id, conversation), false)))
    }

    /// Marks outbound messages delivered (and read): returns how many changed.
    pub(super) async fn receipt(
        &self,
        tx: &mut Tx<DB>,
        scope: &ReceiptScope,
        read: bool,
        at: i64,
    ) -> Result<Vec<Touched>, StoreError> {
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
                    "{RECEIPT_SET} AND tenant_id = $3 AND timestamp_ms <= $4 AND conversation_id = \
                     (SELECT id FROM conversations WHERE tenant_id = $3 AND platform = $5 \
                     AND account_id = $6 AND participant_id = $7){RECEIPT_RETURNING}"
                );
                let done = sqlx::query::<DB>(&sql)
                    .bind(at)
                    .bind(read)
                    .bind(tenant_id.as_str())
                    .bind(*watermark_ms)
                    .bind(platform.as_str())
                    .bind(account_id.as_str())
                    .bind(participant_id.as_str())
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(db)?;
                touched(&done)
            }
            ReceiptScope::Messages { targets, .. } => {
                let mut changed = Vec::new();
                for target in targets {
                    // A read covers everything sent before the message read; a delivery
                    // names its messages exactly.
                    changed.extend(if read {
                        self.read_up_to(tx, target, at).await?
                    } else {
                        self.delivered(tx, target, at).await?
                    });
                }
                Ok(changed)
            }
        }
    }

    /// Marks read (and delivered) the outbound messages of `target`'s conversation up to it.
    async fn read_up_to(
        &self,
        tx: &mut Tx<DB>,
        target: &Target,
        at: i64,
    ) -> Result<Vec<Touched>, StoreError> {
        let sql = format!("SELECT conversation_id, timestamp_ms FROM messages WHERE {KEY}");
        let found = keyed::<DB>(&sql, target)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
        let Some(found) = found else {
            return Ok(Vec::new());
        };
        let conversation: i64 = found.try_get(0).map_err(db)?;
        let upto: i64 = found.try_get(1).map_err(db)?;
        self.fail.hit()?;
        let sql = format!(
            "{RECEIPT_SET} AND tenant_id = $3 AND conversation_id = $4 AND timestamp_ms <= $5\
             {RECEIPT_RETURNING}"
        );
        let done = sqlx::query::<DB>(&sql)
            .bind(at)
            .bind(true)
            .bind(target.tenant_id.as_str())
            .bind(conversation)
            .bind(upto)
            .fetch_all(&mut **tx)
            .await
            .map_err(db)?;
        touched(&done)
    }

    /// Marks `target` delivered, if it is outbound.
    async fn delivered(
        &self,
        tx: &mut Tx<DB>,
        target: &Target,
        at: i64,
    ) -> Result<Vec<Touched>, StoreError> {
        self.fail.hit()?;
        let sql = format!(
            "{RECEIPT_SET} AND tenant_id = $3 AND platform = $4 AND message_id = $5\
             {RECEIPT_RETURNING}"
        );
        let done = sqlx::query::<DB>(&sql)
            .bind(at)
            .bind(false)
            .bind(target.tenant_id.as_str())
            .bind(target.platform.as_str())
            .bind(target.message_id.as_str())
            .fetch_all(&mut **tx)
            .await
            .map_err(db)?;
        touched(&done)
    }
}

/// The `(id, conversation_id)` rows a receipt update returned.
fn touched<DB: SqlDialect>(rows: &[DB::Row]) -> Result<Vec<Touched>, StoreError>
where
    for<'q> i64: Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    rows.iter()
        .map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?)))
        .collect()
}
