//! Group commit: executing [`Plan`]s, many per transaction, each with its own report. The
//! order within a transaction: conversations, messages, conversation bumps, ops and raw
//! events, the ops that waited for the messages just stored, window openings, account touches.

use std::collections::{HashMap, HashSet};

use sqlx::{ColumnIndex, Decode, Encode, Executor, FromRow, IntoArguments, Row, Type};

use super::{CONVERSATION_CACHE, Engine, Tx};
use crate::ids::{AccountId, ConversationId, MessageId, TenantId, UserId};
use crate::platform::Platform;
use crate::store::api::ApplyReport;
use crate::store::batch::PlanOutcome;
use crate::store::changes::ChangeSet;
use crate::store::error::StoreError;
use crate::store::model::Direction;
use crate::store::plan::{ConversationKey, MessageRow, Plan, Target, WindowOpening, now_ms};
use crate::store::sql::dialect::{Bump, NewConversation, NewMessage, SqlDialect, Touch};
use crate::store::sql::{CHUNK_ROWS, ConversationRecord, platform, to_json};

pub(super) const OP: &str = "applying events";

pub(super) fn db(e: sqlx::Error) -> StoreError {
    StoreError::db(OP)(e)
}

/// An inserted message, for the conversation update that follows.
struct Inserted<'a> {
    conversation: i64,
    row: &'a MessageRow,
}

/// Conversation row ids by key, for the messages of one batch.
type ConversationIds = HashMap<ConversationKey, i64>;

/// The row id of a message's conversation, which `ensure_conversations` created or found.
fn conversation_of(conversations: &ConversationIds, row: &MessageRow) -> Result<i64, StoreError> {
    conversations
        .get(&ConversationKey::of(row))
        .copied()
        .ok_or(StoreError::Invariant {
            what: "a message's conversation was neither found nor created",
        })
}

