//! Reading messages: one by id, or a filtered page or count.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::Engine;
use super::dynamic::{DynamicQuery, push_keyset};
use crate::ids::StoredMessageId;
use crate::ids::{MessageId, TenantId};
use crate::platform::Platform;
use crate::store::cursor::{Cursor, ListKind};
use crate::store::error::StoreError;
use crate::store::model::StoredMessage;
use crate::store::query::{MessageQuery, StorePage, into_page, page_size};
use crate::store::sql::dialect::SqlDialect;
use crate::store::sql::{MESSAGE_COLUMNS, MessageRecord};

fn push_message_filters<'a, DB: SqlDialect>(
    q: &mut DynamicQuery<'a, DB>,
    tenant: &'a TenantId,
    f: &'a MessageQuery,
) where
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
{
    q.push(" WHERE tenant_id = ").push_bind(tenant.as_str());
    if let Some(p) = f.platform {
        q.push(" AND platform = ").push_bind(p.as_str());
    }
    if let Some(a) = &f.account_id {
        q.push(" AND account_id = ").push_bind(a.as_str());
    }
    if let Some(c) = f.conversation_id {
        q.push(" AND conversation_id = ").push_bind(c.get());
    }
    if let Some(d) = f.direction {
        q.push(" AND direction = ").push_bind(d.as_str());
    }
    if let Some(t) = f.since_ms {
        q.push(" AND timestamp_ms >= ").push_bind(t);
    }
    if let Some(t) = f.until_ms {
        q.push(" AND timestamp_ms < ").push_bind(t);
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
    pub(super) async fn get_message(
        &self,
        tenant: &TenantId,
        id: StoredMessageId,
    ) -> Result<Option<StoredMessage>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS}, raw_event FROM messages WHERE tenant_id = $1 AND id = $2"
        );
        let record = sqlx::query_as::<DB, MessageRecord>(&sql)
            .bind(tenant.as_str())
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("reading a message"))?;
        record.map(MessageRecord::into_model).transpose()
    }

    pub(super) async fn find_message(
        &self,
        tenant: &TenantId,
        platform: Platform,
        message_id: &MessageId,
    ) -> Result<Option<StoredMessage>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS}, raw_event FROM messages \
             WHERE tenant_id = $1 AND platform = $2 AND message_id = $3"
        );
        let record = sqlx::query_as::<DB, MessageRecord>(&sql)
            .bind(tenant.as_str())
            .bind(platform.as_str())
            .bind(message_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("reading a message"))?;
        record.map(MessageRecord::into_model).transpose()
    }

    pub(super) async fn list_messages(
        &self,
        tenant: &TenantId,
        f: &MessageQuery,
    ) -> Result<StorePage<StoredMessage>, StoreError> {
        let size = page_size(f.limit)?;
        let cursor = f
            .cursor
            .as_ref()
            .map(|c| c.check(ListKind::Messages, f.order))
            .transpose()?;
        let raw = if f.include_raw { ", raw_event" } else { "" };
        let mut q = DynamicQuery::<DB>::new(format!("SELECT {MESSAGE_COLUMNS}{raw} FROM messages"));
        push_message_filters(&mut q, tenant, f);
        push_keyset(&mut q, "timestamp_ms", f.order, cursor, size + 1);
        let (sql, args) = q.into_parts().map_err(StoreError::db("listing messages"))?;
        let records = sqlx::query_as_with::<DB, MessageRecord, _>(&sql, args)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("listing messages"))?;
        let rows = records
            .into_iter()
            .map(MessageRecord::into_model)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(into_page(rows, size, |m| {
            Cursor::new(ListKind::Messages, f.order, m.timestamp_ms, m.id.get())
        }))
    }

    pub(super) async fn count_messages(
        &self,
        tenant: &TenantId,
        f: &MessageQuery,
    ) -> Result<u64, StoreError> {
        let mut q = DynamicQuery::<DB>::new("SELECT COUNT(*) FROM messages");
        push_message_filters(&mut q, tenant, f);
        let (sql, args) = q
            .into_parts()
            .map_err(StoreError::db("counting messages"))?;
        let n: i64 = sqlx::query_scalar_with::<DB, i64, _>(&sql, args)
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::db("counting messages"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
