//! SQLite: multi-row `VALUES` lists (the statement cache keeps one per row count).

use sqlx::{QueryBuilder, Sqlite, Transaction};

use super::{
    BulkWrites, Bump, ConvKey, NewMessage, Touch, bump_set, message_columns, on_duplicate_message,
};
use crate::store::sql::to_json;

impl BulkWrites for Sqlite {
    async fn insert_conversations(
        tx: &mut Transaction<'static, Self>,
        keys: &[(ConvKey, i64)],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO conversations (tenant_id, platform, account_id, participant_id, \
             last_message_at_ms, created_at_ms) ",
        );
        q.push_values(keys, |mut b, ((t, p, a, u), ts)| {
            b.push_bind(t.as_str())
                .push_bind(p.as_str())
                .push_bind(a.as_str())
                .push_bind(u.as_str())
                .push_bind(*ts)
                .push_bind(now);
        });
        q.push(" ON CONFLICT (tenant_id, platform, account_id, participant_id) DO NOTHING");
        q.build().execute(&mut **tx).await.map(drop)
    }

    async fn find_conversations(
        tx: &mut Transaction<'static, Self>,
        keys: &[(ConvKey, i64)],
    ) -> Result<Vec<Self::Row>, sqlx::Error> {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT id, tenant_id, platform, account_id, participant_id FROM conversations \
             WHERE (tenant_id, platform, account_id, participant_id) IN (",
        );
        let mut sep = q.separated(", ");
        for ((t, p, a, u), _) in keys {
            sep.push("(")
                .push_bind_unseparated(t.as_str())
                .push_unseparated(", ")
                .push_bind_unseparated(p.as_str())
                .push_unseparated(", ")
                .push_bind_unseparated(a.as_str())
                .push_unseparated(", ")
                .push_bind_unseparated(u.as_str())
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
        q.push_values(rows, |mut b, (r, conversation)| {
            b.push_bind(r.tenant_id.as_str().to_owned())
                .push_bind(r.platform.as_str())
                .push_bind(r.account_id.as_str().to_owned())
                .push_bind(*conversation)
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
                .push_bind(r.raw_event.clone());
        });
        q.push(on_duplicate_message!());
        q.build().fetch_all(&mut **tx).await
    }

    async fn bump_conversations(
        tx: &mut Transaction<'static, Self>,
        bumps: &[Bump<'_>],
    ) -> Result<(), sqlx::Error> {
        let mut q = QueryBuilder::<Sqlite>::new(concat!(
            "UPDATE conversations SET ",
            bump_set!(),
            " FROM (SELECT column1 AS id, column2 AS inbound, column3 AS at, \
             column4 AS message_id, column5 AS preview, column6 AS direction FROM (",
        ));
        q.push_values(bumps, |mut b, (c, row, n)| {
            b.push_bind(*c)
                .push_bind(*n)
                .push_bind(row.timestamp_ms)
                .push_bind(row.message_id.as_str())
                .push_bind(row.preview.as_deref())
                .push_bind(row.direction.as_str());
        });
        q.push(")) AS v WHERE conversations.id = v.id");
        q.build().execute(&mut **tx).await.map(drop)
    }

    async fn touch_accounts(
        tx: &mut Transaction<'static, Self>,
        touches: &[Touch<'_>],
    ) -> Result<(), sqlx::Error> {
        let mut q =
            QueryBuilder::<Sqlite>::new("UPDATE accounts SET last_event_at_ms = v.column4 FROM (");
        q.push_values(touches, |mut b, (t, p, a, at)| {
            b.push_bind(t.as_str())
                .push_bind(p.as_str())
                .push_bind(a.as_str())
                .push_bind(*at);
        });
        q.push(
            ") AS v WHERE accounts.tenant_id = v.column1 AND accounts.platform = v.column2 \
             AND accounts.account_id = v.column3 \
             AND (accounts.last_event_at_ms IS NULL OR accounts.last_event_at_ms < v.column4)",
        );
        q.build().execute(&mut **tx).await.map(drop)
    }
}
