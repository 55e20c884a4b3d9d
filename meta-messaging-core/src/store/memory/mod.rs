//! [`InMemoryStore`]: the reference semantics of [`MessageStore`], always available.

mod accounts;
mod apply;
mod backfill;
mod changes;
mod handler_queue;
mod idempotency;
mod media;
mod pending;
mod state;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use self::apply::Upsert;
use self::state::State;
use super::account::{Account, AccountStatus, NewAccount};
use super::api::{ApplyReport, MessageStore, OutboundMessage, RawEvent, TenantEvent};
use super::backfill::BackfillProgress;
use super::changes::{ChangeNotice, ChangeNotices, ChangePage};
use super::conversation::{Conversation, ParticipantProfile};
use super::cursor::{Cursor, ListKind};
use super::deliveries::{DeliveryTallies, DeliveryTally};
use super::error::StoreError;
use super::failpoint::FailPoint;
use super::handler_queue::{HandlerLease, LeaseRequest, QueuedEvent};
use super::idempotency::{
    IdempotencyClaim, IdempotencyClaimRequest, IdempotencyKey, IdempotentAnswer,
};
use super::media::{MediaRecord, NewMedia, StoredMediaId, record_together};
use super::model::{Direction, StoredMessage};
use super::nul::cleaned;
use super::owner::ThreadOwner;
use super::plan::{ConversationKey, Plan, Target, now_ms};
use super::query::{ConversationQuery, MessageQuery, Order, StorePage, into_page, page_size};
use super::unrouted::{UnroutedEvent, UnroutedTally};
use crate::ids::{AccountId, MessageId, TenantId, UserId};
use crate::ids::{ConversationId, StoredMessageId};
use crate::platform::Platform;

/// A [`MessageStore`] in process memory: nothing survives a restart.
///
/// It defines what every backend must do (the conformance suite compares the others with the
/// same expectations); use it in tests and demos. Lists scan every row, so keep it small.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
    idempotency: idempotency::IdempotencyRecords,
    backfills: backfill::BackfillRows,
    handler_queue: handler_queue::HandlerQueue,
    fail: FailPoint,
    notices: ChangeNotices,
    /// The delivery log: apart from `state`, since it is written apart from the events.
    deliveries: Mutex<DeliveryTallies>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The store's [`FailPoint`], to make one of its next writes fail.
    #[cfg(any(test, feature = "test-util"))]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub fn fail_point(&self) -> &FailPoint {
        &self.fail
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock happens before a write commits or after it is
        // undone, so the state is consistent either way.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_deliveries(&self) -> MutexGuard<'_, DeliveryTallies> {
        // Each tally is added whole under the lock: a panic cannot leave one half-added.
        self.deliveries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&mut state::Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let notices = {
            let mut state = self.lock();
            let mut tx = state.begin(&self.fail);
            match f(&mut tx) {
                Ok(value) => (value, tx.commit(now_ms())),
                Err(err) => {
                    tx.rollback();
                    return Err(err);
                }
            }
        };
        let (value, notices) = notices;
        self.notices.send(notices);
        Ok(value)
    }

    fn conversation_mut(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        change: impl FnOnce(&mut Conversation, &mut state::Tx<'_>) -> Result<(), StoreError>,
    ) -> Result<Conversation, StoreError> {
        self.write(|tx| {
            let mut c = tx
                .state()
                .conversations
                .get(&id.get())
                .filter(|c| c.tenant_id == *tenant)
                .cloned()
                .ok_or_else(|| not_found("conversation", id))?;
            change(&mut c, tx)?;
            tx.put_conversation(c.clone())?;
            Ok(c)
        })
    }
}

pub(super) fn not_found(what: &'static str, id: impl ToString) -> StoreError {
    StoreError::NotFound {
        what,
        id: id.to_string(),
    }
}

pub(super) fn tenant_check(tenant: &TenantId) -> Result<(), StoreError> {
    if tenant.as_str().is_empty() {
        return Err(StoreError::invalid("an empty tenant id"));
    }
    Ok(())
}

