//! The change log in SQL: appending a transaction's changes under each tenant's sequence row,
//! reading a tenant's changes after a sequence number, pruning old ones.

use std::collections::HashMap;

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::dynamic::DynamicQuery;
use super::{Engine, Tx, commit};
use crate::ids::{AccountId, TenantId};
use crate::store::changes::{
    Change, ChangeKind, ChangeNotice, ChangePage, ChangeSet, ChangeSubject, PendingChange,
    change_page_size,
};
use crate::store::conversation::Conversation;
use crate::store::error::StoreError;
use crate::store::model::StoredMessage;
use crate::store::plan::now_ms;
use crate::store::sql::dialect::SqlDialect;
use crate::store::sql::{
    CHUNK_ROWS, CONVERSATION_COLUMNS, ConversationRecord, MESSAGE_COLUMNS, MessageRecord, platform,
};

const OP: &str = "writing the change log";
const READ: &str = "reading the change log";

/// A change row as read, before what it names is looked up.
struct LoggedChange {
    seq: u64,
    at_ms: i64,
    change: PendingChange,
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
    /// Appends a transaction's changes and commits it, then tells this process's listeners.
    ///
    /// The sequence rows are taken last, just before the commit, so a tenant's writers wait
    /// for each other only for as long as a commit takes; and since a writer holds its
    /// tenant's row until it commits, sequence numbers become visible in order.
    pub(super) async fn commit_changes(
        &self,
        mut tx: Tx<DB>,
        changes: ChangeSet,
    ) -> Result<(), StoreError> {
        if changes.is_empty() {
            return commit(tx).await;
        }
        let notices = self.append_changes(&mut tx, changes).await?;
        commit(tx).await?;
        self.notices.send(notices);
        Ok(())
    }

    async fn append_changes(
        &self,
        tx: &mut Tx<DB>,
        changes: ChangeSet,
    ) -> Result<Vec<ChangeNotice>, StoreError> {
        let now = now_ms();
        let mut notices = Vec::new();
        let (tenants, mut known) = changes.into_sorted();
        for (tenant, changes) in tenants {
            self.fail.hit()?;
            let head = DB::append_changes(tx, &tenant, &changes, now)
                .await
                .map_err(StoreError::db(OP))?;
            let head = u64::try_from(head).unwrap_or(0);
            let first = (head + 1).saturating_sub(u64::try_from(changes.len()).unwrap_or(u64::MAX));
            notices.push(ChangeNotice {
                accounts: changes
                    .iter()
                    .any(|c| matches!(c, PendingChange::Account(..))),
                changes: known.resolve(&changes, first, now),
                tenant_id: tenant,
                head,
            });
        }
        Ok(notices)
    }

    pub(super) async fn change_head(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        let head: Option<i64> =
            sqlx::query_scalar::<DB, i64>("SELECT seq FROM change_heads WHERE tenant_id = $1")
                .bind(tenant.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::db(READ))?;
        Ok(head.map_or(0, |h| u64::try_from(h).unwrap_or(0)))
    }

    pub(super) async fn changes_after(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<ChangePage, StoreError> {
        let size = change_page_size(limit)?;
        // The head first: every change up to it is committed, so the rows read next have no
        // hole a slower writer could still fill.
        let head = self.change_head(tenant).await?;
        let after_i = i64::try_from(after).unwrap_or(i64::MAX);
        let rows = sqlx::query::<DB>(
            "SELECT seq, at_ms, kind, conversation_id, message_id, account_platform, account_id \
             FROM changes WHERE tenant_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4",
        )
        .bind(tenant.as_str())
        .bind(after_i)
        .bind(i64::try_from(head).unwrap_or(i64::MAX))
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db(READ))?;
        let logged = rows
            .iter()
            .map(logged_change::<DB>)
            .collect::<Result<Vec<_>, _>>()?;
        let gap = after > head || logged.first().map_or(after < head, |c| c.seq != after + 1);
        let changes = self.resolve(tenant, logged).await?;
        Ok(ChangePage { changes, head, gap })
    }

    /// Reads what the changes name, two statements for the whole page.
    async fn resolve(
        &self,
        tenant: &TenantId,
        logged: Vec<LoggedChange>,
    ) -> Result<Vec<Change>, StoreError> {
        let mut message_ids = Vec::new();
        let mut conversation_ids = Vec::new();
        for c in &logged {
            match &c.change {
                PendingChange::Message { message, .. } => message_ids.push(*message),
                PendingChange::Conversation(id) => conversation_ids.push(*id),
                PendingChange::Account(..) => {}
            }
        }
        let messages = self.messages_by_id(tenant, message_ids).await?;
        let conversations = self.conversations_by_id(tenant, conversation_ids).await?;
        let mut changes = Vec::with_capacity(logged.len());
        for LoggedChange { seq, at_ms, change } in logged {
            let subject = match change {
                PendingChange::Message { kind, message, .. } => {
                    match (messages.get(&message), kind) {
                        (None, _) => continue,
                        (Some(m), ChangeKind::MessageStored) => {
                            ChangeSubject::MessageStored(Box::new(m.clone()))
                        }
                        (Some(m), _) => ChangeSubject::MessageUpdated(Box::new(m.clone())),
                    }
                }
                PendingChange::Conversation(id) => match conversations.get(&id) {
                    Some(c) => ChangeSubject::ConversationUpdated(Box::new(c.clone())),
                    None => continue,
                },
                PendingChange::Account(platform, account_id) => ChangeSubject::AccountChanged {
                    platform,
                    account_id,
                },
            };
            changes.push(Change {
                seq,
                at_ms,
                subject,
            });
        }
        Ok(changes)
    }

