//! SQLite: multi-row `VALUES` lists (the statement cache keeps one per row count).

use sqlx::sqlite::SqliteQueryResult;
use sqlx::{QueryBuilder, Sqlite, Transaction};

use super::{
    Bump, LockKey, NewConversation, NewMessage, SqlDialect, Touch, bump_set, change_columns,
    message_columns, move_change_head, on_duplicate_message, pending_columns,
};
use crate::ids::TenantId;
use crate::store::changes::PendingChange;
use crate::store::plan::Target;
use crate::store::sql::CHUNK_ROWS;
use crate::store::sql::{conversation_columns, to_json};

impl SqlDialect for Sqlite {
    const STORE_NAME: &'static str = "SqliteStore";
    // Take the write lock up front: a deferred transaction that reads first can fail with
    // SQLITE_BUSY when it upgrades, which the busy timeout does not retry.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    // Write transactions are serialized by the database lock; there are no row locks.
    const FOR_UPDATE: &'static str = "";
    const SKIP_LOCKED: &'static str = "";
    const ONE_WRITER: bool = true;

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    async fn insert_conversations(
        tx: &mut Transaction<'static, Self>,
        new: &[NewConversation],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO conversations (tenant_id, platform, account_id, participant_id, \
             last_message_at_ms, created_at_ms, kind) ",
        );
        q.push_values(
            new,
            |mut b,
             NewConversation {
                 key,
                 kind,
                 first_message_at_ms,
             }| {
                b.push_bind(key.tenant_id.as_str())
                    .push_bind(key.platform.as_str())
                    .push_bind(key.account_id.as_str())
                    .push_bind(key.participant_id.as_str())
                    .push_bind(*first_message_at_ms)
                    .push_bind(now)
                    .push_bind(kind.as_str());
            },
        );
        q.push(" ON CONFLICT (tenant_id, platform, account_id, participant_id) DO NOTHING");
        q.build().execute(&mut **tx).await.map(drop)
    }

    async fn find_conversations(
        tx: &mut Transaction<'static, Self>,
        keys: &[NewConversation],
    ) -> Result<Vec<Self::Row>, sqlx::Error> {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT id, tenant_id, platform, account_id, participant_id FROM conversations \
             WHERE (tenant_id, platform, account_id, participant_id) IN (",
        );
        let mut sep = q.separated(", ");
        for NewConversation { key, .. } in keys {
            sep.push("(")
                .push_bind_unseparated(key.tenant_id.as_str())
                .push_unseparated(", ")
                .push_bind_unseparated(key.platform.as_str())
                .push_unseparated(", ")
                .push_bind_unseparated(key.account_id.as_str())
                .push_unseparated(", ")
                .push_bind_unseparated(key.participant_id.as_str())
                .push_unseparated(")");
        }
        q.push(")");
        q.build().fetch_all(&mut **tx).await
    }

    async fn insert_messages(
        tx: &mut Transaction<'static, Self>,
        rows: &[NewMessage<'_>],
        now: i64,
    ) -> Result<Vec<Self::Row>, sqlx::Error> {
        let mut q = QueryBuilder::<Sqlite>::new(concat!(
            "INSERT INTO messages (",
            message_columns!(),
            ") "
        ));
        q.push_values(
            rows,
            |mut b,
             NewMessage {
                 row: r,
                 conversation_id,
             }| {
                b.push_bind(r.tenant_id.as_str().to_owned())
                    .push_bind(r.platform.as_str())
                    .push_bind(r.account_id.as_str().to_owned())
                    .push_bind(*conversation_id)
                    .push_bind(r.direction.as_str())
                    .push_bind(r.sender_id.as_str().to_owned())
                    .push_bind(r.recipient_id.as_str().to_owned())
                    .push_bind(r.message_id.as_str().to_owned())
                    .push_bind(r.text.clone())
                    .push_bind(to_json(&r.attachments))
                    .push_bind(r.reply_to.as_ref().map(to_json))
                    .push_bind(r.quick_reply.clone())
                    .push_bind(r.app_id.clone())
                    .push_bind(r.metadata.clone())
                    .push_bind(r.timestamp_ms)
                    .push_bind(now)
                    .push_bind(r.unsupported)
                    .push_bind(r.raw_event.clone())
                    .push_bind(r.sender_name.clone())
                    .push_bind(r.read_at_ms);
            },
        );
        q.push(on_duplicate_message!());
        q.build().fetch_all(&mut **tx).await
    }

    async fn bump_conversations(
        tx: &mut Transaction<'static, Self>,
        bumps: &[Bump<'_>],
        returning: bool,
    ) -> Result<Vec<Self::Row>, sqlx::Error> {
        let mut q = QueryBuilder::<Sqlite>::new(concat!(
            "UPDATE conversations SET ",
            bump_set!(),
            " FROM (SELECT column1 AS id, column2 AS unread, column3 AS at, \
             column4 AS message_id, column5 AS preview, column6 AS direction, \
             column7 AS inbound_at FROM (",
        ));
        q.push_values(bumps, |mut b, bump| {
            b.push_bind(bump.conversation_id)
                .push_bind(bump.unread)
                .push_bind(bump.newest.timestamp_ms)
                .push_bind(bump.newest.message_id.as_str())
                .push_bind(bump.newest.preview.as_deref())
                .push_bind(bump.newest.direction.as_str())
                .push_bind(bump.inbound_at);
        });
        q.push(")) AS v WHERE conversations.id = v.id");
        if !returning {
            return q.build().execute(&mut **tx).await.map(|_| Vec::new());
        }
        q.push(concat!(" RETURNING ", conversation_columns!()));
        q.build().fetch_all(&mut **tx).await
    }

    async fn find_pending(
        tx: &mut Transaction<'static, Self>,
        targets: &[&Target],
    ) -> Result<Vec<Self::Row>, sqlx::Error> {
        // A join with the list (not `IN`) searches the index for each key, where `IN` scans
        // it; `applied_at_ms IS NULL` as in the partial index, so that SQLite reads it.
        let mut q = QueryBuilder::<Sqlite>::new(concat!("SELECT ", pending_columns!(), " FROM ("));
        q.push_values(targets, |mut b, t| {
            b.push_bind(t.tenant_id.as_str())
                .push_bind(t.message_id.as_str())
                .push_bind(t.platform.as_str());
        });
        q.push(
            ") AS v JOIN pending_ops p ON p.tenant_id = v.column1 AND p.message_id = v.column2 \
             AND p.platform = v.column3 \
             JOIN raw_events r ON r.tenant_id = p.tenant_id AND r.event_hash = p.event_hash \
             WHERE p.applied_at_ms IS NULL",
        );
        q.build().fetch_all(&mut **tx).await
    }

    async fn lock(
        _tx: &mut Transaction<'static, Self>,
        _keys: &[LockKey],
    ) -> Result<(), sqlx::Error> {
        // `BEGIN IMMEDIATE` already lets one write transaction at a time in.
        Ok(())
    }

    async fn touch_accounts(
        tx: &mut Transaction<'static, Self>,
        touches: &[Touch<'_>],
    ) -> Result<(), sqlx::Error> {
        let mut q =
            QueryBuilder::<Sqlite>::new("UPDATE accounts SET last_event_at_ms = v.column4 FROM (");
        q.push_values(touches, |mut b, touch| {
            b.push_bind(touch.tenant_id.as_str())
                .push_bind(touch.platform.as_str())
                .push_bind(touch.account_id.as_str())
                .push_bind(touch.at_ms);
        });
        q.push(
            ") AS v WHERE accounts.tenant_id = v.column1 AND accounts.platform = v.column2 \
             AND accounts.account_id = v.column3 \
             AND (accounts.last_event_at_ms IS NULL OR accounts.last_event_at_ms < v.column4)",
        );
        q.build().execute(&mut **tx).await.map(drop)
    }

    async fn append_changes(
        tx: &mut Transaction<'static, Self>,
        tenant: &TenantId,
        changes: &[PendingChange],
        now: i64,
    ) -> Result<i64, sqlx::Error> {
        let count = i64::try_from(changes.len()).unwrap_or(i64::MAX);
        let head: i64 = sqlx::query_scalar(move_change_head!())
            .bind(tenant.as_str())
            .bind(count)
            .fetch_one(&mut **tx)
            .await?;
        let mut seq = head - count;
        for chunk in changes.chunks(CHUNK_ROWS) {
            let mut q = QueryBuilder::<Sqlite>::new(concat!(
                "INSERT INTO changes (",
                change_columns!(),
                ") "
            ));
            q.push_values(chunk, |mut b, change| {
                seq += 1;
                let account = change.account();
                b.push_bind(tenant.as_str())
                    .push_bind(seq)
                    .push_bind(change.kind().as_str())
                    .push_bind(change.conversation_id())
                    .push_bind(change.message_id())
                    .push_bind(account.map(|(p, _)| p.as_str()))
                    .push_bind(account.map(|(_, a)| a.as_str()))
                    .push_bind(now);
            });
            q.build().execute(&mut **tx).await?;
        }
        Ok(head)
    }
}
