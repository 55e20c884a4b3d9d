//! The event handlers' work queue (see [`handler_queue`](crate::store::handler_queue)):
//! queueing events once per tenant, leasing a tenant's work, moving cursors.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::dynamic::DynamicQuery;
use super::{Engine, commit};
use crate::ids::{AccountId, TenantId};
use crate::store::api::TenantEvent;
use crate::store::error::StoreError;
use crate::store::handler_queue::{
    HandlerLease, LeaseRequest, QueuedEvent, handler_page_size, queue_rows, queued_event,
};
use crate::store::plan::RawRow;
use crate::store::sql::dialect::SqlDialect;
use crate::store::sql::{CHUNK_ROWS, platform};

const OP: &str = "queueing events for the handlers";
const LEASE: &str = "leasing handler work";

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
    usize: ColumnIndex<DB::Row>,
{
    pub(super) async fn queue_handler_events(
        &self,
        events: &[TenantEvent],
    ) -> Result<u64, StoreError> {
        let tenants = queue_rows(events);
        if tenants.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let mut queued = 0;
        for (tenant, rows) in tenants {
            // The head row first, locked until the commit: a concurrent writer of the same
            // tenant waits here, then sees this one's events when it looks for its hashes.
            let head: i64 = sqlx::query_scalar::<DB, i64>(
                "INSERT INTO handler_heads (tenant_id, seq) VALUES ($1, 0) \
                 ON CONFLICT (tenant_id) DO UPDATE SET seq = handler_heads.seq RETURNING seq",
            )
            .bind(tenant.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::db(OP))?;
            let mut known = Vec::new();
            for chunk in rows.chunks(CHUNK_ROWS) {
                let mut q = DynamicQuery::<DB>::new(
                    "SELECT event_hash FROM handler_events WHERE tenant_id = ",
                );
                q.push_bind(tenant.as_str().to_owned())
                    .push(" AND event_hash IN (");
                for (i, row) in chunk.iter().enumerate() {
                    q.push(if i == 0 { "" } else { ", " })
                        .push_bind(row.event_hash.clone());
                }
                q.push(")");
                let (sql, args) = q.into_parts().map_err(StoreError::db(OP))?;
                let found: Vec<String> = sqlx::query_scalar_with::<DB, String, _>(&sql, args)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(StoreError::db(OP))?;
                known.extend(found);
            }
            let fresh: Vec<&RawRow> = rows
                .iter()
                .filter(|r| !known.contains(&r.event_hash))
                .collect();
            if fresh.is_empty() {
                continue;
            }
            let mut seq = head;
            for chunk in fresh.chunks(CHUNK_ROWS) {
                let mut q = DynamicQuery::<DB>::new(
                    "INSERT INTO handler_events (tenant_id, seq, event_hash, platform, \
                     account_id, kind, timestamp_ms, received_at_ms, event) VALUES ",
                );
                for (i, row) in chunk.iter().enumerate() {
                    seq += 1;
                    q.push(if i == 0 { "(" } else { ", (" })
                        .push_bind(tenant.as_str().to_owned())
                        .push(", ")
                        .push_bind(seq)
                        .push(", ")
                        .push_bind(row.event_hash.clone())
                        .push(", ")
                        .push_bind(row.platform.as_str().to_owned())
                        .push(", ")
                        .push_bind(row.account_id.as_str().to_owned())
                        .push(", ")
                        .push_bind(row.kind.clone())
                        .push(", ")
                        .push_bind(row.timestamp_ms)
                        .push(", ")
                        .push_bind(row.received_at_ms)
                        .push(", ")
                        .push_bind(row.raw.clone())
                        .push(")");
                }
                let (sql, args) = q.into_parts().map_err(StoreError::db(OP))?;
                sqlx::query_with::<DB, _>(&sql, args)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::db(OP))?;
            }
            sqlx::query::<DB>("UPDATE handler_heads SET seq = $2 WHERE tenant_id = $1")
                .bind(tenant.as_str())
                .bind(seq)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db(OP))?;
            queued += fresh.len() as u64;
        }
        commit(tx).await?;
        Ok(queued)
    }

    pub(super) async fn register_handler(&self, handler: &str) -> Result<(), StoreError> {
        // `WHERE true`: SQLite would read `ON CONFLICT` as a join constraint of the SELECT.
        sqlx::query::<DB>(
            "INSERT INTO handler_cursors (handler, tenant_id, seq, attempts, lease_owner, \
             lease_until) SELECT $1, tenant_id, seq, 0, NULL, 0 FROM handler_heads \
             WHERE true ON CONFLICT (handler, tenant_id) DO NOTHING",
        )
        .bind(handler)
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("registering a handler"))?;
        Ok(())
    }

    pub(super) async fn lease_handler_work(
        &self,
        request: &LeaseRequest,
    ) -> Result<Option<HandlerLease>, StoreError> {
        let mut tx = self.begin().await?;
        // Tenants queued since the handler was registered get their cursor at 0, so that the
        // pick below can lock (and skip) cursor rows only.
        sqlx::query::<DB>(
            "INSERT INTO handler_cursors (handler, tenant_id, seq, attempts, lease_owner, \
             lease_until) SELECT $1, h.tenant_id, 0, 0, NULL, 0 FROM handler_heads h \
             WHERE NOT EXISTS (SELECT 1 FROM handler_cursors x \
             WHERE x.handler = $1 AND x.tenant_id = h.tenant_id) \
             ON CONFLICT (handler, tenant_id) DO NOTHING",
        )
        .bind(request.handler.as_str())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db(LEASE))?;
        // The least recently leased tenant with work, so that one busy tenant does not starve
        // the others; PostgreSQL skips the rows another instance is leasing right now, and the
        // lease condition is checked again on the row itself.
        let sql = format!(
            "UPDATE handler_cursors SET lease_owner = $2, lease_until = $4 \
             WHERE handler = $1 AND lease_until <= $3 AND tenant_id = (\
             SELECT c.tenant_id FROM handler_cursors c \
             JOIN handler_heads h ON h.tenant_id = c.tenant_id \
             WHERE c.handler = $1 AND h.seq > c.seq AND c.lease_until <= $3 \
             ORDER BY c.lease_until, c.tenant_id LIMIT 1{}) \
             RETURNING tenant_id, seq, attempts",
            DB::SKIP_LOCKED
        );
        let row = sqlx::query::<DB>(&sql)
            .bind(request.handler.as_str())
            .bind(request.owner.as_str())
            .bind(request.now_ms)
            .bind(request.until_ms)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::db(LEASE))?;
        commit(tx).await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let tenant: String = row.try_get(0).map_err(StoreError::db(LEASE))?;
        let seq: i64 = row.try_get(1).map_err(StoreError::db(LEASE))?;
        let attempts: i64 = row.try_get(2).map_err(StoreError::db(LEASE))?;
        Ok(Some(HandlerLease {
            tenant_id: TenantId::new(tenant),
            cursor: u64::try_from(seq).unwrap_or(0),
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        }))
    }

    pub(super) async fn handler_events_after(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<QueuedEvent>, StoreError> {
        const READ: &str = "reading the handlers' queue";
        let size = handler_page_size(limit)?;
        let rows = sqlx::query::<DB>(
            "SELECT seq, platform, account_id, kind, timestamp_ms, received_at_ms, event \
             FROM handler_events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db(READ))?;
        rows.iter()
            .map(|row| {
                let db = |e| StoreError::db(READ)(e);
                let seq: i64 = row.try_get(0).map_err(db)?;
                let platform_name: String = row.try_get(1).map_err(db)?;
                let account: String = row.try_get(2).map_err(db)?;
                let raw = RawRow {
                    tenant_id: tenant.clone(),
                    platform: platform(&platform_name),
                    account_id: AccountId::new(account),
                    kind: row.try_get(3).map_err(db)?,
                    reason: None,
                    timestamp_ms: row.try_get(4).map_err(db)?,
                    received_at_ms: row.try_get(5).map_err(db)?,
                    event_hash: String::new(),
                    raw: row.try_get(6).map_err(db)?,
                };
                queued_event(u64::try_from(seq).unwrap_or(0), &raw)
            })
            .collect()
    }

    pub(super) async fn release_handler_lease(
        &self,
        handler: &str,
        tenant: &TenantId,
        owner: &str,
        cursor: u64,
        retry_at_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        let cursor = i64::try_from(cursor).unwrap_or(i64::MAX);
        let q = match retry_at_ms {
            None => sqlx::query::<DB>(
                "UPDATE handler_cursors SET seq = $4, attempts = 0, lease_owner = NULL, \
                 lease_until = $5 WHERE handler = $1 AND tenant_id = $2 AND lease_owner = $3",
            )
            .bind(handler)
            .bind(tenant.as_str())
            .bind(owner)
            .bind(cursor)
            .bind(crate::store::now_ms()),
            Some(retry_at) => sqlx::query::<DB>(
                "UPDATE handler_cursors SET attempts = CASE WHEN seq = $4 THEN attempts + 1 \
                 ELSE 1 END, seq = $4, lease_owner = NULL, lease_until = $5 \
                 WHERE handler = $1 AND tenant_id = $2 AND lease_owner = $3",
            )
            .bind(handler)
            .bind(tenant.as_str())
            .bind(owner)
            .bind(cursor)
            .bind(retry_at),
        };
        let done = q
            .execute(&self.pool)
            .await
            .map_err(StoreError::db("moving a handler cursor"))?;
        Ok(DB::rows_affected(&done) > 0)
    }

    pub(super) async fn extend_handler_lease(
        &self,
        handler: &str,
        tenant: &TenantId,
        owner: &str,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query::<DB>(
            "UPDATE handler_cursors SET lease_until = $4 \
             WHERE handler = $1 AND tenant_id = $2 AND lease_owner = $3",
        )
        .bind(handler)
        .bind(tenant.as_str())
        .bind(owner)
        .bind(until_ms)
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("extending a handler lease"))?;
        Ok(DB::rows_affected(&done) > 0)
    }

    pub(super) async fn handler_cursor(
        &self,
        handler: &str,
        tenant: &TenantId,
    ) -> Result<Option<HandlerLease>, StoreError> {
        const READ: &str = "reading a handler cursor";
        let row = sqlx::query::<DB>(
            "SELECT seq, attempts FROM handler_cursors WHERE handler = $1 AND tenant_id = $2",
        )
        .bind(handler)
        .bind(tenant.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::db(READ))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let seq: i64 = row.try_get(0).map_err(StoreError::db(READ))?;
        let attempts: i64 = row.try_get(1).map_err(StoreError::db(READ))?;
        Ok(Some(HandlerLease {
            tenant_id: tenant.clone(),
            cursor: u64::try_from(seq).unwrap_or(0),
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        }))
    }
}