    async fn messages_by_id(
        &self,
        tenant: &TenantId,
        mut ids: Vec<i64>,
    ) -> Result<HashMap<i64, StoredMessage>, StoreError> {
        ids.sort_unstable();
        ids.dedup();
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK_ROWS) {
            let mut q = DynamicQuery::<DB>::new(format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant_id = "
            ));
            q.push_bind(tenant.as_str().to_owned()).push(" AND id IN (");
            push_list(&mut q, chunk);
            let (sql, args) = q.into_parts().map_err(StoreError::db(READ))?;
            let records = sqlx::query_as_with::<DB, MessageRecord, _>(&sql, args)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::db(READ))?;
            for record in records {
                let message = record.into_model()?;
                found.insert(message.id.get(), message);
            }
        }
        Ok(found)
    }

    async fn conversations_by_id(
        &self,
        tenant: &TenantId,
        mut ids: Vec<i64>,
    ) -> Result<HashMap<i64, Conversation>, StoreError> {
        ids.sort_unstable();
        ids.dedup();
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK_ROWS) {
            let mut q = DynamicQuery::<DB>::new(format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = "
            ));
            q.push_bind(tenant.as_str().to_owned()).push(" AND id IN (");
            push_list(&mut q, chunk);
            let (sql, args) = q.into_parts().map_err(StoreError::db(READ))?;
            let records = sqlx::query_as_with::<DB, ConversationRecord, _>(&sql, args)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::db(READ))?;
            for record in records {
                let conversation = record.into_model();
                found.insert(conversation.id.get(), conversation);
            }
        }
        Ok(found)
    }

    pub(super) async fn prune_changes(&self, before_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query::<DB>("DELETE FROM changes WHERE at_ms < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await
            .map_err(StoreError::db("pruning the change log"))?;
        // Handler events as old, but none a handler has still to run.
        let events = sqlx::query::<DB>(
            "DELETE FROM handler_events WHERE received_at_ms < $1 AND NOT EXISTS \
             (SELECT 1 FROM handler_cursors c WHERE c.tenant_id = handler_events.tenant_id \
             AND c.seq < handler_events.seq)",
        )
        .bind(before_ms)
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("pruning the handlers' queue"))?;
        Ok(DB::rows_affected(&done) + DB::rows_affected(&events))
    }
}

/// `a, b, c)` for an `IN (` list.
fn push_list<DB: sqlx::Database>(q: &mut DynamicQuery<'_, DB>, ids: &[i64])
where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
{
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push_bind(*id);
    }
    q.push(")");
}

fn logged_change<DB: SqlDialect>(row: &DB::Row) -> Result<LoggedChange, StoreError>
where
    for<'q> String: Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Decode<'q, DB>,
    for<'q> i64: Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Decode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    let db = |e| StoreError::db(READ)(e);
    let seq: i64 = row.try_get(0).map_err(&db)?;
    let at_ms: i64 = row.try_get(1).map_err(&db)?;
    let kind: String = row.try_get(2).map_err(&db)?;
    let conversation: Option<i64> = row.try_get(3).map_err(&db)?;
    let message: Option<i64> = row.try_get(4).map_err(&db)?;
    let account_platform: Option<String> = row.try_get(5).map_err(&db)?;
    let account_id: Option<String> = row.try_get(6).map_err(&db)?;
    let corrupt = StoreError::Invariant {
        what: "a change log row names nothing its kind names",
    };
    let kind = ChangeKind::parse(&kind).ok_or(StoreError::Invariant {
        what: "a change log row has a kind this version does not know",
    })?;
    let change = match (kind, conversation, message, account_platform, account_id) {
        (ChangeKind::MessageStored | ChangeKind::MessageUpdated, Some(c), Some(m), ..) => {
            PendingChange::Message {
                kind,
                message: m,
                conversation: c,
            }
        }
        (ChangeKind::ConversationUpdated, Some(c), ..) => PendingChange::Conversation(c),
        (ChangeKind::AccountChanged, _, _, Some(p), Some(a)) => {
            PendingChange::Account(platform(&p), AccountId::new(a))
        }
        _ => return Err(corrupt),
    };
    Ok(LoggedChange {
        seq: u64::try_from(seq).unwrap_or(0),
        at_ms,
        change,
    })
}