fn message_matches(m: &StoredMessage, q: &MessageQuery) -> bool {
    q.platform.is_none_or(|p| m.platform == p)
        && q.account_id.as_ref().is_none_or(|a| m.account_id == *a)
        && q.conversation_id.is_none_or(|c| m.conversation_id == c)
        && q.direction.is_none_or(|d| m.direction == d)
        && q.since_ms.is_none_or(|t| m.timestamp_ms >= t)
        && q.until_ms.is_none_or(|t| m.timestamp_ms < t)
}

/// Whether a row with sort key `(key, id)` comes after the cursor position in this order.
fn after_cursor(order: Order, (key, id): (i64, i64), cursor: Option<(i64, i64)>) -> bool {
    match (cursor, order) {
        (None, _) => true,
        (Some(c), Order::NewestFirst) => (key, id) < c,
        (Some(c), Order::OldestFirst) => (key, id) > c,
    }
}

fn sort_keyed<T>(rows: &mut [T], order: Order, key: impl Fn(&T) -> (i64, i64)) {
    rows.sort_by_key(|r| key(r));
    if order == Order::NewestFirst {
        rows.reverse();
    }
}

// Every id and value a method is handed is cleaned of NUL first (`nul.rs`), as the SQL
// backends must (PostgreSQL refuses NUL in text), so that all of them keep the same values.
#[async_trait]
impl MessageStore for InMemoryStore {
    async fn apply(&self, events: &[TenantEvent]) -> Result<ApplyReport, StoreError> {
        for e in events {
            tenant_check(&e.tenant_id)?;
        }
        let plan = Plan::from_events(events);
        self.fail
            .transaction_sync(&plan, || self.write(|tx| tx.apply(&plan)))
    }

    async fn record_outbound(
        &self,
        tenant: &TenantId,
        message: &OutboundMessage,
    ) -> Result<StoredMessage, StoreError> {
        tenant_check(tenant)?;
        let plan = Plan::from_outbound(tenant, message);
        let id = self.fail.transaction_sync(&plan, || {
            self.write(|tx| {
                let mut id = None;
                for row in &plan.messages {
                    id = Some(match tx.upsert_message(row)? {
                        Upsert::Inserted(id) => {
                            tx.settle(&[Target {
                                tenant_id: row.tenant_id.clone(),
                                platform: row.platform,
                                message_id: row.message_id.clone(),
                            }])?;
                            id
                        }
                        Upsert::Merged(id) | Upsert::Unchanged(id) => id,
                    });
                }
                Ok(id)
            })
        })?;
        let id = id.ok_or_else(|| StoreError::invalid("nothing to record"))?;
        self.get_message(tenant, StoredMessageId::new(id))
            .await?
            .ok_or_else(|| not_found("message", message.message_id.as_str()))
    }

    async fn record_unrouted(&self, events: &[UnroutedEvent]) -> Result<u64, StoreError> {
        let rows: Vec<_> = events.iter().map(UnroutedEvent::row).collect();
        self.write(|tx| {
            let mut new = 0;
            for row in &rows {
                new += u64::from(tx.insert_unrouted(row)?);
            }
            Ok(new)
        })
    }

