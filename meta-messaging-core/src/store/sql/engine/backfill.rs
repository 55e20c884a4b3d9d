//! Backfill progress: one row per tenant, platform and account, replaced as the backfill goes.
//! Small writes on the pool, apart from the group commit.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::{Engine, count};
use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use crate::store::backfill::BackfillProgress;
use crate::store::error::StoreError;
use crate::store::sql::dialect::SqlDialect;
use crate::store::sql::platform;

const READ: &str = "reading backfill progress";

/// The columns `progress_of` reads, in its order.
macro_rules! progress_columns {
    () => {
        "tenant_id, platform, account_id, state, cursor, conversations, messages, \
         oldest_reached_ms, horizon_ms, error, started_at_ms, updated_at_ms"
    };
}

impl<DB: SqlDialect> Engine<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    pub(super) async fn save_backfill(
        &self,
        tenant: &TenantId,
        p: &BackfillProgress,
    ) -> Result<(), StoreError> {
        sqlx::query::<DB>(
            "INSERT INTO backfills (tenant_id, platform, account_id, state, cursor, \
             conversations, messages, oldest_reached_ms, horizon_ms, error, started_at_ms, \
             updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (tenant_id, platform, account_id) DO UPDATE SET \
             state = excluded.state, cursor = excluded.cursor, \
             conversations = excluded.conversations, messages = excluded.messages, \
             oldest_reached_ms = excluded.oldest_reached_ms, horizon_ms = excluded.horizon_ms, \
             error = excluded.error, started_at_ms = excluded.started_at_ms, \
             updated_at_ms = excluded.updated_at_ms",
        )
        .bind(tenant.as_str())
        .bind(p.platform.as_str())
        .bind(p.account_id.as_str())
        .bind(p.state.as_str())
        .bind(p.cursor.clone())
        .bind(count(p.conversations))
        .bind(count(p.messages))
        .bind(p.oldest_reached_ms)
        .bind(p.horizon_ms)
        .bind(p.error.clone())
        .bind(p.started_at_ms)
        .bind(p.updated_at_ms)
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("saving backfill progress"))?;
        Ok(())
    }

    pub(super) async fn backfill_progress(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Option<BackfillProgress>, StoreError> {
        let row = sqlx::query::<DB>(concat!(
            "SELECT ",
            progress_columns!(),
            " FROM backfills WHERE tenant_id = $1 AND platform = $2 AND account_id = $3"
        ))
        .bind(tenant.as_str())
        .bind(platform.as_str())
        .bind(account_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::db(READ))?;
        row.map(|row| Self::progress_of(&row).map(|(_, progress)| progress))
            .transpose()
    }

    pub(super) async fn interrupted_backfills(
        &self,
    ) -> Result<Vec<(TenantId, BackfillProgress)>, StoreError> {
        sqlx::query::<DB>(concat!(
            "SELECT ",
            progress_columns!(),
            " FROM backfills WHERE state = 'running' ORDER BY tenant_id, platform, account_id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db(READ))?
        .iter()
        .map(Self::progress_of)
        .collect()
    }

    /// A row of `progress_columns!` as its tenant and progress.
    fn progress_of(row: &DB::Row) -> Result<(TenantId, BackfillProgress), StoreError> {
        let unsigned = |value: i64| {
            u64::try_from(value).map_err(|_| StoreError::Invariant {
                what: "a stored backfill count is negative",
            })
        };
        let tenant: String = row.try_get(0).map_err(StoreError::db(READ))?;
        let platform_name: String = row.try_get(1).map_err(StoreError::db(READ))?;
        let account: String = row.try_get(2).map_err(StoreError::db(READ))?;
        let state: String = row.try_get(3).map_err(StoreError::db(READ))?;
        let mut progress = BackfillProgress::start(
            platform(&platform_name),
            AccountId::new(account),
            row.try_get(8).map_err(StoreError::db(READ))?,
            row.try_get(10).map_err(StoreError::db(READ))?,
        );
        progress.state = state.parse().unwrap_or_else(|never| match never {});
        progress.cursor = row.try_get(4).map_err(StoreError::db(READ))?;
        progress.conversations = unsigned(row.try_get(5).map_err(StoreError::db(READ))?)?;
        progress.messages = unsigned(row.try_get(6).map_err(StoreError::db(READ))?)?;
        progress.oldest_reached_ms = row.try_get(7).map_err(StoreError::db(READ))?;
        progress.error = row.try_get(9).map_err(StoreError::db(READ))?;
        progress.updated_at_ms = row.try_get(11).map_err(StoreError::db(READ))?;
        Ok((TenantId::new(tenant), progress))
    }
}
