//! Media records: recording a download together with its attachment's JSON, reading one,
//! deleting a message's or the old ones.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::{Engine, Tx};
use crate::ids::{StoredMessageId, TenantId};
use crate::store::changes::ChangeSet;
use crate::store::error::StoreError;
use crate::store::media::{MediaRecord, NewMedia, Recorded, StoredMediaId};
use crate::store::model::{StoredAttachment, StoredMessage};
use crate::store::sql::dialect::SqlDialect;
use crate::store::sql::{json, to_json};

const COLUMNS: &str =
    "tenant_id, id, message_id, attachment_index, sha256, mime, size, created_at_ms";

fn record<DB: sqlx::Database>(row: &DB::Row) -> Result<MediaRecord, sqlx::Error>
where
    for<'q> String: Decode<'q, DB> + Type<DB>,
    for<'q> i64: Decode<'q, DB> + Type<DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
{
    Ok(MediaRecord {
        tenant_id: TenantId::new(row.try_get::<String, _>("tenant_id")?),
        id: StoredMediaId::new(row.try_get::<String, _>("id")?),
        message_id: StoredMessageId::new(row.try_get("message_id")?),
        attachment_index: u32::try_from(row.try_get::<i64, _>("attachment_index")?)
            .unwrap_or(u32::MAX),
        sha256: row.try_get("sha256")?,
        mime: row.try_get("mime")?,
        size: u64::try_from(row.try_get::<i64, _>("size")?).unwrap_or(0),
        created_at_ms: row.try_get("created_at_ms")?,
    })
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
    /// Records kept attachments (checked and cleaned) in one transaction: each one's outcome,
    /// or the error that rolled them all back.
    pub(super) async fn record_media(
        &self,
        items: Vec<(TenantId, NewMedia)>,
    ) -> Result<Vec<Recorded>, StoreError> {
        // With one writer (SQLite), on the group commit's connection: waiting for it in turn
        // costs less than the database's lock (whose busy handler sleeps), and it keeps that
        // connection's page cache valid.
        let mut tx = if DB::ONE_WRITER {
            self.begin_batch().await?
        } else {
            self.begin().await?
        };
        let mut changes = ChangeSet::default();
        let mut kept = Vec::with_capacity(items.len());
        for (tenant, media) in &items {
            let conversation = self.mark_kept(&mut tx, tenant, media).await?;
            if let Some(conversation) = conversation {
                changes.message_updated(tenant, media.message_id.get(), conversation);
            }
            kept.push(conversation.is_some());
        }
        self.commit_changes(tx, changes).await?;
        let mut outcomes = Vec::with_capacity(items.len());
        for ((tenant, media), kept) in items.iter().zip(kept) {
            outcomes.push(if kept {
                self.get_message(tenant, media.message_id).await.map(|m| {
                    m.map(|m| StoredMessage {
                        raw_event: None,
                        ..m
                    })
                })
            } else {
                Ok(None)
            });
        }
        Ok(outcomes)
    }

    /// Marks a message's attachment kept and writes its media record, in `tx`; returns the
    /// message's conversation, or `None` (writing nothing) when there is no such attachment.
    async fn mark_kept(
        &self,
        tx: &mut Tx<DB>,
        tenant: &TenantId,
        media: &NewMedia,
    ) -> Result<Option<i64>, StoreError> {
        const OP: &str = "recording a kept attachment";
        let row = sqlx::query::<DB>(
            "SELECT attachments, conversation_id FROM messages \
             WHERE tenant_id = $1 AND id = $2 AND NOT deleted",
        )
        .bind(tenant.as_str())
        .bind(media.message_id.get())
        .fetch_optional(&mut **tx)
        .await
        .map_err(StoreError::db(OP))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let before: String = row.try_get(0usize).map_err(StoreError::db(OP))?;
        let conversation: i64 = row.try_get(1usize).map_err(StoreError::db(OP))?;
        let mut attachments: Vec<StoredAttachment> = json("messages.attachments", &before)?;
        if !media.mark(&mut attachments) {
            return Ok(None);
        }
        // Only if the attachments are still those read: an unsend committed in between (it
        // erases them) wins, and nothing is recorded.
        let done = sqlx::query::<DB>(
            "UPDATE messages SET attachments = $3 \
             WHERE tenant_id = $1 AND id = $2 AND NOT deleted AND attachments = $4",
        )
        .bind(tenant.as_str())
        .bind(media.message_id.get())
        .bind(to_json(&attachments))
        .bind(before)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::db(OP))?;
        if DB::rows_affected(&done) == 0 {
            return Ok(None);
        }
        let r = media.record(tenant);
        sqlx::query::<DB>(&format!(
            "INSERT INTO media ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant_id, id) DO UPDATE SET sha256 = excluded.sha256, \
             mime = excluded.mime, size = excluded.size, created_at_ms = excluded.created_at_ms"
        ))
        .bind(tenant.as_str())
        .bind(r.id.as_str())
        .bind(r.message_id.get())
        .bind(i64::from(r.attachment_index))
        .bind(r.sha256.as_str())
        .bind(r.mime.as_str())
        .bind(i64::try_from(r.size).unwrap_or(i64::MAX))
        .bind(r.created_at_ms)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::db(OP))?;
        Ok(Some(conversation))
    }

    pub(super) async fn get_media(
        &self,
        tenant: &TenantId,
        id: &StoredMediaId,
    ) -> Result<Option<MediaRecord>, StoreError> {
        const OP: &str = "reading a kept attachment";
        let row = sqlx::query::<DB>(&format!(
            "SELECT {COLUMNS} FROM media WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::db(OP))?;
        row.map(|r| record::<DB>(&r))
            .transpose()
            .map_err(StoreError::db(OP))
    }

    pub(super) async fn delete_message_media(
        &self,
        tenant: &TenantId,
        message: StoredMessageId,
    ) -> Result<Vec<MediaRecord>, StoreError> {
        const OP: &str = "deleting a message's kept attachments";
        let rows = sqlx::query::<DB>(&format!(
            "DELETE FROM media WHERE tenant_id = $1 AND message_id = $2 RETURNING {COLUMNS}"
        ))
        .bind(tenant.as_str())
        .bind(message.get())
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db(OP))?;
        rows.iter()
            .map(record::<DB>)
            .collect::<Result<_, _>>()
            .map_err(StoreError::db(OP))
    }

    pub(super) async fn prune_media(&self, before_ms: i64) -> Result<Vec<MediaRecord>, StoreError> {
        const OP: &str = "pruning kept attachments";
        let rows = sqlx::query::<DB>(&format!(
            "DELETE FROM media WHERE created_at_ms < $1 RETURNING {COLUMNS}"
        ))
        .bind(before_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db(OP))?;
        rows.iter()
            .map(record::<DB>)
            .collect::<Result<_, _>>()
            .map_err(StoreError::db(OP))
    }

    pub(super) async fn media_in_use(&self, sha256: &str) -> Result<bool, StoreError> {
        const OP: &str = "looking up a kept file";
        let row = sqlx::query::<DB>("SELECT 1 FROM media WHERE sha256 = $1 LIMIT 1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db(OP))?;
        Ok(row.is_some())
    }
}
