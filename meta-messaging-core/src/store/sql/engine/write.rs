//! Writes: executing [`Plan`]s (many per transaction, for group commit) and the small updates.

use std::collections::HashMap;

use sqlx::Row;

use super::{Db, Engine, Tx, commit};
use crate::ids::{AccountId, MessageId, TenantId, UserId};
use crate::platform::Platform;
use crate::store::api::ApplyReport;
use crate::store::batch::PlanOutcome;
use crate::store::error::StoreError;
use crate::store::model::Direction;
use crate::store::plan::{MessageRow, Plan, now_ms};
use crate::store::sql::bulk::{BulkWrites, Bump, NewMessage};
use crate::store::sql::{CHUNK_ROWS, platform, to_json};

use super::{CONVERSATION_CACHE, ConvKey};
type MsgKey = (TenantId, Platform, MessageId);

const OP: &str = "applying events";

pub(super) fn db(e: sqlx::Error) -> StoreError {
    StoreError::db(OP)(e)
}

/// An inserted message, for the conversation update that follows.
struct Inserted<'a> {
    conversation: i64,
    row: &'a MessageRow,
}

impl Engine {
    /// Executes several plans in one transaction, each with its own report.
    pub(crate) async fn write_plans(&self, plans: &[Plan]) -> Result<Vec<PlanOutcome>, StoreError> {
        let mut tx = self.begin_batch().await?;
        let rows: Vec<&MessageRow> = plans.iter().flat_map(|p| &p.messages).collect();
        let conversations = self.ensure_conversations(&mut tx, &rows).await?;
        let mut outcomes: Vec<PlanOutcome> = plans.iter().map(|_| PlanOutcome::default()).collect();

        // Inbound messages go in with multi-row inserts; a redelivered id is skipped.
        let mut claimed: HashMap<MsgKey, i64> =
            self.insert_inbound(&mut tx, &rows, &conversations).await?;
        let mut inserted = Vec::new();
        for (plan, outcome) in plans.iter().zip(&mut outcomes) {
            for row in &plan.messages {
                let key = (row.tenant_id.clone(), row.platform, row.message_id.clone());
                let conversation = conversations
                    .get(&conv_key(row))
                    .copied()
                    .unwrap_or_default();
                let id = if row.direction == Direction::Inbound {
                    match claimed.remove(&key) {
                        Some(id) => {
                            outcome.report.inserted += 1;
                            inserted.push(Inserted { conversation, row });
                            id
                        }
                        None => {
                            outcome.report.duplicates += 1;
                            self.message_pk(&mut tx, &key).await?
                        }
                    }
                } else {
                    self.upsert_outbound(
                        &mut tx,
                        row,
                        conversation,
                        &mut outcome.report,
                        &mut inserted,
                    )
                    .await?
                };
                outcome.message_ids.push(id);
            }
        }
        self.bump_conversations(&mut tx, &inserted).await?;
        for (plan, outcome) in plans.iter().zip(&mut outcomes) {
            for op in &plan.ops {
                self.apply_op(&mut tx, op, &mut outcome.report).await?;
            }
            for raw in &plan.raw {
                self.keep_raw(&mut tx, raw, &mut outcome.report).await?;
            }
        }
        self.touch_accounts(&mut tx, plans).await?;
        commit(tx).await?;
        if let Some(committed) = &self.committed {
            let _ = committed.try_send(());
        }
        let mut cache = self.cached_conversations();
        if cache.len() + conversations.len() > CONVERSATION_CACHE {
            cache.clear();
        }
        cache.extend(conversations);
        drop(cache);
        Ok(outcomes)
    }

    async fn ensure_conversations(
        &self,
        tx: &mut Tx,
        rows: &[&MessageRow],
    ) -> Result<HashMap<ConvKey, i64>, StoreError> {
        let mut wanted: Vec<(ConvKey, i64)> = Vec::new();
        let mut found = HashMap::with_capacity(rows.len());
        {
            let cache = self.cached_conversations();
            for row in rows {
                let key = conv_key(row);
                if let Some(id) = cache.get(&key) {
                    found.insert(key, *id);
                } else if !wanted.iter().any(|(k, _)| *k == key) {
                    wanted.push((key, row.timestamp_ms));
                }
            }
        }
        // One lock order for every writer, so concurrent instances cannot deadlock.
        wanted.sort_by(|a, b| a.0.cmp(&b.0));
        let now = now_ms();
        for chunk in wanted.chunks(CHUNK_ROWS) {
            self.fail.hit()?;
            Db::insert_conversations(tx, chunk, now).await.map_err(db)?;
            for r in Db::find_conversations(tx, chunk).await.map_err(db)? {
                let key = (
                    TenantId::new(r.try_get::<String, _>(1).map_err(db)?),
                    platform(&r.try_get::<String, _>(2).map_err(db)?),
                    AccountId::new(r.try_get::<String, _>(3).map_err(db)?),
                    UserId::new(r.try_get::<String, _>(4).map_err(db)?),
                );
                found.insert(key, r.try_get::<i64, _>(0).map_err(db)?);
            }
        }
        Ok(found)
    }

