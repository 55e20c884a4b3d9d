//! A store that fails for real answers `POST /webhook` with 500, so Meta redelivers, and the
//! redelivery is stored once when the database is back. The failure is the database's own: a
//! second connection renames the `messages` table away while the inbox runs, then back.

use std::sync::Arc;

use meta_messaging_core::inbox::{Inbox, Tenancy};
use meta_messaging_core::platform::Platform;
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::{
    MessageQuery, MessageStore, PostgresOptions, PostgresStore, SqliteStore,
};
use meta_messaging_core::webhook::SIGNATURE_HEADER;
use serde_json::Value;
use sqlx::{Connection, Executor};

use crate::support::graph_mock::{APP_SECRET, IG_ACCOUNT_ID, IGSID};
use crate::support::inbox::{delivery, tenant};
use crate::support::postgres;
use crate::support::servers::{Adapter, serve};

/// A connection of its own to the store's database, as an operator (or a failure) would have.
enum Admin {
    Sqlite { url: String },
    Postgres { url: String, schema: String },
}

impl Admin {
    async fn run(&self, sql: &str) {
        match self {
            Admin::Sqlite { url } => {
                let mut admin = sqlx::SqliteConnection::connect(url).await.unwrap();
                admin.execute(sql).await.unwrap();
            }
            Admin::Postgres { url, schema } => {
                let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
                admin
                    .execute(format!("SET search_path TO \"{schema}\"").as_str())
                    .await
                    .unwrap();
                admin.execute(sql).await.unwrap();
            }
        }
    }
}

/// Posts a delivery, breaks the database, posts another (500), mends it, and posts the second
/// again, twice (200, stored once).
async fn survive(store: Arc<dyn MessageStore>, admin: Admin) {
    let inbox = Inbox::builder()
        .app_secret(AppSecret::new(APP_SECRET))
        .verify_token(VerifyToken::new("unused"))
        .store(store.clone())
        .tenancy(Tenancy::Single(tenant()))
        .build()
        .unwrap();
    let url = format!("{}/webhook", serve(Adapter::Axum, inbox).await);
    let client = crate::support::servers::client();
    let post = |(body, signature): (Vec<u8>, String)| {
        client
            .post(&url)
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
    };

    let first = delivery(
        Platform::Instagram,
        IG_ACCOUNT_ID,
        IGSID,
        "before the outage",
    );
    assert_eq!(post(first).await.unwrap().status(), 200);

    admin
        .run("ALTER TABLE messages RENAME TO messages_away")
        .await;
    let second = delivery(
        Platform::Instagram,
        IG_ACCOUNT_ID,
        IGSID,
        "during the outage",
    );
    let refused = post(second.clone()).await.unwrap();
    assert_eq!(refused.status(), 500, "Meta must redeliver");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "store_unavailable", "{body}");

    admin
        .run("ALTER TABLE messages_away RENAME TO messages")
        .await;
    for _ in 0..2 {
        assert_eq!(post(second.clone()).await.unwrap().status(), 200);
    }
    let page = store
        .list_messages(&tenant(), &MessageQuery::new())
        .await
        .unwrap();
    let texts: Vec<_> = page.data.iter().filter_map(|m| m.text.as_deref()).collect();
    assert_eq!(
        texts,
        ["during the outage", "before the outage"],
        "each stored once"
    );
}

#[tokio::test]
async fn sqlite_outage_answers_500_and_the_redelivery_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outage.db");
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let file = format!("sqlite://{}", path.display());
    survive(store, Admin::Sqlite { url: file }).await;
}

#[tokio::test]
async fn postgres_outage_answers_500_and_the_redelivery_is_stored_once() {
    let Some(url) = postgres::url() else { return };
    let schema = postgres::fresh_schema("mm_outage");
    let store = Arc::new(
        PostgresStore::connect_with(PostgresOptions::new(&url).schema(&schema))
            .await
            .unwrap(),
    );
    let case = {
        let (url, schema) = (url.clone(), schema.clone());
        async move {
            survive(store, Admin::Postgres { url, schema }).await;
        }
    };
    postgres::in_schema(&url, &schema, case).await;
}
