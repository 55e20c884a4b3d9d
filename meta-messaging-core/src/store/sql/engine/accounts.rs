//! Accounts and their sealed tokens, and tenant routing.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{Engine, commit};
use crate::ids::{AccountId, TenantId};
use crate::platform::Platform;
use crate::store::account::{Account, AccountStatus, NewAccount};
use crate::store::changes::ChangeSet;
use crate::store::error::StoreError;
use crate::store::plan::now_ms;
use crate::store::sql::dialect::SqlDialect;
use crate::store::sql::{ACCOUNT_COLUMNS, AccountRecord, SealedTokenRecord, seal_token};
use crate::store::stored_token::{SealedValue, TokenOwner, TokenWriteBack};

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
    pub(super) async fn upsert_account(
        &self,
        tenant: &TenantId,
        a: &NewAccount,
    ) -> Result<Account, StoreError> {
        let owner = TokenOwner {
            tenant_id: tenant.clone(),
            platform: a.platform,
            account_id: a.account_id.clone(),
        };
        let token = a
            .token
            .as_ref()
            .map(|token| seal_token(&self.sealer, &owner, token))
            .transpose()?;
        let now = now_ms();
        let mut tx = self.begin().await?;
        sqlx::query::<DB>(
            "INSERT INTO accounts (tenant_id, platform, account_id, name, username, linked_page_id, \
             token_kind, token_scheme, token_sealed, token_expires_at_ms, status, created_at_ms, \
             updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
             ON CONFLICT (tenant_id, platform, account_id) DO UPDATE SET name = excluded.name, \
             username = excluded.username, linked_page_id = excluded.linked_page_id, \
             token_kind = excluded.token_kind, token_scheme = excluded.token_scheme, \
             token_sealed = excluded.token_sealed, token_expires_at_ms = excluded.token_expires_at_ms, \
             status = excluded.status, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(tenant.as_str())
        .bind(a.platform.as_str())
        .bind(a.account_id.as_str())
        .bind(a.name.as_deref())
        .bind(a.username.as_deref())
        .bind(a.linked_page_id.as_ref().map(|p| p.as_str()))
        .bind(token.as_ref().map(|t| t.kind))
        .bind(token.as_ref().map(|t| t.scheme.as_str()))
        .bind(token.as_ref().map(|t| t.sealed.as_str()))
        .bind(a.token_expires_at_ms)
        .bind(a.status.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("saving an account"))?;
        let mut changes = ChangeSet::default();
        changes.account_changed(tenant, a.platform, &a.account_id);
        self.commit_changes(tx, changes).await?;
        self.get_account(tenant, a.platform, &a.account_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "account",
                id: a.account_id.to_string(),
            })
    }

    pub(super) async fn get_account(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Option<Account>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE tenant_id = $1 AND platform = $2 AND account_id = $3"
        );
        let record = sqlx::query_as::<DB, AccountRecord>(&sql)
            .bind(tenant.as_str())
            .bind(platform.as_str())
            .bind(account_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::db("reading an account"))?;
        Ok(record.map(|r| r.into_model(&self.sealer, &self.token_write_back)))
    }

    pub(super) async fn list_accounts(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<Account>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE tenant_id = $1 ORDER BY platform, account_id"
        );
        Ok(sqlx::query_as::<DB, AccountRecord>(&sql)
            .bind(tenant.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::db("listing accounts"))?
            .into_iter()
            .map(|r| r.into_model(&self.sealer, &self.token_write_back))
            .collect())
    }

    pub(super) async fn set_account_status(
        &self,
        tenant: &TenantId,
        platform: Platform,
        account_id: &AccountId,
        status: &AccountStatus,
    ) -> Result<Account, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query::<DB>(
            "UPDATE accounts SET status = $4, updated_at_ms = $5 \
             WHERE tenant_id = $1 AND platform = $2 AND account_id = $3",
        )
        .bind(tenant.as_str())
        .bind(platform.as_str())
        .bind(account_id.as_str())
        .bind(status.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::db("updating an account"))?;
        let missing = || StoreError::NotFound {
            what: "account",
            id: account_id.to_string(),
        };
        if DB::rows_affected(&done) == 0 {
            return Err(missing());
        }
        let mut changes = ChangeSet::default();
        changes.account_changed(tenant, platform, account_id);
        self.commit_changes(tx, changes).await?;
        self.get_account(tenant, platform, account_id)
            .await?
            .ok_or_else(missing)
    }

    /// Opens every token not sealed under the current scheme, then rewrites them all in one
    /// transaction: one that does not open leaves every row as it was.
    pub(super) async fn reseal_tokens(&self) -> Result<usize, StoreError> {
        let current = self.sealer.scheme().to_owned();
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT tenant_id, platform, account_id, token_scheme, token_sealed FROM accounts \
             WHERE token_scheme IS NOT NULL AND token_sealed IS NOT NULL AND token_scheme <> $1{}",
            DB::FOR_UPDATE
        );
        let rows = sqlx::query_as::<DB, SealedTokenRecord>(&sql)
            .bind(current.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::db("reading sealed tokens"))?;
        let mut resealed = Vec::with_capacity(rows.len());
        for row in &rows {
            let owner = row.owner();
            let aad = owner.associated_data();
            let value = self
                .sealer
                .open(&row.token_scheme, &row.token_sealed, &aad)
                .map_err(StoreError::Token)?;
            resealed.push(self.sealer.seal(&value, &aad).map_err(StoreError::Token)?);
        }
        for (row, sealed) in rows.iter().zip(&resealed) {
            sqlx::query::<DB>(
                "UPDATE accounts SET token_scheme = $4, token_sealed = $5 \
                 WHERE tenant_id = $1 AND platform = $2 AND account_id = $3",
            )
            .bind(row.tenant_id.as_str())
            .bind(row.platform.as_str())
            .bind(row.account_id.as_str())
            .bind(current.as_str())
            .bind(sealed.as_str())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::db("re-sealing tokens"))?;
        }
        commit(tx).await?;
        Ok(rows.len())
    }

    pub(super) async fn tenants_for_account(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<Vec<TenantId>, StoreError> {
        let tenants: Vec<String> = sqlx::query_scalar::<DB, String>(
            "SELECT tenant_id FROM accounts WHERE platform = $1 AND account_id = $2 \
             AND status <> 'disconnected' ORDER BY tenant_id",
        )
        .bind(platform.as_str())
        .bind(account_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::db("resolving tenants"))?;
        Ok(tenants.into_iter().map(TenantId::new).collect())
    }

    pub(super) async fn account_registered(
        &self,
        platform: Platform,
        account_id: &AccountId,
    ) -> Result<bool, StoreError> {
        // The rows of one account: one per tenant that connected it.
        let tenants: i64 = sqlx::query_scalar::<DB, i64>(
            "SELECT COUNT(*) FROM accounts WHERE platform = $1 AND account_id = $2",
        )
        .bind(platform.as_str())
        .bind(account_id.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::db("looking up an account"))?;
        Ok(tenants > 0)
    }
}

/// Writes re-sealed tokens back to their rows.
#[derive(Debug)]
pub(super) struct RowWriteBack<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
}

impl<DB: sqlx::Database> RowWriteBack<DB> {
    pub(super) fn new(pool: sqlx::Pool<DB>) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl<DB: SqlDialect> TokenWriteBack for RowWriteBack<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
{
    async fn replace_sealed(
        &self,
        owner: &TokenOwner,
        old: SealedValue<'_>,
        new: SealedValue<'_>,
    ) -> Result<(), StoreError> {
        // Only if the row still holds what was opened: a token saved meanwhile (a reconnect)
        // is newer and stays.
        sqlx::query::<DB>(
            "UPDATE accounts SET token_scheme = $4, token_sealed = $5 WHERE tenant_id = $1 \
             AND platform = $2 AND account_id = $3 AND token_scheme = $6 AND token_sealed = $7",
        )
        .bind(owner.tenant_id.as_str())
        .bind(owner.platform.as_str())
        .bind(owner.account_id.as_str())
        .bind(new.scheme)
        .bind(new.value)
        .bind(old.scheme)
        .bind(old.value)
        .execute(&self.pool)
        .await
        .map_err(StoreError::db("writing back a re-sealed token"))?;
        Ok(())
    }
}