    async fn insert_inbound(
        &self,
        tx: &mut Tx,
        rows: &[&MessageRow],
        conversations: &HashMap<ConvKey, i64>,
    ) -> Result<HashMap<MsgKey, i64>, StoreError> {
        let mut seen = std::collections::HashSet::new();
        let mut inbound: Vec<&MessageRow> = rows
            .iter()
            .copied()
            .filter(|r| r.direction == Direction::Inbound)
            .filter(|r| seen.insert((r.tenant_id.clone(), r.platform, r.message_id.clone())))
            .collect();
        inbound.sort_by(|a, b| {
            (&a.tenant_id, a.platform, &a.message_id).cmp(&(
                &b.tenant_id,
                b.platform,
                &b.message_id,
            ))
        });
        let mut claimed = HashMap::new();
        let now = now_ms();
        for chunk in inbound.chunks(CHUNK_ROWS) {
            self.fail.hit()?;
            let rows: Vec<NewMessage<'_>> = chunk
                .iter()
                .map(|r| {
                    (
                        *r,
                        conversations.get(&conv_key(r)).copied().unwrap_or_default(),
                    )
                })
                .collect();
            for r in Db::insert_messages(tx, &rows, now).await.map_err(db)? {
                let key = (
                    TenantId::new(r.try_get::<String, _>(1).map_err(db)?),
                    platform(&r.try_get::<String, _>(2).map_err(db)?),
                    MessageId::new(r.try_get::<String, _>(3).map_err(db)?),
                );
                claimed.insert(key, r.try_get::<i64, _>(0).map_err(db)?);
            }
        }
        Ok(claimed)
    }

    async fn message_pk(&self, tx: &mut Tx, (t, p, m): &MsgKey) -> Result<i64, StoreError> {
        sqlx::query_scalar::<Db, i64>(
            "SELECT id FROM messages WHERE tenant_id = $1 AND platform = $2 AND message_id = $3",
        )
        .bind(t.as_str())
        .bind(p.as_str())
        .bind(m.as_str())
        .fetch_one(&mut **tx)
        .await
        .map_err(db)
    }

    /// An echo or a sent message: inserted once, later copies fill what the first lacked.
    async fn upsert_outbound<'r>(
        &self,
        tx: &mut Tx,
        row: &'r MessageRow,
        conversation: i64,
        report: &mut ApplyReport,
        inserted: &mut Vec<Inserted<'r>>,
    ) -> Result<i64, StoreError> {
        self.fail.hit()?;
        let inserted_row = Db::insert_messages(tx, &[(row, conversation)], now_ms())
            .await
            .map_err(db)?;
        if let Some(id) = inserted_row
            .first()
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()
            .map_err(db)?
        {
            report.inserted += 1;
            inserted.push(Inserted { conversation, row });
            return Ok(id);
        }
        self.fail.hit()?;
        let attachments = to_json(&row.attachments);
        let reply_to = row.reply_to.as_ref().map(to_json);
        let merged = sqlx::query::<Db>(
            "UPDATE messages SET raw_event = COALESCE(raw_event, $4), app_id = COALESCE(app_id, $5), \
             metadata = COALESCE(metadata, $6), reply_to = COALESCE(reply_to, $7), \
             text = CASE WHEN deleted THEN text ELSE COALESCE(text, $8) END, \
             attachments = CASE WHEN deleted OR attachments <> '[]' THEN attachments ELSE $9 END \
             WHERE tenant_id = $1 AND platform = $2 AND message_id = $3 AND direction = 'outbound' \
             AND ((raw_event IS NULL AND $4 IS NOT NULL) OR (app_id IS NULL AND $5 IS NOT NULL) \
             OR (metadata IS NULL AND $6 IS NOT NULL) OR (reply_to IS NULL AND $7 IS NOT NULL) \
             OR (NOT deleted AND text IS NULL AND $8 IS NOT NULL) \
             OR (NOT deleted AND attachments = '[]' AND $9 <> '[]'))",
        )
        .bind(row.tenant_id.as_str())
        .bind(row.platform.as_str())
        .bind(row.message_id.as_str())
        .bind(row.raw_event.as_deref())
        .bind(row.app_id.as_deref())
        .bind(row.metadata.as_deref())
        .bind(reply_to.as_deref())
        .bind(row.text.as_deref())
        .bind(attachments.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db)?
        .rows_affected();
        if merged > 0 {
            report.updated += 1;
        } else {
            report.duplicates += 1;
        }
        let key = (row.tenant_id.clone(), row.platform, row.message_id.clone());
        self.message_pk(tx, &key).await
    }

    /// Moves each conversation that got messages: newest message, unread count, unarchive.
    async fn bump_conversations(
        &self,
        tx: &mut Tx,
        inserted: &[Inserted<'_>],
    ) -> Result<(), StoreError> {
        let mut bumps: Vec<Bump<'_>> = Vec::new();
        for Inserted { conversation, row } in inserted {
            let inbound = i64::from(row.direction == Direction::Inbound);
            match bumps.iter_mut().find(|(c, _, _)| c == conversation) {
                Some(bump) => {
                    if row.timestamp_ms >= bump.1.timestamp_ms {
                        bump.1 = row;
                    }
                    bump.2 += inbound;
                }
                None => bumps.push((*conversation, row, inbound)),
            }
        }
        bumps.sort_by_key(|b| b.0);
        for chunk in bumps.chunks(CHUNK_ROWS) {
            self.fail.hit()?;
            Db::bump_conversations(tx, chunk).await.map_err(db)?;
        }
        Ok(())
    }
}

fn conv_key(row: &MessageRow) -> ConvKey {
    (
        row.tenant_id.clone(),
        row.platform,
        row.account_id.clone(),
        row.participant_id.clone(),
    )
}
