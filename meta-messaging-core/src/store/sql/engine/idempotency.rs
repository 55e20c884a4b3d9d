//! Idempotency records: claim, finish, release and prune (see
//! [`idempotency`](crate::store::idempotency)). Small writes on the pool, apart from the
//! group commit: a claim must answer before the send it guards, not with the next batch.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::{Engine, commit};
use crate::ids::TenantId;
use crate::store::error::StoreError;
use crate::store::idempotency::{
    IdempotencyClaim, IdempotencyClaimRequest, IdempotencyKey, IdempotentAnswer, existing_claim,
};
use crate::store::sql::dialect::SqlDialect;
use crate::store::sql::{json, to_json};

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
    pub(super) async fn claim_idempotency_key(
        &self,
        tenant: &TenantId,
        claim: &IdempotencyClaimRequest,
    ) -> Result<IdempotencyClaim, StoreError> {
        const OP: &str = "claiming an idempotency key";
        let mut tx = self.begin().await?;
        // Inserts the record, or takes over one that expired. A live record is left as it is,
        // but locked (PostgreSQL locks the conflicting row even when the WHERE refuses the
        // update; SQLite's write transaction locks the file), so it cannot be released or
        // finished between this statement and the read below. A concurrent claim of a new key
        // waits on the unique index until the first commits, then finds its record.
        let done = sqlx::query::<DB>(
            "INSERT INTO idempotency_keys (tenant_id, idempotency_key, fingerprint, \
             claimed_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, idempotency_key) DO UPDATE SET \
             fingerprint = excluded.fingerprint, claimed_at_ms = excluded.claimed_at_ms, \
             expires_at_ms = excluded.expires_at_ms, answer_status = NULL, answer_body = NULL \
             WHERE idempotency_keys.expires_at_ms <= excluded.claimed_at_ms",
        )
        .bind(tenant.as_str())
        .bind(claim.key.as_str())
        .bind(claim.fingerprint.as_str())
        .bind(claim.now_ms)
        .bind(claim.expires_at_ms)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db(OP))?;
        if DB::rows_affected(&done) > 0 {
            commit(tx).await?;
            return Ok(IdempotencyClaim::Claimed);
        }
        let row = sqlx::query::<DB>(
            "SELECT fingerprint, claimed_at_ms, answer_status, answer_body \
             FROM idempotency_keys WHERE tenant_id = $1 AND idempotency_key = $2",
        )
        .bind(tenant.as_str())
        .bind(claim.key.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::db(OP))?
        .ok_or(StoreError::Invariant {
            what: "an idempotency key that conflicts on insert has no record",
        })?;
        commit(tx).await?;
        let fingerprint: String = row.try_get(0).map_err(StoreError::db(OP))?;
        let claimed_at_ms: i64 = row.try_get(1).map_err(StoreError::db(OP))?;
        let status: Option<i64> = row.try_get(2).map_err(StoreError::db(OP))?;
        let body: Option<String> = row.try_get(3).map_err(StoreError::db(OP))?;
        let answer = match (status, body) {
            (Some(status), Some(body)) => Some(IdempotentAnswer::new(
                u16::try_from(status).map_err(|_| StoreError::Invariant {
                    what: "a stored idempotent answer's status is not an HTTP status",
                })?,
                json("idempotency_keys.answer_body", &body)?,
            )),
            _ => None,
        };
        Ok(existing_claim(
            &claim.fingerprint,
            &fingerprint,
            claimed_at_ms,
            answer,
        ))
    }

    pub(super) async fn finish_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
        answer: &IdempotentAnswer,
    ) -> Result<(), StoreError> {
        let done = sqlx::query::<DB>(
            "UPDATE idempotency_keys SET answer_status = $3, answer_body = $4 \
             WHERE tenant_id = $1 AND idempotency_key = $2 AND answer_status IS NULL",
        )
        .bind(tenant.as_str())
        .bind(key.as_str())
        .bind(i64::from(answer.status))
        .bind(to_json(&answer.body))
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("storing an idempotent answer"))?;
        if DB::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound {
                what: "idempotency key in flight",
                id: key.to_string(),
            });
        }
        Ok(())
    }

    pub(super) async fn release_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        sqlx::query::<DB>(
            "DELETE FROM idempotency_keys \
             WHERE tenant_id = $1 AND idempotency_key = $2 AND answer_status IS NULL",
        )
        .bind(tenant.as_str())
        .bind(key.as_str())
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("releasing an idempotency key"))?;
        Ok(())
    }

    pub(super) async fn prune_idempotency_keys(&self, now_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query::<DB>("DELETE FROM idempotency_keys WHERE expires_at_ms <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(StoreError::db("pruning idempotency keys"))?;
        Ok(DB::rows_affected(&done))
    }
}
