//! `GET /health/live` and `GET /health/ready` on both adapters: no credentials, any `Host`,
//! nothing but `{"status": ...}` in the body, never cached; readiness follows the store's
//! schema and the inbox's draining, and draining ends the live streams with a `retry:` hint.

use std::time::Duration;

use futures_util::StreamExt;
use meta_messaging_core::inbox::{Inbox, Tenancy};
use meta_messaging_core::secret::{AppSecret, VerifyToken};
use meta_messaging_core::store::SqliteStore;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, RETRY_AFTER};
use serde_json::{Value, json};

use crate::support::inbox::tenant;
use crate::support::servers::{Adapter, serve};

/// A probe's status and its whole body, asked without credentials and under a `Host` the
/// inbox does not answer to (a kubelet names the pod's address).
async fn probe(base: &str, path: &str) -> (u16, Value) {
    let response = crate::support::http::client()
        .get(format!("{base}{path}"))
        .header(HOST, "10.1.2.3:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store", "{path}");
    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "application/json",
        "{path}"
    );
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn health(adapter: Adapter) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("health.db");
    let inbox = Inbox::builder()
        .app_secret(AppSecret::new("health-secret"))
        .verify_token(VerifyToken::new("health-verify"))
        .store(SqliteStore::open(&db).await.unwrap())
        .tenancy(Tenancy::Single(tenant()))
        .build()
        .unwrap();
    let base = serve(adapter, inbox.clone()).await;
    let ok = json!({"status": "ok"});
    let unavailable = json!({"status": "unavailable"});
    assert_eq!(probe(&base, "/health/live").await, (200, ok.clone()));
    assert_eq!(probe(&base, "/health/ready").await, (200, ok.clone()));
    let post = crate::support::http::client()
        .post(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405, "{adapter:?}: probes are GET only");

    // A schema behind this version (another instance migrated back, a restore): not ready,
    // and the answer does not say why (the log does).
    let latest: i64 = {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let latest = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .unwrap();
        sqlx::query("UPDATE _sqlx_migrations SET success = FALSE WHERE version = ?")
            .bind(latest)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        latest
    };
    assert_eq!(
        probe(&base, "/health/ready").await,
        (503, unavailable.clone())
    );
    assert!(matches!(
        inbox.ready().await,
        Err(meta_messaging_core::inbox::NotReady::Store(_))
    ));
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query("UPDATE _sqlx_migrations SET success = TRUE WHERE version = ?")
            .bind(latest)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    assert_eq!(probe(&base, "/health/ready").await, (200, ok.clone()));

    // Draining: an open live stream ends with a reconnect hint, a new one is refused with
    // 503 and Retry-After, readiness goes down; the process is still alive.
    let client = crate::support::servers::client();
    let events = client.get(format!("{base}/events")).send().await.unwrap();
    assert_eq!(events.status(), 200);
    let mut stream = events.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(
        std::str::from_utf8(&first)
            .unwrap()
            .contains("event: ready")
    );
    inbox.drain();
    let mut rest = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = stream.next().await {
            rest.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "{adapter:?}: the live stream stayed open after drain: {rest:?}"
    );
    let retry: u64 = rest
        .lines()
        .find_map(|line| line.strip_prefix("retry: "))
        .unwrap_or_else(|| panic!("{adapter:?}: no retry hint in {rest:?}"))
        .parse()
        .unwrap();
    assert!((1000..3000).contains(&retry), "{retry}");
    let refused = client.get(format!("{base}/events")).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()[RETRY_AFTER], "1");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "shutting_down");
    assert_eq!(probe(&base, "/health/ready").await, (503, unavailable));
    assert_eq!(probe(&base, "/health/live").await, (200, ok));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_answers_the_health_probes() {
    health(Adapter::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_answers_the_health_probes() {
    health(Adapter::Actix).await;
}
