//! PostgreSQL: one array per column, expanded by `UNNEST ... WITH ORDINALITY`, so each statement
//! has one text whatever the batch size: it is prepared once per connection and planned once,
//! where a `VALUES` list would be a new statement (a parse, a describe and fresh plans) for
//! every row count a batch happens to have.

use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{Postgres, Transaction};

use super::{
    BulkWrites, Bump, ConvKey, NewMessage, Touch, bump_set, message_columns, on_duplicate_message,
};
use crate::store::sql::to_json;

fn column<T, U>(items: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}

/// Binds the conversation keys as $1-$4: tenant, platform, account and participant arrays.
fn bind_keys<'q>(
    query: Query<'q, Postgres, PgArguments>,
    keys: &[(ConvKey, i64)],
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(column(keys, |((t, ..), _)| t.as_str().to_owned()))
        .bind(column(keys, |((_, p, ..), _)| p.as_str()))
        .bind(column(keys, |((_, _, a, _), _)| a.as_str().to_owned()))
        .bind(column(keys, |((.., u), _)| u.as_str().to_owned()))
}

impl BulkWrites for Postgres {
    async fn insert_conversations(
        tx: &mut Transaction<'static, Self>,
        keys: &[(ConvKey, i64)],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let query = sqlx::query(
            "INSERT INTO conversations (tenant_id, platform, account_id, participant_id, \
             last_message_at_ms, created_at_ms) \
             SELECT t, p, a, u, ts, $6 FROM UNNEST($1::text[], $2::text[], $3::text[], \
             $4::text[], $5::int8[]) WITH ORDINALITY AS v(t, p, a, u, ts, n) ORDER BY n \
             ON CONFLICT (tenant_id, platform, account_id, participant_id) DO NOTHING",
        );
        bind_keys(query, keys)
            .bind(column(keys, |(_, ts)| *ts))
            .bind(now)
            .execute(&mut **tx)
            .await
            .map(drop)
    }

    async fn find_conversations(
        tx: &mut Transaction<'static, Self>,
        keys: &[(ConvKey, i64)],
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
             metadata, timestamp_ms, $16, unsupported, raw_event \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], \
             $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
             $12::text[], $13::text[], $14::text[], $15::int8[], $17::bool[], $18::text[]) \
             WITH ORDINALITY AS v(tenant_id, platform, account_id, conversation_id, direction, \
             sender_id, recipient_id, message_id, text, attachments, reply_to, quick_reply, \
             app_id, metadata, timestamp_ms, unsupported, raw_event, n) ORDER BY n",
            on_duplicate_message!(),
        );
        sqlx::query(INSERT)
            .bind(column(rows, |(r, _)| r.tenant_id.as_str().to_owned()))
            .bind(column(rows, |(r, _)| r.platform.as_str()))
            .bind(column(rows, |(r, _)| r.account_id.as_str().to_owned()))
            .bind(column(rows, |(_, conversation)| *conversation))
            .bind(column(rows, |(r, _)| r.direction.as_str()))
            .bind(column(rows, |(r, _)| r.sender_id.as_str().to_owned()))
            .bind(column(rows, |(r, _)| r.recipient_id.as_str().to_owned()))
            .bind(column(rows, |(r, _)| r.message_id.as_str().to_owned()))
            .bind(column(rows, |(r, _)| r.text.clone()))
            .bind(column(rows, |(r, _)| to_json(&r.attachments)))
            .bind(column(rows, |(r, _)| r.reply_to.as_ref().map(to_json)))
            .bind(column(rows, |(r, _)| r.quick_reply.clone()))
            .bind(column(rows, |(r, _)| r.app_id.clone()))
            .bind(column(rows, |(r, _)| r.metadata.clone()))
            .bind(column(rows, |(r, _)| r.timestamp_ms))
            .bind(now)
            .bind(column(rows, |(r, _)| r.unsupported))
            .bind(column(rows, |(r, _)| r.raw_event.clone()))
            .fetch_all(&mut **tx)
            .await
    }

    async fn bump_conversations(
        tx: &mut Transaction<'static, Self>,
        bumps: &[Bump<'_>],
    ) -> Result<(), sqlx::Error> {
        sqlx::query(concat!(
            "UPDATE conversations SET ",
            bump_set!(),
            " FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::text[], $5::text[], \
             $6::text[]) AS v(id, inbound, at, message_id, preview, direction) \
             WHERE conversations.id = v.id",
        ))
        .bind(column(bumps, |(c, ..)| *c))
        .bind(column(bumps, |(.., n)| *n))
        .bind(column(bumps, |(_, row, _)| row.timestamp_ms))
        .bind(column(bumps, |(_, row, _)| {
            row.message_id.as_str().to_owned()
        }))
        .bind(column(bumps, |(_, row, _)| row.preview.clone()))
        .bind(column(bumps, |(_, row, _)| row.direction.as_str()))
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
        .bind(column(touches, |(t, ..)| t.as_str().to_owned()))
        .bind(column(touches, |(_, p, ..)| p.as_str()))
        .bind(column(touches, |(_, _, a, _)| a.as_str().to_owned()))
        .bind(column(touches, |(.., at)| *at))
        .execute(&mut **tx)
        .await
        .map(drop)
    }
}
