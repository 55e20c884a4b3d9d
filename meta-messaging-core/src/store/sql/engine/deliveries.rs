//! The delivery log: tallies added per account and event kind, and per account and reason of
//! unknown events. A small write on the pool, apart from the group commit: the inbox flushes
//! its buffered tallies every few seconds, never on a delivery's path.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::{Engine, commit, count};
use crate::ids::AccountId;
use crate::platform::Platform;
use crate::store::deliveries::{DeliveryTally, MAX_UNKNOWN_REASONS, Tallied};
use crate::store::error::StoreError;
use crate::store::sql::dialect::SqlDialect;

const WRITE: &str = "recording deliveries";
const READ: &str = "reading the delivery log";

/// What a tally adds to the row of `$table` (keyed by `$key`) it meets: its count, and its
/// time when newer.
macro_rules! add_up {
    ($table:literal, $key:literal) => {
        concat!(
            " ON CONFLICT (platform, account_id, ",
            $key,
            ") DO UPDATE SET count = ",
            $table,
            ".count + excluded.count, last_at_ms = CASE WHEN excluded.last_at_ms > ",
            $table,
            ".last_at_ms THEN excluded.last_at_ms ELSE ",
            $table,
            ".last_at_ms END"
        )
    };
}

/// Adds a kind's tally.
const ADD_KIND: &str = concat!(
    "INSERT INTO delivery_kinds (platform, account_id, kind, count, last_at_ms) \
     VALUES ($1, $2, $3, $4, $5)",
    add_up!("delivery_kinds", "kind")
);

/// Adds a reason's tally when the account has the reason already or fewer than `$6` reasons.
/// Two instances adding new reasons to one account at once may both pass the check: the bound
/// can be passed by the number of instances flushing together, never more.
const ADD_REASON: &str = concat!(
    "INSERT INTO delivery_unknown_reasons (platform, account_id, reason, count, last_at_ms) \
     SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM delivery_unknown_reasons \
     WHERE platform = $1 AND account_id = $2 AND reason = $3) \
     OR (SELECT COUNT(*) FROM delivery_unknown_reasons \
     WHERE platform = $1 AND account_id = $2) < $6",
    add_up!("delivery_unknown_reasons", "reason")
);

impl<DB: SqlDialect> Engine<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    /// Adds the tallies in one transaction, in key order: two instances flushing at once
    /// lock the rows they share in the same order.
    pub(super) async fn record_deliveries(
        &self,
        tallies: &[DeliveryTally],
    ) -> Result<(), StoreError> {
        let mut sorted: Vec<&DeliveryTally> = tallies.iter().collect();
        sorted.sort_by(|a, b| {
            (a.platform, &a.account_id, &a.tallied).cmp(&(b.platform, &b.account_id, &b.tallied))
        });
        let max_reasons = i64::try_from(MAX_UNKNOWN_REASONS).unwrap_or(i64::MAX);
        let mut tx = self.begin().await?;
        for tally in sorted {
            self.fail.hit()?;
            let (sql, name) = match &tally.tallied {
                Tallied::Kind(kind) => (ADD_KIND, kind),
                Tallied::UnknownReason(reason) => (ADD_REASON, reason),
            };
            let mut query = sqlx::query::<DB>(sql)
                .bind(tally.platform.as_str())
                .bind(tally.account_id.as_str())
                .bind(name.as_str())
                .bind(count(tally.count))
                .bind(tally.last_at_ms);
            if matches!(tally.tallied, Tallied::UnknownReason(_)) {
                query = query.bind(max_reasons);
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db(WRITE))?;
        }
        commit(tx).await
    }

    pub(super) async fn delivery_tallies(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Vec<DeliveryTally>, StoreError> {
        // `kind` sorts before `reason`: kinds first, as the trait promises.
        let rows = sqlx::query::<DB>(
            "SELECT 'kind' AS tallied, kind AS name, count, last_at_ms FROM delivery_kinds \
             WHERE platform = $1 AND account_id = $2 \
             UNION ALL SELECT 'reason', reason, count, last_at_ms FROM delivery_unknown_reasons \
             WHERE platform = $1 AND account_id = $2 ORDER BY 1, 2",
        )
        .bind(platform.as_str())
        .bind(account_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db(READ))?;
        rows.iter()
            .map(|row| {
                let tallied: String = row.try_get(0).map_err(StoreError::db(READ))?;
                let name: String = row.try_get(1).map_err(StoreError::db(READ))?;
                let stored: i64 = row.try_get(2).map_err(StoreError::db(READ))?;
                let count = u64::try_from(stored).map_err(|_| StoreError::Invariant {
                    what: "a stored delivery count is negative",
                })?;
                let tallied = if tallied == "kind" {
                    Tallied::Kind(name)
                } else {
                    Tallied::UnknownReason(name)
                };
                Ok(DeliveryTally::new(
                    platform,
                    account_id.clone(),
                    tallied,
                    count,
                    row.try_get(3).map_err(StoreError::db(READ))?,
                ))
            })
            .collect()
    }
}
