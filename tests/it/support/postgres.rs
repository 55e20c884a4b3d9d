//! PostgreSQL for the tests: the server named by `META_MESSAGING_TEST_POSTGRES_URL`, one fresh
//! schema per test, dropped afterwards even when the test fails.
//!
//! Without the variable, PostgreSQL tests print "skipped" and pass, so developers without a
//! server can run the rest; with `META_MESSAGING_REQUIRE_POSTGRES=1` (as in CI) they fail.

use std::future::Future;

use sqlx::Connection;

const PG_URL: &str = "META_MESSAGING_TEST_POSTGRES_URL";
const PG_REQUIRED: &str = "META_MESSAGING_REQUIRE_POSTGRES";

/// The server's URL, or `None` (after saying so) when PostgreSQL tests are not enabled.
pub(crate) fn url() -> Option<String> {
    match std::env::var(PG_URL) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var(PG_REQUIRED).as_deref() != Ok("1"),
                "{PG_REQUIRED}=1 but {PG_URL} is not set: PostgreSQL tests cannot be skipped"
            );
            eprintln!(
                "skipped: set {PG_URL} (e.g. postgres://postgres@127.0.0.1:5432/test) to run the PostgreSQL tests"
            );
            None
        }
    }
}

/// A schema name no other test run uses.
pub(crate) fn fresh_schema(prefix: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// Runs `case` (which uses `schema`), then drops the schema, then re-raises the case's panic.
pub(crate) async fn in_schema<Fut>(url: &str, schema: &str, case: Fut)
where
    Fut: Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(case).await;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("connect for cleanup");
    sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .execute(&mut conn)
        .await
        .expect("drop the test schema");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}
