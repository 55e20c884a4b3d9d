//! Conversations: reading one or a filtered page, and the changes a user makes (marking read,
//! archiving, the participant's profile).

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::Engine;
use super::dynamic::{DynamicQuery, push_keyset};
use crate::ids::ConversationId;
use crate::ids::{AccountId, TenantId, UserId};
use crate::platform::Platform;
use crate::store::changes::ChangeSet;
use crate::store::conversation::{Conversation, ParticipantProfile};
use crate::store::cursor::{Cursor, ListKind};
use crate::store::error::StoreError;
use crate::store::owner::ThreadOwner;
use crate::store::plan::now_ms;
use crate::store::query::{ConversationQuery, StorePage, into_page, page_size};
use crate::store::sql::dialect::SqlDialect;
use crate::store::sql::{CONVERSATION_COLUMNS, ConversationRecord};

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
    pub(super) async fn get_conversation(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = $1 AND id = $2"
        );
        let record = sqlx::query_as::<DB, ConversationRecord>(&sql)
            .bind(tenant.as_str())
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("reading a conversation"))?;
        Ok(record.map(ConversationRecord::into_model))
    }

    pub(super) async fn find_conversation(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
        participant_id: &UserId,
    ) -> Result<Option<Conversation>, StoreError> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = $1 \
             AND platform = $2 AND account_id = $3 AND participant_id = $4"
        );
        let record = sqlx::query_as::<DB, ConversationRecord>(&sql)
            .bind(tenant.as_str())
            .bind(platform.as_str())
            .bind(account_id.as_str())
            .bind(participant_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("finding a conversation"))?;
        Ok(record.map(ConversationRecord::into_model))
    }

    pub(super) async fn list_conversations(
        &self,
        tenant: &TenantId,
        f: &ConversationQuery,
    ) -> Result<StorePage<Conversation>, StoreError> {
        let size = page_size(f.limit)?;
        let cursor = f
            .cursor
            .as_ref()
            .map(|c| c.check(ListKind::Conversations, f.order))
            .transpose()?;
        let mut q = DynamicQuery::<DB>::new(format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = "
        ));
        q.push_bind(tenant.as_str());
        if let Some(kind) = f.kind {
            q.push(" AND kind = ").push_bind(kind.as_str());
        }
        if let Some(p) = f.platform {
            q.push(" AND platform = ").push_bind(p.as_str());
        }
        if let Some(a) = &f.account_id {
            q.push(" AND account_id = ").push_bind(a.as_str());
        }
        // Literal, not bound: the planner can use the partial index `WHERE archived` only
        // when the query says so in the same words.
        match f.archived {
            Some(true) => q.push(" AND archived"),
            Some(false) => q.push(" AND NOT archived"),
            None => &mut q,
        };
        if f.unread_only {
            q.push(" AND unread_count > 0");
        }
        push_keyset(&mut q, "last_message_at_ms", f.order, cursor, size + 1);
        let (sql, args) = q
            .into_parts()
            .map_err(StoreError::db("listing conversations"))?;
        let rows = sqlx::query_as_with::<DB, ConversationRecord, _>(&sql, args)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("listing conversations"))?
            .into_iter()
            .map(ConversationRecord::into_model)
            .collect();
        Ok(into_page(rows, size, |c| {
            Cursor::new(
                ListKind::Conversations,
                f.order,
                c.last_message_at_ms,
                c.id.get(),
            )
        }))
    }

    /// Runs one conversation update for a tenant and returns the conversation after it.
    async fn update_conversation<F>(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        set: &str,
        bind: F,
    ) -> Result<Conversation, StoreError>
    where
        F: for<'q> FnOnce(
            sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
        )
            -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    {
        const OP: &str = "updating a conversation";
        let mut tx = self.begin().await?;
        let sql = format!("UPDATE conversations SET {set} WHERE tenant_id = $1 AND id = $2");
        let query = sqlx::query::<DB>(&sql).bind(tenant.as_str()).bind(id.get());
        let done = bind(query)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::db(OP))?;
        if DB::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound {
                what: "conversation",
                id: id.to_string(),
            });
        }
        let mut changes = ChangeSet::default();
        changes.conversation_updated(tenant, id.get());
        self.commit_changes(tx, changes).await?;
        self.get_conversation(tenant, id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "conversation",
                id: id.to_string(),
            })
    }

    pub(super) async fn mark_conversation_read(
        &self,
        tenant: &TenantId,
        id: ConversationId,
    ) -> Result<Conversation, StoreError> {
        const OP: &str = "marking a conversation read";
        let mut tx = self.begin().await?;
        let done = sqlx::query::<DB>(
            "UPDATE conversations SET unread_count = 0 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.get())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db(OP))?;
        if DB::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound {
                what: "conversation",
                id: id.to_string(),
            });
        }
        let read: Vec<i64> = sqlx::query_scalar::<DB, i64>(
            "UPDATE messages SET read_at_ms = $3 WHERE tenant_id = $1 AND conversation_id = $2 \
             AND direction = 'inbound' AND read_at_ms IS NULL RETURNING id",
        )
        .bind(tenant.as_str())
        .bind(id.get())
        .bind(now_ms())
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::db(OP))?;
        let mut changes = ChangeSet::default();
        for message in read {
            changes.message_updated(tenant, message, id.get());
        }
        changes.conversation_updated(tenant, id.get());
        self.commit_changes(tx, changes).await?;
        self.get_conversation(tenant, id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "conversation",
                id: id.to_string(),
            })
    }

    pub(super) async fn set_conversation_archived(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        archived: bool,
    ) -> Result<Conversation, StoreError> {
        self.update_conversation(tenant, id, "archived = $3", |q| q.bind(archived))
            .await
    }

    pub(super) async fn set_conversation_owner(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        owner: ThreadOwner,
    ) -> Result<Conversation, StoreError> {
        self.update_conversation(tenant, id, "owner = $3", |q| q.bind(owner.as_str()))
            .await
    }

    pub(super) async fn set_participant_profile(
        &self,
        tenant: &TenantId,
        id: ConversationId,
        p: &ParticipantProfile,
    ) -> Result<Conversation, StoreError> {
        let set =
            "participant_name = $3, participant_username = $4, participant_profile_pic_url = $5";
        self.update_conversation(tenant, id, set, |q| {
            q.bind(p.name.clone())
                .bind(p.username.clone())
                .bind(p.profile_pic_url.clone())
        })
        .await
    }
}
