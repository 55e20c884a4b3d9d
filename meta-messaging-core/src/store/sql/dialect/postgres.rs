//! PostgreSQL: one array per column, expanded by `UNNEST ... WITH ORDINALITY`, so each statement
//! has one text whatever the batch size: it is prepared once per connection and planned once,
//! where a `VALUES` list would be a new statement (a parse, a describe and fresh plans) for
//! every row count a batch happens to have.

use sqlx::postgres::{PgArguments, PgQueryResult};
use sqlx::query::Query;
use sqlx::{Postgres, Transaction};

use super::{
    Bump, LockKey, NewConversation, NewMessage, SqlDialect, Touch, bump_set, change_columns,
    message_columns, move_change_head, on_duplicate_message, pending_columns,
};
use crate::ids::TenantId;
use crate::store::changes::PendingChange;
use crate::store::plan::Target;
use crate::store::sql::{conversation_columns, to_json};

fn column<T, U>(items: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}

/// Binds the conversation keys as $1-$4: tenant, platform, account and participant arrays.
fn bind_keys<'q>(
    query: Query<'q, Postgres, PgArguments>,
    keys: &[NewConversation],
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(column(keys, |c| c.key.tenant_id.as_str().to_owned()))
        .bind(column(keys, |c| c.key.platform.as_str()))
        .bind(column(keys, |c| c.key.account_id.as_str().to_owned()))
        .bind(column(keys, |c| c.key.participant_id.as_str().to_owned()))
}

impl SqlDialect for Postgres {
    const STORE_NAME: &'static str = "PostgresStore";
    const BEGIN_WRITE: &'static str = "BEGIN";
    // Reactions are read, merged and written back; the row lock keeps two instances from
    // losing each other's change.
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE OF c SKIP LOCKED";
    // Row locks: a background write runs beside the group commit's writers, not in their turn.
    const ONE_WRITER: bool = false;

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    async fn insert_conversations(
        tx: &mut Transaction<'static, Self>,
        new: &[NewConversation],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let query = sqlx::query(
            "INSERT INTO conversations (tenant_id, platform, account_id, participant_id, \
             last_message_at_ms, created_at_ms, kind) \
             SELECT t, p, a, u, ts, $6, k FROM UNNEST($1::text[], $2::text[], $3::text[], \
             $4::text[], $5::int8[], $7::text[]) WITH ORDINALITY AS v(t, p, a, u, ts, k, n) \
             ORDER BY n \
             ON CONFLICT (tenant_id, platform, account_id, participant_id) DO NOTHING",
        );
        bind_keys(query, new)
            .bind(column(new, |c| c.first_message_at_ms))
            .bind(now)
            .bind(column(new, |c| c.kind.as_str()))
            .execute(&mut **tx)
            .await
            .map(drop)
    }

    async fn find_conversations(
        tx: &mut Transaction<'static, Self>,
        keys: &[NewConversation],
    ) -> Result<Vec<Self::Row>, sqlx::Error> {
        let query = sqlx::query(
            "SELECT c.id, c.tenant_id, c.platform, c.account_id, c.participant_id \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) AS v(t, p, a, u) \
             JOIN conversations c ON c.tenant_id = v.t AND c.platform = v.p \
             AND c.account_id = v.a AND c.participant_id = v.u",
        );
        bind_keys(query, keys).fetch_all(&mut **tx).await
    }

    async fn insert_messages(
        tx: &mut Transaction<'static, Self>,
        rows: &[NewMessage<'_>],
        now: i64,
    ) -> Result<Vec<Self::Row>, sqlx::Error> {
        // Every column is an array but created_at_ms ($16), one time for the batch; the
        // arrays are bound in `message_columns!` order.
        const INSERT: &str = concat!(
            "INSERT INTO messages (",
            message_columns!(),
            ") SELECT tenant_id, platform, account_id, conversation_id, direction, sender_id, \
             recipient_id, message_id, text, attachments, reply_to, quick_reply, app_id, \
             metadata, timestamp_ms, $16, unsupported, raw_event, sender_name, read_at_ms \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], \
             $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
             $12::text[], $13::text[], $14::text[], $15::int8[], $17::bool[], $18::text[], \
             $19::text[], $20::int8[]) \
             WITH ORDINALITY AS v(tenant_id, platform, account_id, conversation_id, direction, \
             sender_id, recipient_id, message_id, text, attachments, reply_to, quick_reply, \
             app_id, metadata, timestamp_ms, unsupported, raw_event, sender_name, read_at_ms, n) \
             ORDER BY n",
            on_duplicate_message!(),
        );
        sqlx::query(INSERT)
            .bind(column(rows, |m| m.row.tenant_id.as_str().to_owned()))
            .bind(column(rows, |m| m.row.platform.as_str()))
            .bind(column(rows, |m| m.row.account_id.as_str().to_owned()))
            .bind(column(rows, |m| m.conversation_id))
            .bind(column(rows, |m| m.row.direction.as_str()))
            .bind(column(rows, |m| m.row.sender_id.as_str().to_owned()))
            .bind(column(rows, |m| m.row.recipient_id.as_str().to_owned()))
            .bind(column(rows, |m| m.row.message_id.as_str().to_owned()))
            .bind(column(rows, |m| m.row.text.clone()))
            .bind(column(rows, |m| to_json(&m.row.attachments)))
            .bind(column(rows, |m| m.row.reply_to.as_ref().map(to_json)))
            .bind(column(rows, |m| m.row.quick_reply.clone()))
            .bind(column(rows, |m| m.row.app_id.clone()))
            .bind(column(rows, |m| m.row.metadata.clone()))
            .bind(column(rows, |m| m.row.timestamp_ms))
            .bind(now)
            .bind(column(rows, |m| m.row.unsupported))
            .bind(column(rows, |m| m.row.raw_event.clone()))
            .bind(column(rows, |m| m.row.sender_name.clone()))
            .bind(column(rows, |m| m.row.read_at_ms))
            .fetch_all(&mut **tx)
            .await
    }

