//! Events kept whole: a tenant's raw events (orphans, unsupported kinds) and the events no
//! tenant's account received (unrouted), with why.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::write::OP;
use super::{Engine, Tx, commit};
use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use crate::store::api::{ApplyReport, RawEvent};
use crate::store::error::StoreError;
use crate::store::plan::RawRow;
use crate::store::query::page_size;
use crate::store::sql::dialect::SqlDialect;
use crate::store::sql::{RAW_EVENT_COLUMNS, RawEventRecord};
use crate::store::unrouted::UnroutedTally;

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
    pub(super) async fn keep_raw(
        &self,
        tx: &mut Tx<DB>,
        raw: &RawRow,
        report: &mut ApplyReport,
    ) -> Result<(), StoreError> {
        self.fail.hit()?;
        let done = sqlx::query::<DB>(
            "INSERT INTO raw_events (tenant_id, platform, account_id, kind, reason, timestamp_ms, \
             received_at_ms, event_hash, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (tenant_id, event_hash) DO NOTHING",
        )
        .bind(raw.tenant_id.as_str())
        .bind(raw.platform.as_str())
        .bind(raw.account_id.as_str())
        .bind(raw.kind.as_str())
        .bind(raw.reason.as_deref())
        .bind(raw.timestamp_ms)
        .bind(raw.received_at_ms)
        .bind(raw.event_hash.as_str())
        .bind(raw.raw.as_str())
        .execute(&mut **tx)
        .await
        .map_err(StoreError::db(OP))?;
        if DB::rows_affected(&done) > 0 {
            report.raw_kept += 1;
        } else {
            report.duplicates += 1;
        }
        Ok(())
    }

    pub(super) async fn record_unrouted(&self, rows: &[RawRow]) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let mut new = 0;
        for r in rows {
            new += sqlx::query::<DB>(
                "INSERT INTO unrouted_events (platform, account_id, kind, reason, timestamp_ms, \
                 received_at_ms, event_hash, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (event_hash) DO NOTHING",
            )
            .bind(r.platform.as_str())
            .bind(r.account_id.as_str())
            .bind(r.kind.as_str())
            .bind(r.reason.as_deref().unwrap_or_default())
            .bind(r.timestamp_ms)
            .bind(r.received_at_ms)
            .bind(r.event_hash.as_str())
            .bind(r.raw.as_str())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::db("keeping unrouted events"))
            .map(|done| DB::rows_affected(&done))?;
        }
        commit(tx).await?;
        Ok(new)
    }

    pub(super) async fn unrouted_count(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar::<DB, i64>(
            "SELECT COUNT(*) FROM unrouted_events WHERE platform = $1 AND account_id = $2",
        )
        .bind(platform.as_str())
        .bind(account_id.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::db("counting unrouted events"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub(super) async fn unrouted_tallies(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Vec<UnroutedTally>, StoreError> {
        const READ: &str = "counting unrouted events by reason";
        let rows = sqlx::query::<DB>(
            "SELECT reason, COUNT(*), MAX(received_at_ms) FROM unrouted_events \
             WHERE platform = $1 AND account_id = $2 GROUP BY reason ORDER BY reason",
        )
        .bind(platform.as_str())
        .bind(account_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db(READ))?;
        rows.iter()
            .map(|row| {
                let reason: String = row.try_get(0).map_err(StoreError::db(READ))?;
                let count: i64 = row.try_get(1).map_err(StoreError::db(READ))?;
                Ok(UnroutedTally::new(
                    reason.parse().unwrap_or_else(|never| match never {}),
                    u64::try_from(count).unwrap_or(0),
                    row.try_get(2).map_err(StoreError::db(READ))?,
                ))
            })
            .collect()
    }

    pub(super) async fn unrouted_events(
        &self,
        platform: Platform,
        account_id: &AccountId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<RawEvent>, StoreError> {
        let size = page_size(limit)?;
        sqlx::query_as::<DB, RawEventRecord>(
            "SELECT id, '' AS tenant_id, platform, account_id, kind, reason, \
             timestamp_ms, received_at_ms, raw FROM unrouted_events \
             WHERE platform = $1 AND account_id = $2 AND id > $3 ORDER BY id LIMIT $4",
        )
        .bind(platform.as_str())
        .bind(account_id.as_str())
        .bind(after)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db("listing unrouted events"))?
        .into_iter()
        .map(RawEventRecord::into_model)
        .collect()
    }

    pub(super) async fn list_raw_events(
        &self,
        tenant: &TenantId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<RawEvent>, StoreError> {
        let size = page_size(limit)?;
        let sql = format!(
            "SELECT {RAW_EVENT_COLUMNS} FROM raw_events WHERE tenant_id = $1 AND id < $2 \
             ORDER BY id DESC LIMIT $3"
        );
        sqlx::query_as::<DB, RawEventRecord>(&sql)
            .bind(tenant.as_str())
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::try_from(size).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("listing raw events"))?
            .into_iter()
            .map(RawEventRecord::into_model)
            .collect()
    }
}
