//! [`SqlStore`]: the public store type of each database (`SqliteStore`, `PostgresStore`) and its
//! [`MessageStore`] implementation.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::Engine;
use crate::ids::{AccountId, MessageId, TenantId, UserId};
use crate::ids::{ConversationId, StoredMessageId};
use crate::platform::Platform;
use crate::store::account::{Account, AccountStatus, NewAccount};
use crate::store::api::{ApplyReport, MessageStore, OutboundMessage, RawEvent, TenantEvent};
use crate::store::backfill::BackfillProgress;
use crate::store::batch::{BatchConfig, GroupCommit, PlanOutcome, PlanWriter};
use crate::store::changes::{ChangeNotice, ChangePage};
use crate::store::conversation::{Conversation, ParticipantProfile};
use crate::store::deliveries::DeliveryTally;
use crate::store::error::StoreError;
use crate::store::handler_queue::{HandlerLease, LeaseRequest, QueuedEvent};
use crate::store::idempotency::{
    IdempotencyClaim, IdempotencyClaimRequest, IdempotencyKey, IdempotentAnswer,
};
use crate::store::media::{MediaRecord, NewMedia, StoredMediaId, record_together};
use crate::store::model::StoredMessage;
use crate::store::nul::{Clean, cleaned};
use crate::store::owner::ThreadOwner;
use crate::store::plan::Plan;
use crate::store::query::{ConversationQuery, MessageQuery, StorePage};
use crate::store::sql::dialect::SqlDialect;
use crate::store::unrouted::{UnroutedEvent, UnroutedTally};

/// A [`MessageStore`] in a SQL database: the type behind `SqliteStore` (feature `sqlite`) and
/// `PostgresStore` (feature `postgres`), which open it. Both run the same statements; `DB` is
/// `sqlx::Sqlite` or `sqlx::Postgres`.
pub struct SqlStore<DB: sqlx::Database> {
    engine: Arc<Engine<DB>>,
    commit: GroupCommit,
}

impl<DB: sqlx::Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            engine: Arc::clone(&self.engine),
            commit: self.commit.clone(),
        }
    }
}

impl<DB: SqlDialect> fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(DB::STORE_NAME).finish_non_exhaustive()
    }
}

#[async_trait]
impl<DB: SqlDialect> PlanWriter for Engine<DB>
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
    async fn write(&self, plans: &[Plan]) -> Result<Vec<PlanOutcome>, StoreError> {
        self.fail.transaction(plans, self.write_plans(plans)).await
    }
}

impl<DB: sqlx::Database> SqlStore<DB> {
    pub(crate) fn start(engine: Engine<DB>, batch: BatchConfig) -> Self
    where
        Engine<DB>: PlanWriter,
    {
        let engine = Arc::new(engine);
        let commit = GroupCommit::start(Arc::clone(&engine), batch);
        Self { engine, commit }
    }

    /// The store's [`FailPoint`](crate::store::FailPoint), to make one of its next writes fail.
    #[cfg(any(test, feature = "test-util"))]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub fn fail_point(&self) -> &crate::store::FailPoint {
        &self.engine.fail
    }
}

fn check_tenant(tenant: &TenantId) -> Result<(), StoreError> {
    if tenant.as_str().is_empty() {
        return Err(StoreError::invalid("an empty tenant id"));
    }
    Ok(())
}