    async fn bump_conversations(
        tx: &mut Transaction<'static, Self>,
        bumps: &[Bump<'_>],
        returning: bool,
    ) -> Result<Vec<Self::Row>, sqlx::Error> {
        // One text without RETURNING, one with: both prepared once per connection.
        macro_rules! bump {
            ($($returning:expr)?) => {
                concat!(
                    "UPDATE conversations SET ",
                    bump_set!(),
                    " FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::text[], $5::text[], \
                     $6::text[], $7::int8[]) AS v(cid, unread, at, message_id, preview, \
                     direction, inbound_at) \
                     WHERE conversations.id = v.cid"
                    $(, $returning)?
                )
            };
        }
        const BUMP: &str = bump!();
        const BUMP_RETURNING: &str = bump!(concat!(" RETURNING ", conversation_columns!()));
        let query = sqlx::query(if returning { BUMP_RETURNING } else { BUMP })
            .bind(column(bumps, |b| b.conversation_id))
            .bind(column(bumps, |b| b.unread))
            .bind(column(bumps, |b| b.newest.timestamp_ms))
            .bind(column(bumps, |b| b.newest.message_id.as_str().to_owned()))
            .bind(column(bumps, |b| b.newest.preview.clone()))
            .bind(column(bumps, |b| b.newest.direction.as_str()))
            .bind(column(bumps, |b| b.inbound_at));
        if returning {
            query.fetch_all(&mut **tx).await
        } else {
            query.execute(&mut **tx).await.map(|_| Vec::new())
        }
    }

    async fn find_pending(
        tx: &mut Transaction<'static, Self>,
        targets: &[&Target],
    ) -> Result<Vec<Self::Row>, sqlx::Error> {
        sqlx::query(concat!(
            "SELECT ",
            pending_columns!(),
            " FROM UNNEST($1::text[], $2::text[], $3::text[]) AS v(t, m, pl) \
             JOIN pending_ops p ON p.tenant_id = v.t AND p.message_id = v.m \
             AND p.platform = v.pl AND p.applied_at_ms IS NULL \
             JOIN raw_events r ON r.tenant_id = p.tenant_id AND r.event_hash = p.event_hash",
        ))
        .bind(column(targets, |t| t.tenant_id.as_str().to_owned()))
        .bind(column(targets, |t| t.message_id.as_str().to_owned()))
        .bind(column(targets, |t| t.platform.as_str()))
        .fetch_all(&mut **tx)
        .await
    }

    async fn lock(
        tx: &mut Transaction<'static, Self>,
        keys: &[LockKey],
    ) -> Result<(), sqlx::Error> {
        // A function scan returns the array's rows in order, so the locks are taken in the
        // order given.
        sqlx::query(
            "SELECT CASE WHEN v.x THEN pg_advisory_xact_lock(v.c, v.o) \
             ELSE pg_advisory_xact_lock_shared(v.c, v.o) END \
             FROM UNNEST($1::int4[], $2::int4[], $3::bool[]) AS v(c, o, x)",
        )
        .bind(column(keys, |k| k.class))
        .bind(column(keys, |k| k.id))
        .bind(column(keys, |k| k.exclusive))
        .execute(&mut **tx)
        .await
        .map(drop)
    }

    async fn touch_accounts(
        tx: &mut Transaction<'static, Self>,
        touches: &[Touch<'_>],
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE accounts SET last_event_at_ms = v.at \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[]) AS v(t, p, a, at) \
             WHERE accounts.tenant_id = v.t AND accounts.platform = v.p \
             AND accounts.account_id = v.a \
             AND (accounts.last_event_at_ms IS NULL OR accounts.last_event_at_ms < v.at)",
        )
        .bind(column(touches, |t| t.tenant_id.as_str().to_owned()))
        .bind(column(touches, |t| t.platform.as_str()))
        .bind(column(touches, |t| t.account_id.as_str().to_owned()))
        .bind(column(touches, |t| t.at_ms))
        .execute(&mut **tx)
        .await
        .map(drop)
    }

    async fn append_changes(
        tx: &mut Transaction<'static, Self>,
        tenant: &TenantId,
        changes: &[PendingChange],
        now: i64,
    ) -> Result<i64, sqlx::Error> {
        // One statement: the tenant's head row is locked from here to the commit, and its
        // other writers wait for it, so this holds it for one round trip, not two.
        const APPEND: &str = concat!(
            "WITH head AS (",
            move_change_head!(),
            "), logged AS (INSERT INTO changes (",
            change_columns!(),
            ") SELECT $1, head.seq - $2 + v.n, v.kind, v.c, v.m, v.p, v.a, $3 FROM head, \
             UNNEST($4::text[], $5::int8[], $6::int8[], $7::text[], $8::text[]) \
             WITH ORDINALITY AS v(kind, c, m, p, a, n)) \
             SELECT seq FROM head",
        );
        sqlx::query_scalar(APPEND)
            .bind(tenant.as_str())
            .bind(i64::try_from(changes.len()).unwrap_or(i64::MAX))
            .bind(now)
            .bind(column(changes, |c| c.kind().as_str()))
            .bind(column(changes, PendingChange::conversation_id))
            .bind(column(changes, PendingChange::message_id))
            .bind(column(changes, |c| c.account().map(|(p, _)| p.as_str())))
            .bind(column(changes, |c| {
                c.account().map(|(_, a)| a.as_str().to_owned())
            }))
            .fetch_one(&mut **tx)
            .await
    }
}