fn message_key(row: &MessageRow) -> Target {
    Target {
        tenant_id: row.tenant_id.clone(),
        platform: row.platform,
        message_id: row.message_id.clone(),
    }
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
    /// Executes several plans in one transaction, each with its own report.
    pub(crate) async fn write_plans(&self, plans: &[Plan]) -> Result<Vec<PlanOutcome>, StoreError> {
        let mut tx = self.begin_batch().await?;
        let rows: Vec<&MessageRow> = plans.iter().flat_map(|p| &p.messages).collect();
        let conversations = self.ensure_conversations(&mut tx, &rows).await?;
        let mut outcomes: Vec<PlanOutcome> = plans.iter().map(|_| PlanOutcome::default()).collect();
        // Live followers of this process get the batch's changes as written, with no read of
        // the log; knowing them costs the writer, so only while one listens.
        let mut changes = ChangeSet::default().knowing(self.notices.followed());
        let batch = (plans, rows.as_slice(), &conversations);
        let arrived = self
            .write_messages(&mut tx, batch, &mut outcomes, &mut changes)
            .await?;
        for (plan, outcome) in plans.iter().zip(&mut outcomes) {
            for op in &plan.ops {
                self.apply_op(&mut tx, op, &mut outcome.report, &mut changes)
                    .await?;
            }
            for raw in &plan.raw {
                self.keep_raw(&mut tx, raw, &mut outcome.report).await?;
            }
        }
        self.settle_arrivals(&mut tx, &arrived, &mut outcomes, &mut changes)
            .await?;
        self.open_windows(&mut tx, plans, &mut changes).await?;
        self.touch_accounts(&mut tx, plans).await?;
        self.commit_changes(tx, changes).await?;
        self.committed_batch(conversations);
        Ok(outcomes)
    }

    /// Wakes the checkpointer and keeps the batch's conversation ids, now committed.
    fn committed_batch(&self, conversations: ConversationIds) {
        if let Some(committed) = &self.committed {
            let _ = committed.try_send(());
        }
        let mut cache = self.cached_conversations();
        if cache.len() + conversations.len() > CONVERSATION_CACHE {
            cache.clear();
        }
        cache.extend(conversations);
    }

    /// Stores the plans' messages and moves their conversations. Inbound messages go in with
    /// multi-row inserts (a redelivered id is skipped); outbound ones one by one, as a copy
    /// may fill in what the first lacked. Returns the messages stored for the first time, each
    /// with the index of its plan.
    async fn write_messages(
        &self,
        tx: &mut Tx<DB>,
        (plans, rows, conversations): (&[Plan], &[&MessageRow], &ConversationIds),
        outcomes: &mut [PlanOutcome],
        changes: &mut ChangeSet,
    ) -> Result<Vec<(usize, Target)>, StoreError> {
        let (mut claimed, stored_at) = self.insert_inbound(tx, rows, conversations).await?;
        let mut inserted = Vec::new();
        let mut arrived = Vec::new();
        for (i, (plan, outcome)) in plans.iter().zip(outcomes).enumerate() {
            for row in &plan.messages {
                let before = inserted.len();
                let conversation = conversation_of(conversations, row)?;
                let id = if row.direction == Direction::Inbound {
                    let key = message_key(row);
                    if let Some(id) = claimed.remove(&key) {
                        outcome.report.inserted += 1;
                        inserted.push(Inserted { conversation, row });
                        if changes.is_knowing() {
                            let message =
                                row.stored(id, ConversationId::new(conversation), stored_at);
                            changes.message_stored_as(message, conversation);
                        } else {
                            changes.message_stored(&row.tenant_id, id, conversation);
                        }
                        id
                    } else {
                        outcome.report.duplicates += 1;
                        self.message_pk(tx, &key).await?
                    }
                } else {
                    let before = outcome.report;
                    let report = &mut outcome.report;
                    let id = (self.upsert_outbound(tx, row, conversation, report, &mut inserted))
                        .await?;
                    if outcome.report.inserted > before.inserted {
                        changes.message_stored(&row.tenant_id, id, conversation);
                    } else if outcome.report.updated > before.updated {
                        changes.message_updated(&row.tenant_id, id, conversation);
                    }
                    id
                };
                outcome.message_ids.push(id);
                if inserted.len() > before {
                    arrived.push((i, message_key(row)));
                }
            }
        }
        for Inserted { conversation, row } in &inserted {
            changes.conversation_updated(&row.tenant_id, *conversation);
        }
        self.bump_conversations(tx, &inserted, changes).await?;
        Ok(arrived)
    }

    async fn ensure_conversations(
        &self,
        tx: &mut Tx<DB>,
        rows: &[&MessageRow],
    ) -> Result<ConversationIds, StoreError> {
        let mut wanted: Vec<NewConversation> = Vec::new();
        let mut found = HashMap::with_capacity(rows.len());
        {
            let cache = self.cached_conversations();
            for row in rows {
                let key = ConversationKey::of(row);
                if let Some(id) = cache.get(&key) {
                    found.insert(key, *id);
                } else if !wanted.iter().any(|c| c.key == key) {
                    wanted.push(NewConversation {
                        key,
                        kind: row.kind,
                        first_message_at_ms: row.timestamp_ms,
                    });
                }
            }
        }
        // One lock order for every writer, so concurrent instances cannot deadlock.
        wanted.sort_by(|a, b| a.key.cmp(&b.key));
        let now = now_ms();
        for chunk in wanted.chunks(CHUNK_ROWS) {
            self.fail.hit()?;
            DB::insert_conversations(tx, chunk, now).await.map_err(db)?;
            for r in DB::find_conversations(tx, chunk).await.map_err(db)? {
                let key = ConversationKey {
                    tenant_id: TenantId::new(r.try_get::<String, _>(1).map_err(db)?),
                    platform: platform(&r.try_get::<String, _>(2).map_err(db)?),
                    account_id: AccountId::new(r.try_get::<String, _>(3).map_err(db)?),
                    participant_id: UserId::new(r.try_get::<String, _>(4).map_err(db)?),
                };
                found.insert(key, r.try_get::<i64, _>(0).map_err(db)?);
            }
        }
        Ok(found)
    }

    /// Inserts the inbound messages: the row ids of those new, and the time they were stored at.
    async fn insert_inbound(
        &self,
        tx: &mut Tx<DB>,
        rows: &[&MessageRow],
        conversations: &ConversationIds,
    ) -> Result<(HashMap<Target, i64>, i64), StoreError> {
        let mut seen = HashSet::new();
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
            let rows = chunk
                .iter()
                .map(|row| {
                    Ok(NewMessage {
                        row,
                        conversation_id: conversation_of(conversations, row)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            for r in DB::insert_messages(tx, &rows, now).await.map_err(db)? {
                let key = Target {
                    tenant_id: TenantId::new(r.try_get::<String, _>(1).map_err(db)?),
                    platform: platform(&r.try_get::<String, _>(2).map_err(db)?),
                    message_id: MessageId::new(r.try_get::<String, _>(3).map_err(db)?),
                };
                claimed.insert(key, r.try_get::<i64, _>(0).map_err(db)?);
            }
        }
        Ok((claimed, now))
    }

    async fn message_pk(&self, tx: &mut Tx<DB>, key: &Target) -> Result<i64, StoreError> {
        sqlx::query_scalar::<DB, i64>(
            "SELECT id FROM messages WHERE tenant_id = $1 AND platform = $2 AND message_id = $3",
        )
        .bind(key.tenant_id.as_str())
        .bind(key.platform.as_str())
        .bind(key.message_id.as_str())
        .fetch_one(&mut **tx)
        .await
        .map_err(db)
    }

    /// An echo or a sent message: inserted once, later copies fill what the first lacked.
    async fn upsert_outbound<'r>(
        &self,
        tx: &mut Tx<DB>,
        row: &'r MessageRow,
        conversation: i64,
        report: &mut ApplyReport,
        inserted: &mut Vec<Inserted<'r>>,
    ) -> Result<i64, StoreError> {
        self.fail.hit()?;
        let new = NewMessage {
            row,
            conversation_id: conversation,
        };
        let inserted_row = DB::insert_messages(tx, &[new], now_ms())
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
        let merged = sqlx::query::<DB>(
            "UPDATE messages SET \
             raw_event = CASE WHEN deleted THEN raw_event ELSE COALESCE(raw_event, $4) END, \
             app_id = COALESCE(app_id, $5), \
             metadata = COALESCE(metadata, $6), reply_to = COALESCE(reply_to, $7), \
             text = CASE WHEN deleted THEN text ELSE COALESCE(text, $8) END, \
             attachments = CASE WHEN deleted OR attachments <> '[]' THEN attachments ELSE $9 END \
             WHERE tenant_id = $1 AND platform = $2 AND message_id = $3 AND direction = 'outbound' \
             AND ((NOT deleted AND raw_event IS NULL AND $4 IS NOT NULL) \
             OR (app_id IS NULL AND $5 IS NOT NULL) \
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
        .map_err(db)?;
        if DB::rows_affected(&merged) > 0 {
            report.updated += 1;
        } else {
            report.duplicates += 1;
        }
        self.message_pk(tx, &message_key(row)).await
    }

    /// Moves each conversation that got messages: newest message, unread count, unarchive;
    /// `changes` learns them as moved.
    async fn bump_conversations(
        &self,
        tx: &mut Tx<DB>,
        inserted: &[Inserted<'_>],
        changes: &mut ChangeSet,
    ) -> Result<(), StoreError> {
        let mut bumps: Vec<Bump<'_>> = Vec::new();
        for Inserted { conversation, row } in inserted {
            let unread = i64::from(row.is_unread());
            let inbound_at = row.opens_window().then_some(row.timestamp_ms);
            match bumps
                .iter_mut()
                .find(|b| b.conversation_id == *conversation)
            {
                Some(bump) => {
                    if row.timestamp_ms >= bump.newest.timestamp_ms {
                        bump.newest = row;
                    }
                    bump.unread += unread;
                    bump.inbound_at = bump.inbound_at.max(inbound_at);
                }
                None => bumps.push(Bump {
                    conversation_id: *conversation,
                    newest: row,
                    unread,
                    inbound_at,
                }),
            }
        }
        bumps.sort_by_key(|b| b.conversation_id);
        for chunk in bumps.chunks(CHUNK_ROWS) {
            self.fail.hit()?;
            let returning = changes.is_knowing();
            for row in DB::bump_conversations(tx, chunk, returning)
                .await
                .map_err(db)?
            {
                changes
                    .conversation_as(ConversationRecord::from_row(&row).map_err(db)?.into_model());
            }
        }
        Ok(())
    }

    /// Moves the last inbound time of the conversations whose users opened the window with
    /// something other than a message (a postback, a referral, a reaction), when later.
    async fn open_windows(
        &self,
        tx: &mut Tx<DB>,
        plans: &[Plan],
        changes: &mut ChangeSet,
    ) -> Result<(), StoreError> {
        let mut openings: Vec<&WindowOpening> = plans.iter().flat_map(|p| &p.openings).collect();
        // One lock order for every writer, so concurrent instances cannot deadlock.
        openings.sort_by(|a, b| a.key.cmp(&b.key));
        for opening in openings {
            self.fail.hit()?;
            let moved = sqlx::query_scalar::<DB, i64>(
                "UPDATE conversations SET last_inbound_at_ms = $5 WHERE tenant_id = $1 \
                 AND platform = $2 AND account_id = $3 AND participant_id = $4 \
                 AND (last_inbound_at_ms IS NULL OR last_inbound_at_ms < $5) RETURNING id",
            )
            .bind(opening.key.tenant_id.as_str())
            .bind(opening.key.platform.as_str())
            .bind(opening.key.account_id.as_str())
            .bind(opening.key.participant_id.as_str())
            .bind(opening.at_ms)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
            if let Some(id) = moved {
                changes.conversation_updated(&opening.key.tenant_id, id);
            }
        }
        Ok(())
    }

    pub(super) async fn touch_accounts(
        &self,
        tx: &mut Tx<DB>,
        plans: &[Plan],
    ) -> Result<(), StoreError> {
        let mut newest: HashMap<(&TenantId, Platform, &AccountId), i64> = HashMap::new();
        for touch in plans.iter().flat_map(|p| &p.touches) {
            let key = (&touch.tenant_id, touch.platform, &touch.account_id);
            let slot = newest.entry(key).or_insert(touch.at_ms);
            *slot = (*slot).max(touch.at_ms);
        }
        let mut newest: Vec<Touch<'_>> = newest
            .into_iter()
            .map(|((tenant_id, platform, account_id), at_ms)| Touch {
                tenant_id,
                platform,
                account_id,
                at_ms,
            })
            .collect();
        // One lock order for every writer, so concurrent instances cannot deadlock.
        newest.sort();
        for chunk in newest.chunks(CHUNK_ROWS) {
            self.fail.hit()?;
            DB::touch_accounts(tx, chunk).await.map_err(db)?;
        }
        Ok(())
    }
}