    async fn unrouted_count(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<u64, StoreError> {
        let account_id = &cleaned(account_id);
        let state = self.lock();
        let n = state
            .unrouted
            .values()
            .filter(|e| e.platform == platform && e.account_id == *account_id)
            .count();
        Ok(n as u64)
    }

    async fn unrouted_tallies(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Vec<UnroutedTally>, StoreError> {
        let account_id = &cleaned(account_id);
        let state = self.lock();
        let mut by_reason: BTreeMap<&str, (u64, i64)> = BTreeMap::new();
        for kept in state
            .unrouted
            .values()
            .filter(|e| e.platform == platform && e.account_id == *account_id)
        {
            let reason = kept.reason.as_deref().unwrap_or_default();
            let (count, last) = by_reason.entry(reason).or_insert((0, kept.received_at_ms));
            *count += 1;
            *last = (*last).max(kept.received_at_ms);
        }
        Ok(by_reason
            .into_iter()
            .map(|(reason, (count, last))| {
                let reason = reason.parse().unwrap_or_else(|never| match never {});
                UnroutedTally::new(reason, count, last)
            })
            .collect())
    }

    async fn record_deliveries(&self, tallies: &[DeliveryTally]) -> Result<(), StoreError> {
        // One write per tally, as in SQL; all of them counted before any is added, so a failed
        // one adds nothing.
        for _ in tallies {
            self.fail.hit()?;
        }
        let mut log = self.lock_deliveries();
        for tally in tallies {
            log.add(&cleaned(tally));
        }
        Ok(())
    }

    async fn delivery_tallies(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Vec<DeliveryTally>, StoreError> {
        Ok(self.lock_deliveries().of(platform, &cleaned(account_id)))
    }

    async fn unrouted_events(
        &self,
        platform: Platform,
        account_id: &AccountId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<RawEvent>, StoreError> {
        let size = page_size(limit)?;
        let account_id = &cleaned(account_id);
        let state = self.lock();
        Ok(state
            .unrouted
            .range(after.saturating_add(1)..)
            .map(|(_, e)| e)
            .filter(|e| e.platform == platform && e.account_id == *account_id)
            .take(size)
            .cloned()
            .collect())
    }

    async fn get_message(
        &self,
        tenant: &TenantId,
        id: StoredMessageId,
    ) -> Result<Option<StoredMessage>, StoreError> {
        let tenant = &cleaned(tenant);
        let state = self.lock();
        state
            .messages
            .get(&id.get())
            .filter(|e| e.message.tenant_id == *tenant)
            .map(|e| e.view(true))
            .transpose()
    }

    async fn find_message(
        &self,
        tenant: &TenantId,
        platform: Platform,
        message_id: &MessageId,
    ) -> Result<Option<StoredMessage>, StoreError> {
        let target = Target {
            tenant_id: cleaned(tenant),
            platform,
            message_id: cleaned(message_id),
        };
        let id = self.lock().message_id_of(&target);
        match id {
            Some(id) => self.get_message(tenant, StoredMessageId::new(id)).await,
            None => Ok(None),
        }
    }

    async fn list_messages(
        &self,
        tenant: &TenantId,
        query: &MessageQuery,
    ) -> Result<StorePage<StoredMessage>, StoreError> {
        let (tenant, query) = (&cleaned(tenant), &cleaned(query));
        let size = page_size(query.limit)?;
        let cursor = query
            .cursor
            .as_ref()
            .map(|c| c.check(ListKind::Messages, query.order))
            .transpose()?;
        let state = self.lock();
        let key = |m: &StoredMessage| (m.timestamp_ms, m.id.get());
        let mut rows: Vec<&StoredMessage> = state
            .messages
            .values()
            .map(|e| &e.message)
            .filter(|m| m.tenant_id == *tenant && message_matches(m, query))
            .filter(|m| after_cursor(query.order, key(m), cursor))
            .collect();
        sort_keyed(&mut rows, query.order, |m| key(m));
        rows.truncate(size + 1);
        let rows = rows
            .into_iter()
            .map(|m| state.messages[&m.id.get()].view(query.include_raw))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(into_page(rows, size, |m| {
            Cursor::new(ListKind::Messages, query.order, m.timestamp_ms, m.id.get())
        }))
    }

    async fn count_messages(
        &self,
        tenant: &TenantId,
        query: &MessageQuery,
    ) -> Result<u64, StoreError> {
        let (tenant, query) = (&cleaned(tenant), &cleaned(query));
        let state = self.lock();
        let n = state
            .messages
            .values()
            .filter(|e| e.message.tenant_id == *tenant && message_matches(&e.message, query))
            .count();
        Ok(n as u64)
    }

    async fn get_conversation(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        let tenant = &cleaned(tenant);
        let state = self.lock();
        Ok(state
            .conversations
            .get(&id.get())
            .filter(|c| c.tenant_id == *tenant)
            .cloned())
    }

    async fn find_conversation(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
        participant_id: &UserId,
    ) -> Result<Option<Conversation>, StoreError> {
        let key = ConversationKey {
            tenant_id: cleaned(tenant),
            platform,
            account_id: cleaned(account_id),
            participant_id: cleaned(participant_id),
        };
        let state = self.lock();
        Ok(state
            .conversation_of(&key)
            .and_then(|id| state.conversations.get(&id))
            .cloned())
    }

    async fn list_conversations(
        &self,
        tenant: &TenantId,
        q: &ConversationQuery,
    ) -> Result<StorePage<Conversation>, StoreError> {
        let (tenant, q) = (&cleaned(tenant), &cleaned(q));
        let size = page_size(q.limit)?;
        let cursor = q
            .cursor
            .as_ref()
            .map(|c| c.check(ListKind::Conversations, q.order))
            .transpose()?;
        let state = self.lock();
        let key = |c: &Conversation| (c.last_message_at_ms, c.id.get());
        let mut rows: Vec<Conversation> = state
            .conversations
            .values()
            .filter(|c| {
                c.tenant_id == *tenant
                    && q.platform.is_none_or(|p| c.platform == p)
                    && q.account_id.as_ref().is_none_or(|a| c.account_id == *a)
                    && q.archived.is_none_or(|a| c.archived == a)
                    && q.kind.is_none_or(|k| c.kind == k)
                    && (!q.unread_only || c.unread_count > 0)
                    && after_cursor(q.order, key(c), cursor)
            })
            .cloned()
            .collect();
        sort_keyed(&mut rows, q.order, key);
        rows.truncate(size + 1);
        Ok(into_page(rows, size, |c| {
            Cursor::new(
                ListKind::Conversations,
                q.order,
                c.last_message_at_ms,
                c.id.get(),
            )
        }))
    }

    async fn mark_conversation_read(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Conversation, StoreError> {
        let now = now_ms();
        self.conversation_mut(&cleaned(tenant), id, |c, tx| {
            c.unread_count = 0;
            let unread: Vec<_> = tx
                .state()
                .messages
                .iter()
                .filter(|(_, e)| {
                    let m = &e.message;
                    m.conversation_id == id
                        && m.direction == Direction::Inbound
                        && m.read_at_ms.is_none()
                })
                .map(|(id, e)| (*id, e.clone()))
                .collect();
            for (mid, mut entry) in unread {
                entry.message.read_at_ms = Some(now);
                tx.put_message(mid, entry)?;
            }
            Ok(())
        })
    }

    async fn set_conversation_archived(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        archived: bool,
    ) -> Result<Conversation, StoreError> {
        self.conversation_mut(&cleaned(tenant), id, |c, _| {
            c.archived = archived;
            Ok(())
        })
    }

    async fn set_conversation_owner(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        owner: ThreadOwner,
    ) -> Result<Conversation, StoreError> {
        self.conversation_mut(&cleaned(tenant), id, |c, _| {
            c.owner = owner;
            Ok(())
        })
    }

    async fn set_participant_profile(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        profile: &ParticipantProfile,
    ) -> Result<Conversation, StoreError> {
        let profile = cleaned(profile);
        self.conversation_mut(&cleaned(tenant), id, |c, _| {
            c.participant = profile;
            Ok(())
        })
    }

    async fn upsert_account(
        &self,
        tenant: &TenantId,
        new: &NewAccount,
    ) -> Result<Account, StoreError> {
        self.upsert_account_now(&cleaned(tenant), &cleaned(new))
    }

    async fn get_account(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Option<Account>, StoreError> {
        let key = (cleaned(tenant), platform, cleaned(account_id));
        Ok(self.lock().accounts.get(&key).cloned())
    }

    async fn list_accounts(&self, tenant: &TenantId) -> Result<Vec<Account>, StoreError> {
        Ok(self.accounts_of(&cleaned(tenant)))
    }

    async fn set_account_status(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
        status: &AccountStatus,
    ) -> Result<Account, StoreError> {
        let status = cleaned(status);
        self.set_status_now(&cleaned(tenant), platform, &cleaned(account_id), &status)
    }

    async fn tenants_for_account(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Vec<TenantId>, StoreError> {
        Ok(self.tenants_of(platform, &cleaned(account_id)))
    }

    async fn account_registered(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<bool, StoreError> {
        let account_id = cleaned(account_id);
        Ok(self
            .lock()
            .accounts
            .values()
            .any(|a| a.platform == platform && a.account_id == account_id))
    }

    async fn changes_after(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<ChangePage, StoreError> {
        tenant_check(tenant)?;
        self.changes_now(tenant, after, limit)
    }

    async fn change_head(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        Ok(self.lock().logs.get(tenant).map_or(0, |log| log.head))
    }

    async fn prune_changes(&self, before_ms: i64) -> Result<u64, StoreError> {
        Ok(self.prune_now(before_ms) + self.handler_queue.prune(before_ms))
    }

    fn change_notices(&self) -> tokio::sync::broadcast::Receiver<ChangeNotice> {
        self.notices.subscribe()
    }

    async fn save_backfill(
        &self,
        tenant: &TenantId,
        progress: &BackfillProgress,
    ) -> Result<(), StoreError> {
        tenant_check(tenant)?;
        self.backfills.save(&cleaned(tenant), cleaned(progress));
        Ok(())
    }

    async fn backfill_progress(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Option<BackfillProgress>, StoreError> {
        Ok(self
            .backfills
            .get(&cleaned(tenant), platform, &cleaned(account_id)))
    }

    async fn interrupted_backfills(&self) -> Result<Vec<(TenantId, BackfillProgress)>, StoreError> {
        Ok(self.backfills.interrupted())
    }

    async fn claim_idempotency_key(
        &self,
        tenant: &TenantId,
        claim: &IdempotencyClaimRequest,
    ) -> Result<IdempotencyClaim, StoreError> {
        tenant_check(tenant)?;
        Ok(self.idempotency.claim(tenant, claim))
    }

    async fn finish_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
        answer: &IdempotentAnswer,
    ) -> Result<(), StoreError> {
        self.idempotency.finish(tenant, key, answer)
    }

    async fn release_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        self.idempotency.release(tenant, key);
        Ok(())
    }

    async fn prune_idempotency_keys(&self, now_ms: i64) -> Result<u64, StoreError> {
        Ok(self.idempotency.prune(now_ms))
    }

    async fn queue_handler_events(&self, events: &[TenantEvent]) -> Result<u64, StoreError> {
        self.fail.hit()?;
        Ok(self.handler_queue.queue(events))
    }

    async fn register_handler(&self, handler: &str) -> Result<(), StoreError> {
        self.handler_queue.register(handler);
        Ok(())
    }

    async fn lease_handler_work(
        &self,
        request: &LeaseRequest,
    ) -> Result<Option<HandlerLease>, StoreError> {
        Ok(self.handler_queue.lease(request))
    }

    async fn handler_events_after(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<QueuedEvent>, StoreError> {
        self.handler_queue.after(tenant, after, limit)
    }

    async fn release_handler_lease(
        &self,
        handler: &str,
        tenant: &TenantId,
        owner: &str,
        cursor: u64,
        retry_at_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        Ok(self
            .handler_queue
            .release(handler, tenant, owner, cursor, retry_at_ms))
    }

    async fn extend_handler_lease(
        &self,
        handler: &str,
        tenant: &TenantId,
        owner: &str,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.handler_queue.extend(handler, tenant, owner, until_ms))
    }

    async fn handler_cursor(
        &self,
        handler: &str,
        tenant: &TenantId,
    ) -> Result<Option<HandlerLease>, StoreError> {
        Ok(self.handler_queue.cursor(handler, tenant))
    }

    async fn record_media_batch(
        &self,
        items: &[(TenantId, NewMedia)],
    ) -> Vec<Result<Option<StoredMessage>, StoreError>> {
        record_together(items, tenant_check, |items| {
            std::future::ready(self.record_media_now(&items))
        })
        .await
    }

    async fn get_media(
        &self,
        tenant: &TenantId,
        id: &StoredMediaId,
    ) -> Result<Option<MediaRecord>, StoreError> {
        Ok(self.get_media_now(&cleaned(tenant), id))
    }

    async fn delete_message_media(
        &self,
        tenant: &TenantId,
        message: StoredMessageId,
    ) -> Result<Vec<MediaRecord>, StoreError> {
        Ok(self.delete_message_media_now(&cleaned(tenant), message))
    }

    async fn prune_media(&self, before_ms: i64) -> Result<Vec<MediaRecord>, StoreError> {
        Ok(self.delete_media_where(|r| r.created_at_ms < before_ms))
    }

    async fn media_in_use(&self, sha256: &str) -> Result<bool, StoreError> {
        Ok(self.media_in_use_now(sha256))
    }

    async fn list_raw_events(
        &self,
        tenant: &TenantId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<RawEvent>, StoreError> {
        let size = page_size(limit)?;
        let tenant = &cleaned(tenant);
        let state = self.lock();
        Ok(state
            .raw
            .values()
            .rev()
            .filter(|r| r.tenant_id == *tenant && before.is_none_or(|b| r.id < b))
            .take(size)
            .cloned()
            .collect())
    }
}