// Every id and value a method is handed is cleaned of NUL first (`nul.rs`), so that a lookup
// finds what a write with the same id stored, as in the other backends.
#[async_trait]
impl<DB: SqlDialect> MessageStore for SqlStore<DB>
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
    async fn ready(&self) -> Result<(), StoreError> {
        // One round trip: it reaches the database and reads the schema's version.
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.engine.pool)
                .await
                .map_err(StoreError::db("checking the database is ready"))?;
        let (applied, expected) = (applied.unwrap_or(0), self.engine.latest_migration);
        if applied < expected {
            return Err(StoreError::MigrationsPending { applied, expected });
        }
        Ok(())
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.commit.flush().await;
        Ok(())
    }

    async fn apply(&self, events: &[TenantEvent]) -> Result<ApplyReport, StoreError> {
        for e in events {
            check_tenant(&e.tenant_id)?;
        }
        if events.is_empty() {
            return Ok(ApplyReport::default());
        }
        let outcome = self.commit.submit(Plan::from_events(events)).await?;
        Ok(outcome.report)
    }

    async fn record_outbound(
        &self,
        tenant: &TenantId,
        message: &OutboundMessage,
    ) -> Result<StoredMessage, StoreError> {
        check_tenant(tenant)?;
        let outcome = self
            .commit
            .submit(Plan::from_outbound(tenant, message))
            .await?;
        let id = outcome
            .message_ids
            .first()
            .copied()
            .ok_or(StoreError::WriterStopped)?;
        self.engine
            .get_message(&cleaned(tenant), StoredMessageId::new(id))
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "message",
                id: message.message_id.to_string(),
            })
    }

    async fn record_unrouted(&self, events: &[UnroutedEvent]) -> Result<u64, StoreError> {
        let rows: Vec<_> = events.iter().map(UnroutedEvent::row).collect();
        self.engine.record_unrouted(&rows).await
    }

    async fn unrouted_events(
        &self,
        platform: Platform,
        account_id: &AccountId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<RawEvent>, StoreError> {
        self.engine
            .unrouted_events(platform, &cleaned(account_id), after, limit)
            .await
    }

    async fn unrouted_count(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<u64, StoreError> {
        self.engine
            .unrouted_count(platform, &cleaned(account_id))
            .await
    }

    async fn unrouted_tallies(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Vec<UnroutedTally>, StoreError> {
        self.engine
            .unrouted_tallies(platform, &cleaned(account_id))
            .await
    }

    async fn record_deliveries(&self, tallies: &[DeliveryTally]) -> Result<(), StoreError> {
        let mut tallies = tallies.to_vec();
        tallies.clean();
        self.engine.record_deliveries(&tallies).await
    }

    async fn delivery_tallies(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Vec<DeliveryTally>, StoreError> {
        self.engine
            .delivery_tallies(platform, &cleaned(account_id))
            .await
    }

    async fn get_message(
        &self,
        tenant: &TenantId,
        id: StoredMessageId,
    ) -> Result<Option<StoredMessage>, StoreError> {
        self.engine.get_message(&cleaned(tenant), id).await
    }

    async fn find_message(
        &self,
        tenant: &TenantId,
        platform: Platform,
        message_id: &MessageId,
    ) -> Result<Option<StoredMessage>, StoreError> {
        self.engine
            .find_message(&cleaned(tenant), platform, &cleaned(message_id))
            .await
    }

    async fn list_messages(
        &self,
        tenant: &TenantId,
        query: &MessageQuery,
    ) -> Result<StorePage<StoredMessage>, StoreError> {
        self.engine
            .list_messages(&cleaned(tenant), &cleaned(query))
            .await
    }

    async fn count_messages(
        &self,
        tenant: &TenantId,
        query: &MessageQuery,
    ) -> Result<u64, StoreError> {
        self.engine
            .count_messages(&cleaned(tenant), &cleaned(query))
            .await
    }

    async fn get_conversation(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        self.engine.get_conversation(&cleaned(tenant), id).await
    }

    async fn find_conversation(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
        participant_id: &UserId,
    ) -> Result<Option<Conversation>, StoreError> {
        self.engine
            .find_conversation(
                &cleaned(tenant),
                platform,
                &cleaned(account_id),
                &cleaned(participant_id),
            )
            .await
    }

    async fn list_conversations(
        &self,
        tenant: &TenantId,
        query: &ConversationQuery,
    ) -> Result<StorePage<Conversation>, StoreError> {
        self.engine
            .list_conversations(&cleaned(tenant), &cleaned(query))
            .await
    }

    async fn mark_conversation_read(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Conversation, StoreError> {
        self.engine
            .mark_conversation_read(&cleaned(tenant), id)
            .await
    }

    async fn set_conversation_archived(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        archived: bool,
    ) -> Result<Conversation, StoreError> {
        self.engine
            .set_conversation_archived(&cleaned(tenant), id, archived)
            .await
    }

    async fn set_conversation_owner(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        owner: ThreadOwner,
    ) -> Result<Conversation, StoreError> {
        self.engine
            .set_conversation_owner(&cleaned(tenant), id, owner)
            .await
    }

    async fn set_participant_profile(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        profile: &ParticipantProfile,
    ) -> Result<Conversation, StoreError> {
        self.engine
            .set_participant_profile(&cleaned(tenant), id, &cleaned(profile))
            .await
    }

    async fn upsert_account(
        &self,
        tenant: &TenantId,
        account: &NewAccount,
    ) -> Result<Account, StoreError> {
        check_tenant(tenant)?;
        self.engine
            .upsert_account(&cleaned(tenant), &cleaned(account))
            .await
    }

    async fn get_account(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Option<Account>, StoreError> {
        self.engine
            .get_account(&cleaned(tenant), platform, &cleaned(account_id))
            .await
    }

    async fn list_accounts(&self, tenant: &TenantId) -> Result<Vec<Account>, StoreError> {
        self.engine.list_accounts(&cleaned(tenant)).await
    }

    async fn set_account_status(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
        status: &AccountStatus,
    ) -> Result<Account, StoreError> {
        self.engine
            .set_account_status(
                &cleaned(tenant),
                platform,
                &cleaned(account_id),
                &cleaned(status),
            )
            .await
    }

    async fn tenants_for_account(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Vec<TenantId>, StoreError> {
        self.engine
            .tenants_for_account(platform, &cleaned(account_id))
            .await
    }

    async fn account_registered(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<bool, StoreError> {
        self.engine
            .account_registered(platform, &cleaned(account_id))
            .await
    }

    async fn changes_after(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<ChangePage, StoreError> {
        check_tenant(tenant)?;
        self.engine.changes_after(tenant, after, limit).await
    }

    async fn change_head(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        self.engine.change_head(tenant).await
    }

    async fn prune_changes(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.engine.prune_changes(before_ms).await
    }

    fn change_notices(&self) -> tokio::sync::broadcast::Receiver<ChangeNotice> {
        self.engine.notices.subscribe()
    }

    fn follow_changes(&self, following: bool) {
        self.engine.notices.follow(following);
    }

    async fn record_media_batch(
        &self,
        items: &[(TenantId, NewMedia)],
    ) -> Vec<Result<Option<StoredMessage>, StoreError>> {
        record_together(items, check_tenant, |items| self.engine.record_media(items)).await
    }

    async fn get_media(
        &self,
        tenant: &TenantId,
        id: &StoredMediaId,
    ) -> Result<Option<MediaRecord>, StoreError> {
        self.engine.get_media(&cleaned(tenant), id).await
    }

    async fn delete_message_media(
        &self,
        tenant: &TenantId,
        message: StoredMessageId,
    ) -> Result<Vec<MediaRecord>, StoreError> {
        self.engine
            .delete_message_media(&cleaned(tenant), message)
            .await
    }

    async fn prune_media(&self, before_ms: i64) -> Result<Vec<MediaRecord>, StoreError> {
        self.engine.prune_media(before_ms).await
    }

    async fn media_in_use(&self, sha256: &str) -> Result<bool, StoreError> {
        self.engine.media_in_use(sha256).await
    }

    async fn list_raw_events(
        &self,
        tenant: &TenantId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<RawEvent>, StoreError> {
        self.engine
            .list_raw_events(&cleaned(tenant), before, limit)
            .await
    }

    async fn reseal_tokens(&self) -> Result<usize, StoreError> {
        self.engine.reseal_tokens().await
    }

    async fn save_backfill(
        &self,
        tenant: &TenantId,
        progress: &BackfillProgress,
    ) -> Result<(), StoreError> {
        check_tenant(tenant)?;
        self.engine
            .save_backfill(&cleaned(tenant), &cleaned(progress))
            .await
    }

    async fn backfill_progress(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Option<BackfillProgress>, StoreError> {
        self.engine
            .backfill_progress(&cleaned(tenant), platform, &cleaned(account_id))
            .await
    }

    async fn interrupted_backfills(&self) -> Result<Vec<(TenantId, BackfillProgress)>, StoreError> {
        self.engine.interrupted_backfills().await
    }

    async fn claim_idempotency_key(
        &self,
        tenant: &TenantId,
        claim: &IdempotencyClaimRequest,
    ) -> Result<IdempotencyClaim, StoreError> {
        check_tenant(tenant)?;
        self.engine.claim_idempotency_key(tenant, claim).await
    }

    async fn finish_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
        answer: &IdempotentAnswer,
    ) -> Result<(), StoreError> {
        self.engine
            .finish_idempotency_key(tenant, key, answer)
            .await
    }

    async fn release_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        self.engine.release_idempotency_key(tenant, key).await
    }

    async fn prune_idempotency_keys(&self, now_ms: i64) -> Result<u64, StoreError> {
        self.engine.prune_idempotency_keys(now_ms).await
    }

    async fn queue_handler_events(&self, events: &[TenantEvent]) -> Result<u64, StoreError> {
        for event in events {
            check_tenant(&event.tenant_id)?;
        }
        self.engine.queue_handler_events(events).await
    }

    async fn register_handler(&self, handler: &str) -> Result<(), StoreError> {
        self.engine.register_handler(handler).await
    }

    async fn lease_handler_work(
        &self,
        request: &LeaseRequest,
    ) -> Result<Option<HandlerLease>, StoreError> {
        self.engine.lease_handler_work(request).await
    }

    async fn handler_events_after(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<QueuedEvent>, StoreError> {
        self.engine.handler_events_after(tenant, after, limit).await
    }

    async fn release_handler_lease(
        &self,
        handler: &str,
        tenant: &TenantId,
        owner: &str,
        cursor: u64,
        retry_at_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.engine
            .release_handler_lease(handler, tenant, owner, cursor, retry_at_ms)
            .await
    }

    async fn extend_handler_lease(
        &self,
        handler: &str,
        tenant: &TenantId,
        owner: &str,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        self.engine
            .extend_handler_lease(handler, tenant, owner, until_ms)
            .await
    }

    async fn handler_cursor(
        &self,
        handler: &str,
        tenant: &TenantId,
    ) -> Result<Option<HandlerLease>, StoreError> {
        self.engine.handler_cursor(handler, tenant).await
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use serde_json::{Value, json};

    use crate::ids::TenantId;
    use crate::store::{SqliteStore, StoreError, TenantEvent};
    use crate::webhook;

    use super::MessageStore;

    const PAGE: &str = "104417552380421";

    fn events(tenant: &TenantId, item: Value) -> Vec<TenantEvent> {
        let body = json!({"object": "page", "entry": [
            {"id": PAGE, "time": 1_700_000_000_000_i64, "messaging": [item]}]});
        webhook::parse(body.to_string().as_bytes())
            .expect("a valid delivery")
            .into_iter()
            .map(|event| TenantEvent::new(tenant.clone(), event))
            .collect()
    }

    #[tokio::test]
    async fn an_edit_of_a_message_whose_attachments_are_corrupt_fails() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path().join("store.db"))
            .await
            .expect("open");
        let tenant = TenantId::new("acme");
        let message = json!({"sender": {"id": "6758492015643287"}, "recipient": {"id": PAGE},
            "timestamp": 1_700_000_000_000_i64, "message": {"mid": "m_1", "text": "helo"}});
        store
            .apply(&events(&tenant, message))
            .await
            .expect("stored");
        sqlx::query("UPDATE messages SET attachments = 'not json'")
            .execute(&store.engine.pool)
            .await
            .expect("corrupted");
        let edit = json!({"sender": {"id": "6758492015643287"}, "recipient": {"id": PAGE},
            "timestamp": 1_700_000_001_000_i64,
            "message_edit": {"mid": "m_1", "text": "hello", "num_edit": 1}});
        let err = store
            .apply(&events(&tenant, edit))
            .await
            .expect_err("the corrupt row is not read as empty");
        assert!(
            matches!(
                err,
                StoreError::Corrupt {
                    what: "messages.attachments",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
